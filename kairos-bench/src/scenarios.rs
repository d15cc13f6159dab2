//! The scenarios on one server: `ceiling`, `read`, `book` (and cancel), `rush` and `login`
//! (`mixed` and `scale` have modules of their own).

use std::{
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use anyhow::Result;
use hyper::Method;
use serde_json::json;

use super::{
    BenchArgs,
    client::Http,
    fixtures::{self, Admin, Login},
    load::{Outcome, closed_loop},
};

/// Bookings every customer holds before `read`, so a read returns a page of them.
pub const HELD_BOOKINGS: usize = 5;

/// What the scenarios share: the server, a provider with a service, sessions and customers.
pub struct World {
    pub http: Http,
    pub admin: Admin,
    /// The provider whose service is booked.
    pub provider: Login,
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
        let tag = uuid::Uuid::now_v7().simple().to_string();
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
    let tag = uuid::Uuid::now_v7().simple().to_string();
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
