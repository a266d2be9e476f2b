//! The page frame: skip link, header with navigation, main (with the
//! message about what just happened), footer with the legal pages.

use maud::{html, Markup, PreEscaped, DOCTYPE};

use super::assets;
use super::branding::Brand;
use super::context::{Ctx, Lang};
use super::ui::{alert, Tone};

fn nav_link(ctx: &Ctx, href: &str, label: &str) -> Markup {
    let current = ctx.path == href
        || (href != "/"
            && ctx.path.starts_with(href)
            && ctx.path[href.len()..].starts_with(['/', '?']));
    html! {
        li { a href=(href) aria-current=[current.then_some("page")] { (label) } }
    }
}

/// The class the error summary carries; a page that contains it reports a
/// failed submission in its title.
pub const ERROR_SUMMARY_CLASS: &str = "error-summary";

/// Wraps page content. `title` is the page's h1 and the start of `<title>`;
/// after a failed submission (the content holds an error summary) the
/// title starts with "Fehler: ", so screen reader users hear it first.
pub fn page(ctx: &Ctx, title: &str, content: Markup) -> Markup {
    let failed = content
        .0
        .contains(&format!("class=\"{ERROR_SUMMARY_CLASS}"));
    frame(ctx, title, failed, html! { h1 { (title) } (content) })
}

/// A page of an organization, or of one of its entries, with its logo
/// and colour where it has them.
pub fn branded_page(
    ctx: &Ctx,
    brand: Option<&Brand>,
    title: &str,
    title_lang: Option<&str>,
    content: Markup,
) -> Markup {
    frame_with(
        ctx,
        title,
        false,
        brand,
        html! {
            @if let Some(b) = brand.filter(|b| b.logo) {
                img.org-logo src={ "/orgs/" (b.handle) "/logo.png?v=" (b.version) } alt={ "Logo " (b.name) };
            }
            h1 lang=[title_lang] { (title) }
            (content)
        },
    )
}

/// A page whose heading is an organization's own words (an item's
/// title): marked as German where the page is not (WCAG 3.1.2).
pub fn content_page(ctx: &Ctx, title: &str, content: Markup) -> Markup {
    frame(
        ctx,
        title,
        false,
        html! { h1 lang=[ctx.content_lang()] { (title) } (content) },
    )
}

/// The frame around any main content, for pages whose heading is not a
/// plain h1 (error pages use it too).
pub fn frame(ctx: &Ctx, title: &str, failed: bool, main: Markup) -> Markup {
    frame_with(ctx, title, failed, None, main)
}

fn frame_with(ctx: &Ctx, title: &str, failed: bool, brand: Option<&Brand>, main: Markup) -> Markup {
    let other = match ctx.lang {
        Lang::De => (Lang::En, "English", "Switch to English"),
        Lang::En => (Lang::De, "Deutsch", "Auf Deutsch wechseln"),
    };
    let next = url::form_urlencoded::byte_serialize(ctx.path.as_bytes()).collect::<String>();
    html! {
        (DOCTYPE)
        html lang=(ctx.lang.code()) data-kern-theme="light" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title {
                    @if failed { (ctx.t("Fehler: ", "Error: ")) }
                    (title) " – " "Allmende"
                }
                link rel="stylesheet" href=(assets::url("kern.min.css"));
                link rel="stylesheet" href=(assets::url("style.css"));
                @if let Some(b) = brand.filter(|b| b.color) {
                    link rel="stylesheet" href={ "/orgs/" (b.handle) "/brand.css?v=" (b.version) };
                }
            }
            body {
                a.skip href="#main" { (ctx.t("Zum Inhalt springen", "Skip to content")) }
                header.site {
                    div.bar {
                        a.brand href="/" { "Allmende" }
                        div.account {
                            a href={ "/lang?set=" (other.0.code()) "&next=" (next) } lang=(other.0.code()) hreflang=(other.0.code()) title=(other.2) { (other.1) }
                            @if let Some(s) = &ctx.signed_in {
                                a.who href="/account" title=(s.user.email) {
                                    span.visually-hidden { (ctx.t("Ihr Konto: ", "Your account: ")) }
                                    (s.organization.profile.name)
                                }
                                form.inline method="post" action="/logout" {
                                    (super::forms::csrf_field(ctx))
                                    button.link type="submit" { (ctx.t("Abmelden", "Log out")) }
                                }
                            } @else {
                                a href={ "/login?next=" (next) } { (ctx.t("Anmelden", "Log in")) }
                            }
                        }
                    }
                    div.bar {
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
                    }
                }
                main #main tabindex="-1" {
                    @if ctx.operator && !ctx.legal_missing.is_empty() {
                        (alert(Tone::Warning, "note", ctx.t("Rechtliche Angaben fehlen", "Legal information missing"), Some(html! {
                            p {
                                (ctx.t(
                                    "Ein öffentliches Angebot einer Behörde braucht Impressum, Datenschutzerklärung und Erklärung zur Barrierefreiheit. Bitte setzen Sie in der Konfiguration des Knotens: ",
                                    "A public body's site needs an imprint, a privacy notice and an accessibility statement. Please set in the node's configuration: ",
                                ))
                                @for (i, key) in ctx.legal_missing.iter().enumerate() {
                                    @if i > 0 { ", " }
                                    code { (key) }
                                }
                                "."
                            }
                        })))
                    }
                    @if let Some(notice) = ctx.notice {
                        (alert(Tone::Success, "status", notice.text(ctx), None))
                    }
                    (main)
                }
                footer.site {
                    div.inner {
                        nav aria-label=(ctx.t("Rechtliches und Service", "Legal and service")) {
                            ul {
                                li { a href="/impressum" { (ctx.t("Impressum", "Imprint")) } }
                                li { a href="/datenschutz" { (ctx.t("Datenschutz", "Privacy")) } }
                                li { a href="/barrierefreiheit" { (ctx.t("Barrierefreiheit", "Accessibility")) } }
                                li { a href=(ctx.source_url) { (ctx.t("Quellcode", "Source code")) } }
                                li { a href="/api/v1/openapi.json" { "API" } }
                                li { a href=(assets::url("LICENCES.txt")) { (ctx.t("Lizenzen der Gestaltung", "Design licences")) } }
                            }
                        }
                        p {
                            (ctx.t("Allmende – föderiertes Austauschnetz für Kommunen. Freie Software unter ", "Allmende – a federated exchange network for municipalities. Free software under "))
                            abbr title="GNU Affero General Public License 3.0 or later" { "AGPL-3.0-or-later" }
                            (ctx.t("; Gestaltung nach dem ", "; designed on the "))
                            span lang="de" { "KERN UX-Standard" } "."
                        }
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

/// Text that organizations wrote (Markdown, rendered to the safe subset),
/// marked as German where the page is not (WCAG 3.1.2). `top` is the
/// level its own headings start at, below the page's heading around it.
pub fn content_block(ctx: &Ctx, text: &str, top: u8) -> Markup {
    html! {
        div.prose lang=[ctx.content_lang()] {
            (PreEscaped(allmende_federation::markdown::to_html(text, top)))
        }
    }
}
