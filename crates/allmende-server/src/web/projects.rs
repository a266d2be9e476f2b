//! Project pages: the form fields and the detail view.

use allmende_domain::{Organization, Project, ProjectInput, ProjectStatus, ValidationError};
use maud::{html, Markup};

use super::context::Ctx;
use super::fields::*;
use super::forms::{lines, set, value, Field, FormErrors, FormValues};
use super::items::ItemPages;
use super::layout::{content_block, date};
use super::ui::{badge_item, Tone};

impl ItemPages for Project {
    fn plural(ctx: &Ctx) -> &'static str {
        ctx.t("Vorhaben", "Projects")
    }

    fn new_title(ctx: &Ctx) -> &'static str {
        ctx.t("Neues Vorhaben", "New project")
    }

    fn input_from_form(v: &FormValues) -> Result<ProjectInput, ValidationError> {
        Ok(ProjectInput {
            title: value(v, "title"),
            summary: value(v, "summary"),
            body: value(v, "body"),
            status: value(v, "status"),
            start_date: value(v, "start_date"),
            end_date: value(v, "end_date"),
            themenfeld: value(v, "themenfeld"),
            leika_keys: lines(v, "leika_keys"),
            ozg_ids: ozg_from_form(v)?,
            partners: lines(v, "partners"),
            funding_programme: value(v, "funding_programme"),
            seeking_partners: Some(v.get("seeking_partners").is_some_and(|c| c == "on")),
            contact: contact_from_form(v),
            links: links_from_form(v),
        })
    }

    fn form_from_input(i: &ProjectInput) -> FormValues {
        let mut v = FormValues::new();
        set(&mut v, "title", i.title.as_ref());
        set(&mut v, "summary", i.summary.as_ref());
        set(&mut v, "body", i.body.as_ref());
        set(&mut v, "status", i.status.as_ref());
        set(&mut v, "start_date", i.start_date.as_ref());
        set(&mut v, "end_date", i.end_date.as_ref());
        set(&mut v, "funding_programme", i.funding_programme.as_ref());
        v.insert("partners".into(), i.partners.join("\n"));
        if i.seeking_partners == Some(true) {
            v.insert("seeking_partners".into(), "on".into());
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
            "status" => ctx.t("Stand", "Status"),
            "start_date" => ctx.t("Beginn", "Start"),
            "end_date" => ctx.t("Ende", "End"),
            "partners" => ctx.t("Partner", "Partners"),
            "funding_programme" => ctx.t("Förderprogramm", "Funding programme"),
            _ => ctx.t("Eingabe", "Input"),
        })
    }

    fn form_fields(ctx: &Ctx, v: &FormValues, e: &FormErrors) -> Markup {
        let statuses: Vec<(&str, &str)> = ProjectStatus::ALL
            .iter()
            .map(|s| (s.slug(), ctx.label(*s)))
            .collect();
        html! {
            (Field::new("title", ctx.t("Titel", "Title")).required().input(ctx, "text", v, e))
            (Field::new("summary", ctx.t("Kurzbeschreibung", "Summary")).hint(ctx.t("Ein bis zwei Sätze für Listen und Suche", "One or two sentences for lists and search")).textarea(ctx, 2, v, e))
            (Field::new("body", ctx.t("Beschreibung", "Description")).hint(ctx.t(super::fields::MARKDOWN_HINT_DE, super::fields::MARKDOWN_HINT_EN)).textarea(ctx, 8, v, e))
            (Field::new("status", ctx.t("Stand", "Status")).required().select(ctx, &statuses, v, e))
            (Field::new("start_date", ctx.t("Beginn", "Start")).input(ctx, "date", v, e))
            (Field::new("end_date", ctx.t("Ende", "End")).input(ctx, "date", v, e))
            (themenfeld_field(ctx, v, e))
            (leika_field(ctx, v, e))
            (ozg_field(ctx, v, e))
            (Field::new("partners", ctx.t("Partner", "Partners")).hint(ctx.t("Beteiligte Organisationen, eine pro Zeile", "Participating organizations, one per line")).textarea(ctx, 2, v, e))
            (Field::new("funding_programme", ctx.t("Förderprogramm", "Funding programme")).input(ctx, "text", v, e))
            (Field::new("seeking_partners", ctx.t("Wir suchen Partner für dieses Vorhaben", "We are looking for partners for this project")).checkbox(v))
            (contact_fields(ctx, v, e))
            (links_field(ctx, v, e))
        }
    }

    fn badges(ctx: &Ctx, p: &Self) -> Markup {
        html! {
            (badge_item(Tone::Info, ctx.label(p.content.status)))
            @if p.content.seeking_partners { (badge_item(Tone::Success, ctx.t("Partner gesucht", "Seeking partners"))) }
            @if let Some(t) = p.content.themenfeld { (badge_item(Tone::Neutral, ctx.label(t))) }
        }
    }

    fn detail(ctx: &Ctx, p: &Self, _org: &Organization) -> Markup {
        let c = &p.content;
        html! {
            @if let Some(s) = &c.summary { p.lead lang=[ctx.content_lang()] { (s) } }
            dl.facts.kern-description-list {
                div.kern-description-list-item { dt.kern-description-list-item__key { (ctx.t("Stand", "Status")) } dd.kern-description-list-item__value { (ctx.label(c.status)) } }
                @if c.seeking_partners { div.kern-description-list-item { dt.kern-description-list-item__key { (ctx.t("Partner", "Partners")) } dd.kern-description-list-item__value { strong { (ctx.t("werden gesucht", "wanted")) } } } }
                @if let Some(d) = c.start_date { div.kern-description-list-item { dt.kern-description-list-item__key { (ctx.t("Beginn", "Start")) } dd.kern-description-list-item__value { (date(ctx, d)) } } }
                @if let Some(d) = c.end_date { div.kern-description-list-item { dt.kern-description-list-item__key { (ctx.t("Ende", "End")) } dd.kern-description-list-item__value { (date(ctx, d)) } } }
                (shared_facts(ctx, c.themenfeld, &c.leika_keys, &c.ozg_ids))
                @if !c.partners.is_empty() { div.kern-description-list-item { dt.kern-description-list-item__key { (ctx.t("Beteiligt", "Partners")) } dd.kern-description-list-item__value { (c.partners.join(", ")) } } }
                @if let Some(f) = &c.funding_programme { div.kern-description-list-item { dt.kern-description-list-item__key { (ctx.t("Förderprogramm", "Funding programme")) } dd.kern-description-list-item__value { (f) } } }
            }
            @if let Some(b) = &c.body { h2 { (ctx.t("Beschreibung", "Description")) } (content_block(ctx, b, 3)) }
            (contact_and_links(ctx, c.contact.as_ref(), &c.links))
        }
    }
}
