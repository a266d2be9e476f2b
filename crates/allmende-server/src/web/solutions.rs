//! Solution pages: the form fields and the detail view.

use allmende_domain::solution::LocalParameterInput;
use allmende_domain::{
    Maturity, Organization, Solution, SolutionInput, SolutionKind, ValidationError,
};
use maud::{html, Markup};

use super::context::Ctx;
use super::fields::*;
use super::forms::{lines, rows, set, value, Field, FormErrors, FormValues};
use super::items::ItemPages;
use super::layout::text_block;

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
            used_by: lines(v, "used_by"),
            local_parameters: rows(v, "local_parameters")
                .into_iter()
                .map(|row| {
                    let mut parts = row
                        .splitn(3, '|')
                        .map(|p| p.trim().to_owned())
                        .map(|p| (!p.is_empty()).then_some(p));
                    LocalParameterInput {
                        name: parts.next().flatten(),
                        description: parts.next().flatten(),
                        example: parts.next().flatten(),
                    }
                })
                .collect(),
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
        v.insert("used_by".into(), i.used_by.join("\n"));
        let params: Vec<String> = i
            .local_parameters
            .iter()
            .map(|p| {
                [&p.name, &p.description, &p.example]
                    .iter()
                    .map(|x| x.as_deref().unwrap_or_default().to_owned())
                    .collect::<Vec<_>>()
                    .join(" | ")
            })
            .collect();
        v.insert("local_parameters".into(), params.join("\n"));
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
            "used_by" => ctx.t("Im Einsatz bei", "In use at"),
            "local_parameters" => ctx.t("Lokale Parameter", "Local parameters"),
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
            (Field::new("title", ctx.t("Titel", "Title")).required().input(ctx, "text", v, e))
            (Field::new("kind", ctx.t("Art", "Kind")).required().select(ctx, &kinds, v, e))
            (Field::new("summary", ctx.t("Kurzbeschreibung", "Summary")).textarea(ctx, 2, v, e))
            (Field::new("body", ctx.t("Beschreibung", "Description")).textarea(ctx, 8, v, e))
            (Field::new("licence", ctx.t("Lizenz", "Licence")).hint(ctx.t("SPDX-Ausdruck, z. B. EUPL-1.2 oder CC-BY-4.0", "SPDX expression, e.g. EUPL-1.2 or CC-BY-4.0")).input(ctx, "text", v, e))
            (Field::new("maturity", ctx.t("Reifegrad", "Maturity")).required().select(ctx, &maturities, v, e))
            (Field::new("repository_url", ctx.t("Quellcode (Adresse)", "Source code (address)")).input(ctx, "url", v, e))
            (Field::new("used_by", ctx.t("Im Einsatz bei", "In use at")).hint(ctx.t("Organisationen, eine pro Zeile", "Organizations, one per line")).textarea(ctx, 2, v, e))
            (Field::new("local_parameters", ctx.t("Lokale Parameter", "Local parameters")).hint(ctx.t("Was Nachnutzende selbst festlegen müssen, einer pro Zeile: Name | Beschreibung | Beispiel", "What adopters must set themselves, one per line: Name | Description | Example")).textarea(ctx, 3, v, e))
            (themenfeld_field(ctx, v, e))
            (leika_field(ctx, v, e))
            (ozg_field(ctx, v, e))
            (Field::new("publiccode_yml", "publiccode.yml").hint(ctx.t("Inhalt der publiccode.yml, falls vorhanden", "Contents of the publiccode.yml, if there is one")).textarea(ctx, 6, v, e))
            (contact_fields(ctx, v, e))
            (links_field(ctx, v, e))
        }
    }

    fn badges(ctx: &Ctx, s: &Self) -> Markup {
        html! {
            span.badge { (ctx.label(s.content.kind)) }
            span.badge { (ctx.label(s.content.maturity)) }
            @if let Some(l) = &s.content.licence { (l) }
        }
    }

    fn detail(ctx: &Ctx, s: &Self, _org: &Organization) -> Markup {
        let c = &s.content;
        html! {
            @if let Some(x) = &c.summary { p { strong { (x) } } }
            dl.facts {
                dt { (ctx.t("Art", "Kind")) } dd { (ctx.label(c.kind)) }
                dt { (ctx.t("Reifegrad", "Maturity")) } dd { (ctx.label(c.maturity)) }
                @if let Some(l) = &c.licence { dt { (ctx.t("Lizenz", "Licence")) } dd { code { (l) } } }
                @if let Some(r) = &c.repository_url { dt { (ctx.t("Quellcode", "Source code")) } dd { a href=(r) rel="noopener" { (r) } } }
                @if !c.used_by.is_empty() { dt { (ctx.t("Im Einsatz bei", "In use at")) } dd { (c.used_by.join(", ")) } }
                (shared_facts(ctx, c.themenfeld, &c.leika_keys, &c.ozg_ids))
            }
            @if let Some(b) = &c.body { h2 { (ctx.t("Beschreibung", "Description")) } (text_block(b)) }
            @if !c.local_parameters.is_empty() {
                h2 { (ctx.t("Was Nachnutzende festlegen müssen", "What adopters must set")) }
                table {
                    thead { tr { th scope="col" { (ctx.t("Parameter", "Parameter")) } th scope="col" { (ctx.t("Beschreibung", "Description")) } th scope="col" { (ctx.t("Beispiel", "Example")) } } }
                    tbody { @for p in &c.local_parameters { tr { td { (p.name) } td { (p.description.as_deref().unwrap_or("")) } td { (p.example.as_deref().unwrap_or("")) } } } }
                }
            }
            @if let Some(y) = &c.publiccode_yml { h2 { "publiccode.yml" } pre { code { (y) } } }
            (contact_and_links(ctx, c.contact.as_ref(), &c.links))
        }
    }
}
