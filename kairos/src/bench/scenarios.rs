//! The scenarios: `ceiling`, `read`, `book` (and cancel), `rush`, `login` and `scale`.

use std::{
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use anyhow::{Context, Result};
use chrono::Utc;
use hyper::Method;
use serde_json::json;

use super::{
    BenchArgs,
    client::Http,
    fixtures::{self, Admin, Login},
    load::{Outcome, closed_loop},
    server::{self, Data, Server},
};
use crate::{
    auth::password::PasswordHasher,
    domain::{
        id::new_id, password::NewPassword, service::ServiceSpec, service::ServiceStatus, user::Role,
    },
    store::{self, BulkBookings, Location, NewUser},
};

/// Bookings every customer holds before `read`, so a read returns a page of them.
const HELD_BOOKINGS: usize = 5;

/// What the scenarios share: the server, a provider with a service, sessions and customers.
pub struct World {
    pub http: Http,
    pub admin: Admin,
    pub provider: Login,
    pub service_id: String,
    pub sessions: Vec<String>,
    pub customers: Vec<Login>,
}

impl World {
    pub async fn make(
        http: Http,
        admin: Admin,
        clients: usize,
        customers: usize,
        sessions: usize,
    ) -> Result<Self> {
        let tag = new_id().simple().to_string();
        let capacity = customers.max(clients) + 8;
        let (provider, service_id) =
            fixtures::provider_with_service(&http, &admin, &tag, capacity).await?;
        let sessions =
            fixtures::sessions(&http, &provider, &service_id, sessions, capacity).await?;
        let customers = fixtures::customers(&http, &tag, customers.max(clients)).await?;
        Ok(Self {
            http,
            admin,
            provider,
            service_id,
            sessions,
            customers,
        })
    }

    /// Gives every customer a few bookings (not timed).
    pub async fn hold_bookings(&self) -> Result<()> {
        let tasks: Vec<_> = self
            .customers
            .iter()
            .cloned()
            .map(|c| {
                let (http, sessions) = (self.http.clone(), self.sessions[..HELD_BOOKINGS].to_vec());
                tokio::spawn(async move {
                    for session in sessions {
                        http.send(
                            Method::POST,
                            &format!("/api/user/{}/book", c.id),
                            Some(&c.token),
                            Some(&json!({ "sessionId": session })),
                        )
                        .await?;
                    }
                    anyhow::Ok(())
                })
            })
            .collect();
        for task in tasks {
            task.await??;
        }
        Ok(())
    }
}

pub async fn ceiling(world: &World, args: &BenchArgs) -> Outcome {
    let http = world.http.clone();
    closed_loop(
        "ceiling: GET /healthz",
        args.clients,
        args.duration(),
        move |_, _| {
            let http = http.clone();
            async move {
                Some(
                    http.send(Method::GET, "/healthz", None, None)
                        .await
                        .map(|(s, _)| s),
                )
            }
        },
    )
    .await
}

pub async fn read(world: &World, args: &BenchArgs, name: &str, duration: Duration) -> Outcome {
    let (http, customers) = (world.http.clone(), Arc::new(world.customers.clone()));
    closed_loop(name, args.clients, duration, move |worker, _| {
        let (http, customer) = (http.clone(), customers[worker % customers.len()].clone());
        async move {
            let path = format!("/api/user/{}/bookings", customer.id);
            Some(
                http.send(Method::GET, &path, Some(&customer.token), None)
                    .await
                    .map(|(s, _)| s),
            )
        }
    })
    .await
}

/// Every client books session after session (each with room), then cancels what it booked.
pub async fn book(
    world: &World,
    args: &BenchArgs,
    name: &str,
    duration: Duration,
) -> (Outcome, Outcome) {
    let (http, customers) = (world.http.clone(), Arc::new(world.customers.clone()));
    let sessions = Arc::new(world.sessions[HELD_BOOKINGS..].to_vec());
    let booked: Arc<Vec<Mutex<Vec<String>>>> =
        Arc::new((0..args.clients).map(|_| Mutex::new(Vec::new())).collect());
    let booking = {
        let (http, customers, booked) = (http.clone(), Arc::clone(&customers), Arc::clone(&booked));
        closed_loop(name, args.clients, duration, move |worker, n| {
            let (http, customer, sessions, booked) = (
                http.clone(),
                customers[worker].clone(),
                Arc::clone(&sessions),
                Arc::clone(&booked),
            );
            async move {
                let session = sessions.get(usize::try_from(n).ok()?)?;
                let result = http
                    .send(
                        Method::POST,
                        &format!("/api/user/{}/book", customer.id),
                        Some(&customer.token),
                        Some(&json!({ "sessionId": session })),
                    )
                    .await;
                Some(result.map(|(status, body)| {
                    if status == 201
                        && let Ok(made) = serde_json::from_slice::<serde_json::Value>(&body)
                        && let (Some(id), Ok(mut mine)) =
                            (made["id"].as_str(), booked[worker].lock())
                    {
                        mine.push(id.to_owned());
                    }
                    status
                }))
            }
        })
        .await
    };
    let cancelling = closed_loop(
        "book: the same clients cancelling",
        args.clients,
        duration,
        move |worker, n| {
            let (http, customer, booked) =
                (http.clone(), customers[worker].clone(), Arc::clone(&booked));
            async move {
                let id = booked[worker]
                    .lock()
                    .ok()?
                    .get(usize::try_from(n).ok()?)?
                    .clone();
                let path = format!("/api/user/{}/bookings/{id}", customer.id);
                Some(
                    http.send(Method::DELETE, &path, Some(&customer.token), None)
                        .await
                        .map(|(s, _)| s),
                )
            }
        },
    )
    .await;
    (booking, cancelling)
}

/// Every customer tries once for a session with places for a tenth of them.
pub async fn rush(world: &World, args: &BenchArgs) -> Result<Outcome> {
    let attempts = world.customers.len();
    let capacity = (attempts / 10).max(1);
    let tag = new_id().simple().to_string();
    let (provider, service_id) =
        fixtures::provider_with_service(&world.http, &world.admin, &tag, capacity).await?;
    let session = fixtures::sessions(&world.http, &provider, &service_id, 1, capacity)
        .await?
        .remove(0);
    let (http, customers, next) = (
        world.http.clone(),
        Arc::new(world.customers.clone()),
        Arc::new(AtomicUsize::new(0)),
    );
    let name = format!("rush: {attempts} customers, {capacity} places");
    let mut outcome = closed_loop(
        &name,
        args.clients,
        Duration::from_secs(600),
        move |_, _| {
            let (http, customers, next, session) = (
                http.clone(),
                Arc::clone(&customers),
                Arc::clone(&next),
                session.clone(),
            );
            async move {
                let customer = customers.get(next.fetch_add(1, Ordering::Relaxed))?.clone();
                let path = format!("/api/user/{}/book", customer.id);
                Some(
                    http.send(
                        Method::POST,
                        &path,
                        Some(&customer.token),
                        Some(&json!({ "sessionId": session })),
                    )
                    .await
                    .map(|(s, _)| s),
                )
            }
        },
    )
    .await;
    let (booked, capacity) = fixtures::seats(&world.http, &provider, &service_id).await?;
    let accepted = i64::try_from(outcome.count(201)).unwrap_or(i64::MAX);
    outcome.notes.insert("placesBooked".into(), json!(booked));
    outcome.notes.insert("capacity".into(), json!(capacity));
    outcome.notes.insert(
        "oversold".into(),
        json!((booked - capacity).max(0).max(accepted - capacity)),
    );
    Ok(outcome)
}

/// `read` alone, then `read` again while other clients log in as fast as they can.
pub async fn login(world: &World, args: &BenchArgs) -> Vec<Outcome> {
    let quiet = read(world, args, "login: read alone", args.duration()).await;
    let (http, customers) = (world.http.clone(), Arc::new(world.customers.clone()));
    let storm_clients = (args.clients / 4).max(4);
    let storm = tokio::spawn(closed_loop(
        "login: the storm (POST /api/login)",
        storm_clients,
        args.duration(),
        move |worker, n| {
            let (http, customers) = (http.clone(), Arc::clone(&customers));
            async move {
                let i = usize::try_from(n).unwrap_or(0) * 7 + worker;
                let customer = &customers[i % customers.len()];
                let body = json!({ "email": customer.email, "password": fixtures::PASSWORD });
                Some(
                    http.send(Method::POST, "/api/login", None, Some(&body))
                        .await
                        .map(|(s, _)| s),
                )
            }
        },
    ));
    let mut stormy = read(world, args, "login: read during the storm", args.duration()).await;
    let storm = storm.await.unwrap_or_else(|_| quiet.clone());
    let ratio = if quiet.ms(0.99) > 0.0 {
        stormy.ms(0.99) / quiet.ms(0.99)
    } else {
        0.0
    };
    stormy
        .notes
        .insert("readP99WithoutStormMs".into(), json!(quiet.ms(0.99)));
    stormy
        .notes
        .insert("readP99WithStormMs".into(), json!(stormy.ms(0.99)));
    stormy.notes.insert("p99Ratio".into(), json!(ratio));
    vec![quiet, stormy, storm]
}

/// `book` and `read` on a server whose database already holds `size` bookings.
pub async fn scale(args: &BenchArgs, size: u64) -> Result<Vec<Outcome>> {
    let data = Data::fresh(args.postgres().as_deref()).await?;
    let started = std::time::Instant::now();
    bulk_load(&data, size).await?;
    let loaded = started.elapsed().as_secs_f64();
    let server = Server::start(&data, args.server_pool_size)?;
    let world = World::make(
        Http::new(&server.url),
        server::own_admin(),
        args.clients,
        args.clients,
        600,
    )
    .await?;
    world.hold_bookings().await?;
    let half = args.duration() / 2;
    let (mut booking, _) = book(
        &world,
        args,
        &format!("scale: book with {size} bookings"),
        half,
    )
    .await;
    booking.server_rss_mb = server.rss_mb();
    booking
        .notes
        .insert("bulkLoadSeconds".into(), json!(loaded));
    let mut reading = read(
        &world,
        args,
        &format!("scale: read with {size} bookings"),
        half,
    )
    .await;
    reading.server_rss_mb = server.rss_mb();
    server.stop()?;
    data.drop_database().await;
    Ok(vec![booking, reading])
}

/// Loads `size` bookings (with customers and sessions for them) straight through the store.
async fn bulk_load(data: &Data, size: u64) -> Result<()> {
    let location = Location::from_settings(data.database_url.as_deref(), data.dir.path())?;
    let store = store::open(&location, 4).await?;
    let hasher = PasswordHasher::new(1).await?;
    let hash = hasher
        .hash(NewPassword::parse(fixtures::PASSWORD.to_owned()).map_err(anyhow::Error::msg)?)
        .await?;
    let now = crate::domain::clock::now();
    let provider = store
        .create_user(NewUser {
            id: new_id(),
            email: "bulk-provider@bench.invalid".into(),
            email_key: "bulk-provider@bench.invalid".into(),
            password_hash: hash.clone(),
            role: Role::Provider,
            now,
        })
        .await?;
    let spec = ServiceSpec::defaults()
        .apply(crate::domain::service::ServiceChanges {
            name: Some("Bulk".into()),
            ..Default::default()
        })
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let service = store
        .create_service(new_id(), provider.id, spec, ServiceStatus::Published, now)
        .await?;
    let per_session = 50;
    store
        .bulk_load(BulkBookings {
            customers: (size / 10).clamp(per_session, 100_000),
            sessions: size.div_ceil(per_session).max(1),
            bookings: size,
            password_hash: hash,
            provider_id: provider.id,
            service_id: service.id,
            first_start: Utc::now() + chrono::Duration::days(400),
            now,
        })
        .await
        .context("bulk loading bookings")?;
    Ok(())
}

/// What one `mixed` client holds between requests.
#[derive(Default)]
struct Hand {
    refresh_token: String,
    booking: Option<String>,
}

/// Steady mixed load: of every 20 requests a client sends, 12 read its bookings, 5 book or
/// cancel (alternately), 2 refresh its tokens and 1 logs in again.
pub async fn mixed(world: &World, args: &BenchArgs, duration: Duration) -> Outcome {
    let (http, customers) = (world.http.clone(), Arc::new(world.customers.clone()));
    let sessions = Arc::new(world.sessions[HELD_BOOKINGS..].to_vec());
    let hands: Arc<Vec<Mutex<Hand>>> = Arc::new(
        world
            .customers
            .iter()
            .map(|c| {
                Mutex::new(Hand {
                    refresh_token: c.refresh_token.clone(),
                    booking: None,
                })
            })
            .collect(),
    );
    let name = format!(
        "mixed: 60% read, 25% book/cancel, 10% refresh, 5% login for {}s",
        duration.as_secs()
    );
    closed_loop(&name, args.clients, duration, move |worker, n| {
        let (http, customer, sessions, hands) = (
            http.clone(),
            customers[worker].clone(),
            Arc::clone(&sessions),
            Arc::clone(&hands),
        );
        async move {
            // Spread the kinds over the 20 steps, and start the clients at different steps.
            let step = (n + worker as u64 * 7) % 20;
            let token = Some(customer.token.as_str());
            let result = match step {
                0 | 2 | 4 | 6 | 8 | 10 | 12 | 14 | 15 | 16 | 17 | 19 => http
                    .send(
                        Method::GET,
                        &format!("/api/user/{}/bookings", customer.id),
                        token,
                        None,
                    )
                    .await
                    .map(|(s, _)| s),
                1 | 5 | 9 | 13 | 18 => {
                    let held = hands[worker].lock().ok()?.booking.take();
                    match held {
                        Some(id) => {
                            let path = format!("/api/user/{}/bookings/{id}", customer.id);
                            http.send(Method::DELETE, &path, token, None)
                                .await
                                .map(|(s, _)| s)
                        }
                        None => {
                            let session = &sessions[(n as usize / 20 + worker) % sessions.len()];
                            let path = format!("/api/user/{}/book", customer.id);
                            let body = json!({ "sessionId": session });
                            http.send(Method::POST, &path, token, Some(&body))
                                .await
                                .map(|(status, body)| {
                                    if status == 201
                                        && let Ok(made) =
                                            serde_json::from_slice::<serde_json::Value>(&body)
                                        && let (Some(id), Ok(mut hand)) =
                                            (made["id"].as_str(), hands[worker].lock())
                                    {
                                        hand.booking = Some(id.to_owned());
                                    }
                                    status
                                })
                        }
                    }
                }
                3 | 11 => {
                    let presented = hands[worker].lock().ok()?.refresh_token.clone();
                    let body = json!({ "token": presented });
                    http.send(Method::POST, "/api/refresh", None, Some(&body))
                        .await
                        .map(|(status, body)| {
                            if let Ok(rotated) = serde_json::from_slice::<serde_json::Value>(&body)
                                && let (Some(next), Ok(mut hand)) =
                                    (rotated["refreshToken"].as_str(), hands[worker].lock())
                            {
                                hand.refresh_token = next.to_owned();
                            }
                            status
                        })
                }
                _ => {
                    let body = json!({ "email": customer.email, "password": fixtures::PASSWORD });
                    http.send(Method::POST, "/api/login", None, Some(&body))
                        .await
                        .map(|(s, _)| s)
                }
            };
            Some(result)
        }
    })
    .await
}
