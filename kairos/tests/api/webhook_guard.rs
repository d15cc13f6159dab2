//! No server-side request forgery: without `--webhook-allow-networks`, every literal internal
//! address is refused at creation with its reason (nothing is saved, nothing later delivered),
//! other schemes and credentials are invalid, and a name that resolves to loopback is refused at
//! delivery, on the address it resolved to. Everything here stays on loopback.

use std::time::Duration;

use kairos::store::query;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::{
    helpers::{Answer, Class, TestApp, WebhookReceiver, id_of, on_both_backends, problem},
    webhooks::{deliveries, webhook},
};

on_both_backends!(
    internal_addresses_are_refused_at_creation_and_leave_nothing,
    a_name_resolving_to_loopback_is_refused_at_delivery,
);

async fn internal_addresses_are_refused_at_creation_and_leave_nothing(app: TestApp) {
    let receiver = WebhookReceiver::start().await;
    let Class {
        provider, session, ..
    } = app.class(json!({ "name": "Archery" }), 48, 4).await;
    let path = format!("/api/user/{}/webhooks", provider.id);
    let blocked = [
        ("http://10.0.0.1", "private network"),
        ("http://192.168.1.1", "private network"),
        ("http://100.64.0.1", "carrier-grade NAT network"),
        (
            "http://169.254.169.254/latest/meta-data/",
            "link-local address (cloud metadata)",
        ),
        ("http://[fd00::1]", "unique-local network"),
        ("http://[fe80::1]", "link-local address"),
        ("http://0.0.0.0", "unspecified address"),
        ("http://[::1]", "loopback address"),
        ("http://[::ffff:127.0.0.1]", "loopback address"),
        ("http://2130706433", "loopback address"),
        ("http://0x7f000001", "loopback address"),
        (&receiver.url("/h"), "loopback address"),
    ];
    for (url, reason) in blocked {
        let response = app
            .as_user(&provider)
            .post(&path, &json!({ "url": url, "events": ["*"] }))
            .await;
        let body = problem(response, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert_eq!(body["code"], "webhook_url_blocked", "{url}");
        assert!(
            body["detail"].as_str().unwrap().contains(reason),
            "{url}: {body}"
        );
    }
    for url in [
        "ftp://files.example.org/hook",
        "file:///etc/passwd",
        "https://user:pass@hooks.example.org/",
    ] {
        let response = app
            .as_user(&provider)
            .post(&path, &json!({ "url": url, "events": ["*"] }))
            .await;
        let body = problem(response, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert_eq!(body["errors"][0]["field"], "url", "{url}: {body}");
    }
    // Nothing was saved; a booking afterwards is delivered nowhere.
    let listed: Vec<Value> = app.as_user(&provider).get_json(&path).await;
    assert!(listed.is_empty());
    let customer = app.customer().await;
    app.booked(&customer, &session).await;
    app.outbox_settled().await;
    let made = app
        .db
        .count(query("SELECT COUNT(*) FROM webhook_deliveries"))
        .await;
    assert_eq!(made, 0);
    assert!(receiver.delivered().is_empty());
}

async fn a_name_resolving_to_loopback_is_refused_at_delivery(app: TestApp) {
    let receiver = WebhookReceiver::start().await;
    let provider = app.provider().await;
    // A name is saved (it may resolve anywhere later); it is checked when it is sent.
    let url = format!("http://localhost:{}/h", receiver.port());
    let hook = webhook(&app, &provider, &url, json!(["*"])).await;
    app.as_user(&provider)
        .post(
            &format!("/api/user/{}/webhooks/{}/test", provider.id, id_of(&hook)),
            &json!({}),
        )
        .await
        .ok_json::<Value>(StatusCode::ACCEPTED)
        .await;
    app.outbox_settled().await;
    let log = deliveries(&app, &provider, &hook).await;
    let attempt = &log[0]["attempts"][0];
    let error = attempt["error"].as_str().unwrap();
    assert!(error.starts_with("webhook_url_blocked"), "{error}");
    assert!(error.contains("loopback address"), "{error}");
    assert!(attempt["responseStatus"].is_null());
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(receiver.delivered().is_empty(), "never connected");
}
