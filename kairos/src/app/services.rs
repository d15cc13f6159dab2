//! Services: a provider saves drafts, publishes, edits and withdraws its own; a customer removes
//! themselves from one; each sees their list and one service's details.

use chrono::Duration;
use futures_util::FutureExt;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{App, AppError, Caller, PageRequest};
use crate::{
    domain::{
        booking::{Booking, checked_reason},
        event::{Event, EventType},
        id::new_id,
        page::Page,
        refusal::Refusal,
        service::{
            Service, ServiceChanges, ServiceCounts, ServiceSpec, ServiceStatus, TemplateField,
            template_fields,
        },
        session::Session,
        user::{Role, User},
    },
    store::{
        booking_lists::{self, BookingFilter, Perspective},
        catalogue, events,
        services::{self, Withdrawal},
        sessions,
    },
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

/// A customer's bookings of one service shown with it.
const BOOKINGS_SHOWN: u32 = 50;

impl App {
    /// "The tools to create a service": every field with its default and limits (providers).
    pub async fn service_template(
        &self,
        caller: &Caller,
        user_id: Uuid,
    ) -> Result<Vec<TemplateField>, AppError> {
        self.path_provider(caller, user_id).await?;
        Ok(template_fields())
    }

    /// Saves a new service as a draft or published (`true`: it is new), or changes the caller's
    /// draft named by `id`, publishing it if asked.
    pub async fn save_service(
        &self,
        caller: &Caller,
        user_id: Uuid,
        draft: ServiceDraft,
        status: ServiceStatus,
    ) -> Result<(Service, bool), AppError> {
        let provider = self.path_provider(caller, user_id).await?;
        let id = draft.id;
        let changes = draft.changes();
        let now = self.now();
        let Some(id) = id else {
            let spec = ServiceSpec::defaults()
                .apply(changes)
                .map_err(AppError::Validation)?;
            let (new_id, provider_id) = (new_id(), provider.id);
            let service = self
                .store
                .write(move |w| {
                    async move {
                        let service =
                            services::insert(w, new_id, provider_id, spec, status, now).await?;
                        if service.status == ServiceStatus::Published {
                            let published =
                                Event::service(EventType::ServicePublished, &service, now);
                            events::record(w, published);
                        }
                        Ok(service)
                    }
                    .boxed()
                })
                .await?;
            return Ok((service, true));
        };
        let current = self.owned_service(&provider, id).await?;
        if current.status != ServiceStatus::Draft {
            return Err(Refusal::NotADraft.into());
        }
        let publishing = (status == ServiceStatus::Published).then_some(status);
        let service = self.rewrite(current, changes, publishing).await?;
        Ok((service, false))
    }

    /// A provider edits its service; absent fields keep their value.
    pub async fn edit_service(
        &self,
        caller: &Caller,
        user_id: Uuid,
        service_id: Uuid,
        changes: ServiceChanges,
    ) -> Result<Service, AppError> {
        let provider = self.path_provider(caller, user_id).await?;
        let current = self.owned_service(&provider, service_id).await?;
        if current.status == ServiceStatus::Archived {
            return Err(Refusal::ServiceArchived.into());
        }
        self.rewrite(current, changes, None).await
    }

    /// Writes the changed spec, unless someone else changed the service meanwhile.
    async fn rewrite(
        &self,
        current: Service,
        changes: ServiceChanges,
        status: Option<ServiceStatus>,
    ) -> Result<Service, AppError> {
        let spec = ServiceSpec::of(&current)
            .apply(changes)
            .map_err(AppError::Validation)?;
        let (id, seen, now) = (current.id, current.updated_at, self.now());
        let publishes =
            current.status == ServiceStatus::Draft && status == Some(ServiceStatus::Published);
        self.store
            .write(move |w| {
                async move {
                    let service = services::update(w, id, spec, status, seen, now).await?;
                    if publishes {
                        let published = Event::service(EventType::ServicePublished, &service, now);
                        events::record(w, published);
                    }
                    Ok(service)
                }
                .boxed()
            })
            .await
            .map_err(AppError::or_missing("service"))
    }

    /// A provider withdraws its service: archived if it has bookings (their pending bookings
    /// are cancelled with the reason), deleted if not. A customer removes themselves:
    /// unsubscribed, and their pending bookings there cancelled (all or nothing).
    pub async fn remove_service(
        &self,
        caller: &Caller,
        user_id: Uuid,
        service_id: Uuid,
        reason: Option<String>,
    ) -> Result<Removal, AppError> {
        let user = self.path_user(caller, user_id).await?;
        let now = self.now();
        if user.role == Role::Provider {
            let service = self.owned_service(&user, service_id).await?;
            let reason = checked_reason(reason)?
                .unwrap_or_else(|| "The provider withdrew this service.".into());
            let provider_id = user.id;
            let outcome = self
                .store
                .write(move |w| {
                    async move {
                        let withdrawal = services::withdraw(w, service.id, reason, now).await?;
                        let Withdrawal::Archived {
                            service,
                            sessions,
                            bookings,
                        } = &withdrawal
                        else {
                            return Ok(withdrawal);
                        };
                        let archived = Event::service(EventType::ServiceArchived, service, now);
                        let cancelled_sessions = sessions.iter().map(|s| {
                            Event::session(EventType::SessionCancelled, s, provider_id, now)
                        });
                        let cancelled_bookings =
                            bookings.iter().map(|b| Event::booking_cancelled(b, now));
                        let told: Vec<Event> = [archived]
                            .into_iter()
                            .chain(cancelled_sessions)
                            .chain(cancelled_bookings)
                            .collect();
                        events::record_all(w, told);
                        Ok(withdrawal)
                    }
                    .boxed()
                })
                .await
                .map_err(AppError::or_missing("service"))?;
            let (result, cancelled_bookings) = match outcome {
                Withdrawal::Archived { bookings, .. } => {
                    (RemovalResult::Archived, bookings.len() as u64)
                }
                Withdrawal::Deleted => (RemovalResult::Deleted, 0),
            };
            return Ok(Removal {
                service_id,
                result,
                cancelled_bookings,
            });
        }
        let user_id = user.id;
        let subscribed = self
            .store
            .read(move |r| catalogue::is_subscribed(r, user_id, service_id).boxed())
            .await?;
        if !subscribed {
            return Err(AppError::NotFound("service"));
        }
        let reason = checked_reason(reason)?
            .unwrap_or_else(|| "The customer removed themselves from this service.".into());
        let cancelled_bookings = self
            .store
            .write(move |w| {
                async move {
                    let cancelled =
                        catalogue::unsubscribe(w, user_id, service_id, reason, now).await?;
                    let told: Vec<Event> = cancelled
                        .iter()
                        .map(|b| Event::booking_cancelled(b, now))
                        .collect();
                    events::record_all(w, told);
                    Ok(cancelled.len() as u64)
                }
                .boxed()
            })
            .await?;
        Ok(Removal {
            service_id,
            result: RemovalResult::Unsubscribed,
            cancelled_bookings,
        })
    }

    /// A provider's own services (every status, with counts), or the services a customer is
    /// subscribed to; newest first.
    pub async fn user_services(
        &self,
        caller: &Caller,
        user_id: Uuid,
        page: &PageRequest,
    ) -> Result<Page<ServiceSummary>, AppError> {
        let user = self.path_user(caller, user_id).await?;
        let (limit, after) = page.by_id()?;
        let rows = self.services_of(&user, after, limit + 1).await?;
        Ok(Page::from_overfetch(rows, limit, |s| {
            s.service.id.simple().to_string()
        }))
    }

    /// A user's services as their lists and home page show them.
    pub(super) async fn services_of(
        &self,
        user: &User,
        after: Option<Uuid>,
        limit: u32,
    ) -> Result<Vec<ServiceSummary>, AppError> {
        let (user_id, now) = (user.id, self.now());
        let summaries = if user.role == Role::Provider {
            self.store
                .read(move |r| services::of_provider(r, user_id, after, limit, now).boxed())
                .await?
                .into_iter()
                .map(|(service, counts)| ServiceSummary {
                    service,
                    counts: Some(counts),
                })
                .collect()
        } else {
            self.store
                .read(move |r| catalogue::subscribed(r, user_id, after, limit).boxed())
                .await?
                .into_iter()
                .map(|service| ServiceSummary {
                    service,
                    counts: None,
                })
                .collect()
        };
        Ok(summaries)
    }

    /// A provider's service with its sessions and counts; or, for a customer, a service they
    /// may see (published, or one they are subscribed to) with their bookings of it.
    pub async fn service_details(
        &self,
        caller: &Caller,
        user_id: Uuid,
        service_id: Uuid,
        shown: SessionsShown,
    ) -> Result<ServiceDetails, AppError> {
        let user = self.path_user(caller, user_id).await?;
        let now = self.now();
        if user.role == Role::Provider {
            let service = self.owned_service(&user, service_id).await?;
            let window = (now - shown.since, now + Duration::days(366));
            let (counts, sessions) = self
                .store
                .read(move |r| {
                    async move {
                        let counts = services::counts(r, service_id, now).await?;
                        let sessions =
                            sessions::of_service(r, service_id, window, false, None, shown.limit)
                                .await?;
                        Ok((counts, sessions))
                    }
                    .boxed()
                })
                .await?;
            return Ok(ServiceDetails {
                service,
                counts: Some(counts),
                upcoming_sessions: Some(sessions),
                subscribed: None,
                bookings: None,
            });
        }
        let user_id = user.id;
        let (service, subscribed, bookings) = self
            .store
            .read(move |r| {
                async move {
                    let service = services::by_id(r, service_id).await?;
                    let subscribed = catalogue::is_subscribed(r, user_id, service_id).await?;
                    let filter = BookingFilter {
                        service_id: Some(service_id),
                        limit: BOOKINGS_SHOWN,
                        ..BookingFilter::of(user_id, Perspective::Customer)
                    };
                    let bookings = booking_lists::all(r, filter).await?;
                    Ok((service, subscribed, bookings))
                }
                .boxed()
            })
            .await?;
        match service {
            Some(service) if service.status == ServiceStatus::Published || subscribed => {
                Ok(ServiceDetails {
                    service,
                    counts: None,
                    upcoming_sessions: None,
                    subscribed: Some(subscribed),
                    bookings: Some(bookings),
                })
            }
            _ => Err(AppError::NotFound("service")),
        }
    }
}
