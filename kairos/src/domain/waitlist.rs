//! The waitlist: someone's place in the queue for a full session.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

/// Someone waiting for a place in a full session. When a place frees up, the first in line who
/// is free at that time gets a Pending booking at once, and the entry is gone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WaitlistEntry {
    pub id: Uuid,
    pub user_id: Uuid,
    pub session_id: Uuid,
    pub service_id: Uuid,
    /// Where they stand: 1 is next.
    #[schema(minimum = 1)]
    pub position: i64,
    pub created_at: DateTime<Utc>,
    /// What is waited for, so a list of entries reads on its own.
    pub service_name: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    /// The service's IANA time zone.
    pub time_zone: String,
}
