//! What the subcommands other than `serve` do: `kairos admin create` and `kairos backup`.

use anyhow::Context;

use crate::{
    app::{App, AppError, Clock, described, passwords::PasswordHasher, tokens::TokenKeys},
    cli::{AdminCreateArgs, BackupArgs, DatabaseArgs, admin_password},
    domain::user::Role,
    store::{Location, Store, sqlite},
};

/// `kairos admin create --email E`: the password comes from `KAIROS_ADMIN_PASSWORD`, or is asked
/// for twice at the terminal.
pub async fn create_admin(args: AdminCreateArgs) -> anyhow::Result<()> {
    let password = match admin_password() {
        Some(password) => password.expose().to_owned(),
        None => prompt_password()?,
    };
    let location = location(&args.database)?;
    let store = Store::open(&location, 1).await?;
    // The command line issues no tokens; a key of its own keeps the server's secret out of it.
    let key = crate::app::tokens::random_token()?;
    let app = App::new(
        store,
        Clock::system(),
        PasswordHasher::new(1).await?,
        TokenKeys::new(key.as_bytes()),
        "",
    );
    match app.register(&args.email, password, Role::Admin).await {
        Ok(user) => {
            println!("Created admin {} ({})", user.email, user.id);
            Ok(())
        }
        Err(AppError::Validation(errors)) => {
            anyhow::bail!("the admin was not created: {}", described(&errors))
        }
        Err(AppError::Refused(refusal)) => anyhow::bail!(refusal.detail()),
        Err(other) => Err(anyhow::anyhow!("creating the admin: {other}")),
    }
}

/// `kairos backup --to FILE`: on SQLite, a consistent copy taken beside a running server,
/// checked with `PRAGMA integrity_check`; on PostgreSQL, `pg_dump` is the tool.
pub async fn backup(args: BackupArgs) -> anyhow::Result<()> {
    match location(&args.database)? {
        Location::Postgres(_) => anyhow::bail!(
            "kairos backup copies the embedded SQLite database; for PostgreSQL use pg_dump \
             (e.g. `pg_dump --format=custom --file={} \"$DATABASE_URL\"`)",
            args.to.display()
        ),
        Location::Sqlite(path) => {
            let verdict = sqlite::backup(&path, &args.to)
                .await
                .with_context(|| format!("backing up {}", path.display()))?;
            anyhow::ensure!(
                verdict == "ok",
                "the copy at {} failed its integrity check: {verdict}",
                args.to.display()
            );
            println!(
                "Backed up {} to {} (integrity_check: ok)",
                path.display(),
                args.to.display()
            );
            Ok(())
        }
    }
}

fn location(database: &DatabaseArgs) -> anyhow::Result<Location> {
    std::fs::create_dir_all(&database.data_dir)?;
    Location::from_settings(database.url(), &database.data_dir)
}

fn prompt_password() -> anyhow::Result<String> {
    let first = rpassword::prompt_password("Password for the new admin: ")
        .context("reading the password (set KAIROS_ADMIN_PASSWORD when there is no terminal)")?;
    let second = rpassword::prompt_password("Again: ").context("reading the password")?;
    if first != second {
        anyhow::bail!("the two passwords differ");
    }
    Ok(first)
}
