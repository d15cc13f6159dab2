//! A user's home page: who they are, their bookings and services at a glance.

use futures_util::FutureExt;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::{App, AppError, Caller, ServiceSummary};
use crate::{
    domain::{
        booking::{Booking, BookingCounts},
        user::{Role, User},
    },
    store::booking_lists::{self, BookingFilter, Perspective},
};

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Home {
    pub user: User,
    /// Pending bookings that have not ended, soonest first (up to 10): the user's own, or for a
    /// provider, the ones on its services.
    pub upcoming_bookings: Vec<Booking>,
    /// The same bookings' counts, by status, from the start.
    pub counts: BookingCounts,
    /// Services the user is subscribed to (customers) or runs (providers, with counts); up to 50.
    pub services: Vec<ServiceSummary>,
}

const UPCOMING: u32 = 10;
const SERVICES: u32 = 50;

impl App {
    /// What the path user's home page shows: the user, upcoming bookings, counts by status,
    /// and services.
    pub async fn home(&self, caller: &Caller, user_id: Uuid) -> Result<Home, AppError> {
        let user = self.path_user(caller, user_id).await?;
        let perspective = if user.role == Role::Provider {
            Perspective::Provider
        } else {
            Perspective::Customer
        };
        let filter = BookingFilter {
            limit: UPCOMING,
            ..BookingFilter::of(user.id, perspective)
        };
        let (user_id, now) = (user.id, self.now());
        let (upcoming_bookings, counts) = self
            .store
            .read(move |r| {
                let filter = filter.clone();
                async move {
                    let upcoming = booking_lists::current(r, filter, now).await?;
                    let counts = booking_lists::counts(r, user_id, perspective).await?;
                    Ok((upcoming, counts))
                }
                .boxed()
            })
            .await?;
        let services = self.services_of(&user, None, SERVICES).await?;
        Ok(Home {
            user,
            upcoming_bookings,
            counts,
            services,
        })
    }
}
