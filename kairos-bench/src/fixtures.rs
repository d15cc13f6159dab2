//! What the scenarios need, made through the API as any client would: a provider, services,
//! many sessions, and customers logged in.

use std::sync::Arc;

use anyhow::{Context, Result};
use chrono::{Duration, Utc};
use hyper::Method;
use serde_json::json;
use tokio::sync::Semaphore;

use super::client::Http;

pub const PASSWORD: &str = "a benchmark customer's passphrase";

/// An admin of the server under test: it makes the providers.
#[derive(Debug, Clone)]
pub struct Admin {
    pub email: String,
    pub password: String,
}

#[derive(Debug, Clone)]
pub struct Login {
    pub id: String,
    pub email: String,
    pub token: String,
    pub refresh_token: String,
}

pub async fn login(http: &Http, email: &str, password: &str) -> Result<Login> {
    let body = http
        .expect(
            Method::POST,
            "/api/login",
            None,
            Some(&json!({ "email": email, "password": password })),
            200,
        )
        .await?;
    Ok(Login {
        id: body["id"].as_str().context("an id")?.to_owned(),
        email: email.to_owned(),
        token: body["token"].as_str().context("a token")?.to_owned(),
        refresh_token: body["refreshToken"]
            .as_str()
            .context("a refresh token")?
            .to_owned(),
    })
}

/// A provider (made by the admin) and a published service of `capacity` places a session.
pub async fn provider_with_service(
    http: &Http,
    admin: &Admin,
    tag: &str,
    capacity: usize,
) -> Result<(Login, String)> {
    let admin = login(http, &admin.email, &admin.password).await?;
    let email = format!("provider-{tag}@bench.invalid");
    http.expect(
        Method::POST,
        &format!("/api/user/{}/create", admin.id),
        Some(&admin.token),
        Some(&json!({ "email": email, "password": PASSWORD, "role": "provider" })),
        201,
    )
    .await?;
    let provider = login(http, &email, PASSWORD).await?;
    let service = http
        .expect(
            Method::POST,
            &format!("/api/user/{}/services/create/publish", provider.id),
            Some(&provider.token),
            Some(&json!({ "name": format!("Benchmark class {tag}"), "capacity": capacity, "timeZone": "UTC" })),
            201,
        )
        .await?;
    Ok((
        provider,
        service["id"].as_str().context("a service id")?.to_owned(),
    ))
}

/// At least `count` sessions of the service, made 200 at a time as daily series.
pub async fn sessions(
    http: &Http,
    provider: &Login,
    service_id: &str,
    count: usize,
    capacity: usize,
) -> Result<Vec<String>> {
    let mut ids = Vec::with_capacity(count);
    let mut series = 0;
    while ids.len() < count {
        let start = Utc::now() + Duration::days(2) + Duration::minutes(series * 7);
        let made = http
            .expect(
                Method::POST,
                &format!("/api/user/{}/services/{service_id}/sessions", provider.id),
                Some(&provider.token),
                Some(&json!({
                    "startsAt": start,
                    "capacity": capacity,
                    "repeat": { "weekdays": ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"], "count": 200 }
                })),
                201,
            )
            .await?;
        ids.extend(
            made.as_array()
                .into_iter()
                .flatten()
                .filter_map(|s| s["id"].as_str().map(str::to_owned)),
        );
        series += 1;
    }
    ids.truncate(count);
    Ok(ids)
}

/// `count` customers signed up and logged in, several at once (password hashing is the slow part).
pub async fn customers(http: &Http, tag: &str, count: usize) -> Result<Vec<Login>> {
    let permits = Arc::new(Semaphore::new(8));
    let tasks: Vec<_> = (0..count)
        .map(|i| {
            let (http, permits, email) = (
                http.clone(),
                Arc::clone(&permits),
                format!("customer-{tag}-{i}@bench.invalid"),
            );
            tokio::spawn(async move {
                let _permit = permits.acquire().await?;
                http.expect(
                    Method::POST,
                    "/api/users",
                    None,
                    Some(&json!({ "email": email, "password": PASSWORD })),
                    201,
                )
                .await?;
                login(&http, &email, PASSWORD).await
            })
        })
        .collect();
    let mut made = Vec::with_capacity(count);
    for task in tasks {
        made.push(task.await??);
    }
    Ok(made)
}

/// The booked count and capacity of the service's first upcoming session, as its provider sees
/// them.
pub async fn seats(http: &Http, provider: &Login, service_id: &str) -> Result<(i64, i64)> {
    let details = http
        .expect(
            Method::GET,
            &format!("/api/user/{}/services/{service_id}", provider.id),
            Some(&provider.token),
            None,
            200,
        )
        .await?;
    let session = &details["upcomingSessions"][0];
    Ok((
        session["booked"].as_i64().context("booked")?,
        session["capacity"].as_i64().context("capacity")?,
    ))
}
