//! The outbox worker, the adapter that tells the world: it turns committed events into messages
//! and webhook deliveries, queues reminders as they fall due, and sends and posts what is due,
//! recording every try.
//!
//! It wakes right after a commit that left it work, when a test moves the clock, when the next
//! message or reminder falls due, and at least every [`SWEEP_EVERY`] (events another instance
//! wrote, claims a crashed instance left). Several instances on one PostgreSQL share the work:
//! events and reminders are taken `FOR UPDATE SKIP LOCKED`, messages are claimed for a lease,
//! so one instance sends a given message at a time and a dead one's claim lapses.

mod compose;
mod mailer;
mod webhook_client;

use std::time::Duration;

use futures_util::future::join_all;
use tokio::sync::watch;

pub use compose::Letterhead;
pub use mailer::Mailer;
pub use webhook_client::WebhookClient;

use crate::app::{App, AppError, Outgoing, OutgoingDelivery, TryOutcome};

/// The fallback sweep.
const SWEEP_EVERY: Duration = Duration::from_secs(15);
/// After the database failed under the worker, it tries again this much later.
const PAUSE_AFTER_ERROR: Duration = Duration::from_secs(5);
/// The least time between the starts of two passes: commits that come closer together are
/// handled together, in bigger batches, so a burst of bookings pays the outbox's fixed costs
/// (its reads, its writes, a wake-up) a few times a second instead of once per commit.
const PASS_EVERY: Duration = Duration::from_millis(200);
/// Messages claimed and sent at once.
const SEND_BATCH: u32 = 32;
/// Send batches per round: about what one batch of events makes (a mail to each side), so
/// under a steady stream of bookings sending keeps pace with dispatching instead of waiting
/// for the stream to stop.
const SEND_BATCHES_PER_ROUND: usize = 4;
/// Webhook deliveries claimed and posted at once: an event goes to every webhook that wants
/// it, so a batch of events makes several times as many deliveries as mails.
const POST_BATCH: u32 = 64;
/// How long a claim lasts: well beyond a batch's SMTP time-outs, short enough that a crashed
/// instance's messages go out within a minute or two.
const LEASE: chrono::Duration = chrono::Duration::seconds(60);

/// What a round of work left.
enum Round {
    /// Perhaps more to do at once.
    More,
    /// Nothing due now; the next thing falls due at `due`.
    Done {
        due: Option<chrono::DateTime<chrono::Utc>>,
    },
}

pub struct Worker {
    app: App,
    mailer: Mailer,
    letterhead: Letterhead,
    webhooks: WebhookClient,
}

impl Worker {
    pub fn new(app: App, mailer: Mailer, letterhead: Letterhead, webhooks: WebhookClient) -> Self {
        Self {
            app,
            mailer,
            letterhead,
            webhooks,
        }
    }

    /// Works until `stop` turns true, then finishes the batch in hand and returns.
    pub async fn run(self, mut stop: watch::Receiver<bool>) {
        if let Err(err) = self.app.release_message_claims().await {
            tracing::warn!(error = %err, "could not release the outbox's earlier claims");
        }
        let signal = self.app.outbox_signal();
        let mut moves = self.app.clock().moves();
        while !*stop.borrow() {
            let started = tokio::time::Instant::now();
            let wait = match self.round().await {
                // Behind: straight on to the next round.
                Ok(Round::More) => continue,
                Ok(Round::Done { due }) => self.until(due),
                Err(err) => {
                    tracing::warn!(error = %err, "the outbox could not work; trying again soon");
                    PAUSE_AFTER_ERROR
                }
            };
            tokio::select! {
                () = async {
                    signal.notified().await;
                    tokio::time::sleep_until(started + PASS_EVERY).await;
                } => {}
                () = async {
                    if moves.changed().await.is_err() {
                        std::future::pending::<()>().await;
                    }
                } => {}
                () = tokio::time::sleep(wait) => {}
                _ = stop.changed() => {}
            }
        }
    }

    /// How long to sleep until `due` (by the app's clock), at most a sweep's interval.
    fn until(&self, due: Option<chrono::DateTime<chrono::Utc>>) -> Duration {
        due.map_or(SWEEP_EVERY, |due| {
            (due - self.app.now())
                .to_std()
                .unwrap_or(Duration::ZERO)
                .min(SWEEP_EVERY)
                // A due message whose claim has not lapsed yet would otherwise wake us at once.
                .max(Duration::from_millis(200))
        })
    }

    /// One round of each kind of work: a batch of events dispatched, a batch of reminders
    /// queued, a few batches of messages sent. Rounds rather than "all events, then all
    /// messages", so mail keeps going out while bookings keep coming in.
    async fn round(&self) -> Result<Round, AppError> {
        let mut busy = self.app.dispatch_events().await? > 0;
        busy |= self.app.queue_due_reminders().await? > 0;
        for _ in 0..SEND_BATCHES_PER_ROUND {
            let claimed = self.app.claim_messages(SEND_BATCH, LEASE).await?;
            if claimed.is_empty() {
                break;
            }
            busy = true;
            let tries = join_all(claimed.into_iter().map(|message| self.send(message))).await;
            let (sent, failed) = self.app.record_tries(tries).await?;
            tracing::debug!(sent, failed_for_good = failed, "outbox batch done");
        }
        for _ in 0..SEND_BATCHES_PER_ROUND {
            let claimed = self.app.claim_deliveries(POST_BATCH, LEASE).await?;
            if claimed.is_empty() {
                break;
            }
            busy = true;
            let tries = join_all(claimed.into_iter().map(|delivery| self.post(delivery))).await;
            let delivered = self.app.record_delivery_tries(tries).await?;
            tracing::debug!(delivered, "webhook batch done");
        }
        if busy {
            return Ok(Round::More);
        }
        Ok(Round::Done {
            due: self.app.outbox_next_due().await?,
        })
    }

    async fn post(
        &self,
        delivery: OutgoingDelivery,
    ) -> (OutgoingDelivery, crate::app::DeliveryTry) {
        let tried = self.webhooks.deliver(&delivery, self.app.now()).await;
        if let Some(error) = &tried.error {
            tracing::info!(delivery = %delivery.id, webhook = %delivery.webhook_id, %error, "a webhook delivery failed; it will be tried again");
        }
        (delivery, tried)
    }

    async fn send(&self, message: Outgoing) -> (Outgoing, TryOutcome) {
        let outcome = match compose::compose(&message, &self.letterhead) {
            Err(err) => TryOutcome::Failed(err.to_string()),
            Ok(mail) => match self.mailer.send(mail).await {
                Ok(()) => TryOutcome::Sent,
                Err(err) => {
                    tracing::warn!(message = %message.id, error = %err, "a mail was not sent; it will be tried again");
                    TryOutcome::Failed(err)
                }
            },
        };
        (message, outcome)
    }
}
