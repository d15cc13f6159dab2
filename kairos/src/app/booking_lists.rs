//! A user's bookings: the current ones, all of them (filtered), and one with its service and
//! provider.

use chrono::{DateTime, Utc};
use futures_util::FutureExt;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::{App, AppError, Caller, PageRequest, bookings::Side, tokens::Claims};
use crate::{
    domain::{
        booking::{Booking, BookingStatus},
        page::{Page, time_cursor},
        service::Service,
        user::{Role, User},
    },
    store::{
        StoreError,
        booking_lists::{self, BookingFilter, Perspective},
    },
};

/// Which of a user's bookings to list: all of them from the start, or narrowed.
#[derive(Debug, Clone, Default)]
pub struct AllBookings {
    pub side: Option<Side>,
    pub status: Option<BookingStatus>,
    pub service_id: Option<Uuid>,
    /// Sessions starting at or after.
    pub from: Option<DateTime<Utc>>,
    /// Sessions starting before.
    pub to: Option<DateTime<Utc>>,
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
    /// Which side of it the path's user is on (for the pages; not in the API's answer).
    #[serde(skip)]
    #[schema(ignore)]
    pub side: Side,
}

fn perspective(user: &User, side: Option<Side>) -> Perspective {
    match (side, user.role) {
        (Some(Side::Customer), _) => Perspective::Customer,
        (Some(Side::Provider), _) => Perspective::Provider,
        (None, Role::Provider) => Perspective::Both,
        (None, _) => Perspective::Customer,
    }
}

fn by_session_start(rows: Vec<Booking>, limit: u32) -> Page<Booking> {
    Page::from_overfetch(rows, limit, |b| {
        time_cursor(b.session_details.time.start, b.id)
    })
}

impl App {
    /// Current bookings: Pending and not yet ended, soonest first. A provider also sees the
    /// bookings on its services, unless `side` narrows the list.
    pub async fn current_bookings(
        &self,
        caller: &Caller,
        user_id: Uuid,
        side: Option<Side>,
        page: &PageRequest,
    ) -> Result<Page<Booking>, AppError> {
        let user = self.path_user(caller, user_id).await?;
        let (limit, after) = page.by_time()?;
        let filter = BookingFilter {
            after,
            limit: limit + 1,
            ..BookingFilter::of(user.id, perspective(&user, side))
        };
        let now = self.now();
        let rows = self
            .store
            .read(move |r| booking_lists::current(r, filter.clone(), now).boxed())
            .await?;
        Ok(by_session_start(rows, limit))
    }

    /// [`App::current_bookings`] for the bearer of a verified token whose login is not checked
    /// yet. A customer reading their own list has the login checked along with the read
    /// ([`Store::own_current_bookings`](crate::store::Store::own_current_bookings)): the list
    /// every customer's app asks for most, in one statement on PostgreSQL. Anyone else, and
    /// whatever that read cannot answer, goes the long way, so errors come in the same order.
    pub async fn current_bookings_for(
        &self,
        claims: &Claims,
        user_id: Uuid,
        side: Option<Side>,
        page: &PageRequest,
    ) -> Result<Page<Booking>, AppError> {
        if claims.sub == user_id
            && side.is_none()
            && let Ok((limit, after)) = page.by_time()
        {
            let filter = BookingFilter {
                after,
                limit: limit + 1,
                ..BookingFilter::of(user_id, Perspective::Customer)
            };
            let own = self
                .store
                .own_current_bookings(claims.login, filter, self.now())
                .await?;
            if let Some(rows) = own {
                return Ok(by_session_start(rows, limit));
            }
        }
        let caller = self.caller(claims).await?;
        self.current_bookings(&caller, user_id, side, page).await
    }

    /// Every booking from the start, latest session first, optionally narrowed.
    pub async fn all_bookings(
        &self,
        caller: &Caller,
        user_id: Uuid,
        which: AllBookings,
        page: &PageRequest,
    ) -> Result<Page<Booking>, AppError> {
        let user = self.path_user(caller, user_id).await?;
        let (limit, after) = page.by_time()?;
        if let (Some(from), Some(to)) = (which.from, which.to)
            && to <= from
        {
            return Err(AppError::field("to", "must be after `from`"));
        }
        let filter = BookingFilter {
            status: which.status,
            service_id: which.service_id,
            from: which.from,
            to: which.to,
            after,
            limit: limit + 1,
            ..BookingFilter::of(user.id, perspective(&user, which.side))
        };
        let rows = self
            .store
            .read(move |r| booking_lists::all(r, filter.clone()).boxed())
            .await?;
        Ok(by_session_start(rows, limit))
    }

    /// One booking of the path's user (made or provided), with its service and provider.
    pub async fn booking_details(
        &self,
        caller: &Caller,
        user_id: Uuid,
        booking_id: Uuid,
    ) -> Result<BookingDetails, AppError> {
        let user = self.path_user(caller, user_id).await?;
        let (booking, side) = self.visible_booking(&user, booking_id).await?;
        let service = self
            .service(booking.service_id)
            .await?
            .ok_or_else(|| AppError::internal(StoreError::missing("a booking's service")))?;
        let provider = ProviderRef {
            id: booking.provider_id,
        };
        Ok(BookingDetails {
            booking,
            service,
            provider,
            side,
        })
    }
}
