//! `kairos admin ...`: tasks run against the database without the server.

use anyhow::Context;

use crate::{
    auth::{accounts::register, password::PasswordHasher},
    config::Settings,
    domain::user::Role,
    error::ApiError,
    store::{self, Location},
};

/// `kairos admin create --email E`: the password comes from `KAIROS_ADMIN_PASSWORD`, or is asked
/// for twice at the terminal.
pub async fn create_admin(settings: &Settings, email: &str) -> anyhow::Result<()> {
    let password = match &settings.admin_password {
        Some(password) => password.expose().to_owned(),
        None => prompt_password()?,
    };
    std::fs::create_dir_all(&settings.data_dir)?;
    let location = Location::from_settings(settings.database_url.as_deref(), &settings.data_dir)?;
    let store = store::open(&location, 1).await?;
    let passwords = PasswordHasher::new(1).await?;
    match register(store.as_ref(), &passwords, email, password, Role::Admin).await {
        Ok(user) => {
            println!("Created admin {} ({})", user.email, user.id);
            Ok(())
        }
        Err(ApiError::Validation(errors)) => {
            for error in errors {
                eprintln!("{}: {}", error.field, error.message);
            }
            anyhow::bail!("the admin was not created")
        }
        Err(ApiError::Conflict { detail, .. }) => anyhow::bail!(detail),
        Err(other) => Err(anyhow::anyhow!("creating the admin: {other}")),
    }
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
