//! Logging in and out, refreshing and revoking. (Throttling: `login_throttle.rs`; tokens that
//! must not pass: `forged_tokens.rs`.)

use std::sync::Arc;

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use kairos::store::query;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tokio::sync::Barrier;
use uuid::Uuid;

use crate::helpers::{
    Answer, PASSWORD, TestApp, decode_jwt_part, home_status, on_both_backends, problem,
    unique_email,
};

on_both_backends!(
    login_returns_the_user_and_tokens_and_stores_only_a_hash,
    the_access_token_carries_the_contracts_claims,
    a_wrong_password_and_an_unknown_email_answer_alike,
    refresh_rotates_and_a_reused_token_ends_the_login_session,
    refresh_takes_the_token_in_the_body_too,
    access_and_refresh_tokens_are_not_interchangeable,
    fifty_parallel_refreshes_of_one_token_give_one_success,
    revoke_ends_the_login_session,
    logout_ends_only_the_current_login_session,
    an_admin_can_end_every_login_session_of_a_user,
    the_login_session_lasts_sixty_days_from_login_whatever_rotation,
);

async fn refresh_with(app: &TestApp, refresh_token: &str) -> reqwest::Response {
    app.request(Method::POST, "/api/refresh")
        .bearer_auth(refresh_token)
        .send()
        .await
        .unwrap()
}

async fn login_returns_the_user_and_tokens_and_stores_only_a_hash(app: TestApp) {
    let email = unique_email("login");
    app.sign_up(&email, PASSWORD).await;
    let response = app.log_in(&email, PASSWORD).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let body: Value = response.json().await.unwrap();
    for field in [
        "id",
        "createdAt",
        "updatedAt",
        "email",
        "role",
        "isChirpyRed",
        "token",
        "refreshToken",
    ] {
        assert!(body.get(field).is_some(), "missing {field}");
    }
    assert_eq!(body["expiresIn"], 3600);
    let id: Uuid = body["id"].as_str().unwrap().parse().unwrap();
    let refresh_token = body["refreshToken"].as_str().unwrap();
    assert!(
        URL_SAFE_NO_PAD.decode(refresh_token).unwrap().len() == 32,
        "256 random bits"
    );

    let sessions = app
        .db
        .count(query("SELECT COUNT(*) FROM logins WHERE user_id = $1").bind(id))
        .await;
    assert_eq!(sessions, 1);
    let (stored,): (Vec<u8>,) = app
        .db
        .one(
            query(
                "SELECT t.token_hash FROM refresh_tokens t \
                 JOIN logins s ON s.id = t.login_id WHERE s.user_id = $1",
            )
            .bind(id),
        )
        .await;
    assert_eq!(stored, Sha256::digest(refresh_token.as_bytes()).to_vec());
}

async fn the_access_token_carries_the_contracts_claims(app: TestApp) {
    let ann = app.customer().await;
    let parts: Vec<&str> = ann.token.split('.').collect();
    assert_eq!(parts.len(), 3);
    let header = decode_jwt_part(parts[0]);
    assert_eq!(header["alg"], "HS256");
    let claims = decode_jwt_part(parts[1]);
    assert_eq!(claims["sub"], ann.id.to_string());
    assert_eq!(claims["iss"], "kairos");
    assert_eq!(claims["aud"], "kairos-api");
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        3600
    );
    assert!(claims["jti"].is_string());
    let sid: Uuid = claims["sid"].as_str().unwrap().parse().unwrap();
    let live = app
        .db
        .count(query("SELECT COUNT(*) FROM logins WHERE id = $1 AND revoked_at IS NULL").bind(sid))
        .await;
    assert_eq!(live, 1, "sid names the login");
}

async fn a_wrong_password_and_an_unknown_email_answer_alike(app: TestApp) {
    let ann = app.customer().await;
    let unknown = unique_email("nobody");
    let wrong_password = app.log_in(&ann.email, "not the right passphrase").await;
    let unknown_email = app.log_in(&unknown, "not the right passphrase").await;
    for response in [&wrong_password, &unknown_email] {
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(response.headers()["www-authenticate"], "Bearer");
    }
    let a = wrong_password.bytes().await.unwrap();
    let b = unknown_email.bytes().await.unwrap();
    assert_eq!(a, b, "byte-identical bodies");
    let body: Value = serde_json::from_slice(&a).unwrap();
    assert_eq!(body["code"], "invalid_credentials");
    // Both took the same path: a verification, then a recorded failure.
    for key in [ann.email.to_lowercase(), unknown.to_lowercase()] {
        let failures = app
            .db
            .count(query("SELECT failures FROM login_failures WHERE email_key = $1").bind(key))
            .await;
        assert_eq!(failures, 1);
    }
}

async fn refresh_rotates_and_a_reused_token_ends_the_login_session(app: TestApp) {
    let ann = app.customer().await;
    let first = refresh_with(&app, &ann.refresh_token).await;
    assert_eq!(first.status(), StatusCode::OK);
    assert_eq!(first.headers()["cache-control"], "no-store");
    let first: Value = first.json().await.unwrap();
    assert_eq!(first["expiresIn"], 3600);
    let new_access = first["token"].as_str().unwrap();
    let new_refresh = first["refreshToken"].as_str().unwrap();
    assert_ne!(new_refresh, ann.refresh_token);
    assert_eq!(home_status(&app, &ann, new_access).await, StatusCode::OK);

    // The rotated token is marked used and linked to its replacement.
    let (used,): (i64,) = app
        .db
        .one(
            query(
                "SELECT COUNT(*) FROM refresh_tokens old JOIN refresh_tokens new \
                 ON new.id = old.replaced_by \
                 WHERE old.token_hash = $1 AND old.used_at IS NOT NULL AND new.token_hash = $2",
            )
            .bind(Sha256::digest(ann.refresh_token.as_bytes()).to_vec())
            .bind(Sha256::digest(new_refresh.as_bytes()).to_vec()),
        )
        .await;
    assert_eq!(used, 1);

    // Presenting the old one again is theft: 401, and the whole login ends.
    let replay = refresh_with(&app, &ann.refresh_token).await;
    let body = problem(replay, StatusCode::UNAUTHORIZED).await;
    assert_eq!(body["code"], "refresh_token_reused");
    assert_eq!(
        refresh_with(&app, new_refresh).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        home_status(&app, &ann, new_access).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        home_status(&app, &ann, &ann.token).await,
        StatusCode::UNAUTHORIZED
    );
    let reason: (Option<String>,) = app
        .db
        .one(query("SELECT revoked_reason FROM logins WHERE user_id = $1").bind(ann.id))
        .await;
    assert_eq!(reason.0.as_deref(), Some("refresh_token_reused"));
}

async fn refresh_takes_the_token_in_the_body_too(app: TestApp) {
    let ann = app.customer().await;
    let response = app
        .post_anonymous("/api/refresh", &json!({ "token": ann.refresh_token }))
        .await;
    let body: Value = response.ok_json(StatusCode::OK).await;
    let both = app
        .request(Method::POST, "/api/refresh")
        .bearer_auth(body["refreshToken"].as_str().unwrap())
        .json(&json!({ "token": "something else" }))
        .send()
        .await
        .unwrap();
    assert_eq!(
        problem(both, StatusCode::BAD_REQUEST).await["code"],
        "ambiguous_token"
    );
    let neither = app
        .request(Method::POST, "/api/refresh")
        .send()
        .await
        .unwrap();
    problem(neither, StatusCode::UNAUTHORIZED).await;
}

async fn access_and_refresh_tokens_are_not_interchangeable(app: TestApp) {
    let ann = app.customer().await;
    let response = refresh_with(&app, &ann.token).await;
    assert_eq!(
        problem(response, StatusCode::UNAUTHORIZED).await["code"],
        "invalid_token"
    );
    assert_eq!(
        home_status(&app, &ann, &ann.refresh_token).await,
        StatusCode::UNAUTHORIZED
    );
    // Neither attempt cost the login anything.
    assert_eq!(
        refresh_with(&app, &ann.refresh_token).await.status(),
        StatusCode::OK
    );
}

async fn fifty_parallel_refreshes_of_one_token_give_one_success(app: TestApp) {
    let ann = app.customer().await;
    let barrier = Arc::new(Barrier::new(50));
    let app = Arc::new(app);
    let mut racers = Vec::new();
    for _ in 0..50 {
        let (app, barrier, token) = (
            Arc::clone(&app),
            Arc::clone(&barrier),
            ann.refresh_token.clone(),
        );
        racers.push(tokio::spawn(async move {
            barrier.wait().await;
            let response = refresh_with(&app, &token).await;
            let status = response.status();
            let body: Value = response.json().await.unwrap();
            (status, body["refreshToken"].as_str().map(str::to_owned))
        }));
    }
    let mut children = Vec::new();
    let mut refused = 0;
    for racer in racers {
        match racer.await.unwrap() {
            (StatusCode::OK, Some(child)) => children.push(child),
            (StatusCode::UNAUTHORIZED, _) => refused += 1,
            (other, _) => panic!("unexpected {other}"),
        }
    }
    assert_eq!(children.len(), 1, "exactly one rotation wins");
    assert_eq!(refused, 49);
    // One child in the database, never two.
    let tokens = app
        .db
        .count(
            query(
                "SELECT COUNT(*) FROM refresh_tokens t JOIN logins s \
                 ON s.id = t.login_id WHERE s.user_id = $1",
            )
            .bind(ann.id),
        )
        .await;
    assert_eq!(tokens, 2);
}

async fn revoke_ends_the_login_session(app: TestApp) {
    let ann = app.customer().await;
    let response = app
        .request(Method::POST, "/api/revoke")
        .bearer_auth(&ann.refresh_token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        home_status(&app, &ann, &ann.token).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        refresh_with(&app, &ann.refresh_token).await.status(),
        StatusCode::UNAUTHORIZED
    );

    let bob = app.customer().await;
    let response = app
        .post_anonymous("/api/revoke", &json!({ "token": bob.refresh_token }))
        .await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        home_status(&app, &bob, &bob.token).await,
        StatusCode::UNAUTHORIZED
    );

    let unknown = app
        .post_anonymous("/api/revoke", &json!({ "token": "no-such-token" }))
        .await;
    problem(unknown, StatusCode::UNAUTHORIZED).await;
}

async fn logout_ends_only_the_current_login_session(app: TestApp) {
    let phone = app.customer().await;
    let laptop = app.login(&phone.email, PASSWORD).await;
    let response = app.log_out(&phone.token).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        home_status(&app, &phone, &phone.token).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        refresh_with(&app, &phone.refresh_token).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        home_status(&app, &laptop, &laptop.token).await,
        StatusCode::OK
    );
    let again = app.log_out(&phone.token).await;
    assert_eq!(again.status(), StatusCode::UNAUTHORIZED);
}

async fn an_admin_can_end_every_login_session_of_a_user(app: TestApp) {
    let ann = app.customer().await;
    let ann_elsewhere = app.login(&ann.email, PASSWORD).await;
    let bob = app.customer().await;
    let admin = app.admin().await;

    let by_customer = app
        .post(&format!("/api/logout/{}", ann.id), &bob.token, &json!({}))
        .await;
    assert_eq!(
        problem(by_customer, StatusCode::FORBIDDEN).await["code"],
        "forbidden"
    );
    assert_eq!(home_status(&app, &ann, &ann.token).await, StatusCode::OK);

    let response = app
        .post(&format!("/api/logout/{}", ann.id), &admin.token, &json!({}))
        .await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    for session in [&ann, &ann_elsewhere] {
        assert_eq!(
            home_status(&app, &ann, &session.token).await,
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(
            refresh_with(&app, &session.refresh_token).await.status(),
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(home_status(&app, &bob, &bob.token).await, StatusCode::OK);
    let live = app
        .db
        .count(
            query("SELECT COUNT(*) FROM logins WHERE user_id = $1 AND revoked_at IS NULL")
                .bind(ann.id),
        )
        .await;
    assert_eq!(live, 0);
    let missing = app
        .post(
            &format!("/api/logout/{}", Uuid::now_v7()),
            &admin.token,
            &json!({}),
        )
        .await;
    problem(missing, StatusCode::NOT_FOUND).await;
    // Logging in again works: forced logout is not a ban.
    app.login(&ann.email, PASSWORD).await;
}

async fn the_login_session_lasts_sixty_days_from_login_whatever_rotation(app: TestApp) {
    let ann = app.customer().await;
    let (created, expires): (chrono::DateTime<chrono::Utc>, chrono::DateTime<chrono::Utc>) = app
        .db
        .one(query("SELECT created_at, expires_at FROM logins WHERE user_id = $1").bind(ann.id))
        .await;
    assert_eq!(expires - created, chrono::Duration::days(60));
    let rotated: Value = refresh_with(&app, &ann.refresh_token)
        .await
        .json()
        .await
        .unwrap();
    let (after,): (chrono::DateTime<chrono::Utc>,) = app
        .db
        .one(query("SELECT expires_at FROM logins WHERE user_id = $1").bind(ann.id))
        .await;
    assert_eq!(after, expires, "rotation does not extend the session");
    // Fifty-nine days on, rotating keeps working (the access token has long expired).
    app.advance(chrono::Duration::days(59));
    let rotated: Value = refresh_with(&app, rotated["refreshToken"].as_str().unwrap())
        .await
        .json()
        .await
        .unwrap();
    let token = rotated["token"].as_str().unwrap();
    assert_eq!(home_status(&app, &ann, token).await, StatusCode::OK);
    // Sixty days from login the session is over, however fresh its tokens: both stop.
    app.advance(chrono::Duration::days(1));
    let refreshed = refresh_with(&app, rotated["refreshToken"].as_str().unwrap()).await;
    assert_eq!(refreshed.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        home_status(&app, &ann, token).await,
        StatusCode::UNAUTHORIZED
    );
}
