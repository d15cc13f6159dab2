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
    /// Where the join-the-waitlist form posts, when the service has a waitlist.
    wait_action: Option<String>,

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

/// The page of the session's service, saying why what was asked of that session (booking it,
/// joining its waitlist) was refused.
pub async fn refused_on_service(
    state: &HttpState,
    viewer: &Viewer,
    session_id: Uuid,
    error: crate::app::AppError,
) -> Result<Response, WebError> {
    let error = ApiError::from(error);
    let service_id = state
        .app
        .session_service(session_id)
        .await
        .or_page(viewer)?;
    let status = error.status();
    let message = FormErrors::from_api(error)
        .or_page(viewer)?
        .general
        .unwrap_or_default();
    render_service(state, Some(viewer), service_id, Some((status, message))).await
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
    let booker = viewer.filter(|v| v.id() != service.provider_id);
    let book_action = booker.map(|v| format!("/user/{}/book", v.id()));
    let wait_action = booker
        .filter(|_| service.waitlist_enabled)
        .map(|v| format!("/user/{}/waitlist", v.id()));
    let mut waiting_at = Vec::new();
    if let Some(v) = booker.filter(|_| service.waitlist_enabled) {
        let entries = state
            .app
            .waitlist(&v.caller, v.id(), &PageRequest::first(SHOWN))
            .await
            .map_err(shown)?;
        waiting_at = entries
            .items
            .iter()
            .filter(|e| e.service_id == service.id)
            .map(|e| (e.session_id, e.position))
            .collect();
    }
    let (status, error) = match error {
        Some((status, message)) => (status, Some(message)),
        None => (StatusCode::OK, None),
    };
    let page = ServicePage {
        nav,
        sessions: sessions
            .iter()
            .map(|s| SessionView {
                my_position: waiting_at
                    .iter()
                    .find(|(session, _)| *session == s.id)
                    .map(|(_, position)| *position),
                ..SessionView::of(s, &service.time_zone)
            })
            .collect(),
        service: ServiceView::of(&service, None),
        book_action,
        wait_action,
        csrf: viewer.map(|v| v.csrf.clone()).unwrap_or_default(),
        error,
        next: format!("/services/{}", service.id),
    };
    Ok((status, page).into_response())
}
