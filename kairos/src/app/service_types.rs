//! What the service use cases take and give: the draft and edit inputs (one field list), a
//! service in a list, one service's details, a customer's removal from one.

use chrono::Duration;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::domain::{
    booking::Booking,
    service::{Service, ServiceChanges, ServiceCounts},
    session::Session,
};

/// Declares an input holding a service's fields (all optional), plus any leading fields given,
/// so the draft and the edit inputs cannot drift apart.
macro_rules! service_fields {
    ($(#[$meta:meta])* $name:ident { $($(#[$extra_meta:meta])* $extra:ident: $extra_type:ty,)* }) => {
        $(#[$meta])*
        #[derive(Debug, Default, Deserialize, ToSchema)]
        #[serde(deny_unknown_fields, rename_all = "camelCase")]
        pub struct $name {
            $($(#[$extra_meta])* pub $extra: $extra_type,)*
            /// Required for a new service; trimmed, at most 120 characters, not blank.
            #[schema(example = "Morning yoga", max_length = 120,
                pattern = r"^[^\x00]*[^\s\x00][^\x00]*$")]
            pub name: Option<String>,
            #[schema(max_length = 5000)]
            pub description: Option<String>,
            #[schema(minimum = 5, maximum = 1440)]
            pub duration_minutes: Option<i64>,
            #[schema(minimum = 1, maximum = 10000)]
            pub capacity: Option<i64>,
            #[schema(max_length = 200)]
            pub location: Option<String>,
            /// An IANA time zone name.
            #[schema(schema_with = super::schema::time_zone_name)]
            pub time_zone: Option<String>,
            #[schema(minimum = 0, maximum = 527040)]
            pub booking_notice_minutes: Option<i64>,
            #[schema(minimum = 0, maximum = 527040)]
            pub cancellation_notice_minutes: Option<i64>,
            /// Minutes before the start at which each booking is reminded by mail (at most 3,
            /// each 1 to 43,200; `[]` for none). Default `[1440]`.
            #[schema(schema_with = super::schema::reminder_minutes)]
            pub reminder_minutes: Option<Vec<i64>>,
            /// Whether customers may wait for a place in a full session. Default true; turning
            /// it off ends the lists of its sessions.
            pub waitlist_enabled: Option<bool>,
        }

        impl $name {
            /// The service fields as changes to apply; the leading fields are not among them.
            pub fn changes(self) -> ServiceChanges {
                ServiceChanges {
                    name: self.name,
                    description: self.description,
                    duration_minutes: self.duration_minutes,
                    capacity: self.capacity,
                    location: self.location,
                    time_zone: self.time_zone,
                    booking_notice_minutes: self.booking_notice_minutes,
                    cancellation_notice_minutes: self.cancellation_notice_minutes,
                    reminder_minutes: self.reminder_minutes,
                    waitlist_enabled: self.waitlist_enabled,
                }
            }
        }
    };
}

service_fields!(
    /// A new service, or changes to the caller's draft named by `id`. A new service takes the
    /// template's defaults for what is left out and needs a `name`; so the body gives a `name`,
    /// an `id`, or both.
    ServiceDraft {
        /// The caller's draft to change instead of creating a service.
        id: Option<Uuid>,
    }
);

service_fields!(
    /// Changes to a service: absent fields keep their value.
    ServiceFields {}
);

/// A service in a list: a provider's own come with their counts.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ServiceSummary {
    #[serde(flatten)]
    pub service: Service,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub counts: Option<ServiceCounts>,
}

/// A service as its provider or a customer sees it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ServiceDetails {
    pub service: Service,
    /// Provider: what the service holds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub counts: Option<ServiceCounts>,
    /// Provider: the next sessions (up to 50), cancelled ones included.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub upcoming_sessions: Option<Vec<Session>>,
    /// Customer: whether they are subscribed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subscribed: Option<bool>,
    /// Customer: their bookings of this service, latest first (up to 50).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bookings: Option<Vec<Booking>>,
}

/// Which of a service's sessions its provider's details show: those starting from `since` ago
/// to a year ahead, at most `limit`.
#[derive(Debug, Clone, Copy)]
pub struct SessionsShown {
    pub since: Duration,
    pub limit: u32,
}

impl SessionsShown {
    /// The next 50.
    pub const UPCOMING: Self = Self {
        since: Duration::zero(),
        limit: 50,
    };
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum RemovalResult {
    /// It had bookings: archived, its pending bookings cancelled.
    Archived,
    /// It had none: gone.
    Deleted,
    /// The customer is no longer subscribed; their pending bookings there are cancelled.
    Unsubscribed,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Removal {
    pub service_id: Uuid,
    pub result: RemovalResult,
    pub cancelled_bookings: u64,
}
