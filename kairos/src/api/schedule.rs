//! Schedules and the calendar feed: the answer to the seed's "Should we use the goog calender
//! API?" is an RFC 5545 feed that Google, Apple and Outlook calendars subscribe to by URL.

use axum::{
    Json,
    extract::{OriginalUri, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use chrono::Duration;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use crate::{
    api::{
        access::{owned_service, path_user, time_page},
        catalogue::RangeQuery,
        docs::{AuthErrors, InputErrors, NotFound, RateLimited, Unavailable},
        extract::{AppPath, AppQuery},
        paged,
    },
    auth::{
        AuthUser, ClientIp,
        tokens::{hash_refresh_token, new_refresh_token},
    },
    domain::{
        calendar::{CalendarEvent, render_feed},
        clock,
        id::PathId,
        page::{Page, time_cursor},
        schedule::ScheduleEntry,
        user::{Role, User},
    },
    error::ApiError,
    state::AppState,
    store::{
        BookingFilter, Perspective,
        schedule::{BookingEvent, SessionEvent},
    },
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(schedule))
        .routes(routes!(service_schedule))
        .routes(routes!(rotate_feed))
        .routes(routes!(calendar_feed))
}

/// A user's schedule between `from` (default now) and `to` (default 30 days on), in time order:
/// a customer's booked sessions, or a provider's sessions with their attendees.
#[utoipa::path(
    get, path = "/api/user/{userID}/schedule", tag = "schedule",
    params(("userID" = Uuid, Path), RangeQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of entries; a next page is in `Link`",
            body = Vec<ScheduleEntry>),
        AuthErrors, InputErrors, NotFound, Unavailable,
    )
)]
async fn schedule(
    State(state): State<AppState>,
    caller: AuthUser,
    AppPath(PathId(user_id)): AppPath<PathId>,
    OriginalUri(uri): OriginalUri,
    AppQuery(query): AppQuery<RangeQuery>,
) -> Result<Response, ApiError> {
    let user = path_user(&state, &caller, user_id).await?;
    schedule_page(&state, &user, None, &query)
        .await
        .map(|page| paged(&uri, page))
}

/// The same for one service.
#[utoipa::path(
    get, path = "/api/user/{userID}/schedule/{serviceID}", tag = "schedule",
    params(("userID" = Uuid, Path), ("serviceID" = Uuid, Path), RangeQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of entries; a next page is in `Link`",
            body = Vec<ScheduleEntry>),
        AuthErrors, InputErrors, NotFound, Unavailable,
    )
)]
async fn service_schedule(
    State(state): State<AppState>,
    caller: AuthUser,
    AppPath((PathId(user_id), PathId(service_id))): AppPath<(PathId, PathId)>,
    OriginalUri(uri): OriginalUri,
    AppQuery(query): AppQuery<RangeQuery>,
) -> Result<Response, ApiError> {
    let user = path_user(&state, &caller, user_id).await?;
    if user.role == Role::Provider {
        owned_service(&state, &user, service_id).await?;
    } else if state.store.service(service_id).await?.is_none() {
        return Err(ApiError::NotFound("service"));
    }
    schedule_page(&state, &user, Some(service_id), &query)
        .await
        .map(|page| paged(&uri, page))
}

/// One page of a user's schedule, as the API and the week view show it.
pub async fn schedule_page(
    state: &AppState,
    user: &User,
    service_id: Option<Uuid>,
    query: &RangeQuery,
) -> Result<Page<ScheduleEntry>, ApiError> {
    let (from, to) = query.range()?;
    let (limit, after) = time_page(query.limit, query.cursor.as_deref())?;
    if user.role == Role::Provider {
        let entries = state
            .store
            .provider_schedule(user.id, from, to, service_id, after, limit + 1)
            .await?;
        return Ok(Page::from_overfetch(entries, limit, |e| {
            time_cursor(
                e.starts_at,
                e.session.as_ref().map_or(Uuid::nil(), |s| s.id),
            )
        }));
    }
    let bookings = state
        .store
        .customer_schedule(BookingFilter {
            user_id: user.id,
            perspective: Perspective::Customer,
            status: None,
            service_id,
            from: Some(from),
            to: Some(to),
            after,
            limit: limit + 1,
        })
        .await?;
    let entries = bookings
        .into_iter()
        .map(ScheduleEntry::of_booking)
        .collect();
    Ok(Page::from_overfetch(entries, limit, |e: &ScheduleEntry| {
        time_cursor(
            e.starts_at,
            e.booking.as_ref().map_or(Uuid::nil(), |b| b.id),
        )
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FeedUrl {
    /// Private: anyone with it can read the calendar. Calling again replaces it.
    pub url: String,
}

/// Make (or replace) the user's private calendar-feed URL; the old one stops working.
#[utoipa::path(
    post, path = "/api/user/{userID}/schedule/feed", tag = "schedule",
    params(("userID" = Uuid, Path)),
    security(("bearer" = [])),
    responses((status = 200, body = FeedUrl), AuthErrors, InputErrors, NotFound, Unavailable)
)]
async fn rotate_feed(
    State(state): State<AppState>,
    caller: AuthUser,
    AppPath(PathId(user_id)): AppPath<PathId>,
) -> Result<Json<FeedUrl>, ApiError> {
    let user = path_user(&state, &caller, user_id).await?;
    let url = new_feed_url(&state, &user).await?;
    Ok(Json(FeedUrl { url }))
}

/// Replaces the user's feed secret and answers the URL that carries the new one.
pub async fn new_feed_url(state: &AppState, user: &User) -> Result<String, ApiError> {
    let (token, hash) = new_refresh_token().map_err(ApiError::Internal)?;
    state
        .store
        .set_calendar_feed(user.id, hash, clock::now())
        .await?;
    Ok(format!(
        "{}/user/{}/schedule.ics?token={token}",
        state.public_url,
        user.id.simple()
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct FeedQuery {
    /// The secret from the feed URL.
    pub token: String,
}

/// How far back a feed reaches.
const FEED_HISTORY_DAYS: i64 = 180;

/// The calendar feed (`text/calendar`): one event per booking for a customer (cancellations
/// kept as `STATUS:CANCELLED`), one per session for a provider. A wrong token is 404.
#[utoipa::path(
    get, path = "/user/{userID}/schedule.ics", tag = "schedule",
    params(("userID" = Uuid, Path), FeedQuery),
    responses(
        (status = 200, description = "RFC 5545 iCalendar, with an `ETag`",
            content_type = "text/calendar", body = String),
        (status = 304, description = "Unchanged since the `If-None-Match` ETag"),
        InputErrors, NotFound, RateLimited, Unavailable,
    )
)]
async fn calendar_feed(
    State(state): State<AppState>,
    client: ClientIp,
    AppPath(PathId(user_id)): AppPath<PathId>,
    AppQuery(query): AppQuery<FeedQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    state.rate_limits.feed.admit(client)?;
    if !state
        .store
        .is_calendar_feed(user_id, hash_refresh_token(&query.token))
        .await?
    {
        return Err(ApiError::NotFound("calendar"));
    }
    let user = state
        .store
        .user(user_id)
        .await?
        .ok_or(ApiError::NotFound("calendar"))?;
    let since = clock::now() - Duration::days(FEED_HISTORY_DAYS);
    let events: Vec<CalendarEvent> = if user.role == Role::Provider {
        state
            .store
            .session_events(user.id, since)
            .await?
            .into_iter()
            .map(session_event)
            .collect()
    } else {
        state
            .store
            .booking_events(user.id, since)
            .await?
            .into_iter()
            .map(booking_event)
            .collect()
    };
    let body = render_feed("Kairos", &events);
    let etag = format!("\"{}\"", &hex(&Sha256::digest(body.as_bytes()))[..32]);
    let cached = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|tags| {
            tags.split(',')
                .any(|tag| tag.trim() == etag || tag.trim() == "*")
        });
    let mut response = if cached {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        (
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/calendar; charset=utf-8"),
            )],
            body,
        )
            .into_response()
    };
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&etag) {
        headers.insert(header::ETAG, value);
    }
    // The URL is a secret: private caches only, and revalidate with the ETag.
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-cache"),
    );
    Ok(response)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn describe(information: &str, notes: Option<&str>) -> String {
    let mut lines: Vec<String> = serde_json::from_str(information).unwrap_or_default();
    if let Some(notes) = notes {
        lines.push(format!("Notes: {notes}"));
    }
    lines.join("\n")
}

fn booking_event(b: BookingEvent) -> CalendarEvent {
    CalendarEvent {
        uid: format!("booking-{}@kairos", b.id),
        summary: b.service_name,
        description: describe(&b.additional_information, b.notes.as_deref()),
        location: b.location,
        starts_at: b.starts_at,
        ends_at: b.ends_at,
        cancelled: b.status == "Cancelled",
        sequence: b.sequence,
        last_modified: b.updated_at,
    }
}

fn session_event(s: SessionEvent) -> CalendarEvent {
    CalendarEvent {
        uid: format!("session-{}@kairos", s.id),
        summary: format!("{} ({}/{} booked)", s.service_name, s.booked, s.capacity),
        description: describe(&s.additional_information, None),
        location: s.location,
        starts_at: s.starts_at,
        ends_at: s.ends_at,
        cancelled: s.status == "cancelled",
        sequence: s.sequence,
        last_modified: s.updated_at,
    }
}
