//! Many customers reading their own lists at once: each gets exactly their own page (on
//! PostgreSQL the pages are read several to a statement), and a login ended before the read is
//! refused even when others in the same statement are served.

use futures_util::future::join_all;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::sync::atomic::Ordering;
use uuid::Uuid;

use crate::helpers::{Answer, Backend, Login, TestApp, id_of, on_both_backends};

on_both_backends!(customers_reading_at_once_each_get_their_own_page);

const CUSTOMERS: usize = 16;
const ROUNDS: usize = 20;

/// What a customer should see: their bookings' ids soonest first, `limit` of them, or 401 once
/// their login is ended.
struct Expected {
    login: Login,
    path: String,
    answer: Result<Vec<Uuid>, StatusCode>,
}

async fn read(app: &TestApp, expected: &Expected) -> Result<Vec<Uuid>, StatusCode> {
    let response = app.get(&expected.path, &expected.login.token).await;
    match response.status() {
        StatusCode::OK => {
            let list: Value = response.ok_json(StatusCode::OK).await;
            Ok(list.as_array().unwrap().iter().map(id_of).collect())
        }
        status => Err(status),
    }
}

async fn customers_reading_at_once_each_get_their_own_page(app: TestApp) {
    let class = app.class(json!({ "name": "Pilates" }), 24, 40).await;
    let mut sessions = vec![class.session.clone()];
    for day in 2..=4 {
        sessions.push(
            app.session(&class.provider, &class.service, 24 * day, 40)
                .await,
        );
    }
    let mut everyone = Vec::new();
    for i in 0..CUSTOMERS {
        let login = app.customer().await;
        // One to four bookings each, booked latest first, so the list's order is the server's.
        let held = i % 4 + 1;
        let mut ids = Vec::new();
        for session in sessions[..held].iter().rev() {
            ids.push(id_of(&app.booked(&login, session).await));
        }
        ids.reverse();
        // Every third reads a page of one.
        let (path, answer) = if i % 3 == 0 {
            (
                format!("/api/user/{}/bookings?limit=1", login.id),
                ids[..1].to_vec(),
            )
        } else {
            (format!("/api/user/{}/bookings", login.id), ids)
        };
        everyone.push(Expected {
            login,
            path,
            answer: Ok(answer),
        });
    }
    // Four log out: their next reads are refused, whoever shares a statement with them.
    for expected in everyone.iter_mut().step_by(4) {
        let logout = app.log_out(&expected.login.token).await;
        assert_eq!(logout.status(), StatusCode::NO_CONTENT);
        expected.answer = Err(StatusCode::UNAUTHORIZED);
    }

    for round in 0..ROUNDS {
        let answers = join_all(everyone.iter().map(|expected| read(&app, expected))).await;
        for (expected, answer) in everyone.iter().zip(answers) {
            assert_eq!(
                answer, expected.answer,
                "round {round}: {}'s page",
                expected.login.email
            );
        }
    }

    if app.backend == Backend::Postgres {
        let counts = app.app.store().page_batch_counts().unwrap();
        let (batches, pages) = (
            counts.batches.load(Ordering::Relaxed),
            counts.pages.load(Ordering::Relaxed),
        );
        assert!(
            pages > batches,
            "some statement read several pages ({pages} pages in {batches} statements)"
        );
    }
}
