//! `kairos-bench`: starts the real server (the `kairos` binary) on fresh data, makes its
//! fixtures through the API, and drives closed-loop load from its own runtime, printing one
//! table per scenario (and `--json` for tracking).

#![forbid(unsafe_code)]

mod client;
mod fixtures;
mod hours;
mod load;
mod mail;
mod mixed;
mod report;
mod scale;
mod scenarios;
mod server;
mod waitlist;

use std::{path::PathBuf, time::Duration};

use anyhow::{Context, Result};
use clap::{Parser, ValueEnum};
use kairos_testkit::{Data, WebhookReceiver, rss_mb_of};
use serde_json::json;

use client::Http;
use fixtures::Admin;
use load::Outcome;
use scenarios::World;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Scenario {
    Ceiling,
    Read,
    Book,
    Rush,
    Login,
    Mixed,
    Scale,
    Waitlist,
    Hours,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BenchBackend {
    Sqlite,
    Postgres,
}

/// Benchmark Kairos: start the server on fresh data and measure it under load. The server is
/// the `kairos` binary beside this one (build the workspace first) or `KAIROS_BIN`.
#[derive(Debug, Clone, Parser)]
#[command(name = "kairos-bench", version)]
pub struct BenchArgs {
    /// Which scenarios to run, comma-separated.
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "ceiling,read,book,rush,login,mixed,scale,waitlist,hours"
    )]
    pub scenarios: Vec<Scenario>,
    /// The database the server under test uses.
    #[arg(long, value_enum, default_value_t = BenchBackend::Sqlite)]
    pub backend: BenchBackend,
    /// Where PostgreSQL is (a database is created for the run and dropped after).
    #[arg(
        long,
        env = "KAIROS_BENCH_POSTGRES_URL",
        default_value = "postgres://postgres@127.0.0.1:5432/postgres"
    )]
    pub postgres_url: String,
    /// Concurrent clients.
    #[arg(long, default_value_t = 64)]
    pub clients: usize,
    /// Seconds each scenario runs.
    #[arg(long, default_value_t = 10)]
    pub seconds: u64,
    /// Seconds the `mixed` scenario runs (steady load, so longer than the others).
    #[arg(long, default_value_t = 60)]
    pub mixed_seconds: u64,
    /// Customers made for the run (logged in; `rush` has each of them try once).
    #[arg(long, default_value_t = 320)]
    pub customers: usize,
    /// Existing bookings for `scale`, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "10000,1000000")]
    pub scale: Vec<u64>,
    /// Customers waiting on each full session for `waitlist`, comma-separated (the first is
    /// the run the others are compared with).
    #[arg(long, value_delimiter = ',', default_value = "0,1000")]
    pub waitlist: Vec<u64>,
    /// Also write the results as JSON here.
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// Drive a server already running here (e.g. `http://127.0.0.1:8080`) instead of starting
    /// one. Its admin comes from KAIROS_BENCH_ADMIN_EMAIL and KAIROS_BENCH_ADMIN_PASSWORD; start
    /// it with KAIROS_LOGINS_PER_IP and KAIROS_SIGNUPS_PER_IP raised, since every customer signs
    /// up and logs in from this one address.
    /// `scale` is skipped (it loads bookings straight into the database) and RSS is not shown.
    #[arg(long)]
    pub url: Option<String>,
    /// The database pool of the servers the benchmark starts (PostgreSQL connections, or
    /// SQLite's readers).
    #[arg(long, default_value_t = 8)]
    pub db_pool_size: u32,
    /// Where the server's mail goes: an SMTP server on loopback in this process, or the
    /// server's `.eml` folder.
    #[arg(long, value_enum, default_value_t = mail::MailSink::Smtp)]
    pub mail: mail::MailSink,
    /// Webhooks the booked service's provider has, each for every event, posted to a receiver
    /// on loopback in this process (the server started is allowed 127.0.0.0/8 for them).
    #[arg(long, default_value_t = 0)]
    pub webhooks: usize,
}

impl BenchArgs {
    pub fn duration(&self) -> Duration {
        Duration::from_secs(self.seconds.max(1))
    }

    pub fn postgres(&self) -> Option<String> {
        (self.backend == BenchBackend::Postgres).then(|| self.postgres_url.clone())
    }
}

/// The admin of a server the benchmark did not start.
fn remote_admin() -> Result<Admin> {
    let var = |name: &str| std::env::var(name).with_context(|| format!("--url needs {name}"));
    Ok(Admin {
        email: var("KAIROS_BENCH_ADMIN_EMAIL")?,
        password: var("KAIROS_BENCH_ADMIN_PASSWORD")?,
    })
}

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> Result<()> {
    run(BenchArgs::parse()).await
}

async fn run(args: BenchArgs) -> Result<()> {
    let mut results: Vec<Outcome> = Vec::new();
    let wants = |s: Scenario| args.scenarios.contains(&s);
    let server = match &args.url {
        Some(url) => format!("the server at {url}"),
        None => format!("{:?}", args.backend),
    };
    println!(
        "kairos bench: {server}, {} clients, {} s per scenario, {} customers",
        args.clients, args.seconds, args.customers
    );
    if [
        Scenario::Ceiling,
        Scenario::Read,
        Scenario::Book,
        Scenario::Rush,
        Scenario::Login,
        Scenario::Mixed,
    ]
    .into_iter()
    .any(wants)
    {
        let smtp = mail::start(args.mail).await;
        let receiver = match args.webhooks {
            0 => None,
            _ => Some(WebhookReceiver::start().await),
        };
        let (own, url, admin) = match &args.url {
            Some(url) => (None, url.clone(), remote_admin()?),
            None => {
                let data = Data::fresh(args.postgres().as_deref()).await?;
                let smtp_url = smtp.as_ref().map(|smtp| smtp.url());
                let server = server::start(
                    &data,
                    args.db_pool_size,
                    smtp_url.as_deref(),
                    receiver.is_some(),
                )
                .await?;
                let url = server.url("");
                (Some((data, server)), url, server::own_admin())
            }
        };
        let sessions = 8_000;
        let world = World::make(
            Http::new(&url),
            admin,
            args.clients,
            args.customers,
            sessions,
        )
        .await?;
        world.hold_bookings().await?;
        if let Some(receiver) = &receiver {
            add_webhooks(&world, receiver, args.webhooks).await?;
        }
        let record = |mut outcome: Outcome, results: &mut Vec<Outcome>| {
            outcome.server_rss_mb = own.as_ref().and_then(|(_, server)| server.rss_mb());
            report::print(&outcome);
            results.push(outcome);
        };
        let mut ceiling_rate = None;
        if wants(Scenario::Ceiling) {
            let outcome = scenarios::ceiling(&world, &args).await;
            ceiling_rate = Some(outcome.rate());
            record(outcome, &mut results);
        }
        if wants(Scenario::Read) {
            let mut outcome = scenarios::read(
                &world,
                &args,
                "read: GET /api/user/{id}/bookings",
                args.duration(),
            )
            .await;
            if let Some(ceiling) = ceiling_rate {
                outcome
                    .notes
                    .insert("ratioToCeiling".into(), json!(outcome.rate() / ceiling));
            }
            record(outcome, &mut results);
        }
        if wants(Scenario::Book) {
            let before = mail::tally(&world.http).await;
            let (mut booking, cancelling) = scenarios::book(
                &world,
                &args,
                "book: POST /api/user/{id}/book",
                args.duration(),
            )
            .await;
            // Long enough to see the outbox empty after a full run; a smoke run reports the rate.
            let wait = args.duration() * 6;
            mail::notes(&world.http, before, wait, &mut booking).await;
            record(booking, &mut results);
            record(cancelling, &mut results);
        }
        if wants(Scenario::Rush) {
            record(scenarios::rush(&world, &args).await?, &mut results);
        }
        if wants(Scenario::Login) {
            for outcome in scenarios::login(&world, &args).await {
                record(outcome, &mut results);
            }
        }
        if wants(Scenario::Mixed) {
            let pid = own.as_ref().and_then(|(_, server)| server.pid());
            let duration = Duration::from_secs(args.mixed_seconds.max(1));
            let sampling = pid.map(|pid| tokio::spawn(sample_rss(pid, duration)));
            let mut outcome = mixed::mixed(&world, &args, duration).await;
            if let Some(Ok((first, peak, last))) = match sampling {
                Some(task) => Some(task.await),
                None => None,
            } {
                outcome.notes.insert("rssFirstMb".into(), json!(first));
                outcome.notes.insert("rssPeakMb".into(), json!(peak));
                outcome.notes.insert("rssLastMb".into(), json!(last));
            }
            if let Some((_, server)) = &own {
                outcome.notes.insert(
                    "databaseIsLocked".into(),
                    json!(server::locked_errors(server)),
                );
            }
            record(outcome, &mut results);
        }
        if let Some((data, mut server)) = own {
            server.stop()?;
            drop(data);
        }
    }
    if wants(Scenario::Scale) && args.url.is_some() {
        println!("\n== scale: skipped; it loads bookings into the database, so not with --url ==");
    } else if wants(Scenario::Scale) {
        let mut p99 = Vec::new();
        for size in &args.scale {
            for outcome in scale::scale(&args, *size).await? {
                report::print(&outcome);
                p99.push((outcome.name.clone(), outcome.ms(0.99)));
                results.push(outcome);
            }
        }
        if let (Some(first), Some(last)) = (args.scale.first(), args.scale.last())
            && args.scale.len() > 1
        {
            println!("\nscale: p99 at {last} bookings over p99 at {first}:");
            for kind in ["book", "read"] {
                let at = |size: &u64| {
                    p99.iter()
                        .find(|(n, _)| n == &format!("scale: {kind} with {size} bookings"))
                        .map(|(_, ms)| *ms)
                };
                if let (Some(small), Some(large)) = (at(first), at(last)) {
                    println!(
                        "  {kind}: {large:.2} ms / {small:.2} ms = {:.2}",
                        large / small
                    );
                }
            }
        }
    }
    if wants(Scenario::Waitlist) && args.url.is_some() {
        println!("\n== waitlist: skipped; it loads lists into the database, so not with --url ==");
    } else if wants(Scenario::Waitlist) {
        for outcome in waitlist::waitlist(&args, &args.waitlist).await? {
            report::print(&outcome);
            results.push(outcome);
        }
    }
    if wants(Scenario::Hours) && args.url.is_none() {
        println!(
            "\n== hours: working hours of 9:00-17:00 in 30-minute slots, weekdays, 365 days =="
        );
        hours::hours(&args).await?;
    }
    let broken: Vec<String> = results.iter().filter_map(Outcome::broken).collect();
    if let Some(path) = &args.json {
        let document = json!({
            "backend": format!("{:?}", args.backend).to_lowercase(),
            "clients": args.clients,
            "seconds": args.seconds,
            "results": results.iter().map(Outcome::to_json).collect::<Vec<_>>(),
        });
        std::fs::write(path, serde_json::to_vec_pretty(&document)?)?;
        println!("\nwrote {}", path.display());
    }
    // Speed is for people to judge; a wrong answer fails the run (CI's smoke run relies on it).
    anyhow::ensure!(
        broken.is_empty(),
        "the server misbehaved: {}",
        broken.join("; ")
    );
    Ok(())
}

/// Gives the world's provider `count` webhooks for every event, each at its own path of the
/// receiver.
async fn add_webhooks(world: &World, receiver: &WebhookReceiver, count: usize) -> Result<()> {
    let provider = &world.provider;
    for i in 0..count {
        let body = json!({ "url": receiver.url(&format!("/hook-{i}")), "events": ["*"] });
        world
            .http
            .expect(
                hyper::Method::POST,
                &format!("/api/user/{}/webhooks", provider.id),
                Some(&provider.token),
                Some(&body),
                201,
            )
            .await?;
    }
    Ok(())
}

/// The server's resident memory over `duration`, sampled every 250 ms: (first, peak, last) MB.
async fn sample_rss(pid: u32, duration: Duration) -> (f64, f64, f64) {
    let started = std::time::Instant::now();
    let (mut first, mut peak, mut last) = (None, 0.0_f64, 0.0);
    while started.elapsed() < duration {
        if let Some(mb) = rss_mb_of(pid) {
            first.get_or_insert(mb);
            peak = peak.max(mb);
            last = mb;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    (first.unwrap_or(0.0), peak, last)
}
