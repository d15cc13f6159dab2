//! `hours`: how long working hours take to make, keep and remove their sessions: a rule of
//! 9:00 to 17:00 in 30-minute slots, Monday to Friday, for 365 days (about 4,000 sessions),
//! put once, put again unchanged, and removed, each timed as the client sees it.

use std::time::Instant;

use anyhow::{Context, Result};
use hyper::Method;
use kairos_testkit::Data;
use serde_json::json;

use super::{BenchArgs, client::Http, fixtures, server};

/// One line per step: what it did and how long it took, in seconds.
pub async fn hours(args: &BenchArgs) -> Result<Vec<(String, u64, f64)>> {
    let data = Data::fresh(args.postgres().as_deref()).await?;
    let mut server = server::start(&data, args.db_pool_size, None, false).await?;
    let http = Http::new(&server.url(""));
    let tag = uuid::Uuid::now_v7().simple().to_string();
    let (provider, service_id) =
        fixtures::provider_with_service(&http, &server::own_admin(), &tag, 1).await?;
    let path = format!(
        "/api/user/{}/services/{service_id}/availability",
        provider.id
    );
    let rule = json!({
        "weekly": [{
            "weekdays": ["monday", "tuesday", "wednesday", "thursday", "friday"],
            "from": "09:00", "to": "17:00",
        }],
        "slotMinutes": 30,
        "horizonDays": 365,
    });
    let mut steps = Vec::new();
    for (step, method, body, field) in [
        ("put", Method::PUT, Some(&rule), "sessionsCreated"),
        (
            "put again, unchanged",
            Method::PUT,
            Some(&rule),
            "sessionsCreated",
        ),
        ("remove", Method::DELETE, None, "sessionsRemoved"),
    ] {
        let started = Instant::now();
        let answer = http
            .expect(method, &path, Some(&provider.token), body, 200)
            .await?;
        let seconds = started.elapsed().as_secs_f64();
        let sessions = answer[field].as_u64().context("a count of sessions")?;
        println!("hours: {step}: {sessions} sessions ({field}) in {seconds:.3} s");
        steps.push((step.to_owned(), sessions, seconds));
    }
    server.stop()?;
    drop(data);
    Ok(steps)
}
