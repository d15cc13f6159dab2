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

    /// CPU time the process has used so far (see [`cpu_seconds_of`]).
    pub fn cpu_seconds(&self, thread: Option<&str>) -> Option<f64> {
        cpu_seconds_of(self.pid()?, thread)
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

/// CPU time (user and system) a process has used, in seconds, from `/proc` (Linux); with
/// `thread`, only that of its threads with that name (`sqlite-writer`, say; Linux keeps 15
/// bytes of a thread's name). Throughput says how fast a phase went; the CPU per step says
/// which part of the server did the work, as the serial writer on SQLite.
pub fn cpu_seconds_of(pid: u32, thread: Option<&str>) -> Option<f64> {
    let Some(name) = thread else {
        return stat_cpu_seconds(&format!("/proc/{pid}/stat"));
    };
    let mut seconds = None;
    for task in std::fs::read_dir(format!("/proc/{pid}/task"))
        .ok()?
        .flatten()
    {
        let dir = task.path();
        let comm = std::fs::read_to_string(dir.join("comm")).unwrap_or_default();
        if comm.trim_end() == name
            && let Some(s) = stat_cpu_seconds(&dir.join("stat").to_string_lossy())
        {
            *seconds.get_or_insert(0.0) += s;
        }
    }
    seconds
}

/// `utime + stime` of a `stat` file. They count in clock ticks of 1/100 s: `/proc` always
/// reports `USER_HZ`, which is 100 on every Linux ABI.
fn stat_cpu_seconds(path: &str) -> Option<f64> {
    let stat = std::fs::read_to_string(path).ok()?;
    // The name (in parentheses) may hold spaces; the fields after it are plain.
    let mut fields = stat.rsplit_once(')')?.1.split_whitespace();
    let utime: u64 = fields.nth(11)?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some((utime + stime) as f64 / 100.0)
}

#[cfg(test)]
mod tests {
    use super::cpu_seconds_of;

    /// Spins until this thread has used a measurable slice of CPU (a clock tick is 10 ms).
    fn burn() {
        let started = std::time::Instant::now();
        let mut x = 0u64;
        while started.elapsed() < std::time::Duration::from_millis(150) {
            x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(7));
        }
    }

    #[test]
    fn cpu_time_is_read_for_the_process_and_for_a_named_thread_only() {
        let pid = std::process::id();
        let burner = std::thread::Builder::new()
            .name("kairos-burner".into())
            .spawn(burn)
            .expect("a thread");
        burner.join().expect("the burner finishes");
        let thread = cpu_seconds_of(pid, Some("kairos-burner"));
        let process = cpu_seconds_of(pid, None).expect("this process's CPU time");
        // An ended thread's time stays in the process's total; a live one is listed by name.
        assert!(process >= 0.1, "the process used {process} s");
        assert_eq!(thread, None, "an ended thread is no longer listed");
        let (done, finish) = std::sync::mpsc::channel::<()>();
        let spinner = std::thread::Builder::new()
            .name("kairos-spinner".into())
            .spawn(move || {
                burn();
                let _ = finish.recv();
            })
            .expect("a thread");
        // The spinner burns, then waits: its time is read while it is still there.
        let spent = (0..250)
            .find_map(|_| {
                std::thread::sleep(std::time::Duration::from_millis(20));
                cpu_seconds_of(pid, Some("kairos-spinner")).filter(|s| *s >= 0.1)
            })
            .expect("the spinner's CPU time, once it has burnt 0.1 s");
        drop(done);
        spinner.join().expect("the spinner finishes");
        let whole = cpu_seconds_of(pid, None).expect("this process's CPU time");
        assert!(
            whole >= process + spent - 0.02,
            "{whole} < {process} + {spent}"
        );
        assert_eq!(cpu_seconds_of(pid, Some("no-such-thread")), None);
    }
}
