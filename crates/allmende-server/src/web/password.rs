//! Passwords in the browser: changing one's own (on the account page) and
//! resetting a forgotten one through a link sent by e-mail.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use maud::{html, Markup};

use super::context::Ctx;
use super::error::PageError;
use super::forms::{csrf_field, error_summary, value, Field, FormErrors, FormValues};
use super::layout::page;
use super::notice::{redirect, Notice};
use super::people::new_password_errors;
use super::posted::{PostedForm, SignedForm};
use super::ui::{alert, Tone};
use crate::state::AppState;
use crate::usecases::people;
use crate::usecases::UseCaseError;

/// The form on the account page.
pub fn change_form(ctx: &Ctx, errors: &FormErrors) -> Markup {
    html! {
        form.stacked method="post" action="/account/password" novalidate {
            (csrf_field(ctx))
            (Field::new("current_password", ctx.t("Bisheriges Passwort", "Current password")).required().autocomplete("current-password").input(ctx, "password", &FormValues::new(), errors))
            (Field::new("password", ctx.t("Neues Passwort", "New password")).required().hint(ctx.t("Mindestens 10 Zeichen.", "At least 10 characters.")).autocomplete("new-password").input(ctx, "password", &FormValues::new(), errors))
            (Field::new("password_confirm", ctx.t("Neues Passwort wiederholen", "Repeat the new password")).required().autocomplete("new-password").input(ctx, "password", &FormValues::new(), errors))
            div.actions { button.kern-btn.kern-btn--primary type="submit" { span.kern-label { (ctx.t("Passwort ändern", "Change password")) } } }
        }
    }
}

fn change_failed(ctx: &Ctx, errors: &FormErrors) -> Response {
    let page = page(
        ctx,
        ctx.t("Passwort ändern", "Change password"),
        html! { (error_summary(ctx, errors)) (change_form(ctx, errors)) },
    );
    (StatusCode::UNPROCESSABLE_ENTITY, Html(page.into_string())).into_response()
}

/// `POST /account/password`
pub async fn change(
    State(state): State<AppState>,
    headers: HeaderMap,
    SignedForm {
        ctx,
        signed_in,
        values,
    }: SignedForm,
) -> Result<Response, PageError> {
    if let Some(errors) = new_password_errors(&ctx, &values) {
        return Ok(change_failed(&ctx, &errors));
    }
    let session = crate::auth::session::cookie(
        &headers,
        &state.config.cookie_name(crate::auth::session::COOKIE),
    )
    .map(|secret| crate::auth::digest(&secret));
    let current = values.get("current_password").cloned().unwrap_or_default();
    let new_password = values.get("password").cloned().unwrap_or_default();
    match people::change_password(
        &state,
        &signed_in.user,
        &current,
        &new_password,
        session.as_deref(),
    )
    .await
    {
        Ok(()) => Ok(redirect("/account", Notice::PasswordChanged)),
        Err(UseCaseError::Forbidden) => Ok(change_failed(
            &ctx,
            &FormErrors::single(
                "current_password",
                ctx.t(
                    "Bisheriges Passwort: stimmt nicht.",
                    "Current password: not correct.",
                )
                .into(),
            ),
        )),
        Err(e) => Err(e.into()),
    }
}

fn forgot_page(ctx: &Ctx, enabled: bool, sent: bool) -> Markup {
    page(
        ctx,
        ctx.t("Passwort vergessen", "Forgot your password"),
        html! {
            @if !enabled {
                p { (ctx.t("Dieser Knoten versendet keine E-Mails. Bitte wenden Sie sich an die Administration Ihrer Organisation oder an den Betrieb dieses Knotens; dort kann man Sie neu einladen.",
                           "This node sends no e-mail. Please ask your organization's admins or the operators of this node; they can invite you again.")) }
            } @else if sent {
                (alert(Tone::Success, "status", ctx.t("Anfrage erhalten", "Request received"), Some(html! {
                    p { (ctx.t("Wenn zu dieser Adresse ein Konto gehört, ist eine E-Mail mit einem Link unterwegs. Er gilt eine Stunde.",
                               "If an account belongs to this address, an e-mail with a link is on its way. It is valid for one hour.")) }
                })))
            } @else {
                p { (ctx.t("Geben Sie die E-Mail-Adresse Ihres Kontos an; Sie erhalten einen Link, mit dem Sie ein neues Passwort festlegen.",
                           "Enter your account's e-mail address; you will get a link to set a new password.")) }
                form.stacked method="post" action="/password/forgot" novalidate {
                    (csrf_field(ctx))
                    (Field::new("email", ctx.t("E-Mail-Adresse", "E-mail address")).required().input(ctx, "email", &FormValues::new(), &FormErrors::default()))
                    div.actions { button.kern-btn.kern-btn--primary type="submit" { span.kern-label { (ctx.t("Link anfordern", "Send the link")) } } }
                }
            }
        },
    )
}

/// `GET /password/forgot`
pub async fn forgot_form(ctx: Ctx, State(state): State<AppState>) -> Markup {
    forgot_page(&ctx, state.mailer.enabled(), false)
}

/// `POST /password/forgot`: the same answer whether the address has an
/// account or not.
pub async fn forgot(
    State(state): State<AppState>,
    PostedForm { ctx, values }: PostedForm,
) -> Result<Markup, PageError> {
    if !state.mailer.enabled() {
        return Ok(forgot_page(&ctx, false, false));
    }
    people::request_reset(&state, &value(&values, "email").unwrap_or_default())?;
    Ok(forgot_page(&ctx, true, true))
}

fn reset_page(ctx: &Ctx, token: &str, email: &str, errors: &FormErrors) -> Markup {
    page(
        ctx,
        ctx.t("Neues Passwort festlegen", "Set a new password"),
        html! {
            (error_summary(ctx, errors))
            p { (ctx.t("Konto: ", "Account: ")) strong { (email) } }
            form.stacked method="post" action={ "/password/reset/" (token) } novalidate {
                (csrf_field(ctx))
                (Field::new("password", ctx.t("Neues Passwort", "New password")).required().hint(ctx.t("Mindestens 10 Zeichen.", "At least 10 characters.")).autocomplete("new-password").input(ctx, "password", &FormValues::new(), errors))
                (Field::new("password_confirm", ctx.t("Neues Passwort wiederholen", "Repeat the new password")).required().autocomplete("new-password").input(ctx, "password", &FormValues::new(), errors))
                div.actions { button.kern-btn.kern-btn--primary type="submit" { span.kern-label { (ctx.t("Passwort speichern", "Save password")) } } }
            }
        },
    )
}

/// `GET /password/reset/{token}`
pub async fn reset_form(
    ctx: Ctx,
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> Result<Markup, PageError> {
    let user = people::reset_user(&state, &token).await?;
    Ok(reset_page(
        &ctx,
        &token,
        user.email.as_str(),
        &FormErrors::default(),
    ))
}

/// `POST /password/reset/{token}`
pub async fn reset(
    State(state): State<AppState>,
    Path(token): Path<String>,
    PostedForm { ctx, values }: PostedForm,
) -> Result<Response, PageError> {
    let user = people::reset_user(&state, &token).await?;
    if let Some(errors) = new_password_errors(&ctx, &values) {
        let page = reset_page(&ctx, &token, user.email.as_str(), &errors);
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(page.into_string())).into_response());
    }
    people::reset(
        &state,
        &token,
        values.get("password").map(String::as_str).unwrap_or(""),
    )
    .await?;
    Ok(redirect("/login", Notice::PasswordReset))
}
