//! Users, logging in and API tokens.

use allmende_domain::{Email, Role};
use allmende_store::{Store, User};
use chrono::Utc;

use super::{Result, UseCaseError};
use crate::auth::password;

pub async fn create_user(
    store: &Store,
    email: &str,
    org_handle: &str,
    role: &str,
    password: &str,
) -> Result<User> {
    let email = Email::parse(email).map_err(|p| p.at("email"))?;
    let role = Role::parse(role).map_err(|p| p.at("role"))?;
    let org = store.organizations().by_handle(org_handle).await?;
    let hash = password::hash(password).map_err(|e| match e {
        password::PasswordError::TooShort => UseCaseError::Invalid(
            allmende_domain::Problem::TooShort {
                min: password::MIN_LENGTH,
            }
            .at("password")
            .into(),
        ),
        other => UseCaseError::Internal(other.to_string()),
    })?;
    Ok(store
        .accounts()
        .create_user(&email, &hash, org.id, role, Utc::now())
        .await?)
}

/// Failed logins allowed per e-mail address within [`LOGIN_WINDOW_MINUTES`].
pub const MAX_LOGIN_FAILURES: i64 = 10;
pub const LOGIN_WINDOW_MINUTES: i64 = 15;

/// Checks an e-mail and password; `None` for any mismatch, without saying
/// which part was wrong. After [`MAX_LOGIN_FAILURES`] failures for one
/// address within the window, even the right password is refused until the
/// window has passed, which makes guessing impractically slow.
pub async fn login(store: &Store, email: &str, password_input: &str) -> Result<Option<User>> {
    let key = email.trim().to_lowercase();
    let now = Utc::now();
    let window_start = now - chrono::Duration::minutes(LOGIN_WINDOW_MINUTES);
    if store.accounts().login_failures(&key, window_start).await? >= MAX_LOGIN_FAILURES {
        return Err(UseCaseError::TooManyAttempts);
    }
    let user = check_password(store, email, password_input).await?;
    match &user {
        Some(_) => store.accounts().clear_login_failures(&key).await?,
        None => {
            store
                .accounts()
                .record_login_failure(&key, now, window_start)
                .await?
        }
    }
    Ok(user)
}

async fn check_password(store: &Store, email: &str, password_input: &str) -> Result<Option<User>> {
    // Argon2 is deliberately slow: keep it off the async workers.
    let pw = password_input.to_owned();
    let Ok(email) = Email::parse(email) else {
        verify_blocking(move || password::verify_dummy(&pw)).await?;
        return Ok(None);
    };
    let Some((user, hash)) = store.accounts().credentials(&email).await? else {
        verify_blocking(move || password::verify_dummy(&pw)).await?;
        return Ok(None);
    };
    let ok = verify_blocking(move || password::verify(&pw, &hash)).await?;
    Ok(ok.then_some(user))
}

async fn verify_blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| UseCaseError::Internal(e.to_string()))
}
