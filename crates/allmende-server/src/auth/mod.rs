//! Who is making a request: passwords, browser sessions, API tokens, and the
//! CSRF check that every form post passes.

pub mod csrf;
pub mod password;
pub mod session;
pub mod token;

use sha2::{Digest, Sha256};

/// Session cookies and API tokens are stored as SHA-256 digests: they are
/// long random values, so a fast hash suffices, and a database leak does not
/// leak usable credentials.
pub fn digest(secret: &str) -> String {
    let hash = Sha256::digest(secret.as_bytes());
    hash.iter().map(|b| format!("{b:02x}")).collect()
}

/// A random URL-safe secret of `bytes` bytes of entropy.
pub fn random_secret(bytes: usize) -> String {
    use base64::Engine;
    use rand::RngCore;
    let mut buf = vec![0u8; bytes];
    rand::rngs::OsRng.fill_bytes(&mut buf);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(buf)
}

/// Compares secrets in time independent of where they differ.
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
