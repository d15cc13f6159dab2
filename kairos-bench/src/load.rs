//! Closed-loop load: each client sends its next request when the last one is answered, for a
//! fixed time; every latency goes into an HDR histogram.

use std::{
    collections::BTreeMap,
    future::Future,
    sync::Arc,
    time::{Duration, Instant},
};

use hdrhistogram::Histogram;
use serde_json::{Value, json};

/// What one scenario measured.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub name: String,
    pub requests: u64,
    pub seconds: f64,
    /// Microseconds.
    pub latency: Histogram<u64>,
    pub statuses: BTreeMap<u16, u64>,
    /// Requests that got no HTTP answer at all.
    pub failures: u64,
    pub server_rss_mb: Option<f64>,
    pub notes: BTreeMap<String, Value>,
}

fn histogram() -> Histogram<u64> {
    // 1 µs to 60 s, three significant figures.
    Histogram::new_with_bounds(1, 60_000_000, 3).expect("valid histogram bounds")
}

impl Outcome {
    pub fn rate(&self) -> f64 {
        if self.seconds > 0.0 {
            self.requests as f64 / self.seconds
        } else {
            0.0
        }
    }

    pub fn ms(&self, quantile: f64) -> f64 {
        self.latency.value_at_quantile(quantile) as f64 / 1000.0
    }

    pub fn max_ms(&self) -> f64 {
        self.latency.max() as f64 / 1000.0
    }

    pub fn count(&self, status: u16) -> u64 {
        self.statuses.get(&status).copied().unwrap_or(0)
    }

    /// What went wrong beyond slowness: server errors, requests never answered, places sold
    /// twice.
    pub fn broken(&self) -> Option<String> {
        let server_errors: u64 = self.statuses.range(500..).map(|(_, n)| n).sum();
        let note = |key: &str| self.notes.get(key).and_then(Value::as_i64).unwrap_or(0);
        let (oversold, locked) = (note("oversold"), note("databaseIsLocked"));
        (server_errors > 0 || self.failures > 0 || oversold > 0 || locked > 0).then(|| {
            format!(
                "{}: {server_errors} server errors, {} unanswered, {oversold} oversold, \
                 {locked} \"database is locked\"",
                self.name, self.failures
            )
        })
    }

    pub fn to_json(&self) -> Value {
        json!({
            "scenario": self.name,
            "requests": self.requests,
            "seconds": self.seconds,
            "requestsPerSecond": self.rate(),
            "p50Ms": self.ms(0.5),
            "p90Ms": self.ms(0.9),
            "p99Ms": self.ms(0.99),
            "maxMs": self.max_ms(),
            "statuses": self.statuses.iter().map(|(k, v)| (k.to_string(), json!(v))).collect::<serde_json::Map<_, _>>(),
            "failures": self.failures,
            "serverRssMb": self.server_rss_mb,
            "notes": self.notes,
        })
    }
}

/// What one request did: its status, or `None` when the client has nothing left to send.
pub type Step = Option<anyhow::Result<u16>>;

/// Runs `clients` workers for `duration` (or until every worker has nothing left to send).
/// Worker `i` calls `next(i, n)` for its `n`th request.
pub async fn closed_loop<F, Fut>(name: &str, clients: usize, duration: Duration, next: F) -> Outcome
where
    F: Fn(usize, u64) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Step> + Send,
{
    let next = Arc::new(next);
    let started = Instant::now();
    let deadline = started + duration;
    let workers: Vec<_> = (0..clients)
        .map(|worker| {
            let next = Arc::clone(&next);
            tokio::spawn(async move {
                let mut latency = histogram();
                let mut statuses = BTreeMap::new();
                let mut failures = 0;
                let mut n = 0;
                while Instant::now() < deadline {
                    let sent = Instant::now();
                    let Some(result) = next(worker, n).await else {
                        break;
                    };
                    let micros = u64::try_from(sent.elapsed().as_micros()).unwrap_or(u64::MAX);
                    latency.saturating_record(micros.max(1));
                    match result {
                        Ok(status) => *statuses.entry(status).or_insert(0) += 1,
                        Err(_) => failures += 1,
                    }
                    n += 1;
                }
                (latency, statuses, failures)
            })
        })
        .collect();
    let mut outcome = Outcome {
        name: name.to_owned(),
        requests: 0,
        seconds: 0.0,
        latency: histogram(),
        statuses: BTreeMap::new(),
        failures: 0,
        server_rss_mb: None,
        notes: BTreeMap::new(),
    };
    for worker in workers {
        let Ok((latency, statuses, failures)) = worker.await else {
            continue;
        };
        let _ = outcome.latency.add(&latency);
        for (status, count) in statuses {
            *outcome.statuses.entry(status).or_insert(0) += count;
        }
        outcome.failures += failures;
    }
    outcome.seconds = started.elapsed().as_secs_f64();
    outcome.requests = outcome.latency.len();
    outcome
}
