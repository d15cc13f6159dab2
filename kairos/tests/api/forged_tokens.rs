//! Access tokens that must not pass (RFC 8725): `alg: none` in every spelling, other
//! algorithms, changed claims, flipped bits, foreign keys, expiry and `nbf`, header-borne keys,
//! and tokens in the wrong place.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{TestApp, decode_jwt_part, home_status, on_both_backends};

on_both_backends!(tokens_that_are_forged_tampered_or_misplaced_are_refused);

async fn tokens_that_are_forged_tampered_or_misplaced_are_refused(app: TestApp) {
    let ann = app.customer().await;
    let secret = std::fs::read_to_string(app.secret_file()).unwrap();
    let key = URL_SAFE_NO_PAD.decode(secret.trim()).unwrap();
    let claims = decode_jwt_part(ann.token.split('.').nth(1).unwrap());
    let sign = |header: Header, claims: &Value, key: &[u8]| {
        jsonwebtoken::encode(&header, claims, &EncodingKey::from_secret(key)).unwrap()
    };
    // Our own key and algorithm give a working token: the cases below differ in one thing each.
    let control = sign(Header::new(Algorithm::HS256), &claims, &key);
    assert_eq!(home_status(&app, &ann, &control).await, StatusCode::OK);

    let mut forged: Vec<(&str, String)> = Vec::new();
    let payload = ann.token.split('.').nth(1).unwrap();
    let signature = ann.token.split('.').nth(2).unwrap();
    for alg in ["none", "None", "NONE", "nOnE"] {
        let header = URL_SAFE_NO_PAD.encode(format!(r#"{{"alg":"{alg}","typ":"JWT"}}"#));
        forged.push(("alg none, no signature", format!("{header}.{payload}.")));
        forged.push((
            "alg none, with signature",
            format!("{header}.{payload}.{signature}"),
        ));
    }
    forged.push((
        "HS384 with our key",
        sign(Header::new(Algorithm::HS384), &claims, &key),
    ));
    forged.push((
        "HS512 with our key",
        sign(Header::new(Algorithm::HS512), &claims, &key),
    ));
    forged.push((
        "another key",
        sign(
            Header::new(Algorithm::HS256),
            &claims,
            b"another key, 32 bytes long......",
        ),
    ));
    let mut other_sub = claims.clone();
    other_sub["sub"] = json!(app.admin().await.id.to_string());
    let tampered_payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&other_sub).unwrap());
    let header_part = ann.token.split('.').next().unwrap();
    forged.push((
        "sub changed",
        format!("{header_part}.{tampered_payload}.{signature}"),
    ));
    let mut flipped = URL_SAFE_NO_PAD.decode(signature).unwrap();
    flipped[0] ^= 1;
    forged.push((
        "one bit flipped",
        format!(
            "{header_part}.{payload}.{}",
            URL_SAFE_NO_PAD.encode(flipped)
        ),
    ));
    forged.push(("truncated", ann.token[..ann.token.len() - 5].to_owned()));
    let now = chrono::Utc::now().timestamp();
    let mut expired = claims.clone();
    expired["iat"] = json!(now - 3700);
    expired["exp"] = json!(now - 100);
    forged.push((
        "expired past the leeway",
        sign(Header::new(Algorithm::HS256), &expired, &key),
    ));
    let mut early = claims.clone();
    early["nbf"] = json!(now + 600);
    forged.push((
        "not yet valid",
        sign(Header::new(Algorithm::HS256), &early, &key),
    ));
    let mut no_exp = claims.clone();
    no_exp.as_object_mut().unwrap().remove("exp");
    forged.push(("no exp", sign(Header::new(Algorithm::HS256), &no_exp, &key)));
    for (claim, value) in [("aud", "someone-else"), ("iss", "someone-else")] {
        let mut wrong = claims.clone();
        wrong[claim] = json!(value);
        forged.push((
            "wrong aud or iss",
            sign(Header::new(Algorithm::HS256), &wrong, &key),
        ));
    }
    let mut jku = Header::new(Algorithm::HS256);
    jku.jku = Some("http://127.0.0.1:9/keys".to_owned());
    jku.kid = Some("attacker".to_owned());
    let mut wrong_key_with_jku = claims.clone();
    wrong_key_with_jku["sub"] = json!(Uuid::now_v7().to_string());
    forged.push((
        "jku and kid headers",
        sign(
            jku,
            &wrong_key_with_jku,
            b"attacker key, 32 bytes long.....",
        ),
    ));
    for (case, token) in &forged {
        let response = app.get(&format!("/api/user/{}", ann.id), token).await;
        let status = response.status();
        assert!(
            status == StatusCode::UNAUTHORIZED || status == StatusCode::BAD_REQUEST,
            "{case}: {status}"
        );
        if status == StatusCode::UNAUTHORIZED {
            assert!(
                response.headers().contains_key("www-authenticate"),
                "{case}"
            );
        }
    }

    // In the query string it is not a credential at all.
    let in_query = app
        .request(
            Method::GET,
            &format!("/api/user/{}?access_token={}", ann.id, ann.token),
        )
        .send()
        .await
        .unwrap();
    assert!(matches!(
        in_query.status(),
        StatusCode::UNAUTHORIZED | StatusCode::BAD_REQUEST
    ));
    // Two Authorization headers: refused, even though one of them is good.
    let two = app
        .request(Method::GET, &format!("/api/user/{}", ann.id))
        .header("authorization", format!("Bearer {}", ann.token))
        .header("authorization", "Bearer garbage")
        .send()
        .await
        .unwrap();
    assert!(matches!(
        two.status(),
        StatusCode::UNAUTHORIZED | StatusCode::BAD_REQUEST
    ));
    // The scheme name is case-insensitive (RFC 7235).
    let lower = app
        .request(Method::GET, &format!("/api/user/{}", ann.id))
        .header("authorization", format!("bearer {}", ann.token))
        .send()
        .await
        .unwrap();
    assert_eq!(lower.status(), StatusCode::OK);
}
