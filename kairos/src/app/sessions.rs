//! A provider's sessions: add one or a weekly series, move or edit one, cancel one.

use chrono::{DateTime, Duration, Utc};
use futures_util::FutureExt;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{App, AppError, Caller, access::acting_as, bookings::Side};
use crate::{
    domain::{
        booking::{TimeRange, checked_reason},
        clock::truncate_to_micros,
        event::{Event, EventType},
        id::new_id,
        refusal::Refusal,
        service::{Service, ServiceStatus},
        session::{Repeat, Session, check_session_fields, weekly_series},
        user::User,
    },
    store::{
        events,
        sessions::{self, NewSession, SessionChanges},
    },
};

/// One session, or a weekly series of them.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NewSessions {
    /// The (first) session's start; any offset, kept as UTC.
    pub starts_at: DateTime<Utc>,
    /// After `startsAt`, by at most 24 hours. Default: the start plus the service's duration.
    pub ends_at: Option<DateTime<Utc>>,
    /// Default: the service's capacity.
    #[schema(minimum = 1, maximum = 10000)]
    pub capacity: Option<i64>,
    /// Default: the service's location.
    #[schema(max_length = 200)]
    pub location: Option<String>,
    #[schema(schema_with = super::schema::information_lines)]
    pub additional_information: Option<Vec<String>>,
    /// Repeat weekly at the same local time in the service's time zone.
    pub repeat: Option<Repeat>,
}

/// Changes to a session; absent fields keep their value. Moving the start alone keeps the
/// session's length.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SessionEdit {
    pub starts_at: Option<DateTime<Utc>>,
    /// After the start, by at most 24 hours.
    pub ends_at: Option<DateTime<Utc>>,
    #[schema(minimum = 1, maximum = 10000)]
    pub capacity: Option<i64>,
    #[schema(max_length = 200)]
    pub location: Option<String>,
    #[schema(schema_with = super::schema::information_lines)]
    pub additional_information: Option<Vec<String>>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CancelledSession {
    pub session: Session,
    /// Pending bookings this cancelled.
    pub cancelled_bookings: u64,
}

impl App {
    /// Adds one session, or a weekly series computed in the service's time zone (a 09:00 class
    /// stays at 09:00 local across a DST change); answers every session made, soonest first.
    pub async fn add_sessions(
        &self,
        caller: &Caller,
        user_id: Uuid,
        service_id: Uuid,
        new: NewSessions,
    ) -> Result<Vec<Session>, AppError> {
        let provider = self.path_provider(caller, user_id).await?;
        let service = self.owned_service(&provider, service_id).await?;
        if service.status == ServiceStatus::Archived {
            return Err(Refusal::ServiceArchived.into());
        }
        let starts_at = truncate_to_micros(new.starts_at);
        let length = new
            .ends_at
            .map_or(Duration::minutes(service.duration_minutes), |end| {
                truncate_to_micros(end) - starts_at
            });
        let capacity = new.capacity.unwrap_or(service.capacity);
        let location = new
            .location
            .map_or_else(|| service.location.clone(), |l| l.trim().to_owned());
        let information = new.additional_information.unwrap_or_default();
        let mut errors = check_session_fields(
            starts_at,
            starts_at + length,
            capacity,
            &location,
            &information,
        );
        let times = match &new.repeat {
            None => vec![(starts_at, starts_at + length)],
            Some(repeat) => weekly_series(starts_at, length, &service.time_zone, repeat)
                .unwrap_or_else(|series_errors| {
                    errors.extend(series_errors);
                    Vec::new()
                }),
        };
        if !errors.is_empty() {
            return Err(AppError::Validation(errors));
        }
        let sessions: Vec<NewSession> = times
            .into_iter()
            .map(|(starts_at, ends_at)| NewSession {
                id: new_id(),
                starts_at,
                ends_at,
                capacity,
                location: location.clone(),
                additional_information: information.clone(),
            })
            .collect();
        let now = self.now();
        self.store
            .write(move |w| sessions::add(w, service.id, sessions, now).boxed())
            .await
            .map_err(AppError::or_missing("service"))
    }

    /// Moves or edits a session; its bookings follow it. The capacity cannot go below the
    /// places already booked.
    pub async fn edit_session(
        &self,
        caller: &Caller,
        (user_id, service_id, session_id): (Uuid, Uuid, Uuid),
        edit: SessionEdit,
    ) -> Result<Session, AppError> {
        let (provider, _, current) = self
            .owned_session(caller, user_id, service_id, session_id)
            .await?;
        let starts_at = edit.starts_at.map_or(current.starts_at, truncate_to_micros);
        let ends_at = edit.ends_at.map_or(
            current.ends_at + (starts_at - current.starts_at),
            truncate_to_micros,
        );
        let capacity = edit.capacity.unwrap_or(current.capacity);
        let location = edit
            .location
            .map_or(current.location, |l| l.trim().to_owned());
        let information = edit
            .additional_information
            .unwrap_or(current.additional_information);
        let errors = check_session_fields(starts_at, ends_at, capacity, &location, &information);
        if !errors.is_empty() {
            return Err(AppError::Validation(errors));
        }
        let changes = SessionChanges {
            starts_at,
            ends_at,
            capacity,
            location,
            additional_information: information,
        };
        let (now, provider_id) = (self.now(), provider.id);
        self.store
            .write(move |w| {
                async move {
                    let update = sessions::update(w, session_id, changes, now).await?;
                    if let Some(before) = &update.moved_from {
                        let session = &update.session;
                        let previous = TimeRange {
                            start: before.starts_at,
                            end: before.ends_at,
                        };
                        let moved = [Event::session(
                            EventType::SessionMoved,
                            session,
                            provider_id,
                            now,
                        )];
                        let followed = update
                            .moved_bookings
                            .iter()
                            .map(|b| Event::booking_moved(b, session.id, &previous, now));
                        let told: Vec<Event> = moved.into_iter().chain(followed).collect();
                        events::record_all(w, told);
                    }
                    Ok(update.session)
                }
                .boxed()
            })
            .await
            .map_err(AppError::or_missing("session"))
    }

    /// Cancels a session that has not ended; its pending bookings are cancelled with the reason.
    /// Cancelling a cancelled session changes nothing.
    pub async fn cancel_session(
        &self,
        caller: &Caller,
        (user_id, service_id, session_id): (Uuid, Uuid, Uuid),
        reason: Option<String>,
    ) -> Result<CancelledSession, AppError> {
        let (provider, _, _) = self
            .owned_session(caller, user_id, service_id, session_id)
            .await?;
        let reason = checked_reason(reason)?
            .unwrap_or_else(|| "The provider cancelled this session.".into());
        let by = acting_as(caller, &provider, Side::Provider);
        let (now, provider_id) = (self.now(), provider.id);
        let (session, cancelled_bookings) = self
            .store
            .write(move |w| {
                async move {
                    let (session, bookings) =
                        sessions::cancel(w, session_id, reason, by, now).await?;
                    if session.changed {
                        let cancelled = Event::session(
                            EventType::SessionCancelled,
                            &session.value,
                            provider_id,
                            now,
                        );
                        let followed = bookings.iter().map(|b| Event::booking_cancelled(b, now));
                        let told: Vec<Event> = [cancelled].into_iter().chain(followed).collect();
                        events::record_all(w, told);
                    }
                    Ok((session.value, bookings.len() as u64))
                }
                .boxed()
            })
            .await
            .map_err(AppError::or_missing("session"))?;
        Ok(CancelledSession {
            session,
            cancelled_bookings,
        })
    }

    /// A session of one of the path provider's services; anything else is not found.
    async fn owned_session(
        &self,
        caller: &Caller,
        user_id: Uuid,
        service_id: Uuid,
        session_id: Uuid,
    ) -> Result<(User, Service, Session), AppError> {
        let provider = self.path_provider(caller, user_id).await?;
        let service = self.owned_service(&provider, service_id).await?;
        let session = self
            .store
            .read(move |r| sessions::by_id(r, session_id).boxed())
            .await?;
        match session {
            Some(session) if session.service_id == service.id => Ok((provider, service, session)),
            _ => Err(AppError::NotFound("session")),
        }
    }
}
