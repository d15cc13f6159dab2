//! Security checks from RFC 8725 and RFC 9700 that the token tests leave out: key-URL headers,
//! a stolen refresh token replayed after several rotations, login timing, and what answers give
//! away. (Mass assignment is in `extra_fields`.)

use std::time::{Duration, Instant};

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use hmac::{Hmac, Mac};
use kairos::store::query;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sha2::Sha256;
use tokio::net::TcpListener;

use crate::helpers::{Answer, Login, PASSWORD, TestApp, on_both_backends, problem, unique_email};

on_both_backends!(
    key_url_headers_are_ignored_and_fetch_nothing,
    reuse_after_three_rotations_ends_the_family_and_spares_another_login,
    a_wrong_password_and_an_unknown_email_take_the_same_time,
    a_refresh_token_is_only_ever_in_the_answer_that_issued_it,
);

async fn status_of(app: &TestApp, login: &Login, token: &str) -> StatusCode {
    app.get(&format!("/api/user/{}", login.id), token)
        .await
        .status()
}

/// A JWT with any header, HMAC-SHA256 signed with `key`.
fn signed(header: &Value, claims: &Value, key: &[u8]) -> String {
    let head = URL_SAFE_NO_PAD.encode(serde_json::to_vec(header).unwrap());
    let body = URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).unwrap());
    let mut mac = Hmac::<Sha256>::new_from_slice(key).unwrap();
    mac.update(format!("{head}.{body}").as_bytes());
    let signature = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
    format!("{head}.{body}.{signature}")
}

async fn key_url_headers_are_ignored_and_fetch_nothing(app: TestApp) {
    let ann = app.customer().await;
    // Where the headers point: a listener that would see any fetch.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let keys = format!("http://{}", listener.local_addr().unwrap());
    let claims: Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(ann.token.split('.').nth(1).unwrap())
            .unwrap(),
    )
    .unwrap();
    let attacker = b"the attacker's own key, 32 bytes";
    let attacker_jwk = json!({ "kty": "oct", "k": URL_SAFE_NO_PAD.encode(attacker) });
    let headers = [
        json!({ "alg": "HS256", "typ": "JWT", "jku": format!("{keys}/jwks.json") }),
        json!({ "alg": "HS256", "typ": "JWT", "x5u": format!("{keys}/cert.pem") }),
        json!({ "alg": "HS256", "typ": "JWT", "jwk": attacker_jwk }),
        json!({ "alg": "HS256", "typ": "JWT", "kid": "../../../../dev/null" }),
        json!({ "alg": "HS256", "typ": "JWT", "kid": format!("{keys}/key") }),
    ];
    for header in &headers {
        let token = signed(header, &claims, attacker);
        let response = app.get(&format!("/api/user/{}", ann.id), &token).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{header}");
        assert!(response.headers().contains_key("www-authenticate"));
    }
    let fetched = tokio::time::timeout(Duration::from_millis(500), listener.accept()).await;
    assert!(fetched.is_err(), "the server made an outbound connection");
    // The same claims under our key still work: the refusals were about the header's key.
    let secret = std::fs::read_to_string(app.secret_file()).unwrap();
    let ours = URL_SAFE_NO_PAD.decode(secret.trim()).unwrap();
    let control = signed(&json!({ "alg": "HS256", "typ": "JWT" }), &claims, &ours);
    assert_eq!(status_of(&app, &ann, &control).await, StatusCode::OK);
}

async fn refresh(app: &TestApp, token: &str) -> reqwest::Response {
    app.post_anonymous("/api/refresh", &json!({ "token": token }))
        .await
}

async fn reuse_after_three_rotations_ends_the_family_and_spares_another_login(app: TestApp) {
    let ann = app.customer().await;
    let other_device = app.login(&ann.email, PASSWORD).await;
    let mut refresh_tokens = vec![ann.refresh_token.clone()];
    let mut access_tokens = vec![ann.token.clone()];
    for _ in 0..3 {
        let response = refresh(&app, refresh_tokens.last().unwrap()).await;
        let body: Value = response.ok_json(StatusCode::OK).await;
        refresh_tokens.push(body["refreshToken"].as_str().unwrap().to_owned());
        access_tokens.push(body["token"].as_str().unwrap().to_owned());
    }
    for token in &access_tokens {
        assert_eq!(status_of(&app, &ann, token).await, StatusCode::OK);
    }
    // The thief replays the first rotation's token.
    let replay = refresh(&app, &refresh_tokens[1]).await;
    let body = problem(replay, StatusCode::UNAUTHORIZED).await;
    assert_eq!(body["code"], "refresh_token_reused");
    // Every token of the family is dead, the newest included, and every access token with it.
    for token in &refresh_tokens {
        assert_eq!(
            refresh(&app, token).await.status(),
            StatusCode::UNAUTHORIZED
        );
    }
    for token in &access_tokens {
        assert_eq!(status_of(&app, &ann, token).await, StatusCode::UNAUTHORIZED);
    }
    // Ann's other login is another family: untouched.
    assert_eq!(
        status_of(&app, &ann, &other_device.token).await,
        StatusCode::OK
    );
    assert_eq!(
        refresh(&app, &other_device.refresh_token).await.status(),
        StatusCode::OK
    );
    let revoked = app
        .db
        .count(
            query(
                "SELECT COUNT(*) FROM logins \
                 WHERE user_id = $1 AND revoked_reason = 'refresh_token_reused'",
            )
            .bind(ann.id),
        )
        .await;
    let live = app
        .db
        .count(
            query("SELECT COUNT(*) FROM logins WHERE user_id = $1 AND revoked_at IS NULL")
                .bind(ann.id),
        )
        .await;
    assert_eq!((revoked, live), (1, 1));
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

async fn a_wrong_password_and_an_unknown_email_take_the_same_time(app: TestApp) {
    let ann = app.customer().await;
    let tries = 100;
    let (mut wrong, mut unknown) = (Vec::new(), Vec::new());
    let mut bodies = Vec::new();
    // Interleaved, so both series see the same machine.
    for i in 0..tries {
        let nobody = unique_email("nobody");
        let mut pair = [(&ann.email, &mut wrong), (&nobody, &mut unknown)];
        // Alternating who goes first, so neither series is always the one after the pause.
        if i % 2 == 1 {
            pair.reverse();
        }
        for (email, times) in pair {
            let started = Instant::now();
            let response = app.log_in(email, "not the right passphrase").await;
            let status = response.status();
            let body = response.text().await.unwrap();
            times.push(started.elapsed());
            assert_eq!(status, StatusCode::UNAUTHORIZED, "try {i}: {body}");
            if i == 0 {
                bodies.push(body);
            }
        }
        // The account throttle would answer the sixth try for Ann with a fast 429: let its
        // window pass.
        app.advance(chrono::Duration::minutes(16));
    }
    // Byte-identical apart from the request id.
    let without_request_id = |body: &str| {
        let mut value: Value = serde_json::from_str(body).unwrap();
        value.as_object_mut().unwrap().remove("requestId");
        value.to_string()
    };
    assert_eq!(
        without_request_id(&bodies[0]),
        without_request_id(&bodies[1])
    );
    let (wrong, unknown) = (median(wrong), median(unknown));
    let difference = wrong.abs_diff(unknown).as_secs_f64() / wrong.max(unknown).as_secs_f64();
    println!(
        "login medians over {tries} tries: wrong password {wrong:?}, unknown email {unknown:?}"
    );
    assert!(
        difference < 0.10,
        "wrong password {wrong:?} vs unknown email {unknown:?}: {:.1}% apart",
        difference * 100.0
    );
}

async fn a_refresh_token_is_only_ever_in_the_answer_that_issued_it(app: TestApp) {
    // Every answer of a session's life, in order: the tokens each one issued, and its text.
    let mut answers: Vec<(Vec<String>, String)> = Vec::new();
    async fn record(
        answers: &mut Vec<(Vec<String>, String)>,
        response: reqwest::Response,
    ) -> Value {
        let headers = format!("{:?}", response.headers());
        let text = response.text().await.unwrap();
        let body: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        let issued = body["refreshToken"]
            .as_str()
            .map(|t| vec![t.to_owned()])
            .unwrap_or_default();
        answers.push((issued, format!("{headers}\n{text}")));
        body
    }
    let email = unique_email("audit");
    record(&mut answers, app.sign_up(&email, PASSWORD).await).await;
    let login = record(&mut answers, app.log_in(&email, PASSWORD).await).await;
    let user = login["id"].as_str().unwrap().to_owned();
    let mut token = login["token"].as_str().unwrap().to_owned();
    let mut refresh_token = login["refreshToken"].as_str().unwrap().to_owned();
    for _ in 0..3 {
        let rotated = record(&mut answers, refresh(&app, &refresh_token).await).await;
        token = rotated["token"].as_str().unwrap().to_owned();
        refresh_token = rotated["refreshToken"].as_str().unwrap().to_owned();
    }
    for path in [
        format!("/api/user/{user}"),
        format!("/api/user/{user}/bookings"),
        format!("/api/user/{user}/schedule"),
        "/api/services".to_owned(),
    ] {
        record(&mut answers, app.get(&path, &token).await).await;
    }
    let put = app
        .request(Method::PUT, "/api/users")
        .bearer_auth(&token)
        .json(&json!({ "password": "another fine passphrase" }))
        .send()
        .await
        .unwrap();
    record(&mut answers, put).await;
    let revoke = app
        .post_anonymous("/api/revoke", &json!({ "token": refresh_token }))
        .await;
    record(&mut answers, revoke).await;
    let issued: Vec<String> = answers.iter().flat_map(|(i, _)| i.clone()).collect();
    assert_eq!(issued.len(), 4, "login and three rotations");
    for token in &issued {
        let holding = answers
            .iter()
            .filter(|(_, text)| text.contains(token))
            .count();
        assert_eq!(holding, 1, "a refresh token turned up again");
    }
    for (_, text) in &answers {
        assert!(!text.contains("$argon2"), "a password hash: {text}");
    }
}
