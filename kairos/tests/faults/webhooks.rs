//! After the SIGKILLs: every acknowledged booking's `booking.created` reaches a webhook
//! receiver (at least once), however often the server died between committing, posting and
//! recording.

use std::{
    collections::{HashMap, HashSet},
    time::{Duration, Instant},
};

use kairos_testkit::{ServerProcess, WebhookReceiver};
use serde_json::json;
use uuid::Uuid;

use super::{ADMIN_EMAIL, login, post};

/// An admin's webhook for `booking.created` on the receiver (admins get every service's).
pub async fn admin_webhook(
    client: &reqwest::Client,
    server: &ServerProcess,
    receiver: &WebhookReceiver,
) {
    let admin = login(client, server, ADMIN_EMAIL).await;
    let url = server.url(&format!("/api/user/{}/webhooks", admin.id));
    let body = json!({ "url": receiver.url("/kills"), "events": ["booking.created"] });
    post(client, url, &admin, body).await;
}

/// Waits until every booking in `expected` has been posted as `booking.created`; reports the
/// duplicates (the same `webhook-id` twice) and asserts none is lost.
pub async fn all_posted(receiver: &WebhookReceiver, expected: &[Uuid], backend: &str) {
    let started = Instant::now();
    let posted = |receiver: &WebhookReceiver| -> (HashSet<Uuid>, usize) {
        let mut bookings = HashSet::new();
        let mut ids: HashMap<String, usize> = HashMap::new();
        for delivery in receiver.delivered() {
            *ids.entry(delivery.header("webhook-id").to_owned())
                .or_default() += 1;
            let body = delivery.json();
            if let Some(id) = body["data"]["id"].as_str().and_then(|id| id.parse().ok()) {
                bookings.insert(id);
            }
        }
        (bookings, ids.values().map(|n| n - 1).sum())
    };
    // On PostgreSQL a killed instance's claims lapse after a minute before another takes them.
    while started.elapsed() < Duration::from_secs(150) {
        let (bookings, _) = posted(receiver);
        if expected.iter().all(|id| bookings.contains(id)) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let (bookings, duplicates) = posted(receiver);
    let lost = expected.iter().filter(|id| !bookings.contains(id)).count();
    println!(
        "{backend}: booking.created of {} acknowledged bookings posted to a webhook: lost {lost}, \
         duplicates {duplicates}, all in after {:?} from the last restart",
        expected.len(),
        started.elapsed()
    );
    assert_eq!(lost, 0);
}
