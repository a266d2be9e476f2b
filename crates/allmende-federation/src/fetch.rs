//! Fetching remote documents: signed by the instance actor (servers with
//! "authorized fetch" demand it), size-limited, without redirects, and only
//! from public addresses unless the node runs in development mode.

use std::net::IpAddr;

use axum::http::StatusCode;
use serde_json::Value;
use url::Url;

use crate::error::FederationError;
use crate::objects::id_of;
use crate::signatures;
use crate::urls::same_origin;
use crate::vocabulary::{ACTIVITY_JSON, LD_JSON_PROFILE};
use crate::Federation;

/// The largest remote document read.
pub const MAX_DOCUMENT_BYTES: usize = 1024 * 1024;

/// How many documents one incoming activity may make this node fetch: an
/// activity cannot send it chasing a chain of links.
pub const FETCHES_PER_ACTIVITY: u8 = 5;

#[derive(Debug)]
pub struct FetchBudget(u8);

impl FetchBudget {
    pub fn new() -> Self {
        Self(FETCHES_PER_ACTIVITY)
    }
    fn spend(&mut self, url: &Url) -> Result<(), FederationError> {
        if self.0 == 0 {
            return Err(FederationError::fetch(url, "fetch limit reached"));
        }
        self.0 -= 1;
        Ok(())
    }
}

impl Default for FetchBudget {
    fn default() -> Self {
        Self::new()
    }
}

/// Whether an address is on the public internet.
fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            !(v4.is_private()
                || v4.is_loopback()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || (o[0] == 100 && (64..128).contains(&o[1])) // shared address space
                || o[0] == 0)
        }
        IpAddr::V6(v6) => {
            let first = v6.segments()[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00 // unique local
                || (first & 0xffc0) == 0xfe80) // link local
                && v6.to_ipv4_mapped().is_none_or(|v4| is_public(IpAddr::V4(v4)))
        }
    }
}

/// Reads a JSON response body of at most [`MAX_DOCUMENT_BYTES`], chunk by
/// chunk, so a hostile server cannot make this node buffer more.
pub(crate) async fn read_json(
    response: &mut reqwest::Response,
    url: &Url,
) -> Result<Value, FederationError> {
    let too_large = || FederationError::fetch(url, "document too large");
    if response
        .content_length()
        .is_some_and(|l| l > MAX_DOCUMENT_BYTES as u64)
    {
        return Err(too_large());
    }
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| FederationError::fetch(url, e))?
    {
        if body.len() + chunk.len() > MAX_DOCUMENT_BYTES {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    serde_json::from_slice(&body).map_err(|e| FederationError::fetch(url, e))
}

impl Federation {
    /// Refuses URLs this node must not contact (`Forbidden`): other schemes
    /// than https (http too in development mode) and, outside development
    /// mode, hosts that resolve to private or loopback addresses. A name
    /// that does not resolve is a `Fetch` error (it may resolve later).
    pub(crate) async fn check_peer_url(&self, url: &Url) -> Result<(), FederationError> {
        let dev = self.settings().allow_private_peers;
        match url.scheme() {
            "https" => {}
            "http" if dev => {}
            _ => {
                return Err(FederationError::Forbidden(format!(
                    "{url}: scheme not allowed"
                )))
            }
        }
        if dev {
            return Ok(());
        }
        let host = url
            .host_str()
            .ok_or_else(|| FederationError::fetch(url, "no host"))?;
        let port = url.port_or_known_default().unwrap_or(443);
        let addresses = tokio::net::lookup_host((host, port))
            .await
            .map_err(|e| FederationError::fetch(url, e))?;
        for address in addresses {
            if !is_public(address.ip()) {
                return Err(FederationError::Forbidden(format!(
                    "{url}: host is not on a public address"
                )));
            }
        }
        Ok(())
    }

    /// Fetches an ActivityPub document. Its `id` must be on the same domain
    /// as `url`; 410 Gone is reported as [`FederationError::NotFound`].
    pub async fn fetch_object(
        &self,
        url: &Url,
        budget: &mut FetchBudget,
    ) -> Result<Value, FederationError> {
        budget.spend(url)?;
        self.check_peer_url(url).await?;
        let key = self.instance_key().await?;
        let headers = signatures::sign_get(&key, &self.urls().instance_key_id(), url)?;
        let mut response = self
            .client()
            .get(url.clone())
            .headers(headers)
            .header("accept", format!("{ACTIVITY_JSON}, {LD_JSON_PROFILE}"))
            .send()
            .await
            .map_err(|e| FederationError::fetch(url, e))?;
        match response.status() {
            s if s.is_success() => {}
            StatusCode::GONE | StatusCode::NOT_FOUND => return Err(FederationError::NotFound),
            s => return Err(FederationError::fetch(url, format!("status {s}"))),
        }
        let doc = read_json(&mut response, url).await?;
        let id = id_of(&doc).ok_or_else(|| FederationError::fetch(url, "document without id"))?;
        if !same_origin(&id, url) {
            return Err(FederationError::fetch(url, "document id on another domain"));
        }
        Ok(doc)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_addresses_are_not_public() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "192.168.0.1",
            "172.16.5.5",
            "169.254.1.1",
            "100.64.0.1",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
        ] {
            assert!(
                !is_public(ip.parse().unwrap_or_else(|_| panic!("{ip}"))),
                "{ip}"
            );
        }
        for ip in ["93.184.216.34", "2a00:1450:4001::1"] {
            assert!(
                is_public(ip.parse().unwrap_or_else(|_| panic!("{ip}"))),
                "{ip}"
            );
        }
    }
}
