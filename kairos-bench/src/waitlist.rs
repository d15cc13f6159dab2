//! `waitlist`: booking and cancelling with long waitlists beside the same run with empty ones.
//! Each size gets a fresh server whose database holds full sessions (bulk-loaded), each with
//! that many customers waiting; the clients book other sessions that have room, then cancel
//! their places in half of the full ones, so with a list every cancel promotes the next in
//! line. In the other half a place changes hands: with a list that is one cancel (the list
//! fills the place), without one a cancel and then another customer's booking of that place.

use std::sync::Arc;

use anyhow::{Context, Result};
use hyper::Method;
use kairos::store::{fixtures::bulk_waitlists, sqlite::WRITER_THREAD};
use kairos_testkit::{Data, ServerProcess};
use serde_json::{Value, json};

use super::{
    BenchArgs,
    client::Http,
    fixtures::{self, Login},
    load::{Outcome, closed_loop},
    scale::{Loaded, Serving, load, serve_loaded},
    scenarios::book,
};

/// Full sessions each phase has, in each of which every client holds a place.
const FULL_SESSIONS: u64 = 200;

/// The phases measured for each list length, in the order they run.
const PHASES: [&str; 3] = ["book", "cancel", "turnover"];

/// Notes: the server's CPU per step, the whole process and SQLite's writer (microseconds).
const SERVER_CPU: &str = "serverCpuUsPerStep";
const WRITER_CPU: &str = "writerCpuUsPerStep";

/// The runs for each list length in `sizes`, then the ratios of the longest to none.
pub async fn waitlist(args: &BenchArgs, sizes: &[u64]) -> Result<Vec<Outcome>> {
    let mut outcomes = Vec::new();
    for &size in sizes {
        outcomes.extend(run(args, size).await?);
    }
    if let (Some(&first), Some(&last)) = (sizes.first(), sizes.last())
        && sizes.len() > 1
    {
        println!("\nwaitlist: throughput with {last} waiting over {first} waiting:");
        for phase in PHASES {
            let outcome = |size: u64| outcomes.iter().find(|o| o.name == name(phase, size));
            if let (Some(empty), Some(long)) = (outcome(first), outcome(last)) {
                let (empty, long) = (empty.rate(), long.rate());
                println!(
                    "  {phase}: {long:.0}/s / {empty:.0}/s = {:.3}",
                    long / empty
                );
            }
            for key in [SERVER_CPU, WRITER_CPU] {
                let cost = |size: u64| outcome(size)?.notes.get(key)?.as_f64();
                if let (Some(empty), Some(long)) = (cost(first), cost(last)) {
                    println!("    {key}: {long:.0} / {empty:.0} = {:.3}", long / empty);
                }
            }
        }
    }
    Ok(outcomes)
}

fn name(phase: &str, size: u64) -> String {
    format!("waitlist: {phase}, {size} waiting on each full session")
}

async fn run(args: &BenchArgs, size: u64) -> Result<Vec<Outcome>> {
    let data = Data::fresh(args.postgres().as_deref()).await?;
    let clients = args.clients as u64;
    let Loaded {
        store,
        password_hash,
        service_id,
    } = load(&data, 2 * FULL_SESSIONS * clients, clients, clients).await?;
    if size > 0 {
        let now = kairos::domain::clock::truncate_to_micros(chrono::Utc::now());
        bulk_waitlists(&store, service_id, size, password_hash, now)
            .await
            .context("bulk loading waitlists")?;
    }
    drop(store);
    // The mail sink is bound so it serves until the run ends.
    let Serving {
        mut server,
        world,
        mail: _mail,
    } = serve_loaded(&data, args).await?;
    let http = world.http.clone();
    let (mut booking, _) = book(&world, args, &name("book", size), args.duration()).await;
    booking.server_rss_mb = server.rss_mb();
    let (cancel_half, turnover_half) = holders(&http, args).await?;
    let spent = CpuSpent::from(&server);
    let mut cancelling = cancel_full(&http, args, size, cancel_half).await?;
    spent.per_step(&server, &mut cancelling);
    cancelling.server_rss_mb = server.rss_mb();
    // Without a list, another customer takes each freed place: the world's customers hold
    // nothing in the full sessions, and worker `i`'s taker books only the places worker `i`
    // frees, each session once.
    let takers = (size == 0).then(|| Arc::new(world.customers.clone()));
    let spent = CpuSpent::from(&server);
    let mut turnover = change_hands(&http, args, size, turnover_half, takers).await?;
    spent.per_step(&server, &mut turnover);
    turnover.server_rss_mb = server.rss_mb();
    server.stop()?;
    drop(data);
    Ok(vec![booking, cancelling, turnover])
}

/// The server's CPU time when a phase starts: the whole process, and SQLite's writer thread
/// (which every write waits on; none on PostgreSQL).
struct CpuSpent {
    process: Option<f64>,
    writer: Option<f64>,
}

impl CpuSpent {
    fn from(server: &ServerProcess) -> Self {
        Self {
            process: server.cpu_seconds(None),
            writer: server.cpu_seconds(Some(WRITER_THREAD)),
        }
    }

    /// Notes the CPU the phase cost per step, in microseconds, since `self`.
    fn per_step(self, server: &ServerProcess, outcome: &mut Outcome) {
        let now = Self::from(server);
        let steps = outcome.requests.max(1) as f64;
        for (key, before, after) in [
            (SERVER_CPU, self.process, now.process),
            (WRITER_CPU, self.writer, now.writer),
        ] {
            if let (Some(before), Some(after)) = (before, after) {
                let micros = (after - before) * 1e6 / steps;
                outcome.notes.insert(key.into(), json!(micros.round()));
            }
        }
    }
}

/// A place a bulk customer holds in a full session.
struct Held {
    booking_id: String,
    session_id: String,
}

/// Each client's login and the places it holds, soonest first, split in two: those it
/// cancels and those it passes on. Each client goes through either half in an order of its
/// own ([`spread`]), as cancellations arrive spread over a provider's sessions.
async fn holders(
    http: &Http,
    args: &BenchArgs,
) -> Result<(Vec<(Login, Vec<Held>)>, Vec<(Login, Vec<Held>)>)> {
    let (mut cancel, mut turnover) = (Vec::new(), Vec::new());
    for n in 0..args.clients {
        let email = format!("bulk-{n}@bench.invalid");
        let login = fixtures::login(http, &email, fixtures::PASSWORD).await?;
        let path = format!("/api/user/{}/bookings?as=customer&limit=200", login.id);
        let mut first: Vec<Held> = http
            .pages(&path, &login.token)
            .await?
            .iter()
            .map(held)
            .collect::<Result<_>>()?;
        let second = first.split_off(first.len() / 2);
        cancel.push((login.clone(), spread(first, n, args.clients)));
        turnover.push((login, spread(second, n, args.clients)));
    }
    Ok((cancel, turnover))
}

/// Client `n`'s order of its places: from its own start, with its own stride through them.
/// Were every client to walk the sessions in one order, those that met at a session (one waiting
/// for the other's lock on its row) would walk on in step and meet again at every session after,
/// a convoy no real provider's cancellations form.
fn spread(places: Vec<Held>, n: usize, clients: usize) -> Vec<Held> {
    let len = places.len();
    if len < 2 {
        return places;
    }
    let start = (n * len) / clients.max(1);
    // A stride coprime to the length visits every place once; each client has its own.
    let strides: Vec<usize> = (1..len).filter(|&s| gcd(s, len) == 1).collect();
    let stride = strides[n % strides.len()];
    let mut slots: Vec<Option<Held>> = places.into_iter().map(Some).collect();
    (0..len)
        .filter_map(|i| slots[(start + i * stride) % len].take())
        .collect()
}

fn gcd(a: usize, b: usize) -> usize {
    if b == 0 { a } else { gcd(b, a % b) }
}

fn held(booking: &Value) -> Result<Held> {
    let text = |key: &str| {
        booking[key]
            .as_str()
            .map(str::to_owned)
            .with_context(|| format!("a booking's {key}"))
    };
    Ok(Held {
        booking_id: text("id")?,
        session_id: text("sessionId")?,
    })
}

/// The bulk customers cancel their places in the first half of the full sessions.
async fn cancel_full(
    http: &Http,
    args: &BenchArgs,
    size: u64,
    holders: Vec<(Login, Vec<Held>)>,
) -> Result<Outcome> {
    let (http, holders) = (http.clone(), Arc::new(holders));
    let mut outcome = closed_loop(
        &name("cancel", size),
        args.clients,
        args.duration(),
        move |worker, n| {
            let (http, holders) = (http.clone(), Arc::clone(&holders));
            async move {
                let (login, places) = &holders[worker];
                let place = places.get(usize::try_from(n).ok()?)?;
                Some(cancel(&http, login, place).await)
            }
        },
    )
    .await;
    outcome.notes.insert("waiting".into(), json!(size));
    Ok(outcome)
}

/// Places in the second half change hands: each counted step is a place going from one
/// customer to another. With a list the cancel alone does it; with `takers` (no list) the
/// cancel is followed by the taker's booking of the freed place, and the step's status is
/// that booking's.
async fn change_hands(
    http: &Http,
    args: &BenchArgs,
    size: u64,
    holders: Vec<(Login, Vec<Held>)>,
    takers: Option<Arc<Vec<Login>>>,
) -> Result<Outcome> {
    if let Some(takers) = &takers {
        anyhow::ensure!(takers.len() >= args.clients, "a taker for every client");
    }
    let (http, holders) = (http.clone(), Arc::new(holders));
    let mut outcome = closed_loop(
        &name("turnover", size),
        args.clients,
        args.duration(),
        move |worker, n| {
            let (http, holders, takers) = (http.clone(), Arc::clone(&holders), takers.clone());
            async move {
                let (login, places) = &holders[worker];
                let place = places.get(usize::try_from(n).ok()?)?;
                let cancelled = cancel(&http, login, place).await;
                let Some(taker) = takers.as_ref().map(|t| &t[worker]) else {
                    return Some(cancelled);
                };
                if !matches!(cancelled, Ok(204)) {
                    return Some(cancelled);
                }
                let body = json!({ "sessionId": place.session_id });
                let path = format!("/api/user/{}/book", taker.id);
                Some(
                    http.send(Method::POST, &path, Some(&taker.token), Some(&body))
                        .await
                        .map(|(status, _)| status),
                )
            }
        },
    )
    .await;
    outcome.notes.insert("waiting".into(), json!(size));
    outcome.notes.insert(
        "step".into(),
        json!(if size == 0 {
            "a cancel, then another customer's booking of the place"
        } else {
            "a cancel that promotes the next in line"
        }),
    );
    Ok(outcome)
}

async fn cancel(http: &Http, login: &Login, place: &Held) -> Result<u16> {
    let path = format!("/api/user/{}/bookings/{}", login.id, place.booking_id);
    http.send(Method::DELETE, &path, Some(&login.token), None)
        .await
        .map(|(status, _)| status)
}

#[cfg(test)]
mod tests {
    use super::{Held, spread};

    #[test]
    fn every_client_takes_every_place_once_in_an_order_of_its_own() {
        let places = |len: usize| -> Vec<Held> {
            (0..len)
                .map(|i| Held {
                    booking_id: i.to_string(),
                    session_id: i.to_string(),
                })
                .collect()
        };
        let order = |n: usize| -> Vec<usize> {
            spread(places(200), n, 64)
                .iter()
                .map(|p| p.booking_id.parse().unwrap_or(usize::MAX))
                .collect()
        };
        for n in 0..64 {
            let mut seen = order(n);
            seen.sort_unstable();
            assert_eq!(seen, (0..200).collect::<Vec<_>>(), "client {n}");
        }
        // Two clients that meet at a place go on to different ones.
        let (a, b) = (order(3), order(4));
        let met = a
            .iter()
            .position(|p| *p == b[10])
            .expect("every order holds every place");
        assert_ne!(a.get(met + 1), b.get(11));
    }
}
