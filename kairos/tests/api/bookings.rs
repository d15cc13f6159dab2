//! Booking a session, its rules, who may see a booking, and the customer's home page
//! (`booking_changes.rs` has what happens to a booking after it is made).

use kairos::store::query;
use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{Answer, Login, TestApp, id_of, on_both_backends, problem};

on_both_backends!(
    booking_a_session_makes_a_pending_booking_and_a_subscription,
    a_full_session_and_a_second_booking_are_refused,
    past_too_soon_unpublished_own_and_missing_sessions_are_refused,
    a_booking_is_404_to_anyone_it_does_not_concern,
    home_shows_upcoming_bookings_counts_and_services,
);

pub(crate) fn booking_path(user: &Login, booking: &Value) -> String {
    format!("/api/user/{}/bookings/{}", user.id, id_of(booking))
}

async fn booking_a_session_makes_a_pending_booking_and_a_subscription(app: TestApp) {
    let c = app.class(json!({ "location": "Studio 1" }), 24, 5).await;
    let ann = app.customer().await;
    let response = app
        .post(
            &format!("/api/user/{}/book", ann.id),
            &ann.token,
            &json!({ "sessionId": c.session["id"], "notes": " first time " }),
        )
        .await;
    let booking: Value = response.ok_json(StatusCode::CREATED).await;
    assert_eq!(booking["status"], "Pending");
    assert_eq!(booking["userId"], ann.id.to_string());
    assert_eq!(booking["serviceId"], c.service["id"]);
    assert_eq!(booking["sessionId"], c.session["id"]);
    assert_eq!(booking["providerId"], c.provider.id.to_string());
    assert_eq!(booking["notes"], "first time");
    let details = &booking["sessionDetails"];
    assert_eq!(details["time"]["start"], c.session["startsAt"]);
    assert_eq!(details["time"]["end"], c.session["endsAt"]);
    assert_eq!(
        (details["timeZone"].as_str(), details["location"].as_str()),
        (Some("Europe/Paris"), Some("Studio 1"))
    );
    assert_eq!(details["additionalInformation"], json!([]));
    assert!(booking["cancellationReason"].is_null() && booking["cancelledBy"].is_null());
    assert_eq!(app.seats(id_of(&c.session)).await, (1, 1));
    assert_eq!(app.subscriptions(ann.id, id_of(&c.service)).await, 1);
}

async fn a_full_session_and_a_second_booking_are_refused(app: TestApp) {
    let c = app.class(json!({}), 24, 1).await;
    let ann = app.customer().await;
    app.booked(&ann, &c.session).await;
    let again = problem(app.book(&ann, &c.session).await, StatusCode::CONFLICT).await;
    assert_eq!(again["code"], "already_booked");
    let bob = app.customer().await;
    let full = problem(app.book(&bob, &c.session).await, StatusCode::CONFLICT).await;
    assert_eq!(full["code"], "session_full");
    assert_eq!(app.seats(id_of(&c.session)).await, (1, 1));
    let bobs = app
        .db
        .count(query("SELECT COUNT(*) FROM bookings WHERE user_id = $1").bind(bob.id))
        .await;
    assert_eq!(bobs, 0, "a refused booking leaves nothing behind");
}

async fn past_too_soon_unpublished_own_and_missing_sessions_are_refused(app: TestApp) {
    let c = app
        .class(json!({ "bookingNoticeMinutes": 180 }), 2, 5)
        .await;
    let ann = app.customer().await;
    assert_eq!(
        problem(
            app.book(&ann, &c.session).await,
            StatusCode::UNPROCESSABLE_ENTITY
        )
        .await["code"],
        "booking_notice"
    );
    let past = app.session(&c.provider, &c.service, -2, 5).await;
    assert_eq!(
        problem(
            app.book(&ann, &past).await,
            StatusCode::UNPROCESSABLE_ENTITY
        )
        .await["code"],
        "session_started"
    );
    let own = problem(
        app.book(
            &c.provider,
            &app.session(&c.provider, &c.service, 24, 5).await,
        )
        .await,
        StatusCode::FORBIDDEN,
    )
    .await;
    assert_eq!(own["code"], "own_service");
    let missing = app
        .post(
            &format!("/api/user/{}/book", ann.id),
            &ann.token,
            &json!({ "sessionId": Uuid::now_v7() }),
        )
        .await;
    problem(missing, StatusCode::NOT_FOUND).await;
    let no_body = app
        .post(
            &format!("/api/user/{}/book", ann.id),
            &ann.token,
            &json!({}),
        )
        .await;
    assert_eq!(
        problem(no_body, StatusCode::UNPROCESSABLE_ENTITY).await["errors"][0]["field"],
        "sessionId"
    );
    let long_notes = app
        .post(
            &format!("/api/user/{}/book", ann.id),
            &ann.token,
            &json!({ "sessionId": c.session["id"], "notes": "x".repeat(2001) }),
        )
        .await;
    assert_eq!(
        problem(long_notes, StatusCode::UNPROCESSABLE_ENTITY).await["errors"][0]["field"],
        "notes"
    );
    for (field, value) in [
        ("status", json!("Completed")),
        ("userId", json!(Uuid::now_v7())),
        ("id", json!(Uuid::now_v7())),
    ] {
        let mut body = json!({ "sessionId": c.session["id"] });
        body[field] = value;
        let response = app
            .post(&format!("/api/user/{}/book", ann.id), &ann.token, &body)
            .await;
        assert_eq!(
            problem(response, StatusCode::UNPROCESSABLE_ENTITY).await["errors"][0]["field"],
            field
        );
    }
    let anns = app
        .db
        .count(query("SELECT COUNT(*) FROM bookings WHERE user_id = $1").bind(ann.id))
        .await;
    assert_eq!(anns, 0);
}

async fn a_booking_is_404_to_anyone_it_does_not_concern(app: TestApp) {
    let c = app.class(json!({}), 24, 5).await;
    let ann = app.customer().await;
    let bob = app.customer().await;
    let other_provider = app.user_with_role("provider").await;
    let booking = app.booked(&ann, &c.session).await;
    for intruder in [&bob, &other_provider] {
        let path = format!("/api/user/{}/bookings/{}", intruder.id, id_of(&booking));
        problem(app.get(&path, &intruder.token).await, StatusCode::NOT_FOUND).await;
        problem(
            app.post(&format!("{path}/cancel"), &intruder.token, &json!({}))
                .await,
            StatusCode::NOT_FOUND,
        )
        .await;
        problem(
            app.patch(&path, &intruder.token, &json!({ "notes": "x" }))
                .await,
            StatusCode::NOT_FOUND,
        )
        .await;
        problem(
            app.delete(&path, &intruder.token).await,
            StatusCode::NOT_FOUND,
        )
        .await;
        // Through the owner's path it is 403: the path is not theirs.
        problem(
            app.get(&booking_path(&ann, &booking), &intruder.token)
                .await,
            StatusCode::FORBIDDEN,
        )
        .await;
    }
    assert_eq!(app.seats(id_of(&c.session)).await, (1, 1));
    let admin = app.admin().await;
    assert_eq!(
        app.get(&booking_path(&ann, &booking), &admin.token)
            .await
            .status(),
        StatusCode::OK
    );
}

async fn home_shows_upcoming_bookings_counts_and_services(app: TestApp) {
    let c = app.class(json!({}), 24, 5).await;
    let ann = app.customer().await;
    let booking = app.booked(&ann, &c.session).await;
    let other = app.session(&c.provider, &c.service, 48, 5).await;
    let cancelled = app.booked(&ann, &other).await;
    app.delete(&booking_path(&ann, &cancelled), &ann.token)
        .await;
    let home: Value = app.home_of(&ann).await;
    assert_eq!(home["user"]["id"], ann.id.to_string());
    assert_eq!(home["upcomingBookings"].as_array().unwrap().len(), 1);
    assert_eq!(home["upcomingBookings"][0]["id"], booking["id"]);
    assert_eq!(
        home["upcomingBookings"][0]["serviceName"],
        c.service["name"]
    );
    assert_eq!(
        home["counts"],
        json!({ "pending": 1, "completed": 0, "cancelled": 1 })
    );
    assert_eq!(home["services"][0]["id"], c.service["id"]);
    let provider_home: Value = app.home_of(&c.provider).await;
    assert_eq!(provider_home["upcomingBookings"][0]["id"], booking["id"]);
    assert_eq!(
        provider_home["counts"],
        json!({ "pending": 1, "completed": 0, "cancelled": 1 })
    );
    assert_eq!(provider_home["services"][0]["counts"]["pendingBookings"], 1);
}
