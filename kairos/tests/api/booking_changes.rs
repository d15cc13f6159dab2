//! What happens to a booking after it is made: cancelling, moving, and idempotent retries
//! (`booking_completion.rs` has notes and completion).

use kairos::store::query;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::{
    bookings::booking_path,
    helpers::{Answer, Class, TestApp, id_of, on_both_backends, problem},
};

on_both_backends!(
    cancelling_frees_the_place_and_keeps_the_booking,
    customers_keep_the_cancellation_notice_and_providers_do_not,
    moving_a_booking_takes_the_new_place_and_frees_the_old,
    moving_to_a_full_or_foreign_session_changes_nothing,
    an_idempotency_key_returns_the_first_answer,
);

async fn cancelling_frees_the_place_and_keeps_the_booking(app: TestApp) {
    let c = app.class(json!({}), 24, 1).await;
    let ann = app.customer().await;
    let booking = app.booked(&ann, &c.session).await;
    let response = app
        .post(
            &format!("{}/cancel", booking_path(&ann, &booking)),
            &ann.token,
            &json!({ "reason": "Feeling ill" }),
        )
        .await;
    let cancelled: Value = response.ok_json(StatusCode::OK).await;
    assert_eq!(
        (
            cancelled["status"].as_str(),
            cancelled["cancellationReason"].as_str(),
            cancelled["cancelledBy"].as_str()
        ),
        (Some("Cancelled"), Some("Feeling ill"), Some("customer"))
    );
    assert_eq!(app.seats(id_of(&c.session)).await, (0, 0));
    let bob = app.customer().await;
    app.booked(&bob, &c.session).await;
    // Cancelling again changes nothing.
    let again = app
        .post(
            &format!("{}/cancel", booking_path(&ann, &booking)),
            &ann.token,
            &json!({}),
        )
        .await;
    assert_eq!(again.status(), StatusCode::OK);
    assert_eq!(app.seats(id_of(&c.session)).await, (1, 1));
    let kept = app
        .db
        .count(
            query("SELECT COUNT(*) FROM bookings WHERE id = $1 AND status = 'Cancelled'")
                .bind(id_of(&booking)),
        )
        .await;
    assert_eq!(kept, 1, "never deleted");
    // DELETE is the same, answering 204; an empty POST body is fine too.
    let carl = app.customer().await;
    let other = app.session(&c.provider, &c.service, 30, 3).await;
    let second = app.booked(&carl, &other).await;
    assert_eq!(
        app.delete(&booking_path(&carl, &second), &carl.token)
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(app.seats(id_of(&other)).await, (0, 0));
    let third = app.booked(&carl, &other).await;
    let empty = app
        .request(
            Method::POST,
            &format!("{}/cancel", booking_path(&carl, &third)),
        )
        .bearer_auth(&carl.token)
        .send()
        .await
        .unwrap();
    assert_eq!(empty.status(), StatusCode::OK);
}

async fn customers_keep_the_cancellation_notice_and_providers_do_not(app: TestApp) {
    let c = app
        .class(json!({ "cancellationNoticeMinutes": 24 * 60 }), 48, 5)
        .await;
    let ann = app.customer().await;
    let booking = app.booked(&ann, &c.session).await;
    // Forty-three hours on, the session is five hours away: inside the day's notice.
    app.advance(chrono::Duration::hours(43));
    let (ann, provider) = (app.again(&ann).await, app.again(&c.provider).await);
    let c = Class { provider, ..c };
    let refused = app
        .post(
            &format!("{}/cancel", booking_path(&ann, &booking)),
            &ann.token,
            &json!({}),
        )
        .await;
    assert_eq!(
        problem(refused, StatusCode::UNPROCESSABLE_ENTITY).await["code"],
        "cancellation_notice"
    );
    assert_eq!(app.seats(id_of(&c.session)).await, (1, 1));
    let by_provider = app
        .post(
            &format!("{}/cancel", booking_path(&c.provider, &booking)),
            &c.provider.token,
            &json!({ "reason": "Double booked" }),
        )
        .await;
    let body: Value = by_provider.ok_json(StatusCode::OK).await;
    assert_eq!(body["cancelledBy"], "provider");
    let bob = app.customer().await;
    let bobs = app.booked(&bob, &c.session).await;
    let admin = app.admin().await;
    let by_admin: Value = app
        .post(
            &format!("{}/cancel", booking_path(&bob, &bobs)),
            &admin.token,
            &json!({}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(by_admin["cancelledBy"], "admin");
}

async fn moving_a_booking_takes_the_new_place_and_frees_the_old(app: TestApp) {
    let c = app.class(json!({}), 24, 2).await;
    let later = app.session(&c.provider, &c.service, 48, 2).await;
    let ann = app.customer().await;
    let booking = app.booked(&ann, &c.session).await;
    let moved = app
        .patch(
            &booking_path(&ann, &booking),
            &ann.token,
            &json!({ "sessionId": later["id"] }),
        )
        .await;
    let moved: Value = moved.ok_json(StatusCode::OK).await;
    assert_eq!(
        (moved["id"].as_str(), moved["sessionId"].as_str()),
        (booking["id"].as_str(), later["id"].as_str())
    );
    assert_eq!(moved["sessionDetails"]["time"]["start"], later["startsAt"]);
    assert_eq!(app.seats(id_of(&c.session)).await, (0, 0));
    assert_eq!(app.seats(id_of(&later)).await, (1, 1));
    // And back, by the seed's POST form.
    let back = app
        .post(
            &format!("{}/update", booking_path(&ann, &booking)),
            &ann.token,
            &json!({ "sessionId": c.session["id"] }),
        )
        .await;
    assert_eq!(back.status(), StatusCode::OK);
    assert_eq!(app.seats(id_of(&c.session)).await, (1, 1));
    assert_eq!(app.seats(id_of(&later)).await, (0, 0));
    let same = app
        .patch(
            &booking_path(&ann, &booking),
            &ann.token,
            &json!({ "sessionId": c.session["id"] }),
        )
        .await;
    // A move to the session it is in already changes nothing, and says so with the booking.
    let same: Value = same.ok_json(StatusCode::OK).await;
    assert_eq!(same["sessionId"], c.session["id"]);
    assert_eq!(app.seats(id_of(&c.session)).await, (1, 1));
}

async fn moving_to_a_full_or_foreign_session_changes_nothing(app: TestApp) {
    let c = app.class(json!({}), 24, 2).await;
    let full = app.session(&c.provider, &c.service, 48, 1).await;
    app.booked(&app.customer().await, &full).await;
    let ann = app.customer().await;
    let booking = app.booked(&ann, &c.session).await;
    let refused = app
        .patch(
            &booking_path(&ann, &booking),
            &ann.token,
            &json!({ "sessionId": full["id"], "notes": "move me" }),
        )
        .await;
    assert_eq!(
        problem(refused, StatusCode::CONFLICT).await["code"],
        "session_full"
    );
    let stays: Value = app
        .get(&booking_path(&ann, &booking), &ann.token)
        .await
        .ok_json(StatusCode::OK)
        .await;
    assert_eq!(
        (stays["sessionId"].as_str(), stays["notes"].is_null()),
        (c.session["id"].as_str(), true)
    );
    assert_eq!(app.seats(id_of(&c.session)).await, (1, 1));
    assert_eq!(app.seats(id_of(&full)).await, (1, 1));
    let foreign = app.class(json!({}), 24, 5).await;
    let refused = app
        .patch(
            &booking_path(&ann, &booking),
            &ann.token,
            &json!({ "sessionId": foreign.session["id"] }),
        )
        .await;
    assert_eq!(
        problem(refused, StatusCode::UNPROCESSABLE_ENTITY).await["code"],
        "different_service"
    );
    let missing = app
        .patch(
            &booking_path(&ann, &booking),
            &ann.token,
            &json!({ "sessionId": Uuid::now_v7() }),
        )
        .await;
    // As when booking it: a session that is not there is a 404, and the booking stays put.
    assert_eq!(
        problem(missing, StatusCode::NOT_FOUND).await["code"],
        "not_found"
    );
    assert_eq!(app.seats(id_of(&c.session)).await, (1, 1));
    assert_eq!(app.seats(id_of(&foreign.session)).await, (0, 0));
}

async fn an_idempotency_key_returns_the_first_answer(app: TestApp) {
    let c = app.class(json!({}), 24, 5).await;
    let ann = app.customer().await;
    let book = |key: &'static str, session: &Value| {
        app.request(Method::POST, &format!("/api/user/{}/book", ann.id))
            .bearer_auth(&ann.token)
            .header("Idempotency-Key", key)
            .json(&json!({ "sessionId": session["id"] }))
            .send()
    };
    let first = book("order-1", &c.session).await.unwrap();
    let first: Value = first.ok_json(StatusCode::CREATED).await;
    let retry = book("order-1", &c.session).await.unwrap();
    assert_eq!(retry.status(), StatusCode::CREATED);
    assert_eq!(retry.headers()["idempotent-replayed"], "true");
    let retry: Value = retry.json().await.unwrap();
    assert_eq!(retry, first, "the stored first answer");
    assert_eq!(app.seats(id_of(&c.session)).await, (1, 1), "booked once");
    let other = app.session(&c.provider, &c.service, 48, 5).await;
    let reused = book("order-1", &other).await.unwrap();
    assert_eq!(
        problem(reused, StatusCode::UNPROCESSABLE_ENTITY).await["code"],
        "idempotency_key_reused"
    );
    // A request still in flight with the key: 409.
    app.db.execute(query("INSERT INTO idempotency_keys (user_id, key, request_hash, state, created_at, updated_at) \
                          VALUES ($1, 'order-2', $2, 'in_flight', $3, $3)")
        .bind(ann.id)
        .bind(Sha256::digest(format!(r#"{{"sessionId":{},"notes":null}}"#, other["id"])).to_vec())
        .bind(chrono::Utc::now())).await;
    let busy = book("order-2", &other).await.unwrap();
    assert_eq!(
        problem(busy, StatusCode::CONFLICT).await["code"],
        "idempotency_key_in_use"
    );
    // An error is not kept: after a refusal the same key tries again.
    let full = app.session(&c.provider, &c.service, 60, 1).await;
    app.booked(&app.customer().await, &full).await;
    problem(book("order-3", &full).await.unwrap(), StatusCode::CONFLICT).await;
    let kept = app
        .db
        .count(
            query("SELECT COUNT(*) FROM idempotency_keys WHERE user_id = $1 AND key = 'order-3'")
                .bind(ann.id),
        )
        .await;
    assert_eq!(kept, 0);
    let bad = app
        .request(Method::POST, &format!("/api/user/{}/book", ann.id))
        .bearer_auth(&ann.token)
        .header("Idempotency-Key", "")
        .json(&json!({ "sessionId": other["id"] }))
        .send()
        .await
        .unwrap();
    problem(bad, StatusCode::BAD_REQUEST).await;
}
