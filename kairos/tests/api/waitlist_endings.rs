//! Lists that end with people still on them: each of those people is told why, by mail and as a
//! `waitlist.ended` event (so by webhook too), with the place they had; no one else is.

use kairos::store::query;
use serde_json::json;

use crate::{
    helpers::{
        Class, TestApp, WebhookReceiver, id_of, on_both_backends_with, session_path, unescaped,
    },
    waitlist::{joined, turn_waitlist_off},
    webhooks::{WAIT, loopback_allowed, webhook},
};

on_both_backends_with!(loopback_allowed => everyone_still_waiting_is_told_why_their_list_ended);

async fn everyone_still_waiting_is_told_why_their_list_ended(app: TestApp) {
    let receiver = WebhookReceiver::start().await;
    let Class {
        provider,
        service,
        session,
    } = app
        .class(json!({ "name": "Climbing <b>& co</b>" }), 24, 1)
        .await;
    let other = app.session(&provider, &service, 48, 1).await;
    app.booked(&app.customer().await, &session).await;
    app.booked(&app.customer().await, &other).await;
    let hook = json!(["waitlist.ended"]);
    webhook(&app, &provider, &receiver.url("/ended"), hook).await;
    let (b, c) = (app.customer().await, app.customer().await);
    joined(&app, &b, &session).await;
    joined(&app, &c, &session).await;
    joined(&app, &c, &other).await;

    let cancelled = app
        .as_user(&provider)
        .delete(&session_path(&provider, &service, &session))
        .await;
    assert!(cancelled.status().is_success(), "{}", cancelled.status());

    // Each hears it once, with their own place in the line.
    let to_b = app.mail.expect_mails_to(&b.email, 1).await;
    assert_eq!(to_b.len(), 1);
    assert!(
        to_b[0]
            .subject()
            .starts_with("Waitlist ended: Climbing <b>& co</b>, "),
        "{}",
        to_b[0].subject()
    );
    let text = to_b[0].text();
    assert!(
        text.contains("has ended: the session was cancelled."),
        "{text}"
    );
    assert!(text.contains("You were number 1 in line"), "{text}");
    let html = to_b[0].html();
    assert!(!html.contains("<b>&"), "the HTML escapes the name: {html}");
    let unescaped = unescaped(&html);
    assert!(
        unescaped.contains("Climbing <b>& co</b>"),
        "and says it: {html}"
    );
    let to_c = app.mail.expect_mails_to(&c.email, 1).await;
    assert!(to_c[0].text().contains("You were number 2 in line"));

    // The provider's webhook gets the same, one event per person.
    let delivered = receiver.wait_for(2, WAIT).await;
    let mut told: Vec<(String, i64)> = delivered
        .iter()
        .map(|d| {
            let body = d.json();
            assert_eq!(body["type"], "waitlist.ended");
            let data = &body["data"];
            assert_eq!(data["sessionId"], session["id"]);
            assert_eq!(data["serviceId"], service["id"]);
            assert_eq!(data["reason"], "session_cancelled");
            let who = data["userId"].as_str().unwrap_or_default().to_owned();
            (who, data["position"].as_i64().unwrap_or_default())
        })
        .collect();
    told.sort_by_key(|(_, position)| *position);
    assert_eq!(told, [(b.id.to_string(), 1), (c.id.to_string(), 2)]);

    // Turning the waitlist off ends the other list: only C was on it.
    turn_waitlist_off(&app, &provider, &service).await;
    let to_c = app.mail.expect_mails_to(&c.email, 2).await;
    let closed = to_c
        .iter()
        .find(|m| {
            m.text()
                .contains("has ended: the provider closed its waitlist.")
        })
        .expect("C is told the waitlist was closed");
    assert!(closed.text().contains("You were number 1 in line"));
    assert!(
        closed
            .text()
            .contains(&format!("/services/{}", id_of(&service)))
    );
    app.outbox_settled().await;
    assert_eq!(
        app.mail.mails_to(&b.email).len(),
        1,
        "B was on no other list"
    );
    let kept = app
        .db
        .count(query(
            "SELECT COUNT(*) FROM messages WHERE kind = 'waitlist_ended' AND booking_id IS NULL",
        ))
        .await;
    assert_eq!(kept, 3);
}
