//! Services: a provider saves drafts, publishes, edits and withdraws its own; a customer removes
//! themselves from one; each sees their list and one service's details.

use chrono::Duration;
use futures_util::FutureExt;
use uuid::Uuid;

use super::{
    App, AppError, Caller, PageRequest,
    service_types::{
        Removal, RemovalResult, ServiceDetails, ServiceDraft, ServiceSummary, SessionsShown,
    },
};
use crate::{
    domain::{
        booking::checked_reason,
        event::{Event, EventType},
        id::new_id,
        page::Page,
        refusal::Refusal,
        service::{
            Service, ServiceChanges, ServiceSpec, ServiceStatus, TemplateField, template_fields,
        },
        user::{Role, User},
    },
    store::{
        booking_lists::{self, BookingFilter, Perspective},
        catalogue, events,
        services::{self, Withdrawal},
        sessions,
    },
};

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
