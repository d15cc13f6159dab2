//! Fresh data for a server under test: a temporary directory (the SQLite file, the secret), and
//! for PostgreSQL a database made for it and dropped after, whatever happens.

use std::io::Write;

use anyhow::{Context, Result};
use futures_util::FutureExt;
use kairos::store::{
    Query, Read, Record, Store,
    fixtures::{create_postgres_database, drop_postgres_database},
};

/// Which database a test or a run uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A PostgreSQL database made for one test or run, dropped when this is.
#[derive(Debug)]
pub struct FreshDatabase {
    admin_url: String,
    name: String,
    /// The URL of the new database.
    pub url: String,
}

impl FreshDatabase {
    /// Creates `kairos_<prefix>_<random>` on the server `admin_url` points at.
    pub async fn create(admin_url: &str, prefix: &str) -> Result<Self> {
        let name = format!("kairos_{prefix}_{}", uuid::Uuid::new_v4().simple());
        create_postgres_database(admin_url, &name)
            .await
            .context("creating a PostgreSQL database")?;
        let base = admin_url.split('?').next().unwrap_or(admin_url);
        let (server, _) = base
            .rsplit_once('/')
            .context("the PostgreSQL URL names a database")?;
        Ok(Self {
            url: format!("{server}/{name}"),
            admin_url: admin_url.to_owned(),
            name,
        })
    }
}

impl Drop for FreshDatabase {
    fn drop(&mut self) {
        let (admin_url, name) = (self.admin_url.clone(), self.name.clone());
        // Drop may run inside a runtime, which cannot block on async work: use a thread with
        // its own.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|err| err.to_string())?;
            runtime
                .block_on(drop_postgres_database(&admin_url, &name))
                .map_err(|err| err.to_string())
        })
        .join();
        if !matches!(dropped, Ok(Ok(()))) {
            let _ = std::io::stderr().write_all(b"could not drop a test database\n");
        }
    }
}

/// Where a server keeps its data: a temporary directory, and for PostgreSQL a fresh database.
pub struct Data {
    pub dir: tempfile::TempDir,
    pub postgres: Option<FreshDatabase>,
}

impl Data {
    /// SQLite in a new temporary directory, or a new PostgreSQL database on `postgres` (the URL
    /// of any database on the server, used to make and drop the new one).
    pub async fn fresh(postgres: Option<&str>) -> Result<Self> {
        let postgres = match postgres {
            Some(url) => Some(FreshDatabase::create(url, "run").await?),
            None => None,
        };
        Ok(Self {
            dir: tempfile::tempdir()?,
            postgres,
        })
    }

    /// SQLite in a directory the caller chose (the fault tests put it on a small tmpfs).
    pub fn sqlite_in(dir: tempfile::TempDir) -> Self {
        Self {
            dir,
            postgres: None,
        }
    }

    /// `DATABASE_URL` for a server on this data (none: SQLite in the directory).
    pub fn database_url(&self) -> Option<&str> {
        self.postgres.as_ref().map(|db| db.url.as_str())
    }
}

/// What the database of a test's server holds now, read through the server's own store (so on
/// SQLite a change goes through its single writer, like any other).
#[derive(Clone)]
pub struct TestDb {
    pub(crate) store: Store,
}

impl TestDb {
    pub async fn one<R: Record + 'static>(&self, query: Query) -> R {
        self.store
            .read(move |r| r.fetch_one(query.clone()).boxed())
            .await
            .expect("query")
    }

    pub async fn all<R: Record + 'static>(&self, query: Query) -> Vec<R> {
        self.store
            .read(move |r| r.fetch_all(query.clone()).boxed())
            .await
            .expect("query")
    }

    pub async fn count(&self, query: Query) -> i64 {
        self.one::<(i64,)>(query).await.0
    }

    pub async fn execute(&self, query: Query) -> u64 {
        self.store
            .write(move |w| w.execute(query).boxed())
            .await
            .expect("statement")
    }
}
