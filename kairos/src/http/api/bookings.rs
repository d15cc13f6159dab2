//! A user's bookings: book a session, list them, see one. (Changing one is `booking_changes`.)

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::prelude::*;
use crate::{
    app::{AllBookings, BookRequest, BookingDetails, Side},
    domain::booking::{Booking, BookingStatus},
};

pub fn router() -> OpenApiRouter<HttpState> {
    OpenApiRouter::new()
        .routes(routes!(book))
        .routes(routes!(current_bookings))
        .routes(routes!(all_bookings))
        .routes(routes!(booking_details))
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
            handled (`idempotency_key_in_use`)", body = crate::http::problem::Problem,
            content_type = "application/problem+json"),
        (status = 422, description = "The session has started (`session_started`), is too soon \
            (`booking_notice`) or its service is not published (`service_not_published`); or \
            the key was used with another body (`idempotency_key_reused`)",
            body = crate::http::problem::Problem, content_type = "application/problem+json"),
        WriteErrors,
        (status = 403, description = "Not the caller's own path, or the session is of the \
            caller's own service (`own_service`)", body = crate::http::problem::Problem,
            content_type = "application/problem+json"),
    )
)]
async fn book(
    State(state): State<HttpState>,
    caller: Caller,
    AppPath(PathId(user_id)): AppPath<PathId>,
    headers: HeaderMap,
    AppJson(body): AppJson<BookRequest>,
) -> Result<Response, ApiError> {
    let key = idempotency_key(&headers)?;
    let booked = state.app.book(&caller, user_id, body, key).await?;
    let mut response = (StatusCode::CREATED, Json(booked.booking)).into_response();
    if booked.replayed {
        response
            .headers_mut()
            .insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    Ok(response)
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

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CurrentQuery {
    /// Narrow a provider's list to one side.
    #[serde(rename = "as")]
    #[param(rename = "as", inline)]
    pub side: Option<Side>,
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
        ReadErrors,
    )
)]
async fn current_bookings(
    State(state): State<HttpState>,
    Bearer(claims): Bearer,
    path: Result<AppPath<PathId>, ApiError>,
    OriginalUri(uri): OriginalUri,
    query: Result<AppQuery<CurrentQuery>, ApiError>,
) -> Result<Response, ApiError> {
    let (user_id, query) = match (path, query) {
        (Ok(AppPath(PathId(user_id))), Ok(AppQuery(query))) => (user_id, query),
        // As on every route: an ended login is refused before anything about the request.
        (Err(refusal), _) | (_, Err(refusal)) => {
            state.app.caller(&claims).await?;
            return Err(refusal);
        }
    };
    let page = PageRequest {
        limit: query.limit,
        cursor: query.cursor,
    };
    let bookings = state
        .app
        .current_bookings_for(&claims, user_id, query.side, &page)
        .await?;
    Ok(paged(&uri, bookings))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AllQuery {
    #[serde(rename = "as")]
    #[param(rename = "as", inline)]
    pub side: Option<Side>,
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
        ReadErrors,
    )
)]
async fn all_bookings(
    State(state): State<HttpState>,
    caller: Caller,
    AppPath(PathId(user_id)): AppPath<PathId>,
    OriginalUri(uri): OriginalUri,
    AppQuery(query): AppQuery<AllQuery>,
) -> Result<Response, ApiError> {
    let which = AllBookings {
        side: query.side,
        status: query.status,
        service_id: query.service_id,
        from: query.from,
        to: query.to,
    };
    let page = PageRequest {
        limit: query.limit,
        cursor: query.cursor,
    };
    let bookings = state
        .app
        .all_bookings(&caller, user_id, which, &page)
        .await?;
    Ok(paged(&uri, bookings))
}

/// One booking, with its service and provider.
#[utoipa::path(
    get, path = "/api/user/{userID}/bookings/{bookingID}", tag = "bookings",
    params(("userID" = Uuid, Path), ("bookingID" = Uuid, Path)),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The booking, its service and provider", body = BookingDetails),
        ReadErrors,
    )
)]
async fn booking_details(
    State(state): State<HttpState>,
    caller: Caller,
    AppPath((PathId(user_id), PathId(booking_id))): AppPath<(PathId, PathId)>,
) -> Result<Json<BookingDetails>, ApiError> {
    let details = state
        .app
        .booking_details(&caller, user_id, booking_id)
        .await?;
    Ok(Json(details))
}
