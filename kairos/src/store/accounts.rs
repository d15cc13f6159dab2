//! Accounts: creating, finding and changing users.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{
    Constraint, Read, Row, StoreError, Writer, on_violation, query,
    query::{Repeated, repeated_texts},
    record,
};
use crate::domain::{
    refusal::Refusal,
    user::{Role, User},
};

#[derive(Debug)]
pub struct NewUser {
    pub id: Uuid,
    pub email: String,
    pub email_key: String,
    pub password_hash: String,
    pub role: Role,
    pub now: DateTime<Utc>,
}

/// A user with the hash their password is checked against.
#[derive(Debug)]
pub struct Credentials {
    pub user: User,
    pub password_hash: String,
}

/// A user's change to their own account.
#[derive(Debug)]
pub struct UserChanges {
    pub user_id: Uuid,
    /// The new address and its key.
    pub email: Option<(String, String)>,
    pub password_hash: Option<String>,
    pub email_notifications: Option<bool>,
    /// A new password ends every other login of the user; this one is kept.
    pub current_login: Uuid,
    pub now: DateTime<Utc>,
}

/// An admin's change to someone's account.
#[derive(Debug, Default)]
pub struct AdminChanges {
    pub role: Option<Role>,
    pub is_chirpy_red: Option<bool>,
}

/// The columns [`UserRow`] reads, as a literal so `concat!` can build statements from it.
macro_rules! user_columns {
    () => {
        "id, email, role, is_chirpy_red, email_notifications, created_at, updated_at"
    };
}

record! {
    pub(crate) struct UserRow {
        id: Uuid,
        email: String,
        role: String,
        is_chirpy_red: bool,
        email_notifications: bool,
        created_at: DateTime<Utc>,
        updated_at: DateTime<Utc>,
    }
}

impl Row for UserRow {
    type Value = User;

    fn value(self) -> Result<User, StoreError> {
        let role = Role::parse(&self.role)
            .ok_or_else(|| super::corrupt(&format!("role `{}` for user {}", self.role, self.id)))?;
        Ok(User {
            id: self.id,
            email: self.email,
            role,
            is_chirpy_red: self.is_chirpy_red,
            email_notifications: self.email_notifications,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

record! {
    struct CredentialsRow {
        user: UserRow,
        password_hash: String,
    }
}

/// Fails with [`Refusal::EmailTaken`] when another account has the address, in any case.
pub async fn insert(w: &mut Writer, new: NewUser) -> Result<User, StoreError> {
    w.fetch_one::<UserRow>(
        query(concat!(
            "INSERT INTO users (id, email, email_key, password_hash, role, is_chirpy_red, \
             created_at, updated_at) VALUES ($1, $2, $3, $4, $5, FALSE, $6, $6) RETURNING ",
            user_columns!()
        ))
        .bind(new.id)
        .bind(new.email)
        .bind(new.email_key)
        .bind(new.password_hash)
        .bind(new.role.as_str())
        .bind(new.now),
    )
    .await
    .map_err(on_violation(
        Constraint::UsersEmailKey,
        StoreError::Refused(Refusal::EmailTaken),
    ))?
    .value()
}

const BY_ID: &str = concat!("SELECT ", user_columns!(), " FROM users WHERE id = $1");

pub async fn by_id(r: &mut impl Read, id: Uuid) -> Result<Option<User>, StoreError> {
    r.fetch_value::<UserRow>(query(BY_ID).bind(id)).await
}

static BY_IDS: Repeated = Repeated::new(|| {
    repeated_texts(
        concat!("SELECT ", user_columns!(), " FROM users WHERE id IN ("),
        "{}",
        ", ",
        ")",
        1,
    )
});

/// The users with these ids (those that exist), in no particular order.
pub async fn by_ids(r: &mut impl Read, ids: &[Uuid]) -> Result<Vec<User>, StoreError> {
    r.fetch_for_ids::<UserRow>(&BY_IDS, ids).await
}

pub async fn credentials(
    r: &mut impl Read,
    email_key: String,
) -> Result<Option<Credentials>, StoreError> {
    let row = r
        .fetch_optional::<CredentialsRow>(
            query(concat!(
                "SELECT ",
                user_columns!(),
                ", password_hash FROM users WHERE email_key = $1"
            ))
            .bind(email_key),
        )
        .await?;
    row.map(|row| {
        Ok(Credentials {
            user: row.user.value()?,
            password_hash: row.password_hash,
        })
    })
    .transpose()
}

/// A user's own change; a new password ends their other logins.
pub async fn update(w: &mut Writer, changes: UserChanges) -> Result<User, StoreError> {
    w.forget_cached_logins();
    let (email, email_key) = changes.email.unzip();
    let password_changed = changes.password_hash.is_some();
    let user = w
        .fetch_optional::<UserRow>(
            query(concat!(
                "UPDATE users SET email = COALESCE($2, email), \
                 email_key = COALESCE($3, email_key), \
                 password_hash = COALESCE($4, password_hash), \
                 email_notifications = COALESCE($6, email_notifications), updated_at = $5 \
                 WHERE id = $1 RETURNING ",
                user_columns!()
            ))
            .bind(changes.user_id)
            .bind(email)
            .bind(email_key)
            .bind(changes.password_hash)
            .bind(changes.now)
            .bind(changes.email_notifications),
        )
        .await
        .map_err(on_violation(
            Constraint::UsersEmailKey,
            StoreError::Refused(Refusal::EmailTaken),
        ))?
        .ok_or(StoreError::NotFound)?;
    if password_changed {
        w.execute(
            query(
                "UPDATE logins SET revoked_at = $3, revoked_reason = 'password_changed' \
                 WHERE user_id = $1 AND id <> $2 AND revoked_at IS NULL",
            )
            .bind(changes.user_id)
            .bind(changes.current_login)
            .bind(changes.now),
        )
        .await?;
    }
    user.value()
}

/// Users newest first, after the cursor user if one is given.
pub async fn list(
    r: &mut impl Read,
    after: Option<Uuid>,
    limit: u32,
) -> Result<Vec<User>, StoreError> {
    r.fetch_values::<UserRow>(
        query(concat!(
            "SELECT ",
            user_columns!(),
            " FROM users WHERE ($1 IS NULL OR id < $1) ORDER BY id DESC LIMIT $2"
        ))
        .bind(after)
        .bind(limit),
    )
    .await
}

/// An admin's change to someone's role or membership flag.
pub async fn update_by_admin(
    w: &mut Writer,
    id: Uuid,
    changes: AdminChanges,
    now: DateTime<Utc>,
) -> Result<User, StoreError> {
    w.forget_cached_logins();
    w.fetch_optional::<UserRow>(
        query(concat!(
            "UPDATE users SET role = COALESCE($2, role), \
             is_chirpy_red = COALESCE($3, is_chirpy_red), updated_at = $4 \
             WHERE id = $1 RETURNING ",
            user_columns!()
        ))
        .bind(id)
        .bind(changes.role.map(Role::as_str))
        .bind(changes.is_chirpy_red)
        .bind(now),
    )
    .await?
    .ok_or(StoreError::NotFound)?
    .value()
}
