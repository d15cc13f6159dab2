//! The server as its own process, the way an operator runs it: for what an in-process server
//! cannot show (SIGKILL, its memory, a load generator beside it).

use std::{
    collections::HashMap,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use anyhow::{Context, Result, bail};

use crate::database::Data;

/// The `kairos` binary: `KAIROS_BIN` if set, else the one beside the running executable (cargo
/// puts every binary of the workspace in the same target directory).
pub fn kairos_binary() -> Result<PathBuf> {
    if let Some(path) = std::env::var_os("KAIROS_BIN") {
        return Ok(path.into());
    }
    let here = std::env::current_exe()?;
    let dir = here.parent().context("the executable's directory")?;
    // Tests run from target/<profile>/deps; binaries sit one level up.
    for candidate in [dir.join("kairos"), dir.join("../kairos")] {
        if candidate.is_file() {
            return Ok(candidate);
        }
    }
    bail!(
        "no kairos binary beside {}: run `cargo build` (with the same profile) first, or set \
         KAIROS_BIN",
        here.display()
    )
}

/// A `kairos serve` process on a port of its own, logging to `server.log` in its data dir.
pub struct ServerProcess {
    binary: PathBuf,
    child: Option<Child>,
    pub port: u16,
    log: PathBuf,
    env: HashMap<String, String>,
}

impl ServerProcess {
    /// A server on `data` with these environment variables (on top of the address, the data
    /// and the database, which it sets itself), not started yet.
    pub fn new(binary: &Path, data: &Data, env: &[(&str, &str)]) -> Result<Self> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let mut vars: HashMap<String, String> = env
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        vars.insert("KAIROS_ADDR".into(), format!("127.0.0.1:{port}"));
        vars.insert("KAIROS_DATA_DIR".into(), path_text(data.dir.path()));
        if let Some(url) = data.database_url() {
            vars.insert("DATABASE_URL".into(), url.to_owned());
        }
        Ok(Self {
            binary: binary.to_owned(),
            child: None,
            port,
            log: data.dir.path().join("server.log"),
            env: vars,
        })
    }

    /// Sets one more environment variable for the next start.
    pub fn set_env(&mut self, name: &str, value: &str) {
        self.env.insert(name.to_owned(), value.to_owned());
    }

    /// Starts the process (again, after a kill, on the same port and data).
    pub fn start(&mut self) -> Result<()> {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)?;
        let mut command = Command::new(&self.binary);
        command
            .arg("serve")
            .env_remove("DATABASE_URL")
            .envs(&self.env)
            .stdout(Stdio::from(log.try_clone()?))
            .stderr(Stdio::from(log));
        self.child = Some(command.spawn().context("starting the kairos binary")?);
        Ok(())
    }

    /// The address of `path` on this server (`""` for its base).
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// SIGKILL: no chance to finish anything.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// SIGTERM, the way an operator stops it, and waits for it to finish what it was doing.
    pub fn stop(&mut self) -> Result<()> {
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status();
            child.wait()?;
        }
        Ok(())
    }

    /// Waits until `/readyz` answers 200; how long that took.
    pub async fn ready(&self, client: &reqwest::Client) -> Result<Duration> {
        let started = Instant::now();
        loop {
            if let Ok(r) = client.get(self.url("/readyz")).send().await
                && r.status() == reqwest::StatusCode::OK
            {
                return Ok(started.elapsed());
            }
            if started.elapsed() > Duration::from_secs(60) {
                bail!(
                    "the server did not become ready; see {}",
                    self.log.display()
                );
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// The process's resident memory now, from `/proc` (Linux).
    pub fn rss_mb(&self) -> Option<f64> {
        rss_mb_of(self.pid()?)
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

fn path_text(path: &Path) -> String {
    path.to_string_lossy().into_owned()
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
