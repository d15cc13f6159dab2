//! Notes on a booking, its completion by the provider or in the background once its session
//! has ended, and the states a booking cannot leave.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::{
    bookings::booking_path,
    helpers::{Answer, TestApp, id_of, on_both_backends, problem},
};

on_both_backends!(
    notes_can_be_edited_and_completion_is_for_providers,
    completed_and_cancelled_are_final,
    ended_sessions_complete_their_bookings_in_the_background,
);

async fn notes_can_be_edited_and_completion_is_for_providers(app: TestApp) {
    let c = app.class(json!({}), 24, 2).await;
    let ann = app.customer().await;
    let booking = app.booked(&ann, &c.session).await;
    let noted: Value = app
        .patch(
            &booking_path(&ann, &booking),
            &ann.token,
            &json!({ "notes": "Allergic to lavender" }),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(noted["notes"], "Allergic to lavender");
    let cleared: Value = app
        .patch(
            &booking_path(&ann, &booking),
            &ann.token,
            &json!({ "notes": "" }),
        )
        .await
        .json()
        .await
        .unwrap();
    assert!(cleared["notes"].is_null());
    let self_complete = app
        .patch(
            &booking_path(&ann, &booking),
            &ann.token,
            &json!({ "status": "Completed" }),
        )
        .await;
    assert_eq!(
        problem(self_complete, StatusCode::FORBIDDEN).await["code"],
        "provider_only"
    );
    let provider_notes = app
        .patch(
            &booking_path(&c.provider, &booking),
            &c.provider.token,
            &json!({ "notes": "x" }),
        )
        .await;
    assert_eq!(
        problem(provider_notes, StatusCode::FORBIDDEN).await["code"],
        "customer_only"
    );
    let provider_cancel_by_status = app
        .patch(
            &booking_path(&c.provider, &booking),
            &c.provider.token,
            &json!({ "status": "Cancelled" }),
        )
        .await;
    problem(provider_cancel_by_status, StatusCode::UNPROCESSABLE_ENTITY).await;
    let completed = app
        .patch(
            &booking_path(&c.provider, &booking),
            &c.provider.token,
            &json!({ "status": "Completed" }),
        )
        .await;
    let completed: Value = completed.ok_json(StatusCode::OK).await;
    assert_eq!(completed["status"], "Completed");
    assert_eq!(
        app.seats(id_of(&c.session)).await,
        (1, 1),
        "a completed booking still holds its place"
    );
}

async fn completed_and_cancelled_are_final(app: TestApp) {
    let c = app.class(json!({}), 24, 3).await;
    let other = app.session(&c.provider, &c.service, 48, 3).await;
    let ann = app.customer().await;
    let done = app.booked(&ann, &c.session).await;
    app.patch(
        &booking_path(&c.provider, &done),
        &c.provider.token,
        &json!({ "status": "Completed" }),
    )
    .await;
    let cancel = app
        .post(
            &format!("{}/cancel", booking_path(&ann, &done)),
            &ann.token,
            &json!({}),
        )
        .await;
    assert_eq!(
        problem(cancel, StatusCode::CONFLICT).await["code"],
        "booking_completed"
    );
    let moving = app
        .patch(
            &booking_path(&ann, &done),
            &ann.token,
            &json!({ "sessionId": other["id"] }),
        )
        .await;
    assert_eq!(
        problem(moving, StatusCode::CONFLICT).await["code"],
        "booking_completed"
    );
    let bob = app.customer().await;
    let gone = app.booked(&bob, &c.session).await;
    app.post(
        &format!("{}/cancel", booking_path(&bob, &gone)),
        &bob.token,
        &json!({}),
    )
    .await;
    let complete = app
        .patch(
            &booking_path(&c.provider, &gone),
            &c.provider.token,
            &json!({ "status": "Completed" }),
        )
        .await;
    assert_eq!(
        problem(complete, StatusCode::CONFLICT).await["code"],
        "booking_cancelled"
    );
    let notes = app
        .patch(
            &booking_path(&bob, &gone),
            &bob.token,
            &json!({ "notes": "x" }),
        )
        .await;
    assert_eq!(
        problem(notes, StatusCode::CONFLICT).await["code"],
        "booking_cancelled"
    );
}

async fn ended_sessions_complete_their_bookings_in_the_background(app: TestApp) {
    let c = app.class(json!({}), 24, 5).await;
    let ann = app.customer().await;
    let booking = app.booked(&ann, &c.session).await;
    let future = app.session(&c.provider, &c.service, 48, 5).await;
    let staying = app.booked(&ann, &future).await;
    // A day and two hours on, the first session has ended; the second (in 48 hours) has not.
    app.advance(chrono::Duration::hours(26));
    let ann = app.again(&ann).await;
    // Several instances sweeping at once complete each booking once.
    let sweeps: Vec<_> = (0..4)
        .map(|_| {
            let instance = app.app.clone();
            tokio::spawn(async move { instance.housekeeping().await })
        })
        .collect();
    let mut completed = 0;
    for sweep in sweeps {
        completed += sweep.await.unwrap().expect("a sweep never fails");
    }
    assert_eq!(completed, 1);
    let done: Value = app
        .get(&booking_path(&ann, &booking), &ann.token)
        .await
        .ok_json(StatusCode::OK)
        .await;
    assert_eq!(done["status"], "Completed");
    let pending: Value = app
        .get(&booking_path(&ann, &staying), &ann.token)
        .await
        .ok_json(StatusCode::OK)
        .await;
    assert_eq!(pending["status"], "Pending");
    assert_eq!(app.seats(id_of(&c.session)).await, (1, 1));
}
