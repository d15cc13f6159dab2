//! Waitlist forms: join a full session's list (from the service's page), leave one (from the
//! home page).

use super::{catalogue::refused_on_service, prelude::*};
use crate::app::JoinRequest;

pub fn router() -> Router<HttpState> {
    Router::new()
        .route("/user/{userID}/waitlist", post(join))
        .route("/user/{userID}/waitlist/{entryID}/leave", post(leave))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct JoinForm {
    session_id: Uuid,
}

/// Joins for the path's user, back to the service's page, which now shows the position; a
/// refusal is shown there too.
async fn join(
    State(state): State<HttpState>,
    viewer: Viewer,
    AppPath(PathId(user_id)): AppPath<PathId>,
    WebForm(form): WebForm<JoinForm>,
) -> Result<Response, WebError> {
    let request = JoinRequest {
        session_id: form.session_id,
    };
    match state
        .app
        .join_waitlist(&viewer.caller, user_id, request)
        .await
    {
        Ok(entry) => Ok(see(&format!(
            "/services/{}#session-{}",
            entry.service_id, entry.session_id
        ))),
        Err(error) => refused_on_service(&state, &viewer, form.session_id, error).await,
    }
}

async fn leave(
    State(state): State<HttpState>,
    viewer: Viewer,
    AppPath((PathId(user_id), PathId(entry_id))): AppPath<(PathId, PathId)>,
    WebForm(_): WebForm<EmptyForm>,
) -> Result<Response, WebError> {
    state
        .app
        .leave_waitlist(&viewer.caller, user_id, entry_id)
        .await
        .or_page(&viewer)?;
    Ok(see(&format!("/user/{user_id}")))
}
