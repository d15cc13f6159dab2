//! `/user/{id}`: the home page, "all about their bookings and services" at a glance.

use super::{
    prelude::*,
    view::{BookingView, ServiceView},
};
use crate::domain::{booking::BookingCounts, user::Role};

pub fn router() -> Router<HttpState> {
    Router::new().route("/user/{userID}", get(home))
}

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
    })
}
