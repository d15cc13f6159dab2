//! Services pages: a provider's list, the create form (Save draft / Publish), a service's page
//! with its edit form and sessions; a customer's subscriptions with "remove yourself". (The
//! forms that add and cancel sessions are in `service_sessions`.)

use chrono::Duration;

use super::{
    forms::{NotDone, answer},
    prelude::*,
    service_forms::{ServiceForm, SessionForm},
    view::{BookingView, ServiceView, SessionView},
};
use crate::{
    app::{Removal, RemovalResult, SessionsShown},
    domain::{
        service::{Service, ServiceSpec, ServiceStatus},
        user::Role,
    },
};

/// A provider's page shows its service's sessions from a day ago, at most this many.
const SESSIONS_SHOWN: SessionsShown = SessionsShown {
    since: Duration::days(1),
    limit: 200,
};

pub fn router() -> Router<HttpState> {
    Router::new()
        .route("/user/{userID}/services", get(list))
        .route("/user/{userID}/services/create", get(create_form))
        .route("/user/{userID}/services/create/save", post(save_draft))
        .route("/user/{userID}/services/create/publish", post(publish))
        .route("/user/{userID}/services/{serviceID}", get(service_page))
        .route("/user/{userID}/services/{serviceID}/update", post(update))
        .route("/user/{userID}/services/{serviceID}/delete", post(remove))
}

#[derive(Template, WebTemplate)]
#[template(path = "services.html")]
struct ServicesPage {
    nav: Nav,
    is_provider: bool,
    user_path: String,
    services: Vec<ServiceView>,
    notice: Option<String>,
}

#[derive(Debug, Deserialize)]
struct DoneQuery {
    done: Option<String>,
}

async fn list(
    State(state): State<HttpState>,
    viewer: Viewer,
    AppPath(PathId(user_id)): AppPath<PathId>,
    Query(query): Query<DoneQuery>,
) -> Result<impl IntoResponse, WebError> {
    let user = state
        .app
        .user(&viewer.caller, user_id)
        .await
        .or_page(&viewer)?;
    let services = state
        .app
        .user_services(&viewer.caller, user_id, &PageRequest::first(200))
        .await
        .or_page(&viewer)?
        .items;
    let notice = match query.done.as_deref() {
        Some("removed") => Some("Done: you are no longer booked on that service.".to_owned()),
        Some("archived") => Some(
            "Withdrawn: it had bookings, so it is archived and its pending bookings are cancelled."
                .to_owned(),
        ),
        Some("deleted") => Some("Deleted.".to_owned()),
        _ => None,
    };
    Ok(ServicesPage {
        nav: viewer.nav(),
        is_provider: user.role == Role::Provider,
        user_path: format!("/user/{user_id}"),
        services: services
            .iter()
            .map(|s| ServiceView::of(&s.service, s.counts.clone()))
            .collect(),
        notice,
    })
}

#[derive(Template, WebTemplate)]
#[template(path = "service_form.html")]
struct ServiceFormPage {
    nav: Nav,
    user_path: String,
    form: ServiceForm,
    errors: FormErrors,
}

async fn create_form(
    State(state): State<HttpState>,
    viewer: Viewer,
    AppPath(PathId(user_id)): AppPath<PathId>,
) -> Result<impl IntoResponse, WebError> {
    // Only a provider may create; the template use case says whether this one may.
    state
        .app
        .service_template(&viewer.caller, user_id)
        .await
        .or_page(&viewer)?;
    Ok(ServiceFormPage {
        nav: viewer.nav(),
        user_path: format!("/user/{user_id}"),
        form: ServiceForm::of(&ServiceSpec::defaults(), None),
        errors: FormErrors::default(),
    })
}

async fn save_draft(
    State(state): State<HttpState>,
    viewer: Viewer,
    AppPath(PathId(user_id)): AppPath<PathId>,
    WebForm(form): WebForm<ServiceForm>,
) -> Result<Response, WebError> {
    write(&state, &viewer, user_id, form, ServiceStatus::Draft).await
}

async fn publish(
    State(state): State<HttpState>,
    viewer: Viewer,
    AppPath(PathId(user_id)): AppPath<PathId>,
    WebForm(form): WebForm<ServiceForm>,
) -> Result<Response, WebError> {
    write(&state, &viewer, user_id, form, ServiceStatus::Published).await
}

async fn write(
    state: &HttpState,
    viewer: &Viewer,
    user_id: Uuid,
    form: ServiceForm,
    status: ServiceStatus,
) -> Result<Response, WebError> {
    let written = async {
        let fields = form.fields()?;
        Ok(state
            .app
            .save_service(&viewer.caller, user_id, fields, status)
            .await?)
    }
    .await;
    let done = |(service, _): (Service, bool)| format!("/user/{user_id}/services/{}", service.id);
    answer(viewer, written, done, |_, errors| async move {
        let page = ServiceFormPage {
            nav: viewer.nav(),
            user_path: format!("/user/{user_id}"),
            form,
            errors,
        };
        Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
    })
    .await
}

#[derive(Template, WebTemplate)]
#[template(path = "provider_service.html")]
struct ProviderServicePage {
    nav: Nav,
    user_path: String,
    service: ServiceView,
    form: ServiceForm,
    sessions: Vec<SessionView>,
    session_form: SessionForm,
    csrf: String,
    notice: Option<String>,
    errors: FormErrors,
}

#[derive(Template, WebTemplate)]
#[template(path = "customer_service.html")]
struct CustomerServicePage {
    nav: Nav,
    user_path: String,
    service: ServiceView,
    subscribed: bool,
    bookings: Vec<BookingView>,
    csrf: String,
    errors: FormErrors,
}

async fn service_page(
    State(state): State<HttpState>,
    viewer: Viewer,
    AppPath((PathId(user_id), PathId(service_id))): AppPath<(PathId, PathId)>,
    Query(query): Query<DoneQuery>,
) -> Result<Response, WebError> {
    let notice = match query.done.as_deref() {
        Some("sessions") => Some("Sessions added.".to_owned()),
        Some("saved") => Some("Saved.".to_owned()),
        Some("cancelled") => {
            Some("Session cancelled; its pending bookings were cancelled.".to_owned())
        }
        _ => None,
    };
    let shown = Shown {
        notice,
        ..Shown::default()
    };
    render_service(&state, &viewer, user_id, service_id, shown).await
}

/// What a service's page shows besides the service: a notice, or the errors of a form sent
/// back with what was typed in it.
#[derive(Default)]
pub(super) struct Shown {
    pub notice: Option<String>,
    pub errors: FormErrors,
    pub service_form: Option<ServiceForm>,
    pub session_form: Option<SessionForm>,
}

pub(super) async fn render_service(
    state: &HttpState,
    viewer: &Viewer,
    user_id: Uuid,
    service_id: Uuid,
    shown: Shown,
) -> Result<Response, WebError> {
    let status = if shown.errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let details = state
        .app
        .service_details(&viewer.caller, user_id, service_id, SESSIONS_SHOWN)
        .await
        .or_page(viewer)?;
    let service = &details.service;
    let user_path = format!("/user/{user_id}");
    if let Some(sessions) = &details.upcoming_sessions {
        let page = ProviderServicePage {
            nav: viewer.nav(),
            form: shown
                .service_form
                .unwrap_or_else(|| ServiceForm::of(&ServiceSpec::of(service), Some(service.id))),
            sessions: sessions
                .iter()
                .map(|s| SessionView::of(s, &service.time_zone))
                .collect(),
            session_form: shown
                .session_form
                .unwrap_or_else(|| SessionForm::defaults(service)),
            service: ServiceView::of(service, details.counts.clone()),
            user_path,
            csrf: viewer.csrf.clone(),
            notice: shown.notice,
            errors: shown.errors,
        };
        return Ok((status, page).into_response());
    }
    let page = CustomerServicePage {
        nav: viewer.nav(),
        service: ServiceView::of(service, None),
        subscribed: details.subscribed.unwrap_or_default(),
        bookings: details
            .bookings
            .iter()
            .flatten()
            .map(|b| BookingView::of(b, user_id))
            .collect(),
        user_path,
        csrf: viewer.csrf.clone(),
        errors: shown.errors,
    };
    Ok((status, page).into_response())
}

async fn update(
    State(state): State<HttpState>,
    viewer: Viewer,
    AppPath((PathId(user_id), PathId(service_id))): AppPath<(PathId, PathId)>,
    WebForm(form): WebForm<ServiceForm>,
) -> Result<Response, WebError> {
    let updated = async {
        // The form carries the service's id too; the path already names it.
        let changes = form.fields()?.changes();
        Ok(state
            .app
            .edit_service(&viewer.caller, user_id, service_id, changes)
            .await?)
    }
    .await;
    let done = |_| format!("/user/{user_id}/services/{service_id}?done=saved");
    answer(&viewer, updated, done, |_, errors| {
        let shown = Shown {
            errors,
            service_form: Some(form),
            ..Shown::default()
        };
        render_service(&state, &viewer, user_id, service_id, shown)
    })
    .await
}

/// A provider withdraws its service; a customer removes themselves from it.
async fn remove(
    State(state): State<HttpState>,
    viewer: Viewer,
    AppPath((PathId(user_id), PathId(service_id))): AppPath<(PathId, PathId)>,
    WebForm(form): WebForm<ReasonForm>,
) -> Result<Response, WebError> {
    let removed = state
        .app
        .remove_service(&viewer.caller, user_id, service_id, form.reason)
        .await
        .map_err(NotDone::from);
    let done = |removal: Removal| {
        let done = match removal.result {
            RemovalResult::Unsubscribed => "removed",
            RemovalResult::Archived => "archived",
            RemovalResult::Deleted => "deleted",
        };
        format!("/user/{user_id}/services?done={done}")
    };
    answer(&viewer, removed, done, |_, errors| {
        render_errors(&state, &viewer, (user_id, service_id), errors)
    })
    .await
}

/// The service's page again, with a refused form's errors.
pub(super) async fn render_errors(
    state: &HttpState,
    viewer: &Viewer,
    (user_id, service_id): (Uuid, Uuid),
    errors: FormErrors,
) -> Result<Response, WebError> {
    let shown = Shown {
        errors,
        ..Shown::default()
    };
    render_service(state, viewer, user_id, service_id, shown).await
}
