//! Lists of bookings in their sessions' order, after the sessions and the bookings move: the
//! start each booking keeps for its list's order follows its session.

use kairos::store::query;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{Answer, Class, Login, TestApp, id_of, on_both_backends, session_path};

on_both_backends!(lists_follow_a_moved_session_and_a_moved_booking);

/// The sessions (by id) of the bookings a list of the customer's answers, in its order.
async fn sessions_listed(app: &TestApp, ann: &Login, list: &str) -> Vec<String> {
    let path = format!("/api/user/{}/{list}", ann.id);
    let listed: Vec<Value> = app
        .get(&path, &ann.token)
        .await
        .ok_json(StatusCode::OK)
        .await;
    listed
        .iter()
        .map(|entry| {
            // A schedule's entry holds its booking.
            let booking = entry.get("booking").unwrap_or(entry);
            booking["sessionId"].as_str().unwrap().to_owned()
        })
        .collect()
}

/// The provider moves the session to start `hours` from now, for an hour.
async fn move_session(app: &TestApp, c: &Class, session: &Value, hours: i64) {
    let body = json!({ "startsAt": app.in_hours(hours), "endsAt": app.in_hours(hours + 1) });
    app.as_user(&c.provider)
        .patch(&session_path(&c.provider, &c.service, session), &body)
        .await
        .ok_json::<Value>(StatusCode::OK)
        .await;
}

async fn lists_follow_a_moved_session_and_a_moved_booking(app: TestApp) {
    let c = app.class(json!({}), 24, 5).await;
    let (first, second) = (
        c.session.clone(),
        app.session(&c.provider, &c.service, 48, 5).await,
    );
    let dropped = app.session(&c.provider, &c.service, 72, 5).await;
    let far = app.session(&c.provider, &c.service, 24 * 40, 5).await;
    let ann = app.customer().await;
    app.booked(&ann, &first).await;
    let moving = app.booked(&ann, &second).await;
    let cancelled = app.booked(&ann, &dropped).await;
    app.delete(
        &format!("/api/user/{}/bookings/{}", ann.id, id_of(&cancelled)),
        &ann.token,
    )
    .await;
    app.booked(&ann, &far).await;
    let id = |session: &Value| id_of(session).to_string();
    assert_eq!(
        sessions_listed(&app, &ann, "bookings").await,
        [id(&first), id(&second), id(&far)]
    );

    // The provider moves the first session after the second, and the far one (40 days out)
    // into the schedule's 30 days; the cancelled booking's session goes first of all.
    move_session(&app, &c, &first, 60).await;
    move_session(&app, &c, &far, 96).await;
    move_session(&app, &c, &dropped, 12).await;
    assert_eq!(
        sessions_listed(&app, &ann, "bookings").await,
        [id(&second), id(&first), id(&far)],
        "current, soonest first"
    );
    assert_eq!(
        sessions_listed(&app, &ann, "bookings/all").await,
        [id(&far), id(&first), id(&second), id(&dropped)],
        "all, latest first, the cancelled one with its session"
    );
    assert_eq!(
        sessions_listed(&app, &ann, "schedule").await,
        [id(&second), id(&first), id(&far)],
        "the schedule's 30 days"
    );

    // Ann moves her booking from the second session to a new one, the latest of all.
    let latest = app.session(&c.provider, &c.service, 120, 5).await;
    app.moved(&ann, &moving, &latest).await;
    assert_eq!(
        sessions_listed(&app, &ann, "bookings").await,
        [id(&first), id(&far), id(&latest)]
    );
    let page: Vec<Value> = app
        .get(
            &format!("/api/user/{}/bookings?limit=1", ann.id),
            &ann.token,
        )
        .await
        .ok_json(StatusCode::OK)
        .await;
    assert_eq!(page.len(), 1);
    assert_eq!(page[0]["sessionId"], first["id"]);

    // Every booking keeps its session's start exactly, in the store's own form.
    let apart = app
        .db
        .count(query(
            "SELECT COUNT(*) FROM bookings b JOIN sessions s ON s.id = b.session_id \
             WHERE b.session_starts_at <> s.starts_at",
        ))
        .await;
    assert_eq!(apart, 0);
    let kept = app
        .db
        .count(query("SELECT COUNT(*) FROM bookings WHERE user_id = $1").bind(ann.id))
        .await;
    assert_eq!(kept, 4, "moved, not copied");
}
