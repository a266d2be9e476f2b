//! What the node checks of every request before anything else: that it was
//! meant for this node. Behind a reverse proxy, a request naming another
//! host is a misconfigured proxy (one that does not pass `Host` on) or a
//! client probing with a forged name; either way, links and redirects
//! built from `public_url` would point somewhere the client did not ask
//! for. The answer is a plain 400 that says what to fix.
//!
//! `X-Forwarded-Host` and `X-Forwarded-Proto` are not read at all: the
//! node's URLs come from `public_url`, never from headers. Only the
//! client's address may come from a header, and only from a trusted proxy
//! (see [`crate::auth::client_ip`]).

use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::state::AppState;

/// Paths that answer whatever `Host` names: health checks and metrics are
/// asked for by address (a load balancer, a container runtime, Prometheus).
const ANY_HOST: [&str; 2] = ["/healthz", "/metrics"];

/// Refuses requests whose `Host` is not the host of `public_url`.
pub async fn require_own_host(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    if ANY_HOST.contains(&request.uri().path()) {
        return next.run(request).await;
    }
    let given = request
        .headers()
        .get(header::HOST)
        .and_then(|v| v.to_str().ok());
    if given.is_some_and(|host| is_own_host(host, &state.config.public_url)) {
        return next.run(request).await;
    }
    let expected = authority(&state.config.public_url);
    // Shown as plain text (never HTML), cut short: it is the client's.
    let given: String = given.unwrap_or("(none)").chars().take(100).collect();
    // Scanners ask for other names all day: not worth an info line each.
    tracing::debug!(%given, %expected, "request for another host refused");
    (
        StatusCode::BAD_REQUEST,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        format!(
            "Dieser Knoten antwortet nur unter {expected}; die Anfrage nannte den Host {given}. \
             Hinter einem Reverse Proxy: den Host-Header weitergeben (nginx: proxy_set_header Host $http_host).\n\
             This node answers only as {expected}; the request named the host {given}. \
             Behind a reverse proxy: pass the Host header on (nginx: proxy_set_header Host $http_host).\n"
        ),
    )
        .into_response()
}

/// `host[:port]` of the public URL, as a `Host` header names it.
fn authority(public_url: &url::Url) -> String {
    let host = public_url.host_str().unwrap_or_default();
    match public_url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    }
}

/// Whether a `Host` header names the public URL's host: the same name
/// (case aside) and the same port, the scheme's default written or not.
fn is_own_host(given: &str, public_url: &url::Url) -> bool {
    let given = given.trim();
    let own = authority(public_url);
    if given.eq_ignore_ascii_case(&own) {
        return true;
    }
    match (public_url.port(), public_url.port_or_known_default()) {
        (None, Some(default)) => given.eq_ignore_ascii_case(&format!(
            "{}:{default}",
            public_url.host_str().unwrap_or_default()
        )),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> url::Url {
        url::Url::parse(s).expect("url")
    }

    #[test]
    fn names_of_the_node_itself_pass() {
        let public = url("https://allmende.ulm.de/");
        assert!(is_own_host("allmende.ulm.de", &public));
        assert!(is_own_host("Allmende.Ulm.DE", &public));
        assert!(is_own_host("allmende.ulm.de:443", &public));
        let with_port = url("http://localhost:8080/");
        assert!(is_own_host("localhost:8080", &with_port));
        let v6 = url("http://[::1]:8080/");
        assert!(is_own_host("[::1]:8080", &v6));
    }

    #[test]
    fn other_names_and_ports_are_refused() {
        let public = url("https://allmende.ulm.de/");
        assert!(!is_own_host("evil.example", &public));
        assert!(!is_own_host("allmende.ulm.de:8443", &public));
        assert!(!is_own_host("allmende.ulm.de.evil.example", &public));
        assert!(!is_own_host("", &public));
        let with_port = url("http://localhost:8080/");
        assert!(!is_own_host("localhost", &with_port));
        assert!(!is_own_host("127.0.0.1:8080", &with_port));
        assert!(!is_own_host("localhost:8081", &with_port));
    }
}
