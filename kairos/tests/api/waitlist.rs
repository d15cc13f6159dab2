//! The waitlist through the API: joining a full session, a freed place going to the first in
//! line in the same transaction (cancelled, moved away, capacity raised), the overlap rule and
//! the cutoff; what the database and the mailbox then hold. (Refusals, leaving and lists that
//! end are in `waitlist_rules.rs`.)

use chrono::Duration as Span;
use kairos::store::query;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{Answer, Class, Login, TestApp, id_of, on_both_backends, session_path};

on_both_backends!(
    a_cancellation_books_the_first_in_line_at_once,
    a_booking_moved_away_or_a_capacity_raised_fills_from_the_list,
    someone_booked_at_that_time_is_passed_over_and_keeps_their_place,
    no_promotion_once_booking_has_closed_and_the_list_ends,
);

pub async fn join(app: &TestApp, who: &Login, session: &Value) -> reqwest::Response {
    app.as_user(who)
        .post(
            &format!("/api/user/{}/waitlist", who.id),
            &json!({ "sessionId": id_of(session) }),
        )
        .await
}

pub async fn joined(app: &TestApp, who: &Login, session: &Value) -> Value {
    join(app, who, session)
        .await
        .ok_json(StatusCode::CREATED)
        .await
}

pub async fn entries(app: &TestApp, who: &Login) -> Vec<Value> {
    app.as_user(who)
        .get_json(&format!("/api/user/{}/waitlist", who.id))
        .await
}

/// The user's position in the session's list, if they are on it.
pub async fn position(app: &TestApp, who: &Login, session: &Value) -> Option<i64> {
    entries(app, who)
        .await
        .iter()
        .find(|e| e["sessionId"] == session["id"])
        .map(|e| e["position"].as_i64().unwrap())
}

/// The user's live bookings of the session, from the database.
pub async fn live_bookings(app: &TestApp, who: &Login, session: &Value) -> i64 {
    app.db
        .count(
            query(
                "SELECT COUNT(*) FROM bookings WHERE session_id = $1 AND user_id = $2 \
                 AND status = 'Pending'",
            )
            .bind(id_of(session))
            .bind(who.id),
        )
        .await
}

/// The session as its provider's service page shows it.
pub async fn session_seen(
    app: &TestApp,
    provider: &Login,
    service: &Value,
    session: &Value,
) -> Value {
    let details = app.service_of(provider, service).await;
    details["upcomingSessions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == session["id"])
        .cloned()
        .expect("the session is listed")
}

/// The provider turns the service's waitlist off.
pub async fn turn_waitlist_off(app: &TestApp, provider: &Login, service: &Value) {
    app.as_user(provider)
        .patch(
            &format!("/api/user/{}/services/{}", provider.id, id_of(service)),
            &json!({ "waitlistEnabled": false }),
        )
        .await
        .ok_json::<Value>(StatusCode::OK)
        .await;
}

/// The provider changes the session's capacity.
pub async fn set_capacity(
    app: &TestApp,
    provider: &Login,
    service: &Value,
    session: &Value,
    capacity: i64,
) {
    let path = session_path(provider, service, session);
    app.as_user(provider)
        .patch(&path, &json!({ "capacity": capacity }))
        .await
        .ok_json::<Value>(StatusCode::OK)
        .await;
}

pub async fn cancel(app: &TestApp, who: &Login, booking: &Value) {
    app.as_user(who)
        .post(
            &format!("/api/user/{}/bookings/{}/cancel", who.id, id_of(booking)),
            &json!({}),
        )
        .await
        .ok_json::<Value>(StatusCode::OK)
        .await;
}

async fn a_cancellation_books_the_first_in_line_at_once(app: TestApp) {
    let Class {
        provider,
        service,
        session,
    } = app.class(json!({ "name": "Hot yoga" }), 24, 1).await;
    let (a, b, c) = (
        app.customer().await,
        app.customer().await,
        app.customer().await,
    );
    let held = app.booked(&a, &session).await;
    let b_entry = joined(&app, &b, &session).await;
    assert_eq!(b_entry["position"], 1);
    assert_eq!(b_entry["userId"], json!(b.id));
    assert_eq!(b_entry["serviceId"], service["id"]);
    assert_eq!(joined(&app, &c, &session).await["position"], 2);
    assert_eq!(
        session_seen(&app, &provider, &service, &session).await["waiting"],
        2
    );

    cancel(&app, &a, &held).await;

    // B holds a Pending booking the moment A's cancel is answered; C moved up.
    let b_bookings: Vec<Value> = app
        .as_user(&b)
        .get_json(&format!("/api/user/{}/bookings", b.id))
        .await;
    assert_eq!(b_bookings.len(), 1);
    assert_eq!(b_bookings[0]["sessionId"], session["id"]);
    assert_eq!(b_bookings[0]["status"], "Pending");
    assert_eq!(position(&app, &b, &session).await, None, "B left the list");
    assert_eq!(position(&app, &c, &session).await, Some(1));
    let seen = session_seen(&app, &provider, &service, &session).await;
    assert_eq!(
        (seen["booked"].clone(), seen["waiting"].clone()),
        (json!(1), json!(1))
    );
    assert_eq!(app.seats(id_of(&session)).await, (1, 1));
    // Like any booking, the promotion subscribes B (who never booked here) to the service.
    assert_eq!(app.subscriptions(b.id, id_of(&service)).await, 1);
    // The promotion's event says where it came from, and the mail follows it.
    let (data,): (String,) = app
        .db
        .one(
            query("SELECT data FROM events WHERE booking_id = $1 AND type = 'booking.created'")
                .bind(id_of(&b_bookings[0])),
        )
        .await;
    let data: Value = serde_json::from_str(&data).unwrap();
    assert_eq!(data["source"], "waitlist");
    let to_b = app.mail.expect_mails_to(&b.email, 1).await;
    assert!(
        to_b[0].subject().starts_with("Booked: Hot yoga"),
        "{}",
        to_b[0].subject()
    );
    assert!(
        to_b[0].text().contains("first on the waitlist"),
        "{}",
        to_b[0].text()
    );
    let to_provider = app
        .mail
        .wait_until(std::time::Duration::from_secs(10), |mails| {
            mails
                .iter()
                .filter(|m| m.to.iter().any(|t| t == &provider.email))
                .filter(|m| m.subject().starts_with("New booking"))
                .count()
                >= 2
        });
    assert!(
        !to_provider.await.is_empty(),
        "the provider hears of B's booking too"
    );
}

async fn a_booking_moved_away_or_a_capacity_raised_fills_from_the_list(app: TestApp) {
    let Class {
        provider,
        service,
        session,
    } = app.class(json!({ "name": "Pilates" }), 24, 2).await;
    let later = app.session(&provider, &service, 48, 5).await;
    let a = app.customer().await;
    let held = app.booked(&a, &session).await;
    app.booked(&app.customer().await, &session).await;
    let waiting: Vec<Login> = vec![
        app.customer().await,
        app.customer().await,
        app.customer().await,
        app.customer().await,
    ];
    for (i, who) in waiting.iter().enumerate() {
        assert_eq!(joined(&app, who, &session).await["position"], i as i64 + 1);
    }

    app.moved(&a, &held, &later).await;
    assert_eq!(
        live_bookings(&app, &waiting[0], &session).await,
        1,
        "first in line"
    );
    assert_eq!(position(&app, &waiting[1], &session).await, Some(1));

    // Two more places: the next two, one each; the last keeps waiting.
    set_capacity(&app, &provider, &service, &session, 4).await;
    assert_eq!(live_bookings(&app, &waiting[1], &session).await, 1);
    assert_eq!(live_bookings(&app, &waiting[2], &session).await, 1);
    assert_eq!(live_bookings(&app, &waiting[3], &session).await, 0);
    assert_eq!(position(&app, &waiting[3], &session).await, Some(1));
    assert_eq!(app.seats(id_of(&session)).await, (4, 4));
    let seen = session_seen(&app, &provider, &service, &session).await;
    assert_eq!(
        (seen["spotsLeft"].clone(), seen["waiting"].clone()),
        (json!(0), json!(1))
    );
}

async fn someone_booked_at_that_time_is_passed_over_and_keeps_their_place(app: TestApp) {
    let Class {
        provider,
        service,
        session,
    } = app.class(json!({ "name": "Spin" }), 24, 1).await;
    let a = app.customer().await;
    let held = app.booked(&a, &session).await;
    let (b, c) = (app.customer().await, app.customer().await);
    joined(&app, &b, &session).await;
    joined(&app, &c, &session).await;
    // B books another provider's class at the same hour while waiting.
    let elsewhere = app.class(json!({ "name": "Boxing" }), 24, 5).await;
    app.booked(&b, &elsewhere.session).await;

    cancel(&app, &a, &held).await;
    assert_eq!(
        live_bookings(&app, &b, &session).await,
        0,
        "B is passed over"
    );
    assert_eq!(
        live_bookings(&app, &c, &session).await,
        1,
        "C gets the place"
    );
    assert_eq!(
        position(&app, &b, &session).await,
        Some(1),
        "B keeps their place"
    );

    // Two new places are filled one at a time, each time passing over B again.
    let (d, e) = (app.customer().await, app.customer().await);
    joined(&app, &d, &session).await;
    joined(&app, &e, &session).await;
    set_capacity(&app, &provider, &service, &session, 3).await;
    assert_eq!(live_bookings(&app, &d, &session).await, 1);
    assert_eq!(live_bookings(&app, &e, &session).await, 1);
    assert_eq!(live_bookings(&app, &b, &session).await, 0);
    assert_eq!(position(&app, &b, &session).await, Some(1));
    assert_eq!(app.seats(id_of(&session)).await, (3, 3));
}

async fn no_promotion_once_booking_has_closed_and_the_list_ends(app: TestApp) {
    let Class {
        provider,
        service,
        session,
    } = app
        .class(json!({ "name": "Sauna", "bookingNoticeMinutes": 60 }), 3, 1)
        .await;
    let a = app.customer().await;
    let held = app.booked(&a, &session).await;
    let b = app.customer().await;
    joined(&app, &b, &session).await;

    // Inside the booking notice: the list is no longer served.
    app.advance(Span::minutes(125));
    let (b, provider) = (app.again(&b).await, app.again(&provider).await);
    assert!(
        entries(&app, &b).await.is_empty(),
        "a closed list is not shown"
    );
    let late = join(&app, &app.customer().await, &session).await;
    assert_eq!(late.status(), StatusCode::UNPROCESSABLE_ENTITY);
    // The provider cancels A's booking: no one is promoted and the list ends.
    app.as_user(&provider)
        .post(
            &format!("/api/user/{}/bookings/{}/cancel", provider.id, id_of(&held)),
            &json!({}),
        )
        .await
        .ok_json::<Value>(StatusCode::OK)
        .await;
    assert_eq!(live_bookings(&app, &b, &session).await, 0);
    let seen = session_seen(&app, &provider, &service, &session).await;
    assert_eq!(
        (seen["booked"].clone(), seen["waiting"].clone()),
        (json!(0), json!(0))
    );
    let rows = app
        .db
        .count(
            query("SELECT COUNT(*) FROM waitlist_entries WHERE session_id = $1")
                .bind(id_of(&session)),
        )
        .await;
    assert_eq!(rows, 0, "the list ended");
    let told = app.mail.expect_mails_to(&b.email, 1).await;
    let text = told[0].text();
    assert!(
        text.contains("has ended: booking closed before a place came free."),
        "B is told why: {text}"
    );
}
