//! Providers' services: the template, drafts, publishing, the catalogue, invalid fields, edits.

use kairos::store::query;
use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{Answer, TestApp, id_of, on_both_backends, problem};

on_both_backends!(
    the_template_lists_every_field_with_defaults_and_limits,
    a_draft_is_saved_changed_and_published_but_never_listed_before,
    publishing_directly_and_searching_the_catalogue,
    invalid_fields_are_all_reported_and_nothing_is_stored,
    a_provider_edits_its_service_by_patch_and_by_post,
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
