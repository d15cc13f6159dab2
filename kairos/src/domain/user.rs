//! Accounts: who someone is and what they may do.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// What an account may do. Sign-up makes customers; an admin makes the rest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Customer,
    Provider,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Customer => "customer",
            Role::Provider => "provider",
            Role::Admin => "admin",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "customer" => Some(Role::Customer),
            "provider" => Some(Role::Provider),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }
}

/// An account as the API shows it: never with its password hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct User {
    pub id: Uuid,
    /// As typed at sign-up (trimmed), with the domain lower-cased.
    pub email: String,
    pub role: Role,
    /// The seeds' membership flag; false unless an admin sets it.
    pub is_chirpy_red: bool,
    /// Whether Kairos mails this user (confirmations, changes, reminders). True unless the user
    /// turns it off.
    pub email_notifications: bool,
    pub created_at: DateTime<Utc>,
    /// When the address, password, role or flag last changed.
    pub updated_at: DateTime<Utc>,
}
