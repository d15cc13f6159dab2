//! Admins: creating accounts of any role, listing users, roles and membership, the first admin.

use kairos::store::query;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{
    ADMIN_EMAIL, ADMIN_PASSWORD, Answer, Backend, PASSWORD, TestApp, on_both_backends, problem,
    spawn_app, unique_email,
};

on_both_backends!(
    an_admin_creates_accounts_of_any_role,
    customers_and_providers_are_refused_admin_routes,
    admin_routes_need_a_token,
    an_admin_lists_users_newest_first_in_pages,
    an_admin_sets_role_and_membership,
    an_admin_cannot_demote_themselves,
    the_first_admin_comes_from_the_environment_once,
    home_is_for_the_user_and_admins,
);

async fn an_admin_creates_accounts_of_any_role(app: TestApp) {
    let admin = app.admin().await;
    for role in ["customer", "provider", "admin"] {
        let email = unique_email(role);
        let response = app
            .post(
                &format!("/api/user/{}/create", admin.id),
                &admin.token,
                &json!({ "email": email, "password": PASSWORD, "role": role }),
            )
            .await;
        assert_eq!(response.status(), StatusCode::CREATED, "{role}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["role"], role);
        let id: Uuid = body["id"].as_str().unwrap().parse().unwrap();
        let (stored,): (String,) = app
            .db
            .one(query("SELECT role FROM users WHERE id = $1").bind(id))
            .await;
        assert_eq!(stored, role);
        app.login(&email, PASSWORD).await;
    }
    let bad_role = app
        .post(
            &format!("/api/user/{}/create", admin.id),
            &admin.token,
            &json!({ "email": unique_email("x"), "password": PASSWORD, "role": "superuser" }),
        )
        .await;
    assert_eq!(
        problem(bad_role, StatusCode::UNPROCESSABLE_ENTITY).await["errors"][0]["field"],
        "role"
    );
    let taken = app
        .post(
            &format!("/api/user/{}/create", admin.id),
            &admin.token,
            &json!({ "email": ADMIN_EMAIL, "password": PASSWORD, "role": "provider" }),
        )
        .await;
    assert_eq!(
        problem(taken, StatusCode::CONFLICT).await["code"],
        "email_taken"
    );
}

async fn customers_and_providers_are_refused_admin_routes(app: TestApp) {
    let customer = app.customer().await;
    let provider = app.user_with_role("provider").await;
    let victim = app.customer().await;
    for caller in [&customer, &provider] {
        let create = app
            .post(
                &format!("/api/user/{}/create", caller.id),
                &caller.token,
                &json!({ "email": unique_email("x"), "password": PASSWORD, "role": "admin" }),
            )
            .await;
        problem(create, StatusCode::FORBIDDEN).await;
        problem(
            app.get("/api/users", &caller.token).await,
            StatusCode::FORBIDDEN,
        )
        .await;
        let promote = app
            .request(Method::PATCH, &format!("/api/users/{}", caller.id))
            .bearer_auth(&caller.token)
            .json(&json!({ "role": "admin" }))
            .send()
            .await
            .unwrap();
        problem(promote, StatusCode::FORBIDDEN).await;
        let force = app
            .post(
                &format!("/api/logout/{}", victim.id),
                &caller.token,
                &json!({}),
            )
            .await;
        problem(force, StatusCode::FORBIDDEN).await;
    }
    let (roles,): (i64,) = app
        .db
        .one(
            query("SELECT COUNT(*) FROM users WHERE role = 'admin' AND id IN ($1, $2)")
                .bind(customer.id)
                .bind(provider.id),
        )
        .await;
    assert_eq!(roles, 0, "nobody promoted themselves");
}

async fn admin_routes_need_a_token(app: TestApp) {
    let admin = app.admin().await;
    for (method, path) in [
        (Method::POST, format!("/api/user/{}/create", admin.id)),
        (Method::GET, "/api/users".to_owned()),
        (Method::PATCH, format!("/api/users/{}", admin.id)),
        (Method::POST, format!("/api/logout/{}", admin.id)),
    ] {
        let response = app
            .request(method.clone(), &path)
            .json(&json!({ "role": "admin" }))
            .send()
            .await
            .unwrap();
        let body = problem(response, StatusCode::UNAUTHORIZED).await;
        assert_eq!(body["code"], "invalid_token", "{method} {path}");
    }
}

async fn an_admin_lists_users_newest_first_in_pages(app: TestApp) {
    let admin = app.admin().await;
    let mut made = Vec::new();
    for _ in 0..3 {
        made.push(app.customer().await.id.to_string());
    }
    let first = app.get("/api/users?limit=2", &admin.token).await;
    assert_eq!(first.status(), StatusCode::OK);
    let link = first.headers()["link"].to_str().unwrap().to_owned();
    assert!(
        link.ends_with("; rel=\"next\"") && link.contains("limit=2"),
        "{link}"
    );
    let page: Vec<Value> = first.json().await.unwrap();
    let ids: Vec<&str> = page.iter().map(|u| u["id"].as_str().unwrap()).collect();
    assert_eq!(ids, [made[2].as_str(), made[1].as_str()], "newest first");
    assert!(page.iter().all(|u| u.get("passwordHash").is_none()));

    let next = link.trim_start_matches('<').split('>').next().unwrap();
    let second = app.get(next, &admin.token).await;
    let page: Vec<Value> = second.json().await.unwrap();
    assert_eq!(page[0]["id"], made[0]);
    assert_eq!(
        page.last().unwrap()["email"],
        ADMIN_EMAIL,
        "the admin was first of all"
    );

    let all = app.get("/api/users", &admin.token).await;
    assert!(
        all.headers().get("link").is_none(),
        "one page holds everyone"
    );
    for bad in ["/api/users?limit=0", "/api/users?limit=201"] {
        problem(
            app.get(bad, &admin.token).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    for bad in ["/api/users?limit=ten", "/api/users?sort=email"] {
        problem(app.get(bad, &admin.token).await, StatusCode::BAD_REQUEST).await;
    }
}

async fn an_admin_sets_role_and_membership(app: TestApp) {
    let admin = app.admin().await;
    let ann = app.customer().await;
    let response = app
        .request(Method::PATCH, &format!("/api/users/{}", ann.id))
        .bearer_auth(&admin.token)
        .json(&json!({ "role": "provider", "isChirpyRed": true }))
        .send()
        .await
        .unwrap();
    let body: Value = response.ok_json(StatusCode::OK).await;
    assert_eq!(
        (body["role"].as_str(), body["isChirpyRed"].as_bool()),
        (Some("provider"), Some(true))
    );
    let (role, red): (String, bool) = app
        .db
        .one(query("SELECT role, is_chirpy_red FROM users WHERE id = $1").bind(ann.id))
        .await;
    assert_eq!((role.as_str(), red), ("provider", true));
    // The change shows on the user's very next request, with the token they already hold.
    let home: Value = app.home_of(&ann).await;
    assert_eq!(home["user"]["role"], "provider");

    let missing = app
        .request(Method::PATCH, &format!("/api/users/{}", Uuid::now_v7()))
        .bearer_auth(&admin.token)
        .json(&json!({ "isChirpyRed": true }))
        .send()
        .await
        .unwrap();
    problem(missing, StatusCode::NOT_FOUND).await;
    let mass_assignment = app
        .request(Method::PATCH, &format!("/api/users/{}", ann.id))
        .bearer_auth(&admin.token)
        .json(&json!({ "email": "taken-over@example.org" }))
        .send()
        .await
        .unwrap();
    problem(mass_assignment, StatusCode::UNPROCESSABLE_ENTITY).await;
}

async fn an_admin_cannot_demote_themselves(app: TestApp) {
    let admin = app.admin().await;
    let response = app
        .request(Method::PATCH, &format!("/api/users/{}", admin.id))
        .bearer_auth(&admin.token)
        .json(&json!({ "role": "customer" }))
        .send()
        .await
        .unwrap();
    assert_eq!(
        problem(response, StatusCode::CONFLICT).await["code"],
        "cannot_demote_self"
    );
    let response = app
        .request(Method::PATCH, &format!("/api/users/{}", admin.id))
        .bearer_auth(&admin.token)
        .json(&json!({ "isChirpyRed": true }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}

async fn the_first_admin_comes_from_the_environment_once(app: TestApp) {
    let admin = app.admin().await;
    let app = app.restart().await;
    let count = app
        .db
        .count(query("SELECT COUNT(*) FROM users WHERE email_key = $1").bind(ADMIN_EMAIL))
        .await;
    assert_eq!(count, 1, "a restart does not create the admin again");
    let again = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert_eq!(again.id, admin.id);
}

async fn home_is_for_the_user_and_admins(app: TestApp) {
    let ann = app.customer().await;
    let bob = app.customer().await;
    let admin = app.admin().await;
    let own = app.get(&format!("/api/user/{}", ann.id), &ann.token).await;
    assert_eq!(own.status(), StatusCode::OK);
    assert_eq!(own.headers()["cache-control"], "no-store");
    let body: Value = own.json().await.unwrap();
    assert_eq!(body["user"]["id"], ann.id.to_string());
    assert_eq!(body["upcomingBookings"], json!([]));
    assert_eq!(
        body["counts"],
        json!({ "pending": 0, "completed": 0, "cancelled": 0 })
    );
    // The seed's 32-hex form of the id works too.
    let simple = app
        .get(&format!("/api/user/{}", ann.id.simple()), &ann.token)
        .await;
    assert_eq!(simple.status(), StatusCode::OK);
    problem(
        app.get(&format!("/api/user/{}", ann.id), &bob.token).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    assert_eq!(
        app.get(&format!("/api/user/{}", ann.id), &admin.token)
            .await
            .status(),
        StatusCode::OK
    );
    let nobody = app
        .get(&format!("/api/user/{}", Uuid::now_v7()), &admin.token)
        .await;
    problem(nobody, StatusCode::NOT_FOUND).await;
}

/// `kairos admin create` with the password from the environment, then the server on that data.
async fn the_cli_creates_an_admin(backend: Backend) {
    let Some(mut app) = spawn_app(backend).await else {
        return;
    };
    let email = unique_email("cli-admin");
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_kairos"));
    command
        .args(["admin", "create", "--email", &email])
        .arg("--data-dir")
        .arg(app.data_dir.path())
        .env("KAIROS_ADMIN_PASSWORD", PASSWORD)
        .env_remove("KAIROS_ADMIN_EMAIL")
        .env_remove("DATABASE_URL");
    if let Some(url) = &app.settings.database_url {
        command.env("DATABASE_URL", url);
    }
    let output = command.output().expect("run kairos");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(String::from_utf8_lossy(&output.stdout).contains("Created admin"));
    let made = app.login(&email, PASSWORD).await;
    let listed = app.get("/api/users", &made.token).await;
    assert_eq!(
        listed.status(),
        StatusCode::OK,
        "the new account is an admin"
    );
    // A second time the address is taken, and it says so.
    let again = command.output().expect("run kairos");
    assert!(!again.status.success());
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_creates_an_admin_sqlite() {
    the_cli_creates_an_admin(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_creates_an_admin_postgres() {
    the_cli_creates_an_admin(Backend::Postgres).await;
}
