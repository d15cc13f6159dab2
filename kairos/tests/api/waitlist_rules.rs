//! The waitlist's rules through the API: why joining is refused, leaving for good, and the
//! lists that end with a cancelled session or a waitlist turned off.

use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::{
    helpers::{Answer, Class, TestApp, id_of, on_both_backends, session_path},
    waitlist::{
        cancel, entries, join, joined, live_bookings, position, session_seen, turn_waitlist_off,
    },
};

on_both_backends!(
    a_cancelled_session_or_a_waitlist_turned_off_ends_the_list,
    joining_is_refused_with_a_reason_and_leaving_is_final,
    a_withdrawn_service_ends_its_lists_and_promotes_no_one,
    overlap_counts_whole_sessions_and_touching_ones_do_not_overlap,
);

async fn a_cancelled_session_or_a_waitlist_turned_off_ends_the_list(app: TestApp) {
    let Class {
        provider,
        service,
        session,
    } = app.class(json!({ "name": "Climbing" }), 24, 1).await;
    let other = app.session(&provider, &service, 48, 1).await;
    app.booked(&app.customer().await, &session).await;
    app.booked(&app.customer().await, &other).await;
    let b = app.customer().await;
    joined(&app, &b, &session).await;
    joined(&app, &b, &other).await;

    let path = session_path(&provider, &service, &session);
    let cancelled = app.as_user(&provider).delete(&path).await;
    assert!(cancelled.status().is_success(), "{}", cancelled.status());
    assert_eq!(
        live_bookings(&app, &b, &session).await,
        0,
        "no one is booked into it"
    );
    assert_eq!(position(&app, &b, &session).await, None);
    assert_eq!(position(&app, &b, &other).await, Some(1));

    // Another service's list, which turning this one's off must leave alone.
    let elsewhere = app.class(json!({ "name": "Bouldering" }), 24, 1).await;
    app.booked(&app.customer().await, &elsewhere.session).await;
    joined(&app, &b, &elsewhere.session).await;

    turn_waitlist_off(&app, &provider, &service).await;
    assert_eq!(
        position(&app, &b, &other).await,
        None,
        "turned off, the lists end"
    );
    assert_eq!(
        entries(&app, &b).await.len(),
        1,
        "only the other service's list is left"
    );
    assert_eq!(position(&app, &b, &elsewhere.session).await, Some(1));
    let refused = join(&app, &b, &other).await;
    let problem = crate::helpers::problem(refused, StatusCode::CONFLICT).await;
    assert_eq!(problem["code"], "waitlist_disabled");
    let seen = session_seen(&app, &provider, &service, &other).await;
    assert_eq!(seen["waiting"], 0);
}

async fn joining_is_refused_with_a_reason_and_leaving_is_final(app: TestApp) {
    let Class {
        provider,
        service,
        session,
    } = app.class(json!({ "name": "Rowing" }), 24, 1).await;
    let a = app.customer().await;
    let b = app.customer().await;
    let code = |response: reqwest::Response, status| async move {
        crate::helpers::problem(response, status).await["code"].clone()
    };
    assert_eq!(
        code(join(&app, &b, &session).await, StatusCode::CONFLICT).await,
        "session_not_full"
    );
    app.booked(&a, &session).await;
    assert_eq!(
        code(join(&app, &a, &session).await, StatusCode::CONFLICT).await,
        "already_booked"
    );
    let entry = joined(&app, &b, &session).await;
    assert_eq!(
        code(join(&app, &b, &session).await, StatusCode::CONFLICT).await,
        "already_waiting"
    );
    assert_eq!(
        code(join(&app, &provider, &session).await, StatusCode::FORBIDDEN).await,
        "own_service"
    );
    let nowhere = json!({ "id": Uuid::now_v7() });
    join(&app, &b, &nowhere)
        .await
        .problem(StatusCode::NOT_FOUND)
        .await;
    let bad = app
        .as_user(&b)
        .post(
            &format!("/api/user/{}/waitlist", b.id),
            &json!({ "sessionId": "x" }),
        )
        .await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        session_seen(&app, &provider, &service, &session).await["waiting"],
        1,
        "refusals changed nothing"
    );

    let leave = format!("/api/user/{}/waitlist/{}", b.id, id_of(&entry));
    let other_path = format!("/api/user/{}/waitlist/{}", a.id, id_of(&entry));
    assert_eq!(
        app.as_user(&a).delete(&other_path).await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.as_user(&b).delete(&leave).await.status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.as_user(&b).delete(&leave).await.status(),
        StatusCode::NOT_FOUND
    );
    assert!(entries(&app, &b).await.is_empty());
    assert_eq!(
        session_seen(&app, &provider, &service, &session).await["waiting"],
        0
    );
}

async fn a_withdrawn_service_ends_its_lists_and_promotes_no_one(app: TestApp) {
    let Class {
        provider,
        service,
        session,
    } = app.class(json!({ "name": "Kayaking" }), 24, 1).await;
    let holder = app.customer().await;
    let held = app.booked(&holder, &session).await;
    let b = app.customer().await;
    joined(&app, &b, &session).await;

    // It had a booking, so it is archived and that booking cancelled: the freed place goes to
    // no one, as the session can no longer be booked.
    let withdrawn = app
        .as_user(&provider)
        .delete(&format!(
            "/api/user/{}/services/{}",
            provider.id,
            id_of(&service)
        ))
        .await;
    assert!(withdrawn.status().is_success(), "{}", withdrawn.status());
    assert_eq!(app.booking_of(&holder, &held).await["status"], "Cancelled");
    assert_eq!(
        live_bookings(&app, &b, &session).await,
        0,
        "no one promoted"
    );
    assert!(entries(&app, &b).await.is_empty());
    let rows = app
        .db
        .count(
            kairos::store::query("SELECT COUNT(*) FROM waitlist_entries WHERE session_id = $1")
                .bind(id_of(&session)),
        )
        .await;
    assert_eq!(rows, 0, "the list ended");
    let told = app.mail.expect_mails_to(&b.email, 1).await;
    let text = told[0].text();
    assert!(
        text.contains("has ended: the session was cancelled."),
        "B is told why: {text}"
    );
}

/// A session from `from` to `to` hours from now with this many places.
async fn session_between(app: &TestApp, c: &Class, (from, to): (i64, i64), capacity: i64) -> Value {
    let fields =
        json!({ "startsAt": app.in_hours(from), "endsAt": app.in_hours(to), "capacity": capacity });
    app.add_sessions(&c.provider, &c.service, fields)
        .await
        .remove(0)
}

/// The overlap rule looks at whole sessions: one that began a day before and runs into the
/// session overlaps it, one starting inside it too; one that ends as it starts, or starts as it
/// ends, does not.
async fn overlap_counts_whole_sessions_and_touching_ones_do_not_overlap(app: TestApp) {
    let c = app.class(json!({ "name": "Rowing" }), 24, 1).await;
    // The class runs 48 to 49 hours from now, one place, held by A.
    let class = session_between(&app, &c, (48, 49), 1).await;
    let a = app.customer().await;
    let held = app.booked(&a, &class).await;
    let waiters = [
        // Began 23 hours before the class and lasts the longest a session may, 24 hours.
        session_between(&app, &c, (25, 49), 9).await,
        // Starts with the class and runs an hour past it.
        session_between(&app, &c, (48, 50), 9).await,
        // Ends as the class starts.
        session_between(&app, &c, (46, 48), 9).await,
        // Starts as the class ends.
        session_between(&app, &c, (49, 51), 9).await,
    ];
    let mut customers = Vec::new();
    for other in &waiters {
        let customer = app.customer().await;
        app.booked(&customer, other).await;
        joined(&app, &customer, &class).await;
        customers.push(customer);
    }

    cancel(&app, &a, &held).await;
    let mut booked = Vec::new();
    for customer in &customers {
        booked.push(live_bookings(&app, customer, &class).await);
    }
    assert_eq!(
        booked,
        [0, 0, 1, 0],
        "the first who touches but does not overlap"
    );
    assert_eq!(position(&app, &customers[0], &class).await, Some(1));
    assert_eq!(position(&app, &customers[1], &class).await, Some(2));

    // The next place goes past both overlapping customers again, to the one starting as it ends.
    let capacity = json!({ "capacity": 2 });
    app.as_user(&c.provider)
        .patch(&session_path(&c.provider, &c.service, &class), &capacity)
        .await
        .ok_json::<Value>(StatusCode::OK)
        .await;
    assert_eq!(live_bookings(&app, &customers[3], &class).await, 1);
    assert_eq!(position(&app, &customers[0], &class).await, Some(1));
}
