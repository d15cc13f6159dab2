//! Reminders on the server's clock, the outbox's retries while the mail server is away, the
//! admin's view and retry, the `.eml` folder when no SMTP server is set.

use std::time::Duration;

use chrono::Duration as Span;
use kairos::store::query;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{
    Answer, Class, Mail, TestApp, id_of, on_both_backends, on_both_backends_with, problem,
};

on_both_backends!(
    reminders_come_once_per_offset_follow_a_move_and_stop_at_a_cancel,
    mail_waits_while_the_mail_server_is_away_then_goes_out_once,
    a_mail_that_keeps_failing_is_marked_failed_and_an_admin_retries_it,
);
on_both_backends_with!(no_smtp_server => without_an_smtp_server_mail_is_written_to_the_data_dir);

fn no_smtp_server(settings: &mut kairos::config::Settings) {
    settings.smtp_url = None;
}

fn reminders(mails: &[Mail]) -> Vec<&Mail> {
    mails
        .iter()
        .filter(|m| m.subject().starts_with("Reminder: "))
        .collect()
}

/// Lets the outbox work through what is due now (it wakes when the clock moves), then answers
/// what the mail server holds for `address`.
async fn settled_mails_to(app: &TestApp, address: &str) -> Vec<Mail> {
    app.outbox_settled().await;
    app.mail.mails_to(address)
}

async fn reminders_come_once_per_offset_follow_a_move_and_stop_at_a_cancel(app: TestApp) {
    let Class {
        provider,
        service,
        session: first,
    } = app
        .class(
            json!({ "name": "Piano", "reminderMinutes": [1440, 60] }),
            72,
            5,
        )
        .await;
    let later = app.session(&provider, &service, 74, 5).await;
    let soon = app.session(&provider, &service, 3, 5).await;
    let ann = app.customer().await;
    let bob = app.customer().await;
    let booking = app.booked(&ann, &first).await;
    // Bob books 3 hours ahead: the day-before reminder had passed, so only the hour-before one.
    let short_notice = app.booked(&bob, &soon).await;
    let db = &app.db;
    let due = |booking: &Value| {
        db.count(query("SELECT COUNT(*) FROM reminders WHERE booking_id = $1").bind(id_of(booking)))
    };
    app.outbox_settled().await;
    assert_eq!(due(&booking).await, 2);
    assert_eq!(
        due(&short_notice).await,
        1,
        "the 1440-minute one was already past"
    );

    // Not a minute early.
    app.advance(Span::hours(48) - Span::minutes(2));
    assert!(reminders(&settled_mails_to(&app, &ann.email).await).is_empty());
    // A day before Ann's session: the first reminder, once.
    app.advance(Span::minutes(3));
    let mails = app.mail.expect_mails_to(&ann.email, 2).await;
    let first_reminder = reminders(&mails);
    assert_eq!(first_reminder.len(), 1);
    assert!(first_reminder[0].subject().contains("Piano"));
    let (method, _) = first_reminder[0].calendar().expect("the calendar entry");
    assert_eq!(method, "REQUEST");

    // Ann moves two hours later: the hour-before reminder follows; the sent one is not sent again.
    let ann = app.again(&ann).await;
    app.moved(&ann, &booking, &later).await;
    // Where the old hour-before reminder was due: nothing comes.
    app.advance(Span::hours(23));
    assert_eq!(
        reminders(&settled_mails_to(&app, &ann.email).await).len(),
        1
    );
    // Bob's session has long started; his one reminder went out before it.
    assert_eq!(reminders(&app.mail.mails_to(&bob.email)).len(), 1);
    // An hour before the new time: the second reminder, with the new time.
    app.advance(Span::hours(2));
    let mails = settled_mails_to(&app, &ann.email).await;
    let sent = reminders(&mails);
    assert_eq!(
        sent.len(),
        2,
        "{:?}",
        mails.iter().map(Mail::subject).collect::<Vec<_>>()
    );
    let starts = later["startsAt"].as_str().unwrap().replace(['-', ':'], "");
    let (_, calendar) = sent[1].calendar().unwrap();
    assert!(
        calendar.contains(&format!("DTSTART:{starts}")),
        "{calendar}"
    );

    // A cancelled booking is not reminded.
    let cara = app.customer().await;
    let far = app
        .session(&app.again(&provider).await, &service, 30, 5)
        .await;
    let cancelled = app.booked(&cara, &far).await;
    app.as_user(&cara)
        .post(
            &format!(
                "/api/user/{}/bookings/{}/cancel",
                cara.id,
                id_of(&cancelled)
            ),
            &json!({}),
        )
        .await
        .ok_json::<Value>(StatusCode::OK)
        .await;
    app.advance(Span::hours(30));
    assert!(reminders(&settled_mails_to(&app, &cara.email).await).is_empty());
    let pending = app
        .db
        .count(
            query("SELECT COUNT(*) FROM reminders WHERE booking_id = $1").bind(id_of(&cancelled)),
        )
        .await;
    assert_eq!(pending, 0);
}

async fn mail_waits_while_the_mail_server_is_away_then_goes_out_once(app: TestApp) {
    let Class { session, .. } = app.class(json!({ "name": "Swim" }), 24, 5).await;
    let ann = app.customer().await;
    app.mail.stop();
    let booking = app.booked(&ann, &session).await;
    // The first try fails; the message waits for its next try, with the reason kept.
    let admin = app.admin().await;
    let mut waiting = Vec::new();
    for _ in 0..100 {
        waiting = app
            .as_user(&admin)
            .get_json::<Vec<Value>>("/api/admin/outbox?status=pending")
            .await;
        if waiting
            .iter()
            .any(|m| m["attempts"] == 1 && m["recipient"] == ann.email)
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let message = waiting
        .iter()
        .find(|m| m["recipient"] == ann.email)
        .expect("Ann's confirmation waits");
    assert_eq!(message["attempts"], 1);
    assert!(message["lastError"].as_str().is_some_and(|e| !e.is_empty()));
    assert_eq!(message["kind"], "confirmation");
    assert!(app.mail.mails().is_empty());
    // Back a minute later: it goes out at its next try, once.
    app.mail.resume().await;
    app.advance(Span::minutes(1) + Span::seconds(1));
    let mails = app.mail.expect_mails_to(&ann.email, 1).await;
    assert_eq!(mails.len(), 1);
    assert!(mails[0].subject().starts_with("Booked: Swim"));
    app.outbox_settled().await;
    let (status, attempts): (String, i64) = app
        .db
        .one(
            query("SELECT status, attempts FROM messages WHERE booking_id = $1 AND recipient = $2")
                .bind(id_of(&booking))
                .bind(ann.email.clone()),
        )
        .await;
    assert_eq!((status.as_str(), attempts), ("sent", 2));
    let metrics = app.metrics().await;
    assert!(metrics.contains("kairos_outbox_pending "), "{metrics}");
    let sent: u64 = metrics
        .lines()
        .find_map(|l| l.strip_prefix("kairos_mail_sent_total "))
        .and_then(|v| v.trim().parse().ok())
        .expect("kairos_mail_sent_total");
    assert!(
        sent >= 2,
        "the confirmation and the provider's notice: {sent}"
    );
}

async fn a_mail_that_keeps_failing_is_marked_failed_and_an_admin_retries_it(app: TestApp) {
    let Class { session, .. } = app.class(json!({ "name": "Chess" }), 24 * 10, 5).await;
    let ann = app.customer().await;
    app.mail.stop();
    app.booked(&ann, &session).await;
    app.let_every_retry_pass().await;
    let admin = app.admin().await;
    let failed: Vec<Value> = app
        .as_user(&admin)
        .get_json("/api/admin/outbox?status=failed")
        .await;
    let message = failed
        .iter()
        .find(|m| m["recipient"] == ann.email)
        .expect("Ann's confirmation failed");
    assert_eq!(message["attempts"], 7);
    assert_eq!(message["status"], "failed");
    assert!(message["nextAttemptAt"].is_null());
    let id = message["id"].as_str().unwrap().to_owned();
    // Only an admin retries, only a failed message.
    let retry = format!("/api/admin/outbox/{id}/retry");
    let ann = app.again(&ann).await;
    assert_eq!(
        app.as_user(&ann).post(&retry, &json!({})).await.status(),
        StatusCode::FORBIDDEN
    );
    app.mail.resume().await;
    let queued: Value = app
        .as_user(&admin)
        .post(&retry, &json!({}))
        .await
        .ok_json(StatusCode::ACCEPTED)
        .await;
    assert_eq!(queued["status"], "pending");
    assert_eq!(queued["attempts"], 0);
    let mails = app.mail.expect_mails_to(&ann.email, 1).await;
    assert_eq!(mails.len(), 1);
    app.outbox_settled().await;
    let again = app.as_user(&admin).post(&retry, &json!({})).await;
    let body = problem(again, StatusCode::CONFLICT).await;
    assert_eq!(body["code"], "message_not_failed");
}

async fn without_an_smtp_server_mail_is_written_to_the_data_dir(app: TestApp) {
    let Class { session, .. } = app.class(json!({ "name": "Archery" }), 24, 5).await;
    let ann = app.customer().await;
    app.booked(&ann, &session).await;
    let folder = app.data_dir.path().join("mail");
    let mut written = Vec::new();
    for _ in 0..100 {
        written = std::fs::read_dir(&folder)
            .map(|dir| dir.filter_map(Result::ok).map(|e| e.path()).collect())
            .unwrap_or_default();
        if written.len() >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        written.len(),
        2,
        "the confirmation and the provider's notice"
    );
    let texts: Vec<String> = written
        .iter()
        .map(|path| std::fs::read_to_string(path).unwrap())
        .collect();
    assert!(
        written
            .iter()
            .all(|p| p.extension().is_some_and(|e| e == "eml"))
    );
    let confirmation = texts
        .iter()
        .find(|t| t.contains(&format!("To: {}", ann.email)))
        .expect("Ann's confirmation");
    assert!(confirmation.contains("Subject: Booked: Archery"));
    assert!(confirmation.contains("Message-ID: <event-"));
    assert!(confirmation.contains("METHOD:REQUEST"));
    assert!(app.mail.mails().is_empty(), "no SMTP server was given");
}
