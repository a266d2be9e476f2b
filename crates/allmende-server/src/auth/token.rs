//! API tokens: `alm_` followed by 32 random bytes. The prefix makes leaked
//! tokens easy to find with secret scanners.

use allmende_store::{ApiTokenInfo, Store, StoreError, User, UserId};
use chrono::Utc;

pub const PREFIX: &str = "alm_";

/// Creates a token for `user` and returns the secret, which is shown once
/// and never stored.
pub async fn create(
    store: &Store,
    user: UserId,
    label: &str,
) -> Result<(String, ApiTokenInfo), StoreError> {
    let secret = format!("{PREFIX}{}", super::random_secret(32));
    let info = store
        .accounts()
        .create_token(user, &super::digest(&secret), label, Utc::now())
        .await?;
    Ok((secret, info))
}

/// The user owning the token in an `Authorization: Bearer …` header value.
pub async fn authenticate(store: &Store, header: &str) -> Result<Option<User>, StoreError> {
    let Some(token) = header.strip_prefix("Bearer ").map(str::trim) else {
        return Ok(None);
    };
    if !token.starts_with(PREFIX) || token.len() > 200 {
        return Ok(None);
    }
    store
        .accounts()
        .token_user(&super::digest(token), Utc::now())
        .await
}
