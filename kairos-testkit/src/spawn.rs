//! `spawn_app()`: the real server, in this process, on port 0 with a fresh database (SQLite in a
//! temp dir, or a PostgreSQL database created for the test and dropped after it), and a client
//! that talks HTTP to it.

use std::{
    io::Write,
    path::PathBuf,
    sync::{Arc, Once},
};

use kairos::{
    app::{App, Clock},
    config::{Secret, Settings},
    startup::Application,
};
use tokio::{sync::oneshot, task::JoinHandle};

use crate::{
    database::{Backend, FreshDatabase, TestDb},
    mail::MailServer,
};

pub const ADMIN_EMAIL: &str = "admin@kairos.test";
pub const ADMIN_PASSWORD: &str = "the admin's long passphrase";
pub const PASSWORD: &str = "a perfectly fine passphrase";

/// A server under test and what a test needs to talk to it and look behind it.
pub struct TestApp {
    pub backend: Backend,
    pub address: String,
    pub client: reqwest::Client,
    /// What the database holds, read through the server's own store.
    pub db: TestDb,
    pub settings: Settings,
    pub data_dir: Arc<tempfile::TempDir>,
    /// The server's use cases, for what its background tasks call and for its clock.
    pub app: App,
    /// The SMTP server the server under test sends its mail to.
    pub mail: Arc<MailServer>,
    pg: Option<Arc<FreshDatabase>>,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<()>>,
}

/// The server on `backend` with the test defaults. `None` when PostgreSQL is asked for but
/// `KAIROS_TEST_POSTGRES_URL` is not set.
pub async fn spawn_app(backend: Backend) -> Option<TestApp> {
    spawn_app_with(backend, |_| {}).await
}

/// Like [`spawn_app`], with settings changed first.
pub async fn spawn_app_with(
    backend: Backend,
    configure: impl FnOnce(&mut Settings),
) -> Option<TestApp> {
    // `TEST_LOG=1 cargo test ...` shows the servers' logs.
    if std::env::var_os("TEST_LOG").is_some() {
        kairos::telemetry::init(kairos::config::LogFormat::Text, "info");
    }
    let data_dir = Arc::new(tempfile::tempdir().expect("temp dir"));
    let mail = Arc::new(MailServer::start().await);
    let pg = match backend {
        Backend::Sqlite => None,
        Backend::Postgres => Some(Arc::new(
            FreshDatabase::create(&postgres_url()?, "test")
                .await
                .expect("a test database"),
        )),
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
        smtp_url: Some(Secret::new(mail.url())),
        mail_from: "Kairos <bookings@kairos.test>".to_owned(),
        ..Settings::default()
    };
    configure(&mut settings);
    Some(start(backend, settings, data_dir, pg, mail).await)
}

/// `KAIROS_TEST_POSTGRES_URL`, or (once per process) a word that the PostgreSQL half skips.
fn postgres_url() -> Option<String> {
    let url = std::env::var("KAIROS_TEST_POSTGRES_URL").ok();
    if url.is_none() {
        static SAID: Once = Once::new();
        SAID.call_once(|| {
            // Straight to stderr: the test harness would swallow `eprintln!`.
            let _ = std::io::stderr().write_all(
                b"\nPostgreSQL tests skipped: KAIROS_TEST_POSTGRES_URL is not set \
                  (e.g. postgres://postgres@127.0.0.1:5432/postgres)\n",
            );
        });
    }
    url
}

async fn start(
    backend: Backend,
    settings: Settings,
    data_dir: Arc<tempfile::TempDir>,
    pg: Option<Arc<FreshDatabase>>,
    mail: Arc<MailServer>,
) -> TestApp {
    let server = Application::build(settings.clone())
        .await
        .expect("the server builds");
    let address = format!("http://127.0.0.1:{}", server.port());
    let app = server.app().clone();
    let (shutdown, stopped) = oneshot::channel::<()>();
    let running = tokio::spawn(async move {
        server
            .run_until(async {
                let _ = stopped.await;
            })
            .await
            .expect("the server runs");
    });
    TestApp {
        backend,
        address,
        client: crate::http_client()
            .redirect(reqwest::redirect::Policy::none())
            .pool_idle_timeout(settings.client_idle_timeout())
            .build()
            .expect("client"),
        db: TestDb {
            store: app.store().clone(),
        },
        settings,
        data_dir,
        app,
        mail,
        pg,
        shutdown: Some(shutdown),
        server: Some(running),
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
            Arc::clone(&self.mail),
        )
        .await
    }

    /// A second server on the same data, beside this one: on PostgreSQL, what several instances
    /// behind a load balancer are. Same database, data folder (so the same token key) and mail
    /// server; its own port and clock.
    pub async fn another_instance(&self) -> TestApp {
        start(
            self.backend,
            self.settings.clone(),
            Arc::clone(&self.data_dir),
            self.pg.clone(),
            Arc::clone(&self.mail),
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

    /// The server's clock: tests move it forward instead of rewriting rows.
    pub fn clock(&self) -> &Clock {
        self.app.clock()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub fn secret_file(&self) -> PathBuf {
        self.data_dir.path().join("jwt-secret")
    }
}

/// Runs a test body once on SQLite and once on PostgreSQL (when `KAIROS_TEST_POSTGRES_URL` is
/// set; otherwise the PostgreSQL half says it skipped).
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),+ $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let app = $crate::spawn_app($crate::Backend::Sqlite).await;
                super::$name(app.expect("SQLite is always available")).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if let Some(app) = $crate::spawn_app($crate::Backend::Postgres).await {
                    super::$name(app).await;
                }
            }
        }
    )+};
}

/// Like `on_both_backends!`, on servers whose settings `$configure` (a `fn(&mut Settings)`)
/// changed first.
#[macro_export]
macro_rules! on_both_backends_with {
    ($configure:ident => $($name:ident),+ $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let app = $crate::spawn_app_with($crate::Backend::Sqlite, super::$configure).await;
                super::$name(app.expect("SQLite is always available")).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let app = $crate::spawn_app_with($crate::Backend::Postgres, super::$configure)
                    .await;
                if let Some(app) = app {
                    super::$name(app).await;
                }
            }
        }
    )+};
}
