//! Talking to a server under test: a client per kind of caller (anonymous, or signed in as a
//! [`Login`]) with the usual verbs, and what an answer is checked for.

use reqwest::{Method, RequestBuilder, Response, StatusCode};
use serde::de::DeserializeOwned;
use serde_json::Value;
use uuid::Uuid;

use crate::spawn::TestApp;

/// Someone signed in: their id, address and tokens.
#[derive(Debug, Clone)]
pub struct Login {
    pub id: Uuid,
    pub email: String,
    pub token: String,
    pub refresh_token: String,
}

/// Requests as one caller: anonymous, or with a login's access token.
#[derive(Clone, Copy)]
pub struct Client<'a> {
    app: &'a TestApp,
    token: Option<&'a str>,
}

impl TestApp {
    /// Requests with no credentials.
    pub fn anonymous(&self) -> Client<'_> {
        Client {
            app: self,
            token: None,
        }
    }

    /// Requests as this login (its access token as `Authorization: Bearer`).
    pub fn as_user<'a>(&'a self, login: &'a Login) -> Client<'a> {
        Client {
            app: self,
            token: Some(&login.token),
        }
    }

    /// A request to build by hand (headers, odd bodies).
    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.client.request(method, self.url(path))
    }

    pub async fn get(&self, path: &str, token: &str) -> Response {
        self.with_token(token).get(path).await
    }

    pub async fn post(&self, path: &str, token: &str, body: &Value) -> Response {
        self.with_token(token).post(path, body).await
    }

    pub async fn patch(&self, path: &str, token: &str, body: &Value) -> Response {
        self.with_token(token).patch(path, body).await
    }

    pub async fn delete(&self, path: &str, token: &str) -> Response {
        self.with_token(token).delete(path).await
    }

    /// `POST /api/logout` with an access token (it has no body): ends that token's login.
    pub async fn log_out(&self, token: &str) -> Response {
        self.with_token(token)
            .send(Method::POST, "/api/logout", None)
            .await
    }

    pub async fn post_anonymous(&self, path: &str, body: &Value) -> Response {
        self.anonymous().post(path, body).await
    }

    fn with_token<'a>(&'a self, token: &'a str) -> Client<'a> {
        Client {
            app: self,
            token: Some(token),
        }
    }
}

impl Client<'_> {
    /// A request as this caller, to finish by hand.
    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        let request = self.app.request(method, path);
        match self.token {
            Some(token) => request.bearer_auth(token),
            None => request,
        }
    }

    async fn send(&self, method: Method, path: &str, body: Option<&Value>) -> Response {
        let mut request = self.request(method, path);
        if let Some(body) = body {
            request = request.json(body);
        }
        request.send().await.expect("request")
    }

    pub async fn get(&self, path: &str) -> Response {
        self.send(Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> Response {
        self.send(Method::POST, path, Some(body)).await
    }

    pub async fn put(&self, path: &str, body: &Value) -> Response {
        self.send(Method::PUT, path, Some(body)).await
    }

    pub async fn patch(&self, path: &str, body: &Value) -> Response {
        self.send(Method::PATCH, path, Some(body)).await
    }

    pub async fn delete(&self, path: &str) -> Response {
        self.send(Method::DELETE, path, None).await
    }

    /// GETs a JSON answer that must be 200.
    pub async fn get_json<T: DeserializeOwned>(&self, path: &str) -> T {
        self.get(path).await.ok_json(StatusCode::OK).await
    }
}

/// What tests check of an answer.
pub trait Answer {
    /// The body as JSON, after checking the status.
    fn ok_json<T: DeserializeOwned>(self, status: StatusCode) -> impl Future<Output = T>;

    /// The problem JSON of a refusal, after checking its status and content type.
    fn problem(self, status: StatusCode) -> impl Future<Output = Value>;
}

impl Answer for Response {
    async fn ok_json<T: DeserializeOwned>(self, status: StatusCode) -> T {
        let url = self.url().path().to_owned();
        let got = self.status();
        let text = self.text().await.expect("a body");
        assert_eq!(got, status, "{url}: {text}");
        serde_json::from_str(&text).unwrap_or_else(|err| panic!("{url}: {err}: {text}"))
    }

    async fn problem(self, status: StatusCode) -> Value {
        problem(self, status).await
    }
}

/// Reads the response as problem JSON, checking its content type and status.
pub async fn problem(response: Response, status: StatusCode) -> Value {
    assert_eq!(response.status(), status, "status");
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert_eq!(content_type, "application/problem+json");
    let body: Value = response.json().await.expect("problem json");
    assert_eq!(body["status"], status.as_u16());
    assert!(body["title"].is_string() && body["detail"].is_string() && body["type"].is_string());
    body
}

pub fn unique_email(prefix: &str) -> String {
    format!("{prefix}-{}@example.org", Uuid::new_v4().simple())
}

/// The API path of one session: its provider's, under its service.
pub fn session_path(provider: &Login, service: &Value, session: &Value) -> String {
    format!(
        "/api/user/{}/services/{}/sessions/{}",
        provider.id,
        id_of(service),
        id_of(session)
    )
}

/// The `id` of an object in an answer.
pub fn id_of(value: &Value) -> Uuid {
    value["id"]
        .as_str()
        .and_then(|id| id.parse().ok())
        .expect("an id")
}
