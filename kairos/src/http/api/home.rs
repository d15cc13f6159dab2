//! A user's home page data (`GET /api/user/{userID}`): who they are, their bookings and services.

use super::prelude::*;
use crate::app::Home;

pub fn router() -> OpenApiRouter<HttpState> {
    OpenApiRouter::new().routes(routes!(home))
}

/// The home page's data: the user, upcoming bookings, counts by status, and services.
#[utoipa::path(
    get, path = "/api/user/{userID}", tag = "home",
    params(("userID" = uuid::Uuid, Path)),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The user's home page data", body = Home),
        ReadErrors,
    )
)]
async fn home(
    State(state): State<HttpState>,
    caller: Caller,
    AppPath(PathId(user_id)): AppPath<PathId>,
) -> Result<Json<Home>, ApiError> {
    Ok(Json(state.app.home(&caller, user_id).await?))
}
