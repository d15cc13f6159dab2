//! Webhooks, as their owner manages them: a provider's get its own services' events, an admin's
//! every event. Add, list, change, delete, rotate the secret, send a test, see the deliveries
//! and send one again.

use std::sync::Arc;

use futures_util::FutureExt;
use serde_json::json;
use uuid::Uuid;

use super::{
    App, AppError, Caller, PageRequest,
    sealed::{SecretSeal, new_secret_key},
};
use crate::{
    domain::{
        FieldError,
        delivery::Delivery,
        destination::{AllowedNetworks, UrlProblem, webhook_url},
        id::new_id,
        page::Page,
        refusal::Refusal,
        user::{Role, User},
        webhook::{
            ROTATION_OVERLAP, TEST_EVENT, Webhook, WebhookWithSecret, body, description,
            event_filter, secret_text,
        },
    },
    store::{
        deliveries::{self, NewDelivery},
        webhooks::{self, Keyed, NewWebhook, WebhookChanges},
    },
};

/// What webhooks need from the server's settings: the key their secrets are sealed with, and
/// the networks an operator allowed them to reach.
#[derive(Clone)]
pub struct WebhookSettings {
    pub seal: SecretSeal,
    pub allowed: Arc<AllowedNetworks>,
}

/// A new webhook, as asked for.
#[derive(Debug, Clone)]
pub struct WebhookInput {
    pub url: String,
    pub events: Vec<String>,
    pub description: Option<String>,
}

/// A change to a webhook; `None` keeps the field.
#[derive(Debug, Clone, Default)]
pub struct WebhookPatch {
    pub url: Option<String>,
    pub events: Option<Vec<String>>,
    pub description: Option<String>,
    pub enabled: Option<bool>,
}

impl App {
    /// Adds a webhook for the path's provider or admin. Its secret is in this answer only.
    pub async fn create_webhook(
        &self,
        caller: &Caller,
        user_id: Uuid,
        input: WebhookInput,
    ) -> Result<WebhookWithSecret, AppError> {
        let owner = self.webhook_owner(caller, user_id).await?;
        let (url, events, description) = collect(
            self.checked_url(&input.url).map(Some),
            event_filter(&input.events).map(Some),
            input.description.as_deref().map(description).transpose(),
        )?;
        let key = new_secret_key()?;
        let new = NewWebhook {
            id: new_id(),
            owner_id: owner.id,
            url: url.unwrap_or_default(),
            events: events.unwrap_or_default(),
            description: description.unwrap_or_default(),
            sealed_secret: self.webhook_settings.seal.seal(&key)?,
            created_at: self.now(),
        };
        let (owner_id, id) = (new.owner_id, new.id);
        let keyed = self
            .store
            .write(move |w| {
                async move {
                    webhooks::insert(w, new).await?;
                    webhooks::by_id(w, owner_id, id).await
                }
                .boxed()
            })
            .await?
            .ok_or(AppError::NotFound("webhook"))?;
        Ok(WebhookWithSecret {
            webhook: keyed.webhook,
            secret: secret_text(&key),
        })
    }

    /// The path's webhooks, newest first.
    pub async fn webhooks(
        &self,
        caller: &Caller,
        user_id: Uuid,
        page: &PageRequest,
    ) -> Result<Page<Webhook>, AppError> {
        let owner = self.webhook_owner(caller, user_id).await?;
        let (limit, after) = page.by_id()?;
        let rows = self
            .store
            .read(move |r| webhooks::of_owner(r, owner.id, after, limit + 1).boxed())
            .await?;
        Ok(Page::from_overfetch(rows, limit, |w| {
            w.id.simple().to_string()
        }))
    }

    pub async fn webhook(
        &self,
        caller: &Caller,
        user_id: Uuid,
        webhook_id: Uuid,
    ) -> Result<Webhook, AppError> {
        Ok(self
            .owned_webhook(caller, user_id, webhook_id)
            .await?
            .webhook)
    }

    /// Changes what the patch names. Turning a webhook back on clears why it was off.
    pub async fn update_webhook(
        &self,
        caller: &Caller,
        user_id: Uuid,
        webhook_id: Uuid,
        patch: WebhookPatch,
    ) -> Result<Webhook, AppError> {
        let owner = self.webhook_owner(caller, user_id).await?;
        let (url, events, description) = collect(
            patch
                .url
                .as_deref()
                .map(|u| self.checked_url(u))
                .transpose(),
            patch.events.as_deref().map(event_filter).transpose(),
            patch.description.as_deref().map(description).transpose(),
        )?;
        let changes = WebhookChanges {
            url,
            events,
            description,
            enabled: patch.enabled,
        };
        let keyed = self
            .store
            .write(move |w| webhooks::update(w, owner.id, webhook_id, changes).boxed())
            .await
            .map_err(AppError::or_missing("webhook"))?;
        Ok(keyed.webhook)
    }

    /// Deletes the webhook with its delivery log; nothing more is sent to it.
    pub async fn delete_webhook(
        &self,
        caller: &Caller,
        user_id: Uuid,
        webhook_id: Uuid,
    ) -> Result<(), AppError> {
        let owner = self.webhook_owner(caller, user_id).await?;
        self.store
            .write(move |w| webhooks::delete(w, owner.id, webhook_id).boxed())
            .await
            .map_err(AppError::or_missing("webhook"))
    }

    /// A new secret, shown in this answer only; for a day deliveries are signed with the old
    /// one too, so receivers can switch without losing any.
    pub async fn rotate_webhook_secret(
        &self,
        caller: &Caller,
        user_id: Uuid,
        webhook_id: Uuid,
    ) -> Result<WebhookWithSecret, AppError> {
        let owner = self.webhook_owner(caller, user_id).await?;
        let key = new_secret_key()?;
        let sealed = self.webhook_settings.seal.seal(&key)?;
        let until = self.now() + ROTATION_OVERLAP;
        let keyed = self
            .store
            .write(move |w| webhooks::rotate(w, owner.id, webhook_id, sealed, until).boxed())
            .await
            .map_err(AppError::or_missing("webhook"))?;
        Ok(WebhookWithSecret {
            webhook: keyed.webhook,
            secret: secret_text(&key),
        })
    }

    /// Queues a `webhook.test` delivery to the webhook, due now. Answers its event id.
    pub async fn test_webhook(
        &self,
        caller: &Caller,
        user_id: Uuid,
        webhook_id: Uuid,
    ) -> Result<Uuid, AppError> {
        let keyed = self.owned_webhook(caller, user_id, webhook_id).await?;
        if !keyed.webhook.enabled {
            return Err(Refusal::WebhookDisabled.into());
        }
        let event_id = new_id();
        let now = self.now();
        let data = json!({ "webhookId": webhook_id, "message": "A test from Kairos." });
        let delivery = NewDelivery {
            webhook_id,
            event_id,
            event_type: TEST_EVENT.to_owned(),
            body: body(TEST_EVENT, now, &data.to_string()),
        };
        self.store
            .write(move |w| deliveries::enqueue(w, vec![delivery], now).boxed())
            .await?;
        Ok(event_id)
    }

    /// The webhook's deliveries, newest first, each with every try.
    pub async fn webhook_deliveries(
        &self,
        caller: &Caller,
        user_id: Uuid,
        webhook_id: Uuid,
        page: &PageRequest,
    ) -> Result<Page<Delivery>, AppError> {
        self.owned_webhook(caller, user_id, webhook_id).await?;
        let (limit, after) = page.by_id()?;
        let rows = self
            .store
            .read(move |r| deliveries::of_webhook(r, webhook_id, after, limit + 1).boxed())
            .await?;
        Ok(Page::from_overfetch(rows, limit, |d| {
            d.id.simple().to_string()
        }))
    }

    /// Sends a delivery again now, with the same `webhook-id`.
    pub async fn redeliver(
        &self,
        caller: &Caller,
        user_id: Uuid,
        webhook_id: Uuid,
        delivery_id: Uuid,
    ) -> Result<(), AppError> {
        let keyed = self.owned_webhook(caller, user_id, webhook_id).await?;
        if !keyed.webhook.enabled {
            return Err(Refusal::WebhookDisabled.into());
        }
        let now = self.now();
        self.store
            .write(move |w| deliveries::redeliver(w, webhook_id, delivery_id, now).boxed())
            .await
            .map_err(AppError::or_missing("delivery"))
    }

    /// The user a webhook path names: a provider or an admin the caller may act for.
    async fn webhook_owner(&self, caller: &Caller, user_id: Uuid) -> Result<User, AppError> {
        let user = self.path_user(caller, user_id).await?;
        match user.role {
            Role::Provider | Role::Admin => Ok(user),
            Role::Customer => Err(AppError::Forbidden),
        }
    }

    async fn owned_webhook(
        &self,
        caller: &Caller,
        user_id: Uuid,
        webhook_id: Uuid,
    ) -> Result<Keyed, AppError> {
        let owner = self.webhook_owner(caller, user_id).await?;
        self.store
            .read(move |r| webhooks::by_id(r, owner.id, webhook_id).boxed())
            .await?
            .ok_or(AppError::NotFound("webhook"))
    }

    fn checked_url(&self, raw: &str) -> Result<String, WebhookFieldError> {
        match webhook_url(raw, &self.webhook_settings.allowed) {
            Ok(url) => Ok(url.to_string()),
            Err(UrlProblem::Invalid(field)) => Err(WebhookFieldError::Field(field)),
            Err(UrlProblem::Blocked(refusal)) => Err(WebhookFieldError::Refused(refusal)),
        }
    }
}

/// Why one field of a webhook cannot be taken.
enum WebhookFieldError {
    Field(FieldError),
    Refused(Refusal),
}

impl From<FieldError> for WebhookFieldError {
    fn from(field: FieldError) -> Self {
        WebhookFieldError::Field(field)
    }
}

/// The three checked fields, or every field error at once; a blocked address (a refusal, not a
/// typo) only when the fields are otherwise fine.
type Checked<T> = Result<Option<T>, WebhookFieldError>;

/// A webhook's URL, events and description, each if given.
type Fields = (Option<String>, Option<Vec<String>>, Option<String>);

fn collect(
    url: Result<Option<String>, WebhookFieldError>,
    events: Result<Option<Vec<String>>, FieldError>,
    description: Result<Option<String>, FieldError>,
) -> Result<Fields, AppError> {
    let events: Checked<Vec<String>> = events.map_err(Into::into);
    let description: Checked<String> = description.map_err(Into::into);
    let mut fields = Vec::new();
    let mut refusal = None;
    for problem in [
        url.as_ref().err(),
        events.as_ref().err(),
        description.as_ref().err(),
    ]
    .into_iter()
    .flatten()
    {
        match problem {
            WebhookFieldError::Field(field) => fields.push(field.clone()),
            WebhookFieldError::Refused(r) => refusal = Some(*r),
        }
    }
    if !fields.is_empty() {
        return Err(AppError::Validation(fields));
    }
    if let Some(refusal) = refusal {
        return Err(refusal.into());
    }
    Ok((
        url.ok().flatten(),
        events.ok().flatten(),
        description.ok().flatten(),
    ))
}
