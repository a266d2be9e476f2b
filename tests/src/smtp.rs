//! A minimal SMTP server on loopback that keeps what it receives, so
//! tests can read the node's mail. It speaks the part of RFC 5321 a
//! client needs for plain delivery (EHLO/HELO, MAIL, RCPT, DATA, RSET,
//! NOOP, QUIT), and can refuse every mail to play a failing server.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

/// One mail as it arrived.
#[derive(Clone, Debug)]
pub struct ReceivedMail {
    pub from: String,
    pub to: Vec<String>,
    /// Header lines as sent, unfolded.
    pub headers: Vec<(String, String)>,
    /// The body, transfer encoding undone.
    pub body: String,
}

impl ReceivedMail {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The first `https?://` link in the body that contains `part`.
    pub fn link_containing(&self, part: &str) -> Option<String> {
        self.body
            .split_whitespace()
            .find(|w| (w.starts_with("http://") || w.starts_with("https://")) && w.contains(part))
            .map(str::to_owned)
    }
}

#[derive(Clone)]
pub struct SmtpSink {
    pub port: u16,
    received: Arc<Mutex<Vec<ReceivedMail>>>,
    refuse: Arc<AtomicBool>,
}

impl SmtpSink {
    /// Listens on a free loopback port.
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind SMTP sink");
        Self::serve(listener)
    }

    /// Listens on `port` (to come up where a node already expects it).
    pub async fn start_on(port: u16) -> Self {
        let listener = TcpListener::bind(("127.0.0.1", port))
            .await
            .expect("bind SMTP sink");
        Self::serve(listener)
    }

    fn serve(listener: TcpListener) -> Self {
        let sink = Self {
            port: listener.local_addr().expect("address").port(),
            received: Arc::default(),
            refuse: Arc::default(),
        };
        let s = sink.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let s = s.clone();
                tokio::spawn(async move {
                    let _ = s.session(stream).await;
                });
            }
        });
        sink
    }

    /// `smtp_url` for a node.
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Answers every MAIL with 451 (try again later) while `on`.
    pub fn refuse(&self, on: bool) {
        self.refuse.store(on, Ordering::SeqCst);
    }

    pub fn received(&self) -> Vec<ReceivedMail> {
        self.received.lock().expect("lock").clone()
    }

    /// Waits until `count` mails arrived (at most 15 s); returns them all.
    pub async fn wait_for(&self, count: usize) -> Vec<ReceivedMail> {
        for _ in 0..300 {
            let got = self.received();
            if got.len() >= count {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("expected {count} mails, got {:#?}", self.received());
    }

    async fn session(&self, stream: TcpStream) -> std::io::Result<()> {
        let (read, mut write) = stream.into_split();
        let mut lines = BufReader::new(read).lines();
        write.write_all(b"220 sink.test ESMTP\r\n").await?;
        let (mut from, mut to) = (String::new(), Vec::new());
        while let Some(line) = lines.next_line().await? {
            let upper = line.to_ascii_uppercase();
            let reply: &[u8] = if upper.starts_with("EHLO") {
                b"250-sink.test\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n"
            } else if upper.starts_with("HELO") || upper.starts_with("NOOP") {
                b"250 OK\r\n"
            } else if upper.starts_with("RSET") {
                from.clear();
                to.clear();
                b"250 OK\r\n"
            } else if upper.starts_with("MAIL FROM:") {
                if self.refuse.load(Ordering::SeqCst) {
                    b"451 4.3.0 try again later\r\n"
                } else {
                    from = address(&line[10..]);
                    b"250 OK\r\n"
                }
            } else if upper.starts_with("RCPT TO:") {
                to.push(address(&line[8..]));
                b"250 OK\r\n"
            } else if upper.starts_with("DATA") {
                write.write_all(b"354 end with .\r\n").await?;
                let mut data = Vec::new();
                while let Some(l) = lines.next_line().await? {
                    if l == "." {
                        break;
                    }
                    data.push(l.strip_prefix('.').map_or(l.clone(), |rest| {
                        if l.starts_with("..") {
                            rest.to_owned()
                        } else {
                            l.clone()
                        }
                    }));
                }
                self.received
                    .lock()
                    .expect("lock")
                    .push(parse(&from, &to, &data));
                from.clear();
                to.clear();
                b"250 OK queued\r\n"
            } else if upper.starts_with("QUIT") {
                write.write_all(b"221 bye\r\n").await?;
                return Ok(());
            } else {
                b"502 not implemented\r\n"
            };
            write.write_all(reply).await?;
        }
        Ok(())
    }
}

fn address(arg: &str) -> String {
    arg.trim()
        .trim_start_matches('<')
        .split('>')
        .next()
        .unwrap_or("")
        .to_owned()
}

fn parse(from: &str, to: &[String], data: &[String]) -> ReceivedMail {
    let split = data.iter().position(String::is_empty).unwrap_or(data.len());
    let mut headers: Vec<(String, String)> = Vec::new();
    for line in &data[..split] {
        if line.starts_with([' ', '\t']) {
            if let Some(last) = headers.last_mut() {
                last.1.push(' ');
                last.1.push_str(line.trim());
            }
        } else if let Some((n, v)) = line.split_once(':') {
            headers.push((n.trim().to_owned(), v.trim().to_owned()));
        }
    }
    for (_, value) in &mut headers {
        *value = encoded_words(value);
    }
    let raw = data.get(split + 1..).unwrap_or(&[]).join("\n");
    let encoding = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("Content-Transfer-Encoding"))
        .map(|(_, v)| v.to_ascii_lowercase())
        .unwrap_or_default();
    let body = match encoding.as_str() {
        "quoted-printable" => quoted_printable(&raw),
        "base64" => {
            use base64::Engine;
            let compact: String = raw.split_whitespace().collect();
            String::from_utf8_lossy(
                &base64::engine::general_purpose::STANDARD
                    .decode(compact)
                    .unwrap_or_default(),
            )
            .into_owned()
        }
        _ => raw,
    };
    ReceivedMail {
        from: from.to_owned(),
        to: to.to_vec(),
        headers,
        body,
    }
}

/// Undoes RFC 2047 encoded words (`=?utf-8?b?…?=`) in a header value;
/// the space between two encoded words is not part of the text.
fn encoded_words(value: &str) -> String {
    use base64::Engine;
    let mut out = String::new();
    let mut rest = value;
    let mut after_word = false;
    while let Some(start) = rest.find("=?") {
        let Some(end) = rest[start + 2..].find("?=").map(|e| start + 2 + e) else {
            break;
        };
        let parts: Vec<&str> = rest[start + 2..end].splitn(3, '?').collect();
        let decoded = match parts.as_slice() {
            [_, enc, text] if enc.eq_ignore_ascii_case("b") => {
                base64::engine::general_purpose::STANDARD
                    .decode(text)
                    .ok()
                    .map(|b| String::from_utf8_lossy(&b).into_owned())
            }
            [_, enc, text] if enc.eq_ignore_ascii_case("q") => {
                Some(quoted_printable(&text.replace('_', " ")))
            }
            _ => None,
        };
        let Some(decoded) = decoded else { break };
        let before = &rest[..start];
        if !(after_word && before.trim().is_empty()) {
            out.push_str(before);
        }
        out.push_str(&decoded);
        after_word = true;
        rest = &rest[end + 2..];
    }
    out.push_str(rest);
    out
}

fn quoted_printable(raw: &str) -> String {
    let mut bytes = Vec::new();
    let mut lines = raw.split('\n').peekable();
    while let Some(line) = lines.next() {
        let (content, soft) = match line.strip_suffix('=') {
            Some(c) => (c, true),
            None => (line, false),
        };
        let b = content.as_bytes();
        let mut i = 0;
        while i < b.len() {
            if b[i] == b'=' && i + 2 < b.len() {
                if let Ok(v) =
                    u8::from_str_radix(std::str::from_utf8(&b[i + 1..i + 3]).unwrap_or(""), 16)
                {
                    bytes.push(v);
                    i += 3;
                    continue;
                }
            }
            bytes.push(b[i]);
            i += 1;
        }
        if !soft && lines.peek().is_some() {
            bytes.push(b'\n');
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

#[cfg(test)]
mod tests {
    #[test]
    fn encoded_words_are_decoded() {
        assert_eq!(
            super::encoded_words("Neu: =?utf-8?b?4oCeSHVuZGXigJw=?= / x"),
            "Neu: „Hunde“ / x"
        );
    }

    #[test]
    fn quoted_printable_is_decoded() {
        assert_eq!(
            super::quoted_printable("Gr=C3=BC=C3=9Fe, lange Zei=\nle\nneu"),
            "Grüße, lange Zeile\nneu"
        );
    }
}
