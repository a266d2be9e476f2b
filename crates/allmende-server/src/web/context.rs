//! What every page needs to know about the request: language, signed-in
//! user, CSRF token and the current path.

use allmende_domain::Organization;
use allmende_store::User;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderMap};

use super::error::PageError;
use crate::auth::csrf::CsrfToken;
use crate::auth::session;
use crate::state::AppState;

pub const LANG_COOKIE: &str = "allmende_lang";

/// Page language: German unless the visitor chose English, or their browser
/// prefers English over German.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lang {
    De,
    En,
}

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::De => "de",
            Lang::En => "en",
        }
    }

    pub fn parse(code: &str) -> Option<Self> {
        match code {
            "de" => Some(Lang::De),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    pub fn from_headers(headers: &HeaderMap) -> Self {
        if let Some(lang) = session::cookie(headers, LANG_COOKIE).and_then(|c| Lang::parse(&c)) {
            return lang;
        }
        let accept = headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        // The first of de/en in the list wins; quality values are rarely
        // out of order in practice.
        for tag in accept.split(',') {
            let primary = tag
                .split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase();
            if primary.starts_with("de") {
                return Lang::De;
            }
            if primary.starts_with("en") {
                return Lang::En;
            }
        }
        Lang::De
    }
}

/// The signed-in user with their organization.
#[derive(Clone, Debug)]
pub struct SignedIn {
    pub user: User,
    pub organization: Organization,
}

#[derive(Clone, Debug)]
pub struct Ctx {
    pub lang: Lang,
    pub signed_in: Option<SignedIn>,
    pub csrf: CsrfToken,
    /// Path and query of the request, for "back here after login" links.
    pub path: String,
    /// Where the node's source is offered (AGPL section 13).
    pub source_url: String,
    /// The signed-in user operates the node (`operators` in the config).
    pub operator: bool,
    /// The client's address, for per-client limits.
    pub client: Option<std::net::IpAddr>,
    /// The request came from one of the node's own pages (or from no
    /// browser at all): see [`crate::auth::csrf::same_origin`].
    pub same_origin: bool,
    /// What the previous action did, shown once (see [`super::notice`]).
    pub notice: Option<super::notice::Notice>,
    /// Configuration keys of the legal pages the operator has not set
    /// yet; operators see a reminder while any is missing.
    pub legal_missing: Vec<&'static str>,
}

impl Ctx {
    /// Picks the German or English text.
    pub fn t(&self, de: &'static str, en: &'static str) -> &'static str {
        match self.lang {
            Lang::De => de,
            Lang::En => en,
        }
    }

    /// The language of what organizations write (German), where it differs
    /// from the page's: for `lang` on their titles and texts (WCAG 3.1.2).
    pub fn content_lang(&self) -> Option<&'static str> {
        (self.lang != Lang::De).then_some("de")
    }

    /// The name of an enumerated domain value in the page's language.
    pub fn label(&self, value: impl allmende_domain::text::Labelled) -> &'static str {
        match self.lang {
            Lang::De => value.label_de(),
            Lang::En => value.label_en(),
        }
    }

    pub fn user(&self) -> Option<&User> {
        self.signed_in.as_ref().map(|s| &s.user)
    }

    /// Who reads this page, for the visibility rule.
    pub fn viewer(&self) -> allmende_domain::Viewer {
        crate::usecases::items::viewer(self.user())
    }

    /// The signed-in user, or a redirect to the login page.
    pub fn require_user(&self) -> Result<&SignedIn, PageError> {
        self.signed_in
            .as_ref()
            .ok_or_else(|| PageError::LoginRequired(self.path.clone()))
    }

    /// The signed-in user if they operate the node.
    pub fn require_operator(&self) -> Result<&SignedIn, PageError> {
        let user = self.require_user()?;
        if self.operator {
            Ok(user)
        } else {
            Err(PageError::OperatorsOnly)
        }
    }

    /// Checks a submitted form's CSRF field.
    pub fn check_csrf(&self, submitted: Option<&String>) -> Result<(), PageError> {
        match submitted {
            Some(s) if self.same_origin && self.csrf.verify(s) => Ok(()),
            _ => Err(PageError::Csrf),
        }
    }
}

impl FromRequestParts<AppState> for Ctx {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, PageError> {
        let lang = Lang::from_headers(&parts.headers);
        let csrf = CsrfToken::from_request_parts(parts, state)
            .await
            .unwrap_or_else(|e| match e {});
        let path = parts
            .uri
            .path_and_query()
            .map(|p| p.as_str().to_owned())
            .unwrap_or_else(|| "/".into());
        let signed_in = match session::user(&state.store, &state.config, &parts.headers).await {
            Ok(Some(user)) => {
                let organization = state
                    .store
                    .organizations()
                    .get(user.organization_id)
                    .await
                    .map_err(PageError::internal)?;
                Some(SignedIn { user, organization })
            }
            Ok(None) => None,
            Err(e) => return Err(PageError::internal(e)),
        };
        let operator = signed_in
            .as_ref()
            .is_some_and(|s| state.config.is_operator(s.user.email.as_str()));
        Ok(Ctx {
            client: crate::auth::client_ip(&state.config, &parts.headers, &parts.extensions),
            same_origin: crate::auth::csrf::same_origin(&state.config, &parts.headers),
            operator,
            lang,
            signed_in,
            csrf,
            path,
            source_url: state.config.source_url.to_string(),
            notice: super::notice::from_headers(&state.config, &parts.headers),
            legal_missing: state.config.legal_missing(),
        })
    }
}
