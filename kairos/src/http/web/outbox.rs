//! The admin's outbox page: the mails waiting and those that failed, with their last error and
//! a button to send a failed one again; the latest sent below.

use super::{admin::admin_path, prelude::*};
use crate::domain::outbox::{MessageStatus, OutboxMessage};

pub fn router() -> Router<HttpState> {
    Router::new()
        .route("/user/{userID}/outbox", get(outbox))
        .route("/user/{userID}/outbox/{messageID}/retry", post(retry))
}

/// How many of each state the page shows.
const SHOWN: u32 = 100;

struct MessageRow {
    id: Uuid,
    kind: String,
    recipient: String,
    subject: String,
    attempts: i64,
    last_error: String,
    /// When it was made, or (pending) when it is tried next, or (sent) when it went.
    at: String,
}

impl MessageRow {
    fn of(message: OutboxMessage) -> Self {
        let at = message
            .next_attempt_at
            .or(message.sent_at)
            .unwrap_or(message.created_at);
        Self {
            id: message.id,
            kind: message.kind,
            recipient: message.recipient,
            subject: message.subject,
            attempts: message.attempts,
            last_error: message.last_error.unwrap_or_default(),
            at: at.format("%Y-%m-%d %H:%M UTC").to_string(),
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "admin_outbox.html")]
struct OutboxPage {
    nav: Nav,
    user_path: String,
    notice: Option<String>,
    pending: Vec<MessageRow>,
    failed: Vec<MessageRow>,
    sent: Vec<MessageRow>,
}

#[derive(Debug, Deserialize)]
struct DoneQuery {
    done: Option<String>,
}

async fn outbox(
    State(state): State<HttpState>,
    viewer: Viewer,
    AppPath(PathId(user_id)): AppPath<PathId>,
    Query(query): Query<DoneQuery>,
) -> Result<impl IntoResponse, WebError> {
    admin_path(&viewer, user_id)?;
    let of = |status| {
        let (app, caller) = (state.app.clone(), viewer.caller.clone());
        async move {
            app.outbox(&caller, Some(status), &PageRequest::first(SHOWN))
                .await
                .map(|page| {
                    page.items
                        .into_iter()
                        .map(MessageRow::of)
                        .collect::<Vec<_>>()
                })
        }
    };
    Ok(OutboxPage {
        nav: viewer.nav(),
        user_path: format!("/user/{}", viewer.id()),
        notice: (query.done.as_deref() == Some("retried"))
            .then(|| "Queued again: it goes out shortly.".to_owned()),
        pending: of(MessageStatus::Pending).await.or_page(&viewer)?,
        failed: of(MessageStatus::Failed).await.or_page(&viewer)?,
        sent: of(MessageStatus::Sent).await.or_page(&viewer)?,
    })
}

async fn retry(
    State(state): State<HttpState>,
    viewer: Viewer,
    AppPath((PathId(user_id), PathId(message_id))): AppPath<(PathId, PathId)>,
    WebForm(EmptyForm {}): WebForm<EmptyForm>,
) -> Result<Response, WebError> {
    admin_path(&viewer, user_id)?;
    state
        .app
        .retry_message(&viewer.caller, message_id)
        .await
        .or_page(&viewer)?;
    Ok(see(&format!("/user/{user_id}/outbox?done=retried")))
}
