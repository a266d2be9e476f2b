//! The legal pages a German public body's site needs, linked in every
//! footer: Impressum (§ 5 DDG), Datenschutzerklärung (Art. 13 DSGVO) and
//! Erklärung zur Barrierefreiheit (BITV 2.0 § 7). The operator supplies
//! the first two (a link to its existing page, or text) and the contacts
//! of the third; the statement's assessment is Allmende's own (see
//! docs/accessibility.md), since it is the same software on every node.

use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{html, Markup};

use super::context::Ctx;
use super::layout::{content_block, date, page};
use super::ui::{alert, Tone};
use crate::state::AppState;

/// When the assessment behind the accessibility statement was last made
/// (docs/accessibility.md gives the method and the results).
pub const ASSESSED_ON: (i32, u32, u32) = (2026, 12, 4);

fn not_set(ctx: &Ctx, keys: &str) -> Markup {
    html! {
        (alert(Tone::Warning, "note", ctx.t("Noch nicht hinterlegt", "Not provided yet"), Some(html! {
            p {
                (ctx.t("Der Betreiber dieses Knotens hat diese Angaben noch nicht hinterlegt (Konfiguration: ",
                       "The operator of this node has not provided this yet (configuration: "))
                code { (keys) } ")."
            }
        })))
    }
}

/// One operator-supplied page: a redirect to its own page, its text, or a
/// note that it is missing.
fn operator_page(
    ctx: &Ctx,
    title: &str,
    url: Option<&url::Url>,
    text: Option<&str>,
    keys: &str,
) -> Response {
    if let Some(url) = url {
        return Redirect::to(url.as_str()).into_response();
    }
    let body = match text.filter(|t| !t.trim().is_empty()) {
        Some(text) => html! { div.legal { (content_block(ctx, text, 2)) } },
        None => not_set(ctx, keys),
    };
    page(ctx, title, body).into_response()
}

/// `GET /impressum`
pub async fn imprint(ctx: Ctx, State(state): State<AppState>) -> Response {
    let c = &state.config;
    operator_page(
        &ctx,
        ctx.t("Impressum", "Imprint"),
        c.imprint_url.as_ref(),
        c.imprint_text.as_deref(),
        "imprint_url / imprint_text",
    )
}

/// `GET /datenschutz`
pub async fn privacy(ctx: Ctx, State(state): State<AppState>) -> Response {
    let c = &state.config;
    operator_page(
        &ctx,
        ctx.t("Datenschutzerklärung", "Privacy notice"),
        c.privacy_url.as_ref(),
        c.privacy_text.as_deref(),
        "privacy_url / privacy_text",
    )
}

/// A contact that may be an e-mail address or a web address, as a link.
fn contact_link(contact: &str) -> Markup {
    let contact = contact.trim();
    html! {
        @if contact.starts_with("https://") || contact.starts_with("http://") {
            a.url href=(contact) { (contact) }
        } @else if contact.contains('@') && !contact.contains(char::is_whitespace) {
            a.url href={ "mailto:" (contact) } { (contact) }
        } @else {
            (contact)
        }
    }
}

/// `GET /barrierefreiheit`: the accessibility statement.
pub async fn accessibility(ctx: Ctx, State(state): State<AppState>) -> Markup {
    let c = &state.config;
    let (y, m, d) = ASSESSED_ON;
    let assessed = chrono::NaiveDate::from_ymd_opt(y, m, d).map(|day| date(&ctx, day));
    let site = c.public_url.as_str().trim_end_matches('/');
    page(
        &ctx,
        ctx.t("Erklärung zur Barrierefreiheit", "Accessibility statement"),
        html! {
            div.legal {
                p {
                    (ctx.t("Der Betreiber dieses Knotens ist bemüht, sein Angebot im Einklang mit § 12a des Behindertengleichstellungsgesetzes (BGG) und der Barrierefreie-Informationstechnik-Verordnung (BITV 2.0) barrierefrei zugänglich zu machen. Diese Erklärung gilt für ",
                           "The operator of this node strives to make it accessible in accordance with § 12a of the German Disability Equality Act (BGG) and the Barrier-Free Information Technology Ordinance (BITV 2.0). This statement applies to "))
                    a.url href=(site) { (site) } "."
                }
                h2 { (ctx.t("Stand der Vereinbarkeit mit den Anforderungen", "Compliance status")) }
                p {
                    (ctx.t("Dieses Angebot ist teilweise mit den Anforderungen der BITV 2.0 (EN 301 549, WCAG 2.1 Stufe AA) vereinbar. Die Seiten der Software Allmende erfüllen die geprüften Anforderungen; die unten genannten Inhalte sind nicht oder nicht vollständig barrierefrei.",
                           "This site is partially compliant with BITV 2.0 (EN 301 549, WCAG 2.1 level AA). The pages of the Allmende software meet the requirements tested; the content named below is not, or not fully, accessible."))
                }
                h2 { (ctx.t("Nicht barrierefreie Inhalte", "Non-accessible content")) }
                ul {
                    li { (ctx.t("Inhalte, die Organisationen auf anderen Knoten oder in anderer Fediverse-Software verfasst haben, werden so gezeigt, wie sie ankommen (bereinigt); ihre Struktur und Sprache liegen in der Verantwortung der Verfasser.",
                                "Content written by organizations on other nodes or in other fediverse software is shown as it arrives (sanitised); its structure and language are its authors' responsibility.")) }
                    li { (ctx.t("Dokumente, auf die Einträge verlinken (etwa PDF-Dateien von Ausschreibungen), werden nicht von diesem Knoten bereitgestellt und nicht geprüft.",
                                "Documents that entries link to (such as PDF files of tenders) are not provided by this node and not checked.")) }
                    li { (ctx.t("Die Sprache eines Eintrags wird als Deutsch angenommen; Einträge in anderen Sprachen sind nicht als solche ausgezeichnet.",
                                "An entry's language is assumed to be German; entries in other languages are not marked as such.")) }
                }
                h2 { (ctx.t("Erstellung dieser Erklärung", "Preparation of this statement")) }
                p {
                    (ctx.t("Die Bewertung beruht auf einer Selbstbewertung der Software: automatisierte Prüfung aller Seitenarten mit axe-core in Chromium (angemeldet und abgemeldet, Deutsch und Englisch), Prüfung der Bedienung per Tastatur und der Darstellung bei 320 CSS-Pixeln Breite bei jeder Änderung. Eine Prüfung durch eine unabhängige Prüfstelle (BITV-Test) steht aus. Stand der Bewertung: ",
                           "The assessment is a self-assessment of the software: automated checks of every kind of page with axe-core in Chromium (signed in and out, German and English), keyboard operation and reflow at 320 CSS pixels, on every change. An assessment by an independent test centre (BITV-Test) is pending. Assessed on: "))
                    @if let Some(a) = &assessed { (a) } "."
                }
                h2 { (ctx.t("Barrieren melden: Kontakt", "Report barriers: contact")) }
                @match c.accessibility_contact.as_deref().filter(|v| !v.trim().is_empty()) {
                    Some(contact) => p {
                        (ctx.t("Sind Ihnen Mängel beim barrierefreien Zugang aufgefallen, oder benötigen Sie Informationen in einer zugänglichen Form? Wenden Sie sich an: ",
                               "Have you noticed barriers, or do you need information in an accessible form? Please contact: "))
                        (contact_link(contact))
                    },
                    None => (not_set(&ctx, "accessibility_contact")),
                }
                h2 { (ctx.t("Schlichtungs- und Durchsetzungsverfahren", "Arbitration and enforcement")) }
                p {
                    (ctx.t("Wenn Sie auf Ihre Rückmeldung keine zufriedenstellende Antwort erhalten, können Sie sich an die zuständige Schlichtungs- beziehungsweise Durchsetzungsstelle wenden:",
                           "If your feedback does not get a satisfactory answer, you can turn to the responsible arbitration or enforcement body:"))
                }
                @match c.accessibility_enforcement.as_deref().filter(|v| !v.trim().is_empty()) {
                    Some(body) => (content_block(&ctx, body, 3)),
                    None => (not_set(&ctx, "accessibility_enforcement")),
                }
            }
        },
    )
}
