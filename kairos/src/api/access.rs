//! Who may act on which path and object: the authorization rules every handler applies.
//!
//! `/api/user/{userID}/...` is about that user: the caller must be them or an admin. Objects
//! reached through that path must belong to that user (as booker or as provider); anything else
//! is 404, whether or not it exists, so ids cannot be probed.

use uuid::Uuid;

use crate::{
    auth::AuthUser,
    domain::{
        booking::{Booking, CancelledBy},
        page::{TimeCursor, checked_limit, parse_time_cursor},
        service::Service,
        user::{Role, User},
    },
    error::ApiError,
    state::AppState,
};

/// The user a `/api/user/{userID}/...` path names, if the caller may act for them.
pub async fn path_user(
    state: &AppState,
    caller: &AuthUser,
    user_id: Uuid,
) -> Result<User, ApiError> {
    caller.may_act_for(user_id)?;
    if caller.id() == user_id {
        return Ok(caller.user.clone());
    }
    state
        .store
        .user(user_id)
        .await?
        .ok_or(ApiError::NotFound("user"))
}

/// Like [`path_user`], for routes only providers have: anyone else gets 403.
pub async fn provider_path(
    state: &AppState,
    caller: &AuthUser,
    user_id: Uuid,
) -> Result<User, ApiError> {
    let user = path_user(state, caller, user_id).await?;
    if user.role == Role::Provider {
        Ok(user)
    } else {
        Err(ApiError::Forbidden)
    }
}

/// A service of this provider; anyone else's is 404.
pub async fn owned_service(
    state: &AppState,
    provider: &User,
    service_id: Uuid,
) -> Result<Service, ApiError> {
    match state.store.service(service_id).await? {
        Some(service) if service.provider_id == provider.id => Ok(service),
        _ => Err(ApiError::NotFound("service")),
    }
}

/// Which side of a booking the path's user is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Customer,
    Provider,
}

/// A booking the path's user made or provides; anyone else's is 404.
pub async fn visible_booking(
    state: &AppState,
    user: &User,
    booking_id: Uuid,
) -> Result<(Booking, Side), ApiError> {
    match state.store.booking(booking_id).await? {
        Some(booking) if booking.user_id == user.id => Ok((booking, Side::Customer)),
        Some(booking) if booking.provider_id == user.id => Ok((booking, Side::Provider)),
        _ => Err(ApiError::NotFound("booking")),
    }
}

/// Who a change is recorded as made by: an admin acting for someone else is the admin; else
/// whichever side of the booking the caller is on.
pub fn acting_as(caller: &AuthUser, path_user: &User, side: Side) -> CancelledBy {
    if caller.id() != path_user.id {
        return CancelledBy::Admin;
    }
    match side {
        Side::Customer => CancelledBy::Customer,
        Side::Provider => CancelledBy::Provider,
    }
}

/// The limit and time cursor of a time-ordered list.
pub fn time_page(
    limit: Option<u32>,
    cursor: Option<&str>,
) -> Result<(u32, Option<TimeCursor>), ApiError> {
    let limit = checked_limit(limit).map_err(|message| ApiError::field("limit", message))?;
    let after = cursor
        .map(|c| parse_time_cursor(c).ok_or_else(|| ApiError::field("cursor", "is not a cursor")))
        .transpose()?;
    Ok((limit, after))
}

/// The limit and id cursor of an id-ordered list.
pub fn id_page(limit: Option<u32>, cursor: Option<&str>) -> Result<(u32, Option<Uuid>), ApiError> {
    let limit = checked_limit(limit).map_err(|message| ApiError::field("limit", message))?;
    let after = cursor
        .map(|c| {
            crate::domain::id::parse_id(c)
                .ok_or_else(|| ApiError::field("cursor", "is not a cursor"))
        })
        .transpose()?;
    Ok((limit, after))
}
