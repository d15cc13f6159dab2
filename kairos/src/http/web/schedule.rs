//! `/user/{id}/schedule`: a week view (previous and next week), and the calendar feed's link.

use chrono::{Datelike, Duration, NaiveDate};

use super::{
    prelude::*,
    view::{clock_range, local_date},
};
use crate::{app::TimeRange, domain::schedule::ScheduleEntry};

pub fn router() -> Router<HttpState> {
    Router::new()
        .route("/user/{userID}/schedule", get(week))
        .route("/user/{userID}/schedule/feed", post(rotate_feed))
}

struct Entry {
    time: String,
    title: String,
    detail: String,
    link: String,
    /// A provider's attendees: each links to the booking (never to anyone's e-mail address).
    attendees: Vec<(String, String)>,
}

struct Day {
    heading: String,
    entries: Vec<Entry>,
}

#[derive(Template, WebTemplate)]
#[template(path = "schedule.html")]
struct WeekPage {
    nav: Nav,
    heading: String,
    user_path: String,
    days: Vec<Day>,
    previous: String,
    next: String,
    feed_url: Option<String>,
}

#[derive(Debug, Deserialize)]
struct WeekQuery {
    /// Any day of the week to show (default: this week).
    week: Option<NaiveDate>,
}

async fn week(
    State(state): State<HttpState>,
    viewer: Viewer,
    AppPath(PathId(user_id)): AppPath<PathId>,
    Query(query): Query<WeekQuery>,
) -> Result<Response, WebError> {
    render_week(&state, &viewer, user_id, query.week, None).await
}

async fn render_week(
    state: &HttpState,
    viewer: &Viewer,
    user_id: Uuid,
    week: Option<NaiveDate>,
    feed_url: Option<String>,
) -> Result<Response, WebError> {
    let day = week.unwrap_or_else(|| state.app.now().date_naive());
    let monday = day - Duration::days(i64::from(day.weekday().num_days_from_monday()));
    let from = monday.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc();
    let to = from + Duration::days(7);
    let entries = state
        .app
        .schedule(
            &viewer.caller,
            user_id,
            None,
            TimeRange::between(from, to),
            &PageRequest::first(200),
        )
        .await
        .or_page(viewer)?
        .items;
    let user_path = format!("/user/{user_id}");
    let days = (0..7)
        .map(|offset| {
            let date = monday + Duration::days(offset);
            let key = date.format("%Y-%m-%d").to_string();
            let entries = entries
                .iter()
                .filter(|e| local_date(e.starts_at, &e.time_zone) == key)
                .map(|e| entry(e, &user_path))
                .collect();
            Day {
                heading: date.format("%a %d %b").to_string(),
                entries,
            }
        })
        .collect();
    let page = WeekPage {
        nav: viewer.nav(),
        heading: format!("Week of {}", monday.format("%d %B %Y")),
        previous: format!("{user_path}/schedule?week={}", monday - Duration::days(7)),
        next: format!("{user_path}/schedule?week={}", monday + Duration::days(7)),
        user_path,
        days,
        feed_url,
    };
    Ok(page.into_response())
}

fn entry(e: &ScheduleEntry, user_path: &str) -> Entry {
    let time = clock_range(e.starts_at, e.ends_at, &e.time_zone);
    if let Some(booking) = &e.booking {
        return Entry {
            time,
            title: e.service_name.clone(),
            detail: format!(
                "{} · {}",
                booking.status.as_str(),
                booking.session_details.location
            ),
            link: format!("{user_path}/bookings/{}", booking.id),
            attendees: Vec::new(),
        };
    }
    let (booked, capacity) = e
        .session
        .as_ref()
        .map_or((0, 0), |s| (s.booked, s.capacity));
    let attendees: Vec<(String, String)> = e
        .attendees
        .iter()
        .flatten()
        .enumerate()
        .map(|(i, a)| {
            let notes = a
                .notes
                .as_deref()
                .map(|n| format!(": {n}"))
                .unwrap_or_default();
            (
                format!("{user_path}/bookings/{}", a.booking_id),
                format!("Attendee {} ({}){notes}", i + 1, a.status.as_str()),
            )
        })
        .collect();
    Entry {
        time,
        title: e.service_name.clone(),
        detail: format!("{booked}/{capacity} booked"),
        link: format!("{user_path}/services/{}", e.service_id),
        attendees,
    }
}

/// Makes a new private feed URL (the old one stops working) and shows it.
async fn rotate_feed(
    State(state): State<HttpState>,
    viewer: Viewer,
    AppPath(PathId(user_id)): AppPath<PathId>,
    WebForm(EmptyForm {}): WebForm<EmptyForm>,
) -> Result<impl IntoResponse, WebError> {
    let url = state
        .app
        .new_feed_url(&viewer.caller, user_id)
        .await
        .or_page(&viewer)?;
    render_week(&state, &viewer, user_id, None, Some(url)).await
}
