//! `spawn_app()`: the real server on port 0 with a fresh database (SQLite in a temp dir, or a
//! PostgreSQL database created for the test and dropped after it), and a client that talks to it.

use std::{
    io::Write,
    path::PathBuf,
    sync::{Arc, Once},
};

use kairos::{
    config::{Secret, Settings},
    startup::Application,
    store::{
        sql::{Conn, Query, Record},
        sqlite::SqliteConn,
    },
};
use reqwest::{Method, RequestBuilder, Response, StatusCode};
use serde_json::{Value, json};
use sqlx::{Connection, PgConnection, PgPool, SqlitePool, sqlite::SqliteConnectOptions};
use tokio::{sync::oneshot, task::JoinHandle};
use uuid::Uuid;

pub const ADMIN_EMAIL: &str = "admin@kairos.test";
pub const ADMIN_PASSWORD: &str = "the admin's long passphrase";
pub const PASSWORD: &str = "a perfectly fine passphrase";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Runs a test body once on SQLite and once on PostgreSQL (when `KAIROS_TEST_POSTGRES_URL` is
/// set; otherwise the PostgreSQL half says it skipped).
macro_rules! on_both_backends {
    ($($name:ident),+ $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let app = crate::helpers::spawn_app(crate::helpers::Backend::Sqlite).await;
                super::$name(app.expect("SQLite is always available")).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if let Some(app) = crate::helpers::spawn_app(crate::helpers::Backend::Postgres).await {
                    super::$name(app).await;
                }
            }
        }
    )+};
}
pub(crate) use on_both_backends;

/// Like `on_both_backends!`, on servers whose settings `$configure` (a `fn(&mut Settings)`)
/// changed first.
macro_rules! on_both_backends_with {
    ($configure:ident => $($name:ident),+ $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let app = crate::helpers::spawn_app_with(
                    crate::helpers::Backend::Sqlite,
                    super::$configure,
                )
                .await;
                super::$name(app.expect("SQLite is always available")).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let app = crate::helpers::spawn_app_with(
                    crate::helpers::Backend::Postgres,
                    super::$configure,
                )
                .await;
                if let Some(app) = app {
                    super::$name(app).await;
                }
            }
        }
    )+};
}
pub(crate) use on_both_backends_with;

pub struct TestApp {
    pub backend: Backend,
    pub address: String,
    pub client: reqwest::Client,
    pub db: TestDb,
    pub settings: Settings,
    pub data_dir: Arc<tempfile::TempDir>,
    /// The server's own state, for calling what its background tasks call.
    pub state: kairos::state::AppState,
    pg: Option<Arc<PgDatabase>>,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<()>>,
}

/// A login: the user's id and their tokens.
#[derive(Debug, Clone)]
pub struct Login {
    pub id: Uuid,
    pub email: String,
    pub token: String,
    pub refresh_token: String,
}

pub async fn spawn_app(backend: Backend) -> Option<TestApp> {
    spawn_app_with(backend, |_| {}).await
}

/// Like [`spawn_app`], with settings changed first. `None` when PostgreSQL is asked for but not
/// configured.
pub async fn spawn_app_with(
    backend: Backend,
    configure: impl FnOnce(&mut Settings),
) -> Option<TestApp> {
    // `TEST_LOG=1 cargo test ...` shows the servers' logs.
    if std::env::var_os("TEST_LOG").is_some() {
        kairos::telemetry::init(kairos::config::LogFormat::Text, "info");
    }
    let data_dir = Arc::new(tempfile::tempdir().expect("temp dir"));
    let pg = match backend {
        Backend::Sqlite => None,
        Backend::Postgres => Some(Arc::new(PgDatabase::create().await?)),
    };
    let mut settings = Settings {
        addr: "127.0.0.1:0".to_owned(),
        data_dir: data_dir.path().to_path_buf(),
        database_url: pg.as_ref().map(|pg| pg.url.clone()),
        admin_email: Some(ADMIN_EMAIL.to_owned()),
        admin_password: Some(Secret::new(ADMIN_PASSWORD.to_owned())),
        db_pool_size: 4,
        // Every test client is 127.0.0.1; the rate-limit tests set their own.
        login_attempts_per_ip_per_minute: 100_000,
        signups_per_ip_per_minute: 100_000,
        refreshes_per_ip_per_minute: 100_000,
        feed_reads_per_ip_per_minute: 100_000,
        password_hash_concurrency: 2,
        ..Settings::default()
    };
    configure(&mut settings);
    Some(start(backend, settings, data_dir, pg).await)
}

async fn start(
    backend: Backend,
    settings: Settings,
    data_dir: Arc<tempfile::TempDir>,
    pg: Option<Arc<PgDatabase>>,
) -> TestApp {
    let app = Application::build(settings.clone())
        .await
        .expect("the server builds");
    let address = format!("http://127.0.0.1:{}", app.port());
    let state = app.state().clone();
    let (shutdown, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        app.run_until(async {
            let _ = stopped.await;
        })
        .await
        .expect("the server runs");
    });
    let db = match &pg {
        None => TestDb::Sqlite(
            SqlitePool::connect_with(
                SqliteConnectOptions::new().filename(data_dir.path().join("kairos.db")),
            )
            .await
            .expect("open the SQLite file"),
        ),
        Some(pg) => TestDb::Postgres(
            PgPool::connect(&pg.url)
                .await
                .expect("connect to PostgreSQL"),
        ),
    };
    TestApp {
        backend,
        address,
        client: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client"),
        db,
        settings,
        data_dir,
        state,
        pg,
        shutdown: Some(shutdown),
        server: Some(server),
    }
}

impl TestApp {
    /// Stops the server (letting requests finish) and starts a new one on the same data.
    pub async fn restart(mut self) -> TestApp {
        self.stop().await;
        let settings = self.settings.clone();
        start(
            self.backend,
            settings,
            Arc::clone(&self.data_dir),
            self.pg.clone(),
        )
        .await
    }

    pub async fn stop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(server) = self.server.take() {
            server.await.expect("the server stops cleanly");
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.client.request(method, self.url(path))
    }

    pub async fn get(&self, path: &str, token: &str) -> Response {
        self.request(Method::GET, path)
            .bearer_auth(token)
            .send()
            .await
            .expect("request")
    }

    pub async fn post(&self, path: &str, token: &str, body: &Value) -> Response {
        self.request(Method::POST, path)
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .expect("request")
    }

    pub async fn post_anonymous(&self, path: &str, body: &Value) -> Response {
        self.request(Method::POST, path)
            .json(body)
            .send()
            .await
            .expect("request")
    }

    pub async fn sign_up(&self, email: &str, password: &str) -> Response {
        self.post_anonymous(
            "/api/users",
            &json!({ "email": email, "password": password }),
        )
        .await
    }

    pub async fn log_in(&self, email: &str, password: &str) -> Response {
        self.post_anonymous(
            "/api/login",
            &json!({ "email": email, "password": password }),
        )
        .await
    }

    /// Logs in and returns the tokens; panics unless it works.
    pub async fn login(&self, email: &str, password: &str) -> Login {
        let response = self.log_in(email, password).await;
        assert_eq!(response.status(), StatusCode::OK, "login as {email}");
        let body: Value = response.json().await.expect("json");
        Login {
            id: body["id"]
                .as_str()
                .and_then(|id| id.parse().ok())
                .expect("id"),
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

    pub async fn admin(&self) -> Login {
        self.login(ADMIN_EMAIL, ADMIN_PASSWORD).await
    }

    /// A new account of any role, made by the admin, logged in.
    pub async fn user_with_role(&self, role: &str) -> Login {
        let admin = self.admin().await;
        let email = unique_email(role);
        let response = self
            .post(
                &format!("/api/user/{}/create", admin.id),
                &admin.token,
                &json!({ "email": email, "password": PASSWORD, "role": role }),
            )
            .await;
        assert_eq!(response.status(), StatusCode::CREATED, "create a {role}");
        self.login(&email, PASSWORD).await
    }

    pub fn secret_file(&self) -> PathBuf {
        self.data_dir.path().join("jwt-secret")
    }
}

pub fn unique_email(prefix: &str) -> String {
    format!("{prefix}-{}@example.org", Uuid::new_v4().simple())
}

/// Reads the response as problem JSON, checking its content type and status.
pub async fn problem(response: Response, status: StatusCode) -> Value {
    assert_eq!(response.status(), status, "status");
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert_eq!(content_type, "application/problem+json");
    let body: Value = response.json().await.expect("problem json");
    assert_eq!(body["status"], status.as_u16());
    assert!(body["title"].is_string() && body["detail"].is_string() && body["type"].is_string());
    body
}

/// Direct access to the test's database, to check what it now holds.
pub enum TestDb {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

impl TestDb {
    pub async fn one<R: Record>(&self, query: Query) -> R {
        match self {
            TestDb::Sqlite(pool) => {
                SqliteConn::new(pool.acquire().await.expect("conn"))
                    .fetch_one(query)
                    .await
            }
            TestDb::Postgres(pool) => pool.acquire().await.expect("conn").fetch_one(query).await,
        }
        .expect("query")
    }

    pub async fn count(&self, query: Query) -> i64 {
        self.one::<(i64,)>(query).await.0
    }

    pub async fn execute(&self, query: Query) -> u64 {
        match self {
            TestDb::Sqlite(pool) => {
                SqliteConn::new(pool.acquire().await.expect("conn"))
                    .execute(query)
                    .await
            }
            TestDb::Postgres(pool) => pool.acquire().await.expect("conn").execute(query).await,
        }
        .expect("statement")
    }
}

/// A PostgreSQL database made for one test and dropped after it.
struct PgDatabase {
    admin_url: String,
    name: String,
    url: String,
}

impl PgDatabase {
    async fn create() -> Option<Self> {
        let Ok(admin_url) = std::env::var("KAIROS_TEST_POSTGRES_URL") else {
            static SAID: Once = Once::new();
            SAID.call_once(|| {
                // Straight to stderr: the test harness would swallow `eprintln!`.
                let _ = std::io::stderr().write_all(
                    b"\nPostgreSQL tests skipped: KAIROS_TEST_POSTGRES_URL is not set \
                      (e.g. postgres://postgres@127.0.0.1:5432/postgres)\n",
                );
            });
            return None;
        };
        let name = format!("kairos_test_{}", Uuid::new_v4().simple());
        let mut conn = PgConnection::connect(&admin_url)
            .await
            .expect("connect to PostgreSQL");
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut conn)
            .await
            .expect("create a test database");
        let base = admin_url.split('?').next().unwrap_or(&admin_url);
        let (server, _) = base.rsplit_once('/').expect("the URL names a database");
        let url = format!("{server}/{name}");
        Some(Self {
            admin_url,
            name,
            url,
        })
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        let (admin_url, name) = (self.admin_url.clone(), self.name.clone());
        // Drop runs inside the test's runtime, which cannot block on async work: use a thread
        // with its own.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            runtime.block_on(async {
                let mut conn = PgConnection::connect(&admin_url).await?;
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                )))
                .execute(&mut conn)
                .await?;
                Ok::<_, anyhow::Error>(())
            })
        })
        .join();
        if !matches!(dropped, Ok(Ok(()))) {
            let _ = std::io::stderr().write_all(b"could not drop a test database\n");
        }
    }
}

/// A time `hours` from now, on a whole minute (so it reads back exactly).
pub fn in_hours(hours: i64) -> chrono::DateTime<chrono::Utc> {
    let t = chrono::Utc::now() + chrono::Duration::hours(hours);
    chrono::DateTime::from_timestamp(t.timestamp() - t.timestamp() % 60, 0).expect("time")
}

pub fn id_of(value: &Value) -> Uuid {
    value["id"]
        .as_str()
        .and_then(|id| id.parse().ok())
        .expect("an id")
}

impl TestApp {
    pub async fn patch(&self, path: &str, token: &str, body: &Value) -> Response {
        self.request(Method::PATCH, path)
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .expect("request")
    }

    pub async fn delete(&self, path: &str, token: &str) -> Response {
        self.request(Method::DELETE, path)
            .bearer_auth(token)
            .send()
            .await
            .expect("request")
    }

    /// Publishes a service for the provider; `fields` override the defaults.
    pub async fn published_service(&self, provider: &Login, fields: Value) -> Value {
        let mut body = json!({ "name": "Morning yoga", "durationMinutes": 60, "capacity": 10,
                               "location": "Studio 1", "timeZone": "Europe/Paris" });
        for (key, value) in fields.as_object().expect("an object") {
            body[key] = value.clone();
        }
        let response = self
            .post(
                &format!("/api/user/{}/services/create/publish", provider.id),
                &provider.token,
                &body,
            )
            .await;
        assert_eq!(response.status(), StatusCode::CREATED, "publish");
        response.json().await.expect("service")
    }

    /// Adds sessions to a service; `fields` are the request body.
    pub async fn add_sessions(
        &self,
        provider: &Login,
        service: &Value,
        fields: Value,
    ) -> Vec<Value> {
        let response = self
            .post(
                &format!(
                    "/api/user/{}/services/{}/sessions",
                    provider.id,
                    id_of(service)
                ),
                &provider.token,
                &fields,
            )
            .await;
        assert_eq!(response.status(), StatusCode::CREATED, "add sessions");
        response.json().await.expect("sessions")
    }

    /// One session `hours` from now with this capacity.
    pub async fn session(
        &self,
        provider: &Login,
        service: &Value,
        hours: i64,
        capacity: i64,
    ) -> Value {
        let body = json!({ "startsAt": in_hours(hours), "capacity": capacity });
        self.add_sessions(provider, service, body).await.remove(0)
    }

    pub async fn book(&self, customer: &Login, session: &Value) -> Response {
        self.post(
            &format!("/api/user/{}/book", customer.id),
            &customer.token,
            &json!({ "sessionId": id_of(session) }),
        )
        .await
    }

    /// Books and returns the booking; panics unless it is 201.
    pub async fn booked(&self, customer: &Login, session: &Value) -> Value {
        let response = self.book(customer, session).await;
        assert_eq!(response.status(), StatusCode::CREATED, "book");
        response.json().await.expect("booking")
    }

    /// The session's counter and its live bookings as the database holds them.
    pub async fn seats(&self, session_id: Uuid) -> (i64, i64) {
        let (booked,): (i64,) = self
            .db
            .one(
                kairos::store::sql::query("SELECT booked FROM sessions WHERE id = $1")
                    .bind(session_id),
            )
            .await;
        let live = self
            .db
            .count(
                kairos::store::sql::query(
                    "SELECT COUNT(*) FROM bookings WHERE session_id = $1 AND status <> 'Cancelled'",
                )
                .bind(session_id),
            )
            .await;
        (booked, live)
    }
}
