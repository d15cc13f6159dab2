//! Bookings pages: book (from a service's page), the current and all bookings, one booking with
//! its cancel, reschedule, notes and (providers) complete forms.

use askama::Template;
use askama_web::WebTemplate;
use axum::{
    Router,
    extract::{Query, State},
    http::StatusCode,
    response::{IntoResponse, Response},
    routing::{get, post},
};
use chrono::Duration;
use serde::Deserialize;
use uuid::Uuid;

use super::{
    OrPage, WebError,
    catalogue::render_service,
    forms::{FormErrors, optional},
    see,
    session::{Nav, Viewer, WebForm},
    view::{BookingView, SessionView},
};
use crate::{
    api::{
        access::{Side, path_user, visible_booking},
        booking_changes::{BookingUpdate, cancel, update_booking},
        extract::AppPath,
    },
    domain::{
        booking::{Booking, BookingStatus},
        clock,
        id::{PathId, new_id},
        user::{Role, User},
    },
    error::ApiError,
    state::AppState,
    store::{BookingFilter, NewBooking, Perspective},
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/user/{userID}/book", post(book))
        .route("/user/{userID}/bookings", get(current))
        .route("/user/{userID}/bookings/all", get(all))
        .route("/user/{userID}/bookings/{bookingID}", get(booking_page))
        .route(
            "/user/{userID}/bookings/{bookingID}/cancel",
            post(cancel_booking),
        )
        .route(
            "/user/{userID}/bookings/{bookingID}/update",
            post(change_booking),
        )
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct BookForm {
    session_id: Uuid,
    notes: Option<String>,
}

/// Books for the signed-in user; a refusal is shown on the service's page.
async fn book(
    State(state): State<AppState>,
    viewer: Viewer,
    AppPath(PathId(user_id)): AppPath<PathId>,
    WebForm(form): WebForm<BookForm>,
) -> Result<Response, WebError> {
    let user = path_user(&state, &viewer.auth, user_id)
        .await
        .or_page(&viewer)?;
    let booked = state
        .store
        .book(NewBooking {
            id: new_id(),
            user_id: user.id,
            session_id: form.session_id,
            notes: optional(form.notes).map(|n| n.chars().take(2000).collect()),
            now: clock::now(),
            idempotency_key: None,
        })
        .await;
    match booked {
        Ok(booking) => Ok(see(&format!(
            "/user/{}/bookings/{}?booked=1",
            user.id, booking.id
        ))),
        Err(error) => {
            let error = ApiError::or_missing("session")(error);
            let session = state
                .store
                .session(form.session_id)
                .await
                .or_page(&viewer)?
                .ok_or(ApiError::NotFound("session"))
                .or_page(&viewer)?;
            let status = error.status();
            let message = FormErrors::from_api(error)
                .or_page(&viewer)?
                .general
                .unwrap_or_default();
            render_service(
                &state,
                Some(&viewer),
                session.service_id,
                Some((status, message)),
            )
            .await
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "bookings.html")]
struct BookingsPage {
    nav: Nav,
    heading: String,
    user_path: String,
    all: bool,
    status: String,
    bookings: Vec<BookingView>,
}

async fn current(
    State(state): State<AppState>,
    viewer: Viewer,
    AppPath(PathId(user_id)): AppPath<PathId>,
) -> Result<impl IntoResponse, WebError> {
    let user = path_user(&state, &viewer.auth, user_id)
        .await
        .or_page(&viewer)?;
    let bookings = state
        .store
        .current_bookings(filter(&user, None), clock::now())
        .await
        .or_page(&viewer)?;
    Ok(list_page(
        &viewer,
        &user,
        "Current bookings",
        false,
        "",
        &bookings,
    ))
}

#[derive(Debug, Deserialize)]
struct StatusQuery {
    status: Option<String>,
}

async fn all(
    State(state): State<AppState>,
    viewer: Viewer,
    AppPath(PathId(user_id)): AppPath<PathId>,
    Query(query): Query<StatusQuery>,
) -> Result<impl IntoResponse, WebError> {
    let user = path_user(&state, &viewer.auth, user_id)
        .await
        .or_page(&viewer)?;
    let status = query.status.as_deref().and_then(BookingStatus::parse);
    let bookings = state
        .store
        .all_bookings(filter(&user, status))
        .await
        .or_page(&viewer)?;
    let shown = status.map_or("", BookingStatus::as_str);
    Ok(list_page(
        &viewer,
        &user,
        "All bookings",
        true,
        shown,
        &bookings,
    ))
}

fn filter(user: &User, status: Option<BookingStatus>) -> BookingFilter {
    BookingFilter {
        user_id: user.id,
        perspective: if user.role == Role::Provider {
            Perspective::Both
        } else {
            Perspective::Customer
        },
        status,
        service_id: None,
        from: None,
        to: None,
        after: None,
        limit: 200,
    }
}

fn list_page(
    viewer: &Viewer,
    user: &User,
    heading: &str,
    all: bool,
    status: &str,
    bookings: &[Booking],
) -> BookingsPage {
    BookingsPage {
        nav: viewer.nav(),
        heading: heading.to_owned(),
        user_path: format!("/user/{}", user.id),
        all,
        status: status.to_owned(),
        bookings: bookings
            .iter()
            .map(|b| BookingView::of(b, user.id))
            .collect(),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "booking.html")]
struct BookingPage {
    nav: Nav,
    booking: BookingView,
    is_provider_side: bool,
    user_path: String,
    /// Other sessions of the same service with room, to move to.
    alternatives: Vec<SessionView>,
    csrf: String,
    notice: Option<String>,
    errors: FormErrors,
}

#[derive(Debug, Deserialize)]
struct BookingQuery {
    booked: Option<String>,
    done: Option<String>,
}

async fn booking_page(
    State(state): State<AppState>,
    viewer: Viewer,
    AppPath((PathId(user_id), PathId(booking_id))): AppPath<(PathId, PathId)>,
    Query(query): Query<BookingQuery>,
) -> Result<Response, WebError> {
    let notice = match (query.booked, query.done.as_deref()) {
        (Some(_), _) => Some("Booked. It is on your home page and in your schedule."),
        (_, Some("cancelled")) => Some("Cancelled. The place is free for someone else."),
        (_, Some("updated")) => Some("Saved."),
        _ => None,
    };
    render_booking(
        &state,
        &viewer,
        user_id,
        booking_id,
        notice.map(str::to_owned),
        FormErrors::default(),
        StatusCode::OK,
    )
    .await
}

async fn render_booking(
    state: &AppState,
    viewer: &Viewer,
    user_id: Uuid,
    booking_id: Uuid,
    notice: Option<String>,
    errors: FormErrors,
    status: StatusCode,
) -> Result<Response, WebError> {
    let user = path_user(state, &viewer.auth, user_id)
        .await
        .or_page(viewer)?;
    let (booking, side) = visible_booking(state, &user, booking_id)
        .await
        .or_page(viewer)?;
    let mut alternatives = Vec::new();
    if side == Side::Customer && booking.status == BookingStatus::Pending {
        let now = clock::now();
        let sessions = state
            .store
            .service_sessions(
                booking.service_id,
                now,
                now + Duration::days(60),
                true,
                None,
                100,
            )
            .await
            .or_page(viewer)?;
        let zone = booking.session_details.time_zone.clone();
        alternatives = sessions
            .iter()
            .filter(|s| s.id != booking.session_id && s.spots_left > 0)
            .map(|s| SessionView::of(s, &zone))
            .collect();
    }
    let page = BookingPage {
        nav: viewer.nav(),
        booking: BookingView::of(&booking, user.id),
        is_provider_side: side == Side::Provider,
        user_path: format!("/user/{}", user.id),
        alternatives,
        csrf: viewer.csrf.clone(),
        notice,
        errors,
    };
    Ok((status, page).into_response())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CancelForm {
    reason: Option<String>,
}

async fn cancel_booking(
    State(state): State<AppState>,
    viewer: Viewer,
    AppPath((PathId(user_id), PathId(booking_id))): AppPath<(PathId, PathId)>,
    WebForm(form): WebForm<CancelForm>,
) -> Result<Response, WebError> {
    match cancel(
        &state,
        &viewer.auth,
        user_id,
        booking_id,
        optional(form.reason),
    )
    .await
    {
        Ok(_) => Ok(see(&format!(
            "/user/{user_id}/bookings/{booking_id}?done=cancelled"
        ))),
        Err(error) => form_failed(&state, &viewer, user_id, booking_id, error).await,
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ChangeForm {
    session_id: Option<String>,
    notes: Option<String>,
    status: Option<String>,
}

/// Moves the booking, edits its notes, or (providers) marks it Completed: one form each.
async fn change_booking(
    State(state): State<AppState>,
    viewer: Viewer,
    AppPath((PathId(user_id), PathId(booking_id))): AppPath<(PathId, PathId)>,
    WebForm(form): WebForm<ChangeForm>,
) -> Result<Response, WebError> {
    let session_id = match optional(form.session_id).map(|s| s.parse::<Uuid>()) {
        Some(Ok(id)) => Some(id),
        Some(Err(_)) => {
            let error = ApiError::field("sessionId", "choose a session from the list");
            return form_failed(&state, &viewer, user_id, booking_id, error).await;
        }
        None => None,
    };
    let update = BookingUpdate {
        session_id,
        // A submitted notes box, even empty, is a change (empty clears them).
        notes: form.notes,
        status: form.status.as_deref().and_then(BookingStatus::parse),
    };
    match update_booking(&state, &viewer.auth, user_id, booking_id, update).await {
        Ok(_) => Ok(see(&format!(
            "/user/{user_id}/bookings/{booking_id}?done=updated"
        ))),
        Err(error) => form_failed(&state, &viewer, user_id, booking_id, error).await,
    }
}

async fn form_failed(
    state: &AppState,
    viewer: &Viewer,
    user_id: Uuid,
    booking_id: Uuid,
    error: ApiError,
) -> Result<Response, WebError> {
    let status = error.status();
    let errors = FormErrors::from_api(error).or_page(viewer)?;
    render_booking(state, viewer, user_id, booking_id, None, errors, status).await
}
