//! Sign-ups, logins, refreshes and calendar-feed reads per client IP (in memory, per instance).
//! Failed logins per account are the use case's business (in the database, so every instance
//! agrees).

use std::{net::IpAddr, num::NonZeroU32, time::Duration};

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter, clock::Clock};

use super::{client_ip::ClientIp, error::ApiError};
use crate::config::Settings;

/// The per-address limits of the routes an anonymous client can hammer.
pub struct RateLimits {
    pub signup: IpRateLimiter,
    pub login: IpRateLimiter,
    pub refresh: IpRateLimiter,
    pub feed: IpRateLimiter,
}

impl RateLimits {
    pub fn new(settings: &Settings) -> Self {
        Self {
            signup: IpRateLimiter::per_minute(settings.signups_per_ip_per_minute),
            login: IpRateLimiter::per_minute(settings.login_attempts_per_ip_per_minute),
            refresh: IpRateLimiter::per_minute(settings.refreshes_per_ip_per_minute),
            feed: IpRateLimiter::per_minute(settings.feed_reads_per_ip_per_minute),
        }
    }

    pub fn forget_idle(&self) {
        for limiter in [&self.signup, &self.login, &self.refresh, &self.feed] {
            limiter.forget_idle();
        }
    }
}

/// Attempts per minute from one IP address, across all accounts.
pub struct IpRateLimiter {
    limiter: DefaultKeyedRateLimiter<IpAddr>,
}

impl IpRateLimiter {
    pub fn per_minute(attempts: u32) -> Self {
        let attempts = NonZeroU32::new(attempts).unwrap_or(NonZeroU32::MIN);
        Self {
            limiter: RateLimiter::keyed(Quota::per_minute(attempts)),
        }
    }

    /// Counts one attempt; `Err` carries how long until the next would be allowed.
    pub fn check(&self, ip: IpAddr) -> Result<(), Duration> {
        self.limiter.check_key(&ip).map_err(|not_until| {
            not_until.wait_time_from(governor::clock::DefaultClock::default().now())
        })
    }

    /// Counts one request from the client: 429 with `Retry-After` once the allowance is spent.
    pub fn admit(&self, ClientIp(ip): ClientIp) -> Result<(), ApiError> {
        self.check(ip)
            .map_err(|retry_after| ApiError::TooManyRequests { retry_after })
    }

    /// Forgets addresses whose allowance is full again, so the map does not grow for ever.
    pub fn forget_idle(&self) {
        self.limiter.retain_recent();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_each_address_on_its_own() {
        let limiter = IpRateLimiter::per_minute(2);
        let (a, b): (IpAddr, IpAddr) = (
            "10.0.0.1".parse().expect("ip"),
            "10.0.0.2".parse().expect("ip"),
        );
        assert!(limiter.check(a).is_ok());
        assert!(limiter.check(a).is_ok());
        let wait = limiter.check(a).expect_err("third attempt in a minute");
        assert!(wait > Duration::ZERO && wait <= Duration::from_secs(30));
        assert!(limiter.check(b).is_ok());
    }
}
