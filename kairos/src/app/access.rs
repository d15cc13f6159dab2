//! Who may act on which user's path and object: the authorization rules every use case applies.
//!
//! A request about `/user/{userID}/...` is about that user: the caller must be them or an admin.
//! Objects reached through that path must belong to that user (as booker or as provider);
//! anything else is "not found", whether or not it exists, so ids cannot be probed.

use futures_util::FutureExt;
use uuid::Uuid;

use super::{App, AppError, Caller, bookings::Side};
use crate::{
    domain::{
        booking::{Booking, CancelledBy},
        service::Service,
        user::{Role, User},
    },
    store::{accounts, booking_rows, services},
};

impl App {
    /// The user a path names, if the caller may act for them.
    pub async fn user(&self, caller: &Caller, user_id: Uuid) -> Result<User, AppError> {
        self.path_user(caller, user_id).await
    }

    /// A service of the path's provider, as it is now (a page that reads times in its zone).
    pub async fn own_service(
        &self,
        caller: &Caller,
        user_id: Uuid,
        service_id: Uuid,
    ) -> Result<Service, AppError> {
        let provider = self.path_provider(caller, user_id).await?;
        self.owned_service(&provider, service_id).await
    }

    /// The user a request's path names, if the caller may act for them.
    pub(super) async fn path_user(&self, caller: &Caller, user_id: Uuid) -> Result<User, AppError> {
        if caller.id() == user_id {
            return Ok(caller.user.clone());
        }
        if !caller.is_admin() {
            return Err(AppError::Forbidden);
        }
        self.store
            .read(move |r| accounts::by_id(r, user_id).boxed())
            .await?
            .ok_or(AppError::NotFound("user"))
    }

    /// Like [`App::path_user`], for what only providers have: anyone else is forbidden.
    pub(super) async fn path_provider(
        &self,
        caller: &Caller,
        user_id: Uuid,
    ) -> Result<User, AppError> {
        let user = self.path_user(caller, user_id).await?;
        if user.role == Role::Provider {
            Ok(user)
        } else {
            Err(AppError::Forbidden)
        }
    }

    /// A service of this provider; anyone else's is not found.
    pub(super) async fn owned_service(
        &self,
        provider: &User,
        service_id: Uuid,
    ) -> Result<Service, AppError> {
        match self.service(service_id).await? {
            Some(service) if service.provider_id == provider.id => Ok(service),
            _ => Err(AppError::NotFound("service")),
        }
    }

    pub(super) async fn service(&self, service_id: Uuid) -> Result<Option<Service>, AppError> {
        Ok(self
            .store
            .read(move |r| services::by_id(r, service_id).boxed())
            .await?)
    }

    /// A booking the path's user made or provides, and which side of it they are on; anyone
    /// else's is not found.
    pub(super) async fn visible_booking(
        &self,
        user: &User,
        booking_id: Uuid,
    ) -> Result<(Booking, Side), AppError> {
        let found = self
            .store
            .read(move |r| booking_rows::by_id(r, booking_id).boxed())
            .await?;
        match found {
            Some(booking) if booking.user_id == user.id => Ok((booking, Side::Customer)),
            Some(booking) if booking.provider_id == user.id => Ok((booking, Side::Provider)),
            _ => Err(AppError::NotFound("booking")),
        }
    }
}

/// Only admins. (The API asks this at the door of its admin routes too, so a refusal comes
/// before anything about the request's body.)
pub fn require_admin(caller: &Caller) -> Result<(), AppError> {
    if caller.is_admin() {
        Ok(())
    } else {
        Err(AppError::Forbidden)
    }
}

/// Who a change is recorded as made by: an admin acting for someone else is the admin; else
/// whichever side of the booking the caller is on.
pub(super) fn acting_as(caller: &Caller, path_user: &User, side: Side) -> CancelledBy {
    if caller.id() != path_user.id {
        return CancelledBy::Admin;
    }
    match side {
        Side::Customer => CancelledBy::Customer,
        Side::Provider => CancelledBy::Provider,
    }
}
