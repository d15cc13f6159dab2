//! Building and running the server: `Application::build` opens the database, binds the listener
//! and exposes the port, so tests run the real server on port 0.

use std::{future::Future, net::SocketAddr, sync::Arc, time::Duration};

use anyhow::{Context, bail};
use axum::Router;
use tokio::{net::TcpListener, sync::watch};

use crate::{
    app::{App, Clock, SecretSeal, WebhookSettings, passwords::PasswordHasher, tokens::TokenKeys},
    config::Settings,
    domain::{destination::AllowedNetworks, notice::mail_host},
    http::{self, HttpState},
    outbox::{Letterhead, Mailer, WebhookClient, Worker},
    secret::signing_secret,
    store::{Location, Store},
};

/// How often the housekeeping pass runs.
pub const HOUSEKEEPING_EVERY: Duration = Duration::from_secs(60);

pub struct Application {
    listener: TcpListener,
    router: Router,
    state: HttpState,
    outbox: Worker,
}

/// How long a stopping server waits for the outbox's batch in hand.
const OUTBOX_STOP_WAIT: Duration = Duration::from_secs(20);

impl Application {
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        std::fs::create_dir_all(&settings.data_dir)
            .with_context(|| format!("creating the data dir {}", settings.data_dir.display()))?;
        let location =
            Location::from_settings(settings.database_url.as_deref(), &settings.data_dir)?;
        let store = Store::open(&location, settings.db_pool_size).await?;
        let passwords = PasswordHasher::new(settings.password_hash_concurrency).await?;
        let secret = signing_secret(settings.jwt_secret.as_ref(), &settings.data_dir)?;
        let listener = TcpListener::bind(&settings.addr)
            .await
            .with_context(|| format!("binding {}", settings.addr))?;
        let public_url = match &settings.public_url {
            Some(url) => url.clone(),
            None => format!("http://{}", listener.local_addr()?),
        };
        // Checked when a webhook is saved (the app) and when it is sent (the client): one list.
        let allowed = Arc::new(AllowedNetworks::new(
            settings.webhook_allow_networks.clone(),
        ));
        let app = App::new(
            store,
            Clock::system(),
            passwords,
            TokenKeys::new(&secret),
            &public_url,
        )
        .with_webhook_settings(WebhookSettings {
            seal: SecretSeal::new(&secret),
            allowed: Arc::clone(&allowed),
        });
        match (&settings.admin_email, &settings.admin_password) {
            (Some(email), Some(password)) => {
                app.ensure_admin(email, password.expose().to_owned())
                    .await?;
            }
            (Some(_), None) => bail!("KAIROS_ADMIN_EMAIL is set but KAIROS_ADMIN_PASSWORD is not"),
            _ => {}
        }
        let mailer = Mailer::new(settings.smtp_url.as_ref(), &settings.data_dir)?;
        tracing::info!("{}", mailer.describe());
        let letterhead = Letterhead {
            from: settings.mail_from.parse().with_context(|| {
                format!("--mail-from `{}` is not a mail address", settings.mail_from)
            })?,
            public_url: public_url.trim_end_matches('/').to_owned(),
            host: mail_host(&public_url),
        };
        let webhooks = WebhookClient::new(allowed)?;
        let outbox = Worker::new(app.clone(), mailer, letterhead, webhooks);
        let state = HttpState::new(app, settings, &secret);
        let router = http::router(state.clone());
        Ok(Self {
            listener,
            router,
            state,
            outbox,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 0)))
    }

    pub fn port(&self) -> u16 {
        self.local_addr().port()
    }

    /// The use cases this server runs (with its clock and database), for tests.
    pub fn app(&self) -> &App {
        &self.state.app
    }

    /// Serves until SIGTERM or ctrl-c, then lets in-flight requests finish.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        self.run_until(shutdown_signal()).await
    }

    /// Serves until `shutdown` completes, then lets in-flight requests finish.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let housekeeping = tokio::spawn(housekeeping(self.state.clone()));
        let (stop_outbox, stopping) = watch::channel(false);
        let mut outbox = tokio::spawn(self.outbox.run(stopping));
        let header_read_timeout = self.state.settings.header_read_timeout;
        http::serve::serve(self.listener, self.router, header_read_timeout, shutdown).await;
        housekeeping.abort();
        // What is claimed and not sent when we stop waiting goes out once its claim lapses.
        let _ = stop_outbox.send(true);
        if tokio::time::timeout(OUTBOX_STOP_WAIT, &mut outbox)
            .await
            .is_err()
        {
            tracing::warn!("the outbox did not finish its batch in time; its claims will lapse");
            outbox.abort();
        }
        Ok(())
    }
}

/// Runs a housekeeping pass now and then every [`HOUSEKEEPING_EVERY`], until the task is dropped.
async fn housekeeping(state: HttpState) {
    let mut tick = tokio::time::interval(HOUSEKEEPING_EVERY);
    loop {
        tick.tick().await;
        if let Err(err) = state.app.housekeeping().await {
            tracing::warn!(error = %err, "housekeeping failed; it runs again in a minute");
        }
        state.rate_limits.forget_idle();
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down; finishing requests in flight");
}
