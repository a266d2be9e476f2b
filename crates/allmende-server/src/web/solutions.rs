//! Solution pages: the form fields and the detail view.

use allmende_domain::publiccode::Publiccode;
use allmende_domain::solution::LocalParameterInput;
use allmende_domain::solution::{LocalParameter, PARAMETERS_MAX};
use allmende_domain::{Adoption, AdoptionInput, AdoptionStage, Item};
use allmende_domain::{
    Maturity, Organization, Solution, SolutionInput, SolutionKind, ValidationError,
};
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use maud::{html, Markup};

use super::error::PageError;
use super::forms::csrf_field;
use super::posted::SignedForm;
use crate::state::AppState;
use crate::usecases::{adoptions, UseCaseError};

use super::context::Ctx;
use super::fields::*;
use super::forms::{lines, set, value, Field, FormErrors, FormValues};
use super::items::ItemPages;
use super::layout::content_block;
use super::notice::{redirect, Notice};
use super::ui::{badge_item, Tone};

impl ItemPages for Solution {
    fn plural(ctx: &Ctx) -> &'static str {
        ctx.t("Lösungen", "Solutions")
    }

    fn new_title(ctx: &Ctx) -> &'static str {
        ctx.t("Neue Lösung", "New solution")
    }

    fn input_from_form(v: &FormValues) -> Result<SolutionInput, ValidationError> {
        Ok(SolutionInput {
            title: value(v, "title"),
            summary: value(v, "summary"),
            body: value(v, "body"),
            kind: value(v, "kind"),
            licence: value(v, "licence"),
            maturity: value(v, "maturity"),
            repository_url: value(v, "repository_url"),
            publiccode_yml: value(v, "publiccode_yml"),
            used_by: Vec::new(),
            local_parameters: parameters_from_form(v),
            variant_of: value(v, "variant_of"),
            themenfeld: value(v, "themenfeld"),
            leika_keys: lines(v, "leika_keys"),
            ozg_ids: ozg_from_form(v)?,
            contact: contact_from_form(v),
            links: links_from_form(v),
        })
    }

    fn form_from_input(i: &SolutionInput) -> FormValues {
        let mut v = FormValues::new();
        set(&mut v, "title", i.title.as_ref());
        set(&mut v, "summary", i.summary.as_ref());
        set(&mut v, "body", i.body.as_ref());
        set(&mut v, "kind", i.kind.as_ref());
        set(&mut v, "licence", i.licence.as_ref());
        set(&mut v, "maturity", i.maturity.as_ref());
        set(&mut v, "repository_url", i.repository_url.as_ref());
        set(&mut v, "publiccode_yml", i.publiccode_yml.as_ref());
        set(&mut v, "variant_of", i.variant_of.as_ref());
        for (n, p) in i.local_parameters.iter().enumerate() {
            set(&mut v, &format!("param_name_{n}"), p.name.as_ref());
            set(
                &mut v,
                &format!("param_description_{n}"),
                p.description.as_ref(),
            );
            set(&mut v, &format!("param_example_{n}"), p.example.as_ref());
            if p.required {
                v.insert(format!("param_required_{n}"), "1".into());
            }
        }
        shared_to_form(
            &mut v,
            i.themenfeld.as_ref(),
            &i.leika_keys,
            &i.ozg_ids,
            i.contact.as_ref(),
            &i.links,
        );
        v
    }

    fn field_label(ctx: &Ctx, field: &str) -> &'static str {
        shared_label(ctx, field).unwrap_or_else(|| match field {
            "kind" => ctx.t("Art", "Kind"),
            "licence" => ctx.t("Lizenz", "Licence"),
            "maturity" => ctx.t("Reifegrad", "Maturity"),
            "repository_url" => ctx.t("Quellcode", "Source code"),
            "publiccode_yml" => "publiccode.yml",
            "local_parameters" => ctx.t("Lokale Parameter", "Local parameters"),
            "variant_of" => ctx.t("Variante von", "Variant of"),
            f if f.starts_with("param_") => ctx.t("Lokaler Parameter", "Local parameter"),
            _ => ctx.t("Eingabe", "Input"),
        })
    }

    fn form_fields(ctx: &Ctx, v: &FormValues, e: &FormErrors) -> Markup {
        let kinds: Vec<(&str, &str)> = SolutionKind::ALL
            .iter()
            .map(|k| (k.slug(), ctx.label(*k)))
            .collect();
        let maturities: Vec<(&str, &str)> = Maturity::ALL
            .iter()
            .map(|m| (m.slug(), ctx.label(*m)))
            .collect();
        html! {
            @if !v.contains_key("title") {
                p { a href="/solutions/import" { (ctx.t("Software mit publiccode.yml? Angaben aus der Datei übernehmen", "Software with a publiccode.yml? Take the details from the file")) } }
            }
            (Field::new("title", ctx.t("Titel", "Title")).required().input(ctx, "text", v, e))
            (Field::new("kind", ctx.t("Art", "Kind")).required().select(ctx, &kinds, v, e))
            (Field::new("summary", ctx.t("Kurzbeschreibung", "Summary")).textarea(ctx, 2, v, e))
            (Field::new("body", ctx.t("Beschreibung", "Description")).hint(ctx.t(super::fields::MARKDOWN_HINT_DE, super::fields::MARKDOWN_HINT_EN)).textarea(ctx, 8, v, e))
            (Field::new("licence", ctx.t("Lizenz", "Licence")).hint(ctx.t("SPDX-Ausdruck, z. B. EUPL-1.2 oder CC-BY-4.0", "SPDX expression, e.g. EUPL-1.2 or CC-BY-4.0")).input(ctx, "text", v, e))
            (Field::new("maturity", ctx.t("Reifegrad", "Maturity")).required().select(ctx, &maturities, v, e))
            (Field::new("repository_url", ctx.t("Quellcode (Adresse)", "Source code (address)")).input(ctx, "url", v, e))
            (parameter_rows(ctx, v, e))
            (Field::new("variant_of", ctx.t("Variante von (Adresse der Originallösung)", "Variant of (address of the original solution)")).hint(ctx.t("Leer lassen, wenn die Lösung keine Anpassung einer anderen ist. Einfacher: beim Original „Variante anlegen“ wählen.", "Leave empty unless the solution adapts another. Easier: choose “Create a variant” on the original.")).input(ctx, "url", v, e))
            (themenfeld_field(ctx, v, e))
            (leika_field(ctx, v, e))
            (ozg_field(ctx, v, e))
            (Field::new("publiccode_yml", "publiccode.yml").hint(ctx.t("Inhalt der publiccode.yml, falls vorhanden; sie wird nach dem Standard (Version 0.x) geprüft", "Contents of the publiccode.yml, if there is one; it is checked against the standard (version 0.x)")).textarea(ctx, 6, v, e))
            (contact_fields(ctx, v, e))
            (links_field(ctx, v, e))
        }
    }

    fn badges(ctx: &Ctx, s: &Self) -> Markup {
        html! {
            (badge_item(Tone::Neutral, ctx.label(s.content.kind)))
            (badge_item(Tone::Info, ctx.label(s.content.maturity)))
            @if let Some(l) = &s.content.licence { (badge_item(Tone::Neutral, l.to_string())) }
        }
    }

    fn detail(ctx: &Ctx, s: &Self, _org: &Organization) -> Markup {
        let c = &s.content;
        html! {
            @if let Some(x) = &c.summary { p.lead lang=[ctx.content_lang()] { (x) } }
            dl.facts.kern-description-list {
                div.kern-description-list-item { dt.kern-description-list-item__key { (ctx.t("Art", "Kind")) } dd.kern-description-list-item__value { (ctx.label(c.kind)) } }
                div.kern-description-list-item { dt.kern-description-list-item__key { (ctx.t("Reifegrad", "Maturity")) } dd.kern-description-list-item__value { (ctx.label(c.maturity)) } }
                @if let Some(l) = &c.licence { div.kern-description-list-item { dt.kern-description-list-item__key { (ctx.t("Lizenz", "Licence")) } dd.kern-description-list-item__value { code { (l) } } } }
                @if let Some(r) = &c.repository_url { div.kern-description-list-item { dt.kern-description-list-item__key { (ctx.t("Quellcode", "Source code")) } dd.kern-description-list-item__value { a href=(r) rel="noopener" { (r) } } } }
                (shared_facts(ctx, c.themenfeld, &c.leika_keys, &c.ozg_ids))
            }
            @if let Some(b) = &c.body { h2 { (ctx.t("Beschreibung", "Description")) } (content_block(ctx, b, 3)) }
            @if !c.local_parameters.is_empty() {
                h2 { (ctx.t("Was Nachnutzende festlegen müssen", "What adopters must set")) }
                (parameter_table(ctx, &c.local_parameters))
            }
            @if let Some(y) = &c.publiccode_yml { (publiccode_facts(ctx, s, y)) }
            (contact_and_links(ctx, c.contact.as_ref(), &c.links))
        }
    }

    fn form_field(field: &str) -> Option<String> {
        row_field(field, "local_parameters", "param_")
    }

    fn related<'a>(
        ctx: &'a Ctx,
        state: &'a AppState,
        item: &'a Self,
        object_id: &'a str,
    ) -> impl std::future::Future<Output = Result<Markup, PageError>> + Send + 'a {
        related(ctx, state, item, object_id)
    }
}

/// Empty rows offered after the filled ones, for new parameters.
const SPARE_ROWS: usize = 2;

/// The rows `param_*_{n}` of the form, up to the last one filled in, so
/// that an error's index is the row's (empty rows between are left out by
/// the validation).
fn parameters_from_form(v: &FormValues) -> Vec<LocalParameterInput> {
    let mut rows: Vec<LocalParameterInput> = (0..PARAMETERS_MAX + SPARE_ROWS)
        .map(|n| LocalParameterInput {
            name: value(v, &format!("param_name_{n}")),
            description: value(v, &format!("param_description_{n}")),
            example: value(v, &format!("param_example_{n}")),
            required: v.contains_key(&format!("param_required_{n}")),
        })
        .collect();
    while rows
        .last()
        .is_some_and(|p| p.name.is_none() && p.description.is_none() && p.example.is_none())
    {
        rows.pop();
    }
    rows
}

/// The local parameters as rows of inputs: the filled ones and two empty.
fn parameter_rows(ctx: &Ctx, v: &FormValues, e: &FormErrors) -> Markup {
    let filled = (0..PARAMETERS_MAX + SPARE_ROWS)
        .rev()
        .find(|n| {
            ["name", "description", "example"]
                .iter()
                .any(|f| value(v, &format!("param_{f}_{n}")).is_some())
        })
        .map_or(0, |n| n + 1);
    let rows = (filled + SPARE_ROWS).min(PARAMETERS_MAX);
    let error = e.get("local_parameters");
    html! {
        fieldset #local_parameters aria-describedby="local_parameters-hint" {
            legend { (ctx.t("Lokale Parameter", "Local parameters")) }
            p.hint #local_parameters-hint { (ctx.t(
                "Was Nachnutzende selbst festlegen müssen, z. B. Steuersätze oder das zuständige Amt. Eine Zeile je Parameter; leere Zeilen werden ignoriert. Nach dem Speichern erscheinen weitere leere Zeilen.",
                "What adopters must set themselves, e.g. tax rates or the responsible office. One row per parameter; empty rows are ignored. More empty rows appear after saving.")) }
            @if let Some(msg) = error { p.error-message { (msg) } }
            @for n in 0..rows {
                div.parameter-row role="group" aria-label={ (ctx.t("Parameter", "Parameter")) " " (n + 1) } {
                    @for (field, label) in [("name", ctx.t("Name", "Name")), ("description", ctx.t("Beschreibung", "Description")), ("example", ctx.t("Beispiel", "Example"))] {
                        @let id = format!("param_{field}_{n}");
                        @let error = e.get(&id);
                        label for=(id) { (label) " " (n + 1) }
                        @if let Some(msg) = error { span.error-message id={ (id) "-error" } { (msg) } }
                        input type="text" id=(id) name=(id) value=(v.get(&id).map(String::as_str).unwrap_or(""))
                            aria-invalid=[error.map(|_| "true")] aria-describedby=[error.map(|_| format!("{id}-error"))];
                    }
                    @let req = format!("param_required_{n}");
                    label.checkbox for=(req) {
                        input type="checkbox" id=(req) name=(req) value="1" checked[v.contains_key(&req)];
                        " " (ctx.t("Pflicht", "Required"))
                    }
                }
            }
        }
    }
}

fn parameter_table(ctx: &Ctx, params: &[LocalParameter]) -> Markup {
    html! {
        div.table-scroll role="region" tabindex="0" aria-label=(ctx.t("Tabelle, seitlich verschiebbar", "Table, scrolls sideways")) { table.kern-table {
            thead { tr {
                th scope="col" { (ctx.t("Parameter", "Parameter")) }
                th scope="col" { (ctx.t("Beschreibung", "Description")) }
                th scope="col" { (ctx.t("Beispiel", "Example")) }
                th scope="col" { (ctx.t("Pflicht", "Required")) }
            } }
            tbody { @for p in params { tr {
                td { (p.name) }
                td { (p.description.as_deref().unwrap_or("")) }
                td { (p.example.as_deref().unwrap_or("")) }
                td { (if p.required { ctx.t("ja", "yes") } else { ctx.t("nein", "no") }) }
            } } }
        } }
    }
}

/// The facts of a publiccode.yml, with the file itself behind a disclosure.
fn publiccode_facts(ctx: &Ctx, s: &Solution, text: &str) -> Markup {
    let lang = ctx.lang.code();
    html! {
        section aria-labelledby="publiccode-heading" {
            h2 #publiccode-heading { "publiccode.yml" }
            @match Publiccode::parse(text) {
                Ok(p) => {
                    dl.facts.kern-description-list {
                        div.kern-description-list-item { dt.kern-description-list-item__key { (ctx.t("Name", "Name")) } dd.kern-description-list-item__value { (p.name) } }
                        @if let Some(d) = p.description(lang) { div.kern-description-list-item { dt.kern-description-list-item__key { (ctx.t("Beschreibung", "Description")) } dd.kern-description-list-item__value lang=(d.language) { (d.short) } } }
                        div.kern-description-list-item { dt.kern-description-list-item__key { (ctx.t("Lizenz", "Licence")) } dd.kern-description-list-item__value { code { (p.licence) } } }
                        div.kern-description-list-item { dt.kern-description-list-item__key { (ctx.t("Entwicklungsstand", "Development status")) } dd.kern-description-list-item__value { (p.development_status) } }
                        div.kern-description-list-item { dt.kern-description-list-item__key { (ctx.t("Art der Software", "Software type")) } dd.kern-description-list-item__value { (p.software_type) } }
                        div.kern-description-list-item { dt.kern-description-list-item__key { (ctx.t("Plattformen", "Platforms")) } dd.kern-description-list-item__value { (p.platforms.join(", ")) } }
                        div.kern-description-list-item { dt.kern-description-list-item__key { (ctx.t("Wartung", "Maintenance")) } dd.kern-description-list-item__value { (p.maintenance) @if !p.maintainers.is_empty() { " (" (p.maintainers.join(", ")) ")" } } }
                        @if let Some(v) = &p.software_version { div.kern-description-list-item { dt.kern-description-list-item__key { (ctx.t("Version", "Version")) } dd.kern-description-list-item__value { (v) @if let Some(d) = &p.release_date { " (" (d) ")" } } } }
                        div.kern-description-list-item { dt.kern-description-list-item__key { (ctx.t("Quelle", "Source")) }
                        dd.kern-description-list-item__value.break {
                            @if p.url.starts_with("https://") || p.url.starts_with("http://") { a href=(p.url) rel="noopener" { (p.url) } } @else { (p.url) }
                        } }
                    }
                }
                Err(_) => { p { (ctx.t("Die Datei entspricht nicht dem Standard.", "The file does not follow the standard.")) } }
            }
            details {
                summary { (ctx.t("Datei anzeigen", "Show the file")) }
                pre { code { (text) } }
            }
            p { a href={ "/solutions/" (s.id) "/publiccode.yml" } download="publiccode.yml" { (ctx.t("publiccode.yml herunterladen (mit den Nachnutzenden als usedBy)", "Download publiccode.yml (with the adopters as usedBy)")) } }
        }
    }
}

async fn related(
    ctx: &Ctx,
    state: &AppState,
    s: &Solution,
    object_id: &str,
) -> Result<Markup, PageError> {
    let store = &state.store;
    let adoptions = adoptions::of_solution(store, object_id).await?;
    let orgs = super::items::org_map(state, adoptions.iter().map(|a| a.organization_id)).await?;
    let variants = adoptions::variants(store, ctx.viewer(), object_id).await?;
    let variant_orgs =
        super::items::org_map(state, variants.iter().map(|v| v.organization_id)).await?;
    let original = match &s.content.variant_of {
        Some(url) => adoptions::original(state, ctx.viewer(), url.as_str()).await?,
        None => None,
    };
    let own = match ctx.user() {
        Some(u) => adoptions::own(store, u.organization_id, object_id).await?,
        None => None,
    };
    let production = adoptions
        .iter()
        .filter(|a| a.content.stage == AdoptionStage::Production)
        .count();
    Ok(html! {
        @if let Some(url) = &s.content.variant_of {
            p.variant-of {
                (ctx.t("Variante von: ", "Variant of: "))
                @match &original {
                    Some((title, href)) => a href=(href) { (title) },
                    None => a href=(url) rel="noopener" { (url) },
                }
            }
        }
        section aria-labelledby="adopters-heading" {
            h2 #adopters-heading { (ctx.t("Im Einsatz bei", "In use at")) " (" (adoptions.len()) ")" }
            @if adoptions.is_empty() {
                p { (ctx.t("Noch hat keine Organisation erklärt, diese Lösung zu nutzen.", "No organization has declared that it uses this solution yet.")) }
            } @else {
                p { (adoptions.len()) " " (ctx.t("bestätigte Nachnutzungen, davon", "verified adoptions, of which")) " " (production) " " (ctx.t("im Produktivbetrieb. Jede Erklärung stammt von der Organisation selbst.", "in production. Each declaration comes from the organization itself.")) }
                ul.adopters {
                    @for a in &adoptions {
                        li {
                            @if let Some(org) = orgs.get(&a.organization_id) { (super::network::org_label(org)) } @else { (ctx.t("Unbekannte Organisation", "Unknown organization")) }
                            ": " (ctx.label(a.content.stage))
                            @if let Some(since) = a.content.since { ", " (ctx.t("seit ", "since ")) (super::layout::date(ctx, since)) }
                            @if let Some(v) = &a.content.version { ", " (ctx.t("Version ", "version ")) (v) }
                            @if let Some(n) = &a.content.note { br; span.note { (n) } }
                            @if !a.content.parameters.is_empty() {
                                details {
                                    summary { (ctx.t("Gewählte Parameter", "Chosen parameters")) }
                                    div.table-scroll role="region" tabindex="0" aria-label=(ctx.t("Tabelle, seitlich verschiebbar", "Table, scrolls sideways")) { table.kern-table {
                                        thead { tr { th scope="col" { (ctx.t("Parameter", "Parameter")) } th scope="col" { (ctx.t("Wert", "Value")) } } }
                                        tbody { @for p in &a.content.parameters { tr { td { (p.name) } td { (p.value) } } } }
                                    } }
                                }
                            }
                        }
                    }
                }
            }
            @if ctx.user().is_some() { (adoption_form(ctx, s, own.as_ref(), &FormValues::new(), &FormErrors::default(), true)) }
        }
        section aria-labelledby="variants-heading" {
            h2 #variants-heading { (ctx.t("Varianten", "Variants")) " (" (variants.len()) ")" }
            @if variants.is_empty() {
                p { (ctx.t("Noch keine Varianten.", "No variants yet.")) }
            } @else {
                ul { @for v in &variants { li {
                    a href={ "/solutions/" (v.id) } { (Solution::title(&v.content)) }
                    @if let Some(org) = variant_orgs.get(&v.organization_id) { " · " (super::network::org_label(org)) }
                } } }
            }
            @if ctx.user().is_some() {
                p { a.kern-btn.kern-btn--secondary href={ "/solutions/" (s.id) "/variant" } { span.kern-label { (ctx.t("Variante anlegen", "Create a variant")) } } }
            }
        }
    })
}

/// The form to declare, update or withdraw one's own use: under its own
/// h3 on the solution's page (`nested`), or alone on a page of its own.
fn adoption_form(
    ctx: &Ctx,
    s: &Solution,
    own: Option<&Adoption>,
    values: &FormValues,
    errors: &FormErrors,
    nested: bool,
) -> Markup {
    let mut v = values.clone();
    if v.is_empty() {
        if let Some(a) = own {
            let input = AdoptionInput::from(&a.content);
            set(&mut v, "stage", input.stage.as_ref());
            set(&mut v, "since", input.since.as_ref());
            set(&mut v, "version", input.version.as_ref());
            set(&mut v, "note", input.note.as_ref());
            for (n, p) in s.content.local_parameters.iter().enumerate() {
                if let Some(chosen) = a.content.parameters.iter().find(|c| c.name == p.name) {
                    v.insert(format!("value_{n}"), chosen.value.clone());
                }
            }
        }
    }
    let stages: Vec<(&str, &str)> = AdoptionStage::ALL
        .iter()
        .map(|st| (st.slug(), ctx.label(*st)))
        .collect();
    html! {
        @if nested {
            h3 { @if own.is_some() { (ctx.t("Ihre Nachnutzung", "Your adoption")) } @else { (ctx.t("Nutzen Sie diese Lösung?", "Do you use this solution?")) } }
        }
        (super::forms::error_summary(ctx, errors))
        form.stacked method="post" action={ "/solutions/" (s.id) "/adoption" } novalidate {
            (csrf_field(ctx))
            (Field::new("stage", ctx.t("Stand", "Stage")).required().select(ctx, &stages, &v, errors))
            (Field::new("since", ctx.t("Seit (JJJJ-MM-TT)", "Since (YYYY-MM-DD)")).input(ctx, "date", &v, errors))
            (Field::new("version", ctx.t("Genutzte Version", "Version in use")).input(ctx, "text", &v, errors))
            @for (n, p) in s.content.local_parameters.iter().enumerate() {
                @let id = format!("value_{n}");
                (Field::new(&id, &p.name).hint(if p.required {
                    ctx.t("Pflichtparameter: jede Nachnutzung muss ihn festlegen. Ihr Wert, wenn Sie ihn teilen möchten.", "Required parameter: every adopter must set it. Your value, if you want to share it.")
                } else {
                    ctx.t("Ihr Wert, wenn Sie ihn teilen möchten", "Your value, if you want to share it")
                }).input(ctx, "text", &v, errors))
            }
            (Field::new("note", ctx.t("Anmerkung", "Note")).textarea(ctx, 2, &v, errors))
            div.actions {
                button.kern-btn.kern-btn--primary type="submit" { span.kern-label { @if own.is_some() { (ctx.t("Nachnutzung aktualisieren", "Update adoption")) } @else { (ctx.t("Nachnutzung erklären", "Declare adoption")) } } }
            }
        }
        @if own.is_some() {
            form method="post" action={ "/solutions/" (s.id) "/adoption/withdraw" } {
                (csrf_field(ctx))
                button.kern-btn.kern-btn--danger type="submit" { span.kern-label { (ctx.t("Nachnutzung zurückziehen", "Withdraw adoption")) } }
            }
        }
    }
}

fn adoption_from_form(s: &Solution, v: &FormValues) -> AdoptionInput {
    AdoptionInput {
        stage: value(v, "stage"),
        since: value(v, "since"),
        version: value(v, "version"),
        parameters: s
            .content
            .local_parameters
            .iter()
            .enumerate()
            .map(|(n, p)| allmende_domain::adoption::ParameterValueInput {
                name: Some(p.name.clone()),
                value: value(v, &format!("value_{n}")),
            })
            .collect(),
        note: value(v, "note"),
    }
}

/// `POST /solutions/{id}/adoption`: declares or updates the signed-in
/// user's organization's use.
pub async fn declare(
    State(state): State<AppState>,
    Path(id): Path<String>,
    SignedForm {
        ctx,
        signed_in,
        values,
    }: SignedForm,
) -> Result<Response, PageError> {
    let id = super::items::parse_id(&id)?;
    let known = adoptions::known(&state, ctx.viewer(), id).await?;
    let input = adoption_from_form(&known.solution, &values);
    match adoptions::declare(&state, &signed_in.user, id, &input).await {
        Ok(_) => Ok(redirect(
            &format!("/solutions/{id}#adopters-heading"),
            Notice::AdoptionDeclared,
        )),
        Err(UseCaseError::Invalid(e)) => {
            let e = super::items::renamed(&e, |f| {
                row_field(f, "parameters", "")
                    .map(|v| format!("value_{}", v.rsplit('_').next().unwrap_or("0")))
            });
            let errors = FormErrors::from_validation(&ctx, &e, |f| match f {
                "stage" => ctx.t("Stand", "Stage").to_owned(),
                "since" => ctx.t("Seit", "Since").to_owned(),
                "version" => ctx.t("Version", "Version").to_owned(),
                "note" => ctx.t("Anmerkung", "Note").to_owned(),
                _ => ctx.t("Parameter", "Parameter").to_owned(),
            });
            let own =
                adoptions::own(&state.store, signed_in.user.organization_id, &known.ap_id).await?;
            let title = format!(
                "{}: {}",
                ctx.t("Nachnutzung", "Adoption"),
                Solution::title(&known.solution.content)
            );
            let body = super::layout::page(
                &ctx,
                &title,
                adoption_form(&ctx, &known.solution, own.as_ref(), &values, &errors, false),
            );
            Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(body.into_string())).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

/// `POST /solutions/{id}/adoption/withdraw`
pub async fn withdraw(
    State(state): State<AppState>,
    Path(id): Path<String>,
    SignedForm { signed_in, .. }: SignedForm,
) -> Result<Response, PageError> {
    let id = super::items::parse_id(&id)?;
    adoptions::withdraw(&state, &signed_in.user, id).await?;
    Ok(redirect(
        &format!("/solutions/{id}#adopters-heading"),
        Notice::AdoptionWithdrawn,
    ))
}

/// `GET /solutions/{id}/variant`: the form for a new solution that adapts
/// this one, filled with what it likely shares.
pub async fn variant_form(
    ctx: Ctx,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Markup, PageError> {
    ctx.require_user()?;
    let known = adoptions::known(&state, ctx.viewer(), super::items::parse_id(&id)?).await?;
    let c = &known.solution.content;
    let input = SolutionInput {
        title: Some(format!("{} ({})", c.title, ctx.t("Variante", "variant"))),
        kind: Some(c.kind.slug().into()),
        licence: c.licence.as_ref().map(ToString::to_string),
        themenfeld: c.themenfeld.map(|t| t.slug().into()),
        leika_keys: c.leika_keys.iter().map(ToString::to_string).collect(),
        variant_of: Some(known.ap_id.clone()),
        local_parameters: Solution::to_input(c).local_parameters,
        ..Default::default()
    };
    let title = format!(
        "{}: {}",
        ctx.t("Variante anlegen", "Create a variant"),
        c.title
    );
    Ok(super::items::form_page::<Solution>(
        &ctx,
        &title,
        "/solutions",
        &Solution::form_from_input(&input),
        &FormErrors::default(),
        &[],
    ))
}

/// `GET /solutions/{id}/publiccode.yml`: the file with the adopters known
/// here as `usedBy`, at a stable URL for catalogues.
pub async fn publiccode(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let text = adoptions::publiccode_export(&state, super::items::parse_id(&id)?).await?;
    Ok((
        [(header::CONTENT_TYPE, "application/yaml; charset=utf-8")],
        text,
    )
        .into_response())
}

/// `POST /solutions/import`: a publiccode.yml, pasted or fetched from its
/// address, fills the form for a new software solution.
pub async fn import(
    State(state): State<AppState>,
    SignedForm { ctx, values, .. }: SignedForm,
) -> Result<Response, PageError> {
    let title = ctx.t(
        "Neue Lösung aus publiccode.yml",
        "New solution from publiccode.yml",
    );
    let fail = |field: &str, problem: allmende_domain::Problem| {
        let e: allmende_domain::ValidationErrors = problem.at(field).into();
        let errors =
            FormErrors::from_validation(&ctx, &e, |f| Solution::field_label(&ctx, f).to_owned());
        let body = super::layout::page(&ctx, title, import_form(&ctx, &values, &errors));
        (StatusCode::UNPROCESSABLE_ENTITY, Html(body.into_string())).into_response()
    };
    let uploaded = value(&values, "publiccode_file");
    let pasted = value(&values, "publiccode_yml");
    let text = match (uploaded.or(pasted), value(&values, "publiccode_url")) {
        (Some(text), _) => text,
        (None, Some(url)) => match crate::usecases::publiccode::fetch(&state, &url).await {
            Ok(text) => text,
            Err(problem) => return Ok(fail("publiccode_url", problem)),
        },
        (None, None) => return Ok(fail("publiccode_yml", allmende_domain::Problem::Required)),
    };
    let input = crate::usecases::publiccode::to_input(&text);
    let form = Solution::form_from_input(&input);
    let errors = match Solution::validate(&input) {
        Ok(_) => FormErrors::default(),
        Err(e) => {
            FormErrors::from_validation(&ctx, &e, |f| Solution::field_label(&ctx, f).to_owned())
        }
    };
    Ok(Html(
        super::items::form_page::<Solution>(&ctx, title, "/solutions", &form, &errors, &[])
            .into_string(),
    )
    .into_response())
}

/// `GET /solutions/import`
pub async fn import_page(ctx: Ctx) -> Result<Markup, PageError> {
    ctx.require_user()?;
    let title = ctx.t(
        "Neue Lösung aus publiccode.yml",
        "New solution from publiccode.yml",
    );
    Ok(super::layout::page(
        &ctx,
        title,
        import_form(&ctx, &FormValues::new(), &FormErrors::default()),
    ))
}

fn import_form(ctx: &Ctx, v: &FormValues, e: &FormErrors) -> Markup {
    html! {
        (super::forms::error_summary(ctx, e))
        p { (ctx.t(
            "Übernehmen Sie Name, Beschreibung, Lizenz und Reifegrad aus der publiccode.yml Ihrer Software. Die Datei wird nach dem Standard geprüft; danach können Sie alles ergänzen.",
            "Take name, description, licence and maturity from your software's publiccode.yml. The file is checked against the standard; then you can complete everything.")) }
        form.stacked method="post" action="/solutions/import" enctype="multipart/form-data" novalidate {
            (csrf_field(ctx))
            (Field::new("publiccode_file", ctx.t("Datei hochladen", "Upload the file")).input(ctx, "file", &FormValues::new(), e))
            (Field::new("publiccode_url", ctx.t("… oder Adresse der Datei oder des Repositorys", "… or the address of the file or the repository")).hint(ctx.t("z. B. https://gitlab.opencode.de/gruppe/projekt (dann wird -/raw/HEAD/publiccode.yml geladen)", "e.g. https://gitlab.opencode.de/group/project (then -/raw/HEAD/publiccode.yml is loaded)")).input(ctx, "url", v, e))
            (Field::new("publiccode_yml", ctx.t("… oder Inhalt der Datei einfügen", "… or paste the file's contents")).textarea(ctx, 10, v, e))
            div.actions { button.kern-btn.kern-btn--primary type="submit" { span.kern-label { (ctx.t("Übernehmen", "Take over")) } } }
        }
    }
}

/// `local_parameters[2].name` → `param_name_2`: the input of a row.
fn row_field(field: &str, list: &str, prefix: &str) -> Option<String> {
    let rest = field.strip_prefix(list)?.strip_prefix('[')?;
    let (index, rest) = rest.split_once(']')?;
    let index: usize = index.parse().ok()?;
    let name = rest.strip_prefix('.').unwrap_or("name");
    Some(format!("{prefix}{name}_{index}"))
}
