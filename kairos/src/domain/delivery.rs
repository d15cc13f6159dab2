//! Webhook deliveries as their owner sees them: one per webhook and event, with every try.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum DeliveryStatus {
    /// Waiting for its first try or its next one.
    Pending,
    /// The receiver answered 2xx.
    Succeeded,
    /// Every try failed (or the receiver answered 410); `redeliver` sends it again.
    Failed,
}

impl DeliveryStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => "pending",
            DeliveryStatus::Succeeded => "succeeded",
            DeliveryStatus::Failed => "failed",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "pending" => Some(DeliveryStatus::Pending),
            "succeeded" => Some(DeliveryStatus::Succeeded),
            "failed" => Some(DeliveryStatus::Failed),
            _ => None,
        }
    }
}

/// One event on its way to one webhook.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Delivery {
    pub id: Uuid,
    pub webhook_id: Uuid,
    /// The event, and the `webhook-id` header of every try.
    pub event_id: Uuid,
    #[schema(example = "booking.created")]
    pub event_type: String,
    pub status: DeliveryStatus,
    /// When it is tried next (pending only).
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    /// Every try, oldest first.
    pub attempts: Vec<DeliveryAttempt>,
}

/// One try at a delivery.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryAttempt {
    pub attempted_at: DateTime<Utc>,
    /// The receiver's HTTP status, when it answered.
    pub response_status: Option<i64>,
    /// Why the try failed: no connection, a time-out, a blocked address, a redirect, or the
    /// status that was not 2xx.
    pub error: Option<String>,
    pub duration_ms: i64,
    /// When the delivery was due again after this try, if it was.
    pub next_attempt_at: Option<DateTime<Utc>>,
}
