//! Providers' services and sessions: drafts, publishing, edits, withdrawal, series in time zones.

use kairos::store::query;
use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{
    Answer, Class, TestApp, id_of, in_hours, on_both_backends, problem, session_path,
};

on_both_backends!(
    the_template_lists_every_field_with_defaults_and_limits,
    a_draft_is_saved_changed_and_published_but_never_listed_before,
    publishing_directly_and_searching_the_catalogue,
    invalid_fields_are_all_reported_and_nothing_is_stored,
    a_provider_edits_its_service_by_patch_and_by_post,
    only_the_owner_reaches_a_service_and_customers_no_provider_route,
    withdrawing_a_service_deletes_it_or_archives_it_cancelling_bookings,
    a_customer_removes_themselves_from_a_service,
    service_lists_and_details_for_providers_and_customers,
    a_session_takes_the_services_defaults,
    a_weekly_series_keeps_local_time_across_dst,
    series_limits_are_checked,
    moving_a_session_moves_its_bookings,
    capacity_cannot_drop_below_the_places_booked,
    cancelling_a_session_cancels_its_pending_bookings,
    the_public_session_list_shows_places_left,
);

async fn the_template_lists_every_field_with_defaults_and_limits(app: TestApp) {
    let provider = app.user_with_role("provider").await;
    let response = app
        .get(
            &format!("/api/user/{}/services/create", provider.id),
            &provider.token,
        )
        .await;
    let template: Value = response.ok_json(StatusCode::OK).await;
    let fields: Vec<&str> = template["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        [
            "name",
            "description",
            "durationMinutes",
            "capacity",
            "location",
            "timeZone",
            "bookingNoticeMinutes",
            "cancellationNoticeMinutes",
            "reminderMinutes",
            "waitlistEnabled"
        ]
    );
    let waitlist = &template["fields"][9];
    assert_eq!(
        (waitlist["type"].clone(), waitlist["default"].clone()),
        (serde_json::json!("boolean"), serde_json::json!(true))
    );
    let reminders = &template["fields"][8];
    assert_eq!(reminders["default"], serde_json::json!([1440]));
    assert_eq!(
        (reminders["minimum"].as_i64(), reminders["maximum"].as_i64()),
        (Some(1), Some(43_200))
    );
    let duration = &template["fields"][2];
    assert_eq!(
        (
            duration["default"].as_i64(),
            duration["minimum"].as_i64(),
            duration["maximum"].as_i64()
        ),
        (Some(60), Some(5), Some(1440))
    );
    assert_eq!(
        template["publish"],
        format!("/api/user/{}/services/create/publish", provider.id)
    );
}

async fn a_draft_is_saved_changed_and_published_but_never_listed_before(app: TestApp) {
    let provider = app.user_with_role("provider").await;
    let customer = app.customer().await;
    let save = format!("/api/user/{}/services/create/save", provider.id);
    let response = app
        .post(&save, &provider.token, &json!({ "name": "Pottery draft" }))
        .await;
    let draft: Value = response.ok_json(StatusCode::CREATED).await;
    assert_eq!(
        (draft["status"].as_str(), draft["publishedAt"].is_null()),
        (Some("draft"), true)
    );
    assert_eq!(draft["capacity"], 10, "the template's default");

    let catalogue: Vec<Value> = app.anonymous().get_json("/api/services").await;
    assert!(
        catalogue.iter().all(|s| s["id"] != draft["id"]),
        "drafts are not in the catalogue"
    );
    let public = app
        .request(
            reqwest::Method::GET,
            &format!("/api/services/{}", id_of(&draft)),
        )
        .send()
        .await
        .unwrap();
    problem(public, StatusCode::NOT_FOUND).await;
    let session = app.session(&provider, &draft, 48, 5).await;
    let body = problem(
        app.book(&customer, &session).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(body["code"], "service_not_published");
    // Its provider is refused for who they are before what state the service is in.
    let own = problem(app.book(&provider, &session).await, StatusCode::FORBIDDEN).await;
    assert_eq!(own["code"], "own_service");

    let changed = app
        .post(
            &save,
            &provider.token,
            &json!({ "id": draft["id"], "capacity": 4 }),
        )
        .await;
    let changed: Value = changed.ok_json(StatusCode::OK).await;
    assert_eq!(
        (changed["capacity"].as_i64(), changed["name"].as_str()),
        (Some(4), Some("Pottery draft"))
    );

    let publish = format!("/api/user/{}/services/create/publish", provider.id);
    let published = app
        .post(&publish, &provider.token, &json!({ "id": draft["id"] }))
        .await;
    let published: Value = published.ok_json(StatusCode::OK).await;
    assert_eq!(published["status"], "published");
    assert!(published["publishedAt"].is_string());
    assert_eq!(
        app.book(&customer, &session).await.status(),
        StatusCode::CREATED
    );
    // A published service is no longer a draft to save over.
    let again = app
        .post(
            &save,
            &provider.token,
            &json!({ "id": draft["id"], "name": "x" }),
        )
        .await;
    assert_eq!(
        problem(again, StatusCode::CONFLICT).await["code"],
        "not_a_draft"
    );
    // Nobody else's draft can be named.
    let other = app.user_with_role("provider").await;
    let theirs = app
        .post(
            &format!("/api/user/{}/services/create/save", other.id),
            &other.token,
            &json!({ "id": draft["id"], "name": "mine" }),
        )
        .await;
    problem(theirs, StatusCode::NOT_FOUND).await;
}

async fn publishing_directly_and_searching_the_catalogue(app: TestApp) {
    let provider = app.user_with_role("provider").await;
    let other = app.user_with_role("provider").await;
    let tag = Uuid::new_v4().simple().to_string();
    let yoga = app
        .published_service(&provider, json!({ "name": format!("Yoga {tag}") }))
        .await;
    let pilates = app
        .published_service(
            &other,
            json!({ "name": "Pilates", "description": format!("Core work {tag}") }),
        )
        .await;
    let found: Vec<Value> = app
        .anonymous()
        .get_json(&format!("/api/services?q={}", tag.to_uppercase()))
        .await;
    let ids: Vec<&Value> = found.iter().map(|s| &s["id"]).collect();
    assert_eq!(
        ids,
        [&pilates["id"], &yoga["id"]],
        "newest first, name or description, any case"
    );
    let by_provider: Vec<Value> = app
        .anonymous()
        .get_json(&format!("/api/services?providerId={}", provider.id))
        .await;
    assert_eq!(by_provider.len(), 1);
    assert_eq!(by_provider[0]["id"], yoga["id"]);
    let wildcard: Vec<Value> = app
        .anonymous()
        .get_json(&format!("/api/services?q=%25{tag}"))
        .await;
    assert!(wildcard.is_empty(), "a % in the search is a literal");
    let one = app
        .request(
            reqwest::Method::GET,
            &format!("/api/services/{}", id_of(&yoga)),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(one.status(), StatusCode::OK);
}

async fn invalid_fields_are_all_reported_and_nothing_is_stored(app: TestApp) {
    let provider = app.user_with_role("provider").await;
    let response = app
        .post(
            &format!("/api/user/{}/services/create/publish", provider.id),
            &provider.token,
            &json!({ "name": " ", "capacity": 0, "durationMinutes": 2000, "timeZone": "Mars/Olympus",
                     "bookingNoticeMinutes": -1 }),
        )
        .await;
    let body = problem(response, StatusCode::UNPROCESSABLE_ENTITY).await;
    let fields: Vec<&str> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        [
            "name",
            "durationMinutes",
            "capacity",
            "bookingNoticeMinutes",
            "timeZone"
        ]
    );
    for (field, value) in [
        ("status", json!("published")),
        ("providerId", json!(Uuid::now_v7())),
        ("createdAt", json!("2020-01-01T00:00:00Z")),
    ] {
        let mut body = json!({ "name": "Sneaky" });
        body[field] = value;
        let response = app
            .post(
                &format!("/api/user/{}/services/create/publish", provider.id),
                &provider.token,
                &body,
            )
            .await;
        assert_eq!(
            problem(response, StatusCode::UNPROCESSABLE_ENTITY).await["errors"][0]["field"],
            field
        );
    }
    let count = app
        .db
        .count(query("SELECT COUNT(*) FROM services WHERE provider_id = $1").bind(provider.id))
        .await;
    assert_eq!(count, 0);
}

async fn a_provider_edits_its_service_by_patch_and_by_post(app: TestApp) {
    let provider = app.user_with_role("provider").await;
    let service = app.published_service(&provider, json!({})).await;
    let path = format!("/api/user/{}/services/{}", provider.id, id_of(&service));
    let patched = app
        .patch(
            &path,
            &provider.token,
            &json!({ "name": "Evening yoga", "capacity": 12 }),
        )
        .await;
    let patched: Value = patched.ok_json(StatusCode::OK).await;
    assert_eq!(
        (
            patched["name"].as_str(),
            patched["capacity"].as_i64(),
            patched["location"].as_str()
        ),
        (Some("Evening yoga"), Some(12), Some("Studio 1"))
    );
    let posted = app
        .post(
            &format!("{path}/update"),
            &provider.token,
            &json!({ "cancellationNoticeMinutes": 120 }),
        )
        .await;
    assert_eq!(posted.status(), StatusCode::OK);
    let (name, notice): (String, i64) = app
        .db
        .one(
            query("SELECT name, cancellation_notice_minutes FROM services WHERE id = $1")
                .bind(id_of(&service)),
        )
        .await;
    assert_eq!((name.as_str(), notice), ("Evening yoga", 120));
    let with_id = app
        .patch(
            &path,
            &provider.token,
            &json!({ "id": service["id"], "name": "x" }),
        )
        .await;
    assert_eq!(
        problem(with_id, StatusCode::UNPROCESSABLE_ENTITY).await["errors"][0]["field"],
        "id"
    );
    let bad = app
        .patch(&path, &provider.token, &json!({ "capacity": -3 }))
        .await;
    problem(bad, StatusCode::UNPROCESSABLE_ENTITY).await;
}

async fn only_the_owner_reaches_a_service_and_customers_no_provider_route(app: TestApp) {
    let owner = app.user_with_role("provider").await;
    let other = app.user_with_role("provider").await;
    let customer = app.customer().await;
    let service = app.published_service(&owner, json!({})).await;
    let theirs = format!("/api/user/{}/services/{}", other.id, id_of(&service));
    problem(
        app.patch(&theirs, &other.token, &json!({ "name": "mine" }))
            .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    problem(
        app.post(
            &format!("{theirs}/sessions"),
            &other.token,
            &json!({ "startsAt": in_hours(5) }),
        )
        .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    problem(
        app.delete(&theirs, &other.token).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    for path in [format!("/api/user/{}/services/create", customer.id)] {
        problem(app.get(&path, &customer.token).await, StatusCode::FORBIDDEN).await;
    }
    let publish = app
        .post(
            &format!("/api/user/{}/services/create/publish", customer.id),
            &customer.token,
            &json!({ "name": "x" }),
        )
        .await;
    problem(publish, StatusCode::FORBIDDEN).await;
    let sessions = app
        .post(
            &format!(
                "/api/user/{}/services/{}/sessions",
                customer.id,
                id_of(&service)
            ),
            &customer.token,
            &json!({ "startsAt": in_hours(5) }),
        )
        .await;
    problem(sessions, StatusCode::FORBIDDEN).await;
    // Another user's path is 403 whatever the object.
    let owners = format!("/api/user/{}/services/{}", owner.id, id_of(&service));
    problem(
        app.patch(&owners, &other.token, &json!({ "name": "mine" }))
            .await,
        StatusCode::FORBIDDEN,
    )
    .await;
    // An admin acts for the owner.
    let admin = app.admin().await;
    assert_eq!(
        app.patch(&owners, &admin.token, &json!({ "name": "Fixed by admin" }))
            .await
            .status(),
        StatusCode::OK
    );
    let (name,): (String,) = app
        .db
        .one(query("SELECT name FROM services WHERE id = $1").bind(id_of(&service)))
        .await;
    assert_eq!(name, "Fixed by admin");
}

async fn withdrawing_a_service_deletes_it_or_archives_it_cancelling_bookings(app: TestApp) {
    let provider = app.user_with_role("provider").await;
    let unused = app.published_service(&provider, json!({})).await;
    app.session(&provider, &unused, 24, 3).await;
    let deleted = app
        .delete(
            &format!("/api/user/{}/services/{}", provider.id, id_of(&unused)),
            &provider.token,
        )
        .await;
    let deleted: Value = deleted.ok_json(StatusCode::OK).await;
    assert_eq!(
        (
            deleted["result"].as_str(),
            deleted["cancelledBookings"].as_i64()
        ),
        (Some("deleted"), Some(0))
    );
    assert_eq!(
        app.db
            .count(query("SELECT COUNT(*) FROM services WHERE id = $1").bind(id_of(&unused)))
            .await,
        0
    );
    assert_eq!(
        app.db
            .count(
                query("SELECT COUNT(*) FROM sessions WHERE service_id = $1").bind(id_of(&unused))
            )
            .await,
        0
    );

    let used = app.published_service(&provider, json!({})).await;
    let session = app.session(&provider, &used, 24, 3).await;
    let ann = app.customer().await;
    let bob = app.customer().await;
    let ann_booking = app.booked(&ann, &session).await;
    let bob_booking = app.booked(&bob, &session).await;
    app.post(
        &format!(
            "/api/user/{}/bookings/{}/cancel",
            bob.id,
            id_of(&bob_booking)
        ),
        &bob.token,
        &json!({}),
    )
    .await;
    let response = app
        .post(
            &format!(
                "/api/user/{}/services/{}/delete?reason=Studio%20closed",
                provider.id,
                id_of(&used)
            ),
            &provider.token,
            &json!({}),
        )
        .await;
    let archived: Value = response.ok_json(StatusCode::OK).await;
    assert_eq!(
        (
            archived["result"].as_str(),
            archived["cancelledBookings"].as_i64()
        ),
        (Some("archived"), Some(1))
    );
    let booking: Value = app.booking_of(&ann, &ann_booking).await;
    assert_eq!(
        (
            booking["status"].as_str(),
            booking["cancellationReason"].as_str(),
            booking["cancelledBy"].as_str()
        ),
        (Some("Cancelled"), Some("Studio closed"), Some("provider"))
    );
    let bob_after: Value = app.booking_of(&bob, &bob_booking).await;
    assert_eq!(
        bob_after["cancelledBy"], "customer",
        "an earlier cancellation stays as it was"
    );
    assert_eq!(app.seats(id_of(&session)).await, (0, 0));
    let (status,): (String,) = app
        .db
        .one(query("SELECT status FROM services WHERE id = $1").bind(id_of(&used)))
        .await;
    assert_eq!(status, "archived");
    let catalogue: Vec<Value> = app.anonymous().get_json("/api/services").await;
    assert!(
        catalogue.iter().all(|s| s["id"] != used["id"]),
        "archived services are not in the catalogue"
    );
    let edit = app
        .patch(
            &format!("/api/user/{}/services/{}", provider.id, id_of(&used)),
            &provider.token,
            &json!({ "name": "x" }),
        )
        .await;
    assert_eq!(
        problem(edit, StatusCode::CONFLICT).await["code"],
        "service_archived"
    );
}

async fn a_customer_removes_themselves_from_a_service(app: TestApp) {
    let Class {
        provider,
        service,
        session: soon,
    } = app
        .class(json!({ "cancellationNoticeMinutes": 60 }), 24, 5)
        .await;
    let later = app.session(&provider, &service, 48, 5).await;
    let ann = app.customer().await;
    app.booked(&ann, &soon).await;
    app.booked(&ann, &later).await;
    let services: Vec<Value> = app
        .get(&format!("/api/user/{}/services", ann.id), &ann.token)
        .await
        .ok_json(StatusCode::OK)
        .await;
    assert_eq!(services.len(), 1, "booking subscribed her");
    assert_eq!(services[0]["id"], service["id"]);
    let removed = app
        .delete(
            &format!("/api/user/{}/services/{}", ann.id, id_of(&service)),
            &ann.token,
        )
        .await;
    let removed: Value = removed.ok_json(StatusCode::OK).await;
    assert_eq!(
        (
            removed["result"].as_str(),
            removed["cancelledBookings"].as_i64()
        ),
        (Some("unsubscribed"), Some(2))
    );
    assert_eq!(app.seats(id_of(&soon)).await, (0, 0));
    assert_eq!(app.seats(id_of(&later)).await, (0, 0));
    let services: Vec<Value> = app
        .get(&format!("/api/user/{}/services", ann.id), &ann.token)
        .await
        .ok_json(StatusCode::OK)
        .await;
    assert!(services.is_empty());
    problem(
        app.delete(
            &format!("/api/user/{}/services/{}", ann.id, id_of(&service)),
            &ann.token,
        )
        .await,
        StatusCode::NOT_FOUND,
    )
    .await;

    // Inside the cancellation notice the whole removal is refused and nothing changes.
    let soon = app.clock().now() + chrono::Duration::minutes(90);
    let close = app
        .add_sessions(
            &provider,
            &service,
            json!({ "startsAt": soon, "capacity": 5 }),
        )
        .await
        .remove(0);
    let bob = app.customer().await;
    app.booked(&bob, &close).await;
    app.booked(&bob, &later).await;
    // An hour on, the close session starts in half an hour.
    app.advance(chrono::Duration::hours(1));
    let bob = app.again(&bob).await;
    let refused = app
        .delete(
            &format!("/api/user/{}/services/{}", bob.id, id_of(&service)),
            &bob.token,
        )
        .await;
    assert_eq!(
        problem(refused, StatusCode::UNPROCESSABLE_ENTITY).await["code"],
        "cancellation_notice"
    );
    assert_eq!(app.seats(id_of(&later)).await, (1, 1));
}

async fn service_lists_and_details_for_providers_and_customers(app: TestApp) {
    let provider = app.user_with_role("provider").await;
    let service = app.published_service(&provider, json!({})).await;
    app.post(
        &format!("/api/user/{}/services/create/save", provider.id),
        &provider.token,
        &json!({ "name": "Draft" }),
    )
    .await;
    let session = app.session(&provider, &service, 30, 4).await;
    let ann = app.customer().await;
    let booking = app.booked(&ann, &session).await;

    let own: Vec<Value> = app
        .get(
            &format!("/api/user/{}/services", provider.id),
            &provider.token,
        )
        .await
        .ok_json(StatusCode::OK)
        .await;
    assert_eq!(own.len(), 2, "every status");
    let listed = own.iter().find(|s| s["id"] == service["id"]).unwrap();
    assert_eq!(
        listed["counts"],
        json!({ "upcomingSessions": 1, "pendingBookings": 1, "completedBookings": 0, "cancelledBookings": 0 })
    );

    let details: Value = app.service_of(&provider, &service).await;
    assert_eq!(details["upcomingSessions"][0]["booked"], 1);
    assert_eq!(details["counts"]["pendingBookings"], 1);
    let mine: Value = app.service_of(&ann, &service).await;
    assert_eq!(mine["subscribed"], true);
    assert_eq!(mine["bookings"][0]["id"], booking["id"]);
    assert!(mine.get("counts").is_none());
    // A customer sees a published service they have not booked, but not someone's draft.
    let bob = app.customer().await;
    let seen: Value = app.service_of(&bob, &service).await;
    assert_eq!(seen["subscribed"], false);
    let draft_id = own.iter().find(|s| s["status"] == "draft").unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    problem(
        app.get(
            &format!("/api/user/{}/services/{draft_id}", bob.id),
            &bob.token,
        )
        .await,
        StatusCode::NOT_FOUND,
    )
    .await;
}

async fn a_session_takes_the_services_defaults(app: TestApp) {
    let provider = app.user_with_role("provider").await;
    let service = app
        .published_service(
            &provider,
            json!({ "durationMinutes": 45, "capacity": 7, "location": "Hall" }),
        )
        .await;
    let starts = in_hours(10);
    let sessions = app
        .add_sessions(
            &provider,
            &service,
            json!({ "startsAt": starts, "additionalInformation": ["Bring a mat"] }),
        )
        .await;
    assert_eq!(sessions.len(), 1);
    let session = &sessions[0];
    let ends: chrono::DateTime<chrono::Utc> = session["endsAt"].as_str().unwrap().parse().unwrap();
    assert_eq!(ends - starts, chrono::Duration::minutes(45));
    assert_eq!(
        (
            session["capacity"].as_i64(),
            session["location"].as_str(),
            session["spotsLeft"].as_i64()
        ),
        (Some(7), Some("Hall"), Some(7))
    );
    assert_eq!(session["additionalInformation"], json!(["Bring a mat"]));
    let own = app.add_sessions(&provider, &service, json!({ "startsAt": in_hours(12), "endsAt": in_hours(14), "capacity": 2, "location": "Park" })).await;
    assert_eq!(
        (own[0]["capacity"].as_i64(), own[0]["location"].as_str()),
        (Some(2), Some("Park"))
    );
    let bad = app
        .post(
            &format!(
                "/api/user/{}/services/{}/sessions",
                provider.id,
                id_of(&service)
            ),
            &provider.token,
            &json!({ "startsAt": in_hours(12), "endsAt": in_hours(11), "capacity": 0 }),
        )
        .await;
    let body = problem(bad, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(body["errors"].as_array().unwrap().len(), 2);
}

async fn a_weekly_series_keeps_local_time_across_dst(app: TestApp) {
    let provider = app.user_with_role("provider").await;
    let service = app
        .published_service(&provider, json!({ "timeZone": "Europe/Paris" }))
        .await;
    // Mondays at 09:00 in Paris from 15 March 2027; clocks go forward on Sunday 28 March.
    let sessions = app
        .add_sessions(
            &provider,
            &service,
            json!({
                "startsAt": "2027-03-15T09:00:00+01:00",
                "repeat": { "weekdays": ["monday"], "count": 3 }
            }),
        )
        .await;
    let starts: Vec<&str> = sessions
        .iter()
        .map(|s| s["startsAt"].as_str().unwrap())
        .collect();
    assert_eq!(
        starts,
        [
            "2027-03-15T08:00:00Z",
            "2027-03-22T08:00:00Z",
            "2027-03-29T07:00:00Z"
        ]
    );
    let new_york = app
        .published_service(&provider, json!({ "timeZone": "America/New_York" }))
        .await;
    // Tuesdays and Thursdays at 18:30 until 11 November 2027; New York's clocks go back on
    // Sunday 7 November.
    let sessions = app
        .add_sessions(
            &provider,
            &new_york,
            json!({
                "startsAt": "2027-11-02T18:30:00-04:00",
                "repeat": { "weekdays": ["tuesday", "thursday"], "until": "2027-11-11" }
            }),
        )
        .await;
    let starts: Vec<&str> = sessions
        .iter()
        .map(|s| s["startsAt"].as_str().unwrap())
        .collect();
    assert_eq!(
        starts,
        [
            "2027-11-02T22:30:00Z",
            "2027-11-04T22:30:00Z",
            "2027-11-09T23:30:00Z",
            "2027-11-11T23:30:00Z"
        ]
    );
    let stored = app
        .db
        .count(query("SELECT COUNT(*) FROM sessions WHERE service_id = $1").bind(id_of(&new_york)))
        .await;
    assert_eq!(stored, 4);
}

async fn series_limits_are_checked(app: TestApp) {
    let provider = app.user_with_role("provider").await;
    let service = app.published_service(&provider, json!({})).await;
    let path = format!(
        "/api/user/{}/services/{}/sessions",
        provider.id,
        id_of(&service)
    );
    for (repeat, field) in [
        (json!({ "weekdays": [], "count": 2 }), "repeat.weekdays"),
        (json!({ "weekdays": ["monday"] }), "repeat"),
        (
            json!({ "weekdays": ["monday"], "count": 2, "until": "2027-01-01" }),
            "repeat",
        ),
        (
            json!({ "weekdays": ["monday"], "count": 500 }),
            "repeat.count",
        ),
        (
            json!({ "weekdays": ["monday"], "until": "2030-01-01" }),
            "repeat.until",
        ),
    ] {
        let response = app
            .post(
                &path,
                &provider.token,
                &json!({ "startsAt": in_hours(24), "repeat": repeat }),
            )
            .await;
        let body = problem(response, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert_eq!(body["errors"][0]["field"], field, "{repeat}");
    }
    let funday = app
        .post(
            &path,
            &provider.token,
            &json!({ "startsAt": in_hours(24), "repeat": { "weekdays": ["funday"], "count": 1 } }),
        )
        .await;
    problem(funday, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(
        app.db
            .count(
                query("SELECT COUNT(*) FROM sessions WHERE service_id = $1").bind(id_of(&service))
            )
            .await,
        0
    );
}

async fn moving_a_session_moves_its_bookings(app: TestApp) {
    let Class {
        provider,
        service,
        session,
    } = app.class(json!({}), 24, 3).await;
    let ann = app.customer().await;
    let booking = app.booked(&ann, &session).await;
    let new_start = in_hours(30);
    let moved = app
        .patch(
            &session_path(&provider, &service, &session),
            &provider.token,
            &json!({ "startsAt": new_start }),
        )
        .await;
    let moved: Value = moved.ok_json(StatusCode::OK).await;
    let ends: chrono::DateTime<chrono::Utc> = moved["endsAt"].as_str().unwrap().parse().unwrap();
    assert_eq!(
        ends - new_start,
        chrono::Duration::hours(1),
        "the length is kept"
    );
    let seen: Value = app.booking_of(&ann, &booking).await;
    assert_eq!(seen["sessionDetails"]["time"]["start"], moved["startsAt"]);
    assert_eq!(seen["status"], "Pending");
}

async fn capacity_cannot_drop_below_the_places_booked(app: TestApp) {
    let Class {
        provider,
        service,
        session,
    } = app.class(json!({}), 24, 3).await;
    app.booked(&app.customer().await, &session).await;
    app.booked(&app.customer().await, &session).await;
    let path = session_path(&provider, &service, &session);
    let refused = app
        .patch(&path, &provider.token, &json!({ "capacity": 1 }))
        .await;
    assert_eq!(
        problem(refused, StatusCode::CONFLICT).await["code"],
        "capacity_below_booked"
    );
    assert_eq!(
        app.patch(&path, &provider.token, &json!({ "capacity": 2 }))
            .await
            .status(),
        StatusCode::OK
    );
    let (capacity,): (i64,) = app
        .db
        .one(query("SELECT capacity FROM sessions WHERE id = $1").bind(id_of(&session)))
        .await;
    assert_eq!(capacity, 2);
    assert_eq!(
        problem(
            app.book(&app.customer().await, &session).await,
            StatusCode::CONFLICT
        )
        .await["code"],
        "session_full"
    );
}

async fn cancelling_a_session_cancels_its_pending_bookings(app: TestApp) {
    let Class {
        provider,
        service,
        session,
    } = app.class(json!({}), 24, 3).await;
    let ann = app.customer().await;
    let booking = app.booked(&ann, &session).await;
    let path = session_path(&provider, &service, &session);
    let response = app
        .delete(&format!("{path}?reason=Teacher%20ill"), &provider.token)
        .await;
    let body: Value = response.ok_json(StatusCode::OK).await;
    assert_eq!(
        (
            body["cancelledBookings"].as_i64(),
            body["session"]["status"].as_str()
        ),
        (Some(1), Some("cancelled"))
    );
    let seen: Value = app.booking_of(&ann, &booking).await;
    assert_eq!(
        (
            seen["status"].as_str(),
            seen["cancellationReason"].as_str(),
            seen["cancelledBy"].as_str()
        ),
        (Some("Cancelled"), Some("Teacher ill"), Some("provider"))
    );
    assert_eq!(app.seats(id_of(&session)).await, (0, 0));
    assert_eq!(
        problem(
            app.book(&app.customer().await, &session).await,
            StatusCode::CONFLICT
        )
        .await["code"],
        "session_cancelled"
    );
    assert_eq!(
        problem(
            app.patch(&path, &provider.token, &json!({ "capacity": 5 }))
                .await,
            StatusCode::CONFLICT
        )
        .await["code"],
        "session_cancelled"
    );
    // An ended session cannot be cancelled.
    let past = app.session(&provider, &service, -3, 3).await;
    let ended = app
        .delete(&session_path(&provider, &service, &past), &provider.token)
        .await;
    assert_eq!(
        problem(ended, StatusCode::CONFLICT).await["code"],
        "session_ended"
    );
}

async fn the_public_session_list_shows_places_left(app: TestApp) {
    let Class {
        provider,
        service,
        session: first,
    } = app.class(json!({}), 24, 3).await;
    let second = app.session(&provider, &service, 48, 3).await;
    let cancelled = app.session(&provider, &service, 36, 3).await;
    app.delete(
        &session_path(&provider, &service, &cancelled),
        &provider.token,
    )
    .await;
    app.booked(&app.customer().await, &first).await;
    let path = format!("/api/services/{}/sessions", id_of(&service));
    let listed: Vec<Value> = app.anonymous().get_json(&path).await;
    let ids: Vec<&Value> = listed.iter().map(|s| &s["id"]).collect();
    assert_eq!(
        ids,
        [&first["id"], &second["id"]],
        "soonest first, cancelled ones left out"
    );
    assert_eq!(
        (
            listed[0]["booked"].as_i64(),
            listed[0]["spotsLeft"].as_i64()
        ),
        (Some(1), Some(2))
    );
    let page: reqwest::Response = app
        .request(reqwest::Method::GET, &format!("{path}?limit=1"))
        .send()
        .await
        .unwrap();
    let link = page.headers()["link"].to_str().unwrap().to_owned();
    let next = link
        .trim_start_matches('<')
        .split('>')
        .next()
        .unwrap()
        .to_owned();
    let rest: Vec<Value> = app.anonymous().get_json(&next).await;
    assert_eq!(rest[0]["id"], second["id"]);
    let narrow = format!(
        "{path}?from={}&to={}",
        in_hours(40).to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        in_hours(60).to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    );
    let narrow: Vec<Value> = app.anonymous().get_json(&narrow).await;
    assert_eq!(narrow.len(), 1);
    let backwards = app
        .request(
            reqwest::Method::GET,
            &format!("{path}?from=2027-01-02T00:00:00Z&to=2027-01-01T00:00:00Z"),
        )
        .send()
        .await
        .unwrap();
    problem(backwards, StatusCode::UNPROCESSABLE_ENTITY).await;
}
