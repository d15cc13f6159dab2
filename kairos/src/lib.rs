//! Kairos: a self-hosted booking server. The binary (`main.rs`) is a thin shell around this
//! library, so the integration tests run the same server it does.

#![forbid(unsafe_code)]

pub mod admin_cli;
pub mod api;
pub mod auth;
pub mod bench;
pub mod config;
pub mod domain;
pub mod error;
pub mod maintenance;
pub mod metrics;
pub mod middleware;
pub mod ops;
pub mod serve;
pub mod startup;
pub mod state;
pub mod store;
pub mod telemetry;
pub mod web;
