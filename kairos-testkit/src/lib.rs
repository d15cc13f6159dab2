//! Kairos's test kit: the real server (in this process on port 0, or as its own process) on
//! fresh data (a temporary SQLite directory, or a PostgreSQL database dropped afterwards), a
//! client per kind of caller, and the steps tests start from. Used by the integration tests and
//! the benchmark.

#![forbid(unsafe_code)]

pub mod client;
pub mod database;
pub mod mail;
pub mod process;
pub mod spawn;
pub mod story;
pub mod webhooks;

pub use client::{Answer, Client, Login, id_of, problem, session_path, unique_email};
pub use database::{Backend, Data, FreshDatabase, TestDb};
pub use mail::{Mail, MailServer};
pub use process::{ServerProcess, kairos_binary, rss_mb_of};
pub use spawn::{ADMIN_EMAIL, ADMIN_PASSWORD, PASSWORD, TestApp, spawn_app, spawn_app_with};
pub use story::{Class, in_hours};
pub use webhooks::{Delivered, Reply, WebhookReceiver};
// The client the kit talks with, for callers that need one of their own.
pub use reqwest;

/// A builder for an HTTP client, with the process's TLS crypto chosen first (see
/// [`kairos::install_tls_provider`]), letting go of idle connections before a server with
/// the default settings would close them (see [`kairos::config::Settings::client_idle_timeout`]).
pub fn http_client() -> reqwest::ClientBuilder {
    kairos::install_tls_provider();
    reqwest::Client::builder()
        .pool_idle_timeout(kairos::config::Settings::default().client_idle_timeout())
}
