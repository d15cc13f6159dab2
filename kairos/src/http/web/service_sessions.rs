//! The session forms on a provider's service page: add sessions (one, or a weekly series) and
//! cancel one. A refused form shows the service's page again with its errors.

use super::{
    forms::{NotDone, answer},
    prelude::*,
    service_forms::SessionForm,
    services::{Shown, render_errors, render_service},
};

pub fn router() -> Router<HttpState> {
    Router::new()
        .route(
            "/user/{userID}/services/{serviceID}/sessions",
            post(add_sessions),
        )
        .route(
            "/user/{userID}/services/{serviceID}/sessions/{sessionID}/cancel",
            post(cancel_session),
        )
}

async fn add_sessions(
    State(state): State<HttpState>,
    viewer: Viewer,
    AppPath((PathId(user_id), PathId(service_id))): AppPath<(PathId, PathId)>,
    WebForm(form): WebForm<SessionForm>,
) -> Result<Response, WebError> {
    // The start is typed in the service's own time zone.
    let service = state
        .app
        .own_service(&viewer.caller, user_id, service_id)
        .await
        .or_page(&viewer)?;
    let added = async {
        let request = form.request(&service)?;
        Ok(state
            .app
            .add_sessions(&viewer.caller, user_id, service_id, request)
            .await?)
    }
    .await;
    let done = |_| format!("/user/{user_id}/services/{service_id}?done=sessions");
    answer(&viewer, added, done, |_, errors| {
        let shown = Shown {
            errors,
            session_form: Some(form),
            ..Shown::default()
        };
        render_service(&state, &viewer, user_id, service_id, shown)
    })
    .await
}

async fn cancel_session(
    State(state): State<HttpState>,
    viewer: Viewer,
    AppPath((PathId(user_id), PathId(service_id), PathId(session_id))): AppPath<(
        PathId,
        PathId,
        PathId,
    )>,
    WebForm(form): WebForm<ReasonForm>,
) -> Result<Response, WebError> {
    let cancelled = state
        .app
        .cancel_session(
            &viewer.caller,
            (user_id, service_id, session_id),
            form.reason,
        )
        .await
        .map_err(NotDone::from);
    let done = |_| format!("/user/{user_id}/services/{service_id}?done=cancelled");
    answer(&viewer, cancelled, done, |_, errors| {
        render_errors(&state, &viewer, (user_id, service_id), errors)
    })
    .await
}
