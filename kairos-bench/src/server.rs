//! The server under test: the `kairos` binary, started on fresh data with the benchmark's admin
//! and with the per-address limits lifted (every client comes from 127.0.0.1).

use anyhow::Result;
use kairos_testkit::{Data, ServerProcess, kairos_binary};

use super::fixtures::Admin;

const ADMIN_EMAIL: &str = "bench-admin@bench.invalid";
const ADMIN_PASSWORD: &str = "the benchmark admin's passphrase";

/// The admin every server the benchmark starts is given.
pub fn own_admin() -> Admin {
    Admin {
        email: ADMIN_EMAIL.to_owned(),
        password: ADMIN_PASSWORD.to_owned(),
    }
}

/// Starts the server on the data, sending mail to `smtp_url` (or to its `.eml` folder), and
/// waits until it is ready. With `webhooks_to_loopback`, webhooks may be sent to 127.0.0.0/8
/// (where the benchmark's receiver listens).
pub async fn start(
    data: &Data,
    pool_size: u32,
    smtp_url: Option<&str>,
    webhooks_to_loopback: bool,
) -> Result<ServerProcess> {
    let pool_size = pool_size.to_string();
    let mut env = vec![
        ("KAIROS_LOG_FORMAT", "json"),
        // One line per request costs the server CPU the benchmark is measuring.
        ("RUST_LOG", "warn,kairos=info,sqlx=error"),
        ("KAIROS_ADMIN_EMAIL", ADMIN_EMAIL),
        ("KAIROS_ADMIN_PASSWORD", ADMIN_PASSWORD),
        ("KAIROS_LOGINS_PER_IP", "100000000"),
        ("KAIROS_SIGNUPS_PER_IP", "100000000"),
        ("KAIROS_REFRESHES_PER_IP", "100000000"),
        ("KAIROS_FEED_READS_PER_IP", "100000000"),
        ("KAIROS_DB_POOL_SIZE", &pool_size),
    ];
    if let Some(url) = smtp_url {
        env.push(("KAIROS_SMTP_URL", url));
    }
    if webhooks_to_loopback {
        env.push(("KAIROS_WEBHOOK_ALLOW_NETWORKS", "127.0.0.0/8"));
    }
    let mut server = ServerProcess::new(&kairos_binary()?, data, &env)?;
    server.start()?;
    server.ready(&reqwest_client()).await?;
    Ok(server)
}

/// Log lines saying "database is locked": SQLite's SQLITE_BUSY reaching the surface.
pub fn locked_errors(server: &ServerProcess) -> u64 {
    server
        .log_text()
        .lines()
        .filter(|line| line.contains("database is locked"))
        .count() as u64
}

fn reqwest_client() -> kairos_testkit::reqwest::Client {
    kairos_testkit::http_client()
        .build()
        .expect("an HTTP client")
}
