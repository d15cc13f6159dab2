//! Webhook secrets at rest: sealed (ChaCha20-Poly1305) with a key derived from the server's own
//! secret, so a copy of the database alone cannot sign deliveries; the receiver has the secret,
//! Kairos needs it back to sign, so it is sealed rather than hashed.

use base64::{Engine, engine::general_purpose::STANDARD};
use chacha20poly1305::{
    ChaCha20Poly1305, KeyInit, Nonce,
    aead::{Aead, AeadCore, OsRng},
};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::AppError;

/// Seals and opens webhook secrets.
#[derive(Clone)]
pub struct SecretSeal {
    cipher: ChaCha20Poly1305,
}

impl SecretSeal {
    /// The seal of a server whose secret is `server_secret` (the token signing secret): the
    /// key is derived from it for this one use.
    pub fn new(server_secret: &[u8]) -> Self {
        let Ok(mut mac) = <Hmac<Sha256> as Mac>::new_from_slice(server_secret) else {
            unreachable!("HMAC takes a key of any length")
        };
        mac.update(b"kairos webhook secrets v1");
        let key = mac.finalize().into_bytes();
        Self {
            cipher: ChaCha20Poly1305::new(&key),
        }
    }

    /// `nonce || ciphertext`, in base64.
    pub fn seal(&self, secret: &[u8]) -> Result<String, AppError> {
        let nonce = ChaCha20Poly1305::generate_nonce(&mut OsRng);
        let sealed = self
            .cipher
            .encrypt(&nonce, secret)
            .map_err(|_| AppError::internal(anyhow::anyhow!("sealing a webhook secret")))?;
        let mut out = nonce.to_vec();
        out.extend(sealed);
        Ok(STANDARD.encode(out))
    }

    /// The secret, if it was sealed with this server's key.
    pub fn open(&self, sealed: &str) -> Option<Vec<u8>> {
        let bytes = STANDARD.decode(sealed).ok()?;
        if bytes.len() < 12 {
            return None;
        }
        let (nonce, ciphertext) = bytes.split_at(12);
        let nonce: [u8; 12] = nonce.try_into().ok()?;
        self.cipher.decrypt(&Nonce::from(nonce), ciphertext).ok()
    }
}

/// 32 random bytes: a new webhook secret's key.
pub fn new_secret_key() -> Result<Vec<u8>, AppError> {
    let mut key = vec![0u8; 32];
    getrandom::fill(&mut key)
        .map_err(|err| AppError::internal(anyhow::anyhow!("no randomness: {err}")))?;
    Ok(key)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_secret_opens_only_with_the_same_server_secret() {
        let seal = SecretSeal::new(&[1; 32]);
        let sealed = seal.seal(b"the receiver's key").unwrap();
        assert!(!sealed.contains("receiver"));
        assert_eq!(seal.open(&sealed).unwrap(), b"the receiver's key");
        assert_eq!(SecretSeal::new(&[2; 32]).open(&sealed), None);
        assert_ne!(
            seal.seal(b"the receiver's key").unwrap(),
            sealed,
            "a fresh nonce each time"
        );
    }
}
