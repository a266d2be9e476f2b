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
        // LF line endings, as every other implementation writes them (the
        // crate's default is CRLF, which some consumers keep verbatim).
        let public_key_pem = pem::encode_config(
            &pem::Pem::new("PUBLIC KEY", spki.as_ref().to_vec()),
            pem::EncodeConfig::new().set_line_ending(pem::LineEnding::LF),
        );
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
    /// RSA PKCS#1 v1.5 SHA-256 signature, base64 (draft-cavage).
    pub fn sign(&self, message: &[u8]) -> Result<String, FederationError> {
        Ok(BASE64.encode(self.sign_bytes(message)?))
    }

    /// RSA PKCS#1 v1.5 SHA-256 signature, raw (RFC 9421).
    pub fn sign_bytes(&self, message: &[u8]) -> Result<Vec<u8>, FederationError> {
        let mut signature = vec![0; self.pair.public_modulus_len()];
        self.pair
            .sign(
                &signature::RSA_PKCS1_SHA256,
                &aws_lc_rs::rand::SystemRandom::new(),
                message,
                &mut signature,
            )
            .map_err(|_| FederationError::Key("signing failed".into()))?;
        Ok(signature)
    }
}

/// The signing keys of this node's actors (its organizations and the
/// instance actor), loaded from the store on first use — or made, for an
/// actor that has none yet — and kept in memory.
pub(crate) struct KeyRing {
    cache: std::sync::Mutex<std::collections::HashMap<String, std::sync::Arc<SigningKey>>>,
    ed25519: std::sync::Mutex<std::collections::HashMap<String, std::sync::Arc<Ed25519Key>>>,
    /// One task loads (or makes) a key at a time; the others then find it
    /// cached, instead of all asking the database and generating keys.
    loading: tokio::sync::Mutex<()>,
}

impl KeyRing {
    pub(crate) fn new() -> Self {
        Self {
            cache: std::sync::Mutex::new(std::collections::HashMap::new()),
            ed25519: std::sync::Mutex::new(std::collections::HashMap::new()),
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
        let sig = key.sign_bytes(b"hello").unwrap();
        assert!(verify_rsa_bytes(key.public_key_pem(), b"hello", &sig));
        assert!(!verify_rsa_bytes(key.public_key_pem(), b"hellO", &sig));
        let other = SigningKey::generate().unwrap();
        assert!(!verify_rsa_bytes(other.public_key_pem(), b"hello", &sig));
        assert!(!verify_rsa_bytes("not a key", b"hello", &sig));
        assert_eq!(
            BASE64.decode(key.sign(b"hello").unwrap()).unwrap().len(),
            256
        );
    }

    /// Issue 11, finding 6: the PEM had CRLF line endings.
    #[test]
    fn public_key_pem_has_unix_line_endings() {
        let key = SigningKey::generate().unwrap();
        let pem = key.public_key_pem();
        assert!(!pem.contains('\r'), "{pem:?}");
        assert!(pem.ends_with("-----END PUBLIC KEY-----\n"), "{pem:?}");
        assert!(pem.lines().count() > 3);
    }

    #[test]
    fn stored_key_loads_back() {
        let key = SigningKey::generate().unwrap();
        let again = SigningKey::from_stored(&key.to_stored().unwrap()).unwrap();
        assert_eq!(again.public_key_pem(), key.public_key_pem());
        assert!(key
            .public_key_pem()
            .starts_with("-----BEGIN PUBLIC KEY-----"));
        let sig = again.sign_bytes(b"x").unwrap();
        assert!(verify_rsa_bytes(key.public_key_pem(), b"x", &sig));
    }
}

/// An Ed25519 key of a local actor, published as a Multikey (FEP-521a)
/// and used for RFC 9421 message signatures. Kept next to the RSA key,
/// which draft-cavage signatures (and most of the fediverse) need.
pub struct Ed25519Key {
    pair: aws_lc_rs::signature::Ed25519KeyPair,
    pkcs8: Vec<u8>,
}

impl std::fmt::Debug for Ed25519Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ed25519Key").finish_non_exhaustive()
    }
}

/// The multicodec prefix of an Ed25519 public key (0xed, varint-encoded).
const ED25519_MULTICODEC: [u8; 2] = [0xed, 0x01];

impl Ed25519Key {
    pub fn generate() -> Result<Self, FederationError> {
        let pkcs8 = aws_lc_rs::signature::Ed25519KeyPair::generate_pkcs8(
            &aws_lc_rs::rand::SystemRandom::new(),
        )
        .map_err(|_| FederationError::Key("Ed25519 key generation failed".into()))?;
        Self::from_pkcs8(pkcs8.as_ref())
    }

    fn from_pkcs8(pkcs8: &[u8]) -> Result<Self, FederationError> {
        let pair = aws_lc_rs::signature::Ed25519KeyPair::from_pkcs8(pkcs8)
            .map_err(|e| FederationError::Key(format!("stored Ed25519 key unreadable: {e}")))?;
        Ok(Self {
            pair,
            pkcs8: pkcs8.to_vec(),
        })
    }

    pub fn from_stored(stored: &StoredKey) -> Result<Self, FederationError> {
        Self::from_pkcs8(&stored.private_key_der)
    }

    /// Stored like an RSA key; the public half as its Multikey string.
    pub fn to_stored(&self) -> StoredKey {
        StoredKey {
            private_key_der: self.pkcs8.clone(),
            public_key_pem: self.public_key_multibase(),
        }
    }

    /// `z` + base58btc(0xed01 + the 32-byte public key), as FEP-521a
    /// publishes it in `publicKeyMultibase`.
    pub fn public_key_multibase(&self) -> String {
        let mut bytes = ED25519_MULTICODEC.to_vec();
        bytes.extend_from_slice(self.pair.public_key().as_ref());
        format!("z{}", bs58::encode(bytes).into_string())
    }

    pub fn sign(&self, message: &[u8]) -> Vec<u8> {
        self.pair.sign(message).as_ref().to_vec()
    }
}

/// The raw Ed25519 public key in a `publicKeyMultibase` value.
pub fn ed25519_from_multibase(multibase: &str) -> Option<[u8; 32]> {
    let encoded = multibase.strip_prefix('z')?;
    let bytes = bs58::decode(encoded).into_vec().ok()?;
    let key = bytes.strip_prefix(&ED25519_MULTICODEC)?;
    key.try_into().ok()
}

/// Checks an Ed25519 signature.
pub fn verify_ed25519(public_key: &[u8; 32], message: &[u8], signature: &[u8]) -> bool {
    UnparsedPublicKey::new(&signature::ED25519, public_key)
        .verify(message, signature)
        .is_ok()
}

/// Whether `signature` is a valid RSA PKCS#1 v1.5 SHA-256 signature of
/// `message` under the PEM public key (SubjectPublicKeyInfo or PKCS#1).
pub fn verify_rsa_bytes(public_key_pem: &str, message: &[u8], signature: &[u8]) -> bool {
    let Ok(key) = pem::parse(public_key_pem.trim()) else {
        return false;
    };
    UnparsedPublicKey::new(&signature::RSA_PKCS1_2048_8192_SHA256, key.contents())
        .verify(message, signature)
        .is_ok()
}

impl KeyRing {
    /// The Ed25519 key of `owner`, made on first use.
    pub(crate) async fn get_ed25519(
        &self,
        store: &allmende_store::Store,
        owner: &str,
    ) -> Result<std::sync::Arc<Ed25519Key>, FederationError> {
        let stored_as = format!("{owner}:ed25519");
        if let Some(key) = self.ed25519_cached(&stored_as) {
            return Ok(key);
        }
        let _loading = self.loading.lock().await;
        if let Some(key) = self.ed25519_cached(&stored_as) {
            return Ok(key);
        }
        let stored = match store.keys().get(&stored_as).await? {
            Some(stored) => stored,
            None => {
                store
                    .keys()
                    .insert_if_missing(
                        &stored_as,
                        &Ed25519Key::generate()?.to_stored(),
                        chrono::Utc::now(),
                    )
                    .await?
            }
        };
        let key = std::sync::Arc::new(Ed25519Key::from_stored(&stored)?);
        self.ed25519
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(stored_as, key.clone());
        Ok(key)
    }

    fn ed25519_cached(&self, owner: &str) -> Option<std::sync::Arc<Ed25519Key>> {
        self.ed25519
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(owner)
            .cloned()
    }
}

#[cfg(test)]
mod ed25519_tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn multikey_round_trip_and_signatures() {
        let key = Ed25519Key::generate().unwrap();
        let multibase = key.public_key_multibase();
        assert!(multibase.starts_with("z6Mk"), "{multibase}");
        let public = ed25519_from_multibase(&multibase).unwrap();
        let signature = key.sign(b"hello");
        assert!(verify_ed25519(&public, b"hello", &signature));
        assert!(!verify_ed25519(&public, b"hellO", &signature));
        let again = Ed25519Key::from_stored(&key.to_stored()).unwrap();
        assert_eq!(again.public_key_multibase(), multibase);
        assert!(ed25519_from_multibase("zBogus").is_none());
        assert!(ed25519_from_multibase("").is_none());
    }

    /// RFC 8032 test 1: the key and signature of the empty message.
    #[test]
    fn rfc8032_test_vector_verifies() {
        let hex = |s: &str| {
            (0..s.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
                .collect::<Vec<u8>>()
        };
        let public: [u8; 32] =
            hex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
                .try_into()
                .unwrap();
        let signature = hex("e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b");
        assert!(verify_ed25519(&public, b"", &signature));
    }
}
