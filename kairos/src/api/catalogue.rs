//! The public catalogue: published services, and their sessions with the places left. No
//! sign-in needed.

use axum::{
    Json,
    extract::{OriginalUri, State},
    response::Response,
};
use chrono::{DateTime, Duration, Utc};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use crate::{
    api::{
        access::{id_page, time_page},
        docs::{InputErrors, NotFound, Unavailable},
        extract::{AppPath, AppQuery},
        paged,
    },
    domain::{
        clock,
        id::PathId,
        page::{Page, time_cursor},
        service::{Service, ServiceStatus},
        session::Session,
    },
    error::ApiError,
    state::AppState,
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(catalogue))
        .routes(routes!(public_service))
        .routes(routes!(public_sessions))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CatalogueQuery {
    /// Words to find in the name or description (case-insensitive).
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
    State(state): State<AppState>,
    OriginalUri(uri): OriginalUri,
    AppQuery(query): AppQuery<CatalogueQuery>,
) -> Result<Response, ApiError> {
    let (limit, after) = id_page(query.limit, query.cursor.as_deref())?;
    let search = query
        .q
        .map(|q| q.trim().to_owned())
        .filter(|q| !q.is_empty());
    if search.as_ref().is_some_and(|q| q.chars().count() > 100) {
        return Err(ApiError::field("q", "must be at most 100 characters"));
    }
    let rows = state
        .store
        .catalogue(search, query.provider_id, after, limit + 1)
        .await?;
    let page = Page::from_overfetch(rows, limit, |s| s.id.simple().to_string());
    Ok(paged(&uri, page))
}

/// A published service.
#[utoipa::path(
    get, path = "/api/services/{serviceID}", tag = "catalogue",
    params(("serviceID" = Uuid, Path)),
    responses((status = 200, body = Service), InputErrors, NotFound, Unavailable)
)]
async fn public_service(
    State(state): State<AppState>,
    AppPath(PathId(service_id)): AppPath<PathId>,
) -> Result<Json<Service>, ApiError> {
    published(&state, service_id).await.map(Json)
}

async fn published(state: &AppState, service_id: Uuid) -> Result<Service, ApiError> {
    match state.store.service(service_id).await? {
        Some(service) if service.status == ServiceStatus::Published => Ok(service),
        _ => Err(ApiError::NotFound("service")),
    }
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

pub const MAX_RANGE_DAYS: i64 = 366;

impl RangeQuery {
    /// The range asked for, checked.
    pub fn range(&self) -> Result<(DateTime<Utc>, DateTime<Utc>), ApiError> {
        let from = self.from.unwrap_or_else(clock::now);
        let to = self.to.unwrap_or(from + Duration::days(30));
        if to <= from {
            return Err(ApiError::field("to", "must be after `from`"));
        }
        if to - from > Duration::days(MAX_RANGE_DAYS) {
            return Err(ApiError::field("to", "must be within a year of `from`"));
        }
        Ok((from, to))
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
    State(state): State<AppState>,
    AppPath(PathId(service_id)): AppPath<PathId>,
    OriginalUri(uri): OriginalUri,
    AppQuery(query): AppQuery<RangeQuery>,
) -> Result<Response, ApiError> {
    let service = published(&state, service_id).await?;
    let (from, to) = query.range()?;
    let (limit, after) = time_page(query.limit, query.cursor.as_deref())?;
    let rows = state
        .store
        .service_sessions(service.id, from, to, true, after, limit + 1)
        .await?;
    let page = Page::from_overfetch(rows, limit, |s| time_cursor(s.starts_at, s.id));
    Ok(paged(&uri, page))
}
