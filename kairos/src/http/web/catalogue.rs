//! `/services` and `/services/{id}`: the catalogue, a service's sessions with places left, and
//! the booking form.

use chrono::Duration;

use super::{
    prelude::*,
    view::{ServiceView, SessionView},
};
use crate::app::TimeRange;

/// How far ahead a service's page shows sessions, and how many.
const SESSIONS_DAYS: i64 = 60;
const SHOWN: u32 = 200;

pub fn router() -> Router<HttpState> {
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
    State(state): State<HttpState>,
    MaybeViewer(viewer): MaybeViewer,
    Query(query): Query<SearchQuery>,
) -> Result<impl IntoResponse, WebError> {
    let nav = Nav::of(viewer.as_ref());
    let q = query.q.unwrap_or_default().trim().to_owned();
    let services = state
        .app
        .catalogue(Some(q.clone()), None, &PageRequest::first(SHOWN))
        .await
        .map_err(|error| WebError::page(nav.clone(), error.into()))?;
    Ok(CataloguePage {
        nav,
        q,
        services: services
            .items
            .iter()
            .map(|s| ServiceView::of(s, None))
            .collect(),
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
    State(state): State<HttpState>,
    MaybeViewer(viewer): MaybeViewer,
    AppPath(PathId(service_id)): AppPath<PathId>,
) -> Result<Response, WebError> {
    render_service(&state, viewer.as_ref(), service_id, None).await
}

/// The service's page; `error` says why a booking was just refused.
pub async fn render_service(
    state: &HttpState,
    viewer: Option<&Viewer>,
    service_id: Uuid,
    error: Option<(StatusCode, String)>,
) -> Result<Response, WebError> {
    let nav = Nav::of(viewer);
    let shown = |error: crate::app::AppError| WebError::page(nav.clone(), error.into());
    let service = state
        .app
        .published_service(service_id)
        .await
        .map_err(shown)?;
    let now = state.app.now();
    let range = TimeRange::between(now, now + Duration::days(SESSIONS_DAYS));
    let sessions = state
        .app
        .published_sessions(service.id, range, &PageRequest::first(SHOWN))
        .await
        .map_err(shown)?
        .items;
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
