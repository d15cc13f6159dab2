//! Services pages: a provider's list, the create form (Save draft / Publish), a service's page
//! with its edit form and sessions (one, or a weekly series); a customer's subscriptions with
//! "remove yourself".

use askama::Template;
use askama_web::WebTemplate;
use axum::{
    Router,
    extract::{Query, State},
    http::StatusCode,
    response::{IntoResponse, Response},
    routing::{get, post},
};
use chrono::{Duration, NaiveDate};
use serde::Deserialize;
use uuid::Uuid;

use super::{
    OrPage, WebError,
    forms::{FormErrors, number, optional},
    see,
    session::{Nav, Viewer, WebForm},
    view::{BookingView, ServiceView, SessionView, parse_local},
};
use crate::{
    api::{
        access::{owned_service, path_user, provider_path},
        extract::AppPath,
        service_views::services_of,
        services::{
            ReasonQuery, RemovalResult, ServiceDraft, remove_service, update_service, write_service,
        },
        sessions::{NewSessions, add_sessions_for, cancel_session_for},
    },
    domain::{
        clock,
        id::PathId,
        service::{Service, ServiceSpec, ServiceStatus},
        session::{Repeat, Weekday},
        user::{Role, User},
    },
    error::ApiError,
    state::AppState,
    store::{BookingFilter, Perspective},
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/user/{userID}/services", get(list))
        .route("/user/{userID}/services/create", get(create_form))
        .route("/user/{userID}/services/create/save", post(save_draft))
        .route("/user/{userID}/services/create/publish", post(publish))
        .route("/user/{userID}/services/{serviceID}", get(service_page))
        .route("/user/{userID}/services/{serviceID}/update", post(update))
        .route("/user/{userID}/services/{serviceID}/delete", post(remove))
        .route(
            "/user/{userID}/services/{serviceID}/sessions",
            post(add_sessions),
        )
        .route(
            "/user/{userID}/services/{serviceID}/sessions/{sessionID}/cancel",
            post(cancel_session),
        )
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
    State(state): State<AppState>,
    viewer: Viewer,
    AppPath(PathId(user_id)): AppPath<PathId>,
    Query(query): Query<DoneQuery>,
) -> Result<impl IntoResponse, WebError> {
    let user = path_user(&state, &viewer.auth, user_id)
        .await
        .or_page(&viewer)?;
    let services = services_of(&state, &user, None, 200)
        .await
        .or_page(&viewer)?;
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
        user_path: format!("/user/{}", user.id),
        services: services
            .iter()
            .map(|s| ServiceView::of(&s.service, s.counts.clone()))
            .collect(),
        notice,
    })
}

/// The service form's fields as typed: text, so a bad number comes back next to its field.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceForm {
    id: Option<String>,
    name: String,
    description: String,
    duration_minutes: String,
    capacity: String,
    location: String,
    time_zone: String,
    booking_notice_minutes: String,
    cancellation_notice_minutes: String,
}

impl ServiceForm {
    fn of(spec: &ServiceSpec, id: Option<Uuid>) -> Self {
        Self {
            id: id.map(|id| id.to_string()),
            name: spec.name.clone(),
            description: spec.description.clone(),
            duration_minutes: spec.duration_minutes.to_string(),
            capacity: spec.capacity.to_string(),
            location: spec.location.clone(),
            time_zone: spec.time_zone.clone(),
            booking_notice_minutes: spec.booking_notice_minutes.to_string(),
            cancellation_notice_minutes: spec.cancellation_notice_minutes.to_string(),
        }
    }

    /// The API's fields, or the numbers that are not numbers.
    fn fields(&self) -> Result<ServiceDraft, FormErrors> {
        let mut errors = FormErrors::default();
        let duration = number(&self.duration_minutes, "durationMinutes", &mut errors);
        let capacity = number(&self.capacity, "capacity", &mut errors);
        let booking_notice = number(
            &self.booking_notice_minutes,
            "bookingNoticeMinutes",
            &mut errors,
        );
        let cancellation_notice = number(
            &self.cancellation_notice_minutes,
            "cancellationNoticeMinutes",
            &mut errors,
        );
        let id = match optional(self.id.clone()).map(|id| id.parse::<Uuid>()) {
            Some(Ok(id)) => Some(id),
            Some(Err(_)) => {
                errors.field("name", "this form is out of date; start again");
                None
            }
            None => None,
        };
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(ServiceDraft {
            id,
            name: Some(self.name.clone()),
            description: Some(self.description.clone()),
            duration_minutes: duration,
            capacity,
            location: Some(self.location.clone()),
            time_zone: Some(self.time_zone.clone()),
            booking_notice_minutes: booking_notice,
            cancellation_notice_minutes: cancellation_notice,
        })
    }
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
    State(state): State<AppState>,
    viewer: Viewer,
    AppPath(PathId(user_id)): AppPath<PathId>,
) -> Result<impl IntoResponse, WebError> {
    let provider = provider_path(&state, &viewer.auth, user_id)
        .await
        .or_page(&viewer)?;
    Ok(ServiceFormPage {
        nav: viewer.nav(),
        user_path: format!("/user/{}", provider.id),
        form: ServiceForm::of(&ServiceSpec::defaults(), None),
        errors: FormErrors::default(),
    })
}

async fn save_draft(
    State(state): State<AppState>,
    viewer: Viewer,
    AppPath(PathId(user_id)): AppPath<PathId>,
    WebForm(form): WebForm<ServiceForm>,
) -> Result<Response, WebError> {
    write(&state, &viewer, user_id, form, ServiceStatus::Draft).await
}

async fn publish(
    State(state): State<AppState>,
    viewer: Viewer,
    AppPath(PathId(user_id)): AppPath<PathId>,
    WebForm(form): WebForm<ServiceForm>,
) -> Result<Response, WebError> {
    write(&state, &viewer, user_id, form, ServiceStatus::Published).await
}

async fn write(
    state: &AppState,
    viewer: &Viewer,
    user_id: Uuid,
    form: ServiceForm,
    status: ServiceStatus,
) -> Result<Response, WebError> {
    let provider = provider_path(state, &viewer.auth, user_id)
        .await
        .or_page(viewer)?;
    let written = match form.fields() {
        Ok(fields) => write_service(state, &provider, fields, status)
            .await
            .map_err(FormErrors::from_api),
        Err(errors) => Err(Ok(errors)),
    };
    match written {
        Ok((_, axum::Json(service))) => Ok(see(&format!(
            "/user/{}/services/{}",
            provider.id, service.id
        ))),
        Err(errors) => {
            let errors = errors.or_page(viewer)?;
            let page = ServiceFormPage {
                nav: viewer.nav(),
                user_path: format!("/user/{}", provider.id),
                form,
                errors,
            };
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
    }
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
    State(state): State<AppState>,
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
    let user = path_user(&state, &viewer.auth, user_id)
        .await
        .or_page(&viewer)?;
    render_service(
        &state,
        &viewer,
        &user,
        service_id,
        notice,
        FormErrors::default(),
        None,
        None,
    )
    .await
}

#[allow(clippy::too_many_arguments)]
async fn render_service(
    state: &AppState,
    viewer: &Viewer,
    user: &User,
    service_id: Uuid,
    notice: Option<String>,
    errors: FormErrors,
    typed: Option<ServiceForm>,
    typed_session: Option<SessionForm>,
) -> Result<Response, WebError> {
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    if user.role == Role::Provider {
        let service = owned_service(state, user, service_id)
            .await
            .or_page(viewer)?;
        let now = clock::now();
        let sessions = state
            .store
            .service_sessions(
                service.id,
                now - Duration::days(1),
                now + Duration::days(366),
                false,
                None,
                200,
            )
            .await
            .or_page(viewer)?;
        let counts = state
            .store
            .service_counts(service.id, now)
            .await
            .or_page(viewer)?;
        let page = ProviderServicePage {
            nav: viewer.nav(),
            user_path: format!("/user/{}", user.id),
            form: typed
                .unwrap_or_else(|| ServiceForm::of(&ServiceSpec::of(&service), Some(service.id))),
            sessions: sessions
                .iter()
                .map(|s| SessionView::of(s, &service.time_zone))
                .collect(),
            session_form: typed_session.unwrap_or_else(|| SessionForm::defaults(&service)),
            service: ServiceView::of(&service, Some(counts)),
            csrf: viewer.csrf.clone(),
            notice,
            errors,
        };
        return Ok((status, page).into_response());
    }
    let service = state.store.service(service_id).await.or_page(viewer)?;
    let subscribed = state
        .store
        .is_subscribed(user.id, service_id)
        .await
        .or_page(viewer)?;
    let service: Service = match service {
        Some(s) if s.status == ServiceStatus::Published || subscribed => s,
        _ => return Err(ApiError::NotFound("service")).or_page(viewer),
    };
    let bookings = state
        .store
        .all_bookings(BookingFilter {
            user_id: user.id,
            perspective: Perspective::Customer,
            status: None,
            service_id: Some(service.id),
            from: None,
            to: None,
            after: None,
            limit: 50,
        })
        .await
        .or_page(viewer)?;
    let page = CustomerServicePage {
        nav: viewer.nav(),
        user_path: format!("/user/{}", user.id),
        service: ServiceView::of(&service, None),
        subscribed,
        bookings: bookings
            .iter()
            .map(|b| BookingView::of(b, user.id))
            .collect(),
        csrf: viewer.csrf.clone(),
        errors,
    };
    Ok((status, page).into_response())
}

async fn update(
    State(state): State<AppState>,
    viewer: Viewer,
    AppPath((PathId(user_id), PathId(service_id))): AppPath<(PathId, PathId)>,
    WebForm(form): WebForm<ServiceForm>,
) -> Result<Response, WebError> {
    let user = path_user(&state, &viewer.auth, user_id)
        .await
        .or_page(&viewer)?;
    let updated = match form.fields() {
        Ok(draft) => {
            // The form carries the service's id too; the path already names it.
            update_service(&state, &viewer.auth, user_id, service_id, draft.changes())
                .await
                .map_err(FormErrors::from_api)
        }
        Err(errors) => Err(Ok(errors)),
    };
    match updated {
        Ok(_) => Ok(see(&format!(
            "/user/{user_id}/services/{service_id}?done=saved"
        ))),
        Err(errors) => {
            let errors = errors.or_page(&viewer)?;
            render_service(
                &state,
                &viewer,
                &user,
                service_id,
                None,
                errors,
                Some(form),
                None,
            )
            .await
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ReasonForm {
    reason: Option<String>,
}

/// A provider withdraws its service; a customer removes themselves from it.
async fn remove(
    State(state): State<AppState>,
    viewer: Viewer,
    AppPath((PathId(user_id), PathId(service_id))): AppPath<(PathId, PathId)>,
    WebForm(form): WebForm<ReasonForm>,
) -> Result<Response, WebError> {
    let user = path_user(&state, &viewer.auth, user_id)
        .await
        .or_page(&viewer)?;
    let query = ReasonQuery {
        reason: optional(form.reason),
    };
    match remove_service(&state, &viewer.auth, user_id, service_id, query).await {
        Ok(axum::Json(removal)) => {
            let done = match removal.result {
                RemovalResult::Unsubscribed => "removed",
                RemovalResult::Archived => "archived",
                RemovalResult::Deleted => "deleted",
            };
            Ok(see(&format!("/user/{user_id}/services?done={done}")))
        }
        Err(error) => {
            let errors = FormErrors::from_api(error).or_page(&viewer)?;
            render_service(&state, &viewer, &user, service_id, None, errors, None, None).await
        }
    }
}

/// The add-sessions form as typed. Weekdays are checkboxes named after the day.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionForm {
    starts_at: String,
    duration_minutes: String,
    capacity: String,
    location: String,
    information: String,
    monday: Option<String>,
    tuesday: Option<String>,
    wednesday: Option<String>,
    thursday: Option<String>,
    friday: Option<String>,
    saturday: Option<String>,
    sunday: Option<String>,
    until: String,
    count: String,
}

impl SessionForm {
    fn defaults(service: &Service) -> Self {
        Self {
            duration_minutes: service.duration_minutes.to_string(),
            capacity: service.capacity.to_string(),
            location: service.location.clone(),
            ..Self::default()
        }
    }

    fn weekdays(&self) -> Vec<Weekday> {
        [
            (&self.monday, Weekday::Monday),
            (&self.tuesday, Weekday::Tuesday),
            (&self.wednesday, Weekday::Wednesday),
            (&self.thursday, Weekday::Thursday),
            (&self.friday, Weekday::Friday),
            (&self.saturday, Weekday::Saturday),
            (&self.sunday, Weekday::Sunday),
        ]
        .into_iter()
        .filter(|(ticked, _)| ticked.is_some())
        .map(|(_, day)| day)
        .collect()
    }

    /// The API's request: the start is local time in the service's zone.
    fn request(&self, service: &Service) -> Result<NewSessions, FormErrors> {
        let mut errors = FormErrors::default();
        let starts_at = parse_local(&self.starts_at, &service.time_zone);
        if starts_at.is_none() {
            errors.field("startsAt", "pick a date and time");
        }
        let minutes = number(&self.duration_minutes, "durationMinutes", &mut errors);
        let capacity = number(&self.capacity, "capacity", &mut errors);
        let weekdays = self.weekdays();
        let until = optional(Some(self.until.clone())).map(|d| d.parse::<NaiveDate>());
        let count = optional(Some(self.count.clone())).map(|c| c.parse::<u32>());
        if matches!(until, Some(Err(_))) {
            errors.field("until", "is not a date");
        }
        if matches!(count, Some(Err(_))) {
            errors.field("count", "must be a whole number");
        }
        let (Some(starts_at), Some(minutes), true) = (starts_at, minutes, errors.is_empty()) else {
            return Err(errors);
        };
        let repeat = (!weekdays.is_empty()).then(|| Repeat {
            weekdays,
            until: until.and_then(Result::ok),
            count: count.and_then(Result::ok),
        });
        let information = self
            .information
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
            .collect();
        Ok(NewSessions {
            starts_at,
            ends_at: Some(starts_at + Duration::minutes(minutes)),
            capacity,
            location: Some(self.location.clone()),
            additional_information: Some(information),
            repeat,
        })
    }
}

async fn add_sessions(
    State(state): State<AppState>,
    viewer: Viewer,
    AppPath((PathId(user_id), PathId(service_id))): AppPath<(PathId, PathId)>,
    WebForm(form): WebForm<SessionForm>,
) -> Result<Response, WebError> {
    let provider = provider_path(&state, &viewer.auth, user_id)
        .await
        .or_page(&viewer)?;
    let service = owned_service(&state, &provider, service_id)
        .await
        .or_page(&viewer)?;
    let added = match form.request(&service) {
        Ok(request) => add_sessions_for(&state, &viewer.auth, user_id, service_id, request)
            .await
            .map_err(FormErrors::from_api),
        Err(errors) => Err(Ok(errors)),
    };
    match added {
        Ok(_) => Ok(see(&format!(
            "/user/{user_id}/services/{service_id}?done=sessions"
        ))),
        Err(errors) => {
            let errors = errors.or_page(&viewer)?;
            render_service(
                &state,
                &viewer,
                &provider,
                service_id,
                None,
                errors,
                None,
                Some(form),
            )
            .await
        }
    }
}

async fn cancel_session(
    State(state): State<AppState>,
    viewer: Viewer,
    AppPath((PathId(user_id), PathId(service_id), PathId(session_id))): AppPath<(
        PathId,
        PathId,
        PathId,
    )>,
    WebForm(form): WebForm<ReasonForm>,
) -> Result<Response, WebError> {
    let user = path_user(&state, &viewer.auth, user_id)
        .await
        .or_page(&viewer)?;
    let query = ReasonQuery {
        reason: optional(form.reason),
    };
    match cancel_session_for(&state, &viewer.auth, user_id, service_id, session_id, query).await {
        Ok(_) => Ok(see(&format!(
            "/user/{user_id}/services/{service_id}?done=cancelled"
        ))),
        Err(error) => {
            let errors = FormErrors::from_api(error).or_page(&viewer)?;
            render_service(&state, &viewer, &user, service_id, None, errors, None, None).await
        }
    }
}
