//! Changing a booking: cancel it, move it to another session, edit its notes, or (provider)
//! mark it Completed.

use axum::{body::Bytes, routing::post};
use utoipa::openapi::HttpMethod;

use super::{alias, prelude::*, services::ReasonQuery};
use crate::{app::BookingUpdate, domain::booking::Booking, http::extract::optional_json};

const BOOKING: &str = "/api/user/{userID}/bookings/{bookingID}";

pub fn router() -> OpenApiRouter<HttpState> {
    let router = OpenApiRouter::new()
        .routes(routes!(update_booking, cancel_booking_delete))
        .routes(routes!(cancel_booking));
    alias(
        router,
        (HttpMethod::Patch, BOOKING),
        "/api/user/{userID}/bookings/{bookingID}/update",
        "update_booking_post",
        post(update_booking),
    )
}

/// A path to one booking: whose path it is, and the booking.
type BookingPath = AppPath<(PathId, PathId)>;

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CancelRequest {
    /// Why (at most 500 characters); kept on the booking.
    #[schema(max_length = 500)]
    pub reason: Option<String>,
}

/// Cancel a booking; its place is free again at once. Customers must respect the service's
/// cancellation notice; the provider may cancel any pending booking. Cancelling a cancelled
/// booking changes nothing.
#[utoipa::path(
    post, path = "/api/user/{userID}/bookings/{bookingID}/cancel", tag = "bookings",
    operation_id = "cancel_booking_post",
    params(("userID" = Uuid, Path), ("bookingID" = Uuid, Path)),
    request_body(content = Option<CancelRequest>, description = "May be left out"),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The booking, Cancelled", body = Booking),
        (status = 409, description = "The booking is completed (`booking_completed`)",
            body = crate::http::problem::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Inside the cancellation notice (`cancellation_notice`)",
            body = crate::http::problem::Problem, content_type = "application/problem+json"),
        WriteErrors,
    )
)]
async fn cancel_booking(
    State(state): State<HttpState>,
    caller: Caller,
    AppPath((PathId(user_id), PathId(booking_id))): BookingPath,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Booking>, ApiError> {
    let request: CancelRequest = optional_json(&headers, &body)?;
    let booking = state
        .app
        .cancel_booking(&caller, user_id, booking_id, request.reason)
        .await?;
    Ok(Json(booking))
}

/// The same as `POST .../cancel`, answering 204.
#[utoipa::path(
    delete, path = "/api/user/{userID}/bookings/{bookingID}", tag = "bookings",
    params(("userID" = Uuid, Path), ("bookingID" = Uuid, Path), ReasonQuery),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Cancelled"),
        (status = 409, description = "The booking is completed (`booking_completed`)",
            body = crate::http::problem::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Inside the cancellation notice (`cancellation_notice`)",
            body = crate::http::problem::Problem, content_type = "application/problem+json"),
        ReadErrors,
    )
)]
async fn cancel_booking_delete(
    State(state): State<HttpState>,
    caller: Caller,
    AppPath((PathId(user_id), PathId(booking_id))): BookingPath,
    AppQuery(query): AppQuery<ReasonQuery>,
) -> Result<StatusCode, ApiError> {
    state
        .app
        .cancel_booking(&caller, user_id, booking_id, query.reason)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Move a booking to another session of the same service (the new place is taken and the old
/// one freed, or nothing changes), edit its notes, or (provider) mark it Completed.
/// `POST .../update` is the seed's form of the same.
#[utoipa::path(
    patch, path = "/api/user/{userID}/bookings/{bookingID}", tag = "bookings",
    operation_id = "update_booking_patch",
    params(("userID" = Uuid, Path), ("bookingID" = Uuid, Path)),
    request_body = BookingUpdate,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The booking as it is now", body = Booking),
        (status = 409, description = "The target session is full (`session_full`), already \
            booked (`already_booked`), or the booking is final (`booking_completed`, \
            `booking_cancelled`)", body = crate::http::problem::Problem,
            content_type = "application/problem+json"),
        (status = 422, description = "Another service's session (`different_service`), or \
            inside the cancellation or booking notice",
            body = crate::http::problem::Problem, content_type = "application/problem+json"),
        WriteErrors,
    )
)]
async fn update_booking(
    State(state): State<HttpState>,
    caller: Caller,
    AppPath((PathId(user_id), PathId(booking_id))): BookingPath,
    AppJson(body): AppJson<BookingUpdate>,
) -> Result<Json<Booking>, ApiError> {
    let booking = state
        .app
        .update_booking(&caller, user_id, booking_id, body)
        .await?;
    Ok(Json(booking))
}
