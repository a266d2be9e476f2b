//! The optional second factor: time-based one-time codes (TOTP, RFC 6238:
//! HMAC-SHA1, six digits, 30-second steps, one step of clock skew either
//! way), as every authenticator app makes them. The code arithmetic is
//! `totp-rs`'s; a code is accepted once (the store keeps the last step
//! used).

use totp_rs::{Builder, Secret, Totp};

/// A new random secret (160 bits, as RFC 4226 recommends), base32.
pub fn new_secret() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 20];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    Secret::from(bytes.to_vec()).to_base32()
}

fn totp(secret_base32: &str, account: &str, issuer: &str) -> Option<Totp> {
    let secret = Secret::try_from_base32(secret_base32).ok()?;
    // The otpauth label is `issuer:account`: neither may contain a colon
    // (a node's host may name a port).
    Builder::new()
        .with_secret(secret)
        .with_account_name(account.replace(':', " "))
        .with_issuer(Some(issuer.replace(':', " ")))
        .build()
        .ok()
}

/// The `otpauth://` address an authenticator app takes (typed in or from
/// a QR code made of it).
pub fn setup_url(secret_base32: &str, account: &str, issuer: &str) -> Option<String> {
    totp(secret_base32, account, issuer)?.to_url().ok()
}

/// The time step of the code, if `code` is right now (or one step off).
pub fn check(secret_base32: &str, code: &str) -> Option<i64> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if code.len() != 6 || !code.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?
        .as_secs();
    let step = totp(secret_base32, "x", "x")?.check(&code, now)?;
    i64::try_from(step).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_of_now_pass_and_others_do_not() {
        let secret = new_secret();
        let t = totp(&secret, "a@b.example", "node").unwrap();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let code = t.generate(now).to_string();
        assert!(check(&secret, &code).is_some());
        assert!(check(&secret, &format!("{} {}", &code[..3], &code[3..])).is_some());
        let old = t.generate(now - 3600).to_string();
        assert!(old == code || check(&secret, &old).is_none());
        for bad in ["", "12345", "1234567", "abcdef"] {
            assert!(check(&secret, bad).is_none(), "{bad}");
        }
        assert!(setup_url(&secret, "a@b.example", "node")
            .unwrap()
            .starts_with("otpauth://totp/"));
        assert!(setup_url(&secret, "a@b.example", "localhost:8080").is_some());
    }
}
