//! Users, logging in and API tokens.

use allmende_domain::{Email, Role};
use allmende_store::{Store, User};
use chrono::Utc;

use super::{Result, UseCaseError};
use std::net::IpAddr;

use crate::auth::password::{self, PasswordChecks};

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
/// Failed logins allowed per client address in the same window: higher,
/// because a town hall's staff may sign in from behind one address.
pub const MAX_CLIENT_FAILURES: i64 = 50;
pub const LOGIN_WINDOW_MINUTES: i64 = 15;

/// Checks an e-mail and password; `None` for any mismatch, without saying
/// which part was wrong.
///
/// Each attempt is counted as a failure for its address and its client
/// *before* the password is checked (one atomic step each), and taken back
/// when it turns out right: parallel guesses cannot all pass the limit. Past
/// [`MAX_LOGIN_FAILURES`] for one address, or [`MAX_CLIENT_FAILURES`] from
/// one client, within the window, even the right password is refused until
/// the window has passed, and no password is hashed at all.
pub async fn login(
    store: &Store,
    checks: &PasswordChecks,
    email: &str,
    password_input: &str,
    client: Option<IpAddr>,
) -> Result<Option<User>> {
    let now = Utc::now();
    let window_start = now - chrono::Duration::minutes(LOGIN_WINDOW_MINUTES);
    let accounts = store.accounts();
    let address_key = format!("email:{}", email.trim().to_lowercase());
    let client_key = client.map(client_key);
    let mut counted = vec![];
    let mut refused = false;
    for (key, limit) in std::iter::once((&address_key, MAX_LOGIN_FAILURES))
        .chain(client_key.iter().map(|k| (k, MAX_CLIENT_FAILURES)))
    {
        let failures = accounts.count_login_attempt(key, now, window_start).await?;
        counted.push(key);
        refused |= failures > limit;
    }
    if refused {
        // Old counters go now and then; a refused burst is a good moment.
        accounts.purge_login_attempts(window_start).await?;
        return Err(UseCaseError::TooManyAttempts);
    }
    let checked = check_password(store, checks, email, password_input).await;
    match &checked {
        Ok(Some(_)) => {
            accounts.uncount_login_attempt(&address_key, true).await?;
            // Counters of windows long over go now and then.
            accounts.purge_login_attempts(window_start).await?;
            if let Some(key) = &client_key {
                accounts.uncount_login_attempt(key, false).await?;
            }
        }
        // Not checked (busy): the attempt does not count.
        Err(_) => {
            for key in counted {
                accounts.uncount_login_attempt(key, false).await?;
            }
        }
        Ok(None) => {}
    }
    checked
}

/// Counts a failed second step (a wrong code) against the address, like a
/// wrong password.
pub async fn count_failure(store: &Store, email: &str) -> Result<()> {
    let now = Utc::now();
    store
        .accounts()
        .count_login_attempt(
            &format!("email:{}", email.trim().to_lowercase()),
            now,
            now - chrono::Duration::minutes(LOGIN_WINDOW_MINUTES),
        )
        .await?;
    Ok(())
}

/// The key an address counts under: an IPv6 client by its /64 (one
/// connection usually has a whole /64 to pick addresses from).
fn client_key(ip: IpAddr) -> String {
    match ip {
        IpAddr::V6(v6) if v6.to_ipv4_mapped().is_none() => {
            let s = v6.segments();
            format!("client:{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
        IpAddr::V6(v6) => format!("client:{}", v6.to_ipv4_mapped().map_or(ip, IpAddr::V4)),
        IpAddr::V4(_) => format!("client:{ip}"),
    }
}

async fn check_password(
    store: &Store,
    checks: &PasswordChecks,
    email: &str,
    password_input: &str,
) -> Result<Option<User>> {
    let pw = password_input.to_owned();
    let found = match Email::parse(email) {
        Ok(email) => store.accounts().credentials(&email).await?,
        Err(_) => None,
    };
    let busy = |_| UseCaseError::Busy;
    let Some((user, hash)) = found else {
        // The same work as a real check: timing does not tell whether the
        // address has an account.
        checks
            .run(move || password::verify_dummy(&pw))
            .await
            .map_err(busy)?;
        return Ok(None);
    };
    let ok = checks
        .run(move || password::verify(&pw, &hash))
        .await
        .map_err(busy)?;
    Ok(ok.then_some(user))
}
