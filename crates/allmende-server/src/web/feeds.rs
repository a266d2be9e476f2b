//! Atom feeds (RFC 4287) of an organization, a group, a service and a
//! search. Feed readers come without a session, and a feed URL is easily
//! passed on, so every feed is read as the public would read it:
//! followers-only questions never appear in one.

use std::collections::HashMap;

use allmende_domain::{Item, Organization, OrganizationId, Project, Question, Solution, Viewer};
use atom_syndication::{Category, Entry, Feed, FixedDateTime, Link, Person, Text};
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};

use super::context::Ctx;
use super::error::PageError;
use super::items::org_map;
use super::search::kind_label;
use crate::state::AppState;
use crate::usecases::search::{self, Found, Request};
use crate::usecases::UseCaseError;

/// Entries per feed; readers poll, so the newest are enough.
const ENTRIES: u32 = 50;
/// Characters of text in an entry's summary.
const SUMMARY_CHARS: usize = 400;

/// `GET /search/feed.atom?q=…`: a saved search, newest first.
pub async fn search(
    ctx: Ctx,
    State(state): State<AppState>,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Response, PageError> {
    let mut request =
        Request::parse(&params).map_err(|bad| PageError::BadRequest(bad.message_de))?;
    let query_string = request.query_string(None);
    request.newest_first = true;
    request.page = 1;
    request.per_page = ENTRIES;
    let found = search::run(&state.store, Viewer::Public, &request).await?;
    let title = if request.q.is_empty() {
        format!("Allmende – {}", ctx.t("Suche", "Search"))
    } else {
        format!("Allmende – {} „{}“", ctx.t("Suche", "Search"), request.q)
    };
    let page = if query_string.is_empty() {
        "/search".to_owned()
    } else {
        format!("/search?{query_string}")
    };
    let this = if query_string.is_empty() {
        "/search/feed.atom".to_owned()
    } else {
        format!("/search/feed.atom?{query_string}")
    };
    let items = found.hits.into_iter().map(|h| h.found).collect();
    respond(&ctx, &state, title, &this, &page, items).await
}

/// `GET /services/{key}/feed.atom`
pub async fn service(
    ctx: Ctx,
    State(state): State<AppState>,
    Path(key): Path<String>,
) -> Result<Response, PageError> {
    let service = super::services::parse_key(&key)?;
    let mut request = Request {
        newest_first: true,
        page: 1,
        per_page: ENTRIES,
        ..Request::default()
    };
    request
        .filters
        .insert(allmende_store::Facet::Service, service.slug());
    let found = search::run(&state.store, Viewer::Public, &request).await?;
    let title = format!("Allmende – {} {service}", ctx.t("Leistung", "Service"));
    let page = format!("/services/{}", service.slug());
    let items = found.hits.into_iter().map(|h| h.found).collect();
    respond(
        &ctx,
        &state,
        title,
        &format!("{page}/feed.atom"),
        &page,
        items,
    )
    .await
}

/// `GET /orgs/{handle}/feed.atom`: what an organization published, or for
/// a group what it carries.
pub async fn organization(
    ctx: Ctx,
    State(state): State<AppState>,
    Path(handle): Path<String>,
) -> Result<Response, PageError> {
    let org = state
        .store
        .organizations()
        .by_handle(&handle)
        .await
        .map_err(UseCaseError::from)?;
    let items = if org.profile.kind.is_group() {
        carried(&state, org.id).await?
    } else {
        let request = Request {
            organization: Some(org.id),
            newest_first: true,
            page: 1,
            per_page: ENTRIES,
            ..Request::default()
        };
        search::run(&state.store, Viewer::Public, &request)
            .await?
            .hits
            .into_iter()
            .map(|h| h.found)
            .filter(|f| !matches!(f, Found::Organization(_)))
            .collect()
    };
    let page = format!("/orgs/{}", org.handle);
    respond(
        &ctx,
        &state,
        format!("Allmende – {}", org.profile.name),
        &format!("{page}/feed.atom"),
        &page,
        items,
    )
    .await
}

/// The public items a group carries, newest first.
async fn carried(state: &AppState, group: OrganizationId) -> Result<Vec<Found>, PageError> {
    let carried = state
        .store
        .groups()
        .items(group, ENTRIES)
        .await
        .map_err(PageError::internal)?;
    let mut found = Vec::new();
    for item in carried {
        let hit = allmende_store::SearchHit {
            kind: match allmende_store::DocKind::from_item(item.kind) {
                Some(kind) => kind,
                None => continue,
            },
            id: item.item_id,
        };
        if let Some(f) = search::load(&state.store, Viewer::Public, &hit).await? {
            found.push(f);
        }
    }
    Ok(found)
}

async fn respond(
    ctx: &Ctx,
    state: &AppState,
    title: String,
    this: &str,
    page: &str,
    items: Vec<Found>,
) -> Result<Response, PageError> {
    let authors = org_map(
        state,
        items.iter().filter_map(|f| match f {
            Found::Project(p) => Some(p.organization_id),
            Found::Question(q) => Some(q.organization_id),
            Found::Solution(s) => Some(s.organization_id),
            Found::Organization(_) => None,
        }),
    )
    .await?;
    let entries: Vec<Entry> = items
        .iter()
        .filter_map(|found| match found {
            Found::Project(p) => Some(entry::<Project>(ctx, state, p, &authors)),
            Found::Question(q) => Some(entry::<Question>(ctx, state, q, &authors)),
            Found::Solution(s) => Some(entry::<Solution>(ctx, state, s, &authors)),
            Found::Organization(_) => None,
        })
        .collect();
    let updated = entries
        .iter()
        .map(|e| *e.updated())
        .max()
        .unwrap_or_else(|| fixed(DateTime::<Utc>::UNIX_EPOCH));
    let mut feed = Feed::default();
    feed.set_title(Text::plain(title));
    feed.set_id(state.config.url(this));
    feed.set_updated(updated);
    feed.set_lang(Some(ctx.lang.code().to_owned()));
    feed.set_links(vec![
        link(state.config.url(this), "self", "application/atom+xml"),
        link(state.config.url(page), "alternate", "text/html"),
    ]);
    // Required when an entry has no author; ours all do, but the node
    // speaks for the feed as a whole.
    let mut node = Person::default();
    node.set_name(state.config.url("/"));
    feed.set_authors(vec![node]);
    feed.set_entries(entries);
    Ok((
        [(header::CONTENT_TYPE, "application/atom+xml; charset=utf-8")],
        feed.to_string(),
    )
        .into_response())
}

fn fixed(t: DateTime<Utc>) -> FixedDateTime {
    t.fixed_offset()
}

fn link(href: String, rel: &str, mime: &str) -> Link {
    let mut link = Link::default();
    link.set_href(href);
    link.set_rel(rel);
    link.set_mime_type(Some(mime.to_owned()));
    link
}

fn entry<T: Item>(
    ctx: &Ctx,
    state: &AppState,
    item: &T,
    authors: &HashMap<OrganizationId, Organization>,
) -> Entry {
    let url = state
        .config
        .url(&format!("/{}/{}", T::KIND.collection(), item.id()));
    let mut entry = Entry::default();
    entry.set_title(Text::plain(T::title(item.draft())));
    entry.set_id(url.clone());
    entry.set_updated(fixed(item.updated_at()));
    entry.set_published(Some(fixed(item.created_at())));
    entry.set_links(vec![link(url, "alternate", "text/html")]);
    if let Some(org) = authors.get(&item.organization_id()) {
        let mut person = Person::default();
        person.set_name(org.profile.name.clone());
        person.set_uri(Some(state.config.url(&format!("/orgs/{}", org.handle))));
        entry.set_authors(vec![person]);
    }
    if let Some(text) = T::summary(item.draft()).or(T::body(item.draft())) {
        let mut summary: String = text.chars().take(SUMMARY_CHARS).collect();
        if text.chars().count() > SUMMARY_CHARS {
            summary.push('…');
        }
        entry.set_summary(Some(Text::plain(summary)));
    }
    let mut category = Category::default();
    category.set_term(T::KIND.slug());
    category.set_label(
        allmende_store::DocKind::from_item(T::KIND).map(|k| kind_label(ctx, k).to_owned()),
    );
    entry.set_categories(vec![category]);
    entry
}
