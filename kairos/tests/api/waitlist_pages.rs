//! The waitlist's pages: a customer joins a full session's list from the service's page and sees
//! their position there and on their home page, leaves from the home page; the provider sees
//! how many wait on each session; a refusal is shown on the service's page.

use reqwest::StatusCode;
use serde_json::json;

use crate::{
    helpers::{Class, TestApp, id_of, on_both_backends},
    page_client::signed_in_as,
    waitlist::position,
};

on_both_backends!(a_customer_joins_from_the_service_page_and_leaves_from_home);

async fn a_customer_joins_from_the_service_page_and_leaves_from_home(app: TestApp) {
    let Class {
        provider,
        service,
        session,
    } = app.class(json!({ "name": "Aerial silks" }), 24, 1).await;
    let open = app.session(&provider, &service, 48, 3).await;
    app.booked(&app.customer().await, &session).await;
    let ann = app.customer().await;
    let mut browser = signed_in_as(&app, &ann).await;
    let service_page = format!("/services/{}", id_of(&service));
    let page = browser.get(&service_page).await;
    assert_eq!(
        page.body.matches("Join the waitlist").count(),
        1,
        "only the full session offers the waitlist"
    );

    let join = format!("/user/{}/waitlist", ann.id);
    let joined = browser
        .post(&join, &[("session_id", &id_of(&session).to_string())])
        .await;
    assert_eq!(joined.status, StatusCode::SEE_OTHER);
    let page = browser.get(&service_page).await;
    assert!(
        page.body
            .contains(&format!("id=\"waiting-{}\"", id_of(&session))),
        "{}",
        page.body
    );
    assert!(page.body.contains("You are number 1 on the waitlist"));
    assert!(!page.body.contains("Join the waitlist"));
    assert_eq!(position(&app, &ann, &session).await, Some(1));

    // A session with room is booked, not waited for: the reason is on the service's page.
    let refused = browser
        .post(&join, &[("session_id", &id_of(&open).to_string())])
        .await;
    assert_eq!(refused.status, StatusCode::CONFLICT);
    assert!(
        refused.body.contains("book one instead of waiting"),
        "{}",
        refused.body
    );

    let mut providers = signed_in_as(&app, &provider).await;
    let theirs = providers
        .get(&format!(
            "/user/{}/services/{}",
            provider.id,
            id_of(&service)
        ))
        .await;
    assert!(theirs.body.contains("1 waiting"), "{}", theirs.body);

    let home = format!("/user/{}", ann.id);
    let page = browser.get(&home).await;
    assert!(page.body.contains("id=\"waitlists\""));
    assert!(page.body.contains("Aerial silks"));
    assert!(page.body.contains("number 1 on the waitlist"));
    let entries: Vec<serde_json::Value> = app
        .as_user(&ann)
        .get_json(&format!("/api/user/{}/waitlist", ann.id))
        .await;
    let left = browser
        .post(&format!("{join}/{}/leave", id_of(&entries[0])), &[])
        .await;
    assert_eq!(left.status, StatusCode::SEE_OTHER);
    assert_eq!(left.location.as_deref(), Some(home.as_str()));
    let page = browser.get(&home).await;
    assert!(!page.body.contains("id=\"waitlists\""));
    assert_eq!(position(&app, &ann, &session).await, None);
}
