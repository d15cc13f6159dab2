//! The outbox as an admin sees it: every message Kairos owes or has sent, with its tries and
//! last error, and a retry for one that failed.

use super::prelude::*;
use crate::domain::outbox::{MessageStatus, OutboxMessage};

pub fn router() -> OpenApiRouter<HttpState> {
    OpenApiRouter::new()
        .routes(routes!(list_messages))
        .routes(routes!(retry_message))
}

/// Which messages, and which page of them.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct OutboxQuery {
    /// Only messages in this state.
    pub status: Option<MessageStatus>,
    /// How many items to return: 1 to 200, default 50.
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// Where to continue, as given in the previous page's `Link: <...>; rel="next"`.
    #[param(pattern = r"^[0-9a-fA-F]{32}$")]
    pub cursor: Option<String>,
}

/// The outbox, newest first: each message with its state, tries and last error (admins).
#[utoipa::path(
    get, path = "/api/admin/outbox", tag = "admin",
    params(OutboxQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of messages; a next page is in `Link`",
            body = Vec<OutboxMessage>),
        AuthErrors, InputErrors, Unavailable,
    )
)]
async fn list_messages(
    State(state): State<HttpState>,
    Admin(caller): Admin,
    OriginalUri(uri): OriginalUri,
    AppQuery(query): AppQuery<OutboxQuery>,
) -> Result<Response, ApiError> {
    let page = PageRequest {
        limit: query.limit,
        cursor: query.cursor,
    };
    let messages = state.app.outbox(&caller, query.status, &page).await?;
    Ok(paged(&uri, messages))
}

/// Send a failed message again, from its first try (admins).
#[utoipa::path(
    post, path = "/api/admin/outbox/{messageID}/retry", tag = "admin",
    params(("messageID" = uuid::Uuid, Path)),
    security(("bearer" = [])),
    responses(
        (status = 202, description = "Queued again; it goes out shortly", body = OutboxMessage),
        (status = 409, description = "Only a failed message can be retried \
            (`message_not_failed`)",
            body = crate::http::problem::Problem, content_type = "application/problem+json"),
        ReadErrors,
    )
)]
async fn retry_message(
    State(state): State<HttpState>,
    Admin(caller): Admin,
    AppPath(PathId(message_id)): AppPath<PathId>,
) -> Result<(StatusCode, Json<OutboxMessage>), ApiError> {
    let message = state.app.retry_message(&caller, message_id).await?;
    Ok((StatusCode::ACCEPTED, Json(message)))
}
