//! Logging in and out, and choosing the language.

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use maud::{html, Markup};

use super::context::{Ctx, Lang, LANG_COOKIE};
use super::error::PageError;
use super::forms::{csrf_field, error_summary, value, Field, FormErrors, FormValues};
use super::layout::page;
use super::posted::PostedForm;
use crate::auth::session;
use crate::state::AppState;
use crate::usecases::accounts;

/// Only local paths are allowed as a return target (no open redirect).
pub fn safe_next(next: Option<&String>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n.clone(),
        _ => "/".into(),
    }
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
                (Field::new("password", ctx.t("Passwort", "Password")).required().input(ctx, "password", &FormValues::new(), errors))
                button type="submit" { (ctx.t("Anmelden", "Log in")) }
            }
            p.hint { (ctx.t("Zugänge vergibt der Betrieb dieses Knotens (allmende user create).", "Accounts are created by the operator of this node (allmende user create).")) }
        },
    )
}

pub async fn login_form(ctx: Ctx, Query(params): Query<HashMap<String, String>>) -> Markup {
    login_page(
        &ctx,
        &safe_next(params.get("next")),
        &FormValues::new(),
        &FormErrors::default(),
    )
}

pub async fn login(
    State(state): State<AppState>,
    PostedForm { ctx, values }: PostedForm,
) -> Result<Response, PageError> {
    let next = safe_next(values.get("next"));
    let email = value(&values, "email").unwrap_or_default();
    let password = values.get("password").cloned().unwrap_or_default();
    match accounts::login(&state.store, &email, &password).await? {
        Some(user) => {
            let cookie = session::start(&state.store, &state.config, user.id)
                .await
                .map_err(PageError::internal)?;
            Ok(([(header::SET_COOKIE, cookie)], Redirect::to(&next)).into_response())
        }
        None => {
            tracing::info!("failed login attempt");
            let errors = FormErrors::single(
                "email",
                ctx.t(
                    "E-Mail-Adresse oder Passwort ist falsch.",
                    "E-mail address or password is wrong.",
                )
                .to_owned(),
            );
            Ok((
                StatusCode::UNAUTHORIZED,
                Html(login_page(&ctx, &next, &values, &errors).into_string()),
            )
                .into_response())
        }
    }
}

pub async fn logout(
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
    _: PostedForm,
) -> Result<Response, PageError> {
    let cookie = session::end(&state.store, &state.config, &headers)
        .await
        .map_err(PageError::internal)?;
    Ok(([(header::SET_COOKIE, cookie)], Redirect::to("/")).into_response())
}

/// `GET /lang?set=en&next=/path`: remembers the language in a cookie.
pub async fn set_language(
    State(state): State<AppState>,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    let next = safe_next(params.get("next"));
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
