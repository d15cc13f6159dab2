//! Kairos: a self-hosted booking server. The binary (`main.rs`) is a thin shell around this
//! library, so the integration tests run the same server it does.
//!
//! The layers, each using only those below it: the adapters ([`http`]: the JSON API and the
//! web pages; [`outbox`]: the worker that mails and posts webhooks) call the use cases ([`app`]), which use the
//! rules ([`domain`]) and the database ([`store`], the only place with SQL).

#![forbid(unsafe_code)]

pub mod app;
pub mod cli;
pub mod commands;
pub mod config;
pub mod domain;
pub mod http;
pub mod outbox;
pub mod secret;
pub mod startup;
pub mod store;
pub mod telemetry;

/// Makes ring rustls's crypto for this process. Every HTTP client in the process (the webhook
/// client, and a test's or the benchmark's) shares reqwest's build, which leaves the choice
/// to us; call before building one. Calling again changes nothing.
pub fn install_tls_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}
