//! `waitlist`: booking and cancelling with long waitlists beside the same run with empty ones.
//! Each size gets a fresh server whose database holds full sessions (bulk-loaded), each with
//! that many customers waiting; the clients book other sessions that have room, then cancel
//! their places in the full ones, so with a list every cancel promotes the next in line.

use std::sync::Arc;

use anyhow::{Context, Result};
use hyper::Method;
use kairos::store::fixtures::bulk_waitlists;
use kairos_testkit::Data;
use serde_json::json;

use super::{
    BenchArgs,
    client::Http,
    fixtures::{self, Login},
    load::{Outcome, closed_loop},
    scale::{Loaded, Serving, load, serve_loaded},
    scenarios::book,
};

/// Full sessions each client holds a place in, and cancels in turn.
const FULL_SESSIONS: u64 = 200;

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
        for kind in ["book", "cancel"] {
            let rate = |size: u64| {
                outcomes
                    .iter()
                    .find(|o| o.name == name(kind, size))
                    .map(Outcome::rate)
            };
            if let (Some(empty), Some(long)) = (rate(first), rate(last)) {
                println!("  {kind}: {long:.0}/s / {empty:.0}/s = {:.3}", long / empty);
            }
        }
    }
    Ok(outcomes)
}

fn name(kind: &str, size: u64) -> String {
    format!("waitlist: {kind}, {size} waiting on each full session")
}

async fn run(args: &BenchArgs, size: u64) -> Result<Vec<Outcome>> {
    let data = Data::fresh(args.postgres().as_deref()).await?;
    let clients = args.clients as u64;
    let Loaded {
        store,
        password_hash,
        service_id,
    } = load(&data, FULL_SESSIONS * clients, clients, clients).await?;
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
    let mut cancelling = cancel_full(&http, args, size).await?;
    cancelling.server_rss_mb = server.rss_mb();
    server.stop()?;
    drop(data);
    Ok(vec![booking, cancelling])
}

/// The bulk customers cancel their places in the full sessions, each from its own first one.
async fn cancel_full(http: &Http, args: &BenchArgs, size: u64) -> Result<Outcome> {
    let mut holders: Vec<(Login, Vec<String>)> = Vec::new();
    for n in 0..args.clients {
        let email = format!("bulk-{n}@bench.invalid");
        let login = fixtures::login(http, &email, fixtures::PASSWORD).await?;
        let path = format!("/api/user/{}/bookings?as=customer&limit=200", login.id);
        let page = http
            .expect(Method::GET, &path, Some(&login.token), None, 200)
            .await?;
        let mut ids: Vec<String> = page
            .as_array()
            .context("a list of bookings")?
            .iter()
            .filter_map(|b| b["id"].as_str().map(str::to_owned))
            .collect();
        // Each client starts at its own session, as cancellations arrive spread over a
        // provider's sessions, not all in one at once.
        let start = (n * ids.len()) / args.clients.max(1);
        ids.rotate_left(start);
        holders.push((login, ids));
    }
    let (http, holders) = (http.clone(), Arc::new(holders));
    let mut outcome = closed_loop(
        &name("cancel", size),
        args.clients,
        args.duration(),
        move |worker, n| {
            let (http, holders) = (http.clone(), Arc::clone(&holders));
            async move {
                let (login, ids) = &holders[worker];
                let id = ids.get(usize::try_from(n).ok()?)?;
                let path = format!("/api/user/{}/bookings/{id}", login.id);
                Some(
                    http.send(Method::DELETE, &path, Some(&login.token), None)
                        .await
                        .map(|(status, _)| status),
                )
            }
        },
    )
    .await;
    outcome.notes.insert("waiting".into(), json!(size));
    Ok(outcome)
}
