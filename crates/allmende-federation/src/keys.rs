//! RSA keys of this node's actors, and signature checks against remote
//! actors' keys. aws-lc-rs signs in constant time (with blinding), unlike
//! the `rsa` crate (RUSTSEC-2023-0071), and is several times faster.

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rsa::{KeyPair, KeySize};
use aws_lc_rs::signature::{self, KeyPair as _, UnparsedPublicKey};
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;

use allmende_store::StoredKey;

use crate::error::FederationError;

/// A private key of one of this node's actors.
pub struct SigningKey {
    pair: KeyPair,
    public_key_pem: String,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey").finish_non_exhaustive()
    }
}

impl SigningKey {
    /// A new RSA-2048 key: the size every fediverse server accepts.
    pub fn generate() -> Result<Self, FederationError> {
        let pair = KeyPair::generate(KeySize::Rsa2048)
            .map_err(|_| FederationError::Key("RSA key generation failed".into()))?;
        Self::from_pair(pair)
    }

    pub fn from_stored(stored: &StoredKey) -> Result<Self, FederationError> {
        let pair = KeyPair::from_pkcs8(&stored.private_key_der)
            .map_err(|e| FederationError::Key(format!("stored key unreadable: {e}")))?;
        Self::from_pair(pair)
    }

    fn from_pair(pair: KeyPair) -> Result<Self, FederationError> {
        let spki = pair
            .public_key()
            .as_der()
            .map_err(|_| FederationError::Key("public key encoding failed".into()))?;
        let public_key_pem = pem::encode(&pem::Pem::new("PUBLIC KEY", spki.as_ref().to_vec()));
        Ok(Self {
            pair,
            public_key_pem,
        })
    }

    pub fn to_stored(&self) -> Result<StoredKey, FederationError> {
        let der = self
            .pair
            .as_der()
            .map_err(|_| FederationError::Key("private key encoding failed".into()))?;
        Ok(StoredKey {
            private_key_der: der.as_ref().to_vec(),
            public_key_pem: self.public_key_pem.clone(),
        })
    }

    pub fn public_key_pem(&self) -> &str {
        &self.public_key_pem
    }

    /// RSASSA-PKCS1-v1_5 with SHA-256 over `message`, base64-encoded: what
    /// draft-cavage `rsa-sha256` (and `hs2019` with an RSA key) means.
    pub fn sign(&self, message: &[u8]) -> Result<String, FederationError> {
        let mut signature = vec![0; self.pair.public_modulus_len()];
        self.pair
            .sign(
                &signature::RSA_PKCS1_SHA256,
                &aws_lc_rs::rand::SystemRandom::new(),
                message,
                &mut signature,
            )
            .map_err(|_| FederationError::Key("signing failed".into()))?;
        Ok(BASE64.encode(signature))
    }
}

/// Whether `signature_b64` is a valid RSA PKCS#1 v1.5 SHA-256 signature of
/// `message` under the PEM public key (SubjectPublicKeyInfo or PKCS#1).
pub fn verify(public_key_pem: &str, message: &[u8], signature_b64: &str) -> bool {
    let Ok(key) = pem::parse(public_key_pem.trim()) else {
        return false;
    };
    let Ok(signature) = BASE64.decode(signature_b64.trim()) else {
        return false;
    };
    UnparsedPublicKey::new(&signature::RSA_PKCS1_2048_8192_SHA256, key.contents())
        .verify(message, &signature)
        .is_ok()
}

/// The signing keys of this node's actors (its organizations and the
/// instance actor), loaded from the store on first use — or made, for an
/// actor that has none yet — and kept in memory.
pub(crate) struct KeyRing {
    cache: std::sync::Mutex<std::collections::HashMap<String, std::sync::Arc<SigningKey>>>,
    /// One task loads (or makes) a key at a time; the others then find it
    /// cached, instead of all asking the database and generating keys.
    loading: tokio::sync::Mutex<()>,
}

impl KeyRing {
    pub(crate) fn new() -> Self {
        Self {
            cache: std::sync::Mutex::new(std::collections::HashMap::new()),
            loading: tokio::sync::Mutex::new(()),
        }
    }

    /// The key of `owner` (an organization id, or `instance`).
    pub(crate) async fn get(
        &self,
        store: &allmende_store::Store,
        owner: &str,
    ) -> Result<std::sync::Arc<SigningKey>, FederationError> {
        if let Some(key) = self.cached(owner) {
            return Ok(key);
        }
        let _loading = self.loading.lock().await;
        if let Some(key) = self.cached(owner) {
            return Ok(key);
        }
        let stored = match store.keys().get(owner).await? {
            Some(stored) => stored,
            None => {
                let fresh = SigningKey::generate()?.to_stored()?;
                store
                    .keys()
                    .insert_if_missing(owner, &fresh, chrono::Utc::now())
                    .await?
            }
        };
        let key = std::sync::Arc::new(SigningKey::from_stored(&stored)?);
        self.cache
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(owner.to_owned(), key.clone());
        Ok(key)
    }

    fn cached(&self, owner: &str) -> Option<std::sync::Arc<SigningKey>> {
        self.cache
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(owner)
            .cloned()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn signature_round_trip_and_tamper() {
        let key = SigningKey::generate().unwrap();
        let sig = key.sign(b"hello").unwrap();
        assert!(verify(key.public_key_pem(), b"hello", &sig));
        assert!(!verify(key.public_key_pem(), b"hellO", &sig));
        let other = SigningKey::generate().unwrap();
        assert!(!verify(other.public_key_pem(), b"hello", &sig));
        assert!(!verify("not a key", b"hello", &sig));
    }

    #[test]
    fn stored_key_loads_back() {
        let key = SigningKey::generate().unwrap();
        let again = SigningKey::from_stored(&key.to_stored().unwrap()).unwrap();
        assert_eq!(again.public_key_pem(), key.public_key_pem());
        assert!(key
            .public_key_pem()
            .starts_with("-----BEGIN PUBLIC KEY-----"));
        let sig = again.sign(b"x").unwrap();
        assert!(verify(key.public_key_pem(), b"x", &sig));
    }
}
