//! A provider's (or admin's) webhooks page: add one, turn it on or off, rotate its secret (shown
//! once, on the page that answers), send a test, delete it, and each one's latest deliveries
//! with their outcome and a button to send one again.

use super::{
    forms::{NotDone, answer, optional},
    prelude::*,
};
use crate::{
    app::{WebhookInput, WebhookPatch},
    domain::{
        delivery::Delivery,
        webhook::{Webhook, WebhookWithSecret},
    },
};

pub fn router() -> Router<HttpState> {
    Router::new()
        .route("/user/{userID}/webhooks", get(page).post(create))
        .route(
            "/user/{userID}/webhooks/{webhookID}/enabled",
            post(set_enabled),
        )
        .route(
            "/user/{userID}/webhooks/{webhookID}/rotate-secret",
            post(rotate),
        )
        .route("/user/{userID}/webhooks/{webhookID}/test", post(test))
        .route("/user/{userID}/webhooks/{webhookID}/delete", post(delete))
        .route(
            "/user/{userID}/webhooks/{webhookID}/deliveries/{deliveryID}/redeliver",
            post(redeliver),
        )
}

/// Deliveries shown per webhook.
const RECENT: u32 = 10;

struct DeliveryRow {
    id: Uuid,
    event_type: String,
    status: &'static str,
    tries: usize,
    /// The last try's outcome: the status, or the error.
    outcome: String,
    at: String,
}

impl DeliveryRow {
    fn of(delivery: Delivery) -> Self {
        let last = delivery.attempts.last();
        let outcome = last.map_or_else(String::new, |a| match (&a.error, a.response_status) {
            (Some(error), _) => error.clone(),
            (None, Some(status)) => status.to_string(),
            (None, None) => String::new(),
        });
        let at = last.map_or(delivery.created_at, |a| a.attempted_at);
        Self {
            id: delivery.id,
            event_type: delivery.event_type,
            status: delivery.status.as_str(),
            tries: delivery.attempts.len(),
            outcome,
            at: at.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
        }
    }
}

struct WebhookRow {
    webhook: Webhook,
    events: String,
    deliveries: Vec<DeliveryRow>,
}

#[derive(Template, WebTemplate)]
#[template(path = "webhooks.html")]
struct WebhooksPage {
    nav: Nav,
    base: String,
    notice: Option<String>,
    /// A secret just made: (the webhook's id, the secret), shown this once.
    secret: Option<(Uuid, String)>,
    webhooks: Vec<WebhookRow>,
    form: NewWebhookForm,
    errors: FormErrors,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewWebhookForm {
    url: String,
    /// Event names separated by commas or spaces, or `*`.
    events: String,
    description: Option<String>,
}

impl NewWebhookForm {
    /// An empty form, for every event.
    fn blank() -> Self {
        Self {
            events: "*".to_owned(),
            ..Self::default()
        }
    }
}

#[derive(Debug, Deserialize)]
struct DoneQuery {
    done: Option<String>,
}

async fn page(
    State(state): State<HttpState>,
    viewer: Viewer,
    AppPath(PathId(user_id)): AppPath<PathId>,
    Query(query): Query<DoneQuery>,
) -> Result<Response, WebError> {
    let notice = match query.done.as_deref() {
        Some("test") => Some("Test queued: it is posted within a second or two."),
        Some("redelivered") => Some("Queued again: it is posted within a second or two."),
        Some("changed") => Some("Saved."),
        Some("deleted") => Some("Deleted."),
        _ => None,
    };
    let shown = Shown {
        notice: notice.map(str::to_owned),
        secret: None,
        form: NewWebhookForm::blank(),
        errors: FormErrors::default(),
    };
    draw(&state, &viewer, user_id, StatusCode::OK, shown).await
}

/// What a drawing of the page adds to the webhooks themselves.
struct Shown {
    notice: Option<String>,
    secret: Option<(Uuid, String)>,
    form: NewWebhookForm,
    errors: FormErrors,
}

async fn draw(
    state: &HttpState,
    viewer: &Viewer,
    user_id: Uuid,
    status: StatusCode,
    shown: Shown,
) -> Result<Response, WebError> {
    let caller = &viewer.caller;
    let listed = state
        .app
        .webhooks(caller, user_id, &PageRequest::first(200))
        .await
        .or_page(viewer)?;
    let mut webhooks = Vec::new();
    for webhook in listed.items {
        let deliveries = state
            .app
            .webhook_deliveries(caller, user_id, webhook.id, &PageRequest::first(RECENT))
            .await
            .or_page(viewer)?;
        webhooks.push(WebhookRow {
            events: webhook.events.join(", "),
            webhook,
            deliveries: deliveries.items.into_iter().map(DeliveryRow::of).collect(),
        });
    }
    let page = WebhooksPage {
        nav: viewer.nav(),
        base: format!("/user/{user_id}/webhooks"),
        notice: shown.notice,
        secret: shown.secret,
        webhooks,
        form: shown.form,
        errors: shown.errors,
    };
    Ok((status, page).into_response())
}

/// The page with a secret just made, shown this once (not a redirect: it must not sit in a URL).
async fn with_secret(
    state: &HttpState,
    viewer: &Viewer,
    user_id: Uuid,
    made: WebhookWithSecret,
    notice: &str,
) -> Result<Response, WebError> {
    let shown = Shown {
        notice: Some(notice.to_owned()),
        secret: Some((made.webhook.id, made.secret)),
        form: NewWebhookForm::blank(),
        errors: FormErrors::default(),
    };
    draw(state, viewer, user_id, StatusCode::OK, shown).await
}

async fn create(
    State(state): State<HttpState>,
    viewer: Viewer,
    AppPath(PathId(user_id)): AppPath<PathId>,
    WebForm(form): WebForm<NewWebhookForm>,
) -> Result<Response, WebError> {
    let input = WebhookInput {
        url: form.url.trim().to_owned(),
        events: form
            .events
            .split([',', ' '])
            .filter(|e| !e.is_empty())
            .map(str::to_owned)
            .collect(),
        description: optional(form.description.clone()),
    };
    match state
        .app
        .create_webhook(&viewer.caller, user_id, input)
        .await
    {
        Ok(made) => {
            let notice = "Added. Copy its secret now: it is not shown again.";
            with_secret(&state, &viewer, user_id, made, notice).await
        }
        Err(error) => {
            let outcome: Result<(), NotDone> = Err(error.into());
            answer(
                &viewer,
                outcome,
                |()| String::new(),
                |status, errors| {
                    let shown = Shown {
                        notice: None,
                        secret: None,
                        form,
                        errors,
                    };
                    draw(&state, &viewer, user_id, status, shown)
                },
            )
            .await
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct EnabledForm {
    enabled: bool,
}

async fn set_enabled(
    State(state): State<HttpState>,
    viewer: Viewer,
    AppPath((PathId(user_id), PathId(webhook_id))): AppPath<(PathId, PathId)>,
    WebForm(form): WebForm<EnabledForm>,
) -> Result<Response, WebError> {
    let patch = WebhookPatch {
        enabled: Some(form.enabled),
        ..WebhookPatch::default()
    };
    state
        .app
        .update_webhook(&viewer.caller, user_id, webhook_id, patch)
        .await
        .or_page(&viewer)?;
    Ok(see(&format!("/user/{user_id}/webhooks?done=changed")))
}

async fn rotate(
    State(state): State<HttpState>,
    viewer: Viewer,
    AppPath((PathId(user_id), PathId(webhook_id))): AppPath<(PathId, PathId)>,
    WebForm(EmptyForm {}): WebForm<EmptyForm>,
) -> Result<Response, WebError> {
    let made = state
        .app
        .rotate_webhook_secret(&viewer.caller, user_id, webhook_id)
        .await
        .or_page(&viewer)?;
    let notice =
        "A new secret: copy it now. For 24 hours deliveries are signed with the old one too.";
    with_secret(&state, &viewer, user_id, made, notice).await
}

async fn test(
    State(state): State<HttpState>,
    viewer: Viewer,
    AppPath((PathId(user_id), PathId(webhook_id))): AppPath<(PathId, PathId)>,
    WebForm(EmptyForm {}): WebForm<EmptyForm>,
) -> Result<Response, WebError> {
    state
        .app
        .test_webhook(&viewer.caller, user_id, webhook_id)
        .await
        .or_page(&viewer)?;
    Ok(see(&format!("/user/{user_id}/webhooks?done=test")))
}

async fn delete(
    State(state): State<HttpState>,
    viewer: Viewer,
    AppPath((PathId(user_id), PathId(webhook_id))): AppPath<(PathId, PathId)>,
    WebForm(EmptyForm {}): WebForm<EmptyForm>,
) -> Result<Response, WebError> {
    state
        .app
        .delete_webhook(&viewer.caller, user_id, webhook_id)
        .await
        .or_page(&viewer)?;
    Ok(see(&format!("/user/{user_id}/webhooks?done=deleted")))
}

async fn redeliver(
    State(state): State<HttpState>,
    viewer: Viewer,
    AppPath((PathId(user_id), PathId(webhook_id), PathId(delivery_id))): AppPath<(
        PathId,
        PathId,
        PathId,
    )>,
    WebForm(EmptyForm {}): WebForm<EmptyForm>,
) -> Result<Response, WebError> {
    state
        .app
        .redeliver(&viewer.caller, user_id, webhook_id, delivery_id)
        .await
        .or_page(&viewer)?;
    Ok(see(&format!("/user/{user_id}/webhooks?done=redelivered")))
}
