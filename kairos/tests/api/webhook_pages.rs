//! The webhooks page: a provider adds a webhook and sees its secret once, sends a test that
//! arrives signed, sees the delivery with its outcome, turns the webhook off, and a bad URL
//! comes back with its reason next to the field.

use reqwest::StatusCode;
use serde_json::Value;

use crate::{
    helpers::{TestApp, WebhookReceiver, on_both_backends_with},
    page_client::signed_in_as,
    webhooks::loopback_allowed,
};

on_both_backends_with!(loopback_allowed => a_provider_manages_a_webhook_from_its_page);

async fn a_provider_manages_a_webhook_from_its_page(app: TestApp) {
    let receiver = WebhookReceiver::start().await;
    let provider = app.provider().await;
    let mut browser = signed_in_as(&app, &provider).await;
    let base = format!("/user/{}/webhooks", provider.id);
    let empty = browser.get(&base).await;
    assert!(empty.body.contains("id=\"no-webhooks\""));

    let refused = browser
        .post(&base, &[("url", "http://10.0.0.1/h"), ("events", "*")])
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.body.contains("private network"), "{}", refused.body);

    let url = receiver.url("/crm");
    let added = browser
        .post(
            &base,
            &[("url", &url), ("events", "booking.created, webhook.nope")],
        )
        .await;
    assert_eq!(
        added.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "an unknown event"
    );
    let added = browser
        .post(
            &base,
            &[
                ("url", &url),
                ("events", "*"),
                ("description", "CRM <sync>"),
            ],
        )
        .await;
    assert_eq!(added.status, StatusCode::OK);
    let secret_at = added.body.find("whsec_").expect("the secret, shown once");
    let secret: String = added.body[secret_at..]
        .chars()
        .take_while(|c| !matches!(c, '<' | '"'))
        .collect();
    assert!(
        added.body.contains("CRM &") && !added.body.contains("<sync>"),
        "escaped"
    );
    let again = browser.get(&base).await;
    assert!(!again.body.contains("whsec_"), "never shown again");

    let hooks: Vec<Value> = app
        .as_user(&provider)
        .get_json(&format!("/api{base}"))
        .await;
    let id = hooks[0]["id"].as_str().unwrap().to_owned();
    let tested = browser.post(&format!("{base}/{id}/test"), &[]).await;
    assert_eq!(tested.status, StatusCode::SEE_OTHER);
    let got = receiver
        .wait_for(1, std::time::Duration::from_secs(10))
        .await;
    assert_eq!(got.len(), 1);
    let verified = standardwebhooks::Webhook::new(&secret)
        .unwrap()
        .verify(&got[0].body, &got[0].headers);
    assert!(verified.is_ok(), "{verified:?}");
    app.outbox_settled().await;
    let listed = browser.get(&base).await;
    let deliveries = &listed.body[listed.body.find("class=\"deliveries\"").expect("a table")..];
    assert!(deliveries.contains("webhook.test") && deliveries.contains("succeeded"));

    let off = browser
        .post(&format!("{base}/{id}/enabled"), &[("enabled", "false")])
        .await;
    assert_eq!(off.status, StatusCode::SEE_OTHER);
    let read: Value = app
        .as_user(&provider)
        .get_json(&format!("/api{base}/{id}"))
        .await;
    assert_eq!(read["enabled"], false);
}
