//! Error pages. Each tells a person what happened and what to do next, in
//! both languages (an error may happen before we know the language).

use axum::body::Body;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use maud::{html, DOCTYPE};

use super::context::Ctx;
use super::layout;
use crate::state::AppState;

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
    /// An item deleted here (`remote: false`) or by its origin: 410, and
    /// the page says so instead of a bare "not found".
    Withdrawn {
        remote: bool,
    },
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
            UseCaseError::Refused(why) => PageError::BadRequest(why),
            UseCaseError::TooManyAttempts => PageError::TooManyAttempts,
            UseCaseError::Busy => PageError::Busy,
            UseCaseError::Internal(detail) => PageError::internal(detail),
        }
    }
}

/// What an error page says: status, message in both languages, and a
/// detail for the person (never an internal one).
#[derive(Clone, Debug)]
pub struct ErrorPage {
    pub status: StatusCode,
    pub de: &'static str,
    pub en: &'static str,
    pub detail: Option<String>,
    /// What happened, in both languages, where there is more to say.
    pub explain: Option<(&'static str, &'static str)>,
}

impl PageError {
    /// The page to show, or (`Err`) where to send the visitor instead:
    /// the login page for one who is not signed in.
    fn page(self) -> Result<ErrorPage, String> {
        let mut explain = None;
        let (status, de, en, detail) = match self {
            PageError::LoginRequired(next) => {
                return Err(format!("/login?next={}", url::form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>()));
            }
            PageError::NotFound => (
                StatusCode::NOT_FOUND,
                "Seite nicht gefunden",
                "Page not found",
                None,
            ),
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
            PageError::Withdrawn { remote } => {
                explain = Some(if remote {
                    (
                        "Die veröffentlichende Organisation hat diesen Eintrag auf ihrem eigenen Knoten gelöscht oder zurückgezogen; deshalb ist er auch hier nicht mehr zu sehen.",
                        "The organization that published this entry deleted or withdrew it on its own node, so it is gone here too.",
                    )
                } else {
                    (
                        "Die veröffentlichende Organisation hat diesen Eintrag gelöscht. Die Knoten, die eine Kopie hatten, wurden benachrichtigt.",
                        "The organization that published this entry deleted it. The nodes that had a copy were told.",
                    )
                });
                (StatusCode::GONE, "Eintrag zurückgezogen", "Entry withdrawn", None)
            }
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
        Ok(ErrorPage {
            status,
            de,
            en,
            detail,
            explain,
        })
    }
}

impl IntoResponse for PageError {
    /// A page in both languages without the site's frame; the
    /// [`full_layout`] middleware replaces it with the framed page in the
    /// visitor's language (it knows who is signed in). The plain one is
    /// what is left when even that fails.
    fn into_response(self) -> Response {
        let error = match self.page() {
            Ok(error) => error,
            Err(target) => return Redirect::to(&target).into_response(),
        };
        let page = html! {
            (DOCTYPE)
            html lang="de" {
                head {
                    meta charset="utf-8";
                    meta name="viewport" content="width=device-width, initial-scale=1";
                    title { (error.de) " – Allmende" }
                    link rel="stylesheet" href=(super::assets::url("style.css"));
                }
                body {
                    main #main {
                        h1 { (error.de) }
                        p lang="en" { (error.en) }
                        @if let Some((de, en)) = error.explain { p { (de) } p lang="en" { (en) } }
                        @if let Some(d) = &error.detail { p { (d) } }
                        p { a href="/" { "Zur Startseite" } " · " a href="/" lang="en" { "Home" } }
                    }
                }
            }
        };
        let mut response = (
            error.status,
            [(header::CACHE_CONTROL, "no-store")],
            Html(page.into_string()),
        )
            .into_response();
        if error.status == StatusCode::SERVICE_UNAVAILABLE {
            response.headers_mut().insert(
                header::RETRY_AFTER,
                header::HeaderValue::from_static(crate::api::error::RETRY_AFTER_SECS),
            );
        }
        response.extensions_mut().insert(error);
        response
    }
}

/// Middleware: an error page gets the site's header, navigation and
/// footer, in the visitor's language, with a way on.
pub async fn full_layout(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let headers = request.headers().clone();
    let uri = request.uri().clone();
    // The form token and the client's address live in the extensions; the
    // framed page's logout form needs the one, per-client limits the other.
    let extensions = request.extensions().clone();
    let response = next.run(request).await;
    let Some(error) = response.extensions().get::<ErrorPage>().cloned() else {
        return response;
    };
    // A busy or failing database would fail again; keep the plain page.
    if error.status.is_server_error() {
        return response;
    }
    let mut parts = match axum::http::Request::builder().uri(uri).body(()) {
        Ok(r) => r.into_parts().0,
        Err(_) => return response,
    };
    parts.headers = headers;
    parts.extensions = extensions;
    let Ok(ctx) = Ctx::from_request_parts(&mut parts, &state).await else {
        return response;
    };
    let title = ctx.t(error.de, error.en);
    let body = layout::frame(
        &ctx,
        title,
        false,
        html! {
            h1 { (title) }
            @if let Some((de, en)) = error.explain { p { (ctx.t(de, en)) } }
            @if let Some(d) = &error.detail { p { (d) } }
            @if error.status == StatusCode::NOT_FOUND {
                p { (ctx.t(
                    "Die Adresse ist falsch, oder der Eintrag wurde von der veröffentlichenden Organisation gelöscht oder zurückgezogen.",
                    "The address is wrong, or the entry was deleted or withdrawn by the organization that published it.",
                )) }
            }
            ul {
                li { a href="/" { (ctx.t("Zur Startseite", "Home")) } }
                li { a href="/search" { (ctx.t("Suchen", "Search")) } }
            }
        },
    );
    let (mut parts, _) = response.into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(body.into_string()))
}
