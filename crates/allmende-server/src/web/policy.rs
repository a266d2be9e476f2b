//! The federation policy page for the node's operators: blocked, allowed
//! and trusted domains, with the audit log of every change. The same as
//! `allmende policy list|add|remove`.

use allmende_store::PolicyKind;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use chrono::{DateTime, Utc};
use maud::{html, Markup};

use super::context::Ctx;
use super::error::PageError;
use super::forms::{csrf_field, error_summary, value, Field, FormErrors, FormValues};
use super::layout::page;
use super::notice::{redirect, Notice};
use super::posted::SignedForm;
use crate::state::AppState;
use crate::usecases::{policy, UseCaseError};

fn kind_label(ctx: &Ctx, kind: PolicyKind) -> &'static str {
    match kind {
        PolicyKind::Block => ctx.t("Gesperrt", "Blocked"),
        PolicyKind::Allow => ctx.t("Erlaubt", "Allowed"),
        PolicyKind::Trust => ctx.t("Vertrauenswürdig", "Trusted"),
    }
}

fn kind_hint(ctx: &Ctx, kind: PolicyKind) -> &'static str {
    match kind {
        PolicyKind::Block => ctx.t(
            "Nichts wird von dort angenommen, dort abgerufen oder dorthin gesendet.",
            "Nothing is accepted from, fetched from or sent to it.",
        ),
        PolicyKind::Allow => ctx.t(
            "Im Modus „nur erlaubte Domains“ föderiert der Knoten nur mit diesen.",
            "In allow-list mode the node federates with these only.",
        ),
        PolicyKind::Trust => ctx.t(
            "Organisationen dort werden ohne Bestätigung zu Folgenden (wo die Organisation das so eingestellt hat).",
            "Organizations there become followers without approval (where the organization chose so).",
        ),
    }
}

fn when(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

async fn policy_page(
    ctx: &Ctx,
    state: &AppState,
    values: &FormValues,
    errors: &FormErrors,
) -> Result<Markup, PageError> {
    let (entries, log) = policy::overview(&state.store).await?;
    let kinds: Vec<(&str, &str)> = PolicyKind::ALL
        .iter()
        .map(|k| (k.slug(), kind_label(ctx, *k)))
        .collect();
    Ok(page(
        ctx,
        ctx.t(
            "Betrieb: Föderationsregeln",
            "Operations: federation policy",
        ),
        html! {
            (error_summary(ctx, errors))
            p {
                @if state.federation.policy().allowlist_only() {
                    strong { (ctx.t("Modus: nur erlaubte Domains.", "Mode: allowed domains only.")) }
                    " " (ctx.t("Dieser Knoten föderiert nur mit den erlaubten Domains (Einstellung federation_allowlist_only).", "This node federates only with the allowed domains (setting federation_allowlist_only)."))
                } @else {
                    strong { (ctx.t("Modus: offen.", "Mode: open.")) }
                    " " (ctx.t("Dieser Knoten föderiert mit allen Domains außer den gesperrten.", "This node federates with every domain except blocked ones."))
                }
            }
            @for kind in PolicyKind::ALL {
                section aria-labelledby={ "policy-" (kind.slug()) } {
                    h2 id={ "policy-" (kind.slug()) } { (kind_label(ctx, kind)) }
                    p.hint { (kind_hint(ctx, kind)) }
                    @let listed: Vec<_> = entries.iter().filter(|e| e.kind == kind).collect();
                    @if listed.is_empty() {
                        p { (ctx.t("Keine Einträge.", "No entries.")) }
                    } @else {
                        ul.relations {
                            @for e in listed {
                                li {
                                    code { (e.domain) }
                                    @if !e.note.is_empty() { " – " (e.note) }
                                    " "
                                    form.inline method="post" action="/admin/policy/remove" {
                                        (csrf_field(ctx))
                                        input type="hidden" name="domain" value=(e.domain);
                                        input type="hidden" name="kind" value=(kind.slug());
                                        button.link type="submit" aria-label={ (ctx.t("Entfernen: ", "Remove: ")) (e.domain) } { (ctx.t("Entfernen", "Remove")) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            section aria-labelledby="policy-add" {
                h2 #policy-add { (ctx.t("Eintrag hinzufügen", "Add an entry")) }
                form.stacked method="post" action="/admin/policy" {
                    (csrf_field(ctx))
                    (Field::new("domain", ctx.t("Domain", "Domain"))
                        .hint(ctx.t("z. B. example.org (mit allen Subdomains) oder host:port", "e.g. example.org (with all subdomains) or host:port"))
                        .required()
                        .input(ctx, "text", values, errors))
                    (Field::new("kind", ctx.t("Liste", "List")).required().select(ctx, &kinds, values, errors))
                    (Field::new("note", ctx.t("Begründung (für das Protokoll)", "Reason (for the log)")).input(ctx, "text", values, errors))
                    button.kern-btn.kern-btn--primary type="submit" { span.kern-label { (ctx.t("Hinzufügen", "Add")) } }
                }
            }
            section aria-labelledby="policy-log" {
                h2 #policy-log { (ctx.t("Protokoll der Änderungen", "Log of changes")) }
                @if log.is_empty() {
                    p { (ctx.t("Noch keine Änderungen.", "No changes yet.")) }
                } @else {
                    div.table-scroll role="region" tabindex="0" aria-label=(ctx.t("Tabelle, seitlich verschiebbar", "Table, scrolls sideways")) { table.kern-table {
                        caption { (ctx.t("Die letzten 100 Änderungen, neueste zuerst", "The latest 100 changes, newest first")) }
                        thead { tr {
                            th scope="col" { (ctx.t("Zeit", "Time")) }
                            th scope="col" { (ctx.t("Wer", "Who")) }
                            th scope="col" { (ctx.t("Änderung", "Change")) }
                            th scope="col" { (ctx.t("Domain", "Domain")) }
                            th scope="col" { (ctx.t("Begründung", "Reason")) }
                        } }
                        tbody {
                            @for a in &log {
                                tr {
                                    td { (when(a.at)) }
                                    td { (a.actor) }
                                    td { (if a.action == "add" { ctx.t("hinzugefügt zu", "added to") } else { ctx.t("entfernt aus", "removed from") }) " " (kind_label(ctx, a.kind)) }
                                    td { code { (a.domain) } }
                                    td { (a.note) }
                                }
                            }
                        }
                    } }
                }
            }
        },
    ))
}

/// `GET /admin/policy`
pub async fn show(ctx: Ctx, State(state): State<AppState>) -> Result<Html<String>, PageError> {
    ctx.require_operator()?;
    Ok(Html(
        policy_page(&ctx, &state, &FormValues::new(), &FormErrors::default())
            .await?
            .into_string(),
    ))
}

/// `POST /admin/policy`: adds an entry.
pub async fn add(
    State(state): State<AppState>,
    SignedForm {
        ctx,
        signed_in,
        values,
    }: SignedForm,
) -> Result<Response, PageError> {
    ctx.require_operator()?;
    let result = policy::add(
        &state,
        signed_in.user.email.as_str(),
        &value(&values, "domain").unwrap_or_default(),
        &value(&values, "kind").unwrap_or_default(),
        &value(&values, "note").unwrap_or_default(),
    )
    .await;
    match result {
        Ok(_) => Ok(redirect("/admin/policy", Notice::PolicyChanged)),
        Err(UseCaseError::Invalid(errors)) => {
            let errors = FormErrors::from_validation(&ctx, &errors, |field| match field {
                "domain" => ctx.t("Domain", "Domain").to_owned(),
                "kind" => ctx.t("Liste", "List").to_owned(),
                _ => ctx.t("Begründung", "Reason").to_owned(),
            });
            let body = policy_page(&ctx, &state, &values, &errors).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(body.into_string())).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

/// `POST /admin/policy/remove`
pub async fn remove(
    State(state): State<AppState>,
    SignedForm {
        ctx,
        signed_in,
        values,
    }: SignedForm,
) -> Result<Response, PageError> {
    ctx.require_operator()?;
    policy::remove(
        &state,
        signed_in.user.email.as_str(),
        &value(&values, "domain").unwrap_or_default(),
        &value(&values, "kind").unwrap_or_default(),
    )
    .await?;
    Ok(redirect("/admin/policy", Notice::PolicyChanged))
}
