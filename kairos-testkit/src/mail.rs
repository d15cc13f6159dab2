//! A real SMTP server on a loopback port, for tests: it holds the SMTP conversation (mailin's
//! state machine) with whatever connects (lettre, in the server under test), keeps every mail it
//! accepts, and can be stopped (the port refuses connections) and started again on the same
//! port, as a mail server that goes away for a while does.

use std::{
    net::{IpAddr, SocketAddr},
    sync::{Arc, Mutex},
    time::Duration,
};

use mail_parser::{MessageParser, MimeHeaders};
use mailin::{Action, Handler, Response, SessionBuilder, response};
use tokio::{
    io::{AsyncBufReadExt, AsyncWriteExt, BufReader},
    net::{TcpListener, TcpSocket, TcpStream},
    sync::Notify,
    task::{JoinHandle, JoinSet},
};

/// One mail as the server received it.
#[derive(Debug, Clone)]
pub struct Mail {
    /// The envelope's sender and recipients.
    pub from: String,
    pub to: Vec<String>,
    /// The message as sent (RFC 5322, dot-unstuffed).
    pub raw: Vec<u8>,
}

impl Mail {
    fn parsed(&self) -> mail_parser::Message<'_> {
        MessageParser::default()
            .parse(&self.raw)
            .expect("the mail parses as RFC 5322")
    }

    pub fn subject(&self) -> String {
        self.parsed().subject().unwrap_or_default().to_owned()
    }

    /// The `Message-ID`, without its angle brackets.
    pub fn message_id(&self) -> String {
        self.parsed().message_id().unwrap_or_default().to_owned()
    }

    /// The top-level `Content-Type`, as `type/subtype`.
    pub fn content_type(&self) -> String {
        let parsed = self.parsed();
        parsed
            .content_type()
            .map(|t| format!("{}/{}", t.ctype(), t.subtype().unwrap_or_default()))
            .unwrap_or_default()
    }

    pub fn text(&self) -> String {
        self.parsed()
            .body_text(0)
            .map(|t| t.into_owned())
            .unwrap_or_default()
    }

    pub fn html(&self) -> String {
        self.parsed()
            .body_html(0)
            .map(|t| t.into_owned())
            .unwrap_or_default()
    }

    /// The `text/calendar` part: its `method` parameter and its text.
    pub fn calendar(&self) -> Option<(String, String)> {
        let parsed = self.parsed();
        parsed.parts.iter().find_map(|part| {
            let kind = part.content_type()?;
            if kind.ctype() != "text" || kind.subtype() != Some("calendar") {
                return None;
            }
            let method = kind.attribute("method").unwrap_or_default().to_owned();
            Some((method, part.text_contents()?.to_owned()))
        })
    }
}

struct Shared {
    mails: Mutex<Vec<Mail>>,
    arrived: Notify,
}

/// The server. Dropping it stops it.
pub struct MailServer {
    port: u16,
    shared: Arc<Shared>,
    serving: Mutex<Option<JoinHandle<()>>>,
}

impl MailServer {
    /// Listens on a free loopback port.
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a loopback port for the mail server");
        let port = listener.local_addr().expect("its address").port();
        let shared = Arc::new(Shared {
            mails: Mutex::new(Vec::new()),
            arrived: Notify::new(),
        });
        let serving = tokio::spawn(serve(listener, Arc::clone(&shared)));
        Self {
            port,
            shared,
            serving: Mutex::new(Some(serving)),
        }
    }

    /// The URL the server under test is given (`--smtp-url`): plain SMTP on loopback.
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Goes away: open conversations are cut and new connections refused.
    pub fn stop(&self) {
        if let Some(serving) = self.serving.lock().expect("lock").take() {
            serving.abort();
        }
    }

    /// Comes back on the same port.
    pub async fn resume(&self) {
        let socket = TcpSocket::new_v4().expect("a socket");
        socket.set_reuseaddr(true).expect("SO_REUSEADDR");
        socket
            .bind(SocketAddr::from(([127, 0, 0, 1], self.port)))
            .expect("the mail server's port again");
        let listener = socket.listen(64).expect("listening again");
        let serving = tokio::spawn(serve(listener, Arc::clone(&self.shared)));
        *self.serving.lock().expect("lock") = Some(serving);
    }

    /// Every mail received so far, in order.
    pub fn mails(&self) -> Vec<Mail> {
        self.shared.mails.lock().expect("lock").clone()
    }

    /// The mails received so far for one address.
    pub fn mails_to(&self, address: &str) -> Vec<Mail> {
        self.mails()
            .into_iter()
            .filter(|m| m.to.iter().any(|to| to.eq_ignore_ascii_case(address)))
            .collect()
    }

    /// Waits (up to `within`) until `done` holds for the mails received, and answers them;
    /// panics with what did arrive if it never does.
    pub async fn wait_until(&self, within: Duration, done: impl Fn(&[Mail]) -> bool) -> Vec<Mail> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let arrived = self.shared.arrived.notified();
            let mails = self.mails();
            if done(&mails) {
                return mails;
            }
            if tokio::time::timeout_at(deadline, arrived).await.is_err() {
                let subjects: Vec<(Vec<String>, String)> =
                    mails.iter().map(|m| (m.to.clone(), m.subject())).collect();
                panic!(
                    "the mails expected did not arrive within {within:?}; arrived: {subjects:?}"
                );
            }
        }
    }

    /// Waits (up to 10 s) for at least `count` mails to `address`, and answers them.
    pub async fn expect_mails_to(&self, address: &str, count: usize) -> Vec<Mail> {
        self.wait_until(Duration::from_secs(10), |mails| {
            mails
                .iter()
                .filter(|m| m.to.iter().any(|to| to.eq_ignore_ascii_case(address)))
                .count()
                >= count
        })
        .await;
        self.mails_to(address)
    }
}

impl Drop for MailServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Accepts connections until aborted; aborting drops every conversation with it.
async fn serve(listener: TcpListener, shared: Arc<Shared>) {
    let mut conversations = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                if let Ok((stream, peer)) = accepted {
                    // Replies are small writes; Nagle's algorithm would hold each one back for
                    // the client's delayed ACK (40 ms on Linux), as a real MTA does not.
                    let _ = stream.set_nodelay(true);
                    conversations.spawn(converse(stream, peer.ip(), Arc::clone(&shared)));
                }
            }
            Some(_) = conversations.join_next(), if !conversations.is_empty() => {}
        }
    }
}

/// Keeps what one conversation's mail transaction sends.
struct Collector {
    shared: Arc<Shared>,
    from: String,
    to: Vec<String>,
    data: Vec<u8>,
}

impl Handler for Collector {
    fn data_start(&mut self, _domain: &str, from: &str, _is8bit: bool, to: &[String]) -> Response {
        self.from = from.to_owned();
        self.to = to.to_vec();
        self.data.clear();
        response::OK
    }

    fn data(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.data.extend_from_slice(buf);
        Ok(())
    }

    fn data_end(&mut self) -> Response {
        let mail = Mail {
            from: std::mem::take(&mut self.from),
            to: std::mem::take(&mut self.to),
            raw: std::mem::take(&mut self.data),
        };
        self.shared.mails.lock().expect("lock").push(mail);
        self.shared.arrived.notify_waiters();
        response::OK
    }
}

async fn converse(stream: TcpStream, peer: IpAddr, shared: Arc<Shared>) {
    let collector = Collector {
        shared,
        from: String::new(),
        to: Vec::new(),
        data: Vec::new(),
    };
    let mut session = SessionBuilder::new("kairos-test-smtp").build(peer, collector);
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read);
    if reply(&mut write, &session.greeting()).await.is_err() {
        return;
    }
    let mut line = Vec::new();
    loop {
        line.clear();
        match lines.read_until(b'\n', &mut line).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        let response = session.process(&line);
        match response.action {
            Action::NoReply => {}
            Action::Reply | Action::UpgradeTls => {
                if reply(&mut write, &response).await.is_err() {
                    return;
                }
            }
            Action::Close => {
                let _ = reply(&mut write, &response).await;
                return;
            }
        }
    }
}

async fn reply(
    write: &mut tokio::net::tcp::OwnedWriteHalf,
    response: &Response,
) -> std::io::Result<()> {
    let bytes = response.buffer()?;
    write.write_all(&bytes).await
}
