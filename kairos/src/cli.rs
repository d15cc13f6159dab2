//! The command line: `kairos` (or `kairos serve`) serves; `kairos admin create` and `kairos
//! backup` work on the database. Each takes and shows only its own flags; flags win over
//! environment variables.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use ipnet::IpNet;

use crate::config::{
    DEFAULT_ADDR, DEFAULT_DATA_DIR, DEFAULT_DB_POOL_SIZE, DEFAULT_FEED_READS_PER_IP,
    DEFAULT_LOGINS_PER_IP, DEFAULT_MAIL_FROM, DEFAULT_REFRESHES_PER_IP, DEFAULT_SIGNUPS_PER_IP,
    LogFormat, Secret, Settings,
};

#[derive(Debug, Parser)]
#[command(
    name = "kairos",
    version,
    about = "Kairos: a self-hosted booking server. With no subcommand it serves.",
    args_conflicts_with_subcommands = true,
    after_help = "Environment only (never a flag, so it stays out of `ps`):\n  \
        KAIROS_ADMIN_PASSWORD  the password for KAIROS_ADMIN_EMAIL at start-up, \
        or for `kairos admin create` (else it asks)\n  \
        RUST_LOG               log filter, e.g. `info` or `kairos=debug` (default: info)"
)]
pub struct Cli {
    #[command(flatten)]
    pub serve: ServeArgs,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the API and the web pages (what `kairos` does with no subcommand).
    Serve(Box<ServeArgs>),
    /// Administrative tasks on the database.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// Copy the SQLite database to a new file while the server runs (PostgreSQL: use pg_dump).
    Backup(BackupArgs),
}

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Create an admin account. The password comes from KAIROS_ADMIN_PASSWORD, or a prompt.
    Create(AdminCreateArgs),
}

/// Where the data is: what every subcommand needs.
#[derive(Debug, Clone, Args)]
pub struct DatabaseArgs {
    /// Where the SQLite database and the generated token secret live; created if missing.
    #[arg(long, env = "KAIROS_DATA_DIR", default_value = DEFAULT_DATA_DIR)]
    pub data_dir: PathBuf,
    /// `postgres://user@host/db` to use PostgreSQL instead of the embedded SQLite database.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
}

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// The address to listen on.
    #[arg(long, env = "KAIROS_ADDR", default_value = DEFAULT_ADDR)]
    pub addr: String,
    #[command(flatten)]
    pub database: DatabaseArgs,
    /// The access-token signing secret (at least 32 bytes). When unset, one is generated once
    /// into the data dir. Set the same value on every instance that shares a database.
    #[arg(long, env = "KAIROS_JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<String>,
    /// At start-up, create this admin (password from KAIROS_ADMIN_PASSWORD) unless an account
    /// already has the address.
    #[arg(long, env = "KAIROS_ADMIN_EMAIL")]
    pub admin_email: Option<String>,
    /// The URL clients reach this server at, e.g. `https://book.example.org` (default:
    /// `http://<addr>`). Calendar-feed links are built from it.
    #[arg(long, env = "KAIROS_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Database connections: the PostgreSQL pool, or SQLite's readers (it has one writer).
    #[arg(long, env = "KAIROS_DB_POOL_SIZE", default_value_t = DEFAULT_DB_POOL_SIZE)]
    pub db_pool_size: u32,
    /// Login attempts one IP address may make per minute, whatever the accounts.
    #[arg(long, env = "KAIROS_LOGINS_PER_IP", default_value_t = DEFAULT_LOGINS_PER_IP)]
    pub logins_per_ip: u32,
    /// Sign-ups one IP address may make per minute.
    #[arg(long, env = "KAIROS_SIGNUPS_PER_IP", default_value_t = DEFAULT_SIGNUPS_PER_IP)]
    pub signups_per_ip: u32,
    /// Token refreshes one IP address may make per minute.
    #[arg(long, env = "KAIROS_REFRESHES_PER_IP", default_value_t = DEFAULT_REFRESHES_PER_IP)]
    pub refreshes_per_ip: u32,
    /// Calendar-feed reads one IP address may make per minute.
    #[arg(long, env = "KAIROS_FEED_READS_PER_IP", default_value_t = DEFAULT_FEED_READS_PER_IP)]
    pub feed_reads_per_ip: u32,
    /// Reverse proxies (addresses or networks, comma-separated) whose `X-Forwarded-For` names
    /// the client. From anyone else the header is ignored, so it cannot dodge the rate limits.
    #[arg(long, env = "KAIROS_TRUSTED_PROXIES", value_delimiter = ',', value_parser = parse_network)]
    pub trusted_proxies: Vec<IpNet>,
    /// Origins (e.g. `https://app.example.org`, comma-separated) whose pages may call the API
    /// from a browser. Unset, CORS is off.
    #[arg(long, env = "KAIROS_CORS_ORIGINS", value_delimiter = ',', value_parser = parse_origin)]
    pub cors_origins: Vec<String>,
    /// Log lines as text or JSON.
    #[arg(long, env = "KAIROS_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    /// The SMTP server mail goes through, in lettre's URL form: `smtps://user:pass@host` (TLS),
    /// `smtp://user:pass@host:587?tls=required` (STARTTLS) or `smtp://host:25` (a local relay).
    /// Unset, every mail is written as an `.eml` file under `<data-dir>/mail/`.
    #[arg(long, env = "KAIROS_SMTP_URL", hide_env_values = true)]
    pub smtp_url: Option<String>,
    /// The address mail comes from, e.g. `Yoga Studio <bookings@example.org>`.
    #[arg(long, env = "KAIROS_MAIL_FROM", default_value = DEFAULT_MAIL_FROM)]
    pub mail_from: String,
    /// Internal networks (comma-separated, e.g. `10.20.0.0/16`) webhooks may nevertheless be
    /// sent into. By default none: loopback, private, link-local and the like are refused.
    #[arg(long, env = "KAIROS_WEBHOOK_ALLOW_NETWORKS", value_delimiter = ',', value_parser = parse_network)]
    pub webhook_allow_networks: Vec<IpNet>,
}

#[derive(Debug, Clone, Args)]
pub struct AdminCreateArgs {
    /// The new admin's e-mail address.
    #[arg(long)]
    pub email: String,
    #[command(flatten)]
    pub database: DatabaseArgs,
}

#[derive(Debug, Clone, Args)]
pub struct BackupArgs {
    /// The file to write (it must not exist yet).
    #[arg(long)]
    pub to: PathBuf,
    #[command(flatten)]
    pub database: DatabaseArgs,
}

impl ServeArgs {
    /// The settings these arguments give, with the admin password read from the environment.
    pub fn into_settings(self) -> Settings {
        Settings {
            addr: self.addr,
            data_dir: self.database.data_dir,
            database_url: self.database.database_url.filter(|url| !url.is_empty()),
            jwt_secret: self.jwt_secret.filter(|s| !s.is_empty()).map(Secret::new),
            admin_email: self.admin_email.filter(|e| !e.is_empty()),
            admin_password: admin_password(),
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
            smtp_url: self.smtp_url.filter(|url| !url.is_empty()).map(Secret::new),
            mail_from: self.mail_from,
            webhook_allow_networks: self.webhook_allow_networks,
            ..Settings::default()
        }
    }
}

impl DatabaseArgs {
    /// The database URL given, if any (an empty one is none).
    pub fn url(&self) -> Option<&str> {
        self.database_url.as_deref().filter(|url| !url.is_empty())
    }
}

/// `KAIROS_ADMIN_PASSWORD`: read from the environment only, so it is never in `ps`.
pub fn admin_password() -> Option<Secret> {
    std::env::var("KAIROS_ADMIN_PASSWORD")
        .ok()
        .filter(|p| !p.is_empty())
        .map(Secret::new)
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
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn flags_and_defaults_parse() {
        let cli = Cli::try_parse_from(["kairos", "--addr", "0.0.0.0:9000"]).expect("parse");
        assert!(cli.command.is_none());
        let settings = cli.serve.into_settings();
        assert_eq!(settings.addr, "0.0.0.0:9000");
        assert_eq!(settings.data_dir, PathBuf::from("./data"));
        let cli = Cli::try_parse_from(["kairos", "admin", "create", "--email", "a@b.co"])
            .expect("admin create");
        assert!(matches!(
            cli.command,
            Some(Command::Admin {
                command: AdminCommand::Create(_)
            })
        ));
        let cli = Cli::try_parse_from(["kairos", "backup", "--to", "/tmp/k.db"]).expect("backup");
        assert!(matches!(cli.command, Some(Command::Backup(_))));
    }

    #[test]
    fn each_subcommand_takes_only_its_own_flags() {
        for args in [
            &[
                "kairos",
                "admin",
                "create",
                "--email",
                "a@b.co",
                "--logins-per-ip",
                "5",
            ][..],
            &[
                "kairos",
                "backup",
                "--to",
                "x.db",
                "--cors-origins",
                "https://a.org",
            ],
            &["kairos", "--addr", "127.0.0.1:1", "backup", "--to", "x.db"],
        ] {
            assert!(Cli::try_parse_from(args).is_err(), "{args:?}");
        }
        let mut command = Cli::command();
        let mut help = |path: &[&str]| {
            let mut sub = &mut command;
            for name in path {
                sub = sub.find_subcommand_mut(name).expect("subcommand");
            }
            sub.render_long_help().to_string()
        };
        let create = help(&["admin", "create"]);
        assert!(create.contains("--email") && create.contains("--data-dir"));
        assert!(!create.contains("--logins-per-ip") && !create.contains("--cors-origins"));
        let backup = help(&["backup"]);
        assert!(backup.contains("--to") && !backup.contains("--addr"));
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
        let settings = cli.serve.into_settings();
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
}
