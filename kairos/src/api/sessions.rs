//! A provider's sessions: add one or a weekly series, move or edit one, cancel one.

use axum::{Json, extract::State, http::StatusCode};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{
    ToSchema,
    openapi::{Array, ArrayBuilder, ObjectBuilder, Type},
};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use crate::{
    api::access::Side,
    api::{
        access::{acting_as, owned_service, provider_path},
        docs::{AuthErrors, BodyErrors, InputErrors, NotFound, Unavailable},
        extract::{AppJson, AppPath, AppQuery},
        services::ReasonQuery,
    },
    auth::AuthUser,
    domain::{
        FieldError, clock,
        id::{PathId, new_id},
        refusal::Refusal,
        service::{Service, ServiceStatus},
        session::{
            INFO_ITEM_MAX, INFO_ITEMS_MAX, Repeat, Session, check_session_fields, weekly_series,
        },
        user::User,
    },
    error::ApiError,
    state::AppState,
    store::{NewSession, SessionChanges},
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(add_sessions))
        .routes(routes!(edit_session, cancel_session))
}

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
    #[schema(schema_with = information_lines)]
    pub additional_information: Option<Vec<String>>,
    /// Repeat weekly at the same local time in the service's time zone.
    pub repeat: Option<Repeat>,
}

/// `additionalInformation`: up to 20 lines of up to 500 characters.
fn information_lines() -> Array {
    ArrayBuilder::new()
        .items(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .max_length(Some(INFO_ITEM_MAX)),
        )
        .max_items(Some(INFO_ITEMS_MAX))
        .build()
}

/// Add one session, or a weekly series computed in the service's time zone (a 09:00 class stays
/// at 09:00 local across a DST change). Answers every session made, soonest first.
#[utoipa::path(
    post, path = "/api/user/{userID}/services/{serviceID}/sessions", tag = "sessions",
    params(("userID" = Uuid, Path), ("serviceID" = Uuid, Path)),
    request_body = NewSessions,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "The sessions made", body = Vec<Session>),
        (status = 409, description = "The service is archived (`service_archived`)",
            body = crate::error::Problem, content_type = "application/problem+json"),
        BodyErrors, AuthErrors, NotFound, Unavailable,
    )
)]
async fn add_sessions(
    State(state): State<AppState>,
    caller: AuthUser,
    AppPath((PathId(user_id), PathId(service_id))): AppPath<(PathId, PathId)>,
    AppJson(body): AppJson<NewSessions>,
) -> Result<(StatusCode, Json<Vec<Session>>), ApiError> {
    let added = add_sessions_for(&state, &caller, user_id, service_id, body).await?;
    Ok((StatusCode::CREATED, Json(added)))
}

/// Adds one session or a series to a service of the path's provider.
pub async fn add_sessions_for(
    state: &AppState,
    caller: &AuthUser,
    user_id: Uuid,
    service_id: Uuid,
    body: NewSessions,
) -> Result<Vec<Session>, ApiError> {
    let provider = provider_path(state, caller, user_id).await?;
    let service = owned_service(state, &provider, service_id).await?;
    if service.status == ServiceStatus::Archived {
        return Err(Refusal::ServiceArchived.into());
    }
    let starts_at = clock::truncate_to_micros(body.starts_at);
    let length = body
        .ends_at
        .map_or(Duration::minutes(service.duration_minutes), |end| {
            clock::truncate_to_micros(end) - starts_at
        });
    let capacity = body.capacity.unwrap_or(service.capacity);
    let location = body
        .location
        .map_or_else(|| service.location.clone(), |l| l.trim().to_owned());
    let information = body.additional_information.unwrap_or_default();
    let mut errors = check_session_fields(
        starts_at,
        starts_at + length,
        capacity,
        &location,
        &information,
    );
    let times = match &body.repeat {
        None => vec![(starts_at, starts_at + length)],
        Some(repeat) => weekly_series(starts_at, length, &service.time_zone, repeat)
            .unwrap_or_else(|series_errors| {
                errors.extend(series_errors);
                Vec::new()
            }),
    };
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let sessions = times
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
    let added = state
        .store
        .add_sessions(service.id, sessions, clock::now())
        .await
        .map_err(ApiError::or_missing("service"))?;
    Ok(added)
}

/// Changes to a session; absent fields keep their value. Moving the start alone keeps the
/// session's length.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SessionEdit {
    pub starts_at: Option<DateTime<Utc>>,
    /// After the start, by at most 24 hours.
    pub ends_at: Option<DateTime<Utc>>,
    #[schema(minimum = 1, maximum = 10000)]
    pub capacity: Option<i64>,
    #[schema(max_length = 200)]
    pub location: Option<String>,
    #[schema(schema_with = information_lines)]
    pub additional_information: Option<Vec<String>>,
}

/// Move or edit a session; its bookings follow it. The capacity cannot go below the places
/// already booked.
#[utoipa::path(
    patch, path = "/api/user/{userID}/services/{serviceID}/sessions/{sessionID}", tag = "sessions",
    params(("userID" = Uuid, Path), ("serviceID" = Uuid, Path), ("sessionID" = Uuid, Path)),
    request_body = SessionEdit,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The session as it is now", body = Session),
        (status = 409, description = "Cancelled (`session_cancelled`) or the capacity is below \
            the places booked (`capacity_below_booked`)", body = crate::error::Problem,
            content_type = "application/problem+json"),
        BodyErrors, AuthErrors, NotFound, Unavailable,
    )
)]
async fn edit_session(
    State(state): State<AppState>,
    caller: AuthUser,
    AppPath((PathId(user_id), PathId(service_id), PathId(session_id))): AppPath<(
        PathId,
        PathId,
        PathId,
    )>,
    AppJson(edit): AppJson<SessionEdit>,
) -> Result<Json<Session>, ApiError> {
    let (_, _, current) = owned_session(&state, &caller, user_id, service_id, session_id).await?;
    let starts_at = edit
        .starts_at
        .map_or(current.starts_at, clock::truncate_to_micros);
    let ends_at = edit.ends_at.map_or(
        current.ends_at + (starts_at - current.starts_at),
        clock::truncate_to_micros,
    );
    let capacity = edit.capacity.unwrap_or(current.capacity);
    let location = edit
        .location
        .map_or(current.location, |l| l.trim().to_owned());
    let information = edit
        .additional_information
        .unwrap_or(current.additional_information);
    let errors: Vec<FieldError> =
        check_session_fields(starts_at, ends_at, capacity, &location, &information);
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let changes = SessionChanges {
        starts_at,
        ends_at,
        capacity,
        location,
        additional_information: information,
    };
    let session = state
        .store
        .update_session(session_id, changes, clock::now())
        .await
        .map_err(ApiError::or_missing("session"))?;
    Ok(Json(session))
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CancelledSession {
    pub session: Session,
    /// Pending bookings this cancelled.
    pub cancelled_bookings: u64,
}

/// Cancel a session that has not ended; its pending bookings are cancelled with the reason.
/// Cancelling a cancelled session changes nothing.
#[utoipa::path(
    delete, path = "/api/user/{userID}/services/{serviceID}/sessions/{sessionID}", tag = "sessions",
    params(("userID" = Uuid, Path), ("serviceID" = Uuid, Path), ("sessionID" = Uuid, Path), ReasonQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, body = CancelledSession),
        (status = 409, description = "The session has ended (`session_ended`)",
            body = crate::error::Problem, content_type = "application/problem+json"),
        AuthErrors, InputErrors, NotFound, Unavailable,
    )
)]
async fn cancel_session(
    State(state): State<AppState>,
    caller: AuthUser,
    AppPath((PathId(user_id), PathId(service_id), PathId(session_id))): AppPath<(
        PathId,
        PathId,
        PathId,
    )>,
    AppQuery(query): AppQuery<ReasonQuery>,
) -> Result<Json<CancelledSession>, ApiError> {
    cancel_session_for(&state, &caller, user_id, service_id, session_id, query)
        .await
        .map(Json)
}

/// Cancels a session of one of the path provider's services.
pub async fn cancel_session_for(
    state: &AppState,
    caller: &AuthUser,
    user_id: Uuid,
    service_id: Uuid,
    session_id: Uuid,
    query: ReasonQuery,
) -> Result<CancelledSession, ApiError> {
    let (provider, _, _) = owned_session(state, caller, user_id, service_id, session_id).await?;
    let reason = query.reason_or("The provider cancelled this session.")?;
    let by = acting_as(caller, &provider, Side::Provider);
    let (session, cancelled_bookings) = state
        .store
        .cancel_session(session_id, reason, by, clock::now())
        .await
        .map_err(ApiError::or_missing("session"))?;
    Ok(CancelledSession {
        session,
        cancelled_bookings,
    })
}

/// A session of one of the path provider's services; anything else is 404.
async fn owned_session(
    state: &AppState,
    caller: &AuthUser,
    user_id: Uuid,
    service_id: Uuid,
    session_id: Uuid,
) -> Result<(User, Service, Session), ApiError> {
    let provider = provider_path(state, caller, user_id).await?;
    let service = owned_service(state, &provider, service_id).await?;
    match state.store.session(session_id).await? {
        Some(session) if session.service_id == service.id => Ok((provider, service, session)),
        _ => Err(ApiError::NotFound("session")),
    }
}
