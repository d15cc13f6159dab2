//! Booking and listing bookings, the rules on each, and the customer's home page
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
    current_and_all_bookings_are_listed_and_filtered,
    a_provider_sees_the_bookings_on_its_services,
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
    let subscribed = app
        .db
        .count(
            query("SELECT COUNT(*) FROM subscriptions WHERE user_id = $1 AND service_id = $2")
                .bind(ann.id)
                .bind(id_of(&c.service)),
        )
        .await;
    assert_eq!(subscribed, 1);
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

async fn current_and_all_bookings_are_listed_and_filtered(app: TestApp) {
    let c = app.class(json!({}), 48, 5).await;
    let sooner = app.session(&c.provider, &c.service, 24, 5).await;
    let ann = app.customer().await;
    let later_booking = app.booked(&ann, &c.session).await;
    let sooner_booking = app.booked(&ann, &sooner).await;
    let cancelled_session = app.session(&c.provider, &c.service, 72, 5).await;
    let cancelled = app.booked(&ann, &cancelled_session).await;
    app.post(
        &format!("{}/cancel", booking_path(&ann, &cancelled)),
        &ann.token,
        &json!({}),
    )
    .await;

    let current: Vec<Value> = app
        .get(&format!("/api/user/{}/bookings", ann.id), &ann.token)
        .await
        .ok_json(StatusCode::OK)
        .await;
    let ids: Vec<&Value> = current.iter().map(|b| &b["id"]).collect();
    assert_eq!(
        ids,
        [&sooner_booking["id"], &later_booking["id"]],
        "pending only, soonest first"
    );

    let all: Vec<Value> = app
        .get(&format!("/api/user/{}/bookings/all", ann.id), &ann.token)
        .await
        .ok_json(StatusCode::OK)
        .await;
    let ids: Vec<&Value> = all.iter().map(|b| &b["id"]).collect();
    assert_eq!(
        ids,
        [
            &cancelled["id"],
            &later_booking["id"],
            &sooner_booking["id"]
        ],
        "everything, latest first"
    );
    let only_cancelled: Vec<Value> = app
        .get(
            &format!("/api/user/{}/bookings/all?status=Cancelled", ann.id),
            &ann.token,
        )
        .await
        .ok_json(StatusCode::OK)
        .await;
    assert_eq!(only_cancelled.len(), 1);
    assert_eq!(only_cancelled[0]["id"], cancelled["id"]);
    let windowed: Vec<Value> = app
        .get(
            &format!(
                "/api/user/{}/bookings/all?from={}&to={}",
                ann.id,
                fmt(&c.session["startsAt"]),
                fmt(&cancelled_session["startsAt"])
            ),
            &ann.token,
        )
        .await
        .ok_json(StatusCode::OK)
        .await;
    assert_eq!(windowed.len(), 1);
    assert_eq!(windowed[0]["id"], later_booking["id"]);
    let elsewhere: Vec<Value> = app
        .get(
            &format!(
                "/api/user/{}/bookings/all?serviceId={}",
                ann.id,
                Uuid::now_v7()
            ),
            &ann.token,
        )
        .await
        .ok_json(StatusCode::OK)
        .await;
    assert!(elsewhere.is_empty());
    let paged = app
        .get(
            &format!("/api/user/{}/bookings/all?limit=2", ann.id),
            &ann.token,
        )
        .await;
    let link = paged.headers()["link"].to_str().unwrap().to_owned();
    let next = link
        .trim_start_matches('<')
        .split('>')
        .next()
        .unwrap()
        .to_owned();
    let rest: Vec<Value> = app
        .get(&next, &ann.token)
        .await
        .ok_json(StatusCode::OK)
        .await;
    assert_eq!(rest.len(), 1);
    assert_eq!(rest[0]["id"], sooner_booking["id"]);
    // Any cursor the documented pattern allows is a place, even where PostgreSQL cannot hold
    // the time it names: this list runs latest first, so nothing comes after the far past and
    // everything after the far future.
    let id = "0123456789abcdef0123456789abcdef";
    for (micros, expected) in [("-824180713532168707", 0), ("999999999999999999", 3)] {
        let response = app
            .get(
                &format!("/api/user/{}/bookings/all?cursor={micros}.{id}", ann.id),
                &ann.token,
            )
            .await;
        assert_eq!(response.status(), StatusCode::OK, "cursor at {micros}");
        let page: Vec<Value> = response.json().await.unwrap();
        assert_eq!(page.len(), expected, "cursor at {micros}");
    }
    for bad in ["status=Done", "limit=0", "cursor=nope", "from=yesterday"] {
        let response = app
            .get(
                &format!("/api/user/{}/bookings/all?{bad}", ann.id),
                &ann.token,
            )
            .await;
        assert!(
            matches!(
                response.status(),
                StatusCode::BAD_REQUEST | StatusCode::UNPROCESSABLE_ENTITY
            ),
            "{bad}"
        );
    }
}

fn fmt(value: &Value) -> String {
    value.as_str().unwrap().to_owned()
}

async fn a_provider_sees_the_bookings_on_its_services(app: TestApp) {
    let c = app.class(json!({}), 24, 5).await;
    let ann = app.customer().await;
    let booking = app.booked(&ann, &c.session).await;
    // The provider books someone else's class as a customer, too.
    let elsewhere = app.class(json!({}), 30, 5).await;
    let own_booking = app.booked(&c.provider, &elsewhere.session).await;
    let both: Vec<Value> = app
        .get(
            &format!("/api/user/{}/bookings", c.provider.id),
            &c.provider.token,
        )
        .await
        .ok_json(StatusCode::OK)
        .await;
    let ids: Vec<&Value> = both.iter().map(|b| &b["id"]).collect();
    assert_eq!(ids, [&booking["id"], &own_booking["id"]]);
    let as_provider: Vec<Value> = app
        .get(
            &format!("/api/user/{}/bookings?as=provider", c.provider.id),
            &c.provider.token,
        )
        .await
        .ok_json(StatusCode::OK)
        .await;
    assert_eq!(as_provider.len(), 1);
    assert_eq!(as_provider[0]["id"], booking["id"]);
    let as_customer: Vec<Value> = app
        .get(
            &format!("/api/user/{}/bookings?as=customer", c.provider.id),
            &c.provider.token,
        )
        .await
        .ok_json(StatusCode::OK)
        .await;
    assert_eq!(as_customer[0]["id"], own_booking["id"]);
    let details = app
        .get(&booking_path(&c.provider, &booking), &c.provider.token)
        .await;
    let details: Value = details.ok_json(StatusCode::OK).await;
    assert_eq!(details["service"]["id"], c.service["id"]);
    assert_eq!(details["provider"]["id"], c.provider.id.to_string());
    assert!(
        !details.to_string().contains(&ann.email),
        "the provider does not see the customer's address"
    );
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
