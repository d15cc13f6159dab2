//! The working-hours page: a provider types weekly hours and an exception, sees what was made
//! and the coming week, gets a line that does not read back next to its field, and removes the
//! hours.

use reqwest::StatusCode;
use serde_json::json;

use crate::{
    helpers::{TestApp, id_of, on_both_backends},
    page_client::signed_in_as,
};

on_both_backends!(a_provider_sets_working_hours_from_the_page);

async fn a_provider_sets_working_hours_from_the_page(app: TestApp) {
    let provider = app.provider().await;
    let service = app
        .published_service(
            &provider,
            json!({ "name": "Piano lessons", "timeZone": "UTC" }),
        )
        .await;
    let mut browser = signed_in_as(&app, &provider).await;
    let page = format!("/user/{}/services/{}/hours", provider.id, id_of(&service));
    let service_page = browser
        .get(&format!(
            "/user/{}/services/{}",
            provider.id,
            id_of(&service)
        ))
        .await;
    assert!(service_page.body.contains(&format!("href=\"{page}\"")));
    let empty = browser.get(&page).await;
    assert!(empty.body.contains("id=\"no-week\""));

    let closed = (app.clock().now() + chrono::Duration::days(2)).date_naive();
    let saved = browser
        .post(
            &page,
            &[
                ("weekly", "mon tue wed thu fri sat sun 09:00-11:00"),
                ("slot_minutes", "60"),
                ("gap_minutes", ""),
                ("horizon_days", "7"),
                ("exceptions", &format!("{closed} closed")),
            ],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER);
    let shown = browser.get(saved.location.as_deref().unwrap()).await;
    assert!(shown.body.contains("id=\"notice\""), "{}", shown.body);
    assert!(
        shown
            .body
            .contains("mon tue wed thu fri sat sun 09:00-11:00")
    );
    assert!(shown.body.contains(&format!("{closed} closed")));
    assert!(shown.body.contains("id=\"week\""));
    let rule: serde_json::Value = app
        .as_user(&provider)
        .get_json(&format!("/api{page}").replace("/hours", "/availability"))
        .await;
    assert_eq!(rule["horizonDays"], 7);
    assert_eq!(rule["exceptions"][0]["closed"], true);

    let bad = browser
        .post(
            &page,
            &[
                ("weekly", "someday 09:00-11:00"),
                ("slot_minutes", "60"),
                ("gap_minutes", "0"),
                ("horizon_days", "7"),
                ("exceptions", ""),
            ],
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("id=\"weekly-error\""), "{}", bad.body);

    let removed = browser.post(&format!("{page}/remove"), &[]).await;
    assert_eq!(removed.status, StatusCode::SEE_OTHER);
    let after = browser.get(&page).await;
    assert!(after.body.contains("id=\"no-week\""), "{}", after.body);
}
