//! Requests the server cannot use: each gets a clear problem answer and changes nothing.

use kairos::store::query;
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{PASSWORD, TestApp, on_both_backends, problem, unique_email};

on_both_backends!(
    malformed_json_is_a_400_problem,
    a_body_that_is_not_json_is_a_415,
    missing_fields_and_wrong_types_are_422_naming_the_field,
    a_body_over_64_kib_is_a_413,
    path_ids_must_be_uuids,
    a_query_field_named_with_a_nul_is_quoted_without_it,
    unknown_routes_and_methods_answer_as_problems,
    every_response_carries_a_request_id,
);

async fn users(app: &TestApp) -> i64 {
    app.db.count(query("SELECT COUNT(*) FROM users")).await
}

async fn malformed_json_is_a_400_problem(app: TestApp) {
    let before = users(&app).await;
    for body in [
        "{",
        "{\"email\": }",
        "not json at all",
        "{\"email\":\"a@b.co\",\"password\":\"x\"} extra",
    ] {
        let response = app
            .request(Method::POST, "/api/users")
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        let problem = problem(response, StatusCode::BAD_REQUEST).await;
        assert_eq!(problem["code"], "malformed_json", "{body}");
        assert_eq!(problem["type"], "urn:kairos:problem:malformed_json");
    }
    assert_eq!(users(&app).await, before);
}

async fn a_body_that_is_not_json_is_a_415(app: TestApp) {
    let body = json!({ "email": unique_email("x"), "password": PASSWORD }).to_string();
    for content_type in [
        None,
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
    ] {
        let mut request = app.request(Method::POST, "/api/users").body(body.clone());
        if let Some(content_type) = content_type {
            request = request.header("content-type", content_type);
        }
        let problem = problem(
            request.send().await.unwrap(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
        )
        .await;
        assert_eq!(problem["code"], "unsupported_media_type");
    }
    let charset = app
        .request(Method::POST, "/api/users")
        .header("content-type", "application/json; charset=utf-8")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(
        charset.status(),
        StatusCode::CREATED,
        "a charset parameter is fine"
    );
}

async fn missing_fields_and_wrong_types_are_422_naming_the_field(app: TestApp) {
    let before = users(&app).await;
    for (body, field) in [
        (json!({ "password": PASSWORD }), "email"),
        (json!({ "email": unique_email("x") }), "password"),
        (json!({ "email": 42, "password": PASSWORD }), "email"),
        (
            json!({ "email": unique_email("x"), "password": ["a"] }),
            "password",
        ),
        (json!([1, 2]), "body"),
        (json!(["a@b.co", PASSWORD]), "body"),
        (json!("a string"), "body"),
    ] {
        let response = app.post_anonymous("/api/users", &body).await;
        let problem = problem(response, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert_eq!(problem["code"], "validation_failed");
        assert_eq!(problem["errors"][0]["field"], field, "{body}");
        assert!(problem["errors"][0]["message"].is_string());
    }
    assert_eq!(users(&app).await, before);
}

async fn a_body_over_64_kib_is_a_413(app: TestApp) {
    let big = json!({ "email": unique_email("big"), "password": "x".repeat(70 * 1024) });
    let response = app.post_anonymous("/api/users", &big).await;
    assert_eq!(
        problem(response, StatusCode::PAYLOAD_TOO_LARGE).await["code"],
        "payload_too_large"
    );
    let response = app.post_anonymous("/api/login", &big).await;
    problem(response, StatusCode::PAYLOAD_TOO_LARGE).await;
}

async fn path_ids_must_be_uuids(app: TestApp) {
    let admin = app.admin().await;
    for bad in [
        "42".to_owned(),
        "not-a-uuid".to_owned(),
        format!("{{{}}}", admin.id),
        admin.id.urn().to_string(),
        format!("{}0", admin.id.simple()),
    ] {
        let response = app.get(&format!("/api/user/{bad}"), &admin.token).await;
        let problem = problem(response, StatusCode::BAD_REQUEST).await;
        assert_eq!(problem["code"], "invalid_path", "{bad}");
    }
    for good in [
        admin.id.to_string(),
        admin.id.simple().to_string(),
        admin.id.to_string().to_uppercase(),
    ] {
        let response = app.get(&format!("/api/user/{good}"), &admin.token).await;
        assert_eq!(response.status(), StatusCode::OK, "{good}");
    }
}

/// The problem quotes the unknown field's name, and the document promises no string holds NUL
/// (Schemathesis sent such a name and checked the answer against the document).
async fn a_query_field_named_with_a_nul_is_quoted_without_it(app: TestApp) {
    let admin = app.admin().await;
    let response = app
        .get(
            &format!("/api/user/{}/bookings?a%00b=1", admin.id),
            &admin.token,
        )
        .await;
    let problem = problem(response, StatusCode::BAD_REQUEST).await;
    assert_eq!(problem["code"], "invalid_query");
    let detail = problem["detail"].as_str().unwrap_or_default();
    assert!(detail.contains("a\u{FFFD}b"), "{detail}");
    assert!(!detail.contains('\0'), "{detail}");
}

async fn unknown_routes_and_methods_answer_as_problems(app: TestApp) {
    let response = app
        .request(Method::GET, "/api/nothing-here")
        .send()
        .await
        .unwrap();
    problem(response, StatusCode::NOT_FOUND).await;
    let response = app
        .request(Method::DELETE, "/api/login")
        .send()
        .await
        .unwrap();
    let allow = response.headers()["allow"].to_str().unwrap().to_owned();
    assert_eq!(allow, "POST");
    assert_eq!(
        problem(response, StatusCode::METHOD_NOT_ALLOWED).await["code"],
        "method_not_allowed"
    );
}

async fn every_response_carries_a_request_id(app: TestApp) {
    for response in [
        app.request(Method::GET, "/healthz").send().await.unwrap(),
        app.request(Method::GET, "/api/nothing")
            .send()
            .await
            .unwrap(),
        app.log_in(&unique_email("nobody"), PASSWORD).await,
    ] {
        let id = response.headers()["x-request-id"].to_str().unwrap();
        assert_eq!(id.len(), 36, "{id}");
    }
    let given = app
        .request(Method::GET, "/healthz")
        .header("x-request-id", "trace-me-123")
        .send()
        .await
        .unwrap();
    assert_eq!(given.headers()["x-request-id"], "trace-me-123");
}
