//! `scale`: `book` and `read` on a server whose database already holds many bookings, loaded
//! straight through the store (the API would take hours for a million).

use anyhow::{Context, Result};
use chrono::Utc;
use futures_util::FutureExt;
use kairos::{
    app::passwords::PasswordHasher,
    domain::{
        password::NewPassword,
        service::{ServiceChanges, ServiceSpec, ServiceStatus},
        user::Role,
    },
    store::{
        Location, Store, accounts,
        accounts::NewUser,
        fixtures::{BulkBookings, bulk_load},
        services,
    },
};
use kairos_testkit::{Data, MailServer, ServerProcess};
use serde_json::json;
use uuid::Uuid;

use super::{
    BenchArgs,
    client::Http,
    fixtures,
    load::Outcome,
    scenarios::{World, book, read},
    server,
};

/// `book` and `read` on a server whose database already holds `size` bookings.
pub async fn scale(args: &BenchArgs, size: u64) -> Result<Vec<Outcome>> {
    let data = Data::fresh(args.postgres().as_deref()).await?;
    let started = std::time::Instant::now();
    let per_session = 50;
    let customers = (size / 10).clamp(per_session, 100_000);
    load(&data, size, per_session, customers).await?;
    let loaded = started.elapsed().as_secs_f64();
    // The mail sink is bound so it serves until the run ends.
    let Serving {
        mut server,
        world,
        mail: _mail,
    } = serve_loaded(&data, args).await?;
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
    drop(data);
    Ok(vec![booking, reading])
}

/// A server started on loaded data, with a world of one customer per client holding their
/// bookings, and the mail sink it sends to (kept as long as this is).
pub struct Serving {
    pub server: ServerProcess,
    pub world: World,
    pub mail: Option<MailServer>,
}

pub async fn serve_loaded(data: &Data, args: &BenchArgs) -> Result<Serving> {
    let mail = super::mail::start(args.mail).await;
    let smtp_url = mail.as_ref().map(|smtp| smtp.url());
    let server = server::start(data, args.db_pool_size, smtp_url.as_deref(), false).await?;
    let world = World::make(
        Http::new(&server.url("")),
        server::own_admin(),
        args.clients,
        args.clients,
        600,
    )
    .await?;
    world.hold_bookings().await?;
    Ok(Serving {
        server,
        world,
        mail,
    })
}

/// What a bulk load leaves for more fixtures: the store, the customers' password hash and the
/// service whose sessions were loaded.
pub struct Loaded {
    pub store: Store,
    pub password_hash: String,
    pub service_id: Uuid,
}

/// Loads `size` bookings, `per_session` in each session (which are then full), by `customers`
/// customers (`bulk-<n>@bench.invalid`, password [`fixtures::PASSWORD`]), straight through the
/// store.
pub async fn load(data: &Data, size: u64, per_session: u64, customers: u64) -> Result<Loaded> {
    let location = Location::from_settings(data.database_url(), data.dir.path())?;
    let store = Store::open(&location, 4).await?;
    let password = NewPassword::parse(fixtures::PASSWORD.to_owned()).map_err(anyhow::Error::msg)?;
    let hash = PasswordHasher::new(1).await?.hash(password).await?;
    let now = kairos::domain::clock::truncate_to_micros(Utc::now());
    let provider = NewUser {
        id: Uuid::now_v7(),
        email: "bulk-provider@bench.invalid".into(),
        email_key: "bulk-provider@bench.invalid".into(),
        password_hash: hash.clone(),
        role: Role::Provider,
        now,
    };
    let spec = ServiceSpec::defaults()
        .apply(ServiceChanges {
            name: Some("Bulk".into()),
            ..Default::default()
        })
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let (provider_id, service_id) = (provider.id, Uuid::now_v7());
    store
        .write(move |w| {
            async move {
                accounts::insert(w, provider).await?;
                let published = ServiceStatus::Published;
                services::insert(w, service_id, provider_id, spec, published, now).await
            }
            .boxed()
        })
        .await?;
    let fixture = BulkBookings {
        customers,
        sessions: size.div_ceil(per_session).max(1),
        bookings: size,
        password_hash: hash.clone(),
        provider_id,
        service_id,
        first_start: Utc::now() + chrono::Duration::days(400),
        now,
    };
    bulk_load(&store, fixture)
        .await
        .context("bulk loading bookings")?;
    Ok(Loaded {
        store,
        password_hash: hash,
        service_id,
    })
}
