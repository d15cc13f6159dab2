//! HTTP hardening: rate limits that a forged `X-Forwarded-For` cannot dodge, timeouts for slow
//! clients and slow answers, body limits before the body is read, methods, and CORS.

use std::time::{Duration, Instant};

use kairos::config::Settings;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

use crate::helpers::{
    Answer, PASSWORD, TestApp, on_both_backends, on_both_backends_with, problem, unique_email,
};

fn small_limits(s: &mut Settings) {
    s.signups_per_ip_per_minute = 3;
    s.refreshes_per_ip_per_minute = 3;
    s.feed_reads_per_ip_per_minute = 3;
}

fn behind_a_proxy(s: &mut Settings) {
    small_limits(s);
    // The tests connect from 127.0.0.1: here it plays the operator's reverse proxy.
    s.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
}

fn quick_timeouts(s: &mut Settings) {
    s.header_read_timeout = Duration::from_millis(300);
    s.body_read_timeout = Duration::from_millis(300);
}

fn one_millisecond_to_answer(s: &mut Settings) {
    s.request_time_limit = Duration::from_millis(1);
}

fn cors_for_one_origin(s: &mut Settings) {
    s.cors_origins = vec!["https://app.example.org".to_owned()];
}

on_both_backends_with!(small_limits =>
    sign_up_refresh_and_the_feed_are_limited_per_address,
    a_forged_forwarded_for_does_not_reset_the_limit,
);
on_both_backends_with!(behind_a_proxy => behind_a_trusted_proxy_each_client_has_its_own_limit);
on_both_backends_with!(quick_timeouts =>
    a_client_slow_to_send_headers_is_cut_off,
    a_client_slow_to_send_its_body_gets_a_408,
    slow_clients_do_not_hold_the_server,
);
on_both_backends_with!(one_millisecond_to_answer => an_answer_that_takes_too_long_is_a_503);
on_both_backends_with!(cors_for_one_origin => cors_echoes_only_the_listed_origin);
on_both_backends!(
    cors_is_off_by_default,
    a_declared_oversized_body_is_refused_before_it_is_sent,
    an_oversized_chunked_body_is_a_413_on_the_api_and_the_pages,
    trace_and_undocumented_methods_are_refused,
);

/// Sends raw bytes and reads what comes back until the server closes or `wait` passes.
async fn raw(app: &TestApp, request: &[u8], wait: Duration) -> (String, Duration) {
    let address = app.address.trim_start_matches("http://");
    let mut stream = TcpStream::connect(address).await.unwrap();
    stream.write_all(request).await.unwrap();
    let started = Instant::now();
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(wait, stream.read_to_end(&mut answer)).await;
    (
        String::from_utf8_lossy(&answer).into_owned(),
        started.elapsed(),
    )
}

async fn assert_limited(response: reqwest::Response) {
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry_after: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        (1..=60).contains(&retry_after),
        "Retry-After: {retry_after}"
    );
    let body = problem(response, StatusCode::TOO_MANY_REQUESTS).await;
    assert_eq!(body["code"], "too_many_requests");
}

async fn sign_up_refresh_and_the_feed_are_limited_per_address(app: TestApp) {
    // Ann's sign-up is the first of the three this address may make in a minute.
    let ann = app.customer().await;
    let users = "SELECT COUNT(*) FROM users";
    let before = app.db.count(kairos::store::query(users)).await;
    for _ in 0..2 {
        let response = app.sign_up(&unique_email("many"), PASSWORD).await;
        assert_eq!(response.status(), StatusCode::CREATED);
    }
    assert_limited(app.sign_up(&unique_email("many"), PASSWORD).await).await;
    // The refused sign-up made no account.
    let after = app.db.count(kairos::store::query(users)).await;
    assert_eq!(after, before + 2);

    let mut refresh_token = ann.refresh_token.clone();
    for _ in 0..3 {
        let response = app
            .post_anonymous("/api/refresh", &json!({ "token": refresh_token }))
            .await;
        let body: Value = response.ok_json(StatusCode::OK).await;
        refresh_token = body["refreshToken"].as_str().unwrap().to_owned();
    }
    let refused = app
        .post_anonymous("/api/refresh", &json!({ "token": refresh_token }))
        .await;
    assert_limited(refused).await;

    let feed = app
        .post(
            &format!("/api/user/{}/schedule/feed", ann.id),
            &ann.token,
            &json!({}),
        )
        .await;
    let url: Value = feed.ok_json(StatusCode::OK).await;
    let url = url["url"].as_str().unwrap().to_owned();
    for _ in 0..3 {
        let response = app.client.get(&url).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
    }
    assert_limited(app.client.get(&url).send().await.unwrap()).await;
}

async fn a_forged_forwarded_for_does_not_reset_the_limit(app: TestApp) {
    // No proxy is trusted: whatever the client writes in the header, it is one address.
    for n in 0..3 {
        let response = app
            .request(Method::POST, "/api/users")
            .header("x-forwarded-for", format!("203.0.113.{n}"))
            .json(&json!({ "email": unique_email("forged"), "password": PASSWORD }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::CREATED);
    }
    let response = app
        .request(Method::POST, "/api/users")
        .header("x-forwarded-for", "198.51.100.77")
        .header("x-real-ip", "198.51.100.78")
        .json(&json!({ "email": unique_email("forged"), "password": PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_limited(response).await;
}

async fn behind_a_trusted_proxy_each_client_has_its_own_limit(app: TestApp) {
    let sign_up = |forwarded: &'static str| {
        app.request(Method::POST, "/api/users")
            .header("x-forwarded-for", forwarded)
            .json(&json!({ "email": unique_email("proxied"), "password": PASSWORD }))
            .send()
    };
    // One client, who puts a different made-up address in front each time: the proxy appends
    // the real one, so it is still one client.
    for forged in [
        "1.1.1.1, 198.51.100.1",
        "2.2.2.2, 198.51.100.1",
        "3.3.3.3, 198.51.100.1",
    ] {
        assert_eq!(sign_up(forged).await.unwrap().status(), StatusCode::CREATED);
    }
    assert_limited(sign_up("4.4.4.4, 198.51.100.1").await.unwrap()).await;
    // Another client behind the same proxy has an allowance of its own.
    assert_eq!(
        sign_up("198.51.100.2").await.unwrap().status(),
        StatusCode::CREATED
    );
}

async fn a_client_slow_to_send_headers_is_cut_off(app: TestApp) {
    // Half a request line, then nothing: the server must not wait for ever.
    let (answer, waited) = raw(
        &app,
        b"GET /healthz HTTP/1.1\r\nHost: x\r\n",
        Duration::from_secs(5),
    )
    .await;
    assert!(
        waited < Duration::from_secs(3),
        "the connection stayed open {waited:?}"
    );
    assert!(!answer.contains("200 OK"), "{answer}");
}

async fn a_client_slow_to_send_its_body_gets_a_408(app: TestApp) {
    let request = b"POST /api/users HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
                    Content-Length: 100\r\n\r\n{\"email\":";
    let (answer, waited) = raw(&app, request, Duration::from_secs(5)).await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("application/problem+json"), "{answer}");
    assert!(answer.contains("request_timeout"), "{answer}");
    assert!(waited < Duration::from_secs(3), "{waited:?}");
}

async fn slow_clients_do_not_hold_the_server(app: TestApp) {
    let address = app.address.trim_start_matches("http://").to_owned();
    // Two hundred connections that send half a request and stall.
    let mut stalled = Vec::new();
    for _ in 0..200 {
        let mut stream = TcpStream::connect(&address).await.unwrap();
        stream
            .write_all(b"GET /healthz HTTP/1.1\r\n")
            .await
            .unwrap();
        stalled.push(stream);
    }
    let started = Instant::now();
    let response = app.request(Method::GET, "/healthz").send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(started.elapsed() < Duration::from_secs(1));
    // And the server closes them all once their time is up.
    tokio::time::sleep(Duration::from_secs(1)).await;
    for stream in &mut stalled {
        let mut byte = [0u8; 1];
        let read = tokio::time::timeout(Duration::from_secs(2), stream.read(&mut byte))
            .await
            .expect("closed by the server");
        assert!(matches!(read, Ok(0) | Err(_)), "{read:?}");
    }
}

async fn an_answer_that_takes_too_long_is_a_503(app: TestApp) {
    // Checking a password takes far longer than a millisecond.
    let response = app.log_in(&unique_email("slow"), PASSWORD).await;
    assert_eq!(response.headers()["retry-after"], "1");
    let body = problem(response, StatusCode::SERVICE_UNAVAILABLE).await;
    assert_eq!(body["code"], "timed_out");
    // What answers at once still answers.
    let health = app.request(Method::GET, "/healthz").send().await.unwrap();
    assert_eq!(health.status(), StatusCode::OK);
}

async fn cors_is_off_by_default(app: TestApp) {
    let response = app
        .request(Method::GET, "/api/openapi.json")
        .header("origin", "https://app.example.org")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );
    let preflight = app
        .request(Method::OPTIONS, "/api/login")
        .header("origin", "https://app.example.org")
        .header("access-control-request-method", "POST")
        .send()
        .await
        .unwrap();
    assert!(
        preflight
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );
}

async fn cors_echoes_only_the_listed_origin(app: TestApp) {
    let listed = app
        .request(Method::GET, "/api/openapi.json")
        .header("origin", "https://app.example.org")
        .send()
        .await
        .unwrap();
    let headers = listed.headers();
    assert_eq!(
        headers["access-control-allow-origin"],
        "https://app.example.org"
    );
    assert!(
        headers.get_all("vary").iter().any(|v| v
            .to_str()
            .unwrap()
            .to_ascii_lowercase()
            .contains("origin")),
        "{headers:?}"
    );
    assert!(headers.get("access-control-allow-credentials").is_none());

    let other = app
        .request(Method::GET, "/api/openapi.json")
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert!(other.headers().get("access-control-allow-origin").is_none());

    let preflight = app
        .request(Method::OPTIONS, "/api/login")
        .header("origin", "https://app.example.org")
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "content-type")
        .send()
        .await
        .unwrap();
    assert!(preflight.status().is_success(), "{}", preflight.status());
    let headers = preflight.headers();
    assert_eq!(
        headers["access-control-allow-origin"],
        "https://app.example.org"
    );
    assert!(
        headers["access-control-allow-methods"]
            .to_str()
            .unwrap()
            .contains("POST")
    );
    assert_ne!(headers["access-control-allow-origin"], "*");
}

async fn a_declared_oversized_body_is_refused_before_it_is_sent(app: TestApp) {
    // Ten megabytes announced, none sent: the answer comes without waiting for them.
    let request = b"POST /api/users HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
                    Content-Length: 10485760\r\n\r\n";
    let (answer, waited) = raw(&app, request, Duration::from_secs(5)).await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("payload_too_large"), "{answer}");
    assert!(waited < Duration::from_secs(2), "{waited:?}");
}

async fn an_oversized_chunked_body_is_a_413_on_the_api_and_the_pages(app: TestApp) {
    // 64 KiB in chunks, then one byte more, and never the last chunk: the answer must come on
    // the byte that crosses the limit. (Sending more than the server reads would race its close:
    // a close with unread data is a reset, which can swallow the answer.)
    for (path, content_type) in [
        ("/api/users", "application/json"),
        ("/login", "application/x-www-form-urlencoded"),
    ] {
        let mut request = format!(
            "POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: {content_type}\r\n\
             Transfer-Encoding: chunked\r\n\r\n"
        )
        .into_bytes();
        for _ in 0..8 {
            request.extend_from_slice(b"2000\r\n");
            request.extend(std::iter::repeat_n(b'a', 8 * 1024));
            request.extend_from_slice(b"\r\n");
        }
        request.extend_from_slice(b"1\r\na\r\n");
        let (answer, waited) = raw(&app, &request, Duration::from_secs(5)).await;
        assert!(answer.starts_with("HTTP/1.1 413"), "{path}: {answer}");
        assert!(waited < Duration::from_secs(2), "{path}: {waited:?}");
    }
}

async fn trace_and_undocumented_methods_are_refused(app: TestApp) {
    for path in ["/api/login", "/healthz", "/login"] {
        let response = app
            .request(Method::TRACE, path)
            .header("x-secret", "must not be echoed")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED, "{path}");
        assert!(response.headers().contains_key("allow"), "{path}");
        let body = response.text().await.unwrap();
        assert!(!body.contains("must not be echoed"));
    }
    let response = app
        .request(Method::DELETE, "/api/login")
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["allow"], "POST");
    problem(response, StatusCode::METHOD_NOT_ALLOWED).await;
}
