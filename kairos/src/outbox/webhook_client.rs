//! Posting webhook deliveries: signed as Standard Webhooks v1, a 10 s limit, no redirects, a
//! bounded read of the answer, and no request to a blocked address: a name is resolved by a
//! hook that drops blocked addresses, so the address connected to is the address checked (a
//! name that rebinds to a private address at send time is refused too).

use std::{net::SocketAddr, sync::Arc, time::Instant};

use chrono::{DateTime, Duration, Utc};
use reqwest::{
    StatusCode,
    dns::{Addrs, Name, Resolve, Resolving},
    header::{CONTENT_TYPE, HeaderMap, RETRY_AFTER},
};

use crate::{
    app::{DeliveryTry, OutgoingDelivery},
    domain::{
        destination::{AllowedNetworks, literal_address},
        webhook::signature,
    },
};

/// The whole try, from connecting to the last byte read.
const TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);
/// How much of an answer is read (and then thrown away): enough to keep the connection
/// reusable for a receiver that says a little, never a receiver's whole download.
const MAX_ANSWER_BYTES: usize = 64 * 1024;

pub struct WebhookClient {
    client: reqwest::Client,
    allowed: Arc<AllowedNetworks>,
}

/// The address a name resolved to is blocked.
#[derive(Debug, thiserror::Error)]
#[error("webhook_url_blocked: {host} resolves only to blocked addresses ({reason}: {address})")]
struct Blocked {
    host: String,
    reason: &'static str,
    address: std::net::IpAddr,
}

/// Resolves with the system's resolver, keeping only addresses that may be connected to.
struct GuardedResolver {
    allowed: Arc<AllowedNetworks>,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let allowed = Arc::clone(&self.allowed);
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let (open, blocked): (Vec<SocketAddr>, Vec<SocketAddr>) = found
                .into_iter()
                .partition(|addr| allowed.refusal(addr.ip()).is_none());
            if let (true, Some(first)) = (open.is_empty(), blocked.first()) {
                let reason = allowed.refusal(first.ip()).unwrap_or("blocked address");
                return Err(Box::new(Blocked {
                    host,
                    reason,
                    address: first.ip(),
                }) as _);
            }
            Ok(Box::new(open.into_iter()) as Addrs)
        })
    }
}

impl WebhookClient {
    pub fn new(allowed: Arc<AllowedNetworks>) -> anyhow::Result<Self> {
        crate::install_tls_provider();
        let roots =
            rustls::RootCertStore::from_iter(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        let tls = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
        let client = reqwest::Client::builder()
            .tls_backend_preconfigured(tls)
            .dns_resolver(Arc::new(GuardedResolver {
                allowed: Arc::clone(&allowed),
            }))
            .redirect(reqwest::redirect::Policy::none())
            // A proxy would connect on our behalf, past the address check.
            .no_proxy()
            .timeout(TIMEOUT)
            .user_agent(concat!("Kairos/", env!("CARGO_PKG_VERSION"), " (webhooks)"))
            .build()?;
        Ok(Self { client, allowed })
    }

    /// One try at the delivery; `at` is when it counts as made (the app's clock).
    pub async fn deliver(&self, delivery: &OutgoingDelivery, at: DateTime<Utc>) -> DeliveryTry {
        let started = Instant::now();
        let result = self.post(delivery).await;
        let duration_ms = i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX);
        match result {
            Ok((status, retry_after)) => DeliveryTry {
                at,
                duration_ms,
                status: Some(status.as_u16()),
                error: describe_status(status),
                retry_after,
            },
            Err(error) => DeliveryTry {
                at,
                duration_ms,
                status: None,
                error: Some(error),
                retry_after: None,
            },
        }
    }

    async fn post(
        &self,
        delivery: &OutgoingDelivery,
    ) -> Result<(StatusCode, Option<Duration>), String> {
        let url = reqwest::Url::parse(&delivery.url).map_err(|e| format!("bad URL: {e}"))?;
        // A literal address is connected to without the resolver: checked here, at send time,
        // since the allowed networks may have changed since the webhook was saved.
        if let Ok(Some(ip)) = literal_address(&url)
            && let Some(reason) = self.allowed.refusal(ip)
        {
            return Err(format!("webhook_url_blocked: {reason} ({ip})"));
        }
        let id = delivery.event_id.to_string();
        // The signing time is the real one, whatever the app's clock says: receivers compare it
        // with their own clocks.
        let timestamp = Utc::now().timestamp();
        let mut request = self
            .client
            .post(url)
            .header(CONTENT_TYPE, "application/json")
            .header("webhook-id", &id)
            .header("webhook-timestamp", timestamp.to_string());
        if !delivery.keys.is_empty() {
            request = request.header(
                "webhook-signature",
                signature(&delivery.keys, &id, timestamp, &delivery.body),
            );
        }
        let mut response = request
            .body(delivery.body.clone())
            .send()
            .await
            .map_err(|err| describe_error(&err))?;
        let status = response.status();
        let retry_after = retry_after(response.headers());
        let mut read = 0;
        while read < MAX_ANSWER_BYTES {
            match response.chunk().await {
                Ok(Some(chunk)) => read += chunk.len(),
                Ok(None) => break,
                Err(err) if err.is_timeout() => return Err("no answer within 10 s".to_owned()),
                // The status came; a broken body does not undo it.
                Err(_) => break,
            }
        }
        Ok((status, retry_after))
    }
}

/// Why a status is a failure; none for 2xx.
fn describe_status(status: StatusCode) -> Option<String> {
    if status.is_success() {
        None
    } else if status.is_redirection() {
        Some(format!("answered {status}: redirects are not followed"))
    } else {
        Some(format!("answered {status}"))
    }
}

fn describe_error(err: &reqwest::Error) -> String {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(cause) = source {
        if let Some(blocked) = cause.downcast_ref::<Blocked>() {
            return blocked.to_string();
        }
        source = cause.source();
    }
    if err.is_timeout() {
        "no answer within 10 s".to_owned()
    } else if err.is_connect() {
        format!("could not connect: {}", root_cause(err))
    } else {
        format!("failed: {}", root_cause(err))
    }
}

fn root_cause(err: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = err;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}

/// `Retry-After` in seconds, or as an HTTP date.
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(seconds) = value.parse::<i64>() {
        return Some(Duration::seconds(seconds.max(0)));
    }
    let at = DateTime::parse_from_rfc2822(value).ok()?;
    Some((at.to_utc() - Utc::now()).max(Duration::zero()))
}
