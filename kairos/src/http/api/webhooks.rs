//! Webhooks: a provider's (its own services' events) or an admin's (every event). Add, list,
//! read, change, delete, rotate the secret, send a test, see the deliveries, send one again.

use super::prelude::*;
use crate::{
    app::{WebhookInput, WebhookPatch},
    domain::{
        delivery::Delivery,
        webhook::{Webhook, WebhookWithSecret},
    },
};

pub fn router() -> OpenApiRouter<HttpState> {
    OpenApiRouter::new()
        .routes(routes!(create_webhook, list_webhooks))
        .routes(routes!(get_webhook, update_webhook, delete_webhook))
        .routes(routes!(rotate_secret))
        .routes(routes!(test_webhook))
        .routes(routes!(list_deliveries))
        .routes(routes!(redeliver))
}

/// A new webhook.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewWebhookBody {
    /// Where deliveries are posted: `http` or `https`, no credentials, not an internal address.
    #[schema(max_length = 2000, example = "https://hooks.example.org/kairos")]
    pub url: String,
    /// Event names (`booking.created`, `booking.moved`, `booking.cancelled`,
    /// `booking.completed`, `session.moved`, `session.cancelled`, `service.published`,
    /// `service.archived`, `waitlist.ended`), or `["*"]` for every event.
    #[schema(min_items = 1, max_items = 9, example = json!(["booking.created"]))]
    pub events: Vec<String>,
    #[schema(max_length = 500)]
    pub description: Option<String>,
}

/// A change to a webhook; absent fields keep their value.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookChangesBody {
    #[schema(max_length = 2000)]
    pub url: Option<String>,
    #[schema(min_items = 1, max_items = 9)]
    pub events: Option<Vec<String>>,
    #[schema(max_length = 500)]
    pub description: Option<String>,
    /// Turning a webhook back on clears why Kairos turned it off.
    pub enabled: Option<bool>,
}

/// What `test` and `redeliver` answer: the delivery is queued.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Queued {
    /// The `webhook-id` the receiver will see (for a test).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event_id: Option<uuid::Uuid>,
    pub status: &'static str,
}

const UNAVAILABLE_URL: &str = "The URL is a literal internal address (`webhook_url_blocked`)";

/// Add a webhook (a provider for its services' events, an admin for every event). The answer
/// holds its secret; nothing else ever shows it again.
#[utoipa::path(
    post, path = "/api/user/{userID}/webhooks", tag = "webhooks",
    params(("userID" = uuid::Uuid, Path)),
    request_body = NewWebhookBody,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "The webhook with its secret", body = WebhookWithSecret),
        (status = 422, description = UNAVAILABLE_URL, body = crate::http::problem::Problem,
            content_type = "application/problem+json"),
        WriteErrors,
    )
)]
async fn create_webhook(
    State(state): State<HttpState>,
    caller: Caller,
    AppPath(PathId(user_id)): AppPath<PathId>,
    AppJson(body): AppJson<NewWebhookBody>,
) -> Result<(StatusCode, Json<WebhookWithSecret>), ApiError> {
    let input = WebhookInput {
        url: body.url,
        events: body.events,
        description: body.description,
    };
    let created = state.app.create_webhook(&caller, user_id, input).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// The path's webhooks, newest first (no secrets).
#[utoipa::path(
    get, path = "/api/user/{userID}/webhooks", tag = "webhooks",
    params(("userID" = uuid::Uuid, Path), PageQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of webhooks; a next page is in `Link`",
            body = Vec<Webhook>),
        ReadErrors, InputErrors,
    )
)]
async fn list_webhooks(
    State(state): State<HttpState>,
    caller: Caller,
    OriginalUri(uri): OriginalUri,
    AppPath(PathId(user_id)): AppPath<PathId>,
    AppQuery(page): AppQuery<PageQuery>,
) -> Result<Response, ApiError> {
    let webhooks = state.app.webhooks(&caller, user_id, &page.into()).await?;
    Ok(paged(&uri, webhooks))
}

/// One webhook (no secret).
#[utoipa::path(
    get, path = "/api/user/{userID}/webhooks/{webhookID}", tag = "webhooks",
    params(("userID" = uuid::Uuid, Path), ("webhookID" = uuid::Uuid, Path)),
    security(("bearer" = [])),
    responses((status = 200, description = "The webhook", body = Webhook), ReadErrors)
)]
async fn get_webhook(
    State(state): State<HttpState>,
    caller: Caller,
    AppPath((PathId(user_id), PathId(webhook_id))): AppPath<(PathId, PathId)>,
) -> Result<Json<Webhook>, ApiError> {
    Ok(Json(state.app.webhook(&caller, user_id, webhook_id).await?))
}

/// Change a webhook's URL, events, description, or turn it on or off.
#[utoipa::path(
    patch, path = "/api/user/{userID}/webhooks/{webhookID}", tag = "webhooks",
    params(("userID" = uuid::Uuid, Path), ("webhookID" = uuid::Uuid, Path)),
    request_body = WebhookChangesBody,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The webhook as it is now", body = Webhook),
        (status = 422, description = UNAVAILABLE_URL, body = crate::http::problem::Problem,
            content_type = "application/problem+json"),
        WriteErrors,
    )
)]
async fn update_webhook(
    State(state): State<HttpState>,
    caller: Caller,
    AppPath((PathId(user_id), PathId(webhook_id))): AppPath<(PathId, PathId)>,
    AppJson(body): AppJson<WebhookChangesBody>,
) -> Result<Json<Webhook>, ApiError> {
    let patch = WebhookPatch {
        url: body.url,
        events: body.events,
        description: body.description,
        enabled: body.enabled,
    };
    let webhook = state
        .app
        .update_webhook(&caller, user_id, webhook_id, patch)
        .await?;
    Ok(Json(webhook))
}

/// Delete a webhook and its delivery log; nothing more is sent to it.
#[utoipa::path(
    delete, path = "/api/user/{userID}/webhooks/{webhookID}", tag = "webhooks",
    params(("userID" = uuid::Uuid, Path), ("webhookID" = uuid::Uuid, Path)),
    security(("bearer" = [])),
    responses((status = 204, description = "Deleted"), ReadErrors)
)]
async fn delete_webhook(
    State(state): State<HttpState>,
    caller: Caller,
    AppPath((PathId(user_id), PathId(webhook_id))): AppPath<(PathId, PathId)>,
) -> Result<StatusCode, ApiError> {
    state
        .app
        .delete_webhook(&caller, user_id, webhook_id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A new secret, shown only in this answer. For 24 hours deliveries carry a signature made
/// with the old secret as well, so the receiver can switch without losing any.
#[utoipa::path(
    post, path = "/api/user/{userID}/webhooks/{webhookID}/rotate-secret", tag = "webhooks",
    params(("userID" = uuid::Uuid, Path), ("webhookID" = uuid::Uuid, Path)),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The webhook with its new secret", body = WebhookWithSecret),
        ReadErrors,
    )
)]
async fn rotate_secret(
    State(state): State<HttpState>,
    caller: Caller,
    AppPath((PathId(user_id), PathId(webhook_id))): AppPath<(PathId, PathId)>,
) -> Result<Json<WebhookWithSecret>, ApiError> {
    let rotated = state
        .app
        .rotate_webhook_secret(&caller, user_id, webhook_id)
        .await?;
    Ok(Json(rotated))
}

/// Send a `webhook.test` event to the webhook now.
#[utoipa::path(
    post, path = "/api/user/{userID}/webhooks/{webhookID}/test", tag = "webhooks",
    params(("userID" = uuid::Uuid, Path), ("webhookID" = uuid::Uuid, Path)),
    security(("bearer" = [])),
    responses(
        (status = 202, description = "Queued; it is posted within a second or two", body = Queued),
        (status = 409, description = "The webhook is disabled (`webhook_disabled`)",
            body = crate::http::problem::Problem, content_type = "application/problem+json"),
        ReadErrors,
    )
)]
async fn test_webhook(
    State(state): State<HttpState>,
    caller: Caller,
    AppPath((PathId(user_id), PathId(webhook_id))): AppPath<(PathId, PathId)>,
) -> Result<(StatusCode, Json<Queued>), ApiError> {
    let event_id = state.app.test_webhook(&caller, user_id, webhook_id).await?;
    let queued = Queued {
        event_id: Some(event_id),
        status: "queued",
    };
    Ok((StatusCode::ACCEPTED, Json(queued)))
}

/// The webhook's deliveries, newest first: each event with every try (when, the receiver's
/// status or the error, how long it took, when it is tried next).
#[utoipa::path(
    get, path = "/api/user/{userID}/webhooks/{webhookID}/deliveries", tag = "webhooks",
    params(("userID" = uuid::Uuid, Path), ("webhookID" = uuid::Uuid, Path), PageQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of deliveries; a next page is in `Link`",
            body = Vec<Delivery>),
        ReadErrors, InputErrors,
    )
)]
async fn list_deliveries(
    State(state): State<HttpState>,
    caller: Caller,
    OriginalUri(uri): OriginalUri,
    AppPath((PathId(user_id), PathId(webhook_id))): AppPath<(PathId, PathId)>,
    AppQuery(page): AppQuery<PageQuery>,
) -> Result<Response, ApiError> {
    let deliveries = state
        .app
        .webhook_deliveries(&caller, user_id, webhook_id, &page.into())
        .await?;
    Ok(paged(&uri, deliveries))
}

/// Send a delivery again now, with the same `webhook-id`, its retry schedule started afresh.
#[utoipa::path(
    post, path = "/api/user/{userID}/webhooks/{webhookID}/deliveries/{deliveryID}/redeliver",
    tag = "webhooks",
    params(("userID" = uuid::Uuid, Path), ("webhookID" = uuid::Uuid, Path),
        ("deliveryID" = uuid::Uuid, Path)),
    security(("bearer" = [])),
    responses(
        (status = 202, description = "Queued again", body = Queued),
        (status = 409, description = "The webhook is disabled (`webhook_disabled`)",
            body = crate::http::problem::Problem, content_type = "application/problem+json"),
        ReadErrors,
    )
)]
async fn redeliver(
    State(state): State<HttpState>,
    caller: Caller,
    AppPath((PathId(user_id), PathId(webhook_id), PathId(delivery_id))): AppPath<(
        PathId,
        PathId,
        PathId,
    )>,
) -> Result<(StatusCode, Json<Queued>), ApiError> {
    state
        .app
        .redeliver(&caller, user_id, webhook_id, delivery_id)
        .await?;
    let queued = Queued {
        event_id: None,
        status: "queued",
    };
    Ok((StatusCode::ACCEPTED, Json(queued)))
}
