//! Changing a booking: cancel it, move it to another session, edit its notes, or (provider)
//! mark it Completed.

use axum::{
    Json,
    body::Bytes,
    extract::State,
    http::{HeaderMap, StatusCode},
};
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use crate::{
    api::{
        access::{Side, acting_as, path_user, visible_booking},
        bookings::checked_notes,
        docs::{AuthErrors, BodyErrors, InputErrors, NotFound, Unavailable},
        extract::{AppJson, AppPath, AppQuery, optional_json},
        services::ReasonQuery,
    },
    auth::AuthUser,
    domain::{
        booking::{Booking, BookingStatus, CancelledBy, REASON_MAX},
        clock,
        id::PathId,
    },
    error::ApiError,
    state::AppState,
    store::{BookingChange, StoreError},
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(update_booking_patch, cancel_booking_delete))
        .routes(routes!(cancel_booking_post))
        .routes(routes!(update_booking_post))
}

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
    params(("userID" = Uuid, Path), ("bookingID" = Uuid, Path)),
    request_body(content = Option<CancelRequest>, description = "May be left out"),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The booking, Cancelled", body = Booking),
        (status = 409, description = "The booking is completed (`booking_completed`)",
            body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Inside the cancellation notice (`cancellation_notice`)",
            body = crate::error::Problem, content_type = "application/problem+json"),
        BodyErrors, AuthErrors, NotFound, Unavailable,
    )
)]
async fn cancel_booking_post(
    State(state): State<AppState>,
    caller: AuthUser,
    AppPath((PathId(user_id), PathId(booking_id))): AppPath<(PathId, PathId)>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Booking>, ApiError> {
    let request: CancelRequest = optional_json(&headers, &body)?;
    cancel(&state, &caller, user_id, booking_id, request.reason)
        .await
        .map(Json)
}

/// The same as `POST .../cancel`, answering 204.
#[utoipa::path(
    delete, path = "/api/user/{userID}/bookings/{bookingID}", tag = "bookings",
    params(("userID" = Uuid, Path), ("bookingID" = Uuid, Path), ReasonQuery),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Cancelled"),
        (status = 409, description = "The booking is completed (`booking_completed`)",
            body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Inside the cancellation notice (`cancellation_notice`)",
            body = crate::error::Problem, content_type = "application/problem+json"),
        AuthErrors, InputErrors, NotFound, Unavailable,
    )
)]
async fn cancel_booking_delete(
    State(state): State<AppState>,
    caller: AuthUser,
    AppPath((PathId(user_id), PathId(booking_id))): AppPath<(PathId, PathId)>,
    AppQuery(query): AppQuery<ReasonQuery>,
) -> Result<StatusCode, ApiError> {
    cancel(&state, &caller, user_id, booking_id, query.reason).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn cancel(
    state: &AppState,
    caller: &AuthUser,
    user_id: Uuid,
    booking_id: Uuid,
    reason: Option<String>,
) -> Result<Booking, ApiError> {
    let reason = reason
        .map(|r| r.trim().to_owned())
        .filter(|r| !r.is_empty());
    if reason
        .as_ref()
        .is_some_and(|r| r.chars().count() > REASON_MAX)
    {
        return Err(ApiError::field("reason", "must be at most 500 characters"));
    }
    let user = path_user(state, caller, user_id).await?;
    let (booking, side) = visible_booking(state, &user, booking_id).await?;
    let by = acting_as(caller, &user, side);
    let booking = state
        .store
        .cancel_booking(
            booking.id,
            by,
            reason,
            by == CancelledBy::Customer,
            clock::now(),
        )
        .await
        .map_err(ApiError::or_missing("booking"))?;
    Ok(booking)
}

/// A customer moves the booking (`sessionId`) and/or edits `notes`; the provider marks it
/// `status: "Completed"`. The document gives the two shapes as `oneOf`; the other side's
/// fields are a 403 (`provider_only`, `customer_only`).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct BookingUpdate {
    /// Customer: another session of the same service.
    pub session_id: Option<Uuid>,
    /// Customer: new notes (at most 2000 characters); an empty string clears them.
    #[schema(max_length = 2000)]
    pub notes: Option<String>,
    /// Provider: `Completed`.
    pub status: Option<BookingStatus>,
}

/// Move a booking to another session of the same service (the new place is taken and the old
/// one freed, or nothing changes), edit its notes, or (provider) mark it Completed.
#[utoipa::path(
    patch, path = "/api/user/{userID}/bookings/{bookingID}", tag = "bookings",
    params(("userID" = Uuid, Path), ("bookingID" = Uuid, Path)),
    request_body = BookingUpdate,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The booking as it is now", body = Booking),
        (status = 409, description = "The target session is full (`session_full`), already \
            booked (`already_booked`), or the booking is final (`booking_completed`, \
            `booking_cancelled`)", body = crate::error::Problem,
            content_type = "application/problem+json"),
        (status = 422, description = "Another service's session (`different_service`), or \
            inside the cancellation or booking notice",
            body = crate::error::Problem, content_type = "application/problem+json"),
        BodyErrors, AuthErrors, NotFound, Unavailable,
    )
)]
async fn update_booking_patch(
    State(state): State<AppState>,
    caller: AuthUser,
    AppPath((PathId(user_id), PathId(booking_id))): AppPath<(PathId, PathId)>,
    AppJson(body): AppJson<BookingUpdate>,
) -> Result<Json<Booking>, ApiError> {
    update_booking(&state, &caller, user_id, booking_id, body)
        .await
        .map(Json)
}

/// The seed's form of the same update.
#[utoipa::path(
    post, path = "/api/user/{userID}/bookings/{bookingID}/update", tag = "bookings",
    params(("userID" = Uuid, Path), ("bookingID" = Uuid, Path)),
    request_body = BookingUpdate,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The booking as it is now", body = Booking),
        (status = 409, description = "The target session is full, already booked, or the \
            booking is final", body = crate::error::Problem,
            content_type = "application/problem+json"),
        (status = 422, description = "Another service's session, or inside a notice", body = crate::error::Problem,
            content_type = "application/problem+json"),
        BodyErrors, AuthErrors, NotFound, Unavailable,
    )
)]
async fn update_booking_post(
    State(state): State<AppState>,
    caller: AuthUser,
    AppPath((PathId(user_id), PathId(booking_id))): AppPath<(PathId, PathId)>,
    AppJson(body): AppJson<BookingUpdate>,
) -> Result<Json<Booking>, ApiError> {
    update_booking(&state, &caller, user_id, booking_id, body)
        .await
        .map(Json)
}

pub async fn update_booking(
    state: &AppState,
    caller: &AuthUser,
    user_id: Uuid,
    booking_id: Uuid,
    body: BookingUpdate,
) -> Result<Booking, ApiError> {
    let user = path_user(state, caller, user_id).await?;
    let (booking, side) = visible_booking(state, &user, booking_id).await?;
    let now = clock::now();
    let updated = match side {
        Side::Customer => {
            if body.status.is_some() {
                return Err(ApiError::NotAllowed {
                    code: "provider_only",
                    detail: "Only the provider marks a booking Completed; to cancel, use cancel."
                        .to_owned(),
                });
            }
            if body.session_id.is_none() && body.notes.is_none() {
                return Err(ApiError::field(
                    "body",
                    "give a `sessionId`, `notes`, or both",
                ));
            }
            let notes = body.notes.map(|n| checked_notes(Some(n))).transpose()?;
            let change = BookingChange {
                session_id: body.session_id,
                notes,
                hold_to_notice: acting_as(caller, &user, side) == CancelledBy::Customer,
            };
            state.store.change_booking(booking.id, change, now).await
        }
        Side::Provider => {
            if body.session_id.is_some() || body.notes.is_some() {
                return Err(ApiError::NotAllowed {
                    code: "customer_only",
                    detail: "Only the customer moves a booking or edits its notes.".to_owned(),
                });
            }
            match body.status {
                Some(BookingStatus::Completed) => {
                    state.store.complete_booking(booking.id, now).await
                }
                _ => {
                    return Err(ApiError::field(
                        "status",
                        "a provider can set it to Completed only; to cancel, use cancel",
                    ));
                }
            }
        }
    };
    updated.map_err(|err| match err {
        // Like booking an unknown session: the session named is not there.
        StoreError::NotFound => ApiError::NotFound("session"),
        other => other.into(),
    })
}
