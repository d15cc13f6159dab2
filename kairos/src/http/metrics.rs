//! Prometheus metrics: requests by matched route and status, their latency, the database pool,
//! the outbox (pending messages, mails sent and given up on, webhook deliveries).
//! The registry belongs to the app state, so every server (and every test) has its own.

use std::{
    sync::atomic::{AtomicI64, AtomicU64, Ordering},
    time::Instant,
};

use axum::{
    extract::{MatchedPath, Request, State},
    middleware::Next,
    response::Response,
};
use prometheus_client::{
    encoding::EncodeLabelSet,
    metrics::{counter::Counter, family::Family, gauge::Gauge, histogram::Histogram},
    registry::Registry,
};

use super::HttpState;
use crate::app::OutboxCounters;

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    route: String,
    status: u16,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: String,
    route: String,
}

type LatencyFamily = Family<RouteLabels, Histogram, fn() -> Histogram>;

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    outcome: String,
}

pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: LatencyFamily,
    pool_connections: Gauge<u64, AtomicU64>,
    pool_in_use: Gauge<u64, AtomicU64>,
    outbox_pending: Gauge<i64, AtomicI64>,
    mail_sent: Counter<u64, AtomicU64>,
    mail_failed: Counter<u64, AtomicU64>,
    webhook_deliveries: Family<OutcomeLabels, Counter>,
}

fn latency_histogram() -> Histogram {
    // 0.25 ms to about 8 s.
    Histogram::new(prometheus_client::metrics::histogram::exponential_buckets(
        0.000_25, 2.0, 16,
    ))
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("kairos");
        let requests = Family::<RequestLabels, Counter>::default();
        let latency = LatencyFamily::new_with_constructor(latency_histogram);
        let pool_connections = Gauge::<u64, AtomicU64>::default();
        let pool_in_use = Gauge::<u64, AtomicU64>::default();
        registry.register(
            "http_requests",
            "HTTP requests answered, by method, matched route and status",
            requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "Time to answer HTTP requests, by method and matched route",
            latency.clone(),
        );
        registry.register(
            "db_pool_connections",
            "Open database connections",
            pool_connections.clone(),
        );
        registry.register(
            "db_pool_in_use",
            "Database connections in use",
            pool_in_use.clone(),
        );
        let outbox_pending = Gauge::<i64, AtomicI64>::default();
        let mail_sent = Counter::<u64, AtomicU64>::default();
        let mail_failed = Counter::<u64, AtomicU64>::default();
        let webhook_deliveries = Family::<OutcomeLabels, Counter>::default();
        // Shown at zero from the start, so a dashboard has the series before the first one.
        for outcome in ["delivered", "failed"] {
            drop(webhook_deliveries.get_or_create(&OutcomeLabels {
                outcome: outcome.to_owned(),
            }));
        }
        registry.register(
            "outbox_pending",
            "Messages waiting to be sent (as the outbox worker last counted)",
            outbox_pending.clone(),
        );
        registry.register("mail_sent", "Mails sent", mail_sent.clone());
        registry.register(
            "mail_failed",
            "Mails given up on after every try failed",
            mail_failed.clone(),
        );
        registry.register(
            "webhook_deliveries",
            "Webhook delivery tries, by outcome",
            webhook_deliveries.clone(),
        );
        Self {
            registry,
            requests,
            latency,
            pool_connections,
            pool_in_use,
            outbox_pending,
            mail_sent,
            mail_failed,
            webhook_deliveries,
        }
    }
}

impl Metrics {
    fn observe(&self, method: &str, route: &str, status: u16, seconds: f64) {
        self.requests
            .get_or_create(&RequestLabels {
                method: method.to_owned(),
                route: route.to_owned(),
                status,
            })
            .inc();
        self.latency
            .get_or_create(&RouteLabels {
                method: method.to_owned(),
                route: route.to_owned(),
            })
            .observe(seconds);
    }

    /// The OpenMetrics text exposition of everything, with the pool and the outbox read now.
    pub fn render(&self, (open, idle): (u32, u32), outbox: &OutboxCounters) -> String {
        self.pool_connections.set(u64::from(open));
        self.pool_in_use.set(u64::from(open.saturating_sub(idle)));
        self.outbox_pending
            .set(outbox.pending.load(Ordering::Relaxed));
        // The app counts; these show its counts (monotonic, so still counters).
        self.mail_sent
            .inner()
            .store(outbox.mail_sent.load(Ordering::Relaxed), Ordering::Relaxed);
        self.mail_failed.inner().store(
            outbox.mail_failed.load(Ordering::Relaxed),
            Ordering::Relaxed,
        );

        for (outcome, count) in [
            ("delivered", &outbox.webhook_delivered),
            ("failed", &outbox.webhook_failed),
        ] {
            self.webhook_deliveries
                .get_or_create(&OutcomeLabels {
                    outcome: outcome.to_owned(),
                })
                .inner()
                .store(count.load(Ordering::Relaxed), Ordering::Relaxed);
        }

        let mut text = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut text, &self.registry);
        text
    }
}

/// Middleware: counts and times every request under its matched route (never the raw path, so
/// ids do not explode the label set).
pub async fn track(State(state): State<HttpState>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().as_str().to_owned();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |path| path.as_str().to_owned());
    let response = next.run(request).await;
    state.metrics.observe(
        &method,
        &route,
        response.status().as_u16(),
        started.elapsed().as_secs_f64(),
    );
    response
}
