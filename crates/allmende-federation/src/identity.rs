//! Who is this, really? An organization's identity counts as verified when
//! its official website links to its actor with `rel="me"` and the actor
//! names that website (its profile's `website`), as Mastodon verifies
//! profile links. Anyone can call an actor "Stadt Ulm" with AGS 08421000;
//! only Ulm can put a link on www.ulm.de.
//!
//! The upkeep job checks a few organizations per round: those never
//! checked, changed since their check, or checked more than
//! [`RECHECK_AFTER`] ago (a link taken off the website ends the
//! verification), in a task of their own with a time budget; only this
//! node's organizations and remote ones in a follow relation with them.
//! Websites are fetched with the node's one HTTP client (SSRF rules:
//! `https://` only outside development mode; size limit; a few redirects,
//! each checked like the first).

use std::time::Duration;

use allmende_domain::Organization;
use chrono::Utc;
use url::Url;

use crate::error::FederationError;
use crate::http::read_body;
use crate::Core;

/// How often a verification is confirmed.
pub const RECHECK_AFTER: Duration = Duration::from_secs(7 * 24 * 3600);
/// Organizations checked per upkeep round.
pub const PER_ROUND: u32 = 10;
/// Time a round of checks may take (it runs beside the other jobs).
pub const ROUND_BUDGET: Duration = Duration::from_secs(60);
/// How a recorded problem begins: the website could not be read…
pub const UNREACHABLE: &str = "unreachable: ";
/// …or it was read and has no link to the actor.
pub const NO_LINK: &str = "no link: ";
/// Redirects followed on the website (http → https, / → /startseite).
const MAX_REDIRECTS: usize = 3;

impl Core {
    /// Checks the organizations that are due; returns how many were checked.
    pub(crate) async fn check_due_identities(&self, limit: u32) -> Result<usize, FederationError> {
        let now = Utc::now();
        let before = now - chrono::Duration::from_std(RECHECK_AFTER).unwrap_or_default();
        let due = self.store.identities().due(before, limit).await?;
        for org in &due {
            let website = org.profile.website.as_ref();
            let outcome = match website {
                None => Err("no website in the profile".to_owned()),
                Some(site) => self.website_links_to(site, org).await,
            };
            let problem = outcome.as_ref().err().map(String::as_str);
            self.store
                .identities()
                .record(
                    org.id,
                    website.map(Url::as_str),
                    outcome.is_ok(),
                    problem,
                    now,
                )
                .await?;
            if let Err(why) = &outcome {
                tracing::debug!(org = %org.handle, why, "identity not verified");
            }
        }
        Ok(due.len())
    }

    /// Whether the page at `site` links to one of `org`'s addresses with
    /// `rel="me"`.
    async fn website_links_to(&self, site: &Url, org: &Organization) -> Result<(), String> {
        let own: Vec<Url> = match &org.origin {
            None => vec![self
                .urls
                .organization(org.handle.as_str())
                .parse()
                .map_err(|_| "bad own URL".to_owned())?],
            Some(origin) => std::iter::once(origin.actor_id.clone())
                // A profile page counts only on the actor's own server: an
                // actor could name anyone's profile as its `url`.
                .chain(
                    origin
                        .profile_url
                        .clone()
                        .filter(|u| crate::urls::same_origin(u, &origin.actor_id)),
                )
                .collect(),
        };
        let (page, html) = self
            .fetch_page(site)
            .await
            .map_err(|e| format!("{UNREACHABLE}{e}"))?;
        let links = rel_me_links(&html, &page);
        if links.iter().any(|l| own.iter().any(|o| same_address(l, o))) {
            Ok(())
        } else {
            Err(format!(
                "{NO_LINK}{page} has no rel=\"me\" link to {}",
                own[0]
            ))
        }
    }

    /// GETs an HTML page, following a few redirects (each checked).
    async fn fetch_page(&self, start: &Url) -> Result<(Url, String), FederationError> {
        let mut url = start.clone();
        for _ in 0..=MAX_REDIRECTS {
            let mut response = self
                .http
                .get(&url)?
                .header(reqwest::header::ACCEPT, "text/html")
                .send()
                .await
                .map_err(|e| crate::http::PeerClient::failure(&url, e))?;
            if response.status().is_redirection() {
                let location = response
                    .headers()
                    .get(reqwest::header::LOCATION)
                    .and_then(|l| l.to_str().ok())
                    .and_then(|l| url.join(l).ok())
                    .ok_or_else(|| FederationError::fetch(&url, "redirect without a location"))?;
                url = location;
                continue;
            }
            if !response.status().is_success() {
                return Err(FederationError::fetch(&url, response.status()));
            }
            let body = read_body(&mut response, &url).await?;
            return Ok((url, String::from_utf8_lossy(&body).into_owned()));
        }
        Err(FederationError::fetch(start, "too many redirects"))
    }
}

/// The targets of `<a rel="me">` and `<link rel="me">` on a page.
fn rel_me_links(html: &str, page: &Url) -> Vec<Url> {
    let document = scraper::Html::parse_document(html);
    let Ok(selector) = scraper::Selector::parse("a[rel~=me][href], link[rel~=me][href]") else {
        return Vec::new();
    };
    document
        .select(&selector)
        .filter_map(|e| e.value().attr("href"))
        .filter_map(|href| page.join(href.trim()).ok())
        .collect()
}

/// Addresses compared as Mastodon does: scheme, host and path, ignoring a
/// trailing slash and the fragment.
fn same_address(a: &Url, b: &Url) -> bool {
    a.scheme() == b.scheme()
        && a.host_str().map(str::to_ascii_lowercase) == b.host_str().map(str::to_ascii_lowercase)
        && a.port_or_known_default() == b.port_or_known_default()
        && a.path().trim_end_matches('/') == b.path().trim_end_matches('/')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rel_me_links_are_found_wherever_they_are() {
        let page = Url::parse("https://www.ulm.de/startseite").unwrap();
        let html = r#"<html><head><link rel="me" href="https://allmende.ulm.de/orgs/ulm"></head>
            <body><a href="https://x.example/a">kein rel</a>
            <a rel="nofollow me" href="/impressum">relativ</a>
            <a rel="meme" href="https://evil.example/">kein me</a></body></html>"#;
        let links = rel_me_links(html, &page);
        assert_eq!(links.len(), 2, "{links:?}");
        assert!(same_address(
            &links[0],
            &Url::parse("https://allmende.ulm.de/orgs/ulm/").unwrap()
        ));
        assert_eq!(links[1].as_str(), "https://www.ulm.de/impressum");
        assert!(!same_address(
            &links[0],
            &Url::parse("http://allmende.ulm.de/orgs/ulm").unwrap()
        ));
    }
}
