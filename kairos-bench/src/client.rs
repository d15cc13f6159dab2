//! A lean HTTP/1 client for the load generator: pooled keep-alive connections, JSON bodies.

use anyhow::{Context, Result};
use http_body_util::{BodyExt, Full};
use hyper::{Method, Request, body::Bytes, header};
use hyper_util::{
    client::legacy::{Client, connect::HttpConnector},
    rt::{TokioExecutor, TokioTimer},
};
use serde_json::Value;

#[derive(Clone)]
pub struct Http {
    client: Client<HttpConnector, Full<Bytes>>,
    base: String,
}

impl Http {
    pub fn new(base: &str) -> Self {
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        // The server's default settings: a server driven with `--url` may have others.
        let client = Client::builder(TokioExecutor::new())
            .pool_max_idle_per_host(1024)
            .pool_timer(TokioTimer::new())
            .pool_idle_timeout(kairos::config::Settings::default().client_idle_timeout())
            .build(connector);
        Self {
            client,
            base: base.trim_end_matches('/').to_owned(),
        }
    }

    /// Sends a request; answers the status and body.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> Result<(u16, Bytes)> {
        let mut request = Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.base));
        if let Some(token) = token {
            request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        let body = match body {
            Some(json) => {
                request = request.header(header::CONTENT_TYPE, "application/json");
                Full::new(Bytes::from(serde_json::to_vec(json)?))
            }
            None => Full::new(Bytes::new()),
        };
        let response = self
            .client
            .request(request.body(body)?)
            .await
            .context("sending a request")?;
        let status = response.status().as_u16();
        let bytes = response
            .into_body()
            .collect()
            .await
            .context("reading a response")?
            .to_bytes();
        Ok((status, bytes))
    }

    /// Sends and parses JSON, failing unless the status is the one expected.
    pub async fn expect(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
        status: u16,
    ) -> Result<Value> {
        let (got, bytes) = self.send(method.clone(), path, token, body).await?;
        anyhow::ensure!(
            got == status,
            "{method} {path}: {got} {}",
            String::from_utf8_lossy(&bytes)
        );
        if bytes.is_empty() {
            return Ok(Value::Null);
        }
        Ok(serde_json::from_slice(&bytes)?)
    }
}
