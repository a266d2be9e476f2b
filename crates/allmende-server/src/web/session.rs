//! Logging in and out, and choosing the language.

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
use axum::response::{AppendHeaders, Html, IntoResponse, Redirect, Response};
use maud::{html, Markup};

use super::context::{Ctx, Lang, LANG_COOKIE};
use super::error::PageError;
use super::forms::{csrf_field, error_summary, value, Field, FormErrors, FormValues};
use super::layout::page;
use super::notice::{redirect, Notice};
use super::posted::PostedForm;
use crate::auth::session;
use crate::state::AppState;
use crate::usecases::accounts;

/// Only paths on this node are allowed as a return target (no open
/// redirect); anything else returns to the start page.
pub fn safe_next(state: &AppState, next: Option<&String>) -> String {
    next.and_then(|n| crate::auth::local_target(n, &state.config.public_url))
        .unwrap_or_else(|| "/".into())
}

fn login_page(ctx: &Ctx, next: &str, values: &FormValues, errors: &FormErrors) -> Markup {
    page(
        ctx,
        ctx.t("Anmelden", "Log in"),
        html! {
            (error_summary(ctx, errors))
            form.stacked method="post" action="/login" {
                (csrf_field(ctx))
                input type="hidden" name="next" value=(next);
                (Field::new("email", ctx.t("E-Mail-Adresse", "E-mail address")).required().input(ctx, "email", values, errors))
                (Field::new("password", ctx.t("Passwort", "Password")).required().autocomplete("current-password").input(ctx, "password", &FormValues::new(), errors))
                button.kern-btn.kern-btn--primary type="submit" { span.kern-label { (ctx.t("Anmelden", "Log in")) } }
            }
            p { a href="/password/forgot" { (ctx.t("Passwort vergessen?", "Forgot your password?")) } }
            p.hint { (ctx.t("Zugänge vergeben die Administrationen der Organisationen per Einladung.", "Accounts are given by each organization's admins, by invitation.")) }
        },
    )
}

pub async fn login_form(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(params): Query<HashMap<String, String>>,
) -> Markup {
    login_page(
        &ctx,
        &safe_next(&state, params.get("next")),
        &FormValues::new(),
        &FormErrors::default(),
    )
}

pub async fn login(
    State(state): State<AppState>,
    PostedForm { ctx, values }: PostedForm,
) -> Result<Response, PageError> {
    let next = safe_next(&state, values.get("next"));
    let email = value(&values, "email").unwrap_or_default();
    let password = values.get("password").cloned().unwrap_or_default();
    let client = ctx.client;
    match accounts::login(
        &state.store,
        &state.password_checks,
        &email,
        &password,
        client,
    )
    .await?
    {
        Some(user) => {
            let second_factor = state
                .store
                .accounts()
                .totp_secret(user.id)
                .await
                .map_err(PageError::internal)?;
            if second_factor.is_some() {
                // The password was right; the code comes next, on a page
                // that carries a one-use, five-minute challenge.
                let challenge = crate::auth::random_secret(32);
                state
                    .store
                    .accounts()
                    .create_login_challenge(
                        &crate::auth::digest(&challenge),
                        user.id,
                        chrono::Utc::now() + chrono::Duration::minutes(5),
                    )
                    .await
                    .map_err(PageError::internal)?;
                let page = code_page(&ctx, &challenge, &next);
                return Ok(Html(page.into_string()).into_response());
            }
            signed_in(&state, user.id, &next).await
        }
        None => {
            tracing::info!("failed login attempt");
            let message = ctx.t(
                "E-Mail-Adresse oder Passwort ist falsch.",
                "E-mail address or password is wrong.",
            );
            Ok(login_refused(&ctx, &next, &values, message))
        }
    }
}

/// Starts the session and goes to `next`.
async fn signed_in(
    state: &AppState,
    user: allmende_store::UserId,
    next: &str,
) -> Result<Response, PageError> {
    let cookie = session::start(&state.store, &state.config, user)
        .await
        .map_err(PageError::internal)?;
    // A new session brings new form tokens (they are derived from it); the
    // visitor's token from before the login is replaced too, so a token
    // planted before the login is worth nothing.
    let fresh_csrf = crate::auth::csrf::fresh_cookie(&state.config);
    Ok((
        AppendHeaders([
            (header::SET_COOKIE, cookie),
            (header::SET_COOKIE, fresh_csrf),
        ]),
        redirect(next, Notice::LoggedIn),
    )
        .into_response())
}

fn login_refused(ctx: &Ctx, next: &str, values: &FormValues, message: &str) -> Response {
    let errors = FormErrors::single("email", message.to_owned());
    (
        StatusCode::UNAUTHORIZED,
        Html(login_page(ctx, next, values, &errors).into_string()),
    )
        .into_response()
}

fn code_page(ctx: &Ctx, challenge: &str, next: &str) -> Markup {
    page(
        ctx,
        ctx.t("Anmelden: Code", "Log in: code"),
        html! {
            p { (ctx.t("Geben Sie den sechsstelligen Code aus Ihrer Authenticator-App ein.", "Enter the six-digit code from your authenticator app.")) }
            form.stacked method="post" action="/login/code" {
                (csrf_field(ctx))
                input type="hidden" name="challenge" value=(challenge);
                input type="hidden" name="next" value=(next);
                div.field {
                    label for="code" { (ctx.t("Code", "Code")) }
                    input #code type="text" name="code" inputmode="numeric" autocomplete="one-time-code" required;
                }
                button.kern-btn.kern-btn--primary type="submit" { span.kern-label { (ctx.t("Anmelden", "Log in")) } }
            }
        },
    )
}

/// `POST /login/code`: the second step of a login with a second factor.
/// A challenge works once: a wrong code means signing in again (and counts
/// as a failed attempt for the address).
pub async fn login_code(
    State(state): State<AppState>,
    PostedForm { ctx, values }: PostedForm,
) -> Result<Response, PageError> {
    let next = safe_next(&state, values.get("next"));
    let challenge = values.get("challenge").cloned().unwrap_or_default();
    let store = &state.store;
    let user = store
        .accounts()
        .take_login_challenge(&crate::auth::digest(&challenge), chrono::Utc::now())
        .await
        .map_err(PageError::internal)?;
    let Some(user) = user else {
        let message = ctx.t(
            "Die Anmeldung ist abgelaufen. Bitte melden Sie sich erneut an.",
            "The login has expired. Please log in again.",
        );
        return Ok(login_refused(&ctx, &next, &FormValues::new(), message));
    };
    let secret = store
        .accounts()
        .totp_secret(user.id)
        .await
        .map_err(PageError::internal)?;
    let code = values.get("code").map(String::as_str).unwrap_or_default();
    let step = secret
        .as_deref()
        .and_then(|s| crate::auth::totp::check(s, code));
    let accepted = match step {
        Some(step) => store
            .accounts()
            .use_totp_step(user.id, step)
            .await
            .map_err(PageError::internal)?,
        None => false,
    };
    if accepted {
        return signed_in(&state, user.id, &next).await;
    }
    tracing::info!("wrong second-factor code");
    accounts::count_failure(store, user.email.as_str()).await?;
    let mut values = FormValues::new();
    values.insert("email".into(), user.email.to_string());
    let message = ctx.t(
        "Der Code ist falsch oder wurde schon benutzt. Bitte melden Sie sich erneut an.",
        "The code is wrong or was used before. Please log in again.",
    );
    Ok(login_refused(&ctx, &next, &values, message))
}

pub async fn logout(
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
    _: PostedForm,
) -> Result<Response, PageError> {
    let cookie = session::end(&state.store, &state.config, &headers)
        .await
        .map_err(PageError::internal)?;
    Ok((
        [(header::SET_COOKIE, cookie)],
        redirect("/", Notice::LoggedOut),
    )
        .into_response())
}

/// `GET /lang?set=en&next=/path`: remembers the language in a cookie.
pub async fn set_language(
    State(state): State<AppState>,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    let next = safe_next(&state, params.get("next"));
    match params.get("set").and_then(|l| Lang::parse(l)) {
        Some(lang) => {
            let cookie = session::set_cookie(
                &state.config,
                LANG_COOKIE,
                lang.code(),
                Some(365 * 24 * 3600),
            );
            ([(header::SET_COOKIE, cookie)], Redirect::to(&next)).into_response()
        }
        None => Redirect::to(&next).into_response(),
    }
}
