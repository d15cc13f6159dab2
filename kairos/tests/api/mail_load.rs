//! The outbox under load: a mail server gone while many customers book at once, and two
//! instances on one PostgreSQL database sharing the outbox. Nothing acknowledged goes
//! unmailed, and nothing is mailed twice.

use std::{collections::HashMap, io::Write, sync::Arc, time::Instant};

use chrono::Duration as Span;
use kairos::store::query;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::{
    concurrency::customers,
    helpers::{Backend, Class, Login, Mail, TestApp, on_both_backends, spawn_app},
};

on_both_backends!(a_mail_server_gone_under_load_delays_every_confirmation_and_loses_none);

const CUSTOMERS: usize = 60;

/// Every customer books at once, half through `other` when given; answers the statuses.
async fn book_all(
    app: &Arc<TestApp>,
    other: Option<&Arc<TestApp>>,
    people: &[Login],
    session: &Value,
) -> Vec<StatusCode> {
    let tasks: Vec<_> = people
        .iter()
        .cloned()
        .enumerate()
        .map(|(i, person)| {
            let through = match other {
                Some(other) if i % 2 == 1 => Arc::clone(other),
                _ => Arc::clone(app),
            };
            let session = session.clone();
            tokio::spawn(async move { through.book(&person, &session).await.status() })
        })
        .collect();
    let mut statuses = Vec::new();
    for task in tasks {
        statuses.push(task.await.unwrap());
    }
    statuses
}

/// How many mails each `Message-ID` came in.
fn copies(mails: &[Mail]) -> HashMap<String, usize> {
    let mut seen = HashMap::new();
    for mail in mails {
        *seen.entry(mail.message_id()).or_insert(0) += 1;
    }
    seen
}

/// Each customer's confirmation and the provider's notice of each booking, once each.
async fn every_booking_mailed_once(app: &TestApp, provider: &Login, people: &[Login]) {
    let mails = app
        .mail
        .wait_until(std::time::Duration::from_secs(30), |mails| {
            mails.len() >= 2 * people.len()
        })
        .await;
    for person in people {
        let to_them = app.mail.mails_to(&person.email);
        assert_eq!(to_them.len(), 1, "{} has one mail", person.email);
        assert!(to_them[0].subject().starts_with("Booked: "));
    }
    let notices = app.mail.mails_to(&provider.email);
    assert_eq!(notices.len(), people.len());
    assert!(
        notices
            .iter()
            .all(|m| m.subject().starts_with("New booking: "))
    );
    let duplicated: Vec<_> = copies(&mails).into_iter().filter(|(_, n)| *n > 1).collect();
    assert!(duplicated.is_empty(), "sent twice: {duplicated:?}");
    app.outbox_settled().await;
    let sent = app
        .db
        .count(query("SELECT COUNT(*) FROM messages WHERE status = 'sent'"))
        .await;
    assert_eq!(sent, 2 * people.len() as i64);
}

async fn a_mail_server_gone_under_load_delays_every_confirmation_and_loses_none(app: TestApp) {
    let app = Arc::new(app);
    let Class {
        provider, session, ..
    } = app
        .class(json!({ "name": "Spin" }), 48, CUSTOMERS as i64)
        .await;
    let people = customers(&app, CUSTOMERS).await;
    app.mail.stop();
    let started = Instant::now();
    let statuses = book_all(&app, None, &people, &session).await;
    let booking_took = started.elapsed();
    assert!(
        statuses.iter().all(|s| *s == StatusCode::CREATED),
        "{statuses:?}"
    );
    // Every mail has had its first try, failed, and waits for the next.
    let mut waiting = 0;
    for _ in 0..200 {
        waiting = app
            .db
            .count(query(
                "SELECT COUNT(*) FROM messages WHERE status = 'pending' AND attempts = 1",
            ))
            .await;
        if waiting == 2 * CUSTOMERS as i64 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(waiting, 2 * CUSTOMERS as i64, "every mail tried once");
    assert!(app.mail.mails().is_empty());

    app.mail.resume().await;
    let resumed = Instant::now();
    app.advance(Span::minutes(1) + Span::seconds(1));
    every_booking_mailed_once(&app, &provider, &people).await;
    let _ = writeln!(
        std::io::stderr(),
        "{:?}: {CUSTOMERS} bookings at once with the mail server gone took {booking_took:?}; \
         their {} mails were all in {:?} after it came back",
        app.backend,
        2 * CUSTOMERS,
        resumed.elapsed()
    );
}

/// Two instances on one PostgreSQL database, customers booking through both: each instance's
/// worker claims what it sends, so every mail goes out once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_share_one_outbox_and_send_each_mail_once() {
    let Some(first) = spawn_app(Backend::Postgres).await else {
        return;
    };
    let second = Arc::new(first.another_instance().await);
    let first = Arc::new(first);
    let Class {
        provider, session, ..
    } = first
        .class(json!({ "name": "Rowing" }), 48, CUSTOMERS as i64)
        .await;
    let people = customers(&first, CUSTOMERS).await;
    let statuses = book_all(&first, Some(&second), &people, &session).await;
    assert!(
        statuses.iter().all(|s| *s == StatusCode::CREATED),
        "{statuses:?}"
    );
    every_booking_mailed_once(&first, &provider, &people).await;
}
