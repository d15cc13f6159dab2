//! Password hashing: argon2id with the crate's defaults (m=19456 KiB, t=2, p=1, OWASP's choice),
//! run on the blocking pool and a bounded number at once, so a login storm cannot take every core.

use std::sync::Arc;

use anyhow::{Context, anyhow};
use argon2::{
    Argon2,
    password_hash::{PasswordHasher as _, PasswordVerifier, phc::PasswordHash},
};
use tokio::sync::Semaphore;

use crate::domain::password::NewPassword;

#[derive(Clone)]
pub struct PasswordHasher {
    permits: Arc<Semaphore>,
    /// Verified against when the account does not exist, so that answer takes as long as any other.
    dummy_hash: Arc<str>,
}

impl PasswordHasher {
    pub async fn new(max_concurrent: usize) -> anyhow::Result<Self> {
        let dummy_hash = tokio::task::spawn_blocking(|| {
            hash(b"no account has this password; it only takes time")
        })
        .await??;
        Ok(Self {
            permits: Arc::new(Semaphore::new(max_concurrent.max(1))),
            dummy_hash: dummy_hash.into(),
        })
    }

    pub async fn hash(&self, password: NewPassword) -> anyhow::Result<String> {
        self.run(move || hash(password.as_bytes())).await?
    }

    /// Whether `password` matches `stored`. Without a stored hash (an unknown account) it does the
    /// same work against a dummy hash and answers false.
    pub async fn verify(&self, password: String, stored: Option<String>) -> anyhow::Result<bool> {
        let dummy = Arc::clone(&self.dummy_hash);
        self.run(move || {
            let matches = verify(password.as_bytes(), stored.as_deref().unwrap_or(&dummy));
            matches && stored.is_some()
        })
        .await
    }

    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> anyhow::Result<T> {
        let _permit = self
            .permits
            .acquire()
            .await
            .context("password hasher closed")?;
        tokio::task::spawn_blocking(work)
            .await
            .context("password hashing task failed")
    }
}

fn hash(password: &[u8]) -> anyhow::Result<String> {
    let hash: PasswordHash = Argon2::default()
        .hash_password(password)
        .map_err(|err| anyhow!("hashing a password: {err}"))?;
    Ok(hash.to_string())
}

fn verify(password: &[u8], stored: &str) -> bool {
    match PasswordHash::new(stored) {
        Ok(parsed) => Argon2::default().verify_password(password, &parsed).is_ok(),
        Err(err) => {
            tracing::error!(error = %err, "a stored password hash does not parse");
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn verifies_exactly_what_was_hashed() {
        let hasher = PasswordHasher::new(1).await.expect("hasher");
        let stored = hasher
            .hash(NewPassword::parse(" Tr0ub4dor &3 ".into()).expect("valid"))
            .await
            .expect("hash");
        assert!(stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(
            hasher
                .verify(" Tr0ub4dor &3 ".into(), Some(stored.clone()))
                .await
                .expect("verify")
        );
        assert!(
            !hasher
                .verify("Tr0ub4dor &3".into(), Some(stored.clone()))
                .await
                .expect("trim")
        );
        assert!(
            !hasher
                .verify(" tr0ub4dor &3 ".into(), Some(stored))
                .await
                .expect("case")
        );
        assert!(
            !hasher
                .verify("anything".into(), None)
                .await
                .expect("unknown account")
        );
    }
}
