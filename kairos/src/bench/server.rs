//! The server under test: this same executable, started as `kairos serve` on fresh data.

use std::{
    io::{BufRead, BufReader},
    process::{Child, Command, Stdio},
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
};

use anyhow::{Context, Result, bail};
use sqlx::{Connection, PgConnection};

use super::fixtures::Admin;

const ADMIN_EMAIL: &str = "bench-admin@bench.invalid";
const ADMIN_PASSWORD: &str = "the benchmark admin's passphrase";

/// The admin every server the benchmark starts is given.
pub fn own_admin() -> Admin {
    Admin {
        email: ADMIN_EMAIL.to_owned(),
        password: ADMIN_PASSWORD.to_owned(),
    }
}

/// Where a server keeps its data: a temporary directory, and for PostgreSQL a database made for
/// the run and dropped after it.
pub struct Data {
    pub dir: tempfile::TempDir,
    pub database_url: Option<String>,
    admin_url: Option<String>,
    name: Option<String>,
}

impl Data {
    /// SQLite in a directory the caller chose (the fault tests put it on a small tmpfs).
    pub fn sqlite_in(dir: tempfile::TempDir) -> Self {
        Self {
            dir,
            database_url: None,
            admin_url: None,
            name: None,
        }
    }

    pub async fn fresh(postgres: Option<&str>) -> Result<Self> {
        let dir = tempfile::tempdir()?;
        let Some(admin_url) = postgres else {
            return Ok(Self {
                dir,
                database_url: None,
                admin_url: None,
                name: None,
            });
        };
        let name = format!("kairos_bench_{}", uuid::Uuid::new_v4().simple());
        let mut conn = PgConnection::connect(admin_url)
            .await
            .context("connecting to PostgreSQL")?;
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut conn)
            .await?;
        let base = admin_url.split('?').next().unwrap_or(admin_url);
        let (server, _) = base
            .rsplit_once('/')
            .context("the PostgreSQL URL names a database")?;
        Ok(Self {
            dir,
            database_url: Some(format!("{server}/{name}")),
            admin_url: Some(admin_url.to_owned()),
            name: Some(name),
        })
    }

    pub async fn drop_database(&self) {
        if let (Some(url), Some(name)) = (&self.admin_url, &self.name)
            && let Ok(mut conn) = PgConnection::connect(url).await
        {
            let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
            )))
            .execute(&mut conn)
            .await;
        }
    }
}

pub struct Server {
    child: Child,
    pub url: String,
    /// Log lines saying "database is locked": SQLite's SQLITE_BUSY reaching the surface.
    locked: Arc<AtomicU64>,
}

impl Server {
    /// Starts the server on the data and waits until it listens.
    pub fn start(data: &Data, pool_size: u32) -> Result<Self> {
        let mut command = Command::new(std::env::current_exe()?);
        command
            .arg("serve")
            .env("KAIROS_ADDR", "127.0.0.1:0")
            .env("KAIROS_DATA_DIR", data.dir.path())
            .env("KAIROS_LOG_FORMAT", "json")
            // One line per request costs the server CPU the benchmark is measuring.
            .env("RUST_LOG", "warn,kairos=info,sqlx=error")
            .env("KAIROS_ADMIN_EMAIL", ADMIN_EMAIL)
            .env("KAIROS_ADMIN_PASSWORD", ADMIN_PASSWORD)
            // Every benchmark client comes from 127.0.0.1.
            .env("KAIROS_LOGINS_PER_IP", "100000000")
            .env("KAIROS_SIGNUPS_PER_IP", "100000000")
            .env("KAIROS_REFRESHES_PER_IP", "100000000")
            .env("KAIROS_FEED_READS_PER_IP", "100000000")
            .env("KAIROS_DB_POOL_SIZE", pool_size.to_string())
            .env_remove("DATABASE_URL")
            .stdout(Stdio::piped());
        if let Some(url) = &data.database_url {
            command.env("DATABASE_URL", url);
        }
        let mut child = command.spawn().context("starting the server")?;
        let stdout = child.stdout.take().context("the server's output")?;
        let mut lines = BufReader::new(stdout).lines();
        let addr = loop {
            let Some(line) = lines.next() else {
                bail!("the server stopped before listening")
            };
            let entry: serde_json::Value = serde_json::from_str(&line?).unwrap_or_default();
            if let Some(addr) = entry["addr"].as_str() {
                break addr.to_owned();
            }
        };
        let locked = Arc::new(AtomicU64::new(0));
        let seen = Arc::clone(&locked);
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                if line.contains("database is locked") {
                    seen.fetch_add(1, Ordering::Relaxed);
                }
            }
        });
        Ok(Self {
            child,
            url: format!("http://{addr}"),
            locked,
        })
    }

    /// The server's resident memory now, from `/proc` (Linux).
    pub fn rss_mb(&self) -> Option<f64> {
        rss_mb_of(self.child.id())
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn locked_errors(&self) -> u64 {
        self.locked.load(Ordering::Relaxed)
    }

    /// Stops it the way an operator would (SIGTERM) and waits.
    pub fn stop(mut self) -> Result<()> {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        self.child.wait()?;
        Ok(())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A process's resident memory now, from `/proc` (Linux).
pub fn rss_mb_of(pid: u32) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let kb: f64 = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()?;
    Some(kb / 1024.0)
}
