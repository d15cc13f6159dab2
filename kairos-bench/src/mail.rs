//! Where the server's mail goes during a run (an SMTP server on loopback in this process, or
//! the server's `.eml` folder), and the mail and webhook throughput read from the server's own
//! metrics into a run's notes.

use std::time::{Duration, Instant};

use clap::ValueEnum;
use hyper::Method;
use kairos_testkit::MailServer;
use serde_json::json;

use super::{client::Http, load::Outcome};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum MailSink {
    /// A real SMTP server on loopback (the test kit's), as in production.
    Smtp,
    /// No SMTP server: the server writes each mail to `<data-dir>/mail/*.eml`.
    Files,
}

/// The SMTP server a run sends to, if the sink is SMTP; keep it alive for the run.
pub async fn start(sink: MailSink) -> Option<MailServer> {
    match sink {
        MailSink::Smtp => Some(MailServer::start().await),
        MailSink::Files => None,
    }
}

/// The outbox as the server's `/metrics` tell it.
#[derive(Debug, Clone, Copy, Default)]
pub struct Tally {
    pub sent: f64,
    pub failed: f64,
    pub pending: f64,
    /// Webhook tries the receivers answered 2xx, and tries that failed.
    pub delivered: f64,
    pub undelivered: f64,
}

pub async fn tally(http: &Http) -> Tally {
    let Ok((200, body)) = http.send(Method::GET, "/metrics", None, None).await else {
        return Tally::default();
    };
    let text = String::from_utf8_lossy(&body);
    let value = |name: &str| {
        text.lines()
            .find_map(|line| {
                line.strip_prefix(name)?
                    .strip_prefix(' ')?
                    .trim()
                    .parse()
                    .ok()
            })
            .unwrap_or(0.0)
    };
    Tally {
        sent: value("kairos_mail_sent_total"),
        failed: value("kairos_mail_failed_total"),
        pending: value("kairos_outbox_pending"),
        delivered: value("kairos_webhook_deliveries_total{outcome=\"delivered\"}"),
        undelivered: value("kairos_webhook_deliveries_total{outcome=\"failed\"}"),
    }
}

/// Waits (up to `within`) for the outbox to empty: nothing pending and nothing more sent or
/// posted for a second (events not yet turned into mails are not counted as pending). Answers the tally
/// then, how long it waited, and whether the outbox did empty.
pub async fn drain(http: &Http, within: Duration) -> (Tally, Duration, bool) {
    let started = Instant::now();
    let mut last = tally(http).await;
    while started.elapsed() < within {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let now = tally(http).await;
        let still = now.sent == last.sent
            && now.failed == last.failed
            && now.delivered == last.delivered
            && now.undelivered == last.undelivered;
        if now.pending == 0.0 && still {
            let took = started.elapsed().saturating_sub(Duration::from_secs(1));
            return (now, took, true);
        }
        last = now;
    }
    (last, started.elapsed(), false)
}

/// How many mails the booking and cancelling left, how fast they went out, and how long the
/// outbox took to empty after the load stopped (waiting at most `wait`).
pub async fn notes(http: &Http, before: Tally, wait: Duration, outcome: &mut Outcome) {
    // The booking phase and the cancelling phase after it, each as long.
    let loaded = 2.0 * outcome.seconds;
    let during = tally(http).await;
    outcome.notes.insert(
        "mailsPerSecondUnderLoad".into(),
        json!((during.sent - before.sent) / loaded),
    );
    outcome
        .notes
        .insert("outboxPendingAtEnd".into(), json!(during.pending));
    let (after, took, emptied) = drain(http, wait).await;
    let mails = after.sent - before.sent;
    outcome.notes.insert("mails".into(), json!(mails));
    outcome
        .notes
        .insert("mailFailures".into(), json!(after.failed - before.failed));
    outcome.notes.insert(
        "mailsPerSecondOverall".into(),
        json!(mails / (loaded + took.as_secs_f64())),
    );
    if after.delivered + after.undelivered > 0.0 {
        let posted = after.delivered - before.delivered;
        outcome
            .notes
            .insert("webhookDeliveries".into(), json!(posted));
        outcome.notes.insert(
            "webhookFailedTries".into(),
            json!(after.undelivered - before.undelivered),
        );
        outcome.notes.insert(
            "webhookDeliveriesPerSecondUnderLoad".into(),
            json!((during.delivered - before.delivered) / loaded),
        );
        outcome.notes.insert(
            "webhookDeliveriesPerSecondOverall".into(),
            json!(posted / (loaded + took.as_secs_f64())),
        );
    }
    outcome.notes.insert(
        if emptied {
            "outboxDrainSeconds"
        } else {
            "outboxStillBusyAfterSeconds"
        }
        .into(),
        json!(took.as_secs_f64()),
    );
}
