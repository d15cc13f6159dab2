//! Accounts: signing up, changing your own, and what admins do to anyone's (create with any
//! role, list, change role and membership). One way to create an account, for sign-up, an
//! admin's create, the command line and start-up.

use futures_util::FutureExt;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{App, AppError, Caller, PageRequest, access::require_admin};
use crate::{
    domain::{
        FieldError,
        email::Email,
        id::new_id,
        page::Page,
        password::NewPassword,
        refusal::Refusal,
        user::{Role, User},
    },
    store::accounts::{self, AdminChanges, NewUser},
};

/// A new e-mail address, a new password, whether to get mail: at least one of them.
#[derive(Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AccountChanges {
    #[schema(example = "ann@example.org", format = Email, max_length = 254)]
    pub email: Option<String>,
    /// 8 to 128 characters; the most common passwords are refused.
    #[schema(format = Password, min_length = 8, max_length = 128)]
    pub password: Option<String>,
    /// False: Kairos sends this account no mail (confirmations, changes, reminders).
    #[serde(rename = "emailNotifications")]
    pub email_notifications: Option<bool>,
}

/// An account an admin makes, with any role.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAccount {
    #[schema(example = "clinic@example.org", format = Email, max_length = 254)]
    pub email: String,
    /// 8 to 128 characters; the most common passwords are refused.
    #[schema(format = Password, min_length = 8, max_length = 128)]
    pub password: String,
    pub role: Role,
}

/// A new role, a new membership flag, or both: at least one of them.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct UserChangesByAdmin {
    pub role: Option<Role>,
    pub is_chirpy_red: Option<bool>,
}

impl App {
    /// Sign-up: a customer's account.
    pub async fn sign_up(&self, email: &str, password: String) -> Result<User, AppError> {
        self.register(email, password, Role::Customer).await
    }

    /// Validates both fields (reporting every problem at once), hashes the password and stores
    /// the account. A taken address is [`Refusal::EmailTaken`].
    pub async fn register(
        &self,
        email: &str,
        password: String,
        role: Role,
    ) -> Result<User, AppError> {
        let mut errors = Vec::new();
        let email = Email::parse(email)
            .map_err(|message| errors.push(FieldError::new("email", message)))
            .ok();
        let password = NewPassword::parse(password)
            .map_err(|message| errors.push(FieldError::new("password", message)))
            .ok();
        let (Some(email), Some(password)) = (email, password) else {
            return Err(AppError::Validation(errors));
        };
        let password_hash = self
            .passwords
            .hash(password)
            .await
            .map_err(AppError::Internal)?;
        let new = NewUser {
            id: new_id(),
            email_key: email.key(),
            email: email.as_str().to_owned(),
            password_hash,
            role,
            now: self.now(),
        };
        Ok(self
            .store
            .write(move |w| accounts::insert(w, new).boxed())
            .await?)
    }

    /// Creates the admin named at start-up unless an account already has that address.
    pub async fn ensure_admin(&self, email: &str, password: String) -> anyhow::Result<()> {
        match self.register(email, password, Role::Admin).await {
            Ok(user) => {
                tracing::info!(user_id = %user.id, "created the admin account named by KAIROS_ADMIN_EMAIL");
                Ok(())
            }
            Err(AppError::Refused(Refusal::EmailTaken)) => {
                tracing::info!("an account with KAIROS_ADMIN_EMAIL exists; left as it is");
                Ok(())
            }
            Err(AppError::Validation(errors)) => {
                anyhow::bail!(
                    "the admin account cannot be created: {}",
                    described(&errors)
                )
            }
            Err(other) => Err(anyhow::anyhow!("creating the admin account: {other}")),
        }
    }

    /// Your own e-mail address, password and/or whether you get mail. A new password ends your
    /// other logins; this one stays, and no new tokens are issued.
    pub async fn change_account(
        &self,
        caller: &Caller,
        changes: AccountChanges,
    ) -> Result<User, AppError> {
        if changes.email.is_none()
            && changes.password.is_none()
            && changes.email_notifications.is_none()
        {
            return Err(AppError::field(
                "body",
                "give a new `email`, a new `password` or `emailNotifications`",
            ));
        }
        let mut errors = Vec::new();
        let email = changes
            .email
            .map(|raw| Email::parse(&raw))
            .transpose()
            .map_err(|message| errors.push(FieldError::new("email", message)))
            .ok()
            .flatten();
        let password = changes
            .password
            .map(NewPassword::parse)
            .transpose()
            .map_err(|message| errors.push(FieldError::new("password", message)))
            .ok()
            .flatten();
        if !errors.is_empty() {
            return Err(AppError::Validation(errors));
        }
        let password_hash = match password {
            Some(password) => Some(
                self.passwords
                    .hash(password)
                    .await
                    .map_err(AppError::Internal)?,
            ),
            None => None,
        };
        let changes = accounts::UserChanges {
            user_id: caller.id(),
            email: email.map(|email| (email.as_str().to_owned(), email.key())),
            password_hash,
            email_notifications: changes.email_notifications,
            current_login: caller.login_id,
            now: self.now(),
        };
        Ok(self
            .store
            .write(move |w| accounts::update(w, changes).boxed())
            .await?)
    }

    /// An admin creates an account of any role, under the path of an admin (their own, or
    /// another admin's).
    pub async fn create_account(
        &self,
        caller: &Caller,
        admin_id: Uuid,
        account: NewAccount,
    ) -> Result<User, AppError> {
        require_admin(caller)?;
        if admin_id != caller.id() {
            let named = self
                .store
                .read(move |r| accounts::by_id(r, admin_id).boxed())
                .await?;
            match named {
                Some(user) if user.role == Role::Admin => {}
                Some(_) => return Err(AppError::Forbidden),
                None => return Err(AppError::NotFound("user")),
            }
        }
        self.register(&account.email, account.password, account.role)
            .await
    }

    /// Every account, newest first (admins only).
    pub async fn users(&self, caller: &Caller, page: &PageRequest) -> Result<Page<User>, AppError> {
        require_admin(caller)?;
        let (limit, after) = page.by_id()?;
        let rows = self
            .store
            .read(move |r| accounts::list(r, after, limit + 1).boxed())
            .await?;
        Ok(Page::from_overfetch(rows, limit, |user| {
            user.id.simple().to_string()
        }))
    }

    /// An admin changes someone's role or membership flag. Admins cannot demote themselves, so
    /// an instance is never left without the admin who was using it.
    pub async fn change_user(
        &self,
        caller: &Caller,
        user_id: Uuid,
        changes: UserChangesByAdmin,
    ) -> Result<User, AppError> {
        require_admin(caller)?;
        if changes.role.is_none() && changes.is_chirpy_red.is_none() {
            return Err(AppError::field(
                "body",
                "give a `role`, an `isChirpyRed`, or both",
            ));
        }
        if user_id == caller.id() && changes.role.is_some_and(|role| role != Role::Admin) {
            return Err(Refusal::CannotDemoteSelf.into());
        }
        let changes = AdminChanges {
            role: changes.role,
            is_chirpy_red: changes.is_chirpy_red,
        };
        let now = self.now();
        self.store
            .write(move |w| accounts::update_by_admin(w, user_id, changes, now).boxed())
            .await
            .map_err(AppError::or_missing("user"))
    }
}

/// Field errors as one line, for messages outside HTTP (start-up, the command line).
pub fn described(errors: &[FieldError]) -> String {
    errors
        .iter()
        .map(|e| format!("{} {}", e.field, e.message))
        .collect::<Vec<_>>()
        .join("; ")
}
