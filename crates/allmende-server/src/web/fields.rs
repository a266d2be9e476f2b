//! Form fields and facts that projects, questions and solutions share:
//! Themenfeld, LeiKa keys, OZG ids, contact person and links.

use allmende_domain::text::LinkInput;
use allmende_domain::{
    Contact, ContactInput, LeikaKey, Link, OzgId, Problem, Themenfeld, ValidationError,
};
use maud::{html, Markup};

use super::context::Ctx;
use super::forms::{lines, rows, set, value, Field, FormErrors, FormValues};

pub fn themenfeld_field(ctx: &Ctx, values: &FormValues, errors: &FormErrors) -> Markup {
    let options: Vec<(&str, &str)> = Themenfeld::ALL
        .iter()
        .map(|t| (t.slug(), ctx.label(*t)))
        .collect();
    Field::new("themenfeld", ctx.t("OZG-Themenfeld", "OZG topic field"))
        .select(ctx, &options, values, errors)
}

pub fn leika_field(ctx: &Ctx, values: &FormValues, errors: &FormErrors) -> Markup {
    Field::new("leika_keys", ctx.t("LeiKa-Schlüssel", "LeiKa keys"))
        .hint(ctx.t(
            "14 Ziffern, einer pro Zeile, z. B. 99041006017000 (Hundesteuer Anmeldung)",
            "14 digits, one per line, e.g. 99041006017000 (dog tax registration)",
        ))
        .textarea(ctx, 2, values, errors)
}

pub fn ozg_field(ctx: &Ctx, values: &FormValues, errors: &FormErrors) -> Markup {
    Field::new("ozg_ids", ctx.t("OZG-Leistungs-IDs", "OZG service ids"))
        .hint(ctx.t(
            "Ganze Zahlen, durch Komma oder Zeilenumbruch getrennt",
            "Whole numbers, separated by commas or new lines",
        ))
        .textarea(ctx, 2, values, errors)
}

pub fn contact_fields(ctx: &Ctx, values: &FormValues, errors: &FormErrors) -> Markup {
    html! {
        fieldset {
            legend { (ctx.t("Ansprechperson", "Contact person")) }
            (Field::new("contact_name", ctx.t("Name", "Name")).input(ctx, "text", values, errors))
            (Field::new("contact_role", ctx.t("Funktion", "Role")).input(ctx, "text", values, errors))
            (Field::new("contact_email", ctx.t("E-Mail", "E-mail")).input(ctx, "email", values, errors))
            (Field::new("contact_phone", ctx.t("Telefon", "Phone")).input(ctx, "text", values, errors))
        }
    }
}

pub fn links_field(ctx: &Ctx, values: &FormValues, errors: &FormErrors) -> Markup {
    Field::new("links", ctx.t("Links", "Links"))
        .hint(ctx.t(
            "Einer pro Zeile: Titel | https://…  oder nur die Adresse",
            "One per line: Title | https://…  or just the address",
        ))
        .textarea(ctx, 3, values, errors)
}

pub fn ozg_from_form(values: &FormValues) -> Result<Vec<u32>, ValidationError> {
    lines(values, "ozg_ids")
        .iter()
        .enumerate()
        .map(|(i, v)| {
            v.parse::<u32>()
                .map_err(|_| Problem::OzgId.at(format!("ozg_ids[{i}]")))
        })
        .collect()
}

pub fn contact_from_form(values: &FormValues) -> Option<ContactInput> {
    let c = ContactInput {
        name: value(values, "contact_name"),
        role: value(values, "contact_role"),
        email: value(values, "contact_email"),
        phone: value(values, "contact_phone"),
    };
    (!c.is_empty()).then_some(c)
}

pub fn links_from_form(values: &FormValues) -> Vec<LinkInput> {
    rows(values, "links")
        .into_iter()
        .map(|row| match row.rsplit_once('|') {
            Some((title, url)) => LinkInput {
                title: Some(title.trim().to_owned()),
                url: url.trim().to_owned(),
            },
            None => LinkInput {
                title: None,
                url: row,
            },
        })
        .collect()
}

/// Fills the shared fields of a form from raw input.
pub fn shared_to_form(
    values: &mut FormValues,
    themenfeld: Option<&String>,
    leika: &[String],
    ozg: &[u32],
    contact: Option<&ContactInput>,
    links: &[LinkInput],
) {
    set(values, "themenfeld", themenfeld);
    values.insert("leika_keys".into(), leika.join("\n"));
    values.insert(
        "ozg_ids".into(),
        ozg.iter()
            .map(u32::to_string)
            .collect::<Vec<_>>()
            .join(", "),
    );
    if let Some(c) = contact {
        set(values, "contact_name", c.name.as_ref());
        set(values, "contact_role", c.role.as_ref());
        set(values, "contact_email", c.email.as_ref());
        set(values, "contact_phone", c.phone.as_ref());
    }
    let links: Vec<String> = links
        .iter()
        .map(|l| match &l.title {
            Some(t) if *t != l.url => format!("{t} | {}", l.url),
            _ => l.url.clone(),
        })
        .collect();
    values.insert("links".into(), links.join("\n"));
}

pub fn shared_label(ctx: &Ctx, field: &str) -> Option<&'static str> {
    Some(match field {
        "themenfeld" => ctx.t("OZG-Themenfeld", "OZG topic field"),
        "leika_keys" => ctx.t("LeiKa-Schlüssel", "LeiKa keys"),
        "ozg_ids" => ctx.t("OZG-Leistungs-IDs", "OZG service ids"),
        "contact_name" => ctx.t("Name der Ansprechperson", "Contact name"),
        "contact_role" => ctx.t("Funktion der Ansprechperson", "Contact role"),
        "contact_email" => ctx.t("E-Mail der Ansprechperson", "Contact e-mail"),
        "contact_phone" => ctx.t("Telefon der Ansprechperson", "Contact phone"),
        "links" => ctx.t("Links", "Links"),
        "title" => ctx.t("Titel", "Title"),
        "summary" => ctx.t("Kurzbeschreibung", "Summary"),
        "body" => ctx.t("Beschreibung", "Description"),
        _ => return None,
    })
}

/// Facts shared by the item types, as rows of a `dl.facts`.
pub fn shared_facts(
    ctx: &Ctx,
    themenfeld: Option<Themenfeld>,
    leika: &[LeikaKey],
    ozg: &[OzgId],
) -> Markup {
    html! {
        @if let Some(t) = themenfeld { div.kern-description-list-item { dt.kern-description-list-item__key { (ctx.t("Themenfeld", "Topic field")) } dd.kern-description-list-item__value { (ctx.label(t)) } } }
        @if !leika.is_empty() {
            div.kern-description-list-item { dt.kern-description-list-item__key { (ctx.t("LeiKa-Schlüssel", "LeiKa keys")) }
            dd.kern-description-list-item__value { @for (i, k) in leika.iter().enumerate() { @if i > 0 { ", " } a href={ "/services/leika:" (k) } { code { (k) } } } } }
        }
        @if !ozg.is_empty() {
            div.kern-description-list-item { dt.kern-description-list-item__key { (ctx.t("OZG-Leistungen", "OZG services")) }
            dd.kern-description-list-item__value { @for (i, k) in ozg.iter().enumerate() { @if i > 0 { ", " } a href={ "/services/ozg:" (k) } { (k) } } } }
        }
    }
}

pub fn contact_and_links(ctx: &Ctx, contact: Option<&Contact>, links: &[Link]) -> Markup {
    html! {
        @if let Some(c) = contact {
            h2 { (ctx.t("Ansprechperson", "Contact")) }
            p {
                (c.name)
                @if let Some(r) = &c.role { ", " (r) }
                @if let Some(e) = &c.email { br; a href={ "mailto:" (e) } { (e) } }
                @if let Some(p) = &c.phone { br; a href={ "tel:" (p.replace(' ', "")) } { (p) } }
            }
        }
        @if !links.is_empty() {
            h2 { (ctx.t("Links", "Links")) }
            ul { @for l in links { li { a href=(l.url) rel="noopener" { (l.title) } } } }
        }
    }
}

/// The hint under a text field that takes Markdown.
pub const MARKDOWN_HINT_DE: &str = "Formatierung mit Markdown: **fett**, *kursiv*, [Linktext](https://…), Listen mit „- “, Überschriften mit „# “.";
pub const MARKDOWN_HINT_EN: &str = "Formatting with Markdown: **bold**, *italic*, [link text](https://…), lists with “- ”, headings with “# ”.";
