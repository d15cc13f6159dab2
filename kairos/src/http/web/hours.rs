//! `/user/{id}/services/{serviceID}/hours`: a provider sets a service's working hours as text
//! (a window per line, an exception per line), sees the rule and the week it makes, or removes it.

use super::{
    forms::{FormErrors, number, optional},
    prelude::*,
    view::SessionView,
};
use crate::{
    app::{AvailabilityInput, SessionsShown},
    domain::{
        availability::{Availability, DateException, WeeklyHours},
        session::Weekday,
    },
};

pub fn router() -> Router<HttpState> {
    Router::new()
        .route(
            "/user/{userID}/services/{serviceID}/hours",
            get(hours_page).post(save),
        )
        .route(
            "/user/{userID}/services/{serviceID}/hours/remove",
            post(remove),
        )
}

/// The form as typed.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct HoursForm {
    /// One window per line: weekdays, then `HH:MM-HH:MM` (`mon tue 09:00-17:00`).
    weekly: String,
    slot_minutes: String,
    gap_minutes: String,
    horizon_days: String,
    /// One date per line: `2027-01-05 closed` or `2027-01-06 14:00-15:00`.
    exceptions: String,
}

impl HoursForm {
    fn of(rule: &Availability) -> Self {
        let days = |weekdays: &[Weekday]| {
            weekdays
                .iter()
                .filter_map(|d| DAYS.iter().find(|(_, day)| day == d).map(|(name, _)| *name))
                .collect::<Vec<_>>()
                .join(" ")
        };
        Self {
            weekly: rule
                .weekly
                .iter()
                .map(|h| format!("{} {}-{}", days(&h.weekdays), h.from, h.to))
                .collect::<Vec<_>>()
                .join("\n"),
            slot_minutes: rule.slot_minutes.to_string(),
            gap_minutes: rule.gap_minutes.to_string(),
            horizon_days: rule.horizon_days.to_string(),
            exceptions: rule
                .exceptions
                .iter()
                .map(|e| match (&e.from, &e.to) {
                    (Some(from), Some(to)) => format!("{} {from}-{to}", e.date),
                    _ => format!("{} closed", e.date),
                })
                .collect::<Vec<_>>()
                .join("\n"),
        }
    }

    /// The API's input, or what does not read.
    fn input(&self) -> Result<AvailabilityInput, FormErrors> {
        let mut errors = FormErrors::default();
        let mut weekly = Vec::new();
        for line in self.weekly.lines().map(str::trim).filter(|l| !l.is_empty()) {
            let mut words: Vec<&str> = line.split_whitespace().collect();
            let hours = words.pop().and_then(|w| w.split_once('-'));
            let weekdays: Option<Vec<Weekday>> = words.iter().map(|w| weekday(w)).collect();
            match (weekdays, hours) {
                (Some(weekdays), Some((from, to))) if !weekdays.is_empty() => {
                    weekly.push(WeeklyHours {
                        weekdays,
                        from: from.to_owned(),
                        to: to.to_owned(),
                    });
                }
                _ => errors.field("weekly", format!("`{line}`: write days, then HH:MM-HH:MM")),
            }
        }
        let mut exceptions = Vec::new();
        for line in self
            .exceptions
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
        {
            let (date, rest) = line.split_once(' ').unwrap_or((line, ""));
            let rest = rest.trim();
            match (date.parse(), rest.split_once('-')) {
                (Ok(date), _) if rest == "closed" => exceptions.push(DateException {
                    date,
                    closed: Some(true),
                    from: None,
                    to: None,
                }),
                (Ok(date), Some((from, to))) => exceptions.push(DateException {
                    date,
                    closed: None,
                    from: Some(from.trim().to_owned()),
                    to: Some(to.trim().to_owned()),
                }),
                _ => errors.field(
                    "exceptions",
                    format!("`{line}`: write YYYY-MM-DD closed, or YYYY-MM-DD HH:MM-HH:MM"),
                ),
            }
        }
        let mut whole = |text: &str, field: &str| {
            optional(Some(text.to_owned())).and_then(|t| number(&t, field, &mut errors))
        };
        let input = AvailabilityInput {
            weekly,
            slot_minutes: whole(&self.slot_minutes, "slotMinutes"),
            gap_minutes: whole(&self.gap_minutes, "gapMinutes"),
            horizon_days: whole(&self.horizon_days, "horizonDays"),
            exceptions: Some(exceptions),
        };
        if errors.is_empty() {
            Ok(input)
        } else {
            Err(errors)
        }
    }
}

/// How the form writes weekdays (it also reads longer words that start so: `monday`).
const DAYS: [(&str, Weekday); 7] = [
    ("mon", Weekday::Monday),
    ("tue", Weekday::Tuesday),
    ("wed", Weekday::Wednesday),
    ("thu", Weekday::Thursday),
    ("fri", Weekday::Friday),
    ("sat", Weekday::Saturday),
    ("sun", Weekday::Sunday),
];

fn weekday(word: &str) -> Option<Weekday> {
    let word = word.trim_end_matches(',').to_lowercase();
    DAYS.iter()
        .find(|(short, _)| word.get(..3) == Some(*short))
        .map(|(_, day)| *day)
}

#[derive(Template, WebTemplate)]
#[template(path = "hours.html")]
struct HoursPage {
    nav: Nav,
    service_name: String,
    time_zone: String,
    base: String,
    has_rule: bool,
    form: HoursForm,
    errors: FormErrors,
    notice: Option<String>,
    /// The sessions of the next seven days, as the rule (and anything else) made them.
    week: Vec<SessionView>,
}

#[derive(Debug, Deserialize)]
struct Done {
    made: Option<u64>,
    removed: Option<u64>,
    kept: Option<usize>,
}

async fn hours_page(
    State(state): State<HttpState>,
    viewer: Viewer,
    AppPath((PathId(user_id), PathId(service_id))): AppPath<(PathId, PathId)>,
    Query(done): Query<Done>,
) -> Result<Response, WebError> {
    let notice = done.removed.map(|removed| {
        format!(
            "Saved: {} sessions made, {removed} removed, {} kept because they have bookings.",
            done.made.unwrap_or(0),
            done.kept.unwrap_or(0)
        )
    });
    render(
        &state,
        &viewer,
        (user_id, service_id),
        None,
        FormErrors::default(),
        notice,
    )
    .await
}

async fn render(
    state: &HttpState,
    viewer: &Viewer,
    (user_id, service_id): (Uuid, Uuid),
    typed: Option<HoursForm>,
    errors: FormErrors,
    notice: Option<String>,
) -> Result<Response, WebError> {
    let details = state
        .app
        .service_details(&viewer.caller, user_id, service_id, SessionsShown::UPCOMING)
        .await
        .or_page(viewer)?;
    let rule = match state
        .app
        .availability(&viewer.caller, user_id, service_id)
        .await
    {
        Ok(rule) => Some(rule),
        Err(crate::app::AppError::NotFound(_)) => None,
        Err(error) => return Err(WebError::page(viewer.nav(), error.into())),
    };
    let service = details.service;
    let week_end = state.app.now() + chrono::Duration::days(7);
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let page = HoursPage {
        nav: viewer.nav(),
        service_name: service.name.clone(),
        time_zone: service.time_zone.clone(),
        base: format!("/user/{user_id}/services/{service_id}/hours"),
        has_rule: rule.is_some(),
        form: typed.unwrap_or_else(|| rule.as_ref().map(HoursForm::of).unwrap_or_default()),
        errors,
        notice,
        week: details
            .upcoming_sessions
            .unwrap_or_default()
            .iter()
            .filter(|s| s.starts_at < week_end)
            .map(|s| SessionView::of(s, &service.time_zone))
            .collect(),
    };
    Ok((status, page).into_response())
}

async fn save(
    State(state): State<HttpState>,
    viewer: Viewer,
    AppPath((PathId(user_id), PathId(service_id))): AppPath<(PathId, PathId)>,
    WebForm(form): WebForm<HoursForm>,
) -> Result<Response, WebError> {
    let ids = (user_id, service_id);
    let input = match form.input() {
        Ok(input) => input,
        Err(errors) => return render(&state, &viewer, ids, Some(form), errors, None).await,
    };
    match state
        .app
        .put_availability(&viewer.caller, user_id, service_id, input)
        .await
    {
        Ok(change) => Ok(see(&format!(
            "/user/{user_id}/services/{service_id}/hours?made={}&removed={}&kept={}",
            change.sessions_created,
            change.sessions_removed,
            change.kept.len()
        ))),
        Err(error) => {
            let errors = FormErrors::from_api(error).or_page(&viewer)?;
            render(&state, &viewer, ids, Some(form), errors, None).await
        }
    }
}

async fn remove(
    State(state): State<HttpState>,
    viewer: Viewer,
    AppPath((PathId(user_id), PathId(service_id))): AppPath<(PathId, PathId)>,
    WebForm(_): WebForm<EmptyForm>,
) -> Result<Response, WebError> {
    let change = state
        .app
        .remove_availability(&viewer.caller, user_id, service_id)
        .await
        .or_page(&viewer)?;
    Ok(see(&format!(
        "/user/{user_id}/services/{service_id}/hours?made=0&removed={}&kept={}",
        change.sessions_removed,
        change.kept.len()
    )))
}
