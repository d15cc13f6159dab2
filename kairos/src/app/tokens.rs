//! Access tokens (JWT, HS256 only) and refresh tokens (256 random bits, stored as SHA-256).

use std::{collections::HashMap, sync::Mutex};

use anyhow::Context;
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::{DateTime, Duration, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

pub const ACCESS_TOKEN_SECONDS: i64 = 3600;
/// Counted from login; rotating a refresh token does not extend it.
pub const LOGIN_DAYS: i64 = 60;
const LEEWAY_SECONDS: i64 = 30;
const ISSUER: &str = "kairos";
const AUDIENCE: &str = "kairos-api";
/// Verified tokens kept at most (a few hundred bytes each); the set is emptied when full.
const VERIFIED_KEPT: usize = 4096;

/// What an access token says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The user.
    pub sub: Uuid,
    /// The login (the claim keeps OpenID's name, `sid`); ending the login ends the token.
    #[serde(rename = "sid")]
    pub login: Uuid,
    pub iss: String,
    pub aud: String,
    pub iat: i64,
    pub exp: i64,
    /// Not before: we never set it, but a token that has one is held to it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<i64>,
    pub jti: Uuid,
}

/// The signing key and the one way tokens are checked. Lives in the application context, never a
/// global.
pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    /// Tokens whose signature and claims were checked, with what they say. That check depends
    /// on the token and the key alone (time is checked after it, on every request), and a token
    /// comes back with every request of its login for an hour: checking it again (the
    /// signature, the header's JSON, the claims' JSON twice, as jsonwebtoken reads them) was 8%
    /// of the server's time on a page of bookings. Only tokens that passed are kept, so no
    /// one but the key's holder can fill it.
    verified: Mutex<HashMap<Box<str>, Claims>>,
}

impl TokenKeys {
    pub fn new(secret: &[u8]) -> Self {
        // HS256 is pinned: `none` and every other `alg` in a token's header are refused.
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "sub", "iss", "aud"]);
        // Time is checked against the application's clock below, not the system's, so a test
        // that moves the clock sees tokens expire.
        validation.validate_exp = false;
        validation.validate_nbf = false;
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            verified: Mutex::new(HashMap::new()),
        }
    }

    pub fn issue(&self, user: Uuid, login: Uuid, now: DateTime<Utc>) -> anyhow::Result<String> {
        let iat = now.timestamp();
        let claims = Claims {
            sub: user,
            login,
            iss: ISSUER.to_owned(),
            aud: AUDIENCE.to_owned(),
            iat,
            exp: iat + ACCESS_TOKEN_SECONDS,
            nbf: None,
            jti: Uuid::new_v4(),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .context("signing an access token")
    }

    /// The claims of a token that is well-formed, signed by us with HS256, for us, and current
    /// at `now` (with 30 s of leeway). Whether its login is still live is the store's question.
    pub fn verify(&self, token: &str, now: DateTime<Utc>) -> Option<Claims> {
        let claims = match self.already_verified(token) {
            Some(claims) => claims,
            None => {
                let claims =
                    jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
                        .ok()?
                        .claims;
                self.keep_verified(token, &claims);
                claims
            }
        };
        let now = now.timestamp();
        let expired = claims.exp < now - LEEWAY_SECONDS;
        let early = claims.nbf.is_some_and(|nbf| nbf > now + LEEWAY_SECONDS);
        (!expired && !early).then_some(claims)
    }

    fn already_verified(&self, token: &str) -> Option<Claims> {
        self.verified.lock().ok()?.get(token).cloned()
    }

    fn keep_verified(&self, token: &str, claims: &Claims) {
        // A poisoned lock only means the set goes unused: every token is then checked in full.
        if let Ok(mut verified) = self.verified.lock() {
            if verified.len() >= VERIFIED_KEPT {
                verified.clear();
            }
            verified.insert(token.into(), claims.clone());
        }
    }
}

/// 256 random bits, URL-safe: for refresh tokens, feed tokens and visitor nonces.
pub fn random_token() -> anyhow::Result<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|err| anyhow::anyhow!("no randomness: {err}"))?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

/// A new refresh token, and the hash that is all the database keeps of it.
pub fn new_refresh_token() -> anyhow::Result<(String, Vec<u8>)> {
    let token = random_token()?;
    let hash = hash_refresh_token(&token);
    Ok((token, hash))
}

pub fn hash_refresh_token(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

pub fn login_expiry(login_at: DateTime<Utc>) -> DateTime<Utc> {
    login_at + Duration::days(LOGIN_DAYS)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> TokenKeys {
        TokenKeys::new(&[7u8; 32])
    }

    #[test]
    fn a_token_we_issue_verifies_and_names_its_login() {
        let (user, login, now) = (Uuid::now_v7(), Uuid::now_v7(), Utc::now());
        let token = keys().issue(user, login, now).expect("issue");
        let claims = keys().verify(&token, now).expect("valid");
        assert_eq!((claims.sub, claims.login), (user, login));
        assert_eq!(claims.exp - claims.iat, 3600);
    }

    #[test]
    fn expiry_is_read_on_the_clock_given_with_thirty_seconds_of_leeway() {
        let (user, login, issued) = (Uuid::now_v7(), Uuid::now_v7(), Utc::now());
        let keys = keys();
        let token = keys.issue(user, login, issued).expect("issue");
        let later = |seconds| issued + Duration::seconds(seconds);
        assert!(keys.verify(&token, later(3600 + 20)).is_some());
        // Verified a moment ago, and still held to the clock.
        assert!(keys.verify(&token, later(3600 + 40)).is_none());
        assert!(keys.verify(&token, later(-60)).is_some());
    }

    #[test]
    fn a_verified_token_vouches_for_no_other_spelling_of_it() {
        let (keys, now) = (keys(), Utc::now());
        let token = keys
            .issue(Uuid::now_v7(), Uuid::now_v7(), now)
            .expect("issue");
        assert!(keys.verify(&token, now).is_some());
        let Some((signed, signature)) = token.rsplit_once('.') else {
            panic!("three parts")
        };
        let mut flipped = signature.to_owned();
        let last = if flipped.ends_with('A') { "B" } else { "A" };
        flipped.replace_range(flipped.len() - 1.., last);
        assert!(keys.verify(&format!("{signed}.{flipped}"), now).is_none());
        let other = keys
            .issue(Uuid::now_v7(), Uuid::now_v7(), now)
            .expect("issue");
        let (_, other_signature) = other.rsplit_once('.').expect("three parts");
        assert!(
            keys.verify(&format!("{signed}.{other_signature}"), now)
                .is_none()
        );
        assert!(keys.verify(&format!("{token}x"), now).is_none());
    }

    #[test]
    fn the_verified_set_is_emptied_when_full_and_tokens_still_verify() {
        let (keys, now) = (keys(), Utc::now());
        let tokens: Vec<String> = (0..VERIFIED_KEPT + 3)
            .map(|_| {
                keys.issue(Uuid::now_v7(), Uuid::now_v7(), now)
                    .expect("issue")
            })
            .collect();
        for token in &tokens {
            assert!(keys.verify(token, now).is_some());
        }
        let kept = keys.verified.lock().map(|v| v.len()).unwrap_or_default();
        assert!(kept <= VERIFIED_KEPT, "{kept}");
        assert!(tokens.iter().all(|token| keys.verify(token, now).is_some()));
    }

    #[test]
    fn another_key_does_not_verify() {
        let now = Utc::now();
        let token = TokenKeys::new(&[8u8; 32]).issue(Uuid::nil(), Uuid::nil(), now);
        assert!(keys().verify(&token.expect("issue"), now).is_none());
    }

    #[test]
    fn refresh_tokens_are_random_and_hashed() {
        let (a, hash_a) = new_refresh_token().expect("token");
        let (b, _) = new_refresh_token().expect("token");
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert_eq!(hash_a, hash_refresh_token(&a));
        assert_eq!(hash_a.len(), 32);
    }
}
