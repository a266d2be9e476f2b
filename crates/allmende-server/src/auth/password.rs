//! Password hashing with Argon2id (the crate's defaults follow the OWASP
//! recommendation: 19 MiB, two passes).

use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::Argon2;

pub const MIN_LENGTH: usize = 10;

#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    #[error("password must be at least {MIN_LENGTH} characters long")]
    TooShort,
    #[error("password hashing failed: {0}")]
    Hash(argon2::password_hash::Error),
}

pub fn hash(password: &str) -> Result<String, PasswordError> {
    if password.chars().count() < MIN_LENGTH {
        return Err(PasswordError::TooShort);
    }
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(PasswordError::Hash)
}

pub fn verify(password: &str, stored_hash: &str) -> bool {
    PasswordHash::new(stored_hash)
        .map(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

/// Whether a hash made elsewhere (an imported organization's people) is
/// one this node can check at its usual cost: Argon2id with parameters no
/// larger than the node's own. A hash with huge memory or time settings
/// would make every sign-in attempt for its address expensive.
pub fn is_acceptable_hash(stored_hash: &str) -> bool {
    let Ok(hash) = PasswordHash::new(stored_hash) else {
        return false;
    };
    let ours = argon2::Params::default();
    hash.algorithm == argon2::Algorithm::Argon2id.ident()
        && argon2::Params::try_from(&hash).is_ok_and(|p| {
            p.m_cost() <= ours.m_cost()
                && p.t_cost() <= ours.t_cost()
                && p.p_cost() <= ours.p_cost()
        })
}

/// Spends the same time as a real check, so a login for an unknown e-mail
/// cannot be told apart from a wrong password by timing.
pub fn verify_dummy(password: &str) {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let h = DUMMY.get_or_init(|| hash("dummy-password-for-timing").expect("hashing works"));
    let _ = verify(password, h);
}

/// Bounds the password checks running at once. Each Argon2id check holds
/// 19 MiB for a fraction of a second; without a bound, a burst of logins
/// (also for unknown addresses) makes the node hold 19 MiB per request. A
/// check waits up to `wait` for its turn, then the caller answers 503.
pub struct PasswordChecks {
    permits: std::sync::Arc<tokio::sync::Semaphore>,
    wait: std::time::Duration,
}

/// No turn came within the wait: the node is busy checking passwords.
#[derive(Debug)]
pub struct Busy;

impl PasswordChecks {
    pub fn new(at_once: usize, wait: std::time::Duration) -> Self {
        Self {
            permits: std::sync::Arc::new(tokio::sync::Semaphore::new(at_once.max(1))),
            wait,
        }
    }

    /// Runs `check` on a blocking thread once a turn is free (Argon2 is
    /// deliberately slow: it must not hold up the async workers).
    pub async fn run<T: Send + 'static>(
        &self,
        check: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, Busy> {
        let turn = tokio::time::timeout(self.wait, self.permits.clone().acquire_owned())
            .await
            .map_err(|_| Busy)?
            .map_err(|_| Busy)?;
        // The turn goes with the check: a client that hangs up does not
        // free it while the hash still runs.
        tokio::task::spawn_blocking(move || {
            let outcome = check();
            drop(turn);
            outcome
        })
        .await
        .map_err(|_| Busy)
    }
}

/// A random password for `allmende user create` without stdin input.
pub fn generate() -> String {
    super::random_secret(15)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_and_verify() {
        let h = hash("korrekt-pferd-batterie").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify("korrekt-pferd-batterie", &h));
        assert!(!verify("falsch-pferd-batterie", &h));
        assert!(!verify("x", "not a hash"));
        assert!(matches!(hash("short"), Err(PasswordError::TooShort)));
        assert!(generate().len() >= MIN_LENGTH);
    }

    #[test]
    fn only_hashes_at_the_nodes_own_cost_are_acceptable() {
        let own = hash("korrekt-pferd-batterie").unwrap();
        assert!(is_acceptable_hash(&own));
        let with_params = |algorithm: &str, params: &str| {
            own.replacen("$argon2id$", &format!("${algorithm}$"), 1)
                .replacen("m=19456,t=2,p=1", params, 1)
        };
        assert!(own.contains("m=19456,t=2,p=1"), "{own}");
        assert!(is_acceptable_hash(&with_params(
            "argon2id",
            "m=8192,t=1,p=1"
        )));
        assert!(!is_acceptable_hash(&with_params(
            "argon2id",
            "m=4000000,t=2,p=1"
        )));
        assert!(!is_acceptable_hash(&with_params(
            "argon2id",
            "m=19456,t=90,p=1"
        )));
        assert!(!is_acceptable_hash(&with_params(
            "argon2i",
            "m=19456,t=2,p=1"
        )));
        assert!(!is_acceptable_hash("$2b$12$abcdefghijklmnopqrstuv"));
        assert!(!is_acceptable_hash(""));
    }
}
