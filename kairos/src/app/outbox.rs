//! The outbox's use cases: events become messages (who is told what, the contract's list),
//! bookings' reminders are kept in step and queued when due, and each try at sending is
//! recorded. The worker that sends is an adapter (`crate::outbox`); admins see and retry here.

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

use chrono::{DateTime, Duration, Utc};
use futures_util::FutureExt;
use uuid::Uuid;

use super::{App, AppError, Caller, PageRequest, access::require_admin};
use crate::{
    domain::{
        booking::{Booking, TimeRange},
        event::{BookingSource, Event, EventType},
        id::new_id,
        notice::{
            Audience, Notice, NoticeKind, event_message_id, reminder_message_id, retry_delay,
        },
        outbox::{MessageStatus, OutboxMessage},
        page::Page,
    },
    store::{
        StoreError, Writer, accounts, bookings, events,
        messages::{self, Claimed, NewMessage},
        reminders, services,
    },
};

/// Events turned into messages per transaction: small, so the single SQLite writer is never
/// held for long.
const DISPATCH_BATCH: u32 = 32;
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
}

/// A message claimed for sending: the mail to write, and whose it is.
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub id: Uuid,
    pub message_id: String,
    pub recipient: String,
    pub notice: Notice,
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
    /// reminders in step, one transaction per batch. Answers how many events it took.
    pub async fn dispatch_events(&self) -> Result<usize, AppError> {
        let (host, now) = (self.mail_host.clone(), self.now());
        let dispatched = self
            .store
            .write(move |w| {
                async move {
                    let batch = events::undispatched(w, DISPATCH_BATCH).await?;
                    for event in &batch {
                        dispatch(w, event, &host, now).await?;
                        events::mark_dispatched(w, event.id, now).await?;
                    }
                    Ok(batch.len())
                }
                .boxed()
            })
            .await?;
        Ok(dispatched)
    }

    /// Queues the reminders due by now as messages. Answers how many it took.
    pub async fn queue_due_reminders(&self) -> Result<usize, AppError> {
        let (host, now) = (self.mail_host.clone(), self.now());
        let queued = self
            .store
            .write(move |w| {
                async move {
                    let due = reminders::take_due(w, now, REMINDER_BATCH).await?;
                    for &(booking_id, minutes) in &due {
                        remind(w, booking_id, minutes, &host, now).await?;
                    }
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
                    let (mut sent, mut failed) = (0, 0);
                    for (message, outcome) in &tries {
                        match outcome {
                            TryOutcome::Sent => {
                                messages::mark_sent(w, message.id, now).await?;
                                sent += 1;
                            }
                            TryOutcome::Failed(error) => {
                                let retry_at = retry_delay(message.attempts + 1).map(|d| now + d);
                                failed += u64::from(retry_at.is_none());
                                messages::mark_failed_try(w, message.id, error, retry_at).await?;
                            }
                        }
                    }
                    Ok((sent, failed))
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
        Ok(self
            .store
            .write(|w| messages::release_claims(w).boxed())
            .await?)
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
                    Ok((pending, message.into_iter().chain(reminder).min()))
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
    let notice: Notice = serde_json::from_str(&claimed.content).map_err(|err| {
        AppError::internal(StoreError::missing(format!(
            "readable content of message {}: {err}",
            claimed.id
        )))
    })?;
    Ok(Outgoing {
        id: claimed.id,
        message_id: claimed.message_id,
        recipient: claimed.recipient,
        notice,
        attempts: claimed.attempts,
    })
}

/// One event's consequences: its mails, and its booking's reminders brought in step.
async fn dispatch(
    w: &mut Writer,
    event: &Event,
    host: &str,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let Some(kind) = NoticeKind::of_event(event.kind) else {
        return Ok(());
    };
    let booking: Booking = serde_json::from_value(event.data.clone())
        .map_err(|_| StoreError::missing(format!("a booking in event {}", event.id)))?;
    let told = Told {
        kind,
        sequence: event.subject.booking_sequence.unwrap_or_default(),
        previous_time: event
            .data
            .get("previousTime")
            .and_then(|t| serde_json::from_value::<TimeRange>(t.clone()).ok()),
        source: event
            .data
            .get("source")
            .and_then(|s| serde_json::from_value::<BookingSource>(s.clone()).ok()),
        reminder_minutes: None,
    };
    for &audience in kind.audiences() {
        let message_id = event_message_id(event.id, audience, host);
        tell(
            w,
            &told,
            audience,
            &booking,
            Some(event.id),
            message_id,
            now,
        )
        .await?;
    }
    if matches!(
        event.kind,
        EventType::BookingCreated | EventType::BookingMoved | EventType::BookingCancelled
    ) {
        // From the booking as it is now, so events taken out of order still end right.
        let current = bookings::by_id(w, booking.id).await?;
        let service = services::by_id(w, booking.service_id).await?;
        if let (Some(current), Some(service)) = (current, service) {
            reminders::sync(w, &current, &service.reminder_minutes, event.occurred_at).await?;
        }
    }
    Ok(())
}

/// A reminder due now: mailed to the customer if the booking is still live.
async fn remind(
    w: &mut Writer,
    booking_id: Uuid,
    minutes: i64,
    host: &str,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let Some(booking) = bookings::by_id(w, booking_id).await? else {
        return Ok(());
    };
    if booking.status != crate::domain::booking::BookingStatus::Pending {
        return Ok(());
    }
    let told = Told {
        kind: NoticeKind::Reminder,
        sequence: booking.sequence,
        previous_time: None,
        source: None,
        reminder_minutes: Some(minutes),
    };
    let message_id = reminder_message_id(booking_id, minutes, host);
    tell(
        w,
        &told,
        Audience::Customer,
        &booking,
        None,
        message_id,
        now,
    )
    .await
}

/// What a notice says besides the booking and the addresses.
struct Told {
    kind: NoticeKind,
    sequence: i64,
    previous_time: Option<TimeRange>,
    source: Option<BookingSource>,
    reminder_minutes: Option<i64>,
}

/// Queues the notice for one side of the booking, unless that person asked for no mail.
async fn tell(
    w: &mut Writer,
    told: &Told,
    audience: Audience,
    booking: &Booking,
    event_id: Option<Uuid>,
    message_id: String,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let (Some(customer), Some(provider)) = (
        accounts::by_id(w, booking.user_id).await?,
        accounts::by_id(w, booking.provider_id).await?,
    ) else {
        return Ok(());
    };
    let recipient = match audience {
        Audience::Customer => &customer,
        Audience::Provider => &provider,
    };
    if !recipient.email_notifications {
        return Ok(());
    }
    let notice = Notice {
        kind: told.kind,
        audience,
        to: recipient.email.clone(),
        booking: booking.clone(),
        sequence: told.sequence,
        customer_email: customer.email.clone(),
        provider_email: provider.email.clone(),
        previous_time: told.previous_time.clone(),
        source: told.source,
        reminder_minutes: told.reminder_minutes,
    };
    let content = serde_json::to_string(&notice)
        .map_err(|err| StoreError::missing(format!("a notice as JSON: {err}")))?;
    let message = NewMessage {
        id: new_id(),
        event_id,
        booking_id: Some(booking.id),
        kind: told.kind.label(audience),
        user_id: recipient.id,
        recipient: recipient.email.clone(),
        subject: notice.subject(),
        message_id,
        content,
    };
    messages::enqueue(w, message, now).await.map(drop)
}
