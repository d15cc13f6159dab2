//! The outbox's use cases: events become messages (who is told what, the contract's list),
//! bookings' reminders are kept in step and queued when due, and each try at sending is
//! recorded. The worker that sends is an adapter (`crate::outbox`); admins see and retry here.

use std::{
    collections::HashMap,
    sync::atomic::{AtomicI64, AtomicU64, Ordering},
};

use chrono::{DateTime, Duration, Utc};
use futures_util::FutureExt;
use uuid::Uuid;

use super::{
    App, AppError, Caller, PageRequest,
    access::require_admin,
    notices::{self, Named, Told, notice_message},
    webhook_delivery::webhook_deliveries,
};
use crate::{
    domain::{
        booking::BookingStatus,
        notice::{Audience, Letter, NoticeKind, reminder_message_id, retry_delay},
        outbox::{MessageStatus, OutboxMessage},
        page::Page,
        user::User,
    },
    store::{
        StoreError, Writer, accounts, booking_rows, deliveries, events,
        messages::{self, Claimed, NewMessage},
        reminders, services, webhooks,
    },
};

/// Events turned into messages per transaction.
const DISPATCH_BATCH: u32 = 64;
const REMINDER_BATCH: u32 = 32;

/// What the outbox has done since start (and how much waits), for `/metrics`.
#[derive(Debug, Default)]
pub struct OutboxCounters {
    /// Messages waiting to be sent, as last counted.
    pub pending: AtomicI64,
    /// Mails sent.
    pub mail_sent: AtomicU64,
    /// Mails given up on after every try failed.
    pub mail_failed: AtomicU64,
    /// Webhook tries the receiver answered 2xx.
    pub webhook_delivered: AtomicU64,
    /// Webhook tries that failed.
    pub webhook_failed: AtomicU64,
}

/// A message claimed for sending: the mail to write, and whose it is.
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub id: Uuid,
    pub message_id: String,
    pub recipient: String,
    pub letter: Letter,
    /// Tries before this one.
    pub attempts: i64,
}

/// How one try went.
#[derive(Debug, Clone)]
pub enum TryOutcome {
    Sent,
    Failed(String),
}

impl App {
    /// Turns the oldest events not yet dispatched into messages and keeps their bookings'
    /// reminders in step. What they name is read beside the writer; what they make is written
    /// in one transaction of a few statements, however many events. Answers how many it took.
    pub async fn dispatch_events(&self) -> Result<usize, AppError> {
        let (events, named, routes) = self
            .store
            .read(|r| {
                async move {
                    let events = events::undispatched(r, DISPATCH_BATCH).await?;
                    let (user_ids, booking_ids) = notices::named_ids(&events);
                    let users = accounts::by_ids(r, &user_ids).await?;
                    let bookings = booking_rows::by_ids(r, &booking_ids).await?;
                    let mut service_ids: Vec<Uuid> =
                        bookings.iter().map(|b| b.service_id).collect();
                    service_ids.sort_unstable();
                    service_ids.dedup();
                    let services = services::by_ids(r, &service_ids).await?;
                    let routes = webhooks::enabled(r).await?;
                    let named = Named {
                        users: users.into_iter().map(|u| (u.id, u)).collect(),
                        bookings: bookings.into_iter().map(|b| (b.id, b)).collect(),
                        services: services.into_iter().map(|s| (s.id, s)).collect(),
                    };
                    Ok((events, named, routes))
                }
                .boxed()
            })
            .await?;
        if events.is_empty() {
            return Ok(0);
        }
        let made = notices::consequences(&events, &named, &self.mail_host);
        let posts = webhook_deliveries(&events, &routes);
        let ids: Vec<Uuid> = events.iter().map(|e| e.id).collect();
        let now = self.now();
        self.store
            .write(move |w| {
                async move {
                    messages::enqueue(w, made.messages, now).await?;
                    deliveries::enqueue(w, posts, now).await?;
                    reminders::sync(w, &made.reminders).await?;
                    events::mark_dispatched(w, &ids, now).await
                }
                .boxed()
            })
            .await?;
        Ok(events.len())
    }

    /// Queues the reminders due by now as messages. Answers how many it took.
    pub async fn queue_due_reminders(&self) -> Result<usize, AppError> {
        let (host, now) = (self.mail_host.clone(), self.now());
        let queued = self
            .store
            .write(move |w| {
                async move {
                    let due = reminders::take_due(w, now, REMINDER_BATCH).await?;
                    let mut reminded = Vec::new();
                    for &(booking_id, minutes) in &due {
                        reminded.extend(remind(w, booking_id, minutes, &host).await?);
                    }
                    messages::enqueue(w, reminded, now).await?;
                    Ok(due.len())
                }
                .boxed()
            })
            .await?;
        Ok(queued)
    }

    /// Claims up to `limit` due messages for `lease`: no other worker sends them meanwhile,
    /// and if this one dies, the claim lapses and another takes them over.
    pub async fn claim_messages(
        &self,
        limit: u32,
        lease: Duration,
    ) -> Result<Vec<Outgoing>, AppError> {
        let now = self.now();
        let claimed = self
            .store
            .write(move |w| messages::claim_due(w, now, now + lease, limit).boxed())
            .await?;
        claimed.into_iter().map(outgoing).collect()
    }

    /// Records how each try went: sent, or failed and due again after the contract's wait (or,
    /// after the last, failed for good). Answers how many were sent and how many failed for good.
    pub async fn record_tries(
        &self,
        tries: Vec<(Outgoing, TryOutcome)>,
    ) -> Result<(u64, u64), AppError> {
        let now = self.now();
        let counts = self
            .store
            .write(move |w| {
                async move {
                    let mut sent = Vec::new();
                    let mut failed = 0;
                    for (message, outcome) in &tries {
                        match outcome {
                            TryOutcome::Sent => sent.push(message.id),
                            TryOutcome::Failed(error) => {
                                let retry_at = retry_delay(message.attempts + 1).map(|d| now + d);
                                failed += u64::from(retry_at.is_none());
                                messages::mark_failed_try(w, message.id, error, retry_at).await?;
                            }
                        }
                    }
                    messages::mark_sent(w, &sent, now).await?;
                    Ok((sent.len() as u64, failed))
                }
                .boxed()
            })
            .await?;
        self.outbox_counters
            .mail_sent
            .fetch_add(counts.0, Ordering::Relaxed);
        self.outbox_counters
            .mail_failed
            .fetch_add(counts.1, Ordering::Relaxed);
        Ok(counts)
    }

    /// At the start of the only process that writes this database (SQLite), lets go of the
    /// claims a crashed run left, so its messages go out at once. On PostgreSQL another
    /// instance may hold them: they lapse instead.
    pub async fn release_message_claims(&self) -> Result<u64, AppError> {
        if !self.store.is_embedded() {
            return Ok(0);
        }
        let messages = self
            .store
            .write(|w| messages::release_claims(w).boxed())
            .await?;
        Ok(messages + self.release_delivery_claims().await?)
    }

    /// Notified after each commit that left the outbox work.
    pub fn outbox_signal(&self) -> std::sync::Arc<tokio::sync::Notify> {
        self.store.outbox_signal()
    }

    /// When the next message or reminder is due, if any is; counts the messages waiting.
    pub async fn outbox_next_due(&self) -> Result<Option<DateTime<Utc>>, AppError> {
        let (pending, due) = self
            .store
            .read(|r| {
                async move {
                    let pending = messages::pending_count(r).await?;
                    let message = messages::next_due(r).await?;
                    let reminder = reminders::next_due(r).await?;
                    let delivery = deliveries::next_due(r).await?;
                    let due = message.into_iter().chain(reminder).chain(delivery).min();
                    Ok((pending, due))
                }
                .boxed()
            })
            .await?;
        self.outbox_counters
            .pending
            .store(pending, Ordering::Relaxed);
        Ok(due)
    }

    /// What the outbox has done, for `/metrics`.
    pub fn outbox_counters(&self) -> &OutboxCounters {
        &self.outbox_counters
    }

    /// Admins: the outbox, newest first, optionally of one status.
    pub async fn outbox(
        &self,
        caller: &Caller,
        status: Option<MessageStatus>,
        page: &PageRequest,
    ) -> Result<Page<OutboxMessage>, AppError> {
        require_admin(caller)?;
        let (limit, after) = page.by_id()?;
        let rows = self
            .store
            .read(move |r| messages::list(r, status, after, limit + 1).boxed())
            .await?;
        Ok(Page::from_overfetch(rows, limit, |m| {
            m.id.simple().to_string()
        }))
    }

    /// Admins: sends a failed message again, from its first try.
    pub async fn retry_message(
        &self,
        caller: &Caller,
        message_id: Uuid,
    ) -> Result<OutboxMessage, AppError> {
        require_admin(caller)?;
        let now = self.now();
        self.store
            .write(move |w| messages::retry(w, message_id, now).boxed())
            .await
            .map_err(AppError::or_missing("message"))
    }
}

fn outgoing(claimed: Claimed) -> Result<Outgoing, AppError> {
    let letter: Letter = serde_json::from_str(&claimed.content).map_err(|err| {
        AppError::internal(StoreError::missing(format!(
            "readable content of message {}: {err}",
            claimed.id
        )))
    })?;
    Ok(Outgoing {
        id: claimed.id,
        message_id: claimed.message_id,
        recipient: claimed.recipient,
        letter,
        attempts: claimed.attempts,
    })
}

/// A reminder due now: the message to the customer, if the booking is still live and they
/// still want mail.
async fn remind(
    w: &mut Writer,
    booking_id: Uuid,
    minutes: i64,
    host: &str,
) -> Result<Option<NewMessage>, StoreError> {
    let booking = booking_rows::by_id(w, booking_id).await?;
    let Some(booking) = booking.filter(|b| b.status == BookingStatus::Pending) else {
        reminders::forget(w, booking_id, minutes).await?;
        return Ok(None);
    };
    let users = accounts::by_ids(w, &[booking.user_id, booking.provider_id]).await?;
    let users: HashMap<Uuid, User> = users.into_iter().map(|u| (u.id, u)).collect();
    let service = services::by_id(w, booking.service_id).await?;
    let told = Told {
        kind: NoticeKind::Reminder,
        service_description: service.map(|s| s.description).unwrap_or_default(),
        sequence: booking.sequence,
        previous_time: None,
        source: None,
        reminder_minutes: Some(minutes),
    };
    let message_id = reminder_message_id(booking_id, minutes, host);
    Ok(notice_message(
        &told,
        Audience::Customer,
        &booking,
        &users,
        None,
        message_id,
    ))
}
