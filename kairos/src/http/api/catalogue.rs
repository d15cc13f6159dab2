//! The public catalogue: published services, and their sessions with the places left. No
//! sign-in needed.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::prelude::*;
use crate::{
    app::TimeRange,
    domain::{service::Service, session::Session},
};

pub fn router() -> OpenApiRouter<HttpState> {
    OpenApiRouter::new()
        .routes(routes!(catalogue))
        .routes(routes!(public_service))
        .routes(routes!(public_sessions))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CatalogueQuery {
    /// Words to find in the name or description (case-insensitive); at most 100 characters.
    #[param(max_length = 100)]
    pub q: Option<String>,
    /// Only this provider's services.
    #[serde(rename = "providerId")]
    #[param(rename = "providerId")]
    pub provider_id: Option<Uuid>,
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    #[param(pattern = r"^[0-9a-fA-F]{32}$")]
    pub cursor: Option<String>,
}

/// Published services, newest first.
#[utoipa::path(
    get, path = "/api/services", tag = "catalogue",
    params(CatalogueQuery),
    responses(
        (status = 200, description = "A page of services; a next page is in `Link`",
            body = Vec<Service>),
        InputErrors, Unavailable,
    )
)]
async fn catalogue(
    State(state): State<HttpState>,
    OriginalUri(uri): OriginalUri,
    AppQuery(query): AppQuery<CatalogueQuery>,
) -> Result<Response, ApiError> {
    let page = PageRequest {
        limit: query.limit,
        cursor: query.cursor,
    };
    let services = state
        .app
        .catalogue(query.q, query.provider_id, &page)
        .await?;
    Ok(paged(&uri, services))
}

/// A published service.
#[utoipa::path(
    get, path = "/api/services/{serviceID}", tag = "catalogue",
    params(("serviceID" = Uuid, Path)),
    responses(
        (status = 200, description = "The service", body = Service),
        InputErrors, NotFound, Unavailable,
    )
)]
async fn public_service(
    State(state): State<HttpState>,
    AppPath(PathId(service_id)): AppPath<PathId>,
) -> Result<Json<Service>, ApiError> {
    Ok(Json(state.app.published_service(service_id).await?))
}

/// A time range: `from` (default now) to `to` (default 30 days after `from`), at most a year.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RangeQuery {
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    #[param(pattern = r"^-?[0-9]{1,18}\.[0-9a-fA-F]{32}$")]
    pub cursor: Option<String>,
}

impl RangeQuery {
    /// The range and the page asked for.
    pub fn into_parts(self) -> (TimeRange, PageRequest) {
        let range = TimeRange {
            from: self.from,
            to: self.to,
        };
        let page = PageRequest {
            limit: self.limit,
            cursor: self.cursor,
        };
        (range, page)
    }
}

/// A published service's scheduled sessions starting in the range, soonest first, with
/// `booked` and `spotsLeft`.
#[utoipa::path(
    get, path = "/api/services/{serviceID}/sessions", tag = "catalogue",
    params(("serviceID" = Uuid, Path), RangeQuery),
    responses(
        (status = 200, description = "A page of sessions; a next page is in `Link`",
            body = Vec<Session>),
        InputErrors, NotFound, Unavailable,
    )
)]
async fn public_sessions(
    State(state): State<HttpState>,
    AppPath(PathId(service_id)): AppPath<PathId>,
    OriginalUri(uri): OriginalUri,
    AppQuery(query): AppQuery<RangeQuery>,
) -> Result<Response, ApiError> {
    let (range, page) = query.into_parts();
    let sessions = state
        .app
        .published_sessions(service_id, range, &page)
        .await?;
    Ok(paged(&uri, sessions))
}
