//! E-mail: who is told what, with which calendar entry, through a real SMTP server on loopback;
//! the events each change leaves; the flag that turns mail off.

use kairos::store::query;
use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{
    Answer, Class, Login, Mail, TestApp, id_of, on_both_backends, parse_calendar, parse_feed,
    session_path,
};

on_both_backends!(
    a_booking_confirms_to_the_customer_with_the_feeds_calendar_entry,
    a_cancellation_says_who_and_why_and_cancels_the_calendar_entry,
    a_move_tells_both_sides_and_updates_the_calendar_entry,
    a_moved_session_tells_each_customer_and_a_cancelled_one_cancels_each_booking,
    every_change_leaves_its_event_and_a_refused_one_none,
    no_mail_for_someone_who_turned_it_off,
);

/// The booking's event in the customer's feed: its properties.
async fn feed_event(app: &TestApp, customer: &Login, booking: &Value) -> crate::helpers::Props {
    let body: Value = app
        .as_user(customer)
        .post(
            &format!("/api/user/{}/schedule/feed", customer.id),
            &json!({}),
        )
        .await
        .ok_json(StatusCode::OK)
        .await;
    let feed = app
        .client
        .get(body["url"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let uid = format!("booking-{}@127.0.0.1", id_of(booking));
    parse_feed(&feed)
        .into_iter()
        .find(|e| e.get("UID") == Some(uid.as_str()))
        .expect("the booking is in the feed")
}

/// The mail's invitation: its METHOD and its one event.
fn invitation(mail: &Mail) -> (String, String, crate::helpers::Props) {
    let (part_method, text) = mail.calendar().expect("a text/calendar part");
    let (calendar, mut events) = parse_calendar(&text);
    assert_eq!(events.len(), 1, "one VEVENT");
    let method = calendar.get("METHOD").unwrap_or_default().to_owned();
    (part_method, method, events.remove(0))
}

fn with_subject<'a>(mails: &'a [Mail], prefix: &str) -> Vec<&'a Mail> {
    mails
        .iter()
        .filter(|m| m.subject().starts_with(prefix))
        .collect()
}

async fn a_booking_confirms_to_the_customer_with_the_feeds_calendar_entry(app: TestApp) {
    let Class {
        provider, session, ..
    } = app
        .class(
            json!({ "name": "Morning yoga", "location": "Studio 1" }),
            24,
            5,
        )
        .await;
    let ann = app.customer().await;
    let booking = app.booked(&ann, &session).await;

    let to_ann = app.mail.expect_mails_to(&ann.email, 1).await;
    let confirmation = &to_ann[0];
    assert_eq!(confirmation.from, "bookings@kairos.test");
    assert_eq!(confirmation.content_type(), "multipart/alternative");
    assert!(
        confirmation.subject().starts_with("Booked: Morning yoga, "),
        "{}",
        confirmation.subject()
    );
    let link = format!(
        "{}/user/{}/bookings/{}",
        app.address,
        ann.id,
        id_of(&booking)
    );
    assert!(confirmation.text().contains("You are booked."));
    assert!(
        confirmation.text().contains(&link),
        "{}",
        confirmation.text()
    );
    assert!(confirmation.html().contains(&format!("href=\"{link}\"")));
    assert!(confirmation.text().contains("Studio 1"));
    let (part_method, method, event) = invitation(confirmation);
    assert_eq!(
        (part_method.as_str(), method.as_str()),
        ("REQUEST", "REQUEST")
    );
    let in_feed = feed_event(&app, &ann, &booking).await;
    for property in [
        "UID", "SEQUENCE", "DTSTART", "DTEND", "SUMMARY", "LOCATION", "STATUS",
    ] {
        assert_eq!(
            event.get(property),
            in_feed.get(property),
            "{property} as in the feed"
        );
    }
    assert_eq!(event.get("ORGANIZER"), Some("mailto:bookings@kairos.test"));
    assert_eq!(
        event.get("ATTENDEE"),
        Some(format!("mailto:{}", ann.email).as_str())
    );

    let to_provider = app.mail.expect_mails_to(&provider.email, 1).await;
    assert!(
        to_provider[0]
            .subject()
            .starts_with("New booking: Morning yoga")
    );
    assert!(to_provider[0].text().contains(&ann.email));
    assert!(
        to_provider[0].calendar().is_none(),
        "the provider's own calendar is the feed of sessions"
    );
    assert_ne!(to_provider[0].message_id(), confirmation.message_id());
    // What the outbox holds: two messages, both sent, named by the event they tell of. (A mail
    // arrives a moment before the worker records it sent.)
    app.outbox_settled().await;
    let sent = app
        .db
        .count(
            query("SELECT COUNT(*) FROM messages WHERE booking_id = $1 AND status = 'sent'")
                .bind(id_of(&booking)),
        )
        .await;
    assert_eq!(sent, 2);
    let (event_id,): (Uuid,) = app
        .db
        .one(
            query("SELECT id FROM events WHERE booking_id = $1 AND type = 'booking.created'")
                .bind(id_of(&booking)),
        )
        .await;
    assert!(
        confirmation
            .message_id()
            .starts_with(&format!("event-{}.customer@", event_id.simple())),
        "{}",
        confirmation.message_id()
    );
}

async fn a_cancellation_says_who_and_why_and_cancels_the_calendar_entry(app: TestApp) {
    let Class {
        provider, session, ..
    } = app.class(json!({ "name": "Pottery" }), 24, 5).await;
    let ann = app.customer().await;
    let booking = app.booked(&ann, &session).await;
    app.mail.expect_mails_to(&ann.email, 1).await;
    let reason = "The kiln <b>broke</b> & we are sorry";
    app.as_user(&provider)
        .post(
            &format!(
                "/api/user/{}/bookings/{}/cancel",
                provider.id,
                id_of(&booking)
            ),
            &json!({ "reason": reason }),
        )
        .await
        .ok_json::<Value>(StatusCode::OK)
        .await;

    let to_ann = app.mail.expect_mails_to(&ann.email, 2).await;
    let cancelled = with_subject(&to_ann, "Cancelled: Pottery");
    assert_eq!(cancelled.len(), 1);
    let mail = cancelled[0];
    assert!(
        mail.text().contains("cancelled by the provider"),
        "{}",
        mail.text()
    );
    assert!(
        mail.text().contains(reason),
        "the plain text says it as written"
    );
    let html = mail.html();
    assert!(!html.contains("<b>broke"), "the HTML escapes it: {html}");
    let unescaped = crate::helpers::unescaped(&html);
    assert!(unescaped.contains(reason), "and says it: {html}");
    let (part_method, method, event) = invitation(mail);
    assert_eq!(
        (part_method.as_str(), method.as_str()),
        ("CANCEL", "CANCEL")
    );
    let in_feed = feed_event(&app, &ann, &booking).await;
    assert_eq!(event.get("UID"), in_feed.get("UID"));
    assert_eq!(event.get("SEQUENCE"), in_feed.get("SEQUENCE"));
    assert_eq!(event.get("STATUS"), Some("CANCELLED"));
    let to_provider = app.mail.expect_mails_to(&provider.email, 2).await;
    assert_eq!(
        with_subject(&to_provider, "Booking cancelled: Pottery").len(),
        1
    );
}

async fn a_move_tells_both_sides_and_updates_the_calendar_entry(app: TestApp) {
    let Class {
        provider,
        service,
        session: first,
    } = app.class(json!({ "name": "Tutoring" }), 24, 5).await;
    let second = app.session(&provider, &service, 48, 5).await;
    let ann = app.customer().await;
    let booking = app.booked(&ann, &first).await;
    let created = app.mail.expect_mails_to(&ann.email, 1).await;
    let (_, _, before) = invitation(&created[0]);
    app.moved(&ann, &booking, &second).await;

    let to_ann = app.mail.expect_mails_to(&ann.email, 2).await;
    let moved = with_subject(&to_ann, "Moved: Tutoring");
    assert_eq!(moved.len(), 1);
    assert!(moved[0].text().contains("Before: "), "{}", moved[0].text());
    let (_, method, after) = invitation(moved[0]);
    assert_eq!(method, "REQUEST");
    assert_eq!(after.get("UID"), before.get("UID"), "one entry, updated");
    let sequence = |e: &crate::helpers::Props| e.get("SEQUENCE").unwrap().parse::<u32>().unwrap();
    assert!(sequence(&after) > sequence(&before));
    let starts = second["startsAt"].as_str().unwrap().replace(['-', ':'], "");
    assert_eq!(after.get("DTSTART"), Some(starts.as_str()));
    assert_eq!(
        after.get("SEQUENCE"),
        feed_event(&app, &ann, &booking).await.get("SEQUENCE")
    );
    let to_provider = app.mail.expect_mails_to(&provider.email, 2).await;
    assert_eq!(
        with_subject(&to_provider, "Booking moved: Tutoring").len(),
        1
    );
}

async fn a_moved_session_tells_each_customer_and_a_cancelled_one_cancels_each_booking(
    app: TestApp,
) {
    let Class {
        provider,
        service,
        session,
    } = app.class(json!({ "name": "Choir" }), 24, 5).await;
    let (ann, bob) = (app.customer().await, app.customer().await);
    app.booked(&ann, &session).await;
    app.booked(&bob, &session).await;
    let path = session_path(&provider, &service, &session);
    app.as_user(&provider)
        .patch(&path, &json!({ "startsAt": app.in_hours(30) }))
        .await
        .ok_json::<Value>(StatusCode::OK)
        .await;
    for customer in [&ann, &bob] {
        let mails = app.mail.expect_mails_to(&customer.email, 2).await;
        assert_eq!(
            with_subject(&mails, "Moved: Choir").len(),
            1,
            "{}",
            customer.email
        );
    }
    app.as_user(&provider)
        .delete(&path)
        .await
        .ok_json::<Value>(StatusCode::OK)
        .await;
    for customer in [&ann, &bob] {
        let mails = app.mail.expect_mails_to(&customer.email, 3).await;
        let cancelled = with_subject(&mails, "Cancelled: Choir");
        assert_eq!(cancelled.len(), 1);
        assert_eq!(invitation(cancelled[0]).1, "CANCEL");
    }
    let events = |kind: &'static str| {
        app.db
            .count(query("SELECT COUNT(*) FROM events WHERE type = $1").bind(kind))
    };
    assert_eq!(events("session.moved").await, 1);
    assert_eq!(events("booking.moved").await, 2);
    assert_eq!(events("session.cancelled").await, 1);
    assert_eq!(events("booking.cancelled").await, 2);
}

async fn every_change_leaves_its_event_and_a_refused_one_none(app: TestApp) {
    let Class {
        provider,
        service,
        session,
    } = app.class(json!({ "name": "Climbing" }), 24, 1).await;
    let (ann, bob) = (app.customer().await, app.customer().await);
    let booking = app.booked(&ann, &session).await;
    // Refused: the session is full. No booking, no event.
    assert_eq!(
        app.book(&bob, &session).await.status(),
        StatusCode::CONFLICT
    );
    let of_booking = |id: Uuid| {
        app.db
            .count(query("SELECT COUNT(*) FROM events WHERE booking_id = $1").bind(id))
    };
    assert_eq!(of_booking(id_of(&booking)).await, 1);
    let all = app.db.count(query("SELECT COUNT(*) FROM events")).await;
    let (kind, data): (String, String) = app
        .db
        .one(query("SELECT type, data FROM events WHERE booking_id = $1").bind(id_of(&booking)))
        .await;
    assert_eq!(kind, "booking.created");
    let data: Value = serde_json::from_str(&data).unwrap();
    assert_eq!(data["id"], booking["id"]);
    assert_eq!(data["status"], "Pending");
    assert_eq!(data["source"], "customer");
    // Cancelling twice: one event.
    let cancel = format!("/api/user/{}/bookings/{}/cancel", ann.id, id_of(&booking));
    for _ in 0..2 {
        app.as_user(&ann)
            .post(&cancel, &json!({}))
            .await
            .ok_json::<Value>(StatusCode::OK)
            .await;
    }
    assert_eq!(of_booking(id_of(&booking)).await, 2);
    // A booking that ends is completed by housekeeping, with its event.
    let later = app.booked(&bob, &session).await;
    app.advance(chrono::Duration::hours(26));
    app.app.housekeeping().await.unwrap();
    let (kind,): (String,) = app
        .db
        .one(
            query("SELECT type FROM events WHERE booking_id = $1 ORDER BY seq DESC LIMIT 1")
                .bind(id_of(&later)),
        )
        .await;
    assert_eq!(kind, "booking.completed");
    // Withdrawing the service: archived, with its event.
    let provider = app.again(&provider).await;
    app.as_user(&provider)
        .delete(&format!(
            "/api/user/{}/services/{}",
            provider.id,
            id_of(&service)
        ))
        .await
        .ok_json::<Value>(StatusCode::OK)
        .await;
    let archived = app
        .db
        .count(query(
            "SELECT COUNT(*) FROM events WHERE type = 'service.archived'",
        ))
        .await;
    assert_eq!(archived, 1);
    let published = app
        .db
        .count(query(
            "SELECT COUNT(*) FROM events WHERE type = 'service.published'",
        ))
        .await;
    assert_eq!(published, 1);
    assert!(app.db.count(query("SELECT COUNT(*) FROM events")).await > all);
}

async fn no_mail_for_someone_who_turned_it_off(app: TestApp) {
    let Class {
        provider, session, ..
    } = app.class(json!({ "name": "Quiet hour" }), 24, 5).await;
    let ann = app.customer().await;
    let user: Value = app
        .as_user(&ann)
        .put("/api/users", &json!({ "emailNotifications": false }))
        .await
        .ok_json(StatusCode::OK)
        .await;
    assert_eq!(user["emailNotifications"], false);
    let booking = app.booked(&ann, &session).await;
    // The provider still hears of it; by then the customer's mail would have been sent too.
    app.mail.expect_mails_to(&provider.email, 1).await;
    assert!(app.mail.mails_to(&ann.email).is_empty());
    let to_ann = app
        .db
        .count(
            query("SELECT COUNT(*) FROM messages WHERE booking_id = $1 AND recipient = $2")
                .bind(id_of(&booking))
                .bind(ann.email.clone()),
        )
        .await;
    assert_eq!(to_ann, 0, "no message was even queued");
}
