//! A lean HTTP/1 client for the load generator: pooled keep-alive connections, JSON bodies.

use anyhow::{Context, Result};
use http_body_util::{BodyExt, Full};
use hyper::{HeaderMap, Method, Request, body::Bytes, header};
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
        let (status, _, bytes) = self.exchange(method, path, token, body).await?;
        Ok((status, bytes))
    }

    /// Every item of a paged list: its first page at `path`, then each page its `Link: <...>;
    /// rel="next"` header names, failing unless every page answers 200.
    pub async fn pages(&self, path: &str, token: &str) -> Result<Vec<Value>> {
        let mut items = Vec::new();
        let mut next = Some(path.to_owned());
        while let Some(path) = next.take() {
            let (status, headers, bytes) =
                self.exchange(Method::GET, &path, Some(token), None).await?;
            anyhow::ensure!(
                status == 200,
                "GET {path}: {status} {}",
                String::from_utf8_lossy(&bytes)
            );
            match serde_json::from_slice(&bytes)? {
                Value::Array(page) => items.extend(page),
                other => anyhow::bail!("GET {path}: not a list: {other}"),
            }
            next = headers
                .get(header::LINK)
                .and_then(|link| link.to_str().ok())
                .and_then(next_page);
        }
        Ok(items)
    }

    async fn exchange(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> Result<(u16, HeaderMap, Bytes)> {
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
        let (parts, body) = response.into_parts();
        let bytes = body
            .collect()
            .await
            .context("reading a response")?
            .to_bytes();
        Ok((status, parts.headers, bytes))
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

/// The target of a `Link` header's `rel="next"` entry (the server sends one, path-relative).
fn next_page(link: &str) -> Option<String> {
    link.split(',').find_map(|entry| {
        let (target, params) = entry.trim().split_once(';')?;
        let next = params.split(';').any(|p| p.trim() == "rel=\"next\"");
        let target = target.trim().strip_prefix('<')?.strip_suffix('>')?;
        next.then(|| target.to_owned())
    })
}

#[cfg(test)]
mod tests {
    use super::next_page;

    #[test]
    fn next_page_is_read_from_the_link_header() {
        let link = "</api/user/1/bookings?limit=200&cursor=abc>; rel=\"next\"";
        assert_eq!(
            next_page(link).as_deref(),
            Some("/api/user/1/bookings?limit=200&cursor=abc")
        );
        assert_eq!(next_page("</a>; rel=\"prev\""), None);
        assert_eq!(next_page(""), None);
    }
}
