//! A provider's sessions: add one or a weekly series, move or edit one, cancel one.

use super::{prelude::*, services::ReasonQuery};
use crate::{
    app::{CancelledSession, NewSessions, SessionEdit},
    domain::session::Session,
};

pub fn router() -> OpenApiRouter<HttpState> {
    OpenApiRouter::new()
        .routes(routes!(add_sessions))
        .routes(routes!(edit_session, cancel_session))
}

/// A path to one session: its provider, service and id.
type SessionPath = AppPath<(PathId, PathId, PathId)>;

/// Add one session, or a weekly series computed in the service's time zone (a 09:00 class stays
/// at 09:00 local across a DST change). Answers every session made, soonest first.
#[utoipa::path(
    post, path = "/api/user/{userID}/services/{serviceID}/sessions", tag = "sessions",
    params(("userID" = Uuid, Path), ("serviceID" = Uuid, Path)),
    request_body = NewSessions,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "The sessions made", body = Vec<Session>),
        (status = 409, description = "The service is archived (`service_archived`)",
            body = crate::http::problem::Problem, content_type = "application/problem+json"),
        WriteErrors,
    )
)]
async fn add_sessions(
    State(state): State<HttpState>,
    caller: Caller,
    AppPath((PathId(user_id), PathId(service_id))): AppPath<(PathId, PathId)>,
    AppJson(body): AppJson<NewSessions>,
) -> Result<(StatusCode, Json<Vec<Session>>), ApiError> {
    let added = state
        .app
        .add_sessions(&caller, user_id, service_id, body)
        .await?;
    Ok((StatusCode::CREATED, Json(added)))
}

/// Move or edit a session; its bookings follow it. The capacity cannot go below the places
/// already booked.
#[utoipa::path(
    patch, path = "/api/user/{userID}/services/{serviceID}/sessions/{sessionID}", tag = "sessions",
    params(("userID" = Uuid, Path), ("serviceID" = Uuid, Path), ("sessionID" = Uuid, Path)),
    request_body = SessionEdit,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The session as it is now", body = Session),
        (status = 409, description = "Cancelled (`session_cancelled`) or the capacity is below \
            the places booked (`capacity_below_booked`)", body = crate::http::problem::Problem,
            content_type = "application/problem+json"),
        WriteErrors,
    )
)]
async fn edit_session(
    State(state): State<HttpState>,
    caller: Caller,
    AppPath((PathId(user), PathId(service), PathId(session))): SessionPath,
    AppJson(edit): AppJson<SessionEdit>,
) -> Result<Json<Session>, ApiError> {
    let session = state
        .app
        .edit_session(&caller, (user, service, session), edit)
        .await?;
    Ok(Json(session))
}

/// Cancel a session that has not ended; its pending bookings are cancelled with the reason.
/// Cancelling a cancelled session changes nothing.
#[utoipa::path(
    delete, path = "/api/user/{userID}/services/{serviceID}/sessions/{sessionID}", tag = "sessions",
    params(("userID" = Uuid, Path), ("serviceID" = Uuid, Path), ("sessionID" = Uuid, Path), ReasonQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The session, cancelled", body = CancelledSession),
        (status = 409, description = "The session has ended (`session_ended`)",
            body = crate::http::problem::Problem, content_type = "application/problem+json"),
        ReadErrors,
    )
)]
async fn cancel_session(
    State(state): State<HttpState>,
    caller: Caller,
    AppPath((PathId(user), PathId(service), PathId(session))): SessionPath,
    AppQuery(query): AppQuery<ReasonQuery>,
) -> Result<Json<CancelledSession>, ApiError> {
    let cancelled = state
        .app
        .cancel_session(&caller, (user, service, session), query.reason)
        .await?;
    Ok(Json(cancelled))
}
