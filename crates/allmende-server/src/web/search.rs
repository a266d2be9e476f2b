//! The search page: words, facets with counts (links that add or remove a
//! filter, so the page works without JavaScript), date range, ranked hits
//! with snippets, paging, and the search as an Atom feed.

use std::collections::HashMap;

use allmende_domain::{Organization, OrganizationId};
use allmende_store::search::analysis::Piece;
use allmende_store::{DocKind, Facet};
use axum::extract::{Query, State};
use maud::{html, Markup};

use super::context::{Ctx, Lang};
use super::error::PageError;
use super::forms::{Field, FormErrors, FormValues};
use super::items::{href, org_map, ItemPages};
use super::layout::{page, timestamp};
use super::ui::{badge, badge_item, Tone};
use crate::state::AppState;
use crate::usecases::search::{self, Found, Hit, Request, Results};

/// The search box, on the start page and atop the search page.
pub fn search_form(ctx: &Ctx, request: &Request) -> Markup {
    let mut values = FormValues::new();
    values.insert("q".into(), request.q.clone());
    html! {
        form.search-form role="search" method="get" action="/search" {
            (Field::new("q", ctx.t("Suchbegriff", "Search term")).hint(ctx.t(
                "z. B. Hundesteuer, Bewohnerparken, Mannheim, 08421000 oder ein LeiKa-Schlüssel wie 99041006017000",
                "e.g. Hundesteuer (dog tax), Bewohnerparken (resident parking), Mannheim, 08421000 or a LeiKa key such as 99041006017000",
            )).input(ctx, "search", &values, &FormErrors::default()))
            // Chosen filters stay when the words change.
            @for (facet, value) in &request.filters {
                input type="hidden" name=(facet.param()) value=(value);
            }
            @if let Some(from) = request.from { input type="hidden" name="from" value=(from.to_string()); }
            @if let Some(to) = request.to { input type="hidden" name="to" value=(to.to_string()); }
            button.kern-btn.kern-btn--primary type="submit" { span.kern-label { (ctx.t("Suchen", "Search")) } }
        }
    }
}

/// `GET /search?q=&type=&status=&…&from=&to=&page=`
pub async fn show(
    ctx: Ctx,
    State(state): State<AppState>,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Markup, PageError> {
    let (request, problem) = match Request::parse(&params) {
        Ok(request) => (request, None),
        Err(bad) => {
            // Keep what can be used: the words, and drop the wrong parameter.
            let mut rest = params.clone();
            rest.remove(&bad.field);
            (Request::parse(&rest).unwrap_or_default(), Some(bad))
        }
    };
    let results = if request.is_empty() {
        Results::default()
    } else {
        search::run(&state.store, ctx.viewer(), &request).await?
    };
    let orgs = authors(&state, &results.hits).await?;
    let title = if request.q.is_empty() {
        ctx.t("Suche", "Search").to_owned()
    } else {
        format!("„{}“ – {}", request.q, ctx.t("Suche", "Search"))
    };
    Ok(page(
        &ctx,
        &title,
        html! {
            (search_form(&ctx, &request))
            @if let Some(bad) = &problem {
                p.error role="alert" { (match ctx.lang { Lang::De => &bad.message_de, Lang::En => &bad.message_en }) " " (ctx.t("Dieser Filter wurde nicht angewendet.", "This filter was not applied.")) }
            }
            (date_form(&ctx, &request))
            @if !request.is_empty() {
                (results_section(&ctx, &request, &results, &orgs, "/search"))
            }
        },
    ))
}

fn date_form(ctx: &Ctx, request: &Request) -> Markup {
    html! {
        details.date-range open[request.from.is_some() || request.to.is_some()] {
            summary { (ctx.t("Zeitraum der Veröffentlichung", "Publication period")) }
            form.search-form method="get" action="/search" {
                @if !request.q.is_empty() { input type="hidden" name="q" value=(request.q); }
                @for (facet, value) in &request.filters {
                    input type="hidden" name=(facet.param()) value=(value);
                }
                div.field {
                    label for="from" { (ctx.t("Von", "From")) }
                    input #from type="date" name="from" value=[request.from.map(|d| d.to_string())];
                }
                div.field {
                    label for="to" { (ctx.t("Bis", "To")) }
                    input #to type="date" name="to" value=[request.to.map(|d| d.to_string())];
                }
                button.kern-btn.kern-btn--secondary type="submit" { span.kern-label { (ctx.t("Zeitraum anwenden", "Apply period")) } }
            }
        }
    }
}

/// Hit count, facets, hits and paging; shared with service pages, whose
/// links go to `base`.
pub fn results_section(
    ctx: &Ctx,
    request: &Request,
    results: &Results,
    orgs: &HashMap<OrganizationId, Organization>,
    base: &str,
) -> Markup {
    let pages = results.pages(request.per_page);
    let link = |toggle: Option<(Facet, &str)>, page_no: u32| {
        let qs = request.query_string(toggle);
        match (qs.is_empty(), page_no) {
            (true, 1) => base.to_owned(),
            (true, n) => format!("{base}?page={n}"),
            (false, 1) => format!("{base}?{qs}"),
            (false, n) => format!("{base}?{qs}&page={n}"),
        }
    };
    let feed = format!("/search/feed.atom?{}", request.query_string(None));
    html! {
        p role="status" {
            (results.total) " " (ctx.t("Treffer", "results"))
            @if pages > 1 { " · " (ctx.t("Seite", "page")) " " (request.page) " " (ctx.t("von", "of")) " " (pages) }
        }
        div.search-results {
            @if !results.facets.is_empty() {
                nav.facets aria-labelledby="facets-heading" {
                    h2 #facets-heading { (ctx.t("Eingrenzen", "Narrow down")) }
                    @for facet in Facet::ALL {
                        @if let Some(values) = results.facets.get(&facet) {
                            h3 { (facet_title(ctx, facet)) }
                            ul {
                                @for (value, count) in values {
                                    @let chosen = request.filters.get(&facet) == Some(value);
                                    li {
                                        a href=(link(Some((facet, value)), 1)) aria-current=[chosen.then_some("true")] {
                                            @if chosen { span.visually-hidden { (ctx.t("Filter entfernen: ", "Remove filter: ")) } "✓ " }
                                            @if let Some(name) = results.service_names.get(value).filter(|_| facet == Facet::Service) {
                                                (name) " " span.count { "(" (value_label(ctx, facet, value)) ")" }
                                            } @else {
                                                (value_label(ctx, facet, value))
                                            }
                                        }
                                        " " span.count { "(" (count) ")" }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            section aria-labelledby="hits-heading" {
                h2 #hits-heading { (ctx.t("Ergebnisse", "Results")) }
                @if results.hits.is_empty() {
                    p { (ctx.t("Nichts gefunden. Versuchen Sie ein kürzeres Wort (etwa „Hund“ statt „Hundehaltung“), einen LeiKa-Schlüssel oder entfernen Sie Filter.", "Nothing found. Try a shorter word, a LeiKa key, or remove filters.")) }
                } @else {
                    ol.items start=((request.page - 1) * request.per_page + 1) {
                        @for hit in &results.hits { li { (hit_entry(ctx, hit, orgs, 3)) } }
                    }
                }
                @if pages > 1 {
                    nav.actions aria-label=(ctx.t("Seiten", "Pages")) {
                        @if request.page > 1 { a href=(link(None, request.page - 1)) rel="prev" { (ctx.t("← Vorherige Seite", "← Previous page")) } }
                        @if request.page < pages { a href=(link(None, request.page + 1)) rel="next" { (ctx.t("Nächste Seite →", "Next page →")) } }
                    }
                }
                p { a href=(feed) type="application/atom+xml" { (ctx.t("Diese Suche als Feed abonnieren (Atom)", "Subscribe to this search as a feed (Atom)")) } }
            }
        }
    }
}

/// One hit as a card: linked title (a heading of `level`), snippet or
/// summary, type and facts, author and date.
pub fn hit_entry(
    ctx: &Ctx,
    hit: &Hit,
    orgs: &HashMap<OrganizationId, Organization>,
    level: u8,
) -> Markup {
    fn item<T: ItemPages>(
        ctx: &Ctx,
        hit: &Hit,
        item: &T,
        orgs: &HashMap<OrganizationId, Organization>,
        level: u8,
    ) -> Markup {
        let kind = DocKind::from_item(T::KIND).map_or("", |k| kind_label(ctx, k));
        entry(
            ctx,
            hit,
            level,
            html! { a href=(href(item)) lang=[ctx.content_lang()] { (T::title(item.draft())) } },
            super::items::list_text(item),
            html! { (badge_item(Tone::Neutral, kind)) (T::badges(ctx, item)) },
            html! {
                @if let Some(org) = orgs.get(&item.organization_id()) {
                    (super::network::org_label(org)) " · "
                }
                (timestamp(ctx, item.created_at()))
            },
        )
    }
    match &hit.found {
        Found::Project(p) => item(ctx, hit, p, orgs, level),
        Found::Question(q) => item(ctx, hit, q, orgs, level),
        Found::Solution(s) => item(ctx, hit, s, orgs, level),
        Found::Organization(o) => entry(
            ctx,
            hit,
            level,
            html! { a href={ "/orgs/" (o.handle) } { (o.profile.name) } },
            None,
            html! {
                (badge_item(Tone::Neutral, ctx.label(o.profile.kind)))
                @if let Some(land) = o.profile.bundesland { (badge_item(Tone::Neutral, ctx.label(land))) }
            },
            html! {
                @if let Some(ags) = &o.profile.ags { "AGS " (ags.as_str()) }
                @if !o.is_local() { @if o.profile.ags.is_some() { " · " } span.handle { "@" (o.handle) } }
            },
        ),
    }
}

/// A hit's card; the snippet, where the search has one, stands in for the
/// summary.
fn entry(
    ctx: &Ctx,
    hit: &Hit,
    level: u8,
    title: Markup,
    summary: Option<&str>,
    badges: Markup,
    origin: Markup,
) -> Markup {
    let text = match &hit.snippet {
        Some(pieces) => html! { p.snippet lang=[ctx.content_lang()] { (snippet(pieces)) } },
        None => super::items::summary_text(ctx, summary),
    };
    super::items::card(level, title, text, badges, origin)
}

/// A snippet with its matches marked.
pub fn snippet(pieces: &[Piece]) -> Markup {
    html! {
        @for piece in pieces {
            @if piece.hit { mark { (piece.text) } } @else { (piece.text) }
        }
    }
}

pub fn kind_label(ctx: &Ctx, kind: DocKind) -> &'static str {
    match kind {
        DocKind::Project => ctx.t("Vorhaben", "Project"),
        DocKind::Question => ctx.t("Frage", "Question"),
        DocKind::Solution => ctx.t("Lösung", "Solution"),
        DocKind::Organization => ctx.t("Organisation", "Organization"),
    }
}

pub fn facet_title(ctx: &Ctx, facet: Facet) -> &'static str {
    match facet {
        Facet::Kind => ctx.t("Art des Eintrags", "Type of entry"),
        Facet::Status => ctx.t("Stand", "Status"),
        Facet::Themenfeld => ctx.t("Themenfeld", "Subject area"),
        Facet::Service => ctx.t("Leistung (LeiKa/OZG)", "Service (LeiKa/OZG)"),
        Facet::Land => ctx.t("Bundesland", "Federal state"),
        Facet::OrgKind => ctx.t("Art der Organisation", "Kind of organization"),
        Facet::SizeClass => ctx.t("Größe der Organisation", "Size of the organization"),
        Facet::Licence => ctx.t("Lizenz", "Licence"),
        Facet::SeekingPartners => ctx.t("Partner gesucht", "Seeking partners"),
    }
}

/// A facet value as people read it.
pub fn value_label(ctx: &Ctx, facet: Facet, value: &str) -> String {
    let (de, en) = search::value_labels(facet, value);
    match ctx.lang {
        Lang::De => de,
        Lang::En => en,
    }
}

/// Similar entries, those for the same service marked as such.
pub async fn similar_list(
    ctx: &Ctx,
    state: &AppState,
    similar: &[(Found, bool)],
) -> Result<Markup, PageError> {
    let hits: Vec<Hit> = similar
        .iter()
        .map(|(found, _)| Hit {
            found: found.clone(),
            snippet: None,
        })
        .collect();
    let orgs = authors(state, &hits).await?;
    Ok(html! {
        ul.items {
            @for (hit, (_, same_service)) in hits.iter().zip(similar) {
                li {
                    (hit_entry(ctx, hit, &orgs, 3))
                    @if *same_service { p.badge-line { (badge(Tone::Info, ctx.t("Gleiche Leistung", "Same service"))) } }
                }
            }
        }
    })
}

/// The organizations behind a page of hits.
pub async fn authors(
    state: &AppState,
    hits: &[Hit],
) -> Result<HashMap<OrganizationId, Organization>, PageError> {
    let ids = hits.iter().filter_map(|hit| match &hit.found {
        Found::Project(p) => Some(p.organization_id),
        Found::Question(q) => Some(q.organization_id),
        Found::Solution(s) => Some(s.organization_id),
        Found::Organization(_) => None,
    });
    org_map(state, ids).await
}
