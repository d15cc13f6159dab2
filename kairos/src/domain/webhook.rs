//! Webhooks: the endpoints a provider (or an admin) has Kairos post events to, what each
//! delivery looks like, how it is signed (Standard Webhooks v1) and when a failed one is tried
//! again.

use base64::{Engine, engine::general_purpose::STANDARD};
use chrono::{DateTime, Duration, Utc};
use hmac::{Hmac, Mac};
use serde::Serialize;
use sha2::Sha256;
use utoipa::ToSchema;
use uuid::Uuid;

use super::{
    FieldError,
    event::{Event, EventType},
    has_nul,
};

/// Every event (the other entry `events` may hold).
pub const ALL_EVENTS: &str = "*";
/// The event `POST .../test` sends.
pub const TEST_EVENT: &str = "webhook.test";
pub const MAX_DESCRIPTION_LENGTH: usize = 500;
/// How long the secret before a rotation still signs deliveries.
pub const ROTATION_OVERLAP: Duration = Duration::hours(24);
/// A webhook whose every delivery has failed for this long is disabled and its owner told.
pub const FAILING_LIMIT: Duration = Duration::days(3);

/// A webhook as its owner sees it; its secret is shown only when made or rotated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Webhook {
    pub id: Uuid,
    /// Whose it is: a provider's gets its own services' events, an admin's every event.
    pub owner_id: Uuid,
    pub url: String,
    /// Event names, or `["*"]` for every event.
    #[schema(example = json!(["booking.created", "booking.cancelled"]))]
    pub events: Vec<String>,
    pub description: String,
    pub enabled: bool,
    /// Why Kairos turned it off (`gone`: the receiver answered 410; `failing`: every delivery
    /// failed for 3 days); none when it is on or its owner turned it off.
    pub disabled_reason: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// An enabled webhook as events are routed to it.
#[derive(Debug, Clone)]
pub struct Route {
    pub webhook_id: Uuid,
    pub owner_id: Uuid,
    /// An admin's webhooks get every service's events.
    pub owner_is_admin: bool,
    pub events: Vec<String>,
    pub created_at: DateTime<Utc>,
}

impl Route {
    /// Whether the event goes to this webhook: one of its owner's (a provider's own services;
    /// an admin's, any), of a type it asked for, and from the moment it was added (an event
    /// still waiting when it was added is not its business).
    pub fn takes(&self, event: &Event) -> bool {
        let theirs = self.owner_is_admin || event.subject.provider_id == Some(self.owner_id);
        let wanted = self
            .events
            .iter()
            .any(|e| e == ALL_EVENTS || e == event.kind.as_str());
        theirs && wanted && event.occurred_at >= self.created_at
    }
}

/// A webhook with its signing secret: the answer to creating it and to rotating its secret,
/// the only times the secret is shown.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WebhookWithSecret {
    #[serde(flatten)]
    pub webhook: Webhook,
    /// `whsec_` and the base64 of 32 random bytes: give it to the receiver's Standard Webhooks
    /// library to verify deliveries.
    pub secret: String,
}

/// The events a webhook asks for: at least one, each a known event name, or `*` alone.
pub fn event_filter(events: &[String]) -> Result<Vec<String>, FieldError> {
    if events.is_empty() {
        return Err(FieldError::new(
            "events",
            "must name at least one event, or \"*\"",
        ));
    }
    if events.len() > EventType::ALL.len() {
        return Err(FieldError::new("events", "names an event more than once"));
    }
    let mut chosen = Vec::with_capacity(events.len());
    for name in events {
        let known = name == ALL_EVENTS || EventType::parse(name).is_some();
        if !known {
            // Not echoed: the message names what is allowed instead of repeating what came.
            let names: Vec<&str> = EventType::ALL.iter().map(|e| e.as_str()).collect();
            return Err(FieldError::new(
                "events",
                format!(
                    "holds a name that is not an event; use \"*\" or some of: {}",
                    names.join(", ")
                ),
            ));
        }
        if chosen.contains(name) {
            return Err(FieldError::new("events", "names an event more than once"));
        }
        chosen.push(name.clone());
    }
    if chosen.len() > 1 && chosen.iter().any(|e| e == ALL_EVENTS) {
        return Err(FieldError::new(
            "events",
            "\"*\" already means every event; give it alone",
        ));
    }
    Ok(chosen)
}

pub fn description(text: &str) -> Result<String, FieldError> {
    let text = text.trim();
    if text.chars().count() > MAX_DESCRIPTION_LENGTH {
        return Err(FieldError::new(
            "description",
            "must be at most 500 characters",
        ));
    }
    if has_nul(text) {
        return Err(FieldError::new("description", super::NUL_MESSAGE));
    }
    Ok(text.to_owned())
}

/// A signing secret as Standard Webhooks writes it: `whsec_` and base64 of the key's bytes.
pub fn secret_text(key: &[u8]) -> String {
    format!("whsec_{}", STANDARD.encode(key))
}

/// The `webhook-signature` of one delivery: `v1,` and the base64 HMAC-SHA256 of
/// `{id}.{timestamp}.{body}` with each key, space-separated (the newest first).
pub fn signature(keys: &[Vec<u8>], id: &str, timestamp: i64, body: &str) -> String {
    let signed = format!("{id}.{timestamp}.{body}");
    keys.iter()
        .map(|key| {
            let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key) else {
                unreachable!("HMAC takes a key of any length")
            };
            mac.update(signed.as_bytes());
            format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// What every delivery posts, `{"type", "timestamp", "data"}`, with the event's data as the
/// API showed it when the event happened (`data` is JSON already).
pub fn body(event_type: &str, timestamp: DateTime<Utc>, data: &str) -> String {
    let kind = serde_json::Value::from(event_type);
    let at =
        serde_json::Value::from(timestamp.to_rfc3339_opts(chrono::SecondsFormat::Micros, true));
    format!(r#"{{"type":{kind},"timestamp":{at},"data":{data}}}"#)
}

/// How long after the `attempts`-th failed try a delivery is tried again (about 5 s, 5 min,
/// 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 24 h), or `None` once those are spent.
pub fn retry_delay(attempts: i64) -> Option<Duration> {
    const WAITS: [i64; 9] = [
        5,
        5 * 60,
        30 * 60,
        2 * 3600,
        5 * 3600,
        10 * 3600,
        14 * 3600,
        20 * 3600,
        24 * 3600,
    ];
    let index = usize::try_from(attempts.checked_sub(1)?).ok()?;
    WAITS.get(index).map(|&secs| Duration::seconds(secs))
}

/// The longest `Retry-After` honoured: a receiver cannot park a delivery for longer than the
/// longest step of the schedule.
pub const MAX_RETRY_AFTER: Duration = Duration::hours(24);

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn filters_take_known_names_or_the_star_alone() {
        let names = |list: &[&str]| list.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert!(event_filter(&names(&["booking.created", "service.archived"])).is_ok());
        assert!(event_filter(&names(&["*"])).is_ok());
        for bad in [
            &[][..],
            &["booking.made"],
            &["*", "booking.created"],
            &["booking.moved", "booking.moved"],
        ] {
            assert!(event_filter(&names(bad)).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn the_signature_is_the_standard_webhooks_example() {
        // The example of the Standard Webhooks specification.
        let key = STANDARD.decode("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let id = "msg_p5jXN8AQM9LWM0D4loKWxJek";
        assert_eq!(
            signature(&[key], id, 1_614_265_330, r#"{"test": 2432232314}"#),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
        let two = signature(&[vec![1; 32], vec![2; 32]], "id", 1, "{}");
        assert_eq!(two.split(' ').count(), 2);
        assert!(two.split(' ').all(|s| s.starts_with("v1,")));
    }

    #[test]
    fn the_body_holds_the_events_data_as_it_is() {
        let at = DateTime::parse_from_rfc3339("2026-12-01T09:00:00Z")
            .unwrap()
            .to_utc();
        let body = body(
            "booking.created",
            at,
            r#"{"id":"b1","notes":"a \"quote\""}"#,
        );
        let parsed: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(parsed["type"], "booking.created");
        assert_eq!(parsed["timestamp"], "2026-12-01T09:00:00.000000Z");
        assert_eq!(parsed["data"]["notes"], "a \"quote\"");
    }

    #[test]
    fn retries_follow_the_contract_then_stop() {
        assert_eq!(retry_delay(1), Some(Duration::seconds(5)));
        assert_eq!(retry_delay(2), Some(Duration::minutes(5)));
        assert_eq!(retry_delay(9), Some(Duration::hours(24)));
        assert_eq!(retry_delay(10), None);
        assert_eq!(retry_delay(0), None);
    }
}
