//! CSRF protection for forms with the double-submit pattern: every visitor
//! gets a random `allmende_csrf` cookie (named per node, see
//! `Config::cookie_name`), every form carries the same value in
//! a hidden field, and a post is accepted only when both match. Another site
//! can make a browser post, but cannot read the cookie to fill in the field;
//! SameSite=Lax keeps the cookie off cross-site posts besides.

use axum::extract::{FromRequestParts, Request, State};
use axum::http::header::SET_COOKIE;
use axum::http::request::Parts;
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;

use super::session::{cookie, set_cookie};
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

/// Middleware: makes sure every request has a token (from its cookie or newly
/// made) and sets the cookie when it was new.
pub async fn ensure_token(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let name = state.config.cookie_name(COOKIE);
    let existing = cookie(request.headers(), &name).filter(|v| v.len() >= 32 && v.len() <= 64);
    let (token, is_new) = match existing {
        Some(t) => (t, false),
        None => (super::random_secret(32), true),
    };
    request.extensions_mut().insert(CsrfToken(token.clone()));
    let mut response = next.run(request).await;
    if is_new {
        let value = set_cookie(&state.config, &name, &token, None);
        if let Ok(v) = HeaderValue::from_str(&value) {
            response.headers_mut().append(SET_COOKIE, v);
        }
    }
    response
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
