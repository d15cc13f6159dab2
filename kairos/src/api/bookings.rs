//! A user's bookings: book a session, list them, see one. (Changing one is `booking_changes`.)

use axum::{
    Json,
    extract::{OriginalUri, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use crate::{
    api::{
        access::{path_user, time_page, visible_booking},
        docs::{AuthErrors, BodyErrors, InputErrors, NotFound, Unavailable},
        extract::{AppJson, AppPath, AppQuery},
        paged,
    },
    auth::AuthUser,
    domain::{
        booking::{Booking, BookingStatus, NOTES_MAX},
        clock,
        id::{PathId, new_id},
        page::{Page, time_cursor},
        refusal::Refusal,
        service::Service,
        user::{Role, User},
    },
    error::ApiError,
    state::AppState,
    store::{BookingFilter, Claim, NewBooking, Perspective},
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(book))
        .routes(routes!(current_bookings))
        .routes(routes!(all_bookings))
        .routes(routes!(booking_details))
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct BookRequest {
    pub session_id: Uuid,
    /// For the provider (at most 2000 characters).
    #[schema(max_length = 2000)]
    pub notes: Option<String>,
}

/// Book a place in a session. The user is then subscribed to the service. With an
/// `Idempotency-Key` header, a retry with the same key and body within 24 hours gets the first
/// answer again (with `Idempotent-Replayed: true`) instead of a second booking; errors are not
/// kept, so a retry after one is a new attempt.
#[utoipa::path(
    post, path = "/api/user/{userID}/book", tag = "bookings",
    params(
        ("userID" = Uuid, Path),
        ("Idempotency-Key" = Option<String>, Header, description = "1 to 255 visible ASCII \
            characters, unique per attempt", pattern = "^[!-~]{1,255}$", min_length = 1,
            max_length = 255),
    ),
    request_body = BookRequest,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Booked: a Pending booking", body = Booking),
        (status = 409, description = "Full (`session_full`), already booked (`already_booked`), \
            the session was cancelled (`session_cancelled`), or the same key is still being \
            handled (`idempotency_key_in_use`)", body = crate::error::Problem,
            content_type = "application/problem+json"),
        (status = 422, description = "The session has started (`session_started`), is too soon \
            (`booking_notice`) or its service is not published (`service_not_published`); or \
            the key was used with another body (`idempotency_key_reused`)",
            body = crate::error::Problem, content_type = "application/problem+json"),
        BodyErrors, AuthErrors, NotFound, Unavailable,
        (status = 403, description = "Not the caller's own path, or the session is of the \
            caller's own service (`own_service`)", body = crate::error::Problem,
            content_type = "application/problem+json"),
    )
)]
async fn book(
    State(state): State<AppState>,
    caller: AuthUser,
    AppPath(PathId(user_id)): AppPath<PathId>,
    headers: HeaderMap,
    AppJson(body): AppJson<BookRequest>,
) -> Result<Response, ApiError> {
    let user = path_user(&state, &caller, user_id).await?;
    let notes = checked_notes(body.notes.clone())?;
    let key = idempotency_key(&headers)?;
    let now = clock::now();
    if let Some(key) = &key {
        let request_hash = Sha256::digest(serde_json::to_vec(&body).unwrap_or_default()).to_vec();
        match state
            .store
            .claim_idempotency_key(user.id, key.clone(), request_hash, now)
            .await?
        {
            Claim::Claimed => {}
            Claim::Replay { status, body } => return Ok(replay(status, body)),
            Claim::InFlight => return Err(Refusal::IdempotencyKeyInUse.into()),
            Claim::Mismatch => return Err(Refusal::IdempotencyKeyReused.into()),
        }
    }
    let booked = state
        .store
        .book(NewBooking {
            id: new_id(),
            user_id: user.id,
            session_id: body.session_id,
            notes,
            now,
            idempotency_key: key.clone(),
        })
        .await;
    match booked {
        Ok(booking) => Ok((StatusCode::CREATED, Json(booking)).into_response()),
        Err(err) => {
            if let Some(key) = key {
                // Let a retry try again; if even this fails, the claim lapses in a minute.
                let _ = state.store.release_idempotency_key(user.id, key).await;
            }
            Err(ApiError::or_missing("session")(err))
        }
    }
}

fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(value) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    let key = value
        .to_str()
        .ok()
        .filter(|k| (1..=255).contains(&k.len()) && k.bytes().all(|b| b.is_ascii_graphic()))
        .ok_or_else(|| {
            ApiError::bad_request(
                "invalid_idempotency_key",
                "Idempotency-Key must be 1 to 255 visible ASCII characters.",
            )
        })?;
    Ok(Some(key.to_owned()))
}

fn replay(status: u16, body: String) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    headers.insert("idempotent-replayed", HeaderValue::from_static("true"));
    response
}

pub(crate) fn checked_notes(notes: Option<String>) -> Result<Option<String>, ApiError> {
    let notes = notes.map(|n| n.trim().to_owned()).filter(|n| !n.is_empty());
    if notes
        .as_ref()
        .is_some_and(|n| n.chars().count() > NOTES_MAX)
    {
        return Err(ApiError::field("notes", "must be at most 2000 characters"));
    }
    Ok(notes)
}

#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum AsParam {
    /// Bookings the user made.
    Customer,
    /// Bookings on the user's services.
    Provider,
}

fn perspective(user: &User, as_param: Option<AsParam>) -> Perspective {
    match (as_param, user.role) {
        (Some(AsParam::Customer), _) => Perspective::Customer,
        (Some(AsParam::Provider), _) => Perspective::Provider,
        (None, Role::Provider) => Perspective::Both,
        (None, _) => Perspective::Customer,
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CurrentQuery {
    /// Narrow a provider's list to one side.
    #[serde(rename = "as")]
    #[param(rename = "as", inline)]
    pub as_param: Option<AsParam>,
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    #[param(pattern = r"^-?[0-9]{1,18}\.[0-9a-fA-F]{32}$")]
    pub cursor: Option<String>,
}

/// Current bookings: Pending and not yet ended, soonest first. A provider also sees the
/// bookings on its services, unless `as` narrows the list.
#[utoipa::path(
    get, path = "/api/user/{userID}/bookings", tag = "bookings",
    params(("userID" = Uuid, Path), CurrentQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of bookings; a next page is in `Link`",
            body = Vec<Booking>),
        AuthErrors, InputErrors, NotFound, Unavailable,
    )
)]
async fn current_bookings(
    State(state): State<AppState>,
    caller: AuthUser,
    AppPath(PathId(user_id)): AppPath<PathId>,
    OriginalUri(uri): OriginalUri,
    AppQuery(query): AppQuery<CurrentQuery>,
) -> Result<Response, ApiError> {
    let user = path_user(&state, &caller, user_id).await?;
    let (limit, after) = time_page(query.limit, query.cursor.as_deref())?;
    let filter = BookingFilter {
        user_id: user.id,
        perspective: perspective(&user, query.as_param),
        status: None,
        service_id: None,
        from: None,
        to: None,
        after,
        limit: limit + 1,
    };
    let rows = state.store.current_bookings(filter, clock::now()).await?;
    let page = Page::from_overfetch(rows, limit, |b| {
        time_cursor(b.session_details.time.start, b.id)
    });
    Ok(paged(&uri, page))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AllQuery {
    #[serde(rename = "as")]
    #[param(rename = "as", inline)]
    pub as_param: Option<AsParam>,
    #[param(inline)]
    pub status: Option<BookingStatus>,
    #[serde(rename = "serviceId")]
    #[param(rename = "serviceId")]
    pub service_id: Option<Uuid>,
    /// Sessions starting at or after.
    pub from: Option<DateTime<Utc>>,
    /// Sessions starting before.
    pub to: Option<DateTime<Utc>>,
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    #[param(pattern = r"^-?[0-9]{1,18}\.[0-9a-fA-F]{32}$")]
    pub cursor: Option<String>,
}

/// Every booking from the start, latest session first, optionally filtered.
#[utoipa::path(
    get, path = "/api/user/{userID}/bookings/all", tag = "bookings",
    params(("userID" = Uuid, Path), AllQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of bookings; a next page is in `Link`",
            body = Vec<Booking>),
        AuthErrors, InputErrors, NotFound, Unavailable,
    )
)]
async fn all_bookings(
    State(state): State<AppState>,
    caller: AuthUser,
    AppPath(PathId(user_id)): AppPath<PathId>,
    OriginalUri(uri): OriginalUri,
    AppQuery(query): AppQuery<AllQuery>,
) -> Result<Response, ApiError> {
    let user = path_user(&state, &caller, user_id).await?;
    let (limit, after) = time_page(query.limit, query.cursor.as_deref())?;
    if let (Some(from), Some(to)) = (query.from, query.to)
        && to <= from
    {
        return Err(ApiError::field("to", "must be after `from`"));
    }
    let filter = BookingFilter {
        user_id: user.id,
        perspective: perspective(&user, query.as_param),
        status: query.status,
        service_id: query.service_id,
        from: query.from,
        to: query.to,
        after,
        limit: limit + 1,
    };
    let rows = state.store.all_bookings(filter).await?;
    let page = Page::from_overfetch(rows, limit, |b| {
        time_cursor(b.session_details.time.start, b.id)
    });
    Ok(paged(&uri, page))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProviderRef {
    pub id: Uuid,
}

/// A booking with its service and provider.
#[derive(Debug, Serialize, ToSchema)]
pub struct BookingDetails {
    #[serde(flatten)]
    pub booking: Booking,
    pub service: Service,
    pub provider: ProviderRef,
}

/// One booking, with its service and provider.
#[utoipa::path(
    get, path = "/api/user/{userID}/bookings/{bookingID}", tag = "bookings",
    params(("userID" = Uuid, Path), ("bookingID" = Uuid, Path)),
    security(("bearer" = [])),
    responses((status = 200, body = BookingDetails), AuthErrors, InputErrors, NotFound, Unavailable)
)]
async fn booking_details(
    State(state): State<AppState>,
    caller: AuthUser,
    AppPath((PathId(user_id), PathId(booking_id))): AppPath<(PathId, PathId)>,
) -> Result<Json<BookingDetails>, ApiError> {
    let user = path_user(&state, &caller, user_id).await?;
    let (booking, _) = visible_booking(&state, &user, booking_id).await?;
    let service = state
        .store
        .service(booking.service_id)
        .await?
        .ok_or(ApiError::NotFound("service"))?;
    let provider = ProviderRef {
        id: booking.provider_id,
    };
    Ok(Json(BookingDetails {
        booking,
        service,
        provider,
    }))
}
