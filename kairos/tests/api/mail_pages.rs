//! The pages of part two: your own mail setting on your home page, the admin's outbox.

use kairos::store::query;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::{
    helpers::{Class, TestApp, on_both_backends},
    page_client::signed_in_as,
};

on_both_backends!(
    a_customer_turns_mail_off_and_on_from_their_home_page,
    the_admins_outbox_page_lists_a_failed_mail_and_sends_it_again,
);

async fn a_customer_turns_mail_off_and_on_from_their_home_page(app: TestApp) {
    let ann = app.customer().await;
    let mut browser = signed_in_as(&app, &ann).await;
    let home = format!("/user/{}", ann.id);
    let page = browser.get(&home).await;
    assert!(
        page.body.contains("id=\"email-notifications\" checked"),
        "on by default"
    );
    let saved = browser.post(&format!("{home}/notifications"), &[]).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER);
    assert_eq!(saved.location.as_deref(), Some(home.as_str()));
    let user: Value = app.as_user(&ann).get_json(&format!("/api{home}")).await;
    assert_eq!(user["user"]["emailNotifications"], false, "{user}");
    let page = browser.get(&home).await;
    assert!(!page.body.contains("id=\"email-notifications\" checked"));
    browser
        .post(
            &format!("{home}/notifications"),
            &[("email_notifications", "on")],
        )
        .await;
    let (on,): (bool,) = app
        .db
        .one(query("SELECT email_notifications FROM users WHERE id = $1").bind(ann.id))
        .await;
    assert!(on);
    // Someone else's home page has no such form, and posting it anyway is refused.
    let bob = app.customer().await;
    let admin = app.admin().await;
    let mut admins = signed_in_as(&app, &admin).await;
    let page = admins.get(&format!("/user/{}", bob.id)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(!page.body.contains("notifications-form"));
    let refused = admins
        .post(&format!("/user/{}/notifications", bob.id), &[])
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
}

async fn the_admins_outbox_page_lists_a_failed_mail_and_sends_it_again(app: TestApp) {
    let Class { session, .. } = app.class(json!({ "name": "Fencing" }), 24 * 10, 5).await;
    let ann = app.customer().await;
    app.mail.stop();
    app.booked(&ann, &session).await;
    app.let_every_retry_pass().await;
    let admin = app.admin().await;
    let mut browser = signed_in_as(&app, &admin).await;
    let outbox = format!("/user/{}/outbox", admin.id);
    let page = browser.get(&outbox).await;
    assert_eq!(page.status, StatusCode::OK);
    let failed = &page.body[page.body.find("id=\"failed\"").expect("a failed table")..];
    assert!(failed.contains(&ann.email), "{failed}");
    assert!(failed.contains("Booked: Fencing"));
    let (id, last_error): (uuid::Uuid, String) = app
        .db
        .one(
            query("SELECT id, last_error FROM messages WHERE recipient = $1 AND status = 'failed'")
                .bind(ann.email.clone()),
        )
        .await;
    assert!(last_error.contains("Connection refused"), "{last_error}");
    assert!(
        failed.contains("Connection refused"),
        "the last error is shown: {failed}"
    );
    app.mail.resume().await;
    let retried = browser.post(&format!("{outbox}/{id}/retry"), &[]).await;
    assert_eq!(retried.status, StatusCode::SEE_OTHER);
    assert_eq!(retried.location, Some(format!("{outbox}?done=retried")));
    let mails = app.mail.expect_mails_to(&ann.email, 1).await;
    assert!(mails[0].subject().starts_with("Booked: Fencing"));
}
