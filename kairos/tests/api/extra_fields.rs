//! Mass assignment: a body with a field its route does not take (a role, an owner, a status, a
//! count) is refused with 422 and changes nothing, for every route that takes a body.

use kairos::store::query;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{Login, PASSWORD, TestApp, id_of, on_both_backends, problem, unique_email};

on_both_backends!(extra_fields_in_bodies_are_refused_and_change_nothing);

/// Who sends, the method, the path, a valid body, and the field smuggled into it.
type Smuggled<'a> = (&'a Login, Method, String, Value, (&'static str, Value));

async fn extra_fields_in_bodies_are_refused_and_change_nothing(app: TestApp) {
    let provider = app.user_with_role("provider").await;
    let ann = app.customer().await;
    let bob = app.customer().await;
    let service = app
        .published_service(&provider, json!({ "name": "Yoga" }))
        .await;
    let session = app.session(&provider, &service, 24, 5).await;
    let later = app.session(&provider, &service, 48, 5).await;
    let booking = app.booked(&ann, &session).await;
    let (pid, aid, sid, xid, bid) = (
        provider.id,
        ann.id,
        id_of(&service),
        id_of(&session),
        id_of(&booking),
    );
    let someone = bob.id.to_string();
    let users_before = app.db.count(query("SELECT COUNT(*) FROM users")).await;
    let past = "2020-01-01T00:00:00Z";
    let attempts: Vec<Smuggled<'_>> = vec![
        (
            &ann,
            Method::PUT,
            "/api/users".into(),
            json!({ "email": unique_email("moved") }),
            ("role", json!("admin")),
        ),
        (
            &ann,
            Method::PUT,
            "/api/users".into(),
            json!({ "email": unique_email("moved") }),
            ("id", json!(someone)),
        ),
        (
            &ann,
            Method::PUT,
            "/api/users".into(),
            json!({ "email": unique_email("moved") }),
            ("createdAt", json!(past)),
        ),
        (
            &ann,
            Method::POST,
            format!("/api/user/{aid}/book"),
            json!({ "sessionId": later["id"] }),
            ("userId", json!(someone)),
        ),
        (
            &ann,
            Method::POST,
            format!("/api/user/{aid}/book"),
            json!({ "sessionId": later["id"] }),
            ("status", json!("Completed")),
        ),
        (
            &ann,
            Method::POST,
            format!("/api/user/{aid}/book"),
            json!({ "sessionId": later["id"] }),
            ("id", json!(bid)),
        ),
        (
            &ann,
            Method::POST,
            format!("/api/user/{aid}/book"),
            json!({ "sessionId": later["id"] }),
            ("createdAt", json!(past)),
        ),
        (
            &ann,
            Method::PATCH,
            format!("/api/user/{aid}/bookings/{bid}"),
            json!({ "notes": "moved?" }),
            ("userId", json!(someone)),
        ),
        (
            &ann,
            Method::PATCH,
            format!("/api/user/{aid}/bookings/{bid}"),
            json!({ "notes": "moved?" }),
            ("providerId", json!(someone)),
        ),
        (
            &ann,
            Method::PATCH,
            format!("/api/user/{aid}/bookings/{bid}"),
            json!({ "notes": "moved?" }),
            ("createdAt", json!(past)),
        ),
        (
            &provider,
            Method::PATCH,
            format!("/api/user/{pid}/services/{sid}"),
            json!({ "name": "Taken" }),
            ("providerId", json!(someone)),
        ),
        (
            &provider,
            Method::PATCH,
            format!("/api/user/{pid}/services/{sid}"),
            json!({ "name": "Taken" }),
            ("status", json!("draft")),
        ),
        (
            &provider,
            Method::POST,
            format!("/api/user/{pid}/services/create/save"),
            json!({ "name": "New" }),
            ("providerId", json!(someone)),
        ),
        (
            &provider,
            Method::POST,
            format!("/api/user/{pid}/services/create/publish"),
            json!({ "name": "New" }),
            ("createdAt", json!(past)),
        ),
        (
            &provider,
            Method::POST,
            format!("/api/user/{pid}/services/{sid}/sessions"),
            json!({ "startsAt": crate::helpers::in_hours(72) }),
            ("id", json!(xid)),
        ),
        (
            &provider,
            Method::PATCH,
            format!("/api/user/{pid}/services/{sid}/sessions/{xid}"),
            json!({ "capacity": 6 }),
            ("status", json!("cancelled")),
        ),
    ];
    for (login, method, path, mut body, (field, value)) in attempts {
        body[field] = value;
        let response = app
            .request(method.clone(), &path)
            .bearer_auth(&login.token)
            .json(&body)
            .send()
            .await
            .unwrap();
        let problem = problem(response, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert!(
            problem.to_string().contains(field),
            "{method} {path} with {field}: the problem names the field: {problem}"
        );
    }
    // A sign-up cannot choose its role, id or creation time either.
    for (field, value) in [
        ("role", json!("admin")),
        ("id", json!(someone)),
        ("createdAt", json!(past)),
        ("isChirpyRed", json!(true)),
    ] {
        let mut body = json!({ "email": unique_email("mass"), "password": PASSWORD });
        body[field] = value;
        let response = app.post_anonymous("/api/users", &body).await;
        problem(response, StatusCode::UNPROCESSABLE_ENTITY).await;
    }

    let users = app.db.count(query("SELECT COUNT(*) FROM users")).await;
    assert_eq!(users, users_before, "no sign-up got through");
    let (role, email): (String, String) = app
        .db
        .one(query("SELECT role, email FROM users WHERE id = $1").bind(aid))
        .await;
    assert_eq!(
        (role.as_str(), email.as_str()),
        ("customer", ann.email.as_str())
    );
    let bookings = app.db.count(query("SELECT COUNT(*) FROM bookings")).await;
    assert_eq!(bookings, 1);
    let (status, notes, user): (String, Option<String>, uuid::Uuid) = app
        .db
        .one(query("SELECT status, notes, user_id FROM bookings WHERE id = $1").bind(bid))
        .await;
    assert_eq!((status.as_str(), notes, user), ("Pending", None, aid));
    let (name, service_status): (String, String) = app
        .db
        .one(query("SELECT name, status FROM services WHERE id = $1").bind(sid))
        .await;
    assert_eq!(
        (name.as_str(), service_status.as_str()),
        ("Yoga", "published")
    );
    let services = app.db.count(query("SELECT COUNT(*) FROM services")).await;
    assert_eq!(services, 1);
    let sessions = app.db.count(query("SELECT COUNT(*) FROM sessions")).await;
    assert_eq!(sessions, 2);
    let (capacity, session_status): (i64, String) = app
        .db
        .one(query("SELECT capacity, status FROM sessions WHERE id = $1").bind(xid))
        .await;
    assert_eq!((capacity, session_status.as_str()), (5, "scheduled"));
}
