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

/// Spends the same time as a real check, so a login for an unknown e-mail
/// cannot be told apart from a wrong password by timing.
pub fn verify_dummy(password: &str) {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let h = DUMMY.get_or_init(|| hash("dummy-password-for-timing").expect("hashing works"));
    let _ = verify(password, h);
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
}
