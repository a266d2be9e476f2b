//! CSRF protection for forms, in two layers.
//!
//! 1. **Origin**: a form post whose `Origin` (or, when a browser sends none,
//!    `Referer`) names another origin than the node's public URL is
//!    refused. Browsers send `Origin` with every POST; this stops pages on
//!    sibling origins (another port of the same host, another service under
//!    the same domain), which can set cookies for this host and so defeat a
//!    plain double-submit cookie.
//! 2. **Token**: every form carries a hidden token that the server checks.
//!    A signed-in visitor's token is derived from their session secret, so
//!    it is bound to the session and changes at every login; before login,
//!    a random `allmende_csrf` cookie (named per node, see
//!    `Config::cookie_name`) holds it, and it is replaced at login.

use axum::extract::{FromRequestParts, Request, State};
use axum::http::header::SET_COOKIE;
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;

use super::session::{cookie, set_cookie};
use crate::config::Config;
use crate::state::AppState;

pub const COOKIE: &str = "allmende_csrf";
pub const FIELD: &str = "csrf";

/// The visitor's CSRF token, to put into forms and to check posts against.
#[derive(Clone, Debug)]
pub struct CsrfToken(pub String);

impl CsrfToken {
    /// Whether a submitted form field carries this token. An empty token
    /// (which the middleware never produces) matches nothing.
    pub fn verify(&self, submitted: &str) -> bool {
        !self.0.is_empty() && super::constant_time_eq(&self.0, submitted)
    }
}

/// The token of a session: a digest of its secret under a purpose label, so
/// that neither can be computed from the other's digest in the database.
fn session_token(session_secret: &str) -> String {
    super::digest(&format!("allmende-csrf:{session_secret}"))
}

/// A `Set-Cookie` value with a new random pre-login token.
pub fn fresh_cookie(config: &Config) -> String {
    set_cookie(
        config,
        &config.cookie_name(COOKIE),
        &super::random_secret(32),
        None,
    )
}

/// Middleware: gives every request its token (from the session, from the
/// pre-login cookie, or newly made) and sets the cookie when it was new.
pub async fn ensure_token(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let config = &state.config;
    let session = cookie(
        request.headers(),
        &config.cookie_name(super::session::COOKIE),
    )
    .filter(|s| !s.is_empty());
    let name = config.cookie_name(COOKIE);
    let existing = cookie(request.headers(), &name).filter(|v| v.len() >= 32 && v.len() <= 64);
    let (token, new_cookie) = match (session, existing) {
        (Some(secret), _) => (session_token(&secret), None),
        (None, Some(t)) => (t, None),
        (None, None) => {
            let t = super::random_secret(32);
            (t.clone(), Some(t))
        }
    };
    request.extensions_mut().insert(CsrfToken(token));
    let mut response = next.run(request).await;
    if let Some(value) = new_cookie {
        let value = set_cookie(config, &name, &value, None);
        if let Ok(v) = HeaderValue::from_str(&value) {
            response.headers_mut().append(SET_COOKIE, v);
        }
    }
    response
}

/// Whether a form post comes from the node's own pages: its `Origin`, or
/// without one its `Referer`, must name the node's public origin. A post
/// with neither (not a current browser) is left to the token check.
pub fn same_origin(config: &Config, headers: &HeaderMap) -> bool {
    let own = config.public_url.origin();
    let named = |name: header::HeaderName| {
        headers
            .get(name)
            .map(|v| v.to_str().ok().and_then(|v| url::Url::parse(v).ok()))
    };
    match named(header::ORIGIN).or_else(|| named(header::REFERER)) {
        None => true,
        // `Origin: null` (sandboxed or privacy-redirected) and
        // unreadable values are refused with the rest.
        Some(Some(url)) => url.origin() == own,
        Some(None) => false,
    }
}

impl<S: Send + Sync> FromRequestParts<S> for CsrfToken {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        // The middleware always runs first; an empty token never matches.
        Ok(parts
            .extensions
            .get::<CsrfToken>()
            .cloned()
            .unwrap_or(CsrfToken(String::new())))
    }
}
