//! Search for the search page, the API, service pages and feeds: what a
//! request asks for (checked, with the name of a wrong parameter), the
//! hits loaded as the viewer may read them, with snippets, and the facet
//! counts.

use std::collections::{BTreeMap, HashMap};

use allmende_domain::{
    Bundesland, Item, ItemKind, Organization, OrganizationKind, Project, Question, ServiceKey,
    Solution, Themenfeld, Viewer,
};
use allmende_store::search::analysis::{self, Piece};
use allmende_store::{DocKind, Facet, SearchHit, SearchQuery, SizeClass, Store, StoreError};
use chrono::{DateTime, NaiveDate, Utc};

use super::{Result, UseCaseError};

/// Hits per page unless the API asks for another number.
pub const PER_PAGE: u32 = 20;
pub const PER_PAGE_MAX: u32 = 100;
/// Pages beyond this are not served: nobody reads them, and deep offsets
/// cost the database.
pub const PAGE_MAX: u32 = 500;
/// Longer input is cut.
const QUERY_CHARS_MAX: usize = 200;

/// A parameter that is not one we can use, named as in the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadParameter {
    pub field: String,
    pub message_de: String,
    pub message_en: String,
}

/// A search as asked: words, filters, date range and page.
#[derive(Clone, Debug, Default)]
pub struct Request {
    pub q: String,
    pub filters: BTreeMap<Facet, String>,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub page: u32,
    pub per_page: u32,
    /// Only what this organization published (not from parameters).
    pub organization: Option<allmende_domain::OrganizationId>,
    /// Newest first instead of best first (feeds).
    pub newest_first: bool,
}

impl Request {
    /// Reads a query string's parameters; unknown parameters are ignored
    /// (links carry others), wrong values of known ones are errors.
    pub fn parse(params: &HashMap<String, String>) -> std::result::Result<Self, BadParameter> {
        let mut request = Request {
            q: params
                .get("q")
                .map(|q| q.trim().chars().take(QUERY_CHARS_MAX).collect())
                .unwrap_or_default(),
            page: 1,
            per_page: PER_PAGE,
            ..Request::default()
        };
        for facet in Facet::ALL {
            let Some(raw) = params.get(facet.param()).map(|v| v.trim()) else {
                continue;
            };
            if raw.is_empty() {
                continue;
            }
            let value = filter_value(facet, raw).ok_or_else(|| BadParameter {
                field: facet.param().into(),
                message_de: format!("„{raw}“ ist kein gültiger Wert für diesen Filter."),
                message_en: format!("'{raw}' is not a valid value for this filter."),
            })?;
            if let Some(value) = value {
                request.filters.insert(facet, value);
            }
        }
        request.from = date(params, "from")?;
        request.to = date(params, "to")?;
        if let (Some(from), Some(to)) = (request.from, request.to) {
            if from > to {
                return Err(BadParameter {
                    field: "to".into(),
                    message_de: "Das Enddatum liegt vor dem Anfangsdatum.".into(),
                    message_en: "The end date is before the start date.".into(),
                });
            }
        }
        request.page = number(params, "page", 1, PAGE_MAX)?;
        request.per_page = number(params, "per_page", PER_PAGE, PER_PAGE_MAX)?;
        Ok(request)
    }

    /// Whether anything was asked at all (else the page shows only the form).
    pub fn is_empty(&self) -> bool {
        self.q.is_empty() && self.filters.is_empty() && self.from.is_none() && self.to.is_none()
    }

    /// The query string that asks for this search, without the page; with
    /// `toggle`, that facet value is added or, if chosen, removed.
    pub fn query_string(&self, toggle: Option<(Facet, &str)>) -> String {
        let mut filters = self.filters.clone();
        if let Some((facet, value)) = toggle {
            if filters.get(&facet).map(String::as_str) == Some(value) {
                filters.remove(&facet);
            } else {
                filters.insert(facet, value.to_owned());
            }
        }
        let mut pairs: Vec<(&str, String)> = Vec::new();
        if !self.q.is_empty() {
            pairs.push(("q", self.q.clone()));
        }
        for (facet, value) in &filters {
            pairs.push((facet.param(), value.clone()));
        }
        if let Some(from) = self.from {
            pairs.push(("from", from.to_string()));
        }
        if let Some(to) = self.to {
            pairs.push(("to", to.to_string()));
        }
        url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish()
    }

    fn store_query(&self, viewer: Viewer) -> SearchQuery {
        let mut query = SearchQuery::new(viewer, self.q.clone());
        query.filters = self.filters.clone();
        query.published_from = self.from.map(start_of);
        query.published_before = self.to.and_then(|d| d.succ_opt()).map(start_of);
        query.organization = self.organization;
        query.newest_first = self.newest_first;
        query.limit = self.per_page;
        query.offset = (self.page.max(1) - 1) * self.per_page;
        query
    }
}

fn start_of(day: NaiveDate) -> DateTime<Utc> {
    day.and_hms_opt(0, 0, 0).expect("midnight exists").and_utc()
}

/// The value kept for a filter, `None` for "no filter" (a "no" for
/// `seeking_partners`), or an error for a value that names nothing.
fn filter_value(facet: Facet, raw: &str) -> Option<Option<String>> {
    let known = |ok: bool| ok.then(|| Some(raw.to_owned()));
    match facet {
        Facet::Kind => known(DocKind::parse(raw).is_some()),
        Facet::Status => known(status_label(raw).is_some()),
        Facet::Themenfeld => known(Themenfeld::parse(raw).is_ok()),
        Facet::Service => ServiceKey::parse(raw).ok().map(|s| Some(s.slug())),
        Facet::Land => known(Bundesland::parse(raw).is_ok()),
        Facet::OrgKind => known(OrganizationKind::parse(raw).is_ok()),
        Facet::SizeClass => known(SizeClass::parse(raw).is_some()),
        Facet::Licence => known(raw.len() <= 100 && !raw.chars().any(char::is_control)),
        Facet::SeekingPartners => match raw {
            "yes" | "true" | "1" | "ja" => Some(Some("yes".into())),
            "no" | "false" | "0" | "nein" => Some(None),
            _ => None,
        },
    }
}

fn date(
    params: &HashMap<String, String>,
    field: &str,
) -> std::result::Result<Option<NaiveDate>, BadParameter> {
    match params
        .get(field)
        .map(|v| v.trim())
        .filter(|v| !v.is_empty())
    {
        None => Ok(None),
        Some(raw) => NaiveDate::parse_from_str(raw, "%Y-%m-%d")
            .map(Some)
            .map_err(|_| BadParameter {
                field: field.into(),
                message_de: format!("„{raw}“ ist kein Datum der Form JJJJ-MM-TT."),
                message_en: format!("'{raw}' is not a date of the form YYYY-MM-DD."),
            }),
    }
}

fn number(
    params: &HashMap<String, String>,
    field: &str,
    default: u32,
    max: u32,
) -> std::result::Result<u32, BadParameter> {
    match params
        .get(field)
        .map(|v| v.trim())
        .filter(|v| !v.is_empty())
    {
        None => Ok(default),
        Some(raw) => raw
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=max).contains(n))
            .ok_or_else(|| BadParameter {
                field: field.into(),
                message_de: format!("„{raw}“: erwartet wird eine Zahl von 1 bis {max}."),
                message_en: format!("'{raw}': expected a number from 1 to {max}."),
            }),
    }
}

/// The German and English names of a status value, whichever item type
/// it belongs to (their values do not overlap).
pub fn status_label(value: &str) -> Option<(&'static str, &'static str)> {
    use allmende_domain::{Maturity, ProjectStatus};
    match value {
        "open" => Some(("Offen", "Open")),
        "answered" => Some(("Beantwortet", "Answered")),
        v => ProjectStatus::parse(v)
            .map(|s| (s.label_de(), s.label_en()))
            .or_else(|_| Maturity::parse(v).map(|m| (m.label_de(), m.label_en())))
            .ok(),
    }
}

/// A facet value's German and English names (the value itself where it
/// has none, as licences).
pub fn value_labels(facet: Facet, value: &str) -> (String, String) {
    use allmende_domain::text::Labelled;
    fn both(l: impl Labelled) -> (String, String) {
        (l.label_de().to_owned(), l.label_en().to_owned())
    }
    let pair = |(de, en): (&str, &str)| (de.to_owned(), en.to_owned());
    let named = match facet {
        Facet::Kind => DocKind::parse(value).map(|k| {
            pair(match k {
                DocKind::Project => ("Vorhaben", "Project"),
                DocKind::Question => ("Frage", "Question"),
                DocKind::Solution => ("Lösung", "Solution"),
                DocKind::Organization => ("Organisation", "Organization"),
            })
        }),
        Facet::Status => status_label(value).map(pair),
        Facet::Themenfeld => Themenfeld::parse(value).ok().map(both),
        Facet::Service => ServiceKey::parse(value)
            .ok()
            .map(|s| (s.to_string(), s.to_string())),
        Facet::Land => Bundesland::parse(value).ok().map(both),
        Facet::OrgKind => OrganizationKind::parse(value).ok().map(both),
        Facet::SizeClass => SizeClass::parse(value).map(|s| pair((s.label_de(), s.label_en()))),
        Facet::Licence => None,
        Facet::SeekingPartners => Some(pair(("Ja", "Yes"))),
    };
    named.unwrap_or_else(|| (value.to_owned(), value.to_owned()))
}

/// One thing found.
#[derive(Clone, Debug)]
pub enum Found {
    Project(Project),
    Question(Question),
    Solution(Solution),
    Organization(Organization),
}

impl Found {
    pub fn kind(&self) -> DocKind {
        match self {
            Found::Project(_) => DocKind::Project,
            Found::Question(_) => DocKind::Question,
            Found::Solution(_) => DocKind::Solution,
            Found::Organization(_) => DocKind::Organization,
        }
    }
}

#[derive(Clone, Debug)]
pub struct Hit {
    pub found: Found,
    /// The words around the first match in the text, where it matched
    /// there.
    pub snippet: Option<Vec<Piece>>,
}

/// A page of hits with the counts over all of them.
#[derive(Clone, Debug, Default)]
pub struct Results {
    pub hits: Vec<Hit>,
    pub total: u64,
    pub facets: BTreeMap<Facet, Vec<(String, u64)>>,
    /// Names of the services in the facets, where the catalogue has them.
    pub service_names: HashMap<String, String>,
}

impl Results {
    pub fn pages(&self, per_page: u32) -> u32 {
        (self.total.div_ceil(u64::from(per_page)) as u32).clamp(1, PAGE_MAX)
    }
}

/// Runs `request` as `viewer`.
pub async fn run(store: &Store, viewer: Viewer, request: &Request) -> Result<Results> {
    let page = store.search().query(&request.store_query(viewer)).await?;
    let terms = analysis::terms(&request.q);
    let mut hits = Vec::with_capacity(page.hits.len());
    for hit in &page.hits {
        if let Some(found) = load(store, viewer, hit).await? {
            let snippet = snippet_of(&found, &terms);
            hits.push(Hit { found, snippet });
        }
    }
    let services: Vec<ServiceKey> = page
        .facets
        .get(&Facet::Service)
        .into_iter()
        .flatten()
        .filter_map(|(value, _)| ServiceKey::parse(value).ok())
        .collect();
    let service_names = service_names(store, &services).await?;
    Ok(Results {
        hits,
        total: page.total,
        facets: page.facets,
        service_names,
    })
}

/// The catalogue's names of `services`, by their slugs.
pub async fn service_names(
    store: &Store,
    services: &[ServiceKey],
) -> Result<HashMap<String, String>> {
    Ok(store
        .reference()
        .service_names(services)
        .await?
        .into_iter()
        .map(|(key, name)| (key.slug(), name))
        .collect())
}

/// Items like `item` (same service first, then similar text), for its page
/// and for the check before publishing; `bool` is "shares a service".
pub async fn similar<T: Item>(
    store: &Store,
    viewer: Viewer,
    draft: &T::Draft,
    exclude: Option<uuid::Uuid>,
    limit: u32,
) -> Result<Vec<(Found, bool)>> {
    let services = T::facets(draft).services;
    let text = [Some(T::title(draft)), T::summary(draft)]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    let mut out = Vec::new();
    for (hit, same_service) in store
        .search()
        .similar(viewer, &services, &text, exclude, limit)
        .await?
    {
        if let Some(found) = load(store, viewer, &hit).await? {
            out.push((found, same_service));
        }
    }
    Ok(out)
}

/// The thing a hit names, unless it went away since the query.
pub async fn load(store: &Store, viewer: Viewer, hit: &SearchHit) -> Result<Option<Found>> {
    let found = match hit.kind.item_kind() {
        Some(ItemKind::Project) => item::<Project>(store, viewer, hit)
            .await?
            .map(Found::Project),
        Some(ItemKind::Question) => item::<Question>(store, viewer, hit)
            .await?
            .map(Found::Question),
        Some(ItemKind::Solution) => item::<Solution>(store, viewer, hit)
            .await?
            .map(Found::Solution),
        _ => match store
            .organizations()
            .get(allmende_domain::OrganizationId(hit.id))
            .await
        {
            Ok(org) => Some(Found::Organization(org)),
            Err(StoreError::NotFound) => None,
            Err(e) => return Err(e.into()),
        },
    };
    Ok(found)
}

async fn item<T: Item>(store: &Store, viewer: Viewer, hit: &SearchHit) -> Result<Option<T>> {
    match super::items::get::<T>(store, viewer, hit.id).await {
        Ok(item) => Ok(Some(item)),
        Err(UseCaseError::NotFound) => Ok(None),
        Err(e) => Err(e),
    }
}

fn snippet_of(found: &Found, terms: &[analysis::Term]) -> Option<Vec<Piece>> {
    if terms.is_empty() {
        return None;
    }
    fn of_item<T: Item>(item: &T, terms: &[analysis::Term]) -> Option<Vec<Piece>> {
        [T::summary(item.draft()), T::body(item.draft())]
            .into_iter()
            .flatten()
            .find_map(|text| analysis::snippet(text, terms))
    }
    match found {
        Found::Project(p) => of_item(p, terms),
        Found::Question(q) => of_item(q, terms),
        Found::Solution(s) => of_item(s, terms),
        Found::Organization(o) => o
            .profile
            .description
            .as_deref()
            .and_then(|d| analysis::snippet(d, terms)),
    }
}

/// The text of a snippet without marks (feeds and the API).
pub fn plain(pieces: &[Piece]) -> String {
    pieces.iter().map(|p| p.text.as_str()).collect()
}
