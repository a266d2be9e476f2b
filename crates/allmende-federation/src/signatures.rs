//! HTTP signatures (draft-cavage-http-signatures-12 as the fediverse uses
//! it) and the `Digest` header: signing our requests and checking incoming
//! ones. Building and parsing the signing string is left to
//! `http-signature-normalization`; the RSA work is done by [`crate::keys`].

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use axum::http::{HeaderMap, HeaderName, HeaderValue};
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use http_signature_normalization::Config;
use sha2::{Digest, Sha256};
use url::Url;

use crate::error::FederationError;
use crate::keys::{self, SigningKey};

/// How old a request's `Date` may be. Generous, because deliveries wait in
/// queues; replays inside the window are caught by activity-id dedup.
pub const MAX_AGE: Duration = Duration::from_secs(12 * 60 * 60);
/// How far in the future a `Date` may be (clock skew).
pub const MAX_SKEW: Duration = Duration::from_secs(60 * 60);

/// `SHA-256=<base64>` of a body.
pub fn digest_header(body: &[u8]) -> String {
    format!("SHA-256={}", BASE64.encode(Sha256::digest(body)))
}

/// Headers for a signed POST of `body` to `url`.
pub fn sign_post(
    key: &SigningKey,
    key_id: &str,
    url: &Url,
    body: &[u8],
) -> Result<HeaderMap, FederationError> {
    sign_post_at(key, key_id, url, body, SystemTime::now())
}

/// [`sign_post`] with a given `Date` (tests of the date window use it).
pub fn sign_post_at(
    key: &SigningKey,
    key_id: &str,
    url: &Url,
    body: &[u8],
    date: SystemTime,
) -> Result<HeaderMap, FederationError> {
    let mut headers = BTreeMap::new();
    headers.insert("host".to_owned(), host_header(url));
    headers.insert("date".to_owned(), httpdate::fmt_http_date(date));
    headers.insert("digest".to_owned(), digest_header(body));
    headers.insert(
        "content-type".to_owned(),
        crate::vocabulary::ACTIVITY_JSON.to_owned(),
    );
    sign("POST", url, headers, key, key_id)
}

/// Headers for a signed GET of `url` (authorized fetch).
pub fn sign_get(key: &SigningKey, key_id: &str, url: &Url) -> Result<HeaderMap, FederationError> {
    let mut headers = BTreeMap::new();
    headers.insert("host".to_owned(), host_header(url));
    headers.insert(
        "date".to_owned(),
        httpdate::fmt_http_date(SystemTime::now()),
    );
    sign("GET", url, headers, key, key_id)
}

fn host_header(url: &Url) -> String {
    match (url.host_str(), url.port()) {
        (Some(host), Some(port)) => format!("{host}:{port}"),
        (Some(host), None) => host.to_owned(),
        _ => String::new(),
    }
}

fn path_and_query(url: &Url) -> String {
    match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_owned(),
    }
}

fn sign(
    method: &str,
    url: &Url,
    headers: BTreeMap<String, String>,
    key: &SigningKey,
    key_id: &str,
) -> Result<HeaderMap, FederationError> {
    // The signing string lists `(request-target)` and then the headers in
    // the map's (sorted) order; the `headers` parameter must say the same.
    let names: Vec<&str> = std::iter::once("(request-target)")
        .chain(headers.keys().map(String::as_str))
        .collect();
    let header_list = names.join(" ");
    let unsigned = Config::new()
        .dont_use_created_field()
        .begin_sign(method, &path_and_query(url), headers.clone())
        .map_err(|e| FederationError::Key(e.to_string()))?;
    // The library would label the header `hs2019`; `rsa-sha256` is the
    // label every implementation accepts, so the header is written here.
    let mut signature = String::new();
    unsigned.sign(
        key_id.to_owned(),
        |signing_string| -> Result<String, FederationError> {
            signature = key.sign(signing_string.as_bytes())?;
            Ok(String::new())
        },
    )?;
    let value = format!(
        "keyId=\"{key_id}\",algorithm=\"rsa-sha256\",headers=\"{header_list}\",signature=\"{signature}\""
    );
    let mut map = HeaderMap::new();
    for (name, v) in headers {
        if name == "host" {
            continue; // reqwest sets Host from the URL
        }
        insert(&mut map, &name, &v)?;
    }
    insert(&mut map, "signature", &value)?;
    Ok(map)
}

fn insert(map: &mut HeaderMap, name: &str, value: &str) -> Result<(), FederationError> {
    let name = HeaderName::try_from(name).map_err(|e| FederationError::Key(e.to_string()))?;
    let value = HeaderValue::try_from(value).map_err(|e| FederationError::Key(e.to_string()))?;
    map.insert(name, value);
    Ok(())
}

/// Which specification a delivery is signed by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scheme {
    /// draft-cavage-http-signatures-12 (`Signature: keyId=…`).
    Cavage,
    /// RFC 9421 (`Signature-Input` and `Signature`).
    Rfc9421,
}

impl Scheme {
    /// The peer class in delivery metrics: the signature scheme a peer
    /// accepts, which splits current software (RFC 9421) from software of
    /// the Mastodon era (draft-cavage) without a label per peer.
    pub fn metric_label(self) -> &'static str {
        match self {
            Self::Cavage => "cavage",
            Self::Rfc9421 => "rfc9421",
        }
    }
}

/// A request whose signature parameters have been read and whose date and
/// digest have been checked; what remains is the check against the
/// signer's key, which the caller has to find by [`PendingSignature::key_id`].
#[derive(Debug)]
pub struct PendingSignature {
    key_id: String,
    /// The signing string (cavage) or signature base (RFC 9421).
    message: Vec<u8>,
    signature: Vec<u8>,
    /// RFC 9421's `alg`, when the signer named one.
    algorithm: Option<String>,
}

impl PendingSignature {
    pub(crate) fn new(
        key_id: String,
        message: Vec<u8>,
        signature: Vec<u8>,
        algorithm: Option<String>,
    ) -> Self {
        Self {
            key_id,
            message,
            signature,
            algorithm,
        }
    }

    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    /// Checks the signature against an RSA public key (PEM).
    pub fn verify(&self, public_key_pem: &str) -> Result<(), FederationError> {
        let rsa_allowed = self
            .algorithm
            .as_deref()
            .is_none_or(|a| a == "rsa-v1_5-sha256");
        if rsa_allowed && keys::verify_rsa_bytes(public_key_pem, &self.message, &self.signature) {
            Ok(())
        } else {
            Err(FederationError::Unauthorized(
                "signature does not verify".into(),
            ))
        }
    }

    /// Checks the signature against an Ed25519 public key.
    pub fn verify_ed25519(&self, public_key: &[u8; 32]) -> bool {
        self.algorithm.as_deref().is_none_or(|a| a == "ed25519")
            && keys::verify_ed25519(public_key, &self.message, &self.signature)
    }

    /// Checks the signature with the key of `actor` that the key id names:
    /// its Ed25519 Multikey, or its RSA key.
    pub fn verify_actor(&self, actor: &allmende_store::RemoteActor) -> Result<(), FederationError> {
        if actor.ed25519_key_id.as_deref() == Some(self.key_id.as_str()) {
            let verified = actor
                .ed25519_key
                .as_deref()
                .and_then(keys::ed25519_from_multibase)
                .is_some_and(|key| self.verify_ed25519(&key));
            return if verified {
                Ok(())
            } else {
                Err(FederationError::Unauthorized(
                    "signature does not verify".into(),
                ))
            };
        }
        self.verify(&actor.public_key_pem)
    }
}

/// Reads the signature of an incoming request, by whichever scheme it was
/// signed (RFC 9421 when `Signature-Input` is present, draft-cavage
/// otherwise), and checks everything that does not need the signer's key.
/// `own` is this node's public URL: the signature must cover this node's
/// authority and the path the request came to.
pub fn check_any(
    method: &str,
    path_and_query: &str,
    headers: &HeaderMap,
    body: Option<&[u8]>,
    own: &Url,
) -> Result<PendingSignature, FederationError> {
    if headers.contains_key("signature-input") {
        // This node's scheme and authority with the received path and
        // query (not `join`: a path `//x` would name another host).
        let mut target = own.clone();
        let (path, query) = match path_and_query.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (path_and_query, None),
        };
        target.set_path(path);
        target.set_query(query);
        return crate::message_signatures::check(&crate::message_signatures::Request {
            method,
            target: &target,
            headers,
            body,
        });
    }
    check_request(
        method,
        path_and_query,
        headers,
        body,
        &crate::urls::authority(own),
    )
}

/// Reads the `Signature` header of an incoming request and checks
/// everything that does not need the signer's key: the signature covers
/// `(request-target)`, `host`, `date` (and `digest` when there is a body),
/// the date is recent, the digest matches the body, the algorithm is RSA.
pub fn check_request(
    method: &str,
    path_and_query: &str,
    headers: &HeaderMap,
    body: Option<&[u8]>,
    own_host: &str,
) -> Result<PendingSignature, FederationError> {
    let unauthorized = |m: &str| FederationError::Unauthorized(m.to_owned());
    let mut map = BTreeMap::new();
    for (name, value) in headers {
        if let Ok(v) = value.to_str() {
            map.insert(name.as_str().to_owned(), v.to_owned());
        }
    }
    // The signature must cover this node's host, whatever Host header came
    // with the request (HTTP/2 has none, and a request signed for another
    // node must not verify here).
    map.insert("host".to_owned(), own_host.to_owned());
    if !map.contains_key("signature") {
        return Err(unauthorized("no Signature header"));
    }
    check_date(map.get("date").map(String::as_str))?;
    if let Some(body) = body {
        check_digest(map.get("digest").map(String::as_str), body)?;
    }
    let mut config = Config::new()
        .dont_use_created_field()
        .set_expiration(MAX_AGE)
        .require_header("(request-target)")
        .require_header("host");
    if body.is_some() {
        config = config.require_digest();
    }
    let unverified = config
        .begin_verify(method, path_and_query, map)
        .map_err(|e| FederationError::Unauthorized(format!("signature header: {e}")))?;
    if let Some(algorithm) = unverified.algorithm() {
        let name = format!("{algorithm}").to_ascii_lowercase();
        if name != "rsa-sha256" && name != "hs2019" {
            return Err(FederationError::Unauthorized(format!(
                "unsupported algorithm {name}"
            )));
        }
    }
    let signature = BASE64
        .decode(unverified.signature().trim())
        .map_err(|_| unauthorized("signature is not base64"))?;
    Ok(PendingSignature::new(
        unverified.key_id().to_owned(),
        unverified.signing_string().as_bytes().to_vec(),
        signature,
        None,
    ))
}

fn check_date(date: Option<&str>) -> Result<(), FederationError> {
    let date = date.ok_or_else(|| FederationError::Unauthorized("no Date header".into()))?;
    let sent = httpdate::parse_http_date(date)
        .map_err(|_| FederationError::Unauthorized("unreadable Date header".into()))?;
    let now = SystemTime::now();
    let too_old = now.duration_since(sent).is_ok_and(|age| age > MAX_AGE);
    let too_new = sent.duration_since(now).is_ok_and(|ahead| ahead > MAX_SKEW);
    if too_old || too_new {
        return Err(FederationError::Unauthorized(format!(
            "Date {date} outside the window"
        )));
    }
    Ok(())
}

fn check_digest(header: Option<&str>, body: &[u8]) -> Result<(), FederationError> {
    let header = header.ok_or_else(|| FederationError::Unauthorized("no Digest header".into()))?;
    let expected = BASE64.encode(Sha256::digest(body));
    // `Digest` may list several algorithms; SHA-256 must be among them and match.
    let sha256 = header.split(',').find_map(|part| {
        let (algorithm, value) = part.trim().split_once('=')?;
        algorithm.eq_ignore_ascii_case("sha-256").then_some(value)
    });
    match sha256 {
        Some(value) if value == expected => Ok(()),
        Some(_) => Err(FederationError::Unauthorized(
            "digest does not match the body".into(),
        )),
        None => Err(FederationError::Unauthorized("no SHA-256 digest".into())),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn signed_post(body: &[u8]) -> (SigningKey, HeaderMap) {
        let key = SigningKey::generate().unwrap();
        let url = Url::parse("http://localhost:4000/inbox").unwrap();
        let mut headers =
            sign_post(&key, "http://localhost:5000/orgs/ulm#main-key", &url, body).unwrap();
        headers.insert("host", HeaderValue::from_static("localhost:4000"));
        (key, headers)
    }

    #[test]
    fn signed_post_verifies() {
        let (key, headers) = signed_post(b"{}");
        let pending =
            check_request("POST", "/inbox", &headers, Some(b"{}"), "localhost:4000").unwrap();
        assert_eq!(pending.key_id(), "http://localhost:5000/orgs/ulm#main-key");
        pending.verify(key.public_key_pem()).unwrap();
        let other = SigningKey::generate().unwrap();
        assert!(pending.verify(other.public_key_pem()).is_err());
        // Signed for localhost:4000, received by another node: the Host
        // header it carries does not matter, the receiver's own host does.
        let replayed =
            check_request("POST", "/inbox", &headers, Some(b"{}"), "localhost:4001").unwrap();
        assert!(replayed.verify(key.public_key_pem()).is_err());
    }

    #[test]
    fn hs2019_is_accepted_and_other_algorithms_are_not() {
        let (key, headers) = signed_post(b"{}");
        let relabel = |algorithm: &str| {
            let mut h = headers.clone();
            let value = h["signature"]
                .to_str()
                .unwrap()
                .replace("rsa-sha256", algorithm);
            h.insert("signature", HeaderValue::from_str(&value).unwrap());
            h
        };
        let pending = check_request(
            "POST",
            "/inbox",
            &relabel("hs2019"),
            Some(b"{}"),
            "localhost:4000",
        )
        .unwrap();
        pending.verify(key.public_key_pem()).unwrap();
        assert!(
            check_request("POST", "/inbox", &relabel("hmac-sha256"), Some(b"{}"), "x").is_err()
        );
    }

    #[test]
    fn a_signature_must_cover_the_digest() {
        let key = SigningKey::generate().unwrap();
        let url = Url::parse("http://localhost:4000/inbox").unwrap();
        // A GET-style signature (no digest) on a POST with a body.
        let mut headers = sign_get(&key, "http://localhost:5000/orgs/ulm#main-key", &url).unwrap();
        headers.insert("host", HeaderValue::from_static("localhost:4000"));
        headers.insert(
            "digest",
            HeaderValue::from_str(&digest_header(b"{}")).unwrap(),
        );
        assert!(check_request("POST", "/inbox", &headers, Some(b"{}"), "x").is_err());
    }

    #[test]
    fn tampered_body_wrong_path_and_stale_date_fail() {
        let (key, headers) = signed_post(b"{}");
        assert!(check_request("POST", "/inbox", &headers, Some(b"{ }"), "x").is_err());
        let pending = check_request("POST", "/orgs/a/inbox", &headers, Some(b"{}"), "x").unwrap();
        assert!(pending.verify(key.public_key_pem()).is_err());
        let mut stale = headers.clone();
        let old = SystemTime::now() - Duration::from_secs(13 * 3600);
        stale.insert(
            "date",
            HeaderValue::from_str(&httpdate::fmt_http_date(old)).unwrap(),
        );
        assert!(check_request("POST", "/inbox", &stale, Some(b"{}"), "x").is_err());
        let mut unsigned = headers;
        unsigned.remove("signature");
        assert!(check_request("POST", "/inbox", &unsigned, Some(b"{}"), "x").is_err());
    }
}
