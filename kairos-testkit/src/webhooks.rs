//! `WebhookReceiver`: an HTTP endpoint on a loopback port that records every delivery (headers
//! and body) and answers as the test tells it (a status, `Retry-After`, a redirect), and can be
//! stopped and started again on the same port.

use std::{
    collections::VecDeque,
    net::SocketAddr,
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::{
    Router,
    body::Bytes,
    extract::State,
    http::{HeaderMap, HeaderName, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    routing::any,
};
use tokio::{net::TcpListener, task::JoinHandle};

/// One request the receiver got.
#[derive(Debug, Clone)]
pub struct Delivered {
    pub path: String,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Delivered {
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("a JSON body")
    }
}

/// An answer to give: a status and headers.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
}

impl Reply {
    pub fn status(status: u16) -> Self {
        Self {
            status,
            headers: Vec::new(),
        }
    }

    pub fn with(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }
}

#[derive(Default)]
struct Shared {
    delivered: Mutex<Vec<Delivered>>,
    /// Answers to give, in order; after them, 200.
    script: Mutex<VecDeque<Reply>>,
}

pub struct WebhookReceiver {
    addr: SocketAddr,
    shared: Arc<Shared>,
    server: Mutex<Option<JoinHandle<()>>>,
}

impl WebhookReceiver {
    /// A receiver on 127.0.0.1 and a free port.
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a loopback port");
        let addr = listener.local_addr().expect("its address");
        let receiver = Self {
            addr,
            shared: Arc::default(),
            server: Mutex::new(None),
        };
        receiver.serve(listener);
        receiver
    }

    fn serve(&self, listener: TcpListener) {
        let app = Router::new()
            .fallback(any(receive))
            .with_state(Arc::clone(&self.shared));
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        *self.server.lock().expect("lock") = Some(server);
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// `http://127.0.0.1:{port}{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// The next requests get these answers, in order; after them, 200.
    pub fn answer(&self, replies: impl IntoIterator<Item = Reply>) {
        self.shared.script.lock().expect("lock").extend(replies);
    }

    pub fn delivered(&self) -> Vec<Delivered> {
        self.shared.delivered.lock().expect("lock").clone()
    }

    /// Waits until `count` requests have come (at most `within`), and answers them all.
    pub async fn wait_for(&self, count: usize, within: Duration) -> Vec<Delivered> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let delivered = self.delivered();
            if delivered.len() >= count || tokio::time::Instant::now() >= deadline {
                return delivered;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Stops listening: connections are refused until [`WebhookReceiver::resume`].
    pub async fn stop(&self) {
        let server = self.server.lock().expect("lock").take();
        if let Some(server) = server {
            server.abort();
            let _ = server.await;
        }
    }

    /// Listens again on the same port.
    pub async fn resume(&self) {
        let listener = TcpListener::bind(self.addr)
            .await
            .expect("the same port again");
        self.serve(listener);
    }
}

async fn receive(
    State(shared): State<Arc<Shared>>,
    uri: axum::http::Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    shared.delivered.lock().expect("lock").push(Delivered {
        path: uri.path().to_owned(),
        headers,
        body,
    });
    let reply = shared
        .script
        .lock()
        .expect("lock")
        .pop_front()
        .unwrap_or(Reply::status(200));
    let mut response = StatusCode::from_u16(reply.status)
        .unwrap_or(StatusCode::OK)
        .into_response();
    for (name, value) in reply.headers {
        if let Ok(value) = HeaderValue::from_str(&value) {
            response
                .headers_mut()
                .insert(HeaderName::from_static(name), value);
        }
    }
    response
}
