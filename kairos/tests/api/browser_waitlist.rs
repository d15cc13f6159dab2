//! A real-browser journey through the waitlist: a customer joins a full class's list from its
//! page, sees their position there and on their home page, and finds the place booked for them
//! once someone cancels.

use std::time::Instant;

use serde_json::json;

use crate::{
    browser::{app_and_driver, browser, click, log_in, say, screenshot, text_of},
    helpers::{PASSWORD, id_of},
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_customer_waits_for_a_full_class_and_is_booked_when_a_place_frees() {
    let Some((app, driver)) = app_and_driver().await else {
        return;
    };
    let started = Instant::now();
    let provider = app.provider().await;
    let service = app
        .published_service(
            &provider,
            json!({ "name": "Sunset yoga", "timeZone": "UTC" }),
        )
        .await;
    let session = app.session(&provider, &service, 48, 1).await;
    let holder = app.customer().await;
    let held = app.booked(&holder, &session).await;
    let ann = app.customer().await;
    let client = browser(&driver, "waitlist").await;
    log_in(&client, &app, &ann.email, PASSWORD).await;
    let home = format!("/user/{}", ann.id);

    client
        .goto(&app.url(&format!("/services/{}", id_of(&service))))
        .await
        .unwrap();
    let row = format!("#session-{}", id_of(&session));
    assert!(text_of(&client, &row).await.contains("Full."));
    click(&client, &format!("{row} button.join-waitlist")).await;
    let waiting = text_of(&client, &format!("#waiting-{}", id_of(&session))).await;
    assert!(
        waiting.contains("You are number 1 on the waitlist"),
        "{waiting}"
    );

    client.goto(&app.url(&home)).await.unwrap();
    let lists = text_of(&client, "#waitlists").await;
    assert!(
        lists.contains("Sunset yoga") && lists.contains("number 1"),
        "{lists}"
    );
    screenshot(&client, "waitlist-home").await;

    // The holder cancels: the place is Ann's before the answer comes back.
    app.as_user(&holder)
        .delete(&format!(
            "/api/user/{}/bookings/{}",
            holder.id,
            id_of(&held)
        ))
        .await;
    client.goto(&app.url(&home)).await.unwrap();
    assert!(text_of(&client, "#upcoming").await.contains("Sunset yoga"));
    let left = client
        .find(fantoccini::Locator::Css("#waitlists"))
        .await
        .is_err();
    assert!(left, "no longer waiting");
    client.close().await.unwrap();
    say(&format!(
        "browser journey (waitlist): {:.1} s",
        started.elapsed().as_secs_f64()
    ));
}
