//! Housekeeping: complete the bookings of sessions that have ended, end the waitlists of
//! sessions that can no longer be booked, extend working hours to their horizon, and forget
//! stale login failures and idempotency keys. Safe to run on several instances at once: each change is a
//! conditional update that happens once.

use futures_util::FutureExt;

use super::{App, AppError};
use crate::{
    domain::event::Event,
    store::{bookings, events, idempotency, waitlist},
};

impl App {
    /// One pass, at the clock's now. Answers how many bookings it completed.
    pub async fn housekeeping(&self) -> Result<u64, AppError> {
        let now = self.now();
        let completed = self
            .store
            .write(move |w| {
                async move {
                    let completed = bookings::complete_ended(w, now).await?;
                    for booking in &completed {
                        events::record(w, Event::booking_completed(booking, now));
                    }
                    Ok(completed.len() as u64)
                }
                .boxed()
            })
            .await?;
        if completed > 0 {
            tracing::info!(
                completed,
                "completed the bookings of sessions that have ended"
            );
        }
        let ended = self
            .store
            .write(move |w| waitlist::end_closed(w, now).boxed())
            .await?;
        if ended > 0 {
            tracing::info!(
                ended,
                "ended the waitlists of sessions that closed for booking"
            );
        }
        let made = self.extend_availability().await?;
        if made > 0 {
            tracing::info!(made, "made the sessions working hours reach as days pass");
        }
        self.purge_login_failures().await?;
        self.store
            .write(move |w| idempotency::purge(w, now).boxed())
            .await?;
        Ok(completed)
    }
}
