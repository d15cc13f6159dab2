//! Seeing services: a user's list (a provider's own with counts, a customer's subscriptions) and
//! one service's details as its provider or a customer sees it.

use super::prelude::*;
use crate::app::{ServiceDetails, ServiceSummary, SessionsShown};

pub fn router() -> OpenApiRouter<HttpState> {
    OpenApiRouter::new()
        .routes(routes!(user_services))
        .routes(routes!(service_details))
}

/// A provider's own services (every status, with counts), or the services a customer is
/// subscribed to; newest first.
#[utoipa::path(
    get, path = "/api/user/{userID}/services", tag = "services",
    params(("userID" = Uuid, Path), PageQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of services; a next page is in `Link`",
            body = Vec<ServiceSummary>),
        ReadErrors,
    )
)]
async fn user_services(
    State(state): State<HttpState>,
    caller: Caller,
    AppPath(PathId(user_id)): AppPath<PathId>,
    OriginalUri(uri): OriginalUri,
    AppQuery(page): AppQuery<PageQuery>,
) -> Result<Response, ApiError> {
    let services = state
        .app
        .user_services(&caller, user_id, &page.into())
        .await?;
    Ok(paged(&uri, services))
}

/// A provider's service with its sessions and counts; or, for a customer, a service they may
/// see (published, or one they are subscribed to) with their bookings of it.
#[utoipa::path(
    get, path = "/api/user/{userID}/services/{serviceID}", tag = "services",
    params(("userID" = Uuid, Path), ("serviceID" = Uuid, Path)),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The service as the path's user sees it", body = ServiceDetails),
        ReadErrors,
    )
)]
async fn service_details(
    State(state): State<HttpState>,
    caller: Caller,
    AppPath((PathId(user_id), PathId(service_id))): AppPath<(PathId, PathId)>,
) -> Result<Json<ServiceDetails>, ApiError> {
    let details = state
        .app
        .service_details(&caller, user_id, service_id, SessionsShown::UPCOMING)
        .await?;
    Ok(Json(details))
}
