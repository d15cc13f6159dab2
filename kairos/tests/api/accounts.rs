//! Signing up and changing your own account.

use kairos::store::query;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{Answer, PASSWORD, TestApp, on_both_backends, problem, unique_email};

on_both_backends!(
    sign_up_creates_a_customer_with_a_hashed_password,
    sign_up_trims_the_email_and_lowercases_its_domain,
    an_email_is_taken_whatever_its_case,
    invalid_emails_are_refused_and_store_nothing,
    passwords_must_be_8_to_128_characters_and_uncommon,
    passwords_are_used_exactly_as_typed,
    a_role_in_the_sign_up_body_is_refused,
    changing_the_email_moves_the_login,
    a_new_password_ends_the_other_logins,
    changing_your_account_needs_a_token_and_a_change,
    an_email_taken_by_another_account_cannot_be_moved_to,
);

async fn sign_up_creates_a_customer_with_a_hashed_password(app: TestApp) {
    let email = unique_email("ann");
    let response = app.sign_up(&email, PASSWORD).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let body: Value = response.json().await.unwrap();
    let keys: Vec<&str> = body
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys.len(),
        7,
        "exactly the contract's user fields (part two adds emailNotifications): {keys:?}"
    );
    assert_eq!(body["emailNotifications"], true, "mail is on by default");
    assert_eq!(body["email"], email);
    assert_eq!(body["role"], "customer");
    assert_eq!(body["isChirpyRed"], false);
    assert!(body["createdAt"].as_str().unwrap().ends_with('Z'));
    assert_eq!(body["createdAt"], body["updatedAt"]);
    let id: uuid::Uuid = body["id"].as_str().unwrap().parse().unwrap();
    assert_eq!(id.get_version_num(), 7);

    let (role, hash): (String, String) = app
        .db
        .one(query("SELECT role, password_hash FROM users WHERE id = $1").bind(id))
        .await;
    assert_eq!(role, "customer");
    assert!(
        hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "{hash}"
    );
    assert!(!hash.contains(PASSWORD));
}

async fn sign_up_trims_the_email_and_lowercases_its_domain(app: TestApp) {
    let local = format!("Ann.Lee{}", uuid::Uuid::new_v4().simple());
    let response = app
        .sign_up(&format!("  {local}@Example.ORG \n"), PASSWORD)
        .await;
    let body: Value = response.ok_json(StatusCode::CREATED).await;
    assert_eq!(body["email"], format!("{local}@example.org"));
    // Logging in takes the address in any case, with or without the spaces.
    app.login(&format!(" {}@EXAMPLE.org", local.to_uppercase()), PASSWORD)
        .await;
}

async fn an_email_is_taken_whatever_its_case(app: TestApp) {
    let email = unique_email("dup");
    assert_eq!(
        app.sign_up(&email, PASSWORD).await.status(),
        StatusCode::CREATED
    );
    let again = app
        .sign_up(&email.to_uppercase(), "another fine passphrase")
        .await;
    let body = problem(again, StatusCode::CONFLICT).await;
    assert_eq!(body["code"], "email_taken");
    let count = app
        .db
        .count(query("SELECT COUNT(*) FROM users WHERE email_key = $1").bind(email.to_lowercase()))
        .await;
    assert_eq!(count, 1);
}

async fn invalid_emails_are_refused_and_store_nothing(app: TestApp) {
    let before = app.db.count(query("SELECT COUNT(*) FROM users")).await;
    for bad in [
        "",
        "   ",
        "not-an-address",
        "ann@",
        "@example.org",
        "ann@localhost",
        "a b@x.org",
    ] {
        let body = problem(
            app.sign_up(bad, PASSWORD).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(body["code"], "validation_failed");
        assert_eq!(body["errors"][0]["field"], "email", "{bad:?}");
    }
    let long = format!("{}@example.org", "a".repeat(250));
    let body = problem(
        app.sign_up(&long, PASSWORD).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(body["errors"][0]["field"], "email");
    assert_eq!(
        app.db.count(query("SELECT COUNT(*) FROM users")).await,
        before
    );
}

async fn passwords_must_be_8_to_128_characters_and_uncommon(app: TestApp) {
    for (password, expect) in [
        ("seven77", StatusCode::UNPROCESSABLE_ENTITY),
        ("eight888 but not common", StatusCode::CREATED),
        ("kx8!ZqP2", StatusCode::CREATED),
        ("password", StatusCode::UNPROCESSABLE_ENTITY),
        ("Password1", StatusCode::UNPROCESSABLE_ENTITY),
        ("iloveyou", StatusCode::UNPROCESSABLE_ENTITY),
        ("qwertyuiop", StatusCode::UNPROCESSABLE_ENTITY),
    ] {
        let response = app.sign_up(&unique_email("pw"), password).await;
        assert_eq!(response.status(), expect, "{password:?}");
        if expect != StatusCode::CREATED {
            let body: Value = response.json().await.unwrap();
            assert_eq!(body["errors"][0]["field"], "password");
        }
    }
    let longest = "x".repeat(127) + "y";
    assert_eq!(
        app.sign_up(&unique_email("pw"), &longest).await.status(),
        StatusCode::CREATED
    );
    let too_long = "x".repeat(128) + "y";
    let body = problem(
        app.sign_up(&unique_email("pw"), &too_long).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("128")
    );
    // Both fields wrong: both are reported at once.
    let body = problem(
        app.sign_up("nope", "short").await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(body["errors"].as_array().unwrap().len(), 2);
}

async fn passwords_are_used_exactly_as_typed(app: TestApp) {
    let email = unique_email("exact");
    let password = "  Spaces Around And CASE  ";
    assert_eq!(
        app.sign_up(&email, password).await.status(),
        StatusCode::CREATED
    );
    for wrong in [
        "Spaces Around And CASE",
        "  spaces around and case  ",
        "  SPACES AROUND AND CASE  ",
    ] {
        assert_eq!(
            app.log_in(&email, wrong).await.status(),
            StatusCode::UNAUTHORIZED,
            "{wrong:?}"
        );
    }
    app.login(&email, password).await;
}

async fn a_role_in_the_sign_up_body_is_refused(app: TestApp) {
    let email = unique_email("sneaky");
    for (field, value) in [
        ("role", json!("admin")),
        ("isChirpyRed", json!(true)),
        ("id", json!("x")),
    ] {
        let mut body = json!({ "email": email, "password": PASSWORD });
        body[field] = value;
        let response = app.post_anonymous("/api/users", &body).await;
        let problem = problem(response, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert_eq!(problem["errors"][0]["field"], field);
    }
    let count = app
        .db
        .count(query("SELECT COUNT(*) FROM users WHERE email_key = $1").bind(email.clone()))
        .await;
    assert_eq!(count, 0);
}

async fn changing_the_email_moves_the_login(app: TestApp) {
    let ann = app.customer().await;
    let new_email = unique_email("moved");
    let response = app
        .request(Method::PUT, "/api/users")
        .bearer_auth(&ann.token)
        .json(&json!({ "email": format!(" {new_email} ") }))
        .send()
        .await
        .unwrap();
    let body: Value = response.ok_json(StatusCode::OK).await;
    assert_eq!(body["email"], new_email);
    assert_ne!(body["updatedAt"], body["createdAt"]);
    assert!(body.get("token").is_none(), "no new tokens");
    // The same login carries on; the new address logs in, the old one no longer does.
    assert_eq!(
        app.get(&format!("/api/user/{}", ann.id), &ann.token)
            .await
            .status(),
        StatusCode::OK
    );
    app.login(&new_email, PASSWORD).await;
    assert_eq!(
        app.log_in(&ann.email, PASSWORD).await.status(),
        StatusCode::UNAUTHORIZED
    );
}

async fn a_new_password_ends_the_other_logins(app: TestApp) {
    let here = app.customer().await;
    let elsewhere = app.login(&here.email, PASSWORD).await;
    let new_password = "a brand new passphrase";
    let response = app
        .request(Method::PUT, "/api/users")
        .bearer_auth(&here.token)
        .json(&json!({ "password": new_password }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);

    let home = format!("/api/user/{}", here.id);
    assert_eq!(
        app.get(&home, &here.token).await.status(),
        StatusCode::OK,
        "this session stays"
    );
    assert_eq!(
        app.get(&home, &elsewhere.token).await.status(),
        StatusCode::UNAUTHORIZED
    );
    let refreshed = app
        .request(Method::POST, "/api/refresh")
        .bearer_auth(&elsewhere.refresh_token)
        .send()
        .await
        .unwrap();
    assert_eq!(refreshed.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        app.log_in(&here.email, PASSWORD).await.status(),
        StatusCode::UNAUTHORIZED
    );
    app.login(&here.email, new_password).await;
    let revoked = app
        .db
        .count(
            query(
                "SELECT COUNT(*) FROM logins WHERE user_id = $1 \
                 AND revoked_reason = 'password_changed'",
            )
            .bind(here.id),
        )
        .await;
    assert_eq!(revoked, 1);
}

async fn changing_your_account_needs_a_token_and_a_change(app: TestApp) {
    let response = app
        .request(Method::PUT, "/api/users")
        .json(&json!({ "password": "a brand new passphrase" }))
        .send()
        .await
        .unwrap();
    let body = problem(response, StatusCode::UNAUTHORIZED).await;
    assert_eq!(body["code"], "invalid_token");
    let ann = app.customer().await;
    let response = app
        .request(Method::PUT, "/api/users")
        .bearer_auth(&ann.token)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    problem(response, StatusCode::UNPROCESSABLE_ENTITY).await;
    let response = app
        .request(Method::PUT, "/api/users")
        .bearer_auth(&ann.token)
        .json(&json!({ "password": "password" }))
        .send()
        .await
        .unwrap();
    let body = problem(response, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(body["errors"][0]["field"], "password");
    app.login(&ann.email, PASSWORD).await;
}

async fn an_email_taken_by_another_account_cannot_be_moved_to(app: TestApp) {
    let ann = app.customer().await;
    let bob = app.customer().await;
    let response = app
        .request(Method::PUT, "/api/users")
        .bearer_auth(&ann.token)
        .json(&json!({ "email": bob.email.to_uppercase() }))
        .send()
        .await
        .unwrap();
    let body = problem(response, StatusCode::CONFLICT).await;
    assert_eq!(body["code"], "email_taken");
    app.login(&ann.email, PASSWORD).await;
}
