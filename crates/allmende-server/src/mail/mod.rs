//! E-mail: what the node sends (invitations, password resets,
//! notifications, daily digests), composed in German and English, queued
//! durably in the database and sent over SMTP by a background worker.
//!
//! - `compose.rs` writes each kind of mail (plain text, both languages).
//! - `notify.rs` turns events (an answer, an accepted answer, a new item)
//!   into mails or digest entries for the people they concern.
//! - `worker.rs` sends what is queued, retrying with growing waits, and
//!   sends the daily digests.

pub mod compose;
pub mod notify;
pub mod worker;

use std::sync::Arc;
use std::time::Duration;

use allmende_store::mail::OutgoingMail;
use allmende_store::Store;
use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::Mailbox;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use secrecy::ExposeSecret;
use tokio::sync::Notify;

use crate::config::Config;

/// How the node sends mail; cheap to clone.
#[derive(Clone)]
pub struct Mailer {
    inner: Arc<Inner>,
}

struct Inner {
    transport: Option<Transport>,
    from: Mailbox,
    wake: Notify,
}

/// Where mail goes: an SMTP server, or (development, demos) files.
enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    Files(std::path::PathBuf),
}

#[derive(Debug, thiserror::Error)]
pub enum MailConfigError {
    #[error("smtp_url: {0}")]
    SmtpUrl(String),
    #[error("mail_from: not an address like \"Allmende Ulm <allmende@ulm.de>\": {0}")]
    From(String),
}

impl Mailer {
    pub fn from_config(config: &Config) -> Result<Self, MailConfigError> {
        let transport = match (&config.smtp_url, &config.mail_dir) {
            (Some(url), _) => Some(Transport::Smtp(
                AsyncSmtpTransport::<Tokio1Executor>::from_url(url.expose_secret())
                    // lettre's messages may quote the URL: never the secret.
                    .map_err(|e| {
                        MailConfigError::SmtpUrl(redact(&e.to_string(), url.expose_secret()))
                    })?
                    .timeout(Some(Duration::from_secs(30)))
                    .build(),
            )),
            (None, Some(dir)) => Some(Transport::Files(dir.clone())),
            (None, None) => None,
        };
        let from = match &config.mail_from {
            Some(from) => from
                .parse::<Mailbox>()
                .map_err(|e| MailConfigError::From(e.to_string()))?,
            None => {
                let host = config.public_url.host_str().unwrap_or("localhost");
                format!("Allmende <noreply@{host}>")
                    .parse::<Mailbox>()
                    .map_err(|e| MailConfigError::From(e.to_string()))?
            }
        };
        Ok(Self {
            inner: Arc::new(Inner {
                transport,
                from,
                wake: Notify::new(),
            }),
        })
    }

    /// Whether the node sends mail (an SMTP server, or files).
    pub fn enabled(&self) -> bool {
        self.inner.transport.is_some()
    }

    /// Queues a mail (nothing is sent in the request that made it) and
    /// wakes the worker. Without SMTP, nothing is queued.
    pub async fn queue(
        &self,
        store: &Store,
        mail: &OutgoingMail,
    ) -> Result<(), allmende_store::StoreError> {
        if !self.enabled() {
            return Ok(());
        }
        store.mail().enqueue(mail, chrono::Utc::now()).await?;
        self.inner.wake.notify_one();
        Ok(())
    }

    /// Wakes the worker (after notification events were written).
    pub fn wake(&self) {
        self.inner.wake.notify_one();
    }

    async fn woken(&self) {
        self.inner.wake.notified().await;
    }

    /// Hands one mail to the SMTP server.
    async fn send(&self, mail: &OutgoingMail) -> Result<(), String> {
        let Some(transport) = &self.inner.transport else {
            return Err("no mail transport configured".into());
        };
        let to: Mailbox = mail
            .recipient
            .parse()
            .map_err(|e| format!("recipient {:?}: {e}", mail.recipient))?;
        let mut builder = Message::builder()
            .from(self.inner.from.clone())
            .to(to)
            .subject(&mail.subject)
            .header(ContentType::TEXT_PLAIN);
        if let Some(url) = &mail.unsubscribe_url {
            builder = builder
                .raw_header(HeaderValue::new(
                    HeaderName::new_from_ascii_str("List-Unsubscribe"),
                    format!("<{url}>"),
                ))
                .raw_header(HeaderValue::new(
                    HeaderName::new_from_ascii_str("List-Unsubscribe-Post"),
                    "List-Unsubscribe=One-Click".into(),
                ));
        }
        let message = builder.body(mail.body.clone()).map_err(|e| e.to_string())?;
        match transport {
            Transport::Smtp(smtp) => smtp
                .send(message)
                .await
                .map(|_| ())
                .map_err(|e| e.to_string()),
            Transport::Files(dir) => {
                tokio::fs::create_dir_all(dir)
                    .await
                    .map_err(|e| e.to_string())?;
                let name = format!(
                    "{}-{}.eml",
                    chrono::Utc::now().format("%Y%m%dT%H%M%S%.3f"),
                    uuid::Uuid::now_v7()
                );
                tokio::fs::write(dir.join(name), message.formatted())
                    .await
                    .map_err(|e| e.to_string())
            }
        }
    }
}

fn redact(message: &str, url: &str) -> String {
    match url::Url::parse(url)
        .ok()
        .and_then(|u| u.password().map(str::to_owned))
    {
        Some(password) if !password.is_empty() => message.replace(&password, "***"),
        _ => message.to_owned(),
    }
}
