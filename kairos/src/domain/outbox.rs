//! Messages in the outbox: what an admin sees of each mail Kairos owes or has sent.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum MessageStatus {
    /// Not sent yet: waiting for its first try or its next one.
    Pending,
    Sent,
    /// Every try failed; an admin can send it again.
    Failed,
}

impl MessageStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            MessageStatus::Pending => "pending",
            MessageStatus::Sent => "sent",
            MessageStatus::Failed => "failed",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "pending" => Some(MessageStatus::Pending),
            "sent" => Some(MessageStatus::Sent),
            "failed" => Some(MessageStatus::Failed),
            _ => None,
        }
    }
}

/// One message as the admin outbox shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OutboxMessage {
    pub id: Uuid,
    /// `mail` (webhook deliveries are listed with their webhook).
    pub channel: &'static str,
    /// What it says: `confirmation`, `moved`, `cancelled`, `reminder`, `provider_created`,
    /// `provider_moved`, `provider_cancelled`.
    pub kind: String,
    /// The address it goes to.
    pub recipient: String,
    pub subject: String,
    pub status: MessageStatus,
    /// Tries so far.
    pub attempts: i64,
    /// Why the last try failed.
    pub last_error: Option<String>,
    /// When it is tried next (pending only).
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// The event it tells of; none for a reminder.
    pub event_id: Option<Uuid>,
    pub booking_id: Option<Uuid>,
    /// The mail's `Message-ID`, the same on every try.
    pub message_id: String,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
}
