//! What every handler can reach. Cloned per request, so everything in it is shared.

use std::sync::Arc;

use crate::{
    auth::{password::PasswordHasher, throttle::RateLimits, tokens::TokenKeys},
    config::Settings,
    metrics::Metrics,
    store::Store,
};

#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub tokens: Arc<TokenKeys>,
    pub passwords: PasswordHasher,
    pub rate_limits: Arc<RateLimits>,
    pub metrics: Arc<Metrics>,
    pub settings: Arc<Settings>,
    /// How clients reach this server, without a trailing slash (for links it hands out).
    pub public_url: Arc<str>,
}
