//! A user's home page data (`GET /api/user/{userID}`): who they are, their bookings and services.

use axum::{Json, extract::State};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    api::{
        access::path_user,
        docs::{AuthErrors, InputErrors, NotFound, Unavailable},
        extract::AppPath,
        service_views::{ServiceSummary, services_of},
    },
    auth::AuthUser,
    domain::{
        booking::{Booking, BookingCounts},
        clock,
        id::PathId,
        user::{Role, User},
    },
    error::ApiError,
    state::AppState,
    store::{BookingFilter, Perspective},
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(home))
}

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

/// The home page's data: the user, upcoming bookings, counts by status, and services.
#[utoipa::path(
    get, path = "/api/user/{userID}", tag = "home",
    params(("userID" = uuid::Uuid, Path)),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The user's home page data", body = Home),
        AuthErrors, InputErrors, NotFound, Unavailable,
    )
)]
async fn home(
    State(state): State<AppState>,
    caller: AuthUser,
    AppPath(PathId(user_id)): AppPath<PathId>,
) -> Result<Json<Home>, ApiError> {
    let user = path_user(&state, &caller, user_id).await?;
    home_of(&state, user).await.map(Json)
}

/// What a user's home page shows.
pub async fn home_of(state: &AppState, user: User) -> Result<Home, ApiError> {
    let perspective = if user.role == Role::Provider {
        Perspective::Provider
    } else {
        Perspective::Customer
    };
    let upcoming_bookings = state
        .store
        .current_bookings(
            BookingFilter {
                user_id: user.id,
                perspective,
                status: None,
                service_id: None,
                from: None,
                to: None,
                after: None,
                limit: UPCOMING,
            },
            clock::now(),
        )
        .await?;
    let counts = state.store.booking_counts(user.id, perspective).await?;
    let services = services_of(state, &user, None, SERVICES).await?;
    Ok(Home {
        user,
        upcoming_bookings,
        counts,
        services,
    })
}
