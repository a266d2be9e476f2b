//! The account page: who you are, and your API tokens.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{html, Markup};

use super::context::Ctx;
use super::error::PageError;
use super::forms::{csrf_field, value, Field, FormErrors, FormValues};
use super::items::parse_id;
use super::layout::{page, timestamp};
use super::posted::SignedForm;
use crate::auth::token;
use crate::state::AppState;

async fn account_page(
    ctx: &Ctx,
    state: &AppState,
    new_token: Option<&str>,
) -> Result<Markup, PageError> {
    let s = ctx.require_user()?;
    let tokens = state
        .store
        .accounts()
        .tokens_of(s.user.id)
        .await
        .map_err(PageError::internal)?;
    Ok(page(
        ctx,
        ctx.t("Ihr Konto", "Your account"),
        html! {
            dl.facts {
                dt { (ctx.t("E-Mail", "E-mail")) } dd { (s.user.email) }
                dt { (ctx.t("Organisation", "Organization")) } dd { a href={ "/orgs/" (s.organization.handle) } { (s.organization.profile.name) } }
                dt { (ctx.t("Rolle", "Role")) } dd { (ctx.label(s.user.role)) }
            }
            h2 { (ctx.t("API-Tokens", "API tokens")) }
            @if let Some(t) = new_token {
                div.notice role="status" {
                    p { strong { (ctx.t("Neues Token – es wird nur jetzt angezeigt:", "New token – it is shown only now:")) } }
                    p { code { (t) } }
                }
            }
            p { (ctx.t("Mit einem Token können Skripte über die ", "With a token, scripts can publish for your organization through the ")) a href="/api/v1/openapi.json" { "JSON-API" } (ctx.t(" für Ihre Organisation veröffentlichen.", ".")) }
            @if !tokens.is_empty() {
                table {
                    thead { tr { th scope="col" { (ctx.t("Bezeichnung", "Label")) } th scope="col" { (ctx.t("Erstellt", "Created")) } th scope="col" { (ctx.t("Zuletzt benutzt", "Last used")) } th scope="col" { span.hint { (ctx.t("Aktion", "Action")) } } } }
                    tbody {
                        @for t in &tokens {
                            tr {
                                td { (t.label) }
                                td { (timestamp(ctx, t.created_at)) }
                                td { (t.last_used_at.map(|d| timestamp(ctx, d)).unwrap_or_else(|| "–".into())) }
                                td {
                                    form.inline method="post" action={ "/account/tokens/" (t.id) "/revoke" } {
                                        (csrf_field(ctx))
                                        button.link type="submit" aria-label={ (ctx.t("Widerrufen: ", "Revoke: ")) (t.label) } { (ctx.t("Widerrufen", "Revoke")) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            form.stacked method="post" action="/account/tokens" {
                (csrf_field(ctx))
                (Field::new("label", ctx.t("Bezeichnung des neuen Tokens", "Label of the new token")).hint(ctx.t("z. B. Import aus dem Ratsinformationssystem", "e.g. import from the council information system")).input(ctx, "text", &FormValues::new(), &FormErrors::default()))
                button type="submit" { (ctx.t("Token erstellen", "Create token")) }
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
    Ok(Redirect::to("/account").into_response())
}
