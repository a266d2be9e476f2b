//! The account page: who you are, and your API tokens.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use maud::{html, Markup};

use super::context::Ctx;
use super::error::PageError;
use super::forms::{csrf_field, error_summary, value, Field, FormErrors, FormValues};
use super::items::parse_id;
use super::layout::{page, timestamp};
use super::notice::{redirect, Notice};
use super::posted::SignedForm;
use crate::auth::token;
use crate::state::AppState;

/// What the second-factor section shows besides its state.
#[derive(Default)]
struct TotpView<'a> {
    /// Setting up: the secret to enter in the app.
    setup: Option<&'a str>,
    /// A code that was refused.
    error: Option<&'static str>,
}

async fn account_page(
    ctx: &Ctx,
    state: &AppState,
    new_token: Option<&str>,
) -> Result<Markup, PageError> {
    account_page_with(ctx, state, new_token, &TotpView::default()).await
}

async fn account_page_with(
    ctx: &Ctx,
    state: &AppState,
    new_token: Option<&str>,
    totp: &TotpView<'_>,
) -> Result<Markup, PageError> {
    let s = ctx.require_user()?;
    let totp_on = state
        .store
        .accounts()
        .totp_secret(s.user.id)
        .await
        .map_err(PageError::internal)?
        .is_some();
    let code_errors = match totp.error {
        Some(e) => FormErrors::single("totp_code", e.to_owned()),
        None => FormErrors::default(),
    };
    let tokens = state
        .store
        .accounts()
        .tokens_of(s.user.id)
        .await
        .map_err(PageError::internal)?;
    let notifications = super::notifications::settings(ctx, state).await?;
    let manages = s.user.role == allmende_domain::Role::Admin || ctx.operator;
    Ok(page(
        ctx,
        ctx.t("Ihr Konto", "Your account"),
        html! {
            dl.facts.kern-description-list {
                div.kern-description-list-item { dt.kern-description-list-item__key { (ctx.t("E-Mail", "E-mail")) } dd.kern-description-list-item__value { (s.user.email) } }
                div.kern-description-list-item { dt.kern-description-list-item__key { (ctx.t("Organisation", "Organization")) } dd.kern-description-list-item__value { a href={ "/orgs/" (s.organization.handle) } { (s.organization.profile.name) } } }
                div.kern-description-list-item { dt.kern-description-list-item__key { (ctx.t("Rolle", "Role")) } dd.kern-description-list-item__value { (ctx.label(s.user.role)) } }
            }
            @if manages {
                p { a href={ "/orgs/" (s.organization.handle) "/people" } { (ctx.t("Personen Ihrer Organisation verwalten: einladen, Rollen, Protokoll", "Manage your organization's people: invitations, roles, log")) } }
            }
            h2 #notifications { (ctx.t("Benachrichtigungen", "Notifications")) }
            (notifications)
            h2 #password-change { (ctx.t("Passwort ändern", "Change password")) }
            (super::password::change_form(ctx, &FormErrors::default()))
            h2 #tokens { (ctx.t("API-Tokens", "API tokens")) }
            @if let Some(t) = new_token {
                div.notice.kern-alert.kern-alert--success role="status" {
                    p { strong { (ctx.t("Neues Token – es wird nur jetzt angezeigt:", "New token – it is shown only now:")) } }
                    p { code { (t) } }
                }
            }
            p { (ctx.t("Mit einem Token können Skripte über die ", "With a token, scripts can publish for your organization through the ")) a href="/api/v1/openapi.json" { "JSON-API" } (ctx.t(" für Ihre Organisation veröffentlichen.", ".")) }
            @if !tokens.is_empty() {
                div.table-scroll role="region" tabindex="0" aria-label=(ctx.t("Tabelle, seitlich verschiebbar", "Table, scrolls sideways")) { table.kern-table {
                    thead { tr { th scope="col" { (ctx.t("Bezeichnung", "Label")) } th scope="col" { (ctx.t("Erstellt", "Created")) } th scope="col" { (ctx.t("Zuletzt benutzt", "Last used")) } th scope="col" { span.hint { (ctx.t("Aktion", "Action")) } } } }
                    tbody {
                        @for t in &tokens {
                            tr {
                                td { (t.label) }
                                td { (timestamp(ctx, t.created_at)) }
                                td { (t.last_used_at.map(|d| timestamp(ctx, d)).unwrap_or_else(|| "–".into())) }
                                td {
                                    a href={ "/account/tokens/" (t.id) "/revoke" } aria-label={ (ctx.t("Widerrufen: ", "Revoke: ")) (t.label) } { (ctx.t("Widerrufen …", "Revoke …")) }
                                }
                            }
                        }
                    }
                } }
            }
            form.stacked method="post" action="/account/tokens" {
                (csrf_field(ctx))
                (Field::new("label", ctx.t("Bezeichnung des neuen Tokens", "Label of the new token")).hint(ctx.t("z. B. Import aus dem Ratsinformationssystem", "e.g. import from the council information system")).input(ctx, "text", &FormValues::new(), &FormErrors::default()))
                button.kern-btn.kern-btn--primary type="submit" { span.kern-label { (ctx.t("Token erstellen", "Create token")) } }
            }
            h2 #totp { (ctx.t("Zwei-Faktor-Anmeldung", "Two-factor login")) }
            @let code_field = Field::new("totp_code", ctx.t("Sechsstelliger Code aus der App", "Six-digit code from the app")).required();
            @if totp_on {
                p { strong { (ctx.t("Aktiv.", "On.")) } " " (ctx.t("Bei jeder Anmeldung fragt der Knoten nach einem Code aus Ihrer Authenticator-App.", "At every login the node asks for a code from your authenticator app.")) }
                form.stacked method="post" action="/account/totp/disable" {
                    (error_summary(ctx, &code_errors))
                    (csrf_field(ctx))
                    (code_field.input(ctx, "text", &FormValues::new(), &code_errors))
                    button.kern-btn.kern-btn--danger type="submit" { span.kern-label { (ctx.t("Zwei-Faktor-Anmeldung ausschalten", "Turn two-factor login off")) } }
                }
            } @else if let Some(secret) = totp.setup {
                p { (ctx.t("Tragen Sie diesen Schlüssel in Ihre Authenticator-App ein (z. B. FreeOTP, Aegis, Microsoft oder Google Authenticator) und bestätigen Sie mit dem ersten Code:", "Enter this key in your authenticator app (e.g. FreeOTP, Aegis, Microsoft or Google Authenticator) and confirm with its first code:")) }
                p { code #totp-secret { (secret) } }
                @if let Some(url) = crate::auth::totp::setup_url(secret, s.user.email.as_str(), &state.federation.urls().host()) {
                    p.hint { (ctx.t("Oder als Adresse: ", "Or as an address: ")) code { (url) } }
                }
                form.stacked method="post" action="/account/totp/enable" {
                    (error_summary(ctx, &code_errors))
                    (csrf_field(ctx))
                    (code_field.input(ctx, "text", &FormValues::new(), &code_errors))
                    button.kern-btn.kern-btn--primary type="submit" { span.kern-label { (ctx.t("Bestätigen und einschalten", "Confirm and turn on")) } }
                }
            } @else {
                p { (ctx.t("Schützen Sie Ihr Konto zusätzlich mit einem Code aus einer Authenticator-App – empfohlen für Admins und Betreiber.", "Protect your account with a code from an authenticator app as well – recommended for admins and operators.")) }
                form.inline method="post" action="/account/totp/setup" {
                    (csrf_field(ctx))
                    button.kern-btn.kern-btn--primary type="submit" { span.kern-label { (ctx.t("Zwei-Faktor-Anmeldung einrichten", "Set up two-factor login")) } }
                }
            }
        },
    ))
}

pub async fn show(ctx: Ctx, State(state): State<AppState>) -> Result<Markup, PageError> {
    account_page(&ctx, &state, None).await
}

pub async fn create_token(
    State(state): State<AppState>,
    SignedForm {
        ctx,
        signed_in,
        values,
    }: SignedForm,
) -> Result<Markup, PageError> {
    let user = &signed_in.user;
    let label: String = value(&values, "label")
        .unwrap_or_else(|| "web".into())
        .chars()
        .take(100)
        .collect();
    let (secret, _) = token::create(&state.store, user.id, &label)
        .await
        .map_err(PageError::internal)?;
    account_page(&ctx, &state, Some(&secret)).await
}

/// `GET /account/tokens/{id}/revoke`: asks before revoking, since
/// programs using the token stop working and it cannot be restored.
pub async fn revoke_confirm(
    ctx: Ctx,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Markup, PageError> {
    let s = ctx.require_user()?;
    let id = parse_id(&id)?;
    let tokens = state
        .store
        .accounts()
        .tokens_of(s.user.id)
        .await
        .map_err(PageError::internal)?;
    let t = tokens
        .iter()
        .find(|t| t.id == id)
        .ok_or(PageError::NotFound)?;
    Ok(page(
        &ctx,
        ctx.t("Token widerrufen?", "Revoke the token?"),
        html! {
            p {
                (ctx.t("Das Token „", "The token “")) strong { (t.label) }
                (ctx.t("“ wird ungültig. Programme, die es nutzen, werden ab sofort abgewiesen. Das lässt sich nicht rückgängig machen; Sie können aber ein neues Token erstellen.",
                       "” stops working. Programs that use it are refused from now on. This cannot be undone, but you can create a new token."))
            }
            form method="post" action={ "/account/tokens/" (t.id) "/revoke" } {
                (csrf_field(&ctx))
                div.actions {
                    button.kern-btn.kern-btn--danger type="submit" { span.kern-label { (ctx.t("Endgültig widerrufen", "Revoke for good")) } }
                    a href="/account#tokens" { (ctx.t("Abbrechen", "Cancel")) }
                }
            }
        },
    ))
}

pub async fn revoke_token(
    State(state): State<AppState>,
    Path(id): Path<String>,
    SignedForm { signed_in, .. }: SignedForm,
) -> Result<Response, PageError> {
    let user = &signed_in.user;
    state
        .store
        .accounts()
        .delete_token(user.id, parse_id(&id)?)
        .await
        .map_err(|e| match e {
            allmende_store::StoreError::NotFound => PageError::NotFound,
            other => PageError::internal(other),
        })?;
    Ok(redirect("/account#tokens", Notice::TokenRevoked))
}

/// `POST /account/totp/setup`: makes a new secret to confirm.
pub async fn totp_setup(
    State(state): State<AppState>,
    SignedForm { ctx, signed_in, .. }: SignedForm,
) -> Result<Markup, PageError> {
    let secret = crate::auth::totp::new_secret();
    state
        .store
        .accounts()
        .set_totp_pending(signed_in.user.id, Some(&secret))
        .await
        .map_err(PageError::internal)?;
    let view = TotpView {
        setup: Some(&secret),
        error: None,
    };
    account_page_with(&ctx, &state, None, &view).await
}

fn wrong_code(ctx: &Ctx) -> &'static str {
    ctx.t(
        "Der Code stimmt nicht. Prüfen Sie die Uhrzeit des Geräts und geben Sie den aktuellen Code ein.",
        "The code is wrong. Check the device's clock and enter the current code.",
    )
}

/// `POST /account/totp/enable`: the first code confirms the secret.
pub async fn totp_enable(
    State(state): State<AppState>,
    SignedForm {
        ctx,
        signed_in,
        values,
    }: SignedForm,
) -> Result<Response, PageError> {
    let accounts = state.store.accounts();
    let user = signed_in.user.id;
    let Some(secret) = accounts
        .totp_pending(user)
        .await
        .map_err(PageError::internal)?
    else {
        return Ok(Redirect::to("/account").into_response());
    };
    let code = values
        .get("totp_code")
        .map(String::as_str)
        .unwrap_or_default();
    match crate::auth::totp::check(&secret, code) {
        Some(step) => {
            accounts
                .set_totp(user, Some(&secret), Some(step))
                .await
                .map_err(PageError::internal)?;
            Ok(redirect("/account#totp", Notice::TwoFactorOn))
        }
        None => {
            let view = TotpView {
                setup: Some(&secret),
                error: Some(wrong_code(&ctx)),
            };
            let page = account_page_with(&ctx, &state, None, &view).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(page.into_string())).into_response())
        }
    }
}

/// `POST /account/totp/disable`: with a current code.
pub async fn totp_disable(
    State(state): State<AppState>,
    SignedForm {
        ctx,
        signed_in,
        values,
    }: SignedForm,
) -> Result<Response, PageError> {
    let accounts = state.store.accounts();
    let user = signed_in.user.id;
    let secret = accounts
        .totp_secret(user)
        .await
        .map_err(PageError::internal)?;
    let code = values
        .get("totp_code")
        .map(String::as_str)
        .unwrap_or_default();
    let step = secret
        .as_deref()
        .and_then(|s| crate::auth::totp::check(s, code));
    let used = match step {
        Some(step) => accounts
            .use_totp_step(user, step)
            .await
            .map_err(PageError::internal)?,
        None => false,
    };
    if used {
        accounts
            .set_totp(user, None, None)
            .await
            .map_err(PageError::internal)?;
        return Ok(redirect("/account#totp", Notice::TwoFactorOff));
    }
    let view = TotpView {
        setup: None,
        error: Some(wrong_code(&ctx)),
    };
    let page = account_page_with(&ctx, &state, None, &view).await?;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(page.into_string())).into_response())
}
