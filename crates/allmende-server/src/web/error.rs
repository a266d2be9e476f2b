//! Error pages. Each tells a person what happened and what to do next, in
//! both languages (an error may happen before we know the language).

use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use maud::{html, DOCTYPE};

use crate::usecases::UseCaseError;

#[derive(Debug)]
pub enum PageError {
    NotFound,
    Forbidden,
    /// A page for the node's operators only.
    OperatorsOnly,
    /// Not signed in: go to the login page and come back to this path.
    LoginRequired(String),
    Csrf,
    BadRequest(String),
    TooLarge,
    TooManyAttempts,
    /// The node cannot do this now; the page asks to retry shortly.
    Busy,
    Internal,
}

impl PageError {
    /// A failure on our side: logged, and shown as such — except a busy
    /// database, which asks the visitor to retry shortly (503).
    pub fn internal<E: std::fmt::Display + 'static>(e: E) -> Self {
        let any: &dyn std::any::Any = &e;
        if let Some(allmende_store::StoreError::Busy(cause)) = any.downcast_ref() {
            tracing::warn!(error = %cause, "database busy; asking the visitor to retry");
            return PageError::Busy;
        }
        tracing::error!(error = %e, "internal error while rendering a page");
        PageError::Internal
    }
}

impl From<UseCaseError> for PageError {
    fn from(e: UseCaseError) -> Self {
        match e {
            UseCaseError::NotFound => PageError::NotFound,
            UseCaseError::Forbidden => PageError::Forbidden,
            UseCaseError::Invalid(v) => PageError::BadRequest(v.to_string()),
            UseCaseError::Conflict(what) => PageError::BadRequest(format!("{what} already exists")),
            UseCaseError::TooManyAttempts => PageError::TooManyAttempts,
            UseCaseError::Busy => PageError::Busy,
            UseCaseError::Internal(detail) => PageError::internal(detail),
        }
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let (status, de, en, detail) = match self {
            PageError::LoginRequired(next) => {
                let target = format!("/login?next={}", url::form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>());
                return Redirect::to(&target).into_response();
            }
            PageError::NotFound => (StatusCode::NOT_FOUND, "Seite nicht gefunden", "Page not found", None),
            PageError::Forbidden => (
                StatusCode::FORBIDDEN,
                "Keine Berechtigung: Nur die veröffentlichende Organisation darf dies ändern.",
                "Not allowed: only the publishing organization may change this.",
                None,
            ),
            PageError::OperatorsOnly => (
                StatusCode::FORBIDDEN,
                "Keine Berechtigung: Diese Seite ist für die Betreiber des Knotens.",
                "Not allowed: this page is for the node's operators.",
                None,
            ),
            PageError::Csrf => (
                StatusCode::FORBIDDEN,
                "Das Formular ist abgelaufen. Bitte laden Sie die Seite neu und senden Sie es erneut.",
                "The form has expired. Please reload the page and submit it again.",
                None,
            ),
            PageError::BadRequest(detail) => (StatusCode::BAD_REQUEST, "Ungültige Anfrage", "Bad request", Some(detail)),
            PageError::TooLarge => (StatusCode::PAYLOAD_TOO_LARGE, "Die Eingabe ist zu groß.", "The input is too large.", None),
            PageError::TooManyAttempts => (
                StatusCode::TOO_MANY_REQUESTS,
                "Zu viele fehlgeschlagene Anmeldeversuche. Bitte warten Sie 15 Minuten.",
                "Too many failed login attempts. Please wait 15 minutes.",
                None,
            ),
            PageError::Busy => (
                StatusCode::SERVICE_UNAVAILABLE,
                "Der Knoten ist gerade ausgelastet. Bitte versuchen Sie es in einigen Sekunden erneut.",
                "The node is busy right now. Please try again in a few seconds.",
                None,
            ),
            PageError::Internal => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "Ein interner Fehler ist aufgetreten. Bitte versuchen Sie es später erneut.",
                "An internal error occurred. Please try again later.",
                None,
            ),
        };
        let page = html! {
            (DOCTYPE)
            html lang="de" {
                head {
                    meta charset="utf-8";
                    meta name="viewport" content="width=device-width, initial-scale=1";
                    title { (de) " – Allmende" }
                    link rel="stylesheet" href="/static/style.css";
                }
                body {
                    main #main {
                        h1 { (de) }
                        p lang="en" { (en) }
                        @if let Some(d) = detail { p { code { (d) } } }
                        p { a href="/" { "Zur Startseite" } " · " a href="/" lang="en" { "Home" } }
                    }
                }
            }
        };
        let mut response = (
            status,
            [(header::CACHE_CONTROL, "no-store")],
            Html(page.into_string()),
        )
            .into_response();
        if status == StatusCode::SERVICE_UNAVAILABLE {
            response.headers_mut().insert(
                header::RETRY_AFTER,
                header::HeaderValue::from_static(crate::api::error::RETRY_AFTER_SECS),
            );
        }
        response
    }
}
