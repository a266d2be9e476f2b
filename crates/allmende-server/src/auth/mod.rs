//! Who is making a request: passwords, browser sessions, API tokens, and the
//! CSRF check that every form post passes.

pub mod csrf;
pub mod password;
pub mod session;
pub mod token;
pub mod totp;

use sha2::{Digest, Sha256};

/// Session cookies and API tokens are stored as SHA-256 digests: they are
/// long random values, so a fast hash suffices, and a database leak does not
/// leak usable credentials.
pub fn digest(secret: &str) -> String {
    let hash = Sha256::digest(secret.as_bytes());
    hash.iter().map(|b| format!("{b:02x}")).collect()
}

/// A random URL-safe secret of `bytes` bytes of entropy.
pub fn random_secret(bytes: usize) -> String {
    use base64::Engine;
    use rand::RngCore;
    let mut buf = vec![0u8; bytes];
    rand::rngs::OsRng.fill_bytes(&mut buf);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(buf)
}

/// Compares secrets in time independent of where they differ.
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The client's address: from `config.client_ip_header` behind a proxy
/// (the last entry, which the proxy itself appended) when the connection
/// comes from one of `config.trusted_proxies`, else the connection's.
pub fn client_ip(
    config: &crate::config::Config,
    headers: &axum::http::HeaderMap,
    extensions: &axum::http::Extensions,
) -> Option<std::net::IpAddr> {
    let connection = extensions
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.ip());
    let Some(name) = &config.client_ip_header else {
        return connection;
    };
    // A client that reaches the node directly may not name itself (nor
    // may anything whose address is unknown).
    let peer = connection?;
    if !config.is_trusted_proxy(peer) {
        if headers.contains_key(name.as_str()) {
            warn_untrusted_proxy(peer);
        }
        return connection;
    }
    // Only the entry the proxy appended counts: earlier ones come from the
    // client and may say anything. Without the header (a request that did
    // not pass the proxy), the connection's address.
    headers
        .get_all(name.as_str())
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .next_back()
        .and_then(|v| v.trim().parse().ok())
        .or(connection)
}

/// Says once per process that a request carried `client_ip_header` from
/// an address not in `trusted_proxies`: usually a proxy whose address was
/// not added (a container network), which makes all clients one for the
/// login limits.
fn warn_untrusted_proxy(peer: std::net::IpAddr) {
    static WARNED: std::sync::Once = std::sync::Once::new();
    WARNED.call_once(|| {
        tracing::warn!(%peer, "a request named its client in client_ip_header, but came from an address not in trusted_proxies: the header is ignored; if this is your reverse proxy, add its address to trusted_proxies");
    });
}

/// A return target after login or a language switch: a path on this node,
/// normalised as a browser would read it, or `None`. Control characters are
/// refused outright (browsers drop a TAB or newline, which turns
/// `/<TAB>/evil.example` into `//evil.example`, another host); what remains
/// is resolved against the node's own URL and kept only if it stays on the
/// node. The result is percent-encoded, so it is always a valid `Location`.
pub fn local_target(next: &str, public_url: &url::Url) -> Option<String> {
    if !next.starts_with('/')
        || next.len() > 2048
        || next.chars().any(|c| c.is_control() || c == '\\')
    {
        return None;
    }
    let resolved = public_url.join(next).ok()?;
    if resolved.origin() != public_url.origin() || next.starts_with("//") {
        return None;
    }
    let mut target = resolved.path().to_owned();
    // `/.//evil.example` resolves to the path `//evil.example`, which a
    // browser reads as another host.
    if target.starts_with("//") {
        return None;
    }
    if let Some(query) = resolved.query() {
        target.push('?');
        target.push_str(query);
    }
    Some(target)
}

#[cfg(test)]
mod tests {
    use super::local_target;
    use proptest::prelude::*;

    proptest! {
        /// Whatever `next` a visitor sends, the target is a path on the
        /// node that a `Location` header can carry, or nothing.
        #[test]
        fn any_return_target_stays_on_the_node(next in prop_oneof!["/[ -~]{0,40}", "\\PC{0,40}", any::<String>()]) {
            let node = url::Url::parse("https://node.example").unwrap();
            if let Some(target) = local_target(&next, &node) {
                prop_assert!(target.starts_with('/') && !target.starts_with("//"), "{target}");
                prop_assert!(axum::http::HeaderValue::from_str(&target).is_ok(), "{target}");
                prop_assert_eq!(node.join(&target).unwrap().origin(), node.origin());
            }
        }
    }

    #[test]
    fn return_targets_stay_on_the_node() {
        let node = url::Url::parse("https://node.example").unwrap();
        for (next, expected) in [
            ("/", Some("/")),
            ("/projects?q=Hund", Some("/projects?q=Hund")),
            ("/fragen/ä b", Some("/fragen/%C3%A4%20b")),
            ("/a/../b", Some("/b")),
            ("//evil.example", None),
            ("/.//evil.example", None),
            ("/a/..//evil.example", None),
            ("/%2e//evil.example", None),
            ("/\t/evil.example", None),
            ("/\n/evil.example", None),
            ("/\r\n", None),
            ("/\0", None),
            ("/\u{7f}", None),
            ("/\\evil.example", None),
            ("https://evil.example/", None),
            ("evil", None),
            ("", None),
        ] {
            assert_eq!(local_target(next, &node).as_deref(), expected, "{next:?}");
        }
    }

    #[test]
    fn only_trusted_proxies_may_name_the_client() {
        use std::net::{IpAddr, SocketAddr};
        let config = crate::config::Config {
            client_ip_header: Some("X-Forwarded-For".into()),
            trusted_proxies: vec!["10.0.0.5".into(), "::1".into()],
            ..Default::default()
        };
        let mut headers = axum::http::HeaderMap::new();
        headers.insert(
            "x-forwarded-for",
            "192.0.2.1, 198.51.100.7".parse().unwrap(),
        );
        let from = |peer: &str| {
            let mut extensions = axum::http::Extensions::new();
            let peer: SocketAddr = peer.parse().unwrap();
            extensions.insert(axum::extract::ConnectInfo(peer));
            super::client_ip(&config, &headers, &extensions)
        };
        let named: IpAddr = "198.51.100.7".parse().unwrap();
        // The proxy's last entry counts, from a proxy in the list.
        assert_eq!(from("10.0.0.5:40000"), Some(named));
        assert_eq!(from("[::1]:40000"), Some(named));
        // Anyone else counts as the connection, whatever it claims.
        assert_eq!(
            from("203.0.113.9:40000"),
            Some("203.0.113.9".parse().unwrap())
        );
        // The default list is the local machine.
        assert_eq!(
            crate::config::Config::default().trusted_proxies,
            vec!["127.0.0.1".to_owned(), "::1".to_owned()]
        );
    }
}
