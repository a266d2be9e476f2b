//! Browser sessions: a random cookie value; the database keeps its digest.

use allmende_store::{Store, StoreError, User, UserId};
use axum::http::HeaderMap;
use chrono::Utc;

use crate::config::Config;

/// The session cookie's name, before [`Config::cookie_name`] makes it this
/// node's own.
pub const COOKIE: &str = "allmende_session";

/// Starts a session and returns the `Set-Cookie` value.
pub async fn start(store: &Store, config: &Config, user: UserId) -> Result<String, StoreError> {
    let secret = super::random_secret(32);
    let now = Utc::now();
    let lifetime = chrono::Duration::days(i64::from(config.session_days));
    store
        .accounts()
        .create_session(&super::digest(&secret), user, now, now + lifetime)
        .await?;
    // Expired sessions of anyone are cleared on each login; cheap and enough
    // for a node with hundreds of users.
    store.accounts().purge_sessions(now).await?;
    Ok(set_cookie(
        config,
        &config.cookie_name(COOKIE),
        &secret,
        Some(lifetime.num_seconds()),
    ))
}

/// The logged-in user, if the request carries a valid session cookie.
pub async fn user(
    store: &Store,
    config: &Config,
    headers: &HeaderMap,
) -> Result<Option<User>, StoreError> {
    match cookie(headers, &config.cookie_name(COOKIE)) {
        Some(secret) => {
            store
                .accounts()
                .session_user(&super::digest(&secret), Utc::now())
                .await
        }
        None => Ok(None),
    }
}

/// Ends the session and returns the `Set-Cookie` value that clears it.
pub async fn end(
    store: &Store,
    config: &Config,
    headers: &HeaderMap,
) -> Result<String, StoreError> {
    let name = config.cookie_name(COOKIE);
    if let Some(secret) = cookie(headers, &name) {
        store
            .accounts()
            .delete_session(&super::digest(&secret))
            .await?;
    }
    Ok(set_cookie(config, &name, "", Some(0)))
}

/// Reads one cookie from the request headers.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

/// A `Set-Cookie` header value: HttpOnly, SameSite=Lax, Secure on HTTPS.
pub fn set_cookie(config: &Config, name: &str, value: &str, max_age: Option<i64>) -> String {
    let mut c = format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax");
    if let Some(age) = max_age {
        c.push_str(&format!("; Max-Age={age}"));
    }
    if config.secure_cookies() {
        c.push_str("; Secure");
    }
    c
}
