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
            .at("password"),
        ),
        other => UseCaseError::Internal(other.to_string()),
    })?;
    Ok(store
        .accounts()
        .create_user(&email, &hash, org.id, role, Utc::now())
        .await?)
}

/// Checks an e-mail and password; `None` for any mismatch, without saying
/// which part was wrong.
pub async fn login(store: &Store, email: &str, password_input: &str) -> Result<Option<User>> {
    let Ok(email) = Email::parse(email) else {
        password::verify_dummy(password_input);
        return Ok(None);
    };
    let Some((user, hash)) = store.accounts().credentials(&email).await? else {
        password::verify_dummy(password_input);
        return Ok(None);
    };
    // Argon2 is deliberately slow: keep it off the async workers.
    let pw = password_input.to_owned();
    let ok = tokio::task::spawn_blocking(move || password::verify(&pw, &hash))
        .await
        .map_err(|e| UseCaseError::Internal(e.to_string()))?;
    Ok(ok.then_some(user))
}
