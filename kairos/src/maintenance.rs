//! Housekeeping on a timer: complete the bookings of sessions that have ended, and forget stale
//! login failures, idempotency keys and rate-limit entries. Every pass is safe to run on several
//! instances at once: each change is a conditional update that happens once.

use std::time::Duration;

use crate::{
    auth::throttle::FAILED_LOGIN_WINDOW, domain::clock, state::AppState, store::StoreError,
};

pub const EVERY: Duration = Duration::from_secs(60);

/// Runs a pass now and then every [`EVERY`], until the task is dropped.
pub async fn run(state: AppState) {
    let mut tick = tokio::time::interval(EVERY);
    loop {
        tick.tick().await;
        if let Err(err) = run_once(&state).await {
            tracing::warn!(error = %err, "housekeeping failed; it runs again in a minute");
        }
    }
}

/// One pass. Answers how many bookings it completed.
pub async fn run_once(state: &AppState) -> Result<u64, StoreError> {
    let now = clock::now();
    let completed = state.store.complete_ended_bookings(now).await?;
    if completed > 0 {
        tracing::info!(
            completed,
            "completed the bookings of sessions that have ended"
        );
    }
    let window = chrono::Duration::from_std(FAILED_LOGIN_WINDOW).unwrap_or_default();
    state.store.purge_login_failures(now - window).await?;
    state.store.purge_idempotency_keys(now).await?;
    state.rate_limits.forget_idle();
    Ok(completed)
}
