//! `mixed`: steady load of every kind at once, for a minute, to see nothing degrade.

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use hyper::Method;
use serde_json::json;

use super::{
    BenchArgs, fixtures,
    load::{Outcome, closed_loop},
    scenarios::{HELD_BOOKINGS, World},
};

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
