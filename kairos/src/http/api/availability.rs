//! Working hours: a provider sets, reads or removes a service's rule; the sessions follow.

use super::prelude::*;
use crate::{
    app::{AvailabilityChange, AvailabilityInput},
    domain::availability::Availability,
};

pub fn router() -> OpenApiRouter<HttpState> {
    OpenApiRouter::new().routes(routes!(
        put_availability,
        get_availability,
        delete_availability
    ))
}

type ServicePath = AppPath<(PathId, PathId)>;

/// Set the service's working hours. Ordinary sessions are made from them in the service's time
/// zone for `horizonDays` from today (and kept that far ahead as days pass); putting the same
/// rule again makes nothing new. Future sessions an earlier rule made that no longer fit go,
/// unless they hold live bookings: those stay and are listed in `kept`.
#[utoipa::path(
    put, path = "/api/user/{userID}/services/{serviceID}/availability", tag = "availability",
    params(("userID" = uuid::Uuid, Path), ("serviceID" = uuid::Uuid, Path)),
    request_body = AvailabilityInput,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The rule, and what it did to the sessions",
            body = AvailabilityChange),
        (status = 409, description = "The service is archived (`service_archived`)",
            body = crate::http::problem::Problem, content_type = "application/problem+json"),
        WriteErrors,
    )
)]
async fn put_availability(
    State(state): State<HttpState>,
    caller: Caller,
    AppPath((PathId(user_id), PathId(service_id))): ServicePath,
    AppJson(body): AppJson<AvailabilityInput>,
) -> Result<Json<AvailabilityChange>, ApiError> {
    let change = state
        .app
        .put_availability(&caller, user_id, service_id, body)
        .await?;
    Ok(Json(change))
}

/// The service's working hours (404 when it has none).
#[utoipa::path(
    get, path = "/api/user/{userID}/services/{serviceID}/availability", tag = "availability",
    params(("userID" = uuid::Uuid, Path), ("serviceID" = uuid::Uuid, Path)),
    security(("bearer" = [])),
    responses((status = 200, description = "The rule", body = Availability), ReadErrors)
)]
async fn get_availability(
    State(state): State<HttpState>,
    caller: Caller,
    AppPath((PathId(user_id), PathId(service_id))): ServicePath,
) -> Result<Json<Availability>, ApiError> {
    Ok(Json(
        state.app.availability(&caller, user_id, service_id).await?,
    ))
}

/// Remove the working hours; the future sessions they made that hold no live booking go too.
#[utoipa::path(
    delete, path = "/api/user/{userID}/services/{serviceID}/availability", tag = "availability",
    params(("userID" = uuid::Uuid, Path), ("serviceID" = uuid::Uuid, Path)),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "What went and what stayed", body = AvailabilityChange),
        ReadErrors,
    )
)]
async fn delete_availability(
    State(state): State<HttpState>,
    caller: Caller,
    AppPath((PathId(user_id), PathId(service_id))): ServicePath,
) -> Result<Json<AvailabilityChange>, ApiError> {
    let change = state
        .app
        .remove_availability(&caller, user_id, service_id)
        .await?;
    Ok(Json(change))
}
