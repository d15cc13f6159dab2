//! Settings: command-line flags and environment variables (flags win) into typed [`Settings`].

use std::{fmt, path::PathBuf};

use clap::{Args, Parser, Subcommand, ValueEnum};

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
    pub password_hash_concurrency: usize,
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
            password_hash_concurrency: 1,
        }
    }
}

const DEFAULT_ADDR: &str = "127.0.0.1:8080";
const DEFAULT_DATA_DIR: &str = "./data";
const DEFAULT_DB_POOL_SIZE: u32 = 8;
const DEFAULT_LOGINS_PER_IP: u32 = 60;

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
            ..Settings::default()
        }
    }
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
    fn secrets_do_not_print() {
        let settings = Settings {
            jwt_secret: Some(Secret::new("top secret value".into())),
            ..Settings::default()
        };
        assert!(!format!("{settings:?}").contains("top secret"));
    }
}
