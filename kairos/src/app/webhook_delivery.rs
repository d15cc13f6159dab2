//! The outbox's webhook side: which events go to which webhooks, and how each try at a delivery
//! moves it on (the contract's retries, `Retry-After`, 410 disables, three days of failures
//! disable and tell the owner). The HTTP client that posts is an adapter (`crate::outbox`).

use std::sync::atomic::Ordering;

use chrono::{DateTime, Duration, Utc};
use futures_util::FutureExt;
use uuid::Uuid;

use super::{App, AppError};
use crate::{
    domain::{
        delivery::DeliveryStatus,
        event::Event,
        notice::WebhookNotice,
        webhook::{FAILING_LIMIT, MAX_RETRY_AFTER, Route, body, retry_delay},
    },
    store::{
        StoreError, Writer, accounts,
        deliveries::{self, Claimed, NewDelivery, Tried},
        webhooks,
    },
};

/// A delivery claimed for sending: where, what, and the keys to sign it with (the current
/// secret's first).
#[derive(Debug, Clone)]
pub struct OutgoingDelivery {
    pub id: Uuid,
    pub webhook_id: Uuid,
    pub owner_id: Uuid,
    /// The `webhook-id`.
    pub event_id: Uuid,
    pub url: String,
    pub body: String,
    pub keys: Vec<Vec<u8>>,
    /// Tries before this one.
    pub attempts: i64,
}

/// How one try at a delivery went.
#[derive(Debug, Clone)]
pub struct DeliveryTry {
    pub at: DateTime<Utc>,
    pub duration_ms: i64,
    /// The receiver's status, when it answered.
    pub status: Option<u16>,
    /// Why it failed; none when it succeeded.
    pub error: Option<String>,
    /// What the receiver asked for in `Retry-After`.
    pub retry_after: Option<Duration>,
}

impl DeliveryTry {
    fn succeeded(&self) -> bool {
        self.error.is_none()
    }
}

/// The deliveries a batch of events makes: each event to each enabled webhook that takes it.
pub(super) fn webhook_deliveries(events: &[Event], routes: &[Route]) -> Vec<NewDelivery> {
    routes
        .iter()
        .flat_map(|route| {
            events
                .iter()
                .filter(|event| route.takes(event))
                .map(|event| NewDelivery {
                    webhook_id: route.webhook_id,
                    event_id: event.id,
                    event_type: event.kind.as_str().to_owned(),
                    body: body(event.kind.as_str(), event.occurred_at, &event.data),
                })
        })
        .collect()
}

impl App {
    /// Claims up to `limit` due deliveries for `lease`, with their keys opened.
    pub async fn claim_deliveries(
        &self,
        limit: u32,
        lease: Duration,
    ) -> Result<Vec<OutgoingDelivery>, AppError> {
        let now = self.now();
        let claimed = self
            .store
            .write(move |w| deliveries::claim_due(w, now, now + lease, limit).boxed())
            .await?;
        Ok(claimed
            .into_iter()
            .map(|claimed| self.outgoing_delivery(claimed, now))
            .collect())
    }

    fn outgoing_delivery(&self, claimed: Claimed, now: DateTime<Utc>) -> OutgoingDelivery {
        let seal = &self.webhook_settings.seal;
        let previous = claimed
            .previous_secret
            .zip(claimed.previous_secret_until)
            .filter(|(_, until)| *until > now)
            .and_then(|(sealed, _)| seal.open(&sealed));
        // A secret that does not open (the server's key changed) signs nothing: the receiver
        // then refuses the delivery, which the log shows, rather than Kairos signing with junk.
        let keys = seal
            .open(&claimed.secret)
            .into_iter()
            .chain(previous)
            .collect();
        OutgoingDelivery {
            id: claimed.id,
            webhook_id: claimed.webhook_id,
            owner_id: claimed.owner_id,
            event_id: claimed.event_id,
            url: claimed.url,
            body: claimed.body,
            keys,
            attempts: claimed.attempts,
        }
    }

    /// Logs each try and moves its delivery on; answers how many succeeded.
    pub async fn record_delivery_tries(
        &self,
        tries: Vec<(OutgoingDelivery, DeliveryTry)>,
    ) -> Result<u64, AppError> {
        let now = self.now();
        let host = self.mail_host.clone();
        let (succeeded, failed) = self
            .store
            .write(move |w| {
                async move {
                    let (good, bad): (Vec<_>, Vec<_>) =
                        tries.iter().partition(|(_, tried)| tried.succeeded());
                    let logged: Vec<Tried> = good
                        .iter()
                        .map(|(delivery, tried)| {
                            logged(delivery, tried, DeliveryStatus::Succeeded, None)
                        })
                        .collect();
                    deliveries::record_successes(w, &logged).await?;
                    let mut healthy: Vec<Uuid> = good.iter().map(|(d, _)| d.webhook_id).collect();
                    healthy.sort_unstable();
                    healthy.dedup();
                    webhooks::succeeded(w, &healthy).await?;
                    for (delivery, tried) in &bad {
                        record_failure(w, delivery, tried, now, &host).await?;
                    }
                    Ok((good.len() as u64, bad.len() as u64))
                }
                .boxed()
            })
            .await?;
        let counters = &self.outbox_counters;
        counters
            .webhook_delivered
            .fetch_add(succeeded, Ordering::Relaxed);
        counters.webhook_failed.fetch_add(failed, Ordering::Relaxed);
        Ok(succeeded)
    }

    /// At the start of the only process that writes this database (SQLite), lets go of the
    /// delivery claims a crashed run left.
    pub(super) async fn release_delivery_claims(&self) -> Result<u64, AppError> {
        Ok(self
            .store
            .write(|w| deliveries::release_claims(w).boxed())
            .await?)
    }
}

fn logged(
    delivery: &OutgoingDelivery,
    tried: &DeliveryTry,
    status: DeliveryStatus,
    next_attempt_at: Option<DateTime<Utc>>,
) -> Tried {
    Tried {
        delivery_id: delivery.id,
        at: tried.at,
        response_status: tried.status.map(i64::from),
        error: tried.error.clone(),
        duration_ms: tried.duration_ms,
        status,
        next_attempt_at,
    }
}

/// A failed try: due again after the contract's wait (or the receiver's `Retry-After`, if
/// longer), or failed for good; a 410 turns the webhook off, three days of failures too.
async fn record_failure(
    w: &mut Writer,
    delivery: &OutgoingDelivery,
    tried: &DeliveryTry,
    now: DateTime<Utc>,
    host: &str,
) -> Result<(), StoreError> {
    let gone = tried.status == Some(410);
    let retry_at = if gone {
        None
    } else {
        retry_delay(delivery.attempts + 1).map(|scheduled| {
            let asked = tried.retry_after.map(|d| d.min(MAX_RETRY_AFTER));
            now + asked.map_or(scheduled, |asked| asked.max(scheduled))
        })
    };
    let status = match retry_at {
        Some(_) => DeliveryStatus::Pending,
        None => DeliveryStatus::Failed,
    };
    deliveries::record(w, &logged(delivery, tried, status, retry_at)).await?;
    if gone {
        webhooks::disable(w, delivery.webhook_id, "gone").await?;
        return Ok(());
    }
    let since = webhooks::failed(w, delivery.webhook_id, now).await?;
    if let Some(since) = since.filter(|since| now - *since >= FAILING_LIMIT)
        && webhooks::disable(w, delivery.webhook_id, "failing").await?
    {
        tell_owner_of_failing(w, delivery, since, now, host).await?;
    }
    Ok(())
}

/// Mails the owner of a webhook Kairos has just turned off after three days of failures.
async fn tell_owner_of_failing(
    w: &mut Writer,
    delivery: &OutgoingDelivery,
    failing_since: DateTime<Utc>,
    now: DateTime<Utc>,
    host: &str,
) -> Result<(), StoreError> {
    let Some(owner) = accounts::by_id(w, delivery.owner_id).await? else {
        return Ok(());
    };
    let notice = WebhookNotice {
        webhook_id: delivery.webhook_id,
        owner_id: owner.id,
        url: delivery.url.clone(),
        failing_since,
        disabled_at: now,
    };
    let message = super::notices::webhook_disabled_message(&owner, notice, host);
    crate::store::messages::enqueue(w, message.into_iter().collect(), now).await
}
