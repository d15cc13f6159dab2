//! The capacity promise under real concurrency: many clients at once against one session, each
//! started together behind a barrier, on both backends.

use std::{io::Write, sync::Arc, time::Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::sync::Barrier;

use crate::helpers::{Class, Login, TestApp, id_of, on_both_backends, session_path};

on_both_backends!(
    two_hundred_clients_race_for_ten_places_then_for_one,
    twenty_parallel_cancels_free_one_place,
    cancels_racing_bookings_on_a_full_session_keep_the_count_exact,
    opposite_reschedules_at_once_neither_deadlock_nor_drift,
    a_session_cancelled_while_its_customers_cancel_neither_deadlocks_nor_drifts,
    a_session_cancelled_twenty_times_at_once_is_cancelled_once,
);

/// `n` customers, made concurrently (sign-up and login hash passwords, the slow part).
pub(crate) async fn customers(app: &Arc<TestApp>, n: usize) -> Vec<Login> {
    let tasks: Vec<_> = (0..n)
        .map(|_| {
            let app = Arc::clone(app);
            tokio::spawn(async move { app.customer().await })
        })
        .collect();
    let mut made = Vec::with_capacity(n);
    for task in tasks {
        made.push(task.await.unwrap());
    }
    made
}

/// Every customer books the session at the same moment; answers the statuses.
async fn race(app: &Arc<TestApp>, people: &[Login], session: &Value) -> Vec<StatusCode> {
    let barrier = Arc::new(Barrier::new(people.len()));
    let tasks: Vec<_> = people
        .iter()
        .cloned()
        .map(|person| {
            let (app, barrier, session) = (Arc::clone(app), Arc::clone(&barrier), session.clone());
            tokio::spawn(async move {
                barrier.wait().await;
                let response = app.book(&person, &session).await;
                let status = response.status();
                if status == StatusCode::CONFLICT {
                    let body: Value = response.json().await.unwrap();
                    assert_eq!(body["code"], "session_full");
                }
                status
            })
        })
        .collect();
    let mut statuses = Vec::new();
    for task in tasks {
        statuses.push(task.await.unwrap());
    }
    statuses
}

fn count(statuses: &[StatusCode], wanted: StatusCode) -> usize {
    statuses.iter().filter(|s| **s == wanted).count()
}

fn report(what: &str, app: &TestApp, elapsed: std::time::Duration) {
    let _ = writeln!(
        std::io::stderr(),
        "{what} on {:?}: {:.0} ms",
        app.backend,
        elapsed.as_secs_f64() * 1000.0
    );
}

async fn two_hundred_clients_race_for_ten_places_then_for_one(app: TestApp) {
    let app = Arc::new(app);
    let provider = app.user_with_role("provider").await;
    let service = app.published_service(&provider, json!({})).await;
    let people = customers(&app, 200).await;
    for capacity in [10, 1] {
        let session = app.session(&provider, &service, 24, capacity).await;
        let started = Instant::now();
        let statuses = race(&app, &people, &session).await;
        let places = if capacity == 1 {
            "1 place".to_owned()
        } else {
            format!("{capacity} places")
        };
        report(
            &format!("200 clients booking {places}"),
            &app,
            started.elapsed(),
        );
        let capacity = usize::try_from(capacity).unwrap();
        assert_eq!(
            count(&statuses, StatusCode::CREATED),
            capacity,
            "{statuses:?}"
        );
        assert_eq!(
            count(&statuses, StatusCode::CONFLICT),
            200 - capacity,
            "{statuses:?}"
        );
        let (booked, live) = app.seats(id_of(&session)).await;
        assert_eq!((booked, live), (capacity as i64, capacity as i64));
    }
}

async fn twenty_parallel_cancels_free_one_place(app: TestApp) {
    let app = Arc::new(app);
    let Class { session, .. } = app.class(json!({}), 24, 3).await;
    let ann = app.customer().await;
    app.booked(&app.customer().await, &session).await;
    let booking = app.booked(&ann, &session).await;
    assert_eq!(app.seats(id_of(&session)).await, (2, 2));
    let barrier = Arc::new(Barrier::new(20));
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let (app, barrier, ann, booking) = (
                Arc::clone(&app),
                Arc::clone(&barrier),
                ann.clone(),
                booking.clone(),
            );
            tokio::spawn(async move {
                barrier.wait().await;
                app.post(
                    &format!("/api/user/{}/bookings/{}/cancel", ann.id, id_of(&booking)),
                    &ann.token,
                    &json!({}),
                )
                .await
                .status()
            })
        })
        .collect();
    for task in tasks {
        assert_eq!(task.await.unwrap(), StatusCode::OK);
    }
    assert_eq!(
        app.seats(id_of(&session)).await,
        (1, 1),
        "exactly one place freed"
    );
}

async fn cancels_racing_bookings_on_a_full_session_keep_the_count_exact(app: TestApp) {
    let app = Arc::new(app);
    let Class { session, .. } = app.class(json!({}), 24, 10).await;
    let holders = customers(&app, 10).await;
    let mut bookings = Vec::new();
    for holder in &holders {
        bookings.push(app.booked(holder, &session).await);
    }
    let hopefuls = customers(&app, 100).await;
    let barrier = Arc::new(Barrier::new(105));
    let mut cancels = Vec::new();
    for (holder, booking) in holders.iter().zip(&bookings).take(5) {
        let (app, barrier, holder, booking) = (
            Arc::clone(&app),
            Arc::clone(&barrier),
            holder.clone(),
            booking.clone(),
        );
        cancels.push(tokio::spawn(async move {
            barrier.wait().await;
            app.delete(
                &format!("/api/user/{}/bookings/{}", holder.id, id_of(&booking)),
                &holder.token,
            )
            .await
            .status()
        }));
    }
    let mut books = Vec::new();
    for person in hopefuls {
        let (app, barrier, session) = (Arc::clone(&app), Arc::clone(&barrier), session.clone());
        books.push(tokio::spawn(async move {
            barrier.wait().await;
            app.book(&person, &session).await.status()
        }));
    }
    for cancel in cancels {
        assert_eq!(cancel.await.unwrap(), StatusCode::NO_CONTENT);
    }
    let mut booked_now = 0;
    for book in books {
        match book.await.unwrap() {
            StatusCode::CREATED => booked_now += 1,
            StatusCode::CONFLICT => {}
            other => panic!("unexpected {other}"),
        }
    }
    assert!(booked_now <= 5, "{booked_now} booked into 5 freed places");
    let (booked, live) = app.seats(id_of(&session)).await;
    assert_eq!(booked, live, "the counter equals the live bookings");
    assert_eq!(live, 5 + booked_now as i64);
    assert!(live <= 10);
}

async fn opposite_reschedules_at_once_neither_deadlock_nor_drift(app: TestApp) {
    let app = Arc::new(app);
    let Class {
        provider,
        service,
        session: a,
    } = app.class(json!({}), 24, 40).await;
    let b = app.session(&provider, &service, 48, 40).await;
    let people = customers(&app, 40).await;
    let mut moves = Vec::new();
    for (i, person) in people.iter().enumerate() {
        let (from, to) = if i % 2 == 0 { (&a, &b) } else { (&b, &a) };
        let booking = app.booked(person, from).await;
        moves.push((person.clone(), booking, to.clone()));
    }
    let barrier = Arc::new(Barrier::new(moves.len()));
    let tasks: Vec<_> = moves
        .into_iter()
        .map(|(person, booking, to)| {
            let (app, barrier) = (Arc::clone(&app), Arc::clone(&barrier));
            tokio::spawn(async move {
                barrier.wait().await;
                app.patch(
                    &format!("/api/user/{}/bookings/{}", person.id, id_of(&booking)),
                    &person.token,
                    &json!({ "sessionId": to["id"] }),
                )
                .await
                .status()
            })
        })
        .collect();
    for task in tasks {
        assert_eq!(task.await.unwrap(), StatusCode::OK);
    }
    assert_eq!(app.seats(id_of(&a)).await, (20, 20));
    assert_eq!(app.seats(id_of(&b)).await, (20, 20));
}

/// The provider cancels a session in the same moment as its customers cancel their own
/// bookings in it: each booking ends once, nothing answers 5xx (a deadlock would be a 503 on
/// PostgreSQL), and the session holds no one.
async fn a_session_cancelled_while_its_customers_cancel_neither_deadlocks_nor_drifts(app: TestApp) {
    let app = Arc::new(app);
    for round in 0..3 {
        let Class {
            provider,
            service,
            session,
        } = app.class(json!({}), 24, 30).await;
        let people = customers(&app, 30).await;
        let mut bookings = Vec::new();
        for person in &people {
            bookings.push((person.clone(), app.booked(person, &session).await));
        }
        let barrier = Arc::new(Barrier::new(bookings.len() + 1));
        let mut tasks: Vec<_> = bookings
            .into_iter()
            .map(|(person, booking)| {
                let (app, barrier) = (Arc::clone(&app), Arc::clone(&barrier));
                tokio::spawn(async move {
                    barrier.wait().await;
                    app.post(
                        &format!(
                            "/api/user/{}/bookings/{}/cancel",
                            person.id,
                            id_of(&booking)
                        ),
                        &person.token,
                        &json!({}),
                    )
                    .await
                    .status()
                })
            })
            .collect();
        let path = session_path(&provider, &service, &session);
        tasks.push({
            let (app, barrier) = (Arc::clone(&app), Arc::clone(&barrier));
            tokio::spawn(async move {
                barrier.wait().await;
                app.delete(&path, &provider.token).await.status()
            })
        });
        for task in tasks {
            let status = task.await.unwrap();
            assert_eq!(status, StatusCode::OK, "round {round}");
        }
        assert_eq!(app.seats(id_of(&session)).await.0, 0, "round {round}");
        let live = app
            .db
            .count(
                kairos::store::query(
                    "SELECT COUNT(*) FROM bookings WHERE session_id = $1 AND status <> 'Cancelled'",
                )
                .bind(id_of(&session)),
            )
            .await;
        assert_eq!(live, 0, "round {round}");
    }
}

/// Twenty cancellations of one session at once: all answer 200 with the cancelled session, and
/// it is cancelled once (one event, its booking ended once, its place freed once).
async fn a_session_cancelled_twenty_times_at_once_is_cancelled_once(app: TestApp) {
    let app = Arc::new(app);
    let Class {
        provider,
        service,
        session,
    } = app.class(json!({}), 24, 5).await;
    app.booked(&app.customer().await, &session).await;
    let path = session_path(&provider, &service, &session);
    let barrier = Arc::new(Barrier::new(20));
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let (app, barrier, path, token) = (
                Arc::clone(&app),
                Arc::clone(&barrier),
                path.clone(),
                provider.token.clone(),
            );
            tokio::spawn(async move {
                barrier.wait().await;
                app.delete(&path, &token).await.status()
            })
        })
        .collect();
    for task in tasks {
        assert_eq!(task.await.unwrap(), StatusCode::OK);
    }
    let count = |text: &'static str| {
        app.db
            .count(kairos::store::query(text).bind(id_of(&session).to_string()))
    };
    assert_eq!(
        count("SELECT COUNT(*) FROM events WHERE type = 'session.cancelled' AND data LIKE '%' || $1 || '%'")
            .await,
        1
    );
    assert_eq!(
        count("SELECT COUNT(*) FROM events WHERE type = 'booking.cancelled' AND data LIKE '%' || $1 || '%'")
            .await,
        1,
        "its booking ended once"
    );
    assert_eq!(app.seats(id_of(&session)).await.0, 0);
}
