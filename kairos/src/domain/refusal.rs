//! Why a well-formed request is refused by a rule of the product. Each refusal has a stable code
//! and becomes a 409 (the state of the thing the path names does not allow it), a 403 (the caller
//! may not do this to this thing) or a 422 (the request breaks a rule).

/// Which answer a refusal becomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefusalKind {
    /// 409 Conflict.
    Conflict,
    /// 403 Forbidden.
    NotAllowed,
    /// 422 Unprocessable Content.
    BreaksRule,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    EmailTaken,
    SessionFull,
    AlreadyBooked,
    BookingCompleted,
    BookingCancelled,
    CapacityBelowBooked,
    SessionCancelled,
    ServiceArchived,
    NotADraft,
    EditConflict,
    IdempotencyKeyInUse,
    SessionStarted,
    BookingNotice { minutes: i64 },
    CancellationNotice { minutes: i64 },
    ServiceNotPublished,
    OwnService,
    DifferentService,
    SessionEnded,
    IdempotencyKeyReused,
    CannotDemoteSelf,
    ProviderOnly,
    CustomerOnly,
    MessageNotFailed,
    WebhookUrlBlocked { reason: &'static str },
    WebhookDisabled,
    SessionNotFull,
    AlreadyWaiting,
    WaitlistDisabled,
}

impl Refusal {
    pub fn code(self) -> &'static str {
        match self {
            Refusal::EmailTaken => "email_taken",
            Refusal::SessionFull => "session_full",
            Refusal::AlreadyBooked => "already_booked",
            Refusal::BookingCompleted => "booking_completed",
            Refusal::BookingCancelled => "booking_cancelled",
            Refusal::CapacityBelowBooked => "capacity_below_booked",
            Refusal::SessionCancelled => "session_cancelled",
            Refusal::ServiceArchived => "service_archived",
            Refusal::NotADraft => "not_a_draft",
            Refusal::EditConflict => "edit_conflict",
            Refusal::IdempotencyKeyInUse => "idempotency_key_in_use",
            Refusal::SessionStarted => "session_started",
            Refusal::BookingNotice { .. } => "booking_notice",
            Refusal::CancellationNotice { .. } => "cancellation_notice",
            Refusal::ServiceNotPublished => "service_not_published",
            Refusal::OwnService => "own_service",
            Refusal::DifferentService => "different_service",
            Refusal::SessionEnded => "session_ended",
            Refusal::IdempotencyKeyReused => "idempotency_key_reused",
            Refusal::CannotDemoteSelf => "cannot_demote_self",
            Refusal::ProviderOnly => "provider_only",
            Refusal::CustomerOnly => "customer_only",
            Refusal::MessageNotFailed => "message_not_failed",
            Refusal::WebhookUrlBlocked { .. } => "webhook_url_blocked",
            Refusal::WebhookDisabled => "webhook_disabled",
            Refusal::SessionNotFull => "session_not_full",
            Refusal::AlreadyWaiting => "already_waiting",
            Refusal::WaitlistDisabled => "waitlist_disabled",
        }
    }

    /// Which answer this refusal becomes. Every refusal is listed, so a new one needs a choice.
    pub fn kind(self) -> RefusalKind {
        match self {
            // The state of things is in the way: full, taken, already changed, or over (a
            // cancelled booking, an ended session).
            Refusal::EmailTaken
            | Refusal::SessionFull
            | Refusal::AlreadyBooked
            | Refusal::BookingCompleted
            | Refusal::BookingCancelled
            | Refusal::CapacityBelowBooked
            | Refusal::SessionCancelled
            | Refusal::ServiceArchived
            | Refusal::NotADraft
            | Refusal::EditConflict
            | Refusal::IdempotencyKeyInUse
            | Refusal::SessionEnded
            | Refusal::CannotDemoteSelf
            | Refusal::MessageNotFailed
            | Refusal::WebhookDisabled
            | Refusal::SessionNotFull
            | Refusal::AlreadyWaiting
            | Refusal::WaitlistDisabled => RefusalKind::Conflict,
            // The caller may not do this to this thing, whatever its state.
            Refusal::OwnService | Refusal::ProviderOnly | Refusal::CustomerOnly => {
                RefusalKind::NotAllowed
            }
            // The request asks for something the rules do not allow.
            Refusal::SessionStarted
            | Refusal::BookingNotice { .. }
            | Refusal::CancellationNotice { .. }
            | Refusal::ServiceNotPublished
            | Refusal::DifferentService
            | Refusal::IdempotencyKeyReused
            | Refusal::WebhookUrlBlocked { .. } => RefusalKind::BreaksRule,
        }
    }

    pub fn detail(self) -> String {
        match self {
            Refusal::EmailTaken => "An account with this e-mail address exists.".into(),
            Refusal::SessionFull => "The session is full.".into(),
            Refusal::AlreadyBooked => "You already hold a booking for this session.".into(),
            Refusal::BookingCompleted => "The booking is completed; it cannot change.".into(),
            Refusal::BookingCancelled => "The booking is cancelled; it cannot change.".into(),
            Refusal::CapacityBelowBooked => {
                "The capacity cannot go below the number of places already booked.".into()
            }
            Refusal::SessionCancelled => "The session is cancelled.".into(),
            Refusal::ServiceArchived => "The service is archived; it cannot change.".into(),
            Refusal::NotADraft => "That service is not a draft.".into(),
            Refusal::EditConflict => {
                "Someone changed this at the same time; load it again and retry.".into()
            }
            Refusal::IdempotencyKeyInUse => {
                "A request with this Idempotency-Key is still being processed.".into()
            }
            Refusal::SessionStarted => "The session has already started.".into(),
            Refusal::BookingNotice { minutes } => {
                format!("Bookings close {minutes} minutes before the session starts.")
            }
            Refusal::CancellationNotice { minutes } => format!(
                "Bookings can be cancelled or moved until {minutes} minutes before the session \
                 starts; after that, ask the provider."
            ),
            Refusal::ServiceNotPublished => "The service is not open for booking.".into(),
            Refusal::OwnService => "You cannot book your own service.".into(),
            Refusal::DifferentService => {
                "A booking can move only to another session of the same service.".into()
            }
            Refusal::SessionEnded => "The session has ended.".into(),
            Refusal::IdempotencyKeyReused => {
                "This Idempotency-Key was used with a different request.".into()
            }
            Refusal::CannotDemoteSelf => {
                "An admin cannot take away their own admin role; ask another admin.".into()
            }
            Refusal::ProviderOnly => {
                "Only the provider marks a booking Completed; to cancel, use cancel.".into()
            }
            Refusal::CustomerOnly => "Only the customer moves a booking or edits its notes.".into(),
            Refusal::MessageNotFailed => {
                "Only a failed message can be retried; this one is pending or sent.".into()
            }
            Refusal::WebhookDisabled => {
                "The webhook is disabled; enable it first (PATCH with `enabled: true`).".into()
            }
            Refusal::SessionNotFull => {
                "The session has free places: book one instead of waiting.".into()
            }
            Refusal::AlreadyWaiting => "You are already on this session's waitlist.".into(),
            Refusal::WaitlistDisabled => "This service has no waitlist.".into(),
            Refusal::WebhookUrlBlocked { reason } => format!(
                "Webhooks may not be sent to this address ({reason}); an operator can allow a \
                 network with --webhook-allow-networks."
            ),
        }
    }
}
