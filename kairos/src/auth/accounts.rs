//! Creating accounts, the same way for sign-up, an admin's create, the CLI and start-up.

use crate::{
    auth::password::PasswordHasher,
    domain::{
        FieldError, clock,
        email::Email,
        id::new_id,
        password::NewPassword,
        user::{Role, User},
    },
    error::ApiError,
    store::{NewUser, Store},
};

/// Validates both fields (reporting every problem at once), hashes the password and stores the
/// account. A taken address is [`ApiError::Conflict`] with code `email_taken`.
pub async fn register(
    store: &dyn Store,
    passwords: &PasswordHasher,
    email: &str,
    password: String,
    role: Role,
) -> Result<User, ApiError> {
    let mut errors = Vec::new();
    let email = Email::parse(email)
        .map_err(|message| errors.push(FieldError::new("email", message)))
        .ok();
    let password = NewPassword::parse(password)
        .map_err(|message| errors.push(FieldError::new("password", message)))
        .ok();
    let (Some(email), Some(password)) = (email, password) else {
        return Err(ApiError::Validation(errors));
    };
    let password_hash = passwords.hash(password).await.map_err(ApiError::Internal)?;
    let user = store
        .create_user(NewUser {
            id: new_id(),
            email_key: email.key(),
            email: email.as_str().to_owned(),
            password_hash,
            role,
            now: clock::now(),
        })
        .await?;
    Ok(user)
}

/// Creates the admin named at start-up unless an account already has that address.
pub async fn ensure_admin(
    store: &dyn Store,
    passwords: &PasswordHasher,
    email: &str,
    password: String,
) -> anyhow::Result<()> {
    match register(store, passwords, email, password, Role::Admin).await {
        Ok(user) => {
            tracing::info!(user_id = %user.id, "created the admin account named by KAIROS_ADMIN_EMAIL");
            Ok(())
        }
        Err(ApiError::Conflict { .. }) => {
            tracing::info!("an account with KAIROS_ADMIN_EMAIL exists; left as it is");
            Ok(())
        }
        Err(ApiError::Validation(errors)) => {
            let problems: Vec<String> = errors
                .iter()
                .map(|e| format!("{} {}", e.field, e.message))
                .collect();
            anyhow::bail!(
                "the admin account cannot be created: {}",
                problems.join("; ")
            )
        }
        Err(other) => Err(anyhow::anyhow!("creating the admin account: {other}")),
    }
}
