//! Each role's work through the web pages over HTTP: a customer books, sees and cancels; a
//! provider drafts, publishes, adds a series and completes a booking; an admin makes users; the
//! week view and the feed link.

use kairos::store::query;
use reqwest::StatusCode;
use serde_json::json;

use crate::{
    helpers::{Class, PASSWORD, TestApp, id_of, on_both_backends, unique_email},
    page_client::signed_in_as,
};

on_both_backends!(
    a_customer_books_sees_and_cancels_through_the_pages,
    a_provider_drafts_publishes_adds_a_series_and_completes_a_booking,
    an_admin_creates_users_and_changes_roles,
    the_week_view_and_the_feed_link,
);

async fn a_customer_books_sees_and_cancels_through_the_pages(app: TestApp) {
    let provider = app.user_with_role("provider").await;
    let service = app
        .published_service(
            &provider,
            json!({ "name": "Morning yoga", "cancellationNoticeMinutes": 60 }),
        )
        .await;
    let session = app.session(&provider, &service, 48, 1).await;
    let other = app.session(&provider, &service, 72, 3).await;
    let ann = app.customer().await;
    let mut browser = signed_in_as(&app, &ann).await;
    let service_page = browser.get(&format!("/services/{}", id_of(&service))).await;
    assert!(service_page.body.contains("1 of 1 places left"));
    let page = browser
        .post(
            &format!("/user/{}/book", ann.id),
            &[
                ("session_id", session["id"].as_str().unwrap()),
                ("notes", "First time"),
            ],
        )
        .await;
    let booking_path = page.location.unwrap();
    let booking = browser.get(&booking_path).await;
    assert!(booking.body.contains("Booked.") && booking.body.contains("First time"));
    assert!(booking.body.contains("id=\"booking-status\">Pending"));
    let home = browser.get(&format!("/user/{}", ann.id)).await;
    assert!(home.body.contains("Morning yoga") && home.body.contains("id=\"count-pending\">1<"));
    // A second customer finds it full, in words, on the service's page.
    let bob = app.customer().await;
    let mut bobs = signed_in_as(&app, &bob).await;
    bobs.get(&format!("/services/{}", id_of(&service))).await;
    let full = bobs
        .post(
            &format!("/user/{}/book", bob.id),
            &[
                ("session_id", session["id"].as_str().unwrap()),
                ("notes", ""),
            ],
        )
        .await;
    assert_eq!(full.status, StatusCode::CONFLICT);
    assert!(full.body.contains("The session is full."));
    // Move, then cancel.
    browser.get(&booking_path).await;
    let base = booking_path.split('?').next().unwrap().to_owned();
    let moved = browser
        .post(
            &format!("{base}/update"),
            &[("session_id", other["id"].as_str().unwrap())],
        )
        .await;
    assert_eq!(moved.status, StatusCode::SEE_OTHER, "{}", moved.body);
    assert_eq!(app.seats(id_of(&session)).await, (0, 0));
    assert_eq!(app.seats(id_of(&other)).await, (1, 1));
    browser.get(&base).await;
    let cancelled = browser
        .post(&format!("{base}/cancel"), &[("reason", "Ill")])
        .await;
    let page = browser.get(cancelled.location.as_deref().unwrap()).await;
    assert!(
        page.body.contains("id=\"booking-status\">Cancelled")
            && page.body.contains("Cancelled by the customer: Ill")
    );
    let all = browser
        .get(&format!("/user/{}/bookings/all?status=Cancelled", ann.id))
        .await;
    assert!(all.body.contains("Morning yoga"));
    let none = browser
        .get(&format!("/user/{}/bookings/all?status=Completed", ann.id))
        .await;
    assert!(none.body.contains("No bookings here."));
    // Remove yourself from the service.
    let services = browser.get(&format!("/user/{}/services", ann.id)).await;
    assert!(services.body.contains("Remove yourself"));
    let removed = browser
        .post(
            &format!("/user/{}/services/{}/delete", ann.id, id_of(&service)),
            &[],
        )
        .await;
    assert_eq!(
        removed.location,
        Some(format!("/user/{}/services?done=removed", ann.id))
    );
}

async fn a_provider_drafts_publishes_adds_a_series_and_completes_a_booking(app: TestApp) {
    let provider = app.user_with_role("provider").await;
    let mut browser = signed_in_as(&app, &provider).await;
    let form = browser
        .get(&format!("/user/{}/services/create", provider.id))
        .await;
    assert!(form.body.contains("Save draft") && form.body.contains("Publish"));
    let fields = |name: &'static str, capacity: &'static str| {
        vec![
            ("id", ""),
            ("name", name),
            ("description", "Gentle"),
            ("duration_minutes", "60"),
            ("capacity", capacity),
            ("location", "Hall"),
            ("time_zone", "Europe/Paris"),
            ("booking_notice_minutes", "0"),
            ("cancellation_notice_minutes", "0"),
        ]
    };
    // A bad number comes back next to its field, with what was typed.
    let bad = browser
        .post(
            &format!("/user/{}/services/create/save", provider.id),
            &fields("Stretch", "lots"),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        bad.body
            .contains("id=\"capacity-error\">must be a whole number")
            && bad.body.contains("value=\"lots\"")
    );
    let saved = browser
        .post(
            &format!("/user/{}/services/create/save", provider.id),
            &fields("Stretch", "4"),
        )
        .await;
    let service_path = saved.location.unwrap();
    let page = browser.get(&service_path).await;
    assert!(page.body.contains("id=\"service-status\">draft"));
    let service_id = service_path.rsplit('/').next().unwrap().to_owned();
    let mut publish = fields("Stretch", "4");
    publish[0] = ("id", &service_id);
    let published = browser
        .post(
            &format!("/user/{}/services/create/publish", provider.id),
            &publish,
        )
        .await;
    assert_eq!(
        published.status,
        StatusCode::SEE_OTHER,
        "{}",
        published.body
    );
    let page = browser.get(&service_path).await;
    assert!(page.body.contains("id=\"service-status\">published"));
    let added = browser
        .post(
            &format!("{service_path}/sessions"),
            &[
                ("starts_at", "2027-03-15T09:00"),
                ("duration_minutes", "60"),
                ("capacity", "4"),
                ("location", "Hall"),
                ("information", "Bring a mat\nArrive early"),
                ("monday", "on"),
                ("until", ""),
                ("count", "3"),
            ],
        )
        .await;
    assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.body);
    let page = browser.get(&service_path).await;
    assert!(
        page.body.contains("Mon 15 Mar 2027, 09:00–10:00")
            && page.body.contains("Mon 29 Mar 2027, 09:00–10:00"),
        "local time kept across DST"
    );
    let sessions = app
        .db
        .count(
            query("SELECT COUNT(*) FROM sessions WHERE service_id = $1")
                .bind(service_id.parse::<uuid::Uuid>().unwrap()),
        )
        .await;
    assert_eq!(sessions, 3);
    // A customer books; the provider sees it and marks it completed.
    let ann = app.customer().await;
    let service: serde_json::Value = json!({ "id": service_id });
    let session = app.session(&provider, &service, 24, 4).await;
    let booking = app.booked(&ann, &session).await;
    let list = browser
        .get(&format!("/user/{}/bookings", provider.id))
        .await;
    assert!(list.body.contains("Stretch"));
    let path = format!("/user/{}/bookings/{}", provider.id, id_of(&booking));
    let page = browser.get(&path).await;
    assert!(page.body.contains("Mark completed"));
    browser
        .post(&format!("{path}/update"), &[("status", "Completed")])
        .await;
    let page = browser.get(&path).await;
    assert!(page.body.contains("id=\"booking-status\">Completed"));
}

async fn an_admin_creates_users_and_changes_roles(app: TestApp) {
    let admin = app.admin().await;
    let mut browser = signed_in_as(&app, &admin).await;
    let users = format!("/user/{}/users", admin.id);
    let page = browser.get(&users).await;
    assert!(page.body.contains("Create an account"));
    let bad = browser
        .post(
            &format!("/user/{}/create", admin.id),
            &[
                ("email", "nope"),
                ("password", PASSWORD),
                ("role", "provider"),
            ],
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("id=\"email-error\""));
    let email = unique_email("made-by-admin");
    let made = browser
        .post(
            &format!("/user/{}/create", admin.id),
            &[
                ("email", email.as_str()),
                ("password", PASSWORD),
                ("role", "provider"),
            ],
        )
        .await;
    assert_eq!(made.status, StatusCode::SEE_OTHER);
    let (id, role): (uuid::Uuid, String) = app
        .db
        .one(query("SELECT id, role FROM users WHERE email_key = $1").bind(email.clone()))
        .await;
    assert_eq!(role, "provider");
    browser.get(&users).await;
    browser
        .post(
            &format!("{users}/{id}"),
            &[("role", "customer"), ("is_chirpy_red", "on")],
        )
        .await;
    let (role, red): (String, bool) = app
        .db
        .one(query("SELECT role, is_chirpy_red FROM users WHERE id = $1").bind(id))
        .await;
    assert_eq!((role.as_str(), red), ("customer", true));
}

async fn the_week_view_and_the_feed_link(app: TestApp) {
    let Class {
        provider, session, ..
    } = app
        .class(json!({ "name": "Pottery", "timeZone": "UTC" }), 24, 3)
        .await;
    let ann = app.customer().await;
    app.booked(&ann, &session).await;
    let starts: chrono::DateTime<chrono::Utc> =
        session["startsAt"].as_str().unwrap().parse().unwrap();
    let mut browser = signed_in_as(&app, &ann).await;
    let week = browser
        .get(&format!(
            "/user/{}/schedule?week={}",
            ann.id,
            starts.format("%Y-%m-%d")
        ))
        .await;
    assert!(
        week.body.contains("Pottery") && week.body.contains(&starts.format("%H:%M").to_string())
    );
    assert!(week.body.contains("Previous week") && week.body.contains("Next week"));
    let later = browser
        .get(&format!(
            "/user/{}/schedule?week={}",
            ann.id,
            (starts + chrono::Duration::days(14)).format("%Y-%m-%d")
        ))
        .await;
    assert!(!later.body.contains("Pottery"));
    let feed = browser
        .post(&format!("/user/{}/schedule/feed", ann.id), &[])
        .await;
    let start = feed.body.find("id=\"feed-url\">").unwrap() + 14;
    let url = feed.body[start..]
        .split('<')
        .next()
        .unwrap()
        .replace("&amp;", "&");
    let ics = app.client.get(&url).send().await.unwrap();
    assert_eq!(ics.status(), StatusCode::OK);
    assert!(ics.text().await.unwrap().contains("SUMMARY:Pottery"));
    let provider_view = signed_in_as(&app, &provider)
        .await
        .get(&format!(
            "/user/{}/schedule?week={}",
            provider.id,
            starts.format("%Y-%m-%d")
        ))
        .await;
    assert!(
        provider_view.body.contains("1/3 booked")
            && provider_view.body.contains("Attendee 1 (Pending)")
    );
    assert!(
        !provider_view.body.contains(&ann.email),
        "attendees, not their addresses"
    );
}
