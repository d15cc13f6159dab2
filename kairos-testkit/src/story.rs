//! The steps most tests start with, through the API as any client would: accounts of each kind,
//! a published service, its sessions, a booking. Each panics unless it works, so a test reads as
//! its story.

use chrono::{DateTime, Utc};
use kairos::store::query;
use reqwest::{Response, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::{
    client::{Answer, Login, id_of, unique_email},
    spawn::{ADMIN_EMAIL, ADMIN_PASSWORD, PASSWORD, TestApp},
};

/// A provider's published service with one session: where most booking stories begin.
pub struct Class {
    pub provider: Login,
    pub service: Value,
    pub session: Value,
}

impl TestApp {
    /// A new provider, a service published with `fields`, and one session `hours` from now
    /// with `capacity` places.
    pub async fn class(&self, fields: Value, hours: i64, capacity: i64) -> Class {
        let provider = self.provider().await;
        let service = self.published_service(&provider, fields).await;
        let session = self.session(&provider, &service, hours, capacity).await;
        Class {
            provider,
            service,
            session,
        }
    }

    pub async fn sign_up(&self, email: &str, password: &str) -> Response {
        let body = json!({ "email": email, "password": password });
        self.anonymous().post("/api/users", &body).await
    }

    pub async fn log_in(&self, email: &str, password: &str) -> Response {
        let body = json!({ "email": email, "password": password });
        self.anonymous().post("/api/login", &body).await
    }

    /// Logs in and returns the tokens.
    pub async fn login(&self, email: &str, password: &str) -> Login {
        let body: Value = self
            .log_in(email, password)
            .await
            .ok_json(StatusCode::OK)
            .await;
        Login {
            id: id_of(&body),
            email: body["email"].as_str().expect("email").to_owned(),
            token: body["token"].as_str().expect("token").to_owned(),
            refresh_token: body["refreshToken"]
                .as_str()
                .expect("refresh token")
                .to_owned(),
        }
    }

    /// A new customer with a unique address, logged in.
    pub async fn customer(&self) -> Login {
        let email = unique_email("customer");
        let response = self.sign_up(&email, PASSWORD).await;
        assert_eq!(response.status(), StatusCode::CREATED, "sign up {email}");
        self.login(&email, PASSWORD).await
    }

    /// The admin every test server starts with, logged in.
    pub async fn admin(&self) -> Login {
        self.login(ADMIN_EMAIL, ADMIN_PASSWORD).await
    }

    /// A new provider, made by the admin, logged in.
    pub async fn provider(&self) -> Login {
        self.user_with_role("provider").await
    }

    /// A new account of any role, made by the admin, logged in.
    pub async fn user_with_role(&self, role: &str) -> Login {
        let admin = self.admin().await;
        let email = unique_email(role);
        let body = json!({ "email": email, "password": PASSWORD, "role": role });
        let response = self
            .as_user(&admin)
            .post(&format!("/api/user/{}/create", admin.id), &body)
            .await;
        assert_eq!(response.status(), StatusCode::CREATED, "create a {role}");
        self.login(&email, PASSWORD).await
    }

    /// Publishes a service for the provider; `fields` override the defaults.
    pub async fn published_service(&self, provider: &Login, fields: Value) -> Value {
        let mut body = json!({ "name": "Morning yoga", "durationMinutes": 60, "capacity": 10,
                               "location": "Studio 1", "timeZone": "Europe/Paris" });
        for (key, value) in fields.as_object().expect("an object") {
            body[key] = value.clone();
        }
        let path = format!("/api/user/{}/services/create/publish", provider.id);
        self.as_user(provider)
            .post(&path, &body)
            .await
            .ok_json(StatusCode::CREATED)
            .await
    }

    /// Adds sessions to a service; `fields` are the request body.
    pub async fn add_sessions(
        &self,
        provider: &Login,
        service: &Value,
        fields: Value,
    ) -> Vec<Value> {
        let path = format!(
            "/api/user/{}/services/{}/sessions",
            provider.id,
            id_of(service)
        );
        self.as_user(provider)
            .post(&path, &fields)
            .await
            .ok_json(StatusCode::CREATED)
            .await
    }

    /// One session `hours` from now (on the server's clock) with this capacity.
    pub async fn session(
        &self,
        provider: &Login,
        service: &Value,
        hours: i64,
        capacity: i64,
    ) -> Value {
        let body = json!({ "startsAt": self.in_hours(hours), "capacity": capacity });
        self.add_sessions(provider, service, body).await.remove(0)
    }

    pub async fn book(&self, customer: &Login, session: &Value) -> Response {
        let body = json!({ "sessionId": id_of(session) });
        self.as_user(customer)
            .post(&format!("/api/user/{}/book", customer.id), &body)
            .await
    }

    /// Books and returns the booking.
    pub async fn booked(&self, customer: &Login, session: &Value) -> Value {
        self.book(customer, session)
            .await
            .ok_json(StatusCode::CREATED)
            .await
    }

    /// Moves the customer's booking to another session of its service; answers it moved.
    pub async fn moved(&self, customer: &Login, booking: &Value, session: &Value) -> Value {
        self.as_user(customer)
            .patch(
                &format!("/api/user/{}/bookings/{}", customer.id, id_of(booking)),
                &json!({ "sessionId": id_of(session) }),
            )
            .await
            .ok_json(StatusCode::OK)
            .await
    }

    /// Lets every wait of the outbox's retry schedule pass (1 min, 5 min, 30 min, 2 h, 6 h,
    /// 12 h), letting the outbox work after each: a mail that cannot go out is then failed.
    pub async fn let_every_retry_pass(&self) {
        for minutes in [0, 1, 5, 30, 120, 360, 720] {
            self.advance(chrono::Duration::minutes(minutes) + chrono::Duration::seconds(1));
            self.outbox_settled().await;
        }
    }

    /// The server's `/metrics` text.
    pub async fn metrics(&self) -> String {
        let response = self
            .client
            .get(self.url("/metrics"))
            .send()
            .await
            .expect("/metrics answers");
        response.text().await.expect("the metrics text")
    }

    /// One booking as `who` sees it on their own path (customer or provider).
    pub async fn booking_of(&self, who: &Login, booking: &Value) -> Value {
        let path = format!("/api/user/{}/bookings/{}", who.id, id_of(booking));
        self.as_user(who).get_json(&path).await
    }

    /// A service as `who` sees it on their own path (its provider, or a customer).
    pub async fn service_of(&self, who: &Login, service: &Value) -> Value {
        let path = format!("/api/user/{}/services/{}", who.id, id_of(service));
        self.as_user(who).get_json(&path).await
    }

    /// `who`'s home page data.
    pub async fn home_of(&self, who: &Login) -> Value {
        self.as_user(who)
            .get_json(&format!("/api/user/{}", who.id))
            .await
    }

    /// The published catalogue's first page, as anyone sees it.
    pub async fn catalogue(&self) -> Vec<Value> {
        self.anonymous().get_json("/api/services").await
    }

    /// The session's counter and its live bookings as the database holds them.
    pub async fn seats(&self, session_id: Uuid) -> (i64, i64) {
        let (booked,): (i64,) = self
            .db
            .one(query("SELECT booked FROM sessions WHERE id = $1").bind(session_id))
            .await;
        let live = self
            .db
            .count(
                query(
                    "SELECT COUNT(*) FROM bookings WHERE session_id = $1 AND status <> 'Cancelled'",
                )
                .bind(session_id),
            )
            .await;
        (booked, live)
    }

    /// How many subscriptions the user holds to the service (0 or 1: one per pair).
    pub async fn subscriptions(&self, user_id: Uuid, service_id: Uuid) -> i64 {
        self.db
            .count(
                query("SELECT COUNT(*) FROM subscriptions WHERE user_id = $1 AND service_id = $2")
                    .bind(user_id)
                    .bind(service_id),
            )
            .await
    }

    /// Moves the server's clock forward: sessions start and end, notices close, windows pass.
    /// Access tokens expire on that clock too (after an hour), so log in [`again`](Self::again).
    pub fn advance(&self, by: chrono::Duration) {
        self.clock().advance(by);
    }

    /// The same person logged in again (after the clock has moved past their access token).
    pub async fn again(&self, login: &Login) -> Login {
        let password = if login.email == ADMIN_EMAIL {
            ADMIN_PASSWORD
        } else {
            PASSWORD
        };
        self.login(&login.email, password).await
    }

    /// Waits (up to 10 s) until the outbox has done everything due by the server's clock: every
    /// event dispatched, no reminder due, no message or webhook delivery due and unsent.
    pub async fn outbox_settled(&self) {
        // Each count's "due by now" reads the clock after the count before it returned: work
        // that count saw done (an event dispatched, a reminder taken) was queued at the
        // worker's now, before its commit, so it is counted as due by the next count instead
        // of passing as "not yet due" while still unsent.
        const DUE: [&str; 3] = [
            "SELECT COUNT(*) FROM reminders WHERE state = 'pending' AND due_at <= $1",
            "SELECT COUNT(*) FROM messages WHERE status = 'pending' AND next_attempt_at <= $1",
            "SELECT COUNT(*) FROM webhook_deliveries d JOIN webhooks h ON h.id = d.webhook_id \
             WHERE d.status = 'pending' AND d.next_attempt_at <= $1 AND h.enabled",
        ];
        for _ in 0..200 {
            let mut left = self
                .db
                .count(query(
                    "SELECT COUNT(*) FROM events WHERE dispatched_at IS NULL",
                ))
                .await;
            for text in DUE {
                left += self.db.count(query(text).bind(self.clock().now())).await;
            }
            if left == 0 {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("the outbox did not catch up within 10 s");
    }

    /// A time `hours` from the server's now, on a whole minute (so it reads back exactly).
    pub fn in_hours(&self, hours: i64) -> DateTime<Utc> {
        on_the_minute(self.clock().now() + chrono::Duration::hours(hours))
    }
}

fn on_the_minute(t: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp(t.timestamp() - t.timestamp() % 60, 0).expect("time")
}

/// A time `hours` from the system's now, on a whole minute.
pub fn in_hours(hours: i64) -> DateTime<Utc> {
    on_the_minute(Utc::now() + chrono::Duration::hours(hours))
}
