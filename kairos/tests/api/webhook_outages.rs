//! A receiver that fails for long: three days of failures turn the webhook off and mail its
//! owner; a receiver that was down gets every event once when it is back.

use std::time::Duration;

use chrono::Duration as Span;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::{
    helpers::{Class, Reply, TestApp, WebhookReceiver, id_of, on_both_backends_with},
    webhooks::{WAIT, deliveries, loopback_allowed, send_test, webhook},
};

on_both_backends_with!(loopback_allowed =>
    three_days_of_failures_disable_the_webhook_and_mail_its_owner,
    every_event_arrives_once_after_the_receiver_was_down,
);

async fn three_days_of_failures_disable_the_webhook_and_mail_its_owner(app: TestApp) {
    let receiver = WebhookReceiver::start().await;
    receiver.answer((0..20).map(|_| Reply::status(503)));
    let provider = app.provider().await;
    let hook = webhook(&app, &provider, &receiver.url("/h"), json!(["*"])).await;
    let path = format!("/api/user/{}/webhooks/{}", provider.id, id_of(&hook));
    send_test(&app, &provider, &path).await;
    // The contract's waits: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 24 h.
    let waits = [5, 300, 1800, 7200, 18_000, 36_000, 50_400, 72_000, 86_400];
    receiver.wait_for(1, WAIT).await;
    for (tries, wait) in (2..).zip(waits) {
        app.outbox_settled().await;
        app.advance(Span::seconds(wait + 1));
        assert_eq!(
            receiver.wait_for(tries, WAIT).await.len(),
            tries,
            "try {tries}"
        );
    }
    app.outbox_settled().await;
    let provider = app.again(&provider).await;
    let read: Value = app.as_user(&provider).get_json(&path).await;
    assert_eq!(read["enabled"], false, "{read}");
    assert_eq!(read["disabledReason"], "failing");
    let log = deliveries(&app, &provider, &hook).await;
    assert_eq!(log[0]["status"], "failed");
    assert_eq!(log[0]["attempts"].as_array().unwrap().len(), 10);
    let mails = app.mail.expect_mails_to(&provider.email, 1).await;
    assert_eq!(mails.len(), 1);
    assert!(
        mails[0]
            .subject()
            .starts_with("Webhook turned off: http://127.0.0.1:")
    );
    assert!(mails[0].text().contains("failed since"));
}

async fn every_event_arrives_once_after_the_receiver_was_down(app: TestApp) {
    let receiver = WebhookReceiver::start().await;
    let Class {
        provider, session, ..
    } = app.class(json!({ "name": "Rowing" }), 48, 40).await;
    let hook = webhook(
        &app,
        &provider,
        &receiver.url("/h"),
        json!(["booking.created"]),
    )
    .await;
    receiver.stop().await;
    let customers = futures_util::future::join_all((0..20).map(|_| app.customer())).await;
    let booked =
        futures_util::future::join_all(customers.iter().map(|c| app.book(c, &session))).await;
    assert!(booked.iter().all(|r| r.status() == StatusCode::CREATED));
    app.outbox_settled().await;
    let log = deliveries(&app, &provider, &hook).await;
    assert_eq!(log.len(), 20);
    for delivery in &log {
        assert_eq!(delivery["status"], "pending");
        let error = delivery["attempts"][0]["error"].as_str().unwrap();
        assert!(error.starts_with("could not connect"), "{error}");
    }
    receiver.resume().await;
    app.advance(Span::seconds(6));
    let got = receiver.wait_for(20, WAIT).await;
    app.outbox_settled().await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut ids: Vec<&str> = got.iter().map(|d| d.header("webhook-id")).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!((got.len(), ids.len()), (20, 20), "each event once");
    let log = deliveries(&app, &provider, &hook).await;
    assert!(
        log.iter()
            .all(|d| d["status"] == "succeeded" && d["attempts"].as_array().unwrap().len() == 2)
    );
}
