//! Settings: command-line flags and environment variables (flags win) into typed [`Settings`].

use std::{fmt, path::PathBuf, time::Duration};

use clap::{Args, Parser, Subcommand, ValueEnum};
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
    pub addr: String,
    pub data_dir: PathBuf,
    pub database_url: Option<String>,
    pub jwt_secret: Option<Secret>,
    pub admin_email: Option<String>,
    pub admin_password: Option<Secret>,
    /// How the outside world reaches this server (for links such as the calendar feed).
    pub public_url: Option<String>,
    pub db_pool_size: u32,
    pub login_attempts_per_ip_per_minute: u32,
    pub signups_per_ip_per_minute: u32,
    pub refreshes_per_ip_per_minute: u32,
    pub feed_reads_per_ip_per_minute: u32,
    /// Proxies whose `X-Forwarded-For` is believed; from anyone else it is ignored.
    pub trusted_proxies: Vec<IpNet>,
    /// Origins allowed to call the API from a browser (CORS); empty means CORS is off.
    pub cors_origins: Vec<String>,
    pub password_hash_concurrency: usize,
    /// How long a client may take to send a request's headers.
    pub header_read_timeout: Duration,
    /// How long a client may take to send a request's body (answered 408).
    pub body_read_timeout: Duration,
    /// How long the server may take to answer (answered 503).
    pub request_time_limit: Duration,
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
        }
    }
}

const DEFAULT_ADDR: &str = "127.0.0.1:8080";
const DEFAULT_DATA_DIR: &str = "./data";
const DEFAULT_DB_POOL_SIZE: u32 = 8;
const DEFAULT_LOGINS_PER_IP: u32 = 60;
const DEFAULT_SIGNUPS_PER_IP: u32 = 20;
const DEFAULT_REFRESHES_PER_IP: u32 = 120;
const DEFAULT_FEED_READS_PER_IP: u32 = 60;

#[derive(Debug, Parser)]
#[command(
    name = "kairos",
    version,
    about = "Kairos: a self-hosted booking server. With no subcommand it serves.",
    after_help = "Environment only (never a flag, so it stays out of `ps`):\n  \
        KAIROS_ADMIN_PASSWORD  the password for KAIROS_ADMIN_EMAIL at start-up, \
        or for `kairos admin create` (else it asks)\n  \
        RUST_LOG               log filter, e.g. `info` or `kairos=debug` (default: info)"
)]
pub struct Cli {
    #[command(flatten)]
    pub settings: SettingsArgs,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Args)]
pub struct SettingsArgs {
    /// The address to listen on.
    #[arg(long, env = "KAIROS_ADDR", default_value = DEFAULT_ADDR, global = true)]
    pub addr: String,
    /// Where the SQLite database and the generated token secret live; created if missing.
    #[arg(long, env = "KAIROS_DATA_DIR", default_value = DEFAULT_DATA_DIR, global = true)]
    pub data_dir: PathBuf,
    /// `postgres://user@host/db` to use PostgreSQL instead of the embedded SQLite database.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true, global = true)]
    pub database_url: Option<String>,
    /// The access-token signing secret (at least 32 bytes). When unset, one is generated once
    /// into the data dir. Set the same value on every instance that shares a database.
    #[arg(long, env = "KAIROS_JWT_SECRET", hide_env_values = true, global = true)]
    pub jwt_secret: Option<String>,
    /// At start-up, create this admin (password from KAIROS_ADMIN_PASSWORD) unless an account
    /// already has the address.
    #[arg(long, env = "KAIROS_ADMIN_EMAIL", global = true)]
    pub admin_email: Option<String>,
    /// The URL clients reach this server at, e.g. `https://book.example.org` (default:
    /// `http://<addr>`). Calendar-feed links are built from it.
    #[arg(long, env = "KAIROS_PUBLIC_URL", global = true)]
    pub public_url: Option<String>,
    /// Database connections: the PostgreSQL pool, or SQLite's readers (it has one writer).
    #[arg(long, env = "KAIROS_DB_POOL_SIZE", default_value_t = DEFAULT_DB_POOL_SIZE, global = true)]
    pub db_pool_size: u32,
    /// Login attempts one IP address may make per minute, whatever the accounts.
    #[arg(long, env = "KAIROS_LOGINS_PER_IP", default_value_t = DEFAULT_LOGINS_PER_IP, global = true)]
    pub logins_per_ip: u32,
    /// Sign-ups one IP address may make per minute.
    #[arg(long, env = "KAIROS_SIGNUPS_PER_IP", default_value_t = DEFAULT_SIGNUPS_PER_IP, global = true)]
    pub signups_per_ip: u32,
    /// Token refreshes one IP address may make per minute.
    #[arg(long, env = "KAIROS_REFRESHES_PER_IP", default_value_t = DEFAULT_REFRESHES_PER_IP, global = true)]
    pub refreshes_per_ip: u32,
    /// Calendar-feed reads one IP address may make per minute.
    #[arg(long, env = "KAIROS_FEED_READS_PER_IP", default_value_t = DEFAULT_FEED_READS_PER_IP, global = true)]
    pub feed_reads_per_ip: u32,
    /// Reverse proxies (addresses or networks, comma-separated) whose `X-Forwarded-For` names
    /// the client. From anyone else the header is ignored, so it cannot dodge the rate limits.
    #[arg(long, env = "KAIROS_TRUSTED_PROXIES", value_delimiter = ',', value_parser = parse_network, global = true)]
    pub trusted_proxies: Vec<IpNet>,
    /// Origins (e.g. `https://app.example.org`, comma-separated) whose pages may call the API
    /// from a browser. Unset, CORS is off.
    #[arg(long, env = "KAIROS_CORS_ORIGINS", value_delimiter = ',', value_parser = parse_origin, global = true)]
    pub cors_origins: Vec<String>,
    /// Log lines as text or JSON.
    #[arg(long, env = "KAIROS_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text, global = true)]
    pub log_format: LogFormat,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the API and the web pages (what `kairos` does with no subcommand).
    Serve,
    /// Administrative tasks on the database.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// Benchmark: start this server on fresh data and measure it under load.
    Bench(crate::bench::BenchArgs),
}

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Create an admin account. The password comes from KAIROS_ADMIN_PASSWORD, or a prompt.
    Create {
        #[arg(long)]
        email: String,
    },
}

impl SettingsArgs {
    /// The settings these arguments give, with the admin password read from the environment.
    pub fn into_settings(self) -> Settings {
        Settings {
            addr: self.addr,
            data_dir: self.data_dir,
            database_url: self.database_url.filter(|url| !url.is_empty()),
            jwt_secret: self.jwt_secret.filter(|s| !s.is_empty()).map(Secret::new),
            admin_email: self.admin_email.filter(|e| !e.is_empty()),
            admin_password: std::env::var("KAIROS_ADMIN_PASSWORD")
                .ok()
                .filter(|p| !p.is_empty())
                .map(Secret::new),
            public_url: self
                .public_url
                .map(|url| url.trim_end_matches('/').to_owned()),
            db_pool_size: self.db_pool_size,
            login_attempts_per_ip_per_minute: self.logins_per_ip,
            signups_per_ip_per_minute: self.signups_per_ip,
            refreshes_per_ip_per_minute: self.refreshes_per_ip,
            feed_reads_per_ip_per_minute: self.feed_reads_per_ip,
            trusted_proxies: self.trusted_proxies,
            cors_origins: self.cors_origins,
            ..Settings::default()
        }
    }
}

/// An address (`10.0.0.5`) or a network (`10.0.0.0/8`).
fn parse_network(value: &str) -> Result<IpNet, String> {
    let value = value.trim();
    value
        .parse::<IpNet>()
        .or_else(|_| value.parse::<std::net::IpAddr>().map(IpNet::from))
        .map_err(|_| format!("`{value}` is not an IP address or network"))
}

/// `scheme://host[:port]`, nothing more: a browser's `Origin` is compared with it exactly.
fn parse_origin(value: &str) -> Result<String, String> {
    let value = value.trim().trim_end_matches('/');
    let rest = value
        .strip_prefix("https://")
        .or_else(|| value.strip_prefix("http://"))
        .ok_or_else(|| format!("`{value}` is not an origin like https://app.example.org"))?;
    if rest.is_empty() || rest.contains(['/', '*', '?', '#', ' ', '@']) {
        return Err(format!(
            "`{value}` is not an origin like https://app.example.org"
        ));
    }
    Ok(value.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_and_defaults_parse() {
        let cli = Cli::try_parse_from(["kairos", "--addr", "0.0.0.0:9000"]).expect("parse");
        assert!(cli.command.is_none());
        let settings = cli.settings.into_settings();
        assert_eq!(settings.addr, "0.0.0.0:9000");
        assert_eq!(settings.data_dir, PathBuf::from("./data"));
        let cli = Cli::try_parse_from(["kairos", "admin", "create", "--email", "a@b.co"])
            .expect("admin create");
        assert!(matches!(
            cli.command,
            Some(Command::Admin {
                command: AdminCommand::Create { .. }
            })
        ));
    }

    #[test]
    fn proxies_and_origins_are_checked_when_parsed() {
        let cli = Cli::try_parse_from([
            "kairos",
            "--trusted-proxies",
            "10.0.0.0/8, 192.168.1.7",
            "--cors-origins",
            "https://App.example.org/,http://localhost:3000",
        ])
        .expect("parse");
        let settings = cli.settings.into_settings();
        assert_eq!(
            settings.trusted_proxies,
            vec![
                "10.0.0.0/8".parse::<IpNet>().expect("net"),
                "192.168.1.7/32".parse::<IpNet>().expect("net")
            ]
        );
        assert_eq!(
            settings.cors_origins,
            ["https://app.example.org", "http://localhost:3000"]
        );
        for bad in [
            ["--trusted-proxies", "example.org"],
            ["--cors-origins", "*"],
            ["--cors-origins", "https://a.org/path"],
            ["--cors-origins", "app.example.org"],
        ] {
            assert!(
                Cli::try_parse_from(["kairos", bad[0], bad[1]]).is_err(),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn secrets_do_not_print() {
        let settings = Settings {
            jwt_secret: Some(Secret::new("top secret value".into())),
            ..Settings::default()
        };
        assert!(!format!("{settings:?}").contains("top secret"));
    }
}
