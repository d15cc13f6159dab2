//! The waitlist under real concurrency, on both backends, round after round: people join the
//! list of a full session while its holders cancel and others try to book it directly; then its
//! capacity is raised. The capacity promise holds, no one is in twice, the list stays in order.

use std::sync::Arc;

use kairos::store::query;
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::sync::Barrier;
use uuid::Uuid;

use crate::{
    concurrency::customers,
    helpers::{Class, Login, TestApp, id_of, on_both_backends},
    waitlist::{join, position, set_capacity},
};

on_both_backends!(joins_cancels_and_bookings_at_once_keep_the_promise_round_after_round);

const ROUNDS: i64 = 5;
const PLACES: i64 = 10;

#[derive(Debug, Clone, Copy)]
enum Try {
    Join,
    Cancel,
    Book,
}

async fn joins_cancels_and_bookings_at_once_keep_the_promise_round_after_round(app: TestApp) {
    let app = Arc::new(app);
    let Class {
        provider, service, ..
    } = app.class(json!({ "name": "Busy class" }), 24, 1).await;
    let holders = customers(&app, PLACES as usize).await;
    let waiters = customers(&app, 40).await;
    let bookers = customers(&app, 20).await;
    for round in 0..ROUNDS {
        let session = app.session(&provider, &service, 30 + round, PLACES).await;
        let mut held = Vec::new();
        for holder in &holders {
            held.push(app.booked(holder, &session).await);
        }
        let mut tries: Vec<(Try, Login, Option<Value>)> = Vec::new();
        tries.extend(waiters.iter().map(|w| (Try::Join, w.clone(), None)));
        tries.extend(
            holders
                .iter()
                .zip(&held)
                .map(|(h, b)| (Try::Cancel, h.clone(), Some(b.clone()))),
        );
        tries.extend(bookers.iter().map(|b| (Try::Book, b.clone(), None)));
        let barrier = Arc::new(Barrier::new(tries.len()));
        let tasks: Vec<_> = tries
            .into_iter()
            .map(|(kind, who, booking)| {
                let (app, barrier, session) =
                    (Arc::clone(&app), Arc::clone(&barrier), session.clone());
                tokio::spawn(async move {
                    barrier.wait().await;
                    let response = match kind {
                        Try::Join => join(&app, &who, &session).await,
                        Try::Book => app.book(&who, &session).await,
                        Try::Cancel => {
                            let path = format!(
                                "/api/user/{}/bookings/{}/cancel",
                                who.id,
                                id_of(booking.as_ref().unwrap())
                            );
                            app.as_user(&who).post(&path, &json!({})).await
                        }
                    };
                    let status = response.status();
                    let body: Value = response.json().await.unwrap_or(Value::Null);
                    (kind, status, body)
                })
            })
            .collect();
        for task in tasks {
            let (kind, status, body) = task.await.unwrap();
            let expected = match kind {
                Try::Join => status == StatusCode::CREATED || body["code"] == "session_not_full",
                Try::Book => status == StatusCode::CREATED || body["code"] == "session_full",
                Try::Cancel => status == StatusCode::OK,
            };
            assert!(expected, "round {round}: {kind:?} answered {status} {body}");
        }
        let waiting = check_the_session(&app, &session, &waiters, &bookers, PLACES).await;

        // A capacity raised by five promotes exactly five, when at least five wait.
        assert!(waiting >= 5, "round {round}: only {waiting} wait");
        set_capacity(&app, &provider, &service, &session, PLACES + 5).await;
        let after = check_the_session(&app, &session, &waiters, &bookers, PLACES + 5).await;
        assert_eq!(after, waiting - 5, "round {round}: five promoted");
    }
}

/// Checks the session against its promises and answers how many wait: never more live
/// bookings than places, the counters as the rows say, a full session while anyone waits, no
/// one both booked and waiting or booked twice, and positions 1..n.
async fn check_the_session(
    app: &TestApp,
    session: &Value,
    waiters: &[Login],
    bookers: &[Login],
    places: i64,
) -> i64 {
    let session_id = id_of(session);
    let (booked, live) = app.seats(session_id).await;
    assert_eq!(booked, live, "the counter is the live bookings");
    let (waiting,): (i64,) = app
        .db
        .one(query("SELECT waiting FROM sessions WHERE id = $1").bind(session_id))
        .await;
    let entries = app
        .db
        .count(
            query("SELECT COUNT(*) FROM waitlist_entries WHERE session_id = $1").bind(session_id),
        )
        .await;
    assert_eq!(waiting, entries, "the waiting counter is the list");
    assert!(live <= places, "{live} live bookings in {places} places");
    if waiting > 0 {
        assert_eq!(live, places, "a place is free while {waiting} wait");
    }
    let twice = app
        .db
        .count(
            query(
                "SELECT COUNT(*) FROM (SELECT user_id FROM bookings WHERE session_id = $1 \
                 AND status <> 'Cancelled' GROUP BY user_id HAVING COUNT(*) > 1) AS t",
            )
            .bind(session_id),
        )
        .await;
    assert_eq!(twice, 0, "no one holds two places");
    let both = app
        .db
        .count(
            query(
                "SELECT COUNT(*) FROM waitlist_entries e JOIN bookings b \
                 ON b.session_id = e.session_id AND b.user_id = e.user_id \
                 WHERE e.session_id = $1 AND b.status <> 'Cancelled'",
            )
            .bind(session_id),
        )
        .await;
    assert_eq!(both, 0, "no one both booked and waiting");
    let mut positions = Vec::new();
    for who in waiters.iter().chain(bookers) {
        if let Some(at) = position(app, who, session).await {
            positions.push(at);
        }
    }
    positions.sort_unstable();
    let expected: Vec<i64> = (1..=waiting).collect();
    assert_eq!(positions, expected, "the list is in order, 1 to {waiting}");
    let promoted: Vec<(Uuid,)> = app
        .db
        .all(
            query(
                "SELECT b.user_id FROM bookings b JOIN events e ON e.booking_id = b.id \
                 WHERE b.session_id = $1 AND e.type = 'booking.created' \
                 AND e.data LIKE '%\"source\":\"waitlist\"%'",
            )
            .bind(session_id),
        )
        .await;
    for (user,) in promoted {
        assert!(
            waiters.iter().any(|w| w.id == user),
            "only people who waited are promoted"
        );
    }
    waiting
}
