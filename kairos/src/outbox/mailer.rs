//! Where mail goes: an SMTP server (lettre's pooled async transport, rustls), or with none set,
//! a folder of `.eml` files, so `cargo run` needs nothing and every mail can still be read.

use std::{path::PathBuf, time::Duration};

use anyhow::Context;
use lettre::{
    AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor,
    transport::smtp::PoolConfig,
};

use crate::config::Secret;

/// How long one SMTP conversation may take before the try counts as failed.
const SMTP_TIMEOUT: Duration = Duration::from_secs(15);
/// Open connections to the SMTP server at most: one per mail of a send batch, so a batch
/// goes out at once, and well under what relays allow one client (Postfix: 50).
const SMTP_CONNECTIONS: u32 = super::SEND_BATCH;

pub enum Mailer {
    Smtp {
        transport: AsyncSmtpTransport<Tokio1Executor>,
        /// `host:port`, for logs: never the credentials.
        server: String,
    },
    Folder {
        transport: AsyncFileTransport<Tokio1Executor>,
        path: PathBuf,
    },
}

impl Mailer {
    /// The SMTP server the URL names, or the `mail` folder in the data dir.
    pub fn new(smtp_url: Option<&Secret>, data_dir: &std::path::Path) -> anyhow::Result<Self> {
        match smtp_url {
            Some(url) => {
                let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url.expose())
                    // lettre's message names the problem, not the URL, so no password leaks.
                    .context("KAIROS_SMTP_URL is not an SMTP URL lettre accepts")?
                    .timeout(Some(SMTP_TIMEOUT))
                    .pool_config(PoolConfig::new().max_size(SMTP_CONNECTIONS))
                    .build();
                Ok(Mailer::Smtp {
                    transport,
                    server: server_of(url.expose()),
                })
            }
            None => {
                let path = data_dir.join("mail");
                std::fs::create_dir_all(&path)
                    .with_context(|| format!("creating the mail folder {}", path.display()))?;
                Ok(Mailer::Folder {
                    transport: AsyncFileTransport::new(&path),
                    path,
                })
            }
        }
    }

    /// Where mail goes, in words for the start-up log.
    pub fn describe(&self) -> String {
        match self {
            Mailer::Smtp { server, .. } => format!("mail goes to the SMTP server {server}"),
            Mailer::Folder { path, .. } => format!(
                "no SMTP server set (--smtp-url): mail is written as .eml files to {}",
                path.display()
            ),
        }
    }

    /// Sends one mail; the error says why in words fit for the outbox's `lastError`.
    pub async fn send(&self, message: Message) -> Result<(), String> {
        match self {
            Mailer::Smtp { transport, .. } => transport
                .send(message)
                .await
                .map(drop)
                .map_err(|err| err.to_string()),
            Mailer::Folder { transport, .. } => transport
                .send(message)
                .await
                .map(drop)
                .map_err(|err| err.to_string()),
        }
    }
}

/// `host:port` of an SMTP URL, without the scheme, credentials or query.
fn server_of(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = rest.split(['/', '?']).next().unwrap_or_default();
    authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host)
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_server_is_named_without_credentials() {
        assert_eq!(
            server_of("smtp://user:s3cret@mail.example.org:587?tls=required"),
            "mail.example.org:587"
        );
        assert_eq!(server_of("smtps://mail.example.org"), "mail.example.org");
    }
}
