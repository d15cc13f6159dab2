//! What events make, with no I/O: who is told what (the contract's list, and those still waiting
//! when a list ends), as messages ready to queue, and which reminders each booking should have
//! pending.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::{
    domain::{
        booking::{Booking, BookingStatus, TimeRange},
        event::{BookingSource, EndedEntry, Event, EventType},
        id::new_id,
        notice::{
            Audience, Letter, Notice, NoticeKind, WaitlistNotice, WebhookNotice, event_message_id,
            reminder_due, webhook_disabled_message_id,
        },
        service::Service,
        user::User,
    },
    store::{messages::NewMessage, reminders::ReminderPlan},
};

/// What the events of a batch name, read before their consequences are written.
#[derive(Debug, Default)]
pub(super) struct Named {
    pub users: HashMap<Uuid, User>,
    /// The bookings as they are now (reminders follow the booking, not the event).
    pub bookings: HashMap<Uuid, Booking>,
    pub services: HashMap<Uuid, Service>,
}

/// What a batch of events makes.
#[derive(Debug, Default)]
pub(super) struct Consequences {
    pub messages: Vec<NewMessage>,
    pub reminders: Vec<ReminderPlan>,
}

/// The people and bookings a batch of events names, to be read before [`consequences`].
pub(super) fn named_ids(events: &[Event]) -> (Vec<Uuid>, Vec<Uuid>) {
    let mut users = Vec::new();
    let mut bookings = Vec::new();
    for event in events {
        let subject = &event.subject;
        users.extend(subject.customer_id);
        users.extend(subject.provider_id);
        bookings.extend(subject.booking_id);
    }
    users.sort_unstable();
    users.dedup();
    bookings.sort_unstable();
    bookings.dedup();
    (users, bookings)
}

/// The messages and reminder plans a batch of events makes.
pub(super) fn consequences(events: &[Event], named: &Named, host: &str) -> Consequences {
    let mut made = Consequences::default();
    // Each booking's latest change in the batch: its reminders are planned once, from it.
    let mut changed: HashMap<Uuid, DateTime<Utc>> = HashMap::new();
    for event in events {
        if let Some(ended) = event.ended_entry() {
            made.messages
                .extend(waitlist_ended_message(event.id, ended, &named.users, host));
            continue;
        }
        let Some((booking, extras)) = event.booking() else {
            continue;
        };
        if matches!(
            event.kind,
            EventType::BookingCreated | EventType::BookingMoved | EventType::BookingCancelled
        ) {
            let at = changed.entry(booking.id).or_insert(event.occurred_at);
            *at = (*at).max(event.occurred_at);
        }
        let Some(kind) = NoticeKind::of_event(event.kind) else {
            continue;
        };
        let told = Told {
            kind,
            service_description: named
                .services
                .get(&booking.service_id)
                .map(|s| s.description.clone())
                .unwrap_or_default(),
            sequence: event.subject.booking_sequence.unwrap_or_default(),
            previous_time: extras.previous_time,
            source: extras.source,
            reminder_minutes: None,
        };
        for &audience in kind.audiences() {
            let message_id = event_message_id(event.id, audience, host);
            made.messages.extend(notice_message(
                &told,
                audience,
                &booking,
                &named.users,
                Some(event.id),
                message_id,
            ));
        }
    }
    for (booking_id, changed_at) in changed {
        let Some(booking) = named.bookings.get(&booking_id) else {
            continue;
        };
        let minutes = named
            .services
            .get(&booking.service_id)
            .map_or(&[][..], |s| &s.reminder_minutes[..]);
        made.reminders
            .push(reminder_plan(booking, minutes, changed_at));
    }
    made
}

/// The reminders a booking should have pending: none unless it is live; else one per offset
/// whose moment is after `changed_at` (when it was booked or moved).
pub(super) fn reminder_plan(
    booking: &Booking,
    minutes: &[i64],
    changed_at: DateTime<Utc>,
) -> ReminderPlan {
    let due = if booking.status == BookingStatus::Pending {
        let starts_at = booking.session_details.time.start;
        minutes
            .iter()
            .filter_map(|&m| reminder_due(starts_at, m, changed_at).map(|due| (m, due)))
            .collect()
    } else {
        Vec::new()
    };
    ReminderPlan {
        booking_id: booking.id,
        due,
    }
}

/// What a notice says besides the booking and the addresses.
pub(super) struct Told {
    pub kind: NoticeKind,
    pub service_description: String,
    pub sequence: i64,
    pub previous_time: Option<TimeRange>,
    pub source: Option<BookingSource>,
    pub reminder_minutes: Option<i64>,
}

/// The message telling one side of the booking, unless that person asked for no mail (or is
/// gone).
pub(super) fn notice_message(
    told: &Told,
    audience: Audience,
    booking: &Booking,
    users: &HashMap<Uuid, User>,
    event_id: Option<Uuid>,
    message_id: String,
) -> Option<NewMessage> {
    let customer = users.get(&booking.user_id)?;
    let provider = users.get(&booking.provider_id)?;
    let recipient = match audience {
        Audience::Customer => customer,
        Audience::Provider => provider,
    };
    if !recipient.email_notifications {
        return None;
    }
    let notice = Notice {
        kind: told.kind,
        audience,
        to: recipient.email.clone(),
        booking: booking.clone(),
        service_description: told.service_description.clone(),
        sequence: told.sequence,
        customer_email: customer.email.clone(),
        provider_email: provider.email.clone(),
        previous_time: told.previous_time.clone(),
        source: told.source,
        reminder_minutes: told.reminder_minutes,
    };
    // A notice is plain data (strings, ids, times): it serialises without fail.
    let content = serde_json::to_string(&notice).ok()?;
    Some(NewMessage {
        id: new_id(),
        event_id,
        booking_id: Some(booking.id),
        kind: told.kind.label(audience),
        user_id: recipient.id,
        recipient: recipient.email.clone(),
        subject: notice.subject(),
        message_id,
        content,
    })
}

/// The mail telling someone still waiting that the session's list ended, unless they asked for
/// no mail.
fn waitlist_ended_message(
    event_id: Uuid,
    ended: EndedEntry,
    users: &HashMap<Uuid, User>,
    host: &str,
) -> Option<NewMessage> {
    let waiter = users.get(&ended.entry.user_id)?;
    let letter = Letter::WaitlistEnded(WaitlistNotice {
        to: waiter.email.clone(),
        ended,
    });
    let message_id = event_message_id(event_id, Audience::Customer, host);
    letter_message(
        waiter,
        "waitlist_ended",
        &letter,
        Some(event_id),
        message_id,
    )
}

/// The mail telling a webhook's owner that Kairos turned it off, unless they asked for no mail.
pub(super) fn webhook_disabled_message(
    owner: &User,
    notice: WebhookNotice,
    host: &str,
) -> Option<NewMessage> {
    let message_id = webhook_disabled_message_id(notice.webhook_id, notice.disabled_at, host);
    let letter = Letter::WebhookDisabled(notice);
    letter_message(owner, "webhook_disabled", &letter, None, message_id)
}

/// A letter about no booking, as a message to `recipient`, unless they asked for no mail.
fn letter_message(
    recipient: &User,
    kind: &'static str,
    letter: &Letter,
    event_id: Option<Uuid>,
    message_id: String,
) -> Option<NewMessage> {
    if !recipient.email_notifications {
        return None;
    }
    Some(NewMessage {
        id: new_id(),
        event_id,
        booking_id: None,
        kind,
        user_id: recipient.id,
        recipient: recipient.email.clone(),
        subject: letter.subject(),
        message_id,
        content: serde_json::to_string(&letter).ok()?,
    })
}
