//! Schedules and the calendar feed: the answer to the seed's "Should we use the goog calender
//! API?" is an RFC 5545 feed that Google, Apple and Outlook calendars subscribe to by URL.

use axum::http::header;

use super::{catalogue::RangeQuery, prelude::*};
use crate::{domain::schedule::ScheduleEntry, http::client_ip::ClientIp};

pub fn router() -> OpenApiRouter<HttpState> {
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
        ReadErrors,
    )
)]
async fn schedule(
    State(state): State<HttpState>,
    caller: Caller,
    AppPath(PathId(user_id)): AppPath<PathId>,
    OriginalUri(uri): OriginalUri,
    AppQuery(query): AppQuery<RangeQuery>,
) -> Result<Response, ApiError> {
    let (range, page) = query.into_parts();
    let entries = state
        .app
        .schedule(&caller, user_id, None, range, &page)
        .await?;
    Ok(paged(&uri, entries))
}

/// The same for one service.
#[utoipa::path(
    get, path = "/api/user/{userID}/schedule/{serviceID}", tag = "schedule",
    params(("userID" = Uuid, Path), ("serviceID" = Uuid, Path), RangeQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of entries; a next page is in `Link`",
            body = Vec<ScheduleEntry>),
        ReadErrors,
    )
)]
async fn service_schedule(
    State(state): State<HttpState>,
    caller: Caller,
    AppPath((PathId(user_id), PathId(service_id))): AppPath<(PathId, PathId)>,
    OriginalUri(uri): OriginalUri,
    AppQuery(query): AppQuery<RangeQuery>,
) -> Result<Response, ApiError> {
    let (range, page) = query.into_parts();
    let entries = state
        .app
        .schedule(&caller, user_id, Some(service_id), range, &page)
        .await?;
    Ok(paged(&uri, entries))
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
    responses(
        (status = 200, description = "The new private feed URL", body = FeedUrl),
        ReadErrors,
    )
)]
async fn rotate_feed(
    State(state): State<HttpState>,
    caller: Caller,
    AppPath(PathId(user_id)): AppPath<PathId>,
) -> Result<Json<FeedUrl>, ApiError> {
    let url = state.app.new_feed_url(&caller, user_id).await?;
    Ok(Json(FeedUrl { url }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct FeedQuery {
    /// The secret from the feed URL.
    pub token: String,
}

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
    State(state): State<HttpState>,
    client: ClientIp,
    AppPath(PathId(user_id)): AppPath<PathId>,
    AppQuery(query): AppQuery<FeedQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    state.rate_limits.feed.admit(client)?;
    let feed = state.app.calendar_feed(user_id, &query.token).await?;
    let cached = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|tags| {
            tags.split(',')
                .any(|tag| tag.trim() == feed.etag || tag.trim() == "*")
        });
    let mut response = if cached {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        (
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/calendar; charset=utf-8"),
            )],
            feed.body,
        )
            .into_response()
    };
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&feed.etag) {
        headers.insert(header::ETAG, value);
    }
    // The URL is a secret: private caches only, and revalidate with the ETag.
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-cache"),
    );
    Ok(response)
}
