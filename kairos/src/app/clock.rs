//! The clock every use case reads "now" from. In production it is the system's; tests move it
//! forward (a reminder due tomorrow, a session that has ended) instead of rewriting rows.

use std::sync::{
    Arc,
    atomic::{AtomicI64, Ordering},
};

use chrono::{DateTime, Duration, Utc};
use tokio::sync::watch;

use crate::domain::clock::truncate_to_micros;

/// Cloned into everything that needs the time; every clone moves together.
#[derive(Debug, Clone)]
pub struct Clock(Arc<State>);

#[derive(Debug)]
struct State {
    /// Stopped at `micros` (a fake for tests of rules), or the system's time plus `micros`.
    stopped: bool,
    micros: AtomicI64,
    /// Counts moves, so work waiting for a time (a reminder, a retry) wakes when a test moves
    /// the clock instead of sleeping through it.
    moves: watch::Sender<u64>,
}

impl Clock {
    /// The system's time; [`Clock::advance`] adds to it (tests of a running server).
    pub fn system() -> Self {
        Self(Arc::new(State {
            stopped: false,
            micros: AtomicI64::new(0),
            moves: watch::Sender::new(0),
        }))
    }

    /// A clock that shows `at` until it is moved.
    pub fn stopped_at(at: DateTime<Utc>) -> Self {
        Self(Arc::new(State {
            stopped: true,
            micros: AtomicI64::new(at.timestamp_micros()),
            moves: watch::Sender::new(0),
        }))
    }

    /// Now, to the microsecond.
    pub fn now(&self) -> DateTime<Utc> {
        let micros = self.0.micros.load(Ordering::Acquire);
        if self.0.stopped {
            DateTime::from_timestamp_micros(micros).unwrap_or_default()
        } else {
            truncate_to_micros(Utc::now() + Duration::microseconds(micros))
        }
    }

    /// Moves the clock (and every clone of it) forward by `by`.
    pub fn advance(&self, by: Duration) {
        let micros = by.num_microseconds().unwrap_or(i64::MAX);
        self.0.micros.fetch_add(micros, Ordering::AcqRel);
        self.0.moves.send_modify(|moves| *moves += 1);
    }

    /// Changes whenever the clock is moved (never, for the system's own time).
    pub fn moves(&self) -> watch::Receiver<u64> {
        self.0.moves.subscribe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stopped_clock_moves_only_when_moved_and_clones_move_together() {
        let at: DateTime<Utc> = "2026-11-29T09:00:00Z".parse().expect("time");
        let clock = Clock::stopped_at(at);
        let clone = clock.clone();
        assert_eq!(clock.now(), at);
        clone.advance(Duration::days(3));
        assert_eq!(clock.now(), at + Duration::days(3));
    }

    #[test]
    fn the_system_clock_can_be_moved_forward() {
        let clock = Clock::system();
        let before = Utc::now();
        clock.advance(Duration::hours(2));
        assert!(clock.now() >= before + Duration::hours(2));
        assert!(clock.now() < Utc::now() + Duration::hours(2) + Duration::seconds(5));
    }
}
