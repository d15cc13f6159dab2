//! Bookings pages: book (from a service's page), the current and all bookings, one booking with
//! its cancel, reschedule, notes and (providers) complete forms.

use super::{
    catalogue::refused_on_service,
    forms::{NotDone, answer, optional},
    prelude::*,
    view::{BookingView, SessionView},
};
use crate::{
    app::{AllBookings, BookRequest, BookingUpdate, Side},
    domain::booking::{Booking, BookingStatus},
};

/// The most bookings a list page shows.
const SHOWN: u32 = 200;

pub fn router() -> Router<HttpState> {
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

/// Books for the path's user; a refusal is shown on the service's page.
async fn book(
    State(state): State<HttpState>,
    viewer: Viewer,
    AppPath(PathId(user_id)): AppPath<PathId>,
    WebForm(form): WebForm<BookForm>,
) -> Result<Response, WebError> {
    let request = BookRequest {
        session_id: form.session_id,
        // A blank notes box is no notes; anything else is the API's to check.
        notes: optional(form.notes),
    };
    match state.app.book(&viewer.caller, user_id, request, None).await {
        Ok(booked) => Ok(see(&format!(
            "/user/{user_id}/bookings/{}?booked=1",
            booked.booking.id
        ))),
        Err(error) => refused_on_service(&state, &viewer, form.session_id, error).await,
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
    State(state): State<HttpState>,
    viewer: Viewer,
    AppPath(PathId(user_id)): AppPath<PathId>,
) -> Result<impl IntoResponse, WebError> {
    let bookings = state
        .app
        .current_bookings(&viewer.caller, user_id, None, &PageRequest::first(SHOWN))
        .await
        .or_page(&viewer)?;
    Ok(list_page(
        &viewer,
        user_id,
        "Current bookings",
        None,
        &bookings.items,
    ))
}

#[derive(Debug, Deserialize)]
struct StatusQuery {
    status: Option<String>,
}

async fn all(
    State(state): State<HttpState>,
    viewer: Viewer,
    AppPath(PathId(user_id)): AppPath<PathId>,
    Query(query): Query<StatusQuery>,
) -> Result<impl IntoResponse, WebError> {
    let status = query.status.as_deref().and_then(BookingStatus::parse);
    let which = AllBookings {
        status,
        ..AllBookings::default()
    };
    let bookings = state
        .app
        .all_bookings(&viewer.caller, user_id, which, &PageRequest::first(SHOWN))
        .await
        .or_page(&viewer)?;
    Ok(list_page(
        &viewer,
        user_id,
        "All bookings",
        Some(status.map_or("", BookingStatus::as_str)),
        &bookings.items,
    ))
}

/// A list of bookings; `status` is the filter shown, for the page of all bookings.
fn list_page(
    viewer: &Viewer,
    user_id: Uuid,
    heading: &str,
    status: Option<&str>,
    bookings: &[Booking],
) -> BookingsPage {
    BookingsPage {
        nav: viewer.nav(),
        heading: heading.to_owned(),
        user_path: format!("/user/{user_id}"),
        all: status.is_some(),
        status: status.unwrap_or_default().to_owned(),
        bookings: bookings
            .iter()
            .map(|b| BookingView::of(b, user_id))
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
    State(state): State<HttpState>,
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
    state: &HttpState,
    viewer: &Viewer,
    user_id: Uuid,
    booking_id: Uuid,
    notice: Option<String>,
    errors: FormErrors,
    status: StatusCode,
) -> Result<Response, WebError> {
    let details = state
        .app
        .booking_details(&viewer.caller, user_id, booking_id)
        .await
        .or_page(viewer)?;
    let zone = details.booking.session_details.time_zone.clone();
    let alternatives = state
        .app
        .move_options(&viewer.caller, user_id, booking_id)
        .await
        .or_page(viewer)?
        .iter()
        .map(|s| SessionView::of(s, &zone))
        .collect();
    let page = BookingPage {
        nav: viewer.nav(),
        booking: BookingView::of(&details.booking, user_id),
        is_provider_side: details.side == Side::Provider,
        user_path: format!("/user/{user_id}"),
        alternatives,
        csrf: viewer.csrf.clone(),
        notice,
        errors,
    };
    Ok((status, page).into_response())
}

async fn cancel_booking(
    State(state): State<HttpState>,
    viewer: Viewer,
    AppPath((PathId(user_id), PathId(booking_id))): AppPath<(PathId, PathId)>,
    WebForm(form): WebForm<ReasonForm>,
) -> Result<Response, WebError> {
    let cancelled = state
        .app
        .cancel_booking(&viewer.caller, user_id, booking_id, form.reason)
        .await
        .map_err(NotDone::from);
    let done = |_| format!("/user/{user_id}/bookings/{booking_id}?done=cancelled");
    answer(&viewer, cancelled, done, |status, errors| {
        render_booking(&state, &viewer, user_id, booking_id, None, errors, status)
    })
    .await
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
    State(state): State<HttpState>,
    viewer: Viewer,
    AppPath((PathId(user_id), PathId(booking_id))): AppPath<(PathId, PathId)>,
    WebForm(form): WebForm<ChangeForm>,
) -> Result<Response, WebError> {
    let updated = async {
        let session_id = match optional(form.session_id).map(|s| s.parse::<Uuid>()) {
            Some(Ok(id)) => Some(id),
            Some(Err(_)) => {
                let mut errors = FormErrors::default();
                errors.field("sessionId", "choose a session from the list");
                return Err(errors.into());
            }
            None => None,
        };
        let update = BookingUpdate {
            session_id,
            // A submitted notes box, even empty, is a change (empty clears them).
            notes: form.notes,
            status: form.status.as_deref().and_then(BookingStatus::parse),
        };
        Ok(state
            .app
            .update_booking(&viewer.caller, user_id, booking_id, update)
            .await?)
    }
    .await;
    let done = |_| format!("/user/{user_id}/bookings/{booking_id}?done=updated");
    answer(&viewer, updated, done, |status, errors| {
        render_booking(&state, &viewer, user_id, booking_id, None, errors, status)
    })
    .await
}
