//! The benchmark's bulk fixture: bookings loaded straight through the store are real bookings
//! that the API serves and counts.

use chrono::{Duration, Utc};
use kairos::{
    app::passwords::PasswordHasher,
    domain::password::NewPassword,
    store::{
        fixtures::{BulkBookings, bulk_load},
        query,
    },
};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{Answer, PASSWORD, TestApp, on_both_backends};

on_both_backends!(a_bulk_load_makes_bookings_the_api_serves);

async fn a_bulk_load_makes_bookings_the_api_serves(app: TestApp) {
    // Named as the benchmark names its own, so the load must tell it from the customers.
    let provider = named_provider(&app, "bulk-provider@bench.invalid").await;
    let service = app.published_service(&provider, json!({})).await;
    let service_id = service["id"].as_str().unwrap().parse().unwrap();
    let hash = PasswordHasher::new(1)
        .await
        .unwrap()
        .hash(NewPassword::parse(PASSWORD.to_owned()).unwrap())
        .await
        .unwrap();
    bulk_load(
        app.app.store(),
        BulkBookings {
            customers: 20,
            sessions: 10,
            bookings: 100,
            password_hash: hash,
            provider_id: provider.id,
            service_id,
            first_start: Utc::now() + Duration::days(3),
            now: Utc::now(),
        },
    )
    .await
    .unwrap();

    let bookings = "SELECT COUNT(*) FROM bookings WHERE status = 'Pending'";
    assert_eq!(app.db.count(query(bookings)).await, 100);
    let sessions = "SELECT COUNT(*) FROM sessions WHERE booked = 10 AND capacity = 10";
    assert_eq!(app.db.count(query(sessions)).await, 10);
    let users = "SELECT COUNT(*) FROM users WHERE email LIKE 'bulk-%@bench.invalid' \
                 AND role = 'customer'";
    assert_eq!(app.db.count(query(users)).await, 20);
    // Every loaded customer holds five of them, and no one else holds any.
    let holders = "SELECT COUNT(*) FROM (SELECT b.user_id FROM bookings b \
                   JOIN users u ON u.id = b.user_id WHERE u.role = 'customer' \
                   GROUP BY b.user_id HAVING COUNT(*) = 5) AS held";
    assert_eq!(app.db.count(query(holders)).await, 20);

    // A loaded customer logs in with the password and sees their five bookings.
    let customer = app.login("bulk-7@bench.invalid", PASSWORD).await;
    let response = app
        .request(Method::GET, &format!("/api/user/{}/bookings", customer.id))
        .bearer_auth(&customer.token)
        .send()
        .await
        .unwrap();
    let listed: Value = response.ok_json(StatusCode::OK).await;
    let listed = listed.as_array().expect("a list of bookings");
    assert_eq!(listed.len(), 5);
    assert!(listed.iter().all(|b| b["serviceId"] == service["id"]));

    // The provider's session shows as full, so the API refuses one more booking.
    let late = app.customer().await;
    let session = listed[0]["sessionId"].as_str().unwrap();
    let response = app
        .post(
            &format!("/api/user/{}/book", late.id),
            &late.token,
            &json!({ "sessionId": session }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
}

/// A provider the admin creates with this address.
async fn named_provider(app: &TestApp, email: &str) -> kairos_testkit::Login {
    let admin = app.admin().await;
    let body = json!({ "email": email, "password": PASSWORD, "role": "provider" });
    let response = app
        .post(
            &format!("/api/user/{}/create", admin.id),
            &admin.token,
            &body,
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED, "create {email}");
    app.login(email, PASSWORD).await
}
