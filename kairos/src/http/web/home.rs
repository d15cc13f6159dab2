//! `/user/{id}`: the home page, "all about their bookings and services" at a glance, and on
//! your own, whether Kairos mails you.

use super::{
    prelude::*,
    view::{BookingView, ServiceView, when},
};
use crate::{
    app::{AccountChanges, AppError},
    domain::{booking::BookingCounts, user::Role},
};

pub fn router() -> Router<HttpState> {
    Router::new()
        .route("/user/{userID}", get(home))
        .route("/user/{userID}/notifications", post(set_notifications))
}

struct WaitingView {
    entry_id: Uuid,
    service_id: Uuid,
    service_name: String,
    when: String,
    position: i64,
}

/// How many of the lists one waits on the home page shows.
const WAITING_SHOWN: u32 = 50;

#[derive(Template, WebTemplate)]
#[template(path = "home.html")]
struct HomePage {
    nav: Nav,
    heading: String,
    is_provider: bool,
    user_path: String,
    upcoming: Vec<BookingView>,
    counts: BookingCounts,
    services: Vec<ServiceView>,
    /// The lists the user waits on: the service, when, the position, the entry.
    waiting: Vec<WaitingView>,
    /// On your own page: whether Kairos mails you, with the form that changes it.
    mail: Option<bool>,
}

/// The mail setting's form: the box ticked, or not sent at all.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NotificationsForm {
    email_notifications: Option<String>,
}

async fn home(
    State(state): State<HttpState>,
    viewer: Viewer,
    AppPath(PathId(user_id)): AppPath<PathId>,
) -> Result<impl IntoResponse, WebError> {
    let home = state
        .app
        .home(&viewer.caller, user_id)
        .await
        .or_page(&viewer)?;
    let waiting = state
        .app
        .waitlist(&viewer.caller, user_id, &PageRequest::first(WAITING_SHOWN))
        .await
        .or_page(&viewer)?
        .items
        .into_iter()
        .map(|e| WaitingView {
            entry_id: e.id,
            service_id: e.service_id,
            when: when(e.starts_at, e.ends_at, &e.time_zone),
            service_name: e.service_name,
            position: e.position,
        })
        .collect();
    let heading = if home.user.id == viewer.id() {
        "Your bookings and services".to_owned()
    } else {
        format!("{}'s bookings and services", home.user.email)
    };
    Ok(HomePage {
        nav: viewer.nav(),
        heading,
        is_provider: home.user.role == Role::Provider,
        user_path: format!("/user/{}", home.user.id),
        upcoming: home
            .upcoming_bookings
            .iter()
            .map(|b| BookingView::of(b, home.user.id))
            .collect(),
        counts: home.counts,
        services: home
            .services
            .iter()
            .map(|s| ServiceView::of(&s.service, s.counts.clone()))
            .collect(),
        waiting,
        mail: (home.user.id == viewer.id()).then_some(home.user.email_notifications),
    })
}

/// Turns your own mail on or off (the same change as `PUT /api/users`).
async fn set_notifications(
    State(state): State<HttpState>,
    viewer: Viewer,
    AppPath(PathId(user_id)): AppPath<PathId>,
    WebForm(form): WebForm<NotificationsForm>,
) -> Result<Response, WebError> {
    if user_id != viewer.id() {
        // Whether someone gets mail is theirs to say, not even an admin's.
        return Err(WebError::page(viewer.nav(), AppError::Forbidden.into()));
    }
    let changes = AccountChanges {
        email_notifications: Some(form.email_notifications.is_some()),
        ..AccountChanges::default()
    };
    state
        .app
        .change_account(&viewer.caller, changes)
        .await
        .or_page(&viewer)?;
    Ok(see(&format!("/user/{user_id}")))
}
