//! Service pages: everything the network has on one public service (a
//! LeiKa key or an OZG service), grouped by kind and status, with who
//! works on it by Bundesland. `/services/leika:99041006017000`.

use std::collections::{BTreeMap, HashMap};

use allmende_domain::{Bundesland, ServiceKey};
use allmende_store::{DocKind, Facet};
use axum::extract::{Path, Query, State};
use maud::{html, Markup};

use super::context::{Ctx, Lang};
use super::error::PageError;
use super::items::org_map;
use super::layout::page;
use super::search::{authors, hit_entry, kind_label, value_label};
use crate::state::AppState;
use crate::usecases::search::{self, Found, Hit, Request};

/// How many entries the page lists; the rest are a search away.
const LISTED: u32 = 100;

pub fn parse_key(raw: &str) -> Result<ServiceKey, PageError> {
    ServiceKey::parse(raw).map_err(|_| PageError::NotFound)
}

/// `GET /services/{key}`
pub async fn show(
    ctx: Ctx,
    State(state): State<AppState>,
    Path(key): Path<String>,
) -> Result<Markup, PageError> {
    let service = parse_key(&key)?;
    let mut request = Request {
        page: 1,
        per_page: LISTED,
        ..Request::default()
    };
    request.filters.insert(Facet::Service, service.slug());
    let results = search::run(&state.store, ctx.viewer(), &request).await?;
    let orgs = authors(&state, &results.hits).await?;
    let working = state
        .store
        .search()
        .authors_of_service(ctx.viewer(), &service)
        .await
        .map_err(PageError::internal)?;
    let working_orgs = org_map(&state, working.iter().map(|(id, _)| *id)).await?;
    let mut by_land: BTreeMap<Option<usize>, Vec<&allmende_domain::Organization>> = BTreeMap::new();
    for (id, land) in &working {
        if let Some(org) = working_orgs.get(id) {
            let position = land
                .as_deref()
                .and_then(|l| Bundesland::parse(l).ok())
                .and_then(|l| Bundesland::ALL.iter().position(|x| *x == l));
            by_land.entry(position).or_default().push(org);
        }
    }
    for list in by_land.values_mut() {
        list.sort_by(|a, b| a.profile.name.cmp(&b.profile.name));
    }
    // Entries by kind, then by status in the order the status facet names.
    let mut grouped: BTreeMap<DocKind, BTreeMap<String, Vec<&Hit>>> = BTreeMap::new();
    for hit in &results.hits {
        let status = status_of(&hit.found);
        grouped
            .entry(hit.found.kind())
            .or_default()
            .entry(status)
            .or_default()
            .push(hit);
    }
    let names = search::service_names(&state.store, std::slice::from_ref(&service)).await?;
    let title = match names.get(&service.slug()) {
        Some(name) => format!("{name} ({service})"),
        None => format!("{} {}", ctx.t("Leistung", "Service"), service),
    };
    let count = working.len();
    let watched = super::notifications::watching(
        &ctx,
        &state,
        allmende_store::notifications::WatchKind::Service,
        &service.slug(),
    )
    .await?;
    let watch = watched.map(|on| {
        super::notifications::watch_button(
            &ctx,
            allmende_store::notifications::WatchKind::Service,
            &service.slug(),
            on,
            &format!("/services/{}", service.slug()),
        )
    });
    Ok(page(
        &ctx,
        &title,
        html! {
            p.lead role="status" {
                (working_text(&ctx, count))
                " " (results.total) " " (ctx.t("Einträge.", "entries."))
            }
            p {
                a href={ "/services/" (service.slug()) "/feed.atom" } type="application/atom+xml" { (ctx.t("Neue Einträge zu dieser Leistung als Feed (Atom)", "New entries on this service as a feed (Atom)")) }
                @if results.total > u64::from(LISTED) {
                    " · " a href={ "/search?service=" (service.slug()) } { (ctx.t("Alle Einträge in der Suche", "All entries in the search")) }
                }
            }
            @if let Some(w) = &watch {
                div.actions { (w) span.hint { (ctx.t("Sie erhalten eine E-Mail, wenn hierzu etwas Neues erscheint.", "You get an e-mail when something new appears here.")) } }
            }
            @for (kind, by_status) in &grouped {
                section aria-labelledby={ "kind-" (kind.slug()) } {
                    h2 id={ "kind-" (kind.slug()) } { (kind_label(&ctx, *kind)) }
                    @for (status, hits) in by_status {
                        h3 { (if status.is_empty() { ctx.t("Ohne Angabe", "Not stated").to_owned() } else { value_label(&ctx, Facet::Status, status) }) " (" (hits.len()) ")" }
                        ul.items {
                            @for hit in hits { li { (hit_entry(&ctx, hit, &orgs, 4)) } }
                        }
                    }
                }
            }
            @if !by_land.is_empty() {
                section aria-labelledby="by-land" {
                    h2 #by-land { (ctx.t("Wer daran arbeitet, nach Bundesland", "Who works on it, by federal state")) }
                    dl.facts.kern-description-list {
                        @for (position, list) in &by_land {
                            div.kern-description-list-item { dt.kern-description-list-item__key { (position.and_then(|p| Bundesland::ALL.get(p)).map_or(ctx.t("Ohne Bundesland", "No federal state"), |l| ctx.label(*l))) }
                            dd.kern-description-list-item__value {
                                @for (i, org) in list.iter().enumerate() {
                                    @if i > 0 { ", " }
                                    (super::network::org_label(org))
                                }
                            } }
                        }
                    }
                }
            }
        },
    ))
}

/// `GET /services?q=`: the catalogue. Every service the network has
/// entries on, with their number; with words, the services of the
/// reference catalogue whose names contain them.
pub async fn catalogue(
    ctx: Ctx,
    State(state): State<AppState>,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Markup, PageError> {
    let q: String = params
        .get("q")
        .map(|q| q.trim().chars().take(100).collect())
        .unwrap_or_default();
    let used: HashMap<String, u64> = state
        .store
        .search()
        .services(ctx.viewer())
        .await
        .map_err(PageError::internal)?
        .into_iter()
        .collect();
    let listed: Vec<(ServiceKey, Option<String>, u64)> = if q.is_empty() {
        let mut keys: Vec<(ServiceKey, u64)> = used
            .iter()
            .filter_map(|(k, n)| ServiceKey::parse(k).ok().map(|k| (k, *n)))
            .collect();
        keys.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        let only: Vec<ServiceKey> = keys.iter().map(|(k, _)| k.clone()).collect();
        let names = search::service_names(&state.store, &only).await?;
        keys.into_iter()
            .map(|(k, n)| {
                let name = names.get(&k.slug()).cloned();
                (k, name, n)
            })
            .collect()
    } else {
        let mut found: Vec<(ServiceKey, Option<String>, u64)> = state
            .store
            .reference()
            .find_services(&q, 200)
            .await
            .map_err(PageError::internal)?
            .into_iter()
            .map(|(k, name)| {
                let n = used.get(&k.slug()).copied().unwrap_or(0);
                (k, Some(name), n)
            })
            .collect();
        // A typed key finds its service even without a catalogue entry.
        if let Ok(key) = ServiceKey::parse(&q) {
            if !found.iter().any(|(k, _, _)| *k == key) {
                let n = used.get(&key.slug()).copied().unwrap_or(0);
                found.insert(0, (key, None, n));
            }
        }
        found.sort_by(|a, b| b.2.cmp(&a.2).then_with(|| a.1.cmp(&b.1)));
        found
    };
    let mut values = super::forms::FormValues::new();
    values.insert("q".into(), q.clone());
    Ok(page(
        &ctx,
        ctx.t("Leistungen", "Services"),
        html! {
            p { (ctx.t(
                "Wählen Sie eine Verwaltungsleistung, um zu sehen, wer im Netzwerk daran arbeitet und welche Lösungen es gibt.",
                "Choose a public service to see who in the network works on it and which solutions exist."
            )) }
            form.search-form role="search" method="get" action="/services" {
                (super::forms::Field::new("q", ctx.t("Leistung suchen", "Find a service")).hint(ctx.t("Name oder Schlüssel, z. B. Hundesteuer oder 99041006017000", "Name or key, e.g. Hundesteuer or 99041006017000")).input(&ctx, "search", &values, &super::forms::FormErrors::default()))
                button.kern-btn.kern-btn--primary type="submit" { span.kern-label { (ctx.t("Suchen", "Search")) } }
            }
            @if listed.is_empty() {
                p { (ctx.t("Keine Leistung gefunden.", "No service found.")) }
            } @else {
                div.table-scroll role="region" tabindex="0" aria-label=(ctx.t("Tabelle, seitlich verschiebbar", "Table, scrolls sideways")) { table.kern-table {
                        caption.visually-hidden { (ctx.t("Leistungen mit der Zahl ihrer Einträge", "Services with the number of their entries")) }
                        thead { tr { th scope="col" { (ctx.t("Leistung", "Service")) } th scope="col" { (ctx.t("Schlüssel", "Key")) } th scope="col" { (ctx.t("Einträge", "Entries")) } } }
                        tbody {
                            @for (key, name, n) in &listed {
                                tr {
                                    td { a href={ "/services/" (key.slug()) } { (name.clone().unwrap_or_else(|| key.to_string())) } }
                                    td { code { (key.to_string()) } }
                                    td { (n) }
                                }
                            }
                        }
                    }
                }
            }
        },
    ))
}

/// "12 municipalities work on this", in the page's language.
fn working_text(ctx: &Ctx, count: usize) -> String {
    match (count, ctx.lang) {
        (0, _) => ctx
            .t(
                "Noch arbeitet keine Organisation im Netzwerk sichtbar an dieser Leistung.",
                "No organization in the network works visibly on this service yet.",
            )
            .to_owned(),
        (1, Lang::De) => "1 Organisation arbeitet daran.".to_owned(),
        (1, Lang::En) => "1 organization works on this.".to_owned(),
        (n, Lang::De) => format!("{n} Organisationen arbeiten daran."),
        (n, Lang::En) => format!("{n} organizations work on this."),
    }
}

/// The status facet value of a found item, "" where it has none.
fn status_of(found: &Found) -> String {
    use allmende_domain::Item;
    match found {
        Found::Project(p) => allmende_domain::Project::facets(&p.content).status,
        Found::Solution(s) => allmende_domain::Solution::facets(&s.content).status,
        Found::Question(q) => Some(if q.accepted_answer_id.is_some() {
            "answered"
        } else {
            "open"
        }),
        Found::Organization(_) => None,
    }
    .unwrap_or_default()
    .to_owned()
}
