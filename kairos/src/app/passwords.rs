//! Password hashing: argon2id with the crate's defaults (m=19456 KiB, t=2, p=1, OWASP's choice),
//! run on the blocking pool and a bounded number at once, so a login storm cannot take every core.

use std::sync::Arc;

use anyhow::{Context, anyhow};
use argon2::{
    Argon2,
    password_hash::{PasswordHasher as _, PasswordVerifier, phc::PasswordHash},
};

use crate::domain::password::NewPassword;

/// Hashes passwords on a few dedicated threads (one by default), so a login storm takes at most
/// that many cores, and each thread's allocator reuses the same 19 MiB instead of every blocking
/// thread keeping its own copy.
#[derive(Clone)]
pub struct PasswordHasher {
    jobs: std::sync::mpsc::SyncSender<Job>,
    /// Verified against when the account does not exist, so that answer takes as long as any other.
    dummy_hash: Arc<str>,
}

type Job = Box<dyn FnOnce() + Send>;

impl PasswordHasher {
    pub async fn new(threads: usize) -> anyhow::Result<Self> {
        let (jobs, queue) = std::sync::mpsc::sync_channel::<Job>(1024);
        let queue = Arc::new(std::sync::Mutex::new(queue));
        for n in 0..threads.max(1) {
            let queue = Arc::clone(&queue);
            std::thread::Builder::new()
                .name(format!("kairos-argon2-{n}"))
                .spawn(move || {
                    loop {
                        // Take the next job, or stop when every sender is gone.
                        let job = match queue.lock() {
                            Ok(queue) => queue.recv(),
                            Err(_) => return,
                        };
                        match job {
                            Ok(job) => job(),
                            Err(_) => return,
                        }
                    }
                })
                .context("starting a password hashing thread")?;
        }
        let mut hasher = Self {
            jobs,
            dummy_hash: Arc::from(""),
        };
        let dummy = hasher
            .run(|| hash(b"no account has this password; it only takes time"))
            .await??;
        hasher.dummy_hash = dummy.into();
        Ok(hasher)
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
        let (answer, answered) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            let _ = answer.send(work());
        });
        // The queue is deep; when even it is full, wait for room off the async threads.
        let jobs = self.jobs.clone();
        match jobs.try_send(job) {
            Ok(()) => {}
            Err(std::sync::mpsc::TrySendError::Full(job)) => {
                tokio::task::spawn_blocking(move || jobs.send(job).is_ok())
                    .await
                    .context("queueing a password hash")?
                    .then_some(())
                    .context("password hasher stopped")?;
            }
            Err(std::sync::mpsc::TrySendError::Disconnected(_)) => {
                anyhow::bail!("password hasher stopped")
            }
        }
        answered.await.context("password hashing failed")
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
