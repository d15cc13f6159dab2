//! Failed logins throttle an account for a window; the per-address limit holds across
//! accounts.

use kairos::store::query;
use reqwest::StatusCode;

use crate::helpers::{
    Backend, PASSWORD, TestApp, on_both_backends, problem, spawn_app_with, unique_email,
};

on_both_backends!(
    five_failed_logins_throttle_the_account_until_the_window_passes,
    a_successful_login_resets_the_failure_count,
);

async fn five_failed_logins_throttle_the_account_until_the_window_passes(app: TestApp) {
    let ann = app.customer().await;
    let bob = app.customer().await;
    for attempt in 1..=5 {
        let response = app.log_in(&ann.email, "wrong passphrase here").await;
        assert_eq!(
            response.status(),
            StatusCode::UNAUTHORIZED,
            "attempt {attempt}"
        );
    }
    // Even the right password waits now.
    let response = app.log_in(&ann.email, PASSWORD).await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry_after: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=900).contains(&retry_after), "{retry_after}");
    problem(response, StatusCode::TOO_MANY_REQUESTS).await;
    // Other accounts are unaffected.
    app.login(&bob.email, PASSWORD).await;
    // Once the window has passed, the right password works again.
    app.advance(chrono::Duration::minutes(16));
    app.login(&ann.email, PASSWORD).await;
}

async fn a_successful_login_resets_the_failure_count(app: TestApp) {
    let ann = app.customer().await;
    for _ in 0..4 {
        app.log_in(&ann.email, "wrong passphrase here").await;
    }
    app.login(&ann.email, PASSWORD).await;
    for attempt in 1..=4 {
        let response = app.log_in(&ann.email, "wrong passphrase here").await;
        assert_eq!(
            response.status(),
            StatusCode::UNAUTHORIZED,
            "attempt {attempt}"
        );
    }
    app.login(&ann.email, PASSWORD).await;
}

/// Runs outside the macro: the per-IP limit needs a server with a small one.
async fn the_per_ip_limit_applies_across_accounts(backend: Backend) {
    let Some(app) = spawn_app_with(backend, |s| s.login_attempts_per_ip_per_minute = 3).await
    else {
        return;
    };
    let emails = [
        unique_email("a"),
        unique_email("b"),
        unique_email("c"),
        unique_email("d"),
    ];
    for email in &emails[..3] {
        assert_eq!(
            app.log_in(email, PASSWORD).await.status(),
            StatusCode::UNAUTHORIZED
        );
    }
    let response = app.log_in(&emails[3], PASSWORD).await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry_after: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    // Refused before anything was looked at: no failure was counted for the fourth address.
    let counted = app
        .db
        .count(
            query("SELECT COUNT(*) FROM login_failures WHERE email_key = $1")
                .bind(emails[3].clone()),
        )
        .await;
    assert_eq!(counted, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_per_ip_limit_applies_across_accounts_sqlite() {
    the_per_ip_limit_applies_across_accounts(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_per_ip_limit_applies_across_accounts_postgres() {
    the_per_ip_limit_applies_across_accounts(Backend::Postgres).await;
}
