//! Kairos: a self-hosted booking server. The binary (`main.rs`) is a thin shell around this
//! library, so the integration tests run the same server it does.
//!
//! The layers, each using only those below it: the adapters ([`http`]: the JSON API and the
//! web pages; [`outbox`]: the worker that mails) call the use cases ([`app`]), which use the
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
