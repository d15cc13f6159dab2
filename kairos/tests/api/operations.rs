//! Running it: health, readiness, metrics, restarts (the OpenAPI document is in `openapi_document`).

use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::helpers::{Answer, TestApp, on_both_backends};

on_both_backends!(
    health_and_readiness,
    metrics_count_requests_by_route_and_show_the_pool,
    tokens_survive_a_restart_on_the_same_data,
);

async fn health_and_readiness(app: TestApp) {
    let health = app.request(Method::GET, "/healthz").send().await.unwrap();
    assert_eq!(health.status(), StatusCode::OK);
    let ready = app.request(Method::GET, "/readyz").send().await.unwrap();
    let body: Value = ready.ok_json(StatusCode::OK).await;
    let expected = match app.backend {
        crate::helpers::Backend::Sqlite => "sqlite",
        crate::helpers::Backend::Postgres => "postgres",
    };
    assert_eq!(body["database"], expected);
}

async fn metrics_count_requests_by_route_and_show_the_pool(app: TestApp) {
    let ann = app.customer().await;
    app.get(&format!("/api/user/{}", ann.id), &ann.token).await;
    let text = app.metrics().await;
    assert!(
        text.contains(
            r#"kairos_http_requests_total{method="GET",route="/api/user/{userID}",status="200"} 1"#
        ),
        "{text}"
    );
    assert!(
        text.contains(
            r#"kairos_http_requests_total{method="POST",route="/api/users",status="201"}"#
        )
    );
    assert!(text.contains("kairos_http_request_duration_seconds_bucket"));
    assert!(text.contains("kairos_db_pool_in_use"));
    assert!(
        !text.contains(&ann.id.to_string()),
        "ids never become labels"
    );
}

async fn tokens_survive_a_restart_on_the_same_data(app: TestApp) {
    let ann = app.customer().await;
    let app = app.restart().await;
    let home = app.get(&format!("/api/user/{}", ann.id), &ann.token).await;
    assert_eq!(home.status(), StatusCode::OK);
    let refreshed = app
        .request(Method::POST, "/api/refresh")
        .bearer_auth(&ann.refresh_token)
        .send()
        .await
        .unwrap();
    assert_eq!(refreshed.status(), StatusCode::OK);
}

/// The real binary: SIGTERM stops it taking connections, lets the requests in flight finish,
/// and it exits cleanly.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_lets_requests_in_flight_finish() {
    use std::io::BufRead;

    let dir = tempfile::tempdir().unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_kairos"))
        .args([
            "--addr",
            "127.0.0.1:0",
            "--log-format",
            "json",
            "--data-dir",
        ])
        .arg(dir.path())
        .env_remove("DATABASE_URL")
        .env_remove("KAIROS_ADMIN_EMAIL")
        .env("RUST_LOG", "info")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("start kairos");
    let stdout = child.stdout.take().unwrap();
    let mut lines = std::io::BufReader::new(stdout).lines();
    let addr = loop {
        let line = lines.next().expect("kairos logs that it listens").unwrap();
        let entry: Value = serde_json::from_str(&line).unwrap_or_default();
        if let Some(addr) = entry["addr"].as_str() {
            break addr.to_owned();
        }
    };
    // Drain the rest of the log so the server never blocks writing it.
    std::thread::spawn(move || lines.for_each(drop));
    let client = crate::helpers::http_client().build().unwrap();
    // Sign-ups hash a password each, one at a time: the later ones are still in flight when the
    // first answers.
    let signups: Vec<_> = (0..6)
        .map(|i| {
            let (client, addr) = (client.clone(), addr.clone());
            tokio::spawn(async move {
                client
                    .post(format!("http://{addr}/api/users"))
                    .json(&serde_json::json!({ "email": format!("drain{i}@example.org"), "password": "a perfectly fine passphrase" }))
                    .send()
                    .await
                    .map(|r| r.status())
            })
        })
        .collect();
    let mut signups = signups.into_iter();
    let first = signups
        .next()
        .unwrap()
        .await
        .unwrap()
        .expect("the first answers");
    assert_eq!(first, StatusCode::CREATED);
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    for signup in signups {
        assert_eq!(
            signup.await.unwrap().expect("answered, not dropped"),
            StatusCode::CREATED
        );
    }
    let status = tokio::task::spawn_blocking(move || child.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success(), "{status}");
    assert!(
        client
            .get(format!("http://{addr}/healthz"))
            .send()
            .await
            .is_err(),
        "no longer listening"
    );
}
