//! Schedules and the calendar feed.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{
    Answer, Class, Login, Props, TestApp, id_of, in_hours, on_both_backends, parse_feed, problem,
    session_path,
};

on_both_backends!(
    a_customers_schedule_lists_booked_sessions_in_time_order,
    a_providers_schedule_lists_sessions_with_attendees,
    schedule_ranges_are_checked,
    the_feed_url_serves_icalendar_with_cancellations_and_rotates,
    the_feed_sequence_grows_when_a_booking_changes,
    a_providers_feed_has_one_event_per_session,
);

async fn feed_url(app: &TestApp, user: &Login) -> String {
    let response = app
        .post(
            &format!("/api/user/{}/schedule/feed", user.id),
            &user.token,
            &json!({}),
        )
        .await;
    let body: Value = response.ok_json(StatusCode::OK).await;
    let url = body["url"].as_str().unwrap().to_owned();
    assert!(url.starts_with(&app.address), "{url}");
    url
}

async fn fetch(app: &TestApp, url: &str) -> reqwest::Response {
    app.client.get(url).send().await.unwrap()
}

async fn a_customers_schedule_lists_booked_sessions_in_time_order(app: TestApp) {
    let provider = app.user_with_role("provider").await;
    let yoga = app
        .published_service(&provider, json!({ "name": "Yoga" }))
        .await;
    let pilates = app
        .published_service(&provider, json!({ "name": "Pilates" }))
        .await;
    let later = app.session(&provider, &yoga, 72, 5).await;
    let sooner = app.session(&provider, &pilates, 24, 5).await;
    let dropped = app.session(&provider, &yoga, 48, 5).await;
    let far = app.session(&provider, &yoga, 24 * 40, 5).await;
    let ann = app.customer().await;
    for session in [&later, &sooner, &dropped, &far] {
        app.booked(&ann, session).await;
    }
    let dropped_booking: Vec<Value> = app
        .get(&format!("/api/user/{}/bookings", ann.id), &ann.token)
        .await
        .ok_json(StatusCode::OK)
        .await;
    let dropped_id = dropped_booking
        .iter()
        .find(|b| b["sessionId"] == dropped["id"])
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.delete(
        &format!("/api/user/{}/bookings/{dropped_id}", ann.id),
        &ann.token,
    )
    .await;

    let schedule: Vec<Value> = app
        .get(&format!("/api/user/{}/schedule", ann.id), &ann.token)
        .await
        .ok_json(StatusCode::OK)
        .await;
    let names: Vec<&str> = schedule
        .iter()
        .map(|e| e["serviceName"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["Pilates", "Yoga"],
        "time order; cancelled and beyond 30 days left out"
    );
    assert_eq!(schedule[0]["startsAt"], sooner["startsAt"]);
    assert_eq!(schedule[0]["booking"]["status"], "Pending");
    assert!(schedule[0].get("attendees").is_none());
    let yoga_only: Vec<Value> = app
        .get(
            &format!("/api/user/{}/schedule/{}", ann.id, id_of(&yoga)),
            &ann.token,
        )
        .await
        .ok_json(StatusCode::OK)
        .await;
    assert_eq!(yoga_only.len(), 1);
    assert_eq!(yoga_only[0]["serviceId"], yoga["id"]);
    let year: Vec<Value> = app
        .get(
            &format!(
                "/api/user/{}/schedule?to={}",
                ann.id,
                in_hours(24 * 60).to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            ),
            &ann.token,
        )
        .await
        .ok_json(StatusCode::OK)
        .await;
    assert_eq!(year.len(), 3, "a wider range reaches the far session");
    problem(
        app.get(
            &format!("/api/user/{}/schedule/{}", ann.id, Uuid::now_v7()),
            &ann.token,
        )
        .await,
        StatusCode::NOT_FOUND,
    )
    .await;
}

async fn a_providers_schedule_lists_sessions_with_attendees(app: TestApp) {
    let Class {
        provider,
        service,
        session,
    } = app.class(json!({ "name": "Yoga" }), 24, 5).await;
    let empty = app.session(&provider, &service, 48, 5).await;
    let ann = app.customer().await;
    let bob = app.customer().await;
    let ann_booking = app.booked(&ann, &session).await;
    let bob_booking = app.booked(&bob, &session).await;
    app.delete(
        &format!("/api/user/{}/bookings/{}", bob.id, id_of(&bob_booking)),
        &bob.token,
    )
    .await;
    let schedule = app
        .get(
            &format!("/api/user/{}/schedule", provider.id),
            &provider.token,
        )
        .await;
    assert_eq!(schedule.status(), StatusCode::OK);
    let text = schedule.text().await.unwrap();
    assert!(
        !text.contains(&ann.email) && !text.contains(&bob.email),
        "no customer addresses"
    );
    let schedule: Vec<Value> = serde_json::from_str(&text).unwrap();
    assert_eq!(schedule.len(), 2);
    assert_eq!(schedule[0]["session"]["id"], session["id"]);
    assert_eq!(
        (
            schedule[0]["session"]["booked"].as_i64(),
            schedule[0]["session"]["capacity"].as_i64()
        ),
        (Some(1), Some(5))
    );
    assert_eq!(
        schedule[0]["attendees"],
        json!([{ "bookingId": ann_booking["id"], "userId": ann.id.to_string(), "status": "Pending", "notes": null }])
    );
    assert_eq!(schedule[1]["session"]["id"], empty["id"]);
    assert_eq!(schedule[1]["attendees"], json!([]));
    let other = app.user_with_role("provider").await;
    problem(
        app.get(
            &format!("/api/user/{}/schedule/{}", other.id, id_of(&service)),
            &other.token,
        )
        .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    let one = app
        .get(
            &format!(
                "/api/user/{}/schedule/{}?limit=1",
                provider.id,
                id_of(&service)
            ),
            &provider.token,
        )
        .await;
    assert!(one.headers().contains_key("link"));
}

async fn schedule_ranges_are_checked(app: TestApp) {
    let ann = app.customer().await;
    for bad in [
        "to=2020-01-01T00:00:00Z",
        "from=2027-01-01T00:00:00Z&to=2029-01-01T00:00:00Z",
    ] {
        let response = app
            .get(&format!("/api/user/{}/schedule?{bad}", ann.id), &ann.token)
            .await;
        assert_eq!(
            problem(response, StatusCode::UNPROCESSABLE_ENTITY).await["errors"][0]["field"],
            "to"
        );
    }
    problem(
        app.get(
            &format!("/api/user/{}/schedule?from=soon", ann.id),
            &ann.token,
        )
        .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
}

async fn the_feed_url_serves_icalendar_with_cancellations_and_rotates(app: TestApp) {
    let Class {
        provider,
        service,
        session: first,
    } = app
        .class(
            json!({ "name": "Yoga", "location": "Studio 1", "description": "Slow flow" }),
            24,
            5,
        )
        .await;
    let second = app.session(&provider, &service, 48, 5).await;
    let ann = app.customer().await;
    let kept = app.booked(&ann, &first).await;
    let cancelled = app.booked(&ann, &second).await;
    app.post(
        &format!("/api/user/{}/bookings/{}/cancel", ann.id, id_of(&cancelled)),
        &ann.token,
        &json!({ "reason": "Away that week" }),
    )
    .await;

    let url = feed_url(&app, &ann).await;
    let response = fetch(&app, &url).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/calendar")
    );
    let etag = response.headers()["etag"].to_str().unwrap().to_owned();
    let text = response.text().await.unwrap();
    let (calendar, _) = crate::helpers::parse_calendar(&text);
    assert_eq!(
        calendar.get("PRODID"),
        Some(concat!(
            "-//Kairos//Kairos ",
            env!("CARGO_PKG_VERSION"),
            "//EN"
        ))
    );
    let events = parse_feed(&text);
    assert_eq!(
        events.len(),
        2,
        "one event per booking, the cancelled one kept"
    );
    let event = |booking: &Value| {
        events
            .iter()
            .find(|e| e.get("UID") == Some(&format!("booking-{}@127.0.0.1", id_of(booking))))
            .expect("event")
    };
    let live = event(&kept);
    assert_eq!(
        (
            live.get("SUMMARY"),
            live.get("LOCATION"),
            live.get("STATUS")
        ),
        (Some("Yoga"), Some("Studio 1"), Some("CONFIRMED"))
    );
    let starts = first["startsAt"].as_str().unwrap().replace(['-', ':'], "");
    assert_eq!(
        live.get("DTSTART"),
        Some(starts.as_str()),
        "UTC, as the booking says"
    );
    assert!(
        live.get("DTSTAMP").is_some_and(|v| v.ends_with('Z'))
            && live.get("LAST-MODIFIED").is_some()
    );
    assert_eq!(event(&cancelled).get("STATUS"), Some("CANCELLED"));
    assert!(
        live.get("DESCRIPTION")
            .is_some_and(|d| d.starts_with("Slow flow")),
        "the service's description"
    );
    assert!(
        event(&cancelled)
            .get("DESCRIPTION")
            .is_some_and(|d| d.contains("Cancelled: Away that week")),
        "the cancellation's reason"
    );
    assert_eq!(
        live.get("URL"),
        Some(format!("{}/user/{}/bookings/{}", app.address, ann.id, id_of(&kept)).as_str()),
        "the booking's page"
    );

    let again = app
        .client
        .get(&url)
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    // A new URL replaces the old one.
    let rotated = feed_url(&app, &ann).await;
    assert_ne!(rotated, url);
    assert_eq!(fetch(&app, &url).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(fetch(&app, &rotated).await.status(), StatusCode::OK);
    let token = rotated.split("token=").nth(1).unwrap();
    let bob = app.customer().await;
    let wrong_user = fetch(
        &app,
        &format!("{}/user/{}/schedule.ics?token={token}", app.address, bob.id),
    )
    .await;
    assert_eq!(wrong_user.status(), StatusCode::NOT_FOUND);
    let wrong_token = fetch(
        &app,
        &format!("{}/user/{}/schedule.ics?token=guess", app.address, ann.id),
    )
    .await;
    assert_eq!(wrong_token.status(), StatusCode::NOT_FOUND);
    let no_token = app
        .request(Method::GET, &format!("/user/{}/schedule.ics", ann.id))
        .send()
        .await
        .unwrap();
    assert_eq!(no_token.status(), StatusCode::BAD_REQUEST);
}

async fn the_feed_sequence_grows_when_a_booking_changes(app: TestApp) {
    let Class {
        provider,
        service,
        session,
    } = app.class(json!({}), 24, 5).await;
    let ann = app.customer().await;
    let booking = app.booked(&ann, &session).await;
    let url = feed_url(&app, &ann).await;
    let before = parse_feed(&fetch(&app, &url).await.text().await.unwrap());
    let seq = |events: &Vec<Props>| events[0].get("SEQUENCE").unwrap().parse::<u32>().unwrap();
    app.patch(
        &session_path(&provider, &service, &session),
        &provider.token,
        &json!({ "startsAt": in_hours(26) }),
    )
    .await;
    let moved = parse_feed(&fetch(&app, &url).await.text().await.unwrap());
    assert!(seq(&moved) > seq(&before));
    assert_eq!(
        moved[0].get("UID"),
        before[0].get("UID"),
        "the same event, updated"
    );
    app.delete(
        &format!("/api/user/{}/bookings/{}", ann.id, id_of(&booking)),
        &ann.token,
    )
    .await;
    let cancelled = parse_feed(&fetch(&app, &url).await.text().await.unwrap());
    assert!(seq(&cancelled) > seq(&moved));
    assert_eq!(cancelled[0].get("STATUS"), Some("CANCELLED"));
}

async fn a_providers_feed_has_one_event_per_session(app: TestApp) {
    let Class {
        provider,
        service,
        session,
    } = app.class(json!({ "name": "Yoga" }), 24, 5).await;
    let gone = app.session(&provider, &service, 48, 5).await;
    app.delete(&session_path(&provider, &service, &gone), &provider.token)
        .await;
    app.booked(&app.customer().await, &session).await;
    let url = feed_url(&app, &provider).await;
    let events = parse_feed(&fetch(&app, &url).await.text().await.unwrap());
    assert_eq!(events.len(), 2);
    let live = events
        .iter()
        .find(|e| e.get("UID") == Some(&format!("session-{}@127.0.0.1", id_of(&session))))
        .unwrap();
    assert_eq!(live.get("SUMMARY"), Some("Yoga (1/5 booked)"));
    let cancelled = events
        .iter()
        .find(|e| e.get("UID") == Some(&format!("session-{}@127.0.0.1", id_of(&gone))))
        .unwrap();
    assert_eq!(cancelled.get("STATUS"), Some("CANCELLED"));
}
