//! Webhooks: each owner's endpoints with their sealed secrets (the current one and, for a day
//! after a rotation, the one before).

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{
    Read, Row, StoreError, Writer, query,
    query::{MAX_REPEATS, Repeated, repeated_texts},
    record,
};
use crate::domain::webhook::{Route, Webhook};

/// A webhook as it is first saved.
#[derive(Debug, Clone)]
pub struct NewWebhook {
    pub id: Uuid,
    pub owner_id: Uuid,
    pub url: String,
    pub events: Vec<String>,
    pub description: String,
    pub sealed_secret: String,
    pub created_at: DateTime<Utc>,
}

/// What a change sets; `None` keeps the field.
#[derive(Debug, Clone, Default)]
pub struct WebhookChanges {
    pub url: Option<String>,
    pub events: Option<Vec<String>>,
    pub description: Option<String>,
    pub enabled: Option<bool>,
}

/// A webhook and the secrets it signs with.
#[derive(Debug, Clone)]
pub struct Keyed {
    pub webhook: Webhook,
    pub sealed_secret: String,
    /// The secret before the last rotation, while it is still honoured.
    pub previous_secret: Option<(String, DateTime<Utc>)>,
}

macro_rules! webhook_columns {
    () => {
        "id, owner_id, url, events, description, enabled, disabled_reason, created_at, secret, \
         previous_secret, previous_secret_until"
    };
}

record! {
    struct WebhookRow {
        id: Uuid,
        owner_id: Uuid,
        url: String,
        events: String,
        description: String,
        enabled: bool,
        disabled_reason: Option<String>,
        created_at: DateTime<Utc>,
        secret: String,
        previous_secret: Option<String>,
        previous_secret_until: Option<DateTime<Utc>>,
    }
}

impl Row for WebhookRow {
    type Value = Keyed;

    fn value(self) -> Result<Keyed, StoreError> {
        let events = serde_json::from_str(&self.events)
            .map_err(|_| super::corrupt(&format!("events of webhook {}", self.id)))?;
        Ok(Keyed {
            webhook: Webhook {
                id: self.id,
                owner_id: self.owner_id,
                url: self.url,
                events,
                description: self.description,
                enabled: self.enabled,
                disabled_reason: self.disabled_reason,
                created_at: self.created_at,
            },
            sealed_secret: self.secret,
            previous_secret: self.previous_secret.zip(self.previous_secret_until),
        })
    }
}

fn events_json(events: &[String]) -> String {
    serde_json::to_string(events).unwrap_or_else(|_| "[]".to_owned())
}

pub async fn insert(w: &mut Writer, new: NewWebhook) -> Result<(), StoreError> {
    w.execute(
        query(
            "INSERT INTO webhooks (id, owner_id, url, events, description, enabled, secret, \
             created_at) VALUES ($1, $2, $3, $4, $5, TRUE, $6, $7)",
        )
        .bind(new.id)
        .bind(new.owner_id)
        .bind(new.url)
        .bind(events_json(&new.events))
        .bind(new.description)
        .bind(new.sealed_secret)
        .bind(new.created_at),
    )
    .await
    .map(drop)
}

const BY_ID: &str = concat!(
    "SELECT ",
    webhook_columns!(),
    " FROM webhooks WHERE id = $1 AND owner_id = $2"
);

/// The owner's webhook; anyone else's is not found.
pub async fn by_id(
    r: &mut impl Read,
    owner_id: Uuid,
    id: Uuid,
) -> Result<Option<Keyed>, StoreError> {
    r.fetch_value::<WebhookRow>(query(BY_ID).bind(id).bind(owner_id))
        .await
}

/// The owner's webhooks, newest first, after the cursor webhook.
pub async fn of_owner(
    r: &mut impl Read,
    owner_id: Uuid,
    after: Option<Uuid>,
    limit: u32,
) -> Result<Vec<Webhook>, StoreError> {
    let rows = r
        .fetch_values::<WebhookRow>(
            query(concat!(
                "SELECT ",
                webhook_columns!(),
                " FROM webhooks WHERE owner_id = $1 AND ($2 IS NULL OR id < $2) \
                 ORDER BY id DESC LIMIT $3"
            ))
            .bind(owner_id)
            .bind(after)
            .bind(limit),
        )
        .await?;
    Ok(rows.into_iter().map(|k| k.webhook).collect())
}

record! {
    struct RouteRow {
        id: Uuid,
        owner_id: Uuid,
        events: String,
        owner_is_admin: bool,
        created_at: DateTime<Utc>,
    }
}

impl Row for RouteRow {
    type Value = Route;

    fn value(self) -> Result<Route, StoreError> {
        let events = serde_json::from_str(&self.events)
            .map_err(|_| super::corrupt(&format!("events of webhook {}", self.id)))?;
        Ok(Route {
            webhook_id: self.id,
            owner_id: self.owner_id,
            owner_is_admin: self.owner_is_admin,
            events,
            created_at: self.created_at,
        })
    }
}

/// Every enabled webhook, for routing events.
pub async fn enabled(r: &mut impl Read) -> Result<Vec<Route>, StoreError> {
    r.fetch_values::<RouteRow>(query(
        "SELECT w.id, w.owner_id, w.events, u.role = 'admin' AS owner_is_admin, w.created_at \
         FROM webhooks w JOIN users u ON u.id = w.owner_id WHERE w.enabled",
    ))
    .await
}

/// Applies the changes. Turning a webhook on clears why it was off and its failing streak.
pub async fn update(
    w: &mut Writer,
    owner_id: Uuid,
    id: Uuid,
    changes: WebhookChanges,
) -> Result<Keyed, StoreError> {
    let changed = w
        .execute(
            query(
                "UPDATE webhooks SET url = COALESCE($3, url), events = COALESCE($4, events), \
                 description = COALESCE($5, description), enabled = COALESCE($6, enabled), \
                 disabled_reason = CASE WHEN $6 IS NULL THEN disabled_reason ELSE NULL END, \
                 failing_since = CASE WHEN $6 THEN NULL ELSE failing_since END \
                 WHERE id = $1 AND owner_id = $2",
            )
            .bind(id)
            .bind(owner_id)
            .bind(changes.url)
            .bind(changes.events.as_deref().map(events_json))
            .bind(changes.description)
            .bind(changes.enabled),
        )
        .await?;
    if changed == 0 {
        return Err(StoreError::NotFound);
    }
    by_id(w, owner_id, id).await?.ok_or(StoreError::NotFound)
}

/// Removes the webhook with its deliveries and their tries.
pub async fn delete(w: &mut Writer, owner_id: Uuid, id: Uuid) -> Result<(), StoreError> {
    w.execute(
        query(
            "DELETE FROM webhook_attempts WHERE delivery_id IN \
             (SELECT d.id FROM webhook_deliveries d JOIN webhooks h ON h.id = d.webhook_id \
              WHERE h.id = $1 AND h.owner_id = $2)",
        )
        .bind(id)
        .bind(owner_id),
    )
    .await?;
    w.execute(
        query(
            "DELETE FROM webhook_deliveries WHERE webhook_id IN \
             (SELECT id FROM webhooks WHERE id = $1 AND owner_id = $2)",
        )
        .bind(id)
        .bind(owner_id),
    )
    .await?;
    let removed = w
        .execute(
            query("DELETE FROM webhooks WHERE id = $1 AND owner_id = $2")
                .bind(id)
                .bind(owner_id),
        )
        .await?;
    if removed == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// A new secret; the current one keeps signing beside it until `overlap_until`.
pub async fn rotate(
    w: &mut Writer,
    owner_id: Uuid,
    id: Uuid,
    sealed_secret: String,
    overlap_until: DateTime<Utc>,
) -> Result<Keyed, StoreError> {
    let changed = w
        .execute(
            query(
                "UPDATE webhooks SET previous_secret = secret, previous_secret_until = $3, \
                 secret = $4 WHERE id = $1 AND owner_id = $2",
            )
            .bind(id)
            .bind(owner_id)
            .bind(overlap_until)
            .bind(sealed_secret),
        )
        .await?;
    if changed == 0 {
        return Err(StoreError::NotFound);
    }
    by_id(w, owner_id, id).await?.ok_or(StoreError::NotFound)
}

static SUCCEEDED: Repeated = Repeated::new(|| {
    repeated_texts(
        "UPDATE webhooks SET failing_since = NULL WHERE failing_since IS NOT NULL AND id IN (",
        "{}",
        ", ",
        ")",
        1,
    )
});

/// Tries to these webhooks succeeded: their failing streaks are over.
pub async fn succeeded(w: &mut Writer, ids: &[Uuid]) -> Result<(), StoreError> {
    for chunk in ids.chunks(MAX_REPEATS) {
        let update = chunk
            .iter()
            .fold(SUCCEEDED.query(chunk.len()), |q, id| q.bind(*id));
        w.execute(update).await?;
    }
    Ok(())
}

/// A try failed at `now`: the streak starts if it had not. Answers since when it has failed.
pub async fn failed(
    w: &mut Writer,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<Option<DateTime<Utc>>, StoreError> {
    w.execute(
        query("UPDATE webhooks SET failing_since = COALESCE(failing_since, $2) WHERE id = $1")
            .bind(id)
            .bind(now),
    )
    .await?;
    let since: Option<(Option<DateTime<Utc>>,)> = w
        .fetch_optional(query("SELECT failing_since FROM webhooks WHERE id = $1").bind(id))
        .await?;
    Ok(since.and_then(|(since,)| since))
}

/// Kairos turns the webhook off, saying why. Answers whether it was on.
pub async fn disable(w: &mut Writer, id: Uuid, reason: &str) -> Result<bool, StoreError> {
    let changed = w
        .execute(
            query(
                "UPDATE webhooks SET enabled = FALSE, disabled_reason = $2 \
                 WHERE id = $1 AND enabled",
            )
            .bind(id)
            .bind(reason),
        )
        .await?;
    Ok(changed > 0)
}
