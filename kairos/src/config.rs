//! Settings: what the server needs to know to run, typed. The command line ([`crate::cli`])
//! fills them from flags and environment variables.

use std::{fmt, path::PathBuf, time::Duration};

use clap::ValueEnum;
use ipnet::IpNet;

/// A value that must not reach a log: its `Debug` is redacted.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: String) -> Self {
        Self(value)
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// Everything the server needs to know to run.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Where to listen (`127.0.0.1:0` in tests: any free port).
    pub addr: String,
    /// The SQLite file and the generated secret live here.
    pub data_dir: PathBuf,
    /// PostgreSQL instead of SQLite, when set.
    pub database_url: Option<String>,
    /// The token signing secret; generated into `data_dir` when unset.
    pub jwt_secret: Option<Secret>,
    /// An admin to create at start-up, with `admin_password`.
    pub admin_email: Option<String>,
    pub admin_password: Option<Secret>,
    /// How the outside world reaches this server (for links such as the calendar feed).
    pub public_url: Option<String>,
    /// PostgreSQL connections, or SQLite's readers.
    pub db_pool_size: u32,
    /// Per client address and minute: logins, sign-ups, refreshes, feed reads.
    pub login_attempts_per_ip_per_minute: u32,
    pub signups_per_ip_per_minute: u32,
    pub refreshes_per_ip_per_minute: u32,
    pub feed_reads_per_ip_per_minute: u32,
    /// Proxies whose `X-Forwarded-For` is believed; from anyone else it is ignored.
    pub trusted_proxies: Vec<IpNet>,
    /// Origins allowed to call the API from a browser (CORS); empty means CORS is off.
    pub cors_origins: Vec<String>,
    /// Passwords hashed at once (each takes 19 MiB and a core for ~20 ms).
    pub password_hash_concurrency: usize,
    /// How long a client may take to send a request's headers.
    pub header_read_timeout: Duration,
    /// How long a client may take to send a request's body (answered 408).
    pub body_read_timeout: Duration,
    /// How long the server may take to answer (answered 503).
    pub request_time_limit: Duration,
    /// Where mail goes: an SMTP server in lettre's URL form (it may hold a password); unset, every
    /// mail is written as an `.eml` file under `<data_dir>/mail/`.
    pub smtp_url: Option<Secret>,
    /// The sending address, `Name <address>` or a bare address.
    pub mail_from: String,
    /// Networks webhooks may be sent into although they are internal (loopback, private, ...).
    pub webhook_allow_networks: Vec<IpNet>,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            addr: DEFAULT_ADDR.to_owned(),
            data_dir: PathBuf::from(DEFAULT_DATA_DIR),
            database_url: None,
            jwt_secret: None,
            admin_email: None,
            admin_password: None,
            public_url: None,
            db_pool_size: DEFAULT_DB_POOL_SIZE,
            login_attempts_per_ip_per_minute: DEFAULT_LOGINS_PER_IP,
            signups_per_ip_per_minute: DEFAULT_SIGNUPS_PER_IP,
            refreshes_per_ip_per_minute: DEFAULT_REFRESHES_PER_IP,
            feed_reads_per_ip_per_minute: DEFAULT_FEED_READS_PER_IP,
            trusted_proxies: Vec::new(),
            cors_origins: Vec::new(),
            password_hash_concurrency: 1,
            header_read_timeout: Duration::from_secs(10),
            body_read_timeout: Duration::from_secs(10),
            request_time_limit: Duration::from_secs(30),
            smtp_url: None,
            mail_from: DEFAULT_MAIL_FROM.to_owned(),
            webhook_allow_networks: Vec::new(),
        }
    }
}

impl Settings {
    /// How long a client should keep an idle connection to this server before letting it go.
    /// The server closes a kept-alive connection that has sent nothing for the header-read
    /// timeout, and a request sent on it at that instant is lost (a `POST` is not retried), so
    /// clients (the test kit's, the benchmark's) stay well inside it.
    pub fn client_idle_timeout(&self) -> Duration {
        self.header_read_timeout / 2
    }
}

pub const DEFAULT_ADDR: &str = "127.0.0.1:8080";
pub const DEFAULT_DATA_DIR: &str = "./data";
pub const DEFAULT_DB_POOL_SIZE: u32 = 8;
pub const DEFAULT_LOGINS_PER_IP: u32 = 60;
pub const DEFAULT_SIGNUPS_PER_IP: u32 = 20;
pub const DEFAULT_REFRESHES_PER_IP: u32 = 120;
pub const DEFAULT_FEED_READS_PER_IP: u32 = 60;
pub const DEFAULT_MAIL_FROM: &str = "Kairos <kairos@localhost>";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_do_not_print() {
        let settings = Settings {
            jwt_secret: Some(Secret::new("top secret value".into())),
            ..Settings::default()
        };
        assert!(!format!("{settings:?}").contains("top secret"));
    }
}
