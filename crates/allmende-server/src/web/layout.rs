//! The page frame: skip link, header with navigation, main, footer.

use maud::{html, Markup, DOCTYPE};

use super::context::{Ctx, Lang};

pub const STYLE: &str = include_str!("style.css");

fn nav_link(ctx: &Ctx, href: &str, label: &str) -> Markup {
    let current = ctx.path == href || (href != "/" && ctx.path.starts_with(href));
    html! {
        li { a href=(href) aria-current=[current.then_some("page")] { (label) } }
    }
}

/// Wraps page content. `title` is the page's h1 and the start of `<title>`.
pub fn page(ctx: &Ctx, title: &str, content: Markup) -> Markup {
    let other = match ctx.lang {
        Lang::De => (Lang::En, "English", "Switch to English"),
        Lang::En => (Lang::De, "Deutsch", "Auf Deutsch wechseln"),
    };
    let next = url::form_urlencoded::byte_serialize(ctx.path.as_bytes()).collect::<String>();
    html! {
        (DOCTYPE)
        html lang=(ctx.lang.code()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " – Allmende" }
                link rel="stylesheet" href="/static/style.css";
            }
            body {
                a.skip href="#main" { (ctx.t("Zum Inhalt springen", "Skip to content")) }
                header.site {
                    div.bar {
                        a.brand href="/" { "Allmende" }
                        nav aria-label=(ctx.t("Hauptnavigation", "Main navigation")) {
                            ul {
                                (nav_link(ctx, "/projects", ctx.t("Vorhaben", "Projects")))
                                (nav_link(ctx, "/questions", ctx.t("Fragen", "Questions")))
                                (nav_link(ctx, "/solutions", ctx.t("Lösungen", "Solutions")))
                                (nav_link(ctx, "/orgs", ctx.t("Organisationen", "Organizations")))
                                (nav_link(ctx, "/services", ctx.t("Leistungen", "Services")))
                                @if ctx.signed_in.is_some() { (nav_link(ctx, "/network", ctx.t("Netzwerk", "Network"))) }
                                (nav_link(ctx, "/search", ctx.t("Suche", "Search")))
                                @if ctx.operator { (nav_link(ctx, "/admin/queue", ctx.t("Betrieb", "Operations"))) }
                            }
                        }
                        div.account {
                            a href={ "/lang?set=" (other.0.code()) "&next=" (next) } lang=(other.0.code()) title=(other.2) { (other.1) }
                            @if let Some(s) = &ctx.signed_in {
                                a href="/account" { (s.user.email) " (" (s.organization.profile.name) ")" }
                                form.inline method="post" action="/logout" {
                                    (super::forms::csrf_field(ctx))
                                    button.link type="submit" { (ctx.t("Abmelden", "Log out")) }
                                }
                            } @else {
                                a href={ "/login?next=" (next) } { (ctx.t("Anmelden", "Log in")) }
                            }
                        }
                    }
                }
                main #main tabindex="-1" {
                    h1 { (title) }
                    (content)
                }
                footer.site {
                    p {
                        (ctx.t("Allmende – föderiertes Austauschnetz für Kommunen. Freie Software unter ", "Allmende – a federated exchange network for municipalities. Free software under "))
                        abbr title="GNU Affero General Public License 3.0 or later" { "AGPL-3.0-or-later" } ": "
                        a href=(ctx.source_url) { (ctx.t("Quellcode", "Source code")) } " · "
                        a href="/api/v1/openapi.json" { "API" }
                    }
                }
            }
        }
    }
}

/// Formats a date for people: 22.11.2026 in German, 2026-11-22 in English.
pub fn date(ctx: &Ctx, d: chrono::NaiveDate) -> String {
    match ctx.lang {
        Lang::De => d.format("%d.%m.%Y").to_string(),
        Lang::En => d.format("%Y-%m-%d").to_string(),
    }
}

pub fn timestamp(ctx: &Ctx, t: chrono::DateTime<chrono::Utc>) -> String {
    date(ctx, t.date_naive())
}

/// Plain text with paragraphs and line breaks kept; always escaped.
pub fn text_block(text: &str) -> Markup {
    html! {
        @for para in text.split("\n\n").filter(|p| !p.trim().is_empty()) {
            p {
                @for (i, line) in para.lines().enumerate() {
                    @if i > 0 { br; }
                    (line)
                }
            }
        }
    }
}
