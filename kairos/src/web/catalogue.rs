//! `/services` and `/services/{id}`: the catalogue, a service's sessions with places left, and
//! the booking form.

use askama::Template;
use askama_web::WebTemplate;
use axum::{
    Router,
    extract::{Query, State},
    http::StatusCode,
    response::{IntoResponse, Response},
    routing::get,
};
use chrono::Duration;
use serde::Deserialize;
use uuid::Uuid;

use super::{
    WebError,
    session::{MaybeViewer, Nav, Viewer},
    view::{ServiceView, SessionView},
};
use crate::{
    api::extract::AppPath,
    domain::{clock, id::PathId, service::ServiceStatus},
    error::ApiError,
    state::AppState,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/services", get(catalogue))
        .route("/services/{serviceID}", get(service_page))
}

#[derive(Template, WebTemplate)]
#[template(path = "catalogue.html")]
struct CataloguePage {
    nav: Nav,
    q: String,
    services: Vec<ServiceView>,
}

#[derive(Debug, Deserialize)]
struct SearchQuery {
    q: Option<String>,
}

async fn catalogue(
    State(state): State<AppState>,
    MaybeViewer(viewer): MaybeViewer,
    Query(query): Query<SearchQuery>,
) -> Result<impl IntoResponse, WebError> {
    let q = query
        .q
        .unwrap_or_default()
        .trim()
        .chars()
        .take(100)
        .collect::<String>();
    let search = (!q.is_empty()).then(|| q.clone());
    let services = state.store.catalogue(search, None, None, 200).await?;
    Ok(CataloguePage {
        nav: Nav::of(viewer.as_ref()),
        q,
        services: services.iter().map(|s| ServiceView::of(s, None)).collect(),
    })
}

#[derive(Template, WebTemplate)]
#[template(path = "service_public.html")]
struct ServicePage {
    nav: Nav,
    service: ServiceView,
    sessions: Vec<SessionView>,
    /// Where the booking form posts, for someone signed in who may book here.
    book_action: Option<String>,
    csrf: String,
    error: Option<String>,
    next: String,
}

async fn service_page(
    State(state): State<AppState>,
    MaybeViewer(viewer): MaybeViewer,
    AppPath(PathId(service_id)): AppPath<PathId>,
) -> Result<Response, WebError> {
    render_service(&state, viewer.as_ref(), service_id, None).await
}

/// The service's page; `error` says why a booking was just refused.
pub async fn render_service(
    state: &AppState,
    viewer: Option<&Viewer>,
    service_id: Uuid,
    error: Option<(StatusCode, String)>,
) -> Result<Response, WebError> {
    let nav = Nav::of(viewer);
    let missing = || WebError::page(nav.clone(), ApiError::NotFound("service"));
    let service = state.store.service(service_id).await?.ok_or_else(missing)?;
    if service.status != ServiceStatus::Published {
        return Err(missing());
    }
    let now = clock::now();
    let sessions = state
        .store
        .service_sessions(service.id, now, now + Duration::days(60), true, None, 200)
        .await?;
    let book_action = viewer
        .filter(|v| v.id() != service.provider_id)
        .map(|v| format!("/user/{}/book", v.id()));
    let (status, error) = match error {
        Some((status, message)) => (status, Some(message)),
        None => (StatusCode::OK, None),
    };
    let page = ServicePage {
        nav,
        sessions: sessions
            .iter()
            .map(|s| SessionView::of(s, &service.time_zone))
            .collect(),
        service: ServiceView::of(&service, None),
        book_action,
        csrf: viewer.map(|v| v.csrf.clone()).unwrap_or_default(),
        error,
        next: format!("/services/{}", service.id),
    };
    Ok((status, page).into_response())
}
