//! Webhooks, delivered to a receiver on a loopback port (allowed with
//! `--webhook-allow-networks 127.0.0.0/8`) and verified with the Standard Webhooks library:
//! signatures, retries with the same `webhook-id`, 410, rotation and the delivery log. (Who may
//! reach a webhook is in `webhook_access`; a receiver failing for long, in `webhook_outages`.)

use std::time::Duration;

use chrono::Duration as Span;
use reqwest::{StatusCode, header::HeaderMap};
use serde_json::{Value, json};

use crate::helpers::{
    Answer, Class, Delivered, Login, Reply, TestApp, WebhookReceiver, id_of, on_both_backends_with,
};

on_both_backends_with!(loopback_allowed =>
    a_booking_arrives_signed_and_only_at_the_webhooks_that_want_it,
    a_failed_delivery_is_retried_with_the_same_id_and_logged,
    gone_disables_at_once_and_a_disabled_webhook_gets_nothing,
    a_rotated_secret_signs_beside_the_new_one_for_a_day,
    a_redirect_is_not_followed,
);

pub fn loopback_allowed(settings: &mut kairos::config::Settings) {
    settings.webhook_allow_networks = vec!["127.0.0.0/8".parse().unwrap()];
}

pub const WAIT: Duration = Duration::from_secs(10);

/// Adds a webhook for `owner` and answers it with its secret.
pub async fn webhook(app: &TestApp, owner: &Login, url: &str, events: Value) -> Value {
    app.as_user(owner)
        .post(
            &format!("/api/user/{}/webhooks", owner.id),
            &json!({ "url": url, "events": events, "description": "CRM" }),
        )
        .await
        .ok_json(StatusCode::CREATED)
        .await
}

/// Whether the Standard Webhooks library accepts the delivery with this secret.
fn verifies(secret: &str, headers: &HeaderMap, body: &[u8]) -> bool {
    standardwebhooks::Webhook::new(secret)
        .unwrap()
        .verify(body, headers)
        .is_ok()
}

pub async fn deliveries(app: &TestApp, owner: &Login, hook: &Value) -> Vec<Value> {
    app.as_user(owner)
        .get_json(&format!(
            "/api/user/{}/webhooks/{}/deliveries",
            owner.id,
            id_of(hook)
        ))
        .await
}

/// With `KAIROS_WEBHOOK_SAMPLE=path` (as `.ci/run` sets it), writes the delivery and its secret
/// to `path-{backend}.json`, for the Python library of the specification to verify as well.
fn keep_sample(app: &TestApp, secret: &str, delivered: &Delivered) {
    let Ok(path) = std::env::var("KAIROS_WEBHOOK_SAMPLE") else {
        return;
    };
    let headers: serde_json::Map<String, Value> =
        ["webhook-id", "webhook-timestamp", "webhook-signature"]
            .into_iter()
            .map(|name| (name.to_owned(), Value::from(delivered.header(name))))
            .collect();
    let sample = json!({
        "secret": secret,
        "headers": headers,
        "body": String::from_utf8(delivered.body.to_vec()).unwrap(),
    });
    let backend = format!("{:?}", app.backend).to_lowercase();
    let file = format!("{path}-{backend}.json");
    std::fs::write(file, serde_json::to_vec_pretty(&sample).unwrap()).unwrap();
}

async fn a_booking_arrives_signed_and_only_at_the_webhooks_that_want_it(app: TestApp) {
    let receiver = WebhookReceiver::start().await;
    let Class {
        provider, session, ..
    } = app.class(json!({ "name": "Pottery" }), 48, 4).await;
    let other = app.provider().await;
    let admin = app.admin().await;
    let hook = webhook(
        &app,
        &provider,
        &receiver.url("/p"),
        json!(["booking.created"]),
    )
    .await;
    let secret = hook["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("whsec_"), "{secret}");
    assert_eq!(hook["enabled"], true);
    webhook(&app, &other, &receiver.url("/q"), json!(["*"])).await;
    webhook(&app, &admin, &receiver.url("/admin"), json!(["*"])).await;
    webhook(
        &app,
        &provider,
        &receiver.url("/cancels"),
        json!(["booking.cancelled"]),
    )
    .await;
    // The secret is never shown again.
    let read: Value = app
        .as_user(&provider)
        .get_json(&format!(
            "/api/user/{}/webhooks/{}",
            provider.id,
            id_of(&hook)
        ))
        .await;
    assert!(read.get("secret").is_none() && read["url"] == hook["url"]);
    let listed: Vec<Value> = app
        .as_user(&provider)
        .get_json(&format!("/api/user/{}/webhooks", provider.id))
        .await;
    assert_eq!(listed.len(), 2);
    assert!(listed.iter().all(|w| w.get("secret").is_none()));

    let customer = app.customer().await;
    let booking = app.booked(&customer, &session).await;
    app.outbox_settled().await;
    let delivered = receiver.wait_for(2, WAIT).await;
    let mut paths: Vec<&str> = delivered.iter().map(|d| d.path.as_str()).collect();
    paths.sort_unstable();
    assert_eq!(
        paths,
        ["/admin", "/p"],
        "the owner's and the admin's; not Q's, not /cancels"
    );
    let ours = delivered.iter().find(|d| d.path == "/p").unwrap();
    assert!(verifies(&secret, &ours.headers, &ours.body));
    keep_sample(&app, &secret, ours);
    assert_eq!(ours.header("content-type"), "application/json");
    assert!(ours.header("user-agent").starts_with("Kairos/"));
    let body = ours.json();
    assert_eq!(body["type"], "booking.created");
    assert_eq!(body["data"]["id"], booking["id"]);
    assert_eq!(body["data"]["source"], "customer");
    assert!(body["timestamp"].is_string());
    // A tampered body, another secret or an old timestamp: refused by the library.
    let tampered = String::from_utf8(ours.body.to_vec())
        .unwrap()
        .replace("customer", "waitlist");
    assert!(!verifies(&secret, &ours.headers, tampered.as_bytes()));
    let another = webhook(&app, &provider, &receiver.url("/x"), json!(["*"])).await;
    assert!(!verifies(
        another["secret"].as_str().unwrap(),
        &ours.headers,
        &ours.body
    ));
    let mut old = ours.headers.clone();
    let stamp: i64 = ours.header("webhook-timestamp").parse().unwrap();
    old.insert(
        "webhook-timestamp",
        (stamp - 600).to_string().parse().unwrap(),
    );
    assert!(!verifies(&secret, &old, &ours.body));

    // The log: one delivery, its event's id as `webhook-id`, one try answered 200.
    let log = deliveries(&app, &provider, &hook).await;
    assert_eq!(log.len(), 1, "{log:?}");
    assert_eq!(log[0]["status"], "succeeded");
    assert_eq!(log[0]["eventType"], "booking.created");
    assert_eq!(
        log[0]["eventId"].as_str().unwrap(),
        ours.header("webhook-id")
    );
    assert_eq!(log[0]["attempts"][0]["responseStatus"], 200);
    assert!(
        app.metrics()
            .await
            .contains("kairos_webhook_deliveries_total{outcome=\"delivered\"} 2")
    );
}

async fn a_failed_delivery_is_retried_with_the_same_id_and_logged(app: TestApp) {
    let receiver = WebhookReceiver::start().await;
    receiver.answer([Reply::status(500)]);
    let Class {
        provider, session, ..
    } = app.class(json!({ "name": "Chess" }), 48, 4).await;
    let hook = webhook(&app, &provider, &receiver.url("/h"), json!(["*"])).await;
    let customer = app.customer().await;
    app.booked(&customer, &session).await;
    assert_eq!(receiver.wait_for(1, WAIT).await.len(), 1);
    app.outbox_settled().await;
    let log = deliveries(&app, &provider, &hook).await;
    assert_eq!(log[0]["status"], "pending");
    let first = &log[0]["attempts"][0];
    assert_eq!(first["responseStatus"], 500);
    assert!(first["error"].as_str().unwrap().contains("500"), "{first}");
    assert!(first["nextAttemptAt"].is_string());
    // Nothing more until the retry's 5 seconds have passed on the server's clock.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(receiver.delivered().len(), 1);
    app.advance(Span::seconds(6));
    let both = receiver.wait_for(2, WAIT).await;
    assert_eq!(both.len(), 2);
    assert_eq!(both[0].header("webhook-id"), both[1].header("webhook-id"));
    assert_eq!(both[0].body, both[1].body, "the same bytes on every try");
    assert!(verifies(
        hook["secret"].as_str().unwrap(),
        &both[1].headers,
        &both[1].body
    ));
    app.outbox_settled().await;
    let log = deliveries(&app, &provider, &hook).await;
    assert_eq!(log[0]["status"], "succeeded");
    assert_eq!(log[0]["attempts"].as_array().unwrap().len(), 2);

    // Redeliver: the same event again, with the same `webhook-id`.
    app.as_user(&provider)
        .post(
            &format!(
                "/api/user/{}/webhooks/{}/deliveries/{}/redeliver",
                provider.id,
                id_of(&hook),
                id_of(&log[0])
            ),
            &json!({}),
        )
        .await
        .ok_json::<Value>(StatusCode::ACCEPTED)
        .await;
    let three = receiver.wait_for(3, WAIT).await;
    assert_eq!(three.len(), 3);
    assert_eq!(three[2].header("webhook-id"), both[0].header("webhook-id"));
}

async fn gone_disables_at_once_and_a_disabled_webhook_gets_nothing(app: TestApp) {
    let receiver = WebhookReceiver::start().await;
    receiver.answer([Reply::status(410)]);
    let Class {
        provider, session, ..
    } = app.class(json!({ "name": "Judo" }), 48, 4).await;
    let hook = webhook(&app, &provider, &receiver.url("/h"), json!(["*"])).await;
    let path = format!("/api/user/{}/webhooks/{}", provider.id, id_of(&hook));
    let customer = app.customer().await;
    app.booked(&customer, &session).await;
    receiver.wait_for(1, WAIT).await;
    app.outbox_settled().await;
    let read: Value = app.as_user(&provider).get_json(&path).await;
    assert_eq!(read["enabled"], false);
    assert_eq!(read["disabledReason"], "gone");
    assert_eq!(
        deliveries(&app, &provider, &hook).await[0]["status"],
        "failed"
    );
    // Disabled: a new booking and the retry schedule bring nothing, a test is refused.
    let other = app.customer().await;
    app.booked(&other, &session).await;
    app.outbox_settled().await;
    app.advance(Span::hours(30));
    app.outbox_settled().await;
    assert_eq!(receiver.delivered().len(), 1);
    let provider = app.again(&provider).await;
    let refused = app
        .as_user(&provider)
        .post(&format!("{path}/test"), &json!({}))
        .await;
    assert_eq!(
        crate::helpers::problem(refused, StatusCode::CONFLICT).await["code"],
        "webhook_disabled"
    );
    // Turned back on by its owner: the reason goes, a test arrives.
    let on: Value = app
        .as_user(&provider)
        .patch(&path, &json!({ "enabled": true }))
        .await
        .ok_json(StatusCode::OK)
        .await;
    assert_eq!(on["enabled"], true);
    assert!(on["disabledReason"].is_null());
    send_test(&app, &provider, &path).await;
    let got = receiver.wait_for(2, WAIT).await;
    assert_eq!(got.len(), 2);
    assert_eq!(got[1].json()["type"], "webhook.test");
}

async fn a_rotated_secret_signs_beside_the_new_one_for_a_day(app: TestApp) {
    let receiver = WebhookReceiver::start().await;
    let provider = app.provider().await;
    let hook = webhook(&app, &provider, &receiver.url("/h"), json!(["*"])).await;
    let old = hook["secret"].as_str().unwrap().to_owned();
    let path = format!("/api/user/{}/webhooks/{}", provider.id, id_of(&hook));
    let rotated: Value = app
        .as_user(&provider)
        .post(&format!("{path}/rotate-secret"), &json!({}))
        .await
        .ok_json(StatusCode::OK)
        .await;
    let new = rotated["secret"].as_str().unwrap().to_owned();
    assert_ne!(old, new);
    send_test(&app, &provider, &path).await;
    let first = receiver.wait_for(1, WAIT).await.remove(0);
    assert_eq!(first.header("webhook-signature").split(' ').count(), 2);
    assert!(verifies(&old, &first.headers, &first.body));
    assert!(verifies(&new, &first.headers, &first.body));
    app.advance(Span::hours(25));
    let provider = app.again(&provider).await;
    send_test(&app, &provider, &path).await;
    let second = receiver.wait_for(2, WAIT).await.remove(1);
    assert_eq!(second.header("webhook-signature").split(' ').count(), 1);
    assert!(verifies(&new, &second.headers, &second.body));
    assert!(!verifies(&old, &second.headers, &second.body));
}

pub async fn send_test(app: &TestApp, owner: &Login, webhook_path: &str) {
    app.as_user(owner)
        .post(&format!("{webhook_path}/test"), &json!({}))
        .await
        .ok_json::<Value>(StatusCode::ACCEPTED)
        .await;
}

async fn a_redirect_is_not_followed(app: TestApp) {
    let receiver = WebhookReceiver::start().await;
    let elsewhere = WebhookReceiver::start().await;
    receiver.answer([Reply::status(307).with("location", elsewhere.url("/stolen"))]);
    let provider = app.provider().await;
    let hook = webhook(&app, &provider, &receiver.url("/h"), json!(["*"])).await;
    app.as_user(&provider)
        .post(
            &format!("/api/user/{}/webhooks/{}/test", provider.id, id_of(&hook)),
            &json!({}),
        )
        .await
        .ok_json::<Value>(StatusCode::ACCEPTED)
        .await;
    receiver.wait_for(1, WAIT).await;
    app.outbox_settled().await;
    let log = deliveries(&app, &provider, &hook).await;
    let attempt = &log[0]["attempts"][0];
    assert_eq!(attempt["responseStatus"], 307);
    assert!(
        attempt["error"]
            .as_str()
            .unwrap()
            .contains("redirects are not followed")
    );
    assert!(elsewhere.delivered().is_empty());
}
