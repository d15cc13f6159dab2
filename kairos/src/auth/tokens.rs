//! Access tokens (JWT, HS256 only) and refresh tokens (256 random bits, stored as SHA-256).

use std::{
    fs,
    io::{ErrorKind, Write},
    path::Path,
};

use anyhow::{Context, bail};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::{DateTime, Duration, Utc};
use hmac::{Hmac, Mac};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::config::Secret;

pub const ACCESS_TOKEN_SECONDS: i64 = 3600;
/// Counted from login; rotating a refresh token does not extend it.
pub const LOGIN_SESSION_DAYS: i64 = 60;
const LEEWAY_SECONDS: u64 = 30;
const ISSUER: &str = "kairos";
const AUDIENCE: &str = "kairos-api";
const SECRET_FILE: &str = "jwt-secret";
const MIN_SECRET_BYTES: usize = 32;

/// What an access token says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The user.
    pub sub: Uuid,
    /// The login session; revoking it revokes the token.
    pub sid: Uuid,
    pub iss: String,
    pub aud: String,
    pub iat: i64,
    pub exp: i64,
    pub jti: Uuid,
}

/// The signing key and the one way tokens are checked. Lives in the app state, never a global.
pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    /// Derived from the secret under its own label, so a CSRF token is never a signature of
    /// anything a JWT could carry.
    csrf_key: Vec<u8>,
}

type HmacSha256 = Hmac<Sha256>;

impl TokenKeys {
    pub fn new(secret: &[u8]) -> Self {
        // HS256 is pinned: `none` and every other `alg` in a token's header are refused.
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "sub", "iss", "aud"]);
        validation.leeway = LEEWAY_SECONDS;
        validation.validate_nbf = true;
        let csrf_key = mac(secret, b"kairos csrf key v1");
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            csrf_key,
        }
    }

    /// The CSRF token of a login session: every form of its pages carries it.
    pub fn csrf_token(&self, session: Uuid) -> String {
        URL_SAFE_NO_PAD.encode(mac(&self.csrf_key, session.as_bytes()))
    }

    /// The CSRF token for a visitor not signed in, bound to the nonce in their visitor cookie.
    pub fn visitor_csrf_token(&self, nonce: &str) -> String {
        URL_SAFE_NO_PAD.encode(mac(&self.csrf_key, format!("visitor:{nonce}").as_bytes()))
    }

    /// Whether `token` is the CSRF token for this session (compared in constant time).
    pub fn check_csrf(&self, session: Uuid, token: &str) -> bool {
        verify_mac(&self.csrf_key, session.as_bytes(), token)
    }

    pub fn check_visitor_csrf(&self, nonce: &str, token: &str) -> bool {
        verify_mac(&self.csrf_key, format!("visitor:{nonce}").as_bytes(), token)
    }

    pub fn issue(&self, user: Uuid, session: Uuid, now: DateTime<Utc>) -> anyhow::Result<String> {
        let iat = now.timestamp();
        let claims = Claims {
            sub: user,
            sid: session,
            iss: ISSUER.to_owned(),
            aud: AUDIENCE.to_owned(),
            iat,
            exp: iat + ACCESS_TOKEN_SECONDS,
            jti: Uuid::new_v4(),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .context("signing an access token")
    }

    /// The claims of a token that is well-formed, signed by us with HS256, for us, and current.
    /// Whether its login session is still live is the store's question.
    pub fn verify(&self, token: &str) -> Option<Claims> {
        jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .ok()
            .map(|data| data.claims)
    }
}

fn mac(key: &[u8], message: &[u8]) -> Vec<u8> {
    let mut mac = <HmacSha256 as Mac>::new_from_slice(key).expect("HMAC takes a key of any length");
    mac.update(message);
    mac.finalize().into_bytes().to_vec()
}

fn verify_mac(key: &[u8], message: &[u8], token: &str) -> bool {
    let Ok(given) = URL_SAFE_NO_PAD.decode(token) else {
        return false;
    };
    let mut mac = <HmacSha256 as Mac>::new_from_slice(key).expect("HMAC takes a key of any length");
    mac.update(message);
    mac.verify_slice(&given).is_ok()
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

pub fn login_session_expiry(login_at: DateTime<Utc>) -> DateTime<Utc> {
    login_at + Duration::days(LOGIN_SESSION_DAYS)
}

/// The signing secret: the configured one, or one generated once into the data dir (mode 0600)
/// and reused, so tokens stay valid across restarts.
pub fn signing_secret(configured: Option<&Secret>, data_dir: &Path) -> anyhow::Result<Vec<u8>> {
    if let Some(secret) = configured {
        let bytes = secret.expose().as_bytes().to_vec();
        if bytes.len() < MIN_SECRET_BYTES {
            bail!("KAIROS_JWT_SECRET must be at least {MIN_SECRET_BYTES} bytes (256 bits)");
        }
        return Ok(bytes);
    }
    let path = data_dir.join(SECRET_FILE);
    match create_private_file(&path) {
        Ok(mut file) => {
            let mut bytes = [0u8; 32];
            getrandom::fill(&mut bytes).map_err(|err| anyhow::anyhow!("no randomness: {err}"))?;
            file.write_all(URL_SAFE_NO_PAD.encode(bytes).as_bytes())?;
            file.sync_all()?;
            tracing::info!(path = %path.display(), "generated a new token signing secret");
            Ok(bytes.to_vec())
        }
        // Generated by an earlier start, or by another instance starting alongside this one.
        Err(err) if err.kind() == ErrorKind::AlreadyExists => {
            let text =
                fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
            let bytes = URL_SAFE_NO_PAD
                .decode(text.trim())
                .with_context(|| format!("{} is not a Kairos secret file", path.display()))?;
            if bytes.len() < MIN_SECRET_BYTES {
                bail!(
                    "{} holds fewer than {MIN_SECRET_BYTES} bytes",
                    path.display()
                );
            }
            Ok(bytes)
        }
        Err(err) => Err(err).with_context(|| format!("creating {}", path.display())),
    }
}

fn create_private_file(path: &Path) -> std::io::Result<fs::File> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> TokenKeys {
        TokenKeys::new(&[7u8; 32])
    }

    #[test]
    fn a_token_we_issue_verifies_and_names_its_session() {
        let (user, session) = (Uuid::now_v7(), Uuid::now_v7());
        let token = keys().issue(user, session, Utc::now()).expect("issue");
        let claims = keys().verify(&token).expect("valid");
        assert_eq!((claims.sub, claims.sid), (user, session));
        assert_eq!(claims.exp - claims.iat, 3600);
    }

    #[test]
    fn expiry_leeway_is_thirty_seconds() {
        let (user, session) = (Uuid::now_v7(), Uuid::now_v7());
        let just_expired = Utc::now() - Duration::seconds(3600 + 20);
        assert!(
            keys()
                .verify(&keys().issue(user, session, just_expired).expect("issue"))
                .is_some()
        );
        let long_expired = Utc::now() - Duration::seconds(3600 + 40);
        assert!(
            keys()
                .verify(&keys().issue(user, session, long_expired).expect("issue"))
                .is_none()
        );
    }

    #[test]
    fn another_key_does_not_verify() {
        let token = TokenKeys::new(&[8u8; 32]).issue(Uuid::nil(), Uuid::nil(), Utc::now());
        assert!(keys().verify(&token.expect("issue")).is_none());
    }

    #[test]
    fn csrf_tokens_belong_to_one_session_or_visitor() {
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        let token = keys().csrf_token(a);
        assert!(keys().check_csrf(a, &token));
        assert!(!keys().check_csrf(b, &token));
        assert!(
            !TokenKeys::new(&[9u8; 32]).check_csrf(a, &token),
            "another server's key"
        );
        assert!(!keys().check_csrf(a, "not-base64!"));
        let visitor = keys().visitor_csrf_token("nonce");
        assert!(keys().check_visitor_csrf("nonce", &visitor));
        assert!(!keys().check_visitor_csrf("other", &visitor));
        assert!(!keys().check_csrf(a, &visitor));
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

    #[test]
    fn the_generated_secret_is_private_and_reused() {
        let dir = tempfile::tempdir().expect("dir");
        let first = signing_secret(None, dir.path()).expect("generate");
        let second = signing_secret(None, dir.path()).expect("reuse");
        assert_eq!(first, second);
        assert_eq!(first.len(), 32);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(dir.path().join(SECRET_FILE))
                .expect("file")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn a_short_configured_secret_is_refused() {
        let dir = tempfile::tempdir().expect("dir");
        assert!(signing_secret(Some(&Secret::new("short".into())), dir.path()).is_err());
        let long = Secret::new("x".repeat(32));
        assert_eq!(
            signing_secret(Some(&long), dir.path()).expect("ok").len(),
            32
        );
    }
}
