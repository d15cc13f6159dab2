//! The use cases: who is asking and what they validly ask, in; domain values or one [`AppError`],
//! out. Both adapters (the JSON API and the web pages) call these and nothing below them, so a
//! rule is stated once and both get the same answer for the same input. No HTTP here.
//!
//! Each feature module adds its use cases to [`App`] (`app.book(..)`, `app.log_in(..)`, ...).

mod access;
mod accounts;
mod availability;
mod booking_lists;
mod bookings;
mod catalogue;
mod clock;
mod error;
mod home;
mod housekeeping;
mod logins;
mod notices;
mod outbox;
mod paging;
pub mod passwords;
mod schedule;
pub mod schema;
mod sealed;
mod service_types;
mod services;
mod sessions;
#[cfg(test)]
mod tests;
pub mod tokens;
mod waitlist;
mod webhook_delivery;
mod webhooks;

use std::sync::Arc;

use chrono::{DateTime, Utc};
use uuid::Uuid;

pub use access::require_admin;
pub use accounts::{AccountChanges, NewAccount, UserChangesByAdmin, described};
pub use availability::{AvailabilityChange, AvailabilityInput};
pub use booking_lists::{AllBookings, BookingDetails};
pub use bookings::{BookRequest, Booked, BookingUpdate, Side};
pub use clock::Clock;
pub use error::{AppError, Unauthenticated};
pub use home::Home;
pub use logins::Issued;
pub use outbox::{OutboxCounters, Outgoing, TryOutcome};
pub use paging::{PageRequest, TimeRange};
pub use schedule::CalendarFeed;
pub use sealed::SecretSeal;
pub use service_types::{
    Removal, RemovalResult, ServiceDetails, ServiceDraft, ServiceFields, ServiceSummary,
    SessionsShown,
};
pub use sessions::{CancelledSession, NewSessions, SessionEdit};
pub use waitlist::JoinRequest;
pub use webhook_delivery::{DeliveryTry, OutgoingDelivery};
pub use webhooks::{WebhookInput, WebhookPatch, WebhookSettings};

use crate::{
    domain::{
        notice::mail_host,
        user::{Role, User},
    },
    store::Store,
};
use passwords::PasswordHasher;
use tokens::TokenKeys;

/// What every use case can reach. Cloned per request, so everything in it is shared.
#[derive(Clone)]
pub struct App {
    store: Store,
    clock: Clock,
    passwords: PasswordHasher,
    tokens: Arc<TokenKeys>,
    /// How clients reach this server, without a trailing slash (for links it hands out).
    public_url: Arc<str>,
    /// The public URL's host: the right-hand side of the `Message-ID`s of mails.
    mail_host: Arc<str>,
    outbox_counters: Arc<OutboxCounters>,
    webhook_settings: WebhookSettings,
}

impl App {
    pub fn new(
        store: Store,
        clock: Clock,
        passwords: PasswordHasher,
        tokens: TokenKeys,
        public_url: &str,
    ) -> Self {
        Self {
            store,
            clock,
            passwords,
            tokens: Arc::new(tokens),
            public_url: public_url.trim_end_matches('/').into(),
            mail_host: mail_host(public_url).into(),
            outbox_counters: Arc::default(),
            webhook_settings: WebhookSettings {
                // Until the server's own is set: a key of this run only.
                seal: SecretSeal::new(Uuid::new_v4().as_bytes()),
                allowed: Arc::default(),
            },
        }
    }

    /// Webhooks' settings: the seal for their secrets and the networks they may reach.
    #[must_use]
    pub fn with_webhook_settings(mut self, settings: WebhookSettings) -> Self {
        self.webhook_settings = settings;
        self
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// The clock, for tests that move it.
    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    pub fn public_url(&self) -> &str {
        &self.public_url
    }

    /// The database, for the test kit and the command line; adapters go through use cases.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Whether the database can serve (for SQLite: commit a write).
    pub async fn ready(&self) -> Result<&'static str, AppError> {
        self.store.ping(self.now()).await?;
        Ok(self.store.backend_name())
    }

    /// Open and idle database connections.
    pub fn database_connections(&self) -> (u32, u32) {
        let stats = self.store.pool_stats();
        (stats.size, stats.idle)
    }
}

/// Someone with a live login: who they are, and which login they are using.
#[derive(Debug, Clone)]
pub struct Caller {
    pub user: User,
    pub login_id: Uuid,
}

impl Caller {
    pub fn id(&self) -> Uuid {
        self.user.id
    }

    pub fn role(&self) -> Role {
        self.user.role
    }

    pub fn is_admin(&self) -> bool {
        self.user.role == Role::Admin
    }
}
