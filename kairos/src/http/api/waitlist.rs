//! The waitlist: join a full session's list, see your places in lists, leave one.

use super::{TimePageQuery, prelude::*};
use crate::{app::JoinRequest, domain::waitlist::WaitlistEntry};

pub fn router() -> OpenApiRouter<HttpState> {
    OpenApiRouter::new()
        .routes(routes!(join_waitlist, waitlist))
        .routes(routes!(leave_waitlist))
}

/// Wait for a place in a full session. When one frees up (a cancellation, a booking moved
/// away, a capacity raised), the first in line gets a Pending booking in the same transaction,
/// before anyone else can take it, and is e-mailed; someone who by then holds a live booking
/// at an overlapping time is passed over and keeps their place. The list ends when the session
/// can no longer be booked (it started, it is inside the booking notice, it or its service was
/// withdrawn, or the service turned its waitlist off); whoever is still on it then gets a
/// `waitlist.ended` event and a mail saying why.
#[utoipa::path(
    post, path = "/api/user/{userID}/waitlist", tag = "waitlist",
    params(("userID" = uuid::Uuid, Path)),
    request_body = JoinRequest,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "On the list, at `position` (1 is next)",
            body = WaitlistEntry),
        (status = 409, description = "The session has room (`session_not_full`: book it), you \
            hold a booking of it (`already_booked`) or wait already (`already_waiting`), it was \
            cancelled (`session_cancelled`), or its service has no waitlist \
            (`waitlist_disabled`)", body = crate::http::problem::Problem,
            content_type = "application/problem+json"),
        (status = 422, description = "The session has started (`session_started`), is too soon \
            (`booking_notice`) or its service is not published (`service_not_published`)",
            body = crate::http::problem::Problem, content_type = "application/problem+json"),
        WriteErrors,
        (status = 403, description = "Not the caller's own path, or the session is of the \
            caller's own service (`own_service`)", body = crate::http::problem::Problem,
            content_type = "application/problem+json"),
    )
)]
async fn join_waitlist(
    State(state): State<HttpState>,
    caller: Caller,
    AppPath(PathId(user_id)): AppPath<PathId>,
    AppJson(body): AppJson<JoinRequest>,
) -> Result<(StatusCode, Json<WaitlistEntry>), ApiError> {
    let entry = state.app.join_waitlist(&caller, user_id, body).await?;
    Ok((StatusCode::CREATED, Json(entry)))
}

/// Your places in lists still served, soonest session first, each with its current position.
#[utoipa::path(
    get, path = "/api/user/{userID}/waitlist", tag = "waitlist",
    params(("userID" = uuid::Uuid, Path), TimePageQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of waitlist entries; a next page is in `Link`",
            body = Vec<WaitlistEntry>),
        ReadErrors, InputErrors,
    )
)]
async fn waitlist(
    State(state): State<HttpState>,
    caller: Caller,
    OriginalUri(uri): OriginalUri,
    AppPath(PathId(user_id)): AppPath<PathId>,
    AppQuery(page): AppQuery<TimePageQuery>,
) -> Result<Response, ApiError> {
    let entries = state.app.waitlist(&caller, user_id, &page.into()).await?;
    Ok(paged(&uri, entries))
}

/// Leave a list. An entry that is gone (you were given a place, or the list ended) is 404.
#[utoipa::path(
    delete, path = "/api/user/{userID}/waitlist/{entryID}", tag = "waitlist",
    params(("userID" = uuid::Uuid, Path), ("entryID" = uuid::Uuid, Path)),
    security(("bearer" = [])),
    responses((status = 204, description = "Off the list"), ReadErrors)
)]
async fn leave_waitlist(
    State(state): State<HttpState>,
    caller: Caller,
    AppPath((PathId(user_id), PathId(entry_id))): AppPath<(PathId, PathId)>,
) -> Result<StatusCode, ApiError> {
    state.app.leave_waitlist(&caller, user_id, entry_id).await?;
    Ok(StatusCode::NO_CONTENT)
}
