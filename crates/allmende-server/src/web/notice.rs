//! Messages about what just happened ("Veröffentlicht.", "Token
//! widerrufen."), shown once on the page a successful form submission
//! redirects to.
//!
//! The handler returns [`redirect`]; [`carry`] turns the message into a
//! short-lived cookie holding only its code (never text, so nothing a
//! visitor could inject), the next page shows it as a KERN success alert
//! with `role="status"`, and [`carry`] clears the cookie once a page has
//! been rendered.

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};

use super::context::Ctx;
use crate::auth::session;
use crate::state::AppState;

pub const COOKIE: &str = "allmende_notice";

macro_rules! notices {
    ($($name:ident = $code:literal: $de:literal / $en:literal;)*) => {
        /// A confirmation of a finished action.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum Notice { $($name),* }

        impl Notice {
            pub fn code(self) -> &'static str {
                match self { $(Notice::$name => $code),* }
            }

            pub fn parse(code: &str) -> Option<Self> {
                match code { $($code => Some(Notice::$name),)* _ => None }
            }

            pub fn text(self, ctx: &Ctx) -> &'static str {
                match self { $(Notice::$name => ctx.t($de, $en)),* }
            }
        }
    };
}

notices! {
    Published = "published": "Veröffentlicht. Wer Ihrer Organisation folgt, erhält den Eintrag in Kürze." / "Published. Those who follow your organization will receive it shortly.";
    Saved = "saved": "Änderungen gespeichert." / "Changes saved.";
    Deleted = "deleted": "Gelöscht. Die Knoten, die eine Kopie hatten, werden benachrichtigt." / "Deleted. The nodes that had a copy are being told.";
    AnswerPublished = "answered": "Ihre Antwort ist veröffentlicht." / "Your answer is published.";
    AnswerAccepted = "accepted": "Die Antwort ist als hilfreichste markiert." / "The answer is marked as the most helpful.";
    Followed = "followed": "Anfrage gesendet. Sobald sie angenommen ist, erscheinen die Einträge in Ihrem Netzwerk." / "Request sent. Once it is accepted, the entries appear in your network.";
    Unfollowed = "unfollowed": "Sie folgen nicht mehr." / "You no longer follow.";
    FollowerDecided = "follower": "Entscheidung gespeichert." / "Decision saved.";
    TokenCreated = "token": "Token erstellt." / "Token created.";
    TokenRevoked = "revoked": "Token widerrufen. Programme, die es nutzen, werden abgewiesen." / "Token revoked. Programs that use it are refused.";
    TwoFactorOn = "totp-on": "Zwei-Faktor-Anmeldung ist eingeschaltet." / "Two-factor login is on.";
    TwoFactorOff = "totp-off": "Zwei-Faktor-Anmeldung ist ausgeschaltet." / "Two-factor login is off.";
    AdoptionDeclared = "adopted": "Ihre Nachnutzung ist erklärt und wird veröffentlicht." / "Your adoption is declared and being published.";
    AdoptionWithdrawn = "unadopted": "Ihre Nachnutzungserklärung ist zurückgezogen." / "Your adoption declaration is withdrawn.";
    Retried = "retried": "Die Zustellung wird erneut versucht." / "The delivery will be tried again.";
    Dropped = "dropped": "Die Zustellung ist verworfen." / "The delivery is dropped.";
    PolicyChanged = "policy": "Die Föderationsregel ist gespeichert." / "The federation rule is saved.";
    OrganizationCreated = "org": "Organisation angelegt." / "Organization created.";
    UserAdded = "user": "Person hinzugefügt." / "Person added.";
    GroupChanged = "group": "Gruppe geändert." / "Group changed.";
    LoggedIn = "login": "Sie sind angemeldet." / "You are logged in.";
    InvitationSent = "invited": "Einladung per E-Mail versandt." / "Invitation sent by e-mail.";
    InvitationWithdrawn = "uninvited": "Einladung zurückgezogen; ihr Link gilt nicht mehr." / "Invitation withdrawn; its link no longer works.";
    RoleChanged = "role": "Rolle geändert." / "Role changed.";
    PersonRemoved = "removed": "Person entfernt; ihre Anmeldungen sind beendet." / "Person removed; their logins have ended.";
    AccountCreated = "account": "Ihr Konto ist angelegt. Bitte melden Sie sich an." / "Your account is created. Please log in.";
    PasswordChanged = "password": "Passwort geändert. Ihre anderen Anmeldungen sind beendet." / "Password changed. Your other logins have ended.";
    PasswordReset = "reset": "Passwort neu gesetzt. Bitte melden Sie sich an." / "New password set. Please log in.";
    NotificationsSaved = "notify": "Einstellungen zu Benachrichtigungen gespeichert." / "Notification settings saved.";
    Watching = "watch": "Sie erhalten Nachricht über Neues." / "You will hear of what is new.";
    NotWatching = "unwatch": "Sie erhalten keine Nachricht mehr darüber." / "You will no longer hear of it.";
    LoggedOut = "logout": "Sie sind abgemeldet." / "You are logged out.";
}

/// A 303 redirect to `to` that shows `notice` there.
pub fn redirect(to: &str, notice: Notice) -> Response {
    let mut response = Redirect::to(to).into_response();
    response.extensions_mut().insert(notice);
    response
}

/// Middleware: sets the cookie for a response that carries a [`Notice`],
/// and clears it once a page was shown with it.
pub async fn carry(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let name = state.config.cookie_name(COOKIE);
    let had_notice = session::cookie(request.headers(), &name).is_some();
    let mut response = next.run(request).await;
    let cookie = match response.extensions().get::<Notice>().copied() {
        Some(notice) => Some(session::set_cookie(
            &state.config,
            &name,
            notice.code(),
            Some(120),
        )),
        None if had_notice && !response.status().is_redirection() => {
            Some(session::set_cookie(&state.config, &name, "", Some(0)))
        }
        None => None,
    };
    if let Some(value) = cookie.and_then(|c| HeaderValue::from_str(&c).ok()) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

/// The notice the request carries, if any.
pub fn from_headers(
    config: &crate::config::Config,
    headers: &axum::http::HeaderMap,
) -> Option<Notice> {
    session::cookie(headers, &config.cookie_name(COOKIE)).and_then(|code| Notice::parse(&code))
}
