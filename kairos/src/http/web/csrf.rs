//! Tokens that tie every form to the login it was served to (or, before login, to a visitor
//! cookie): an HMAC of the login's id, checked in constant time.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use uuid::Uuid;

type HmacSha256 = Hmac<Sha256>;

/// The key forms are signed with, derived from the token signing secret under its own label, so
/// a CSRF token is never a signature of anything a JWT could carry.
pub struct CsrfKeys {
    key: Vec<u8>,
}

impl CsrfKeys {
    pub fn new(signing_secret: &[u8]) -> Self {
        Self {
            key: mac(signing_secret, b"kairos csrf key v1"),
        }
    }

    /// The CSRF token of a login: every form of its pages carries it.
    pub fn for_login(&self, login: Uuid) -> String {
        URL_SAFE_NO_PAD.encode(mac(&self.key, login.as_bytes()))
    }

    /// The CSRF token for a visitor not signed in, bound to the nonce in their visitor cookie.
    pub fn for_visitor(&self, nonce: &str) -> String {
        URL_SAFE_NO_PAD.encode(mac(&self.key, visitor(nonce).as_bytes()))
    }

    /// Whether `token` is the CSRF token for this login.
    pub fn check_login(&self, login: Uuid, token: &str) -> bool {
        verify(&self.key, login.as_bytes(), token)
    }

    pub fn check_visitor(&self, nonce: &str, token: &str) -> bool {
        verify(&self.key, visitor(nonce).as_bytes(), token)
    }
}

fn visitor(nonce: &str) -> String {
    format!("visitor:{nonce}")
}

fn hmac(key: &[u8]) -> HmacSha256 {
    <HmacSha256 as Mac>::new_from_slice(key).expect("HMAC takes a key of any length")
}

fn mac(key: &[u8], message: &[u8]) -> Vec<u8> {
    let mut mac = hmac(key);
    mac.update(message);
    mac.finalize().into_bytes().to_vec()
}

fn verify(key: &[u8], message: &[u8], token: &str) -> bool {
    let Ok(given) = URL_SAFE_NO_PAD.decode(token) else {
        return false;
    };
    let mut mac = hmac(key);
    mac.update(message);
    mac.verify_slice(&given).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> CsrfKeys {
        CsrfKeys::new(&[7u8; 32])
    }

    #[test]
    fn csrf_tokens_belong_to_one_login_or_visitor() {
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        let token = keys().for_login(a);
        assert!(keys().check_login(a, &token));
        assert!(!keys().check_login(b, &token));
        assert!(
            !CsrfKeys::new(&[9u8; 32]).check_login(a, &token),
            "another server's key"
        );
        assert!(!keys().check_login(a, "not-base64!"));
        let visitor = keys().for_visitor("nonce");
        assert!(keys().check_visitor("nonce", &visitor));
        assert!(!keys().check_visitor("other", &visitor));
        assert!(!keys().check_login(a, &visitor));
    }
}
