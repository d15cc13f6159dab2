//! Who may reach a webhook: its owner and admins; another provider, a customer and an anonymous
//! caller are refused every route, and what they tried changes nothing.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::{
    helpers::{TestApp, WebhookReceiver, id_of, on_both_backends_with},
    webhooks::{loopback_allowed, webhook},
};

on_both_backends_with!(loopback_allowed => only_the_owner_and_admins_reach_a_webhook);

async fn only_the_owner_and_admins_reach_a_webhook(app: TestApp) {
    let receiver = WebhookReceiver::start().await;
    let owner = app.provider().await;
    let other = app.provider().await;
    let customer = app.customer().await;
    let admin = app.admin().await;
    let hook = webhook(&app, &owner, &receiver.url("/h"), json!(["*"])).await;
    let base = format!("/api/user/{}/webhooks", owner.id);
    let one = format!("{base}/{}", id_of(&hook));
    // A customer has no webhooks of their own.
    let own = format!("/api/user/{}/webhooks", customer.id);
    let refused = app
        .as_user(&customer)
        .post(&own, &json!({ "url": receiver.url("/c"), "events": ["*"] }))
        .await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    for who in [&other, &customer] {
        let client = app.as_user(who);
        for response in [
            client.get(&base).await,
            client.get(&one).await,
            client.patch(&one, &json!({ "enabled": false })).await,
            client
                .post(&format!("{one}/rotate-secret"), &json!({}))
                .await,
            client.post(&format!("{one}/test"), &json!({})).await,
            client.get(&format!("{one}/deliveries")).await,
            client.delete(&one).await,
        ] {
            assert!(
                matches!(
                    response.status(),
                    StatusCode::FORBIDDEN | StatusCode::NOT_FOUND
                ),
                "{}",
                response.status()
            );
        }
    }
    // Another provider's own path does not reach it either.
    let theirs = format!("/api/user/{}/webhooks/{}", other.id, id_of(&hook));
    assert_eq!(
        app.as_user(&other).get(&theirs).await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.anonymous().get(&base).await.status(),
        StatusCode::UNAUTHORIZED
    );
    // Nothing changed: still on, still there; an admin reads it and deletes it.
    let read: Value = app.as_user(&admin).get_json(&one).await;
    assert_eq!(read["enabled"], true);
    assert_eq!(
        app.as_user(&admin).delete(&one).await.status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.as_user(&owner).get(&one).await.status(),
        StatusCode::NOT_FOUND
    );
}
