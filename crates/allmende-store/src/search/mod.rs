//! Search over everything the node holds — projects, questions with their
//! answers, solutions, organizations and groups, local and remote — with
//! facet counts and paging, and the "similar items" of a project.
//!
//! - `analysis.rs`: how text becomes terms (German folding and stemming),
//!   the same for the index and for queries, and snippets.
//! - `index.rs`: keeping the rows (`search_docs`) in step with the items.
//! - here: reading them. SQLite matches with FTS5 and ranks with bm25,
//!   PostgreSQL with a GIN-indexed `tsvector` and `ts_rank`; both see the
//!   same stems, so they find the same things. Hits are only what the
//!   viewer may read (the rule of `visibility.rs`, in the same statement).

pub mod analysis;
pub(crate) mod index;

use std::collections::BTreeMap;

use allmende_domain::{ItemKind, OrganizationId, ServiceKey, Viewer};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::db::{query, Arg, Engine, Pool};
use crate::visibility::{readable, viewer_arg};
use crate::StoreError;

pub(crate) use index::{
    add_item, refresh_item, refresh_organization, remove, remove_of_organization,
};

/// What a search row describes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DocKind {
    Project,
    Question,
    Solution,
    Organization,
}

impl DocKind {
    pub const ALL: [DocKind; 4] = [
        DocKind::Project,
        DocKind::Question,
        DocKind::Solution,
        DocKind::Organization,
    ];

    pub fn slug(self) -> &'static str {
        match self {
            DocKind::Project => "project",
            DocKind::Question => "question",
            DocKind::Solution => "solution",
            DocKind::Organization => "organization",
        }
    }

    pub fn parse(slug: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.slug() == slug)
    }

    pub fn from_item(kind: ItemKind) -> Option<Self> {
        match kind {
            ItemKind::Project => Some(DocKind::Project),
            ItemKind::Question => Some(DocKind::Question),
            ItemKind::Solution => Some(DocKind::Solution),
            ItemKind::Answer | ItemKind::Post => None,
        }
    }

    pub fn item_kind(self) -> Option<ItemKind> {
        match self {
            DocKind::Project => Some(ItemKind::Project),
            DocKind::Question => Some(ItemKind::Question),
            DocKind::Solution => Some(ItemKind::Solution),
            DocKind::Organization => None,
        }
    }
}

/// Size classes of the author by population, after the usual German
/// distinction of small towns, towns and cities.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SizeClass {
    Under5000,
    Under20000,
    Under100000,
    City,
}

impl SizeClass {
    pub const ALL: [SizeClass; 4] = [
        SizeClass::Under5000,
        SizeClass::Under20000,
        SizeClass::Under100000,
        SizeClass::City,
    ];

    pub fn of(population: u32) -> Self {
        match population {
            0..5_000 => SizeClass::Under5000,
            5_000..20_000 => SizeClass::Under20000,
            20_000..100_000 => SizeClass::Under100000,
            _ => SizeClass::City,
        }
    }

    pub fn slug(self) -> &'static str {
        match self {
            SizeClass::Under5000 => "under-5000",
            SizeClass::Under20000 => "5000-20000",
            SizeClass::Under100000 => "20000-100000",
            SizeClass::City => "100000-plus",
        }
    }

    pub fn parse(slug: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.slug() == slug)
    }

    pub fn label_de(self) -> &'static str {
        match self {
            SizeClass::Under5000 => "unter 5.000 Einwohner",
            SizeClass::Under20000 => "5.000 bis 20.000 Einwohner",
            SizeClass::Under100000 => "20.000 bis 100.000 Einwohner",
            SizeClass::City => "ab 100.000 Einwohner",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            SizeClass::Under5000 => "under 5,000 inhabitants",
            SizeClass::Under20000 => "5,000 to 20,000 inhabitants",
            SizeClass::Under100000 => "20,000 to 100,000 inhabitants",
            SizeClass::City => "100,000 inhabitants or more",
        }
    }
}

/// The facets, in the order pages show them. Each is a column of
/// `search_docs`, except `service` (the `search_services` table).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Facet {
    Kind,
    Status,
    Themenfeld,
    Service,
    Land,
    OrgKind,
    SizeClass,
    Licence,
    SeekingPartners,
}

impl Facet {
    pub const ALL: [Facet; 9] = [
        Facet::Kind,
        Facet::Status,
        Facet::Themenfeld,
        Facet::Service,
        Facet::Land,
        Facet::OrgKind,
        Facet::SizeClass,
        Facet::Licence,
        Facet::SeekingPartners,
    ];

    /// The parameter name in URLs and the API, and the facet's key in the
    /// API's answer.
    pub fn param(self) -> &'static str {
        match self {
            Facet::Kind => "type",
            Facet::Status => "status",
            Facet::Themenfeld => "themenfeld",
            Facet::Service => "service",
            Facet::Land => "bundesland",
            Facet::OrgKind => "organization_kind",
            Facet::SizeClass => "size",
            Facet::Licence => "licence",
            Facet::SeekingPartners => "seeking_partners",
        }
    }

    pub fn parse(param: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.param() == param)
    }

    /// The column of `search_docs` (aliased `d`) that holds the facet.
    fn column(self) -> &'static str {
        match self {
            Facet::Kind => "kind",
            Facet::Status => "status",
            Facet::Themenfeld => "themenfeld",
            Facet::Service => "service",
            Facet::Land => "land",
            Facet::OrgKind => "org_kind",
            Facet::SizeClass => "size_class",
            Facet::Licence => "licence",
            Facet::SeekingPartners => "seeking_partners",
        }
    }
}

/// A search: words, filters (one value per facet) and a page.
#[derive(Clone, Debug)]
pub struct SearchQuery {
    pub viewer: Viewer,
    /// What was typed; empty lists everything the filters let through,
    /// newest first.
    pub text: String,
    /// Facet → chosen value (for `seeking_partners`: "yes").
    pub filters: BTreeMap<Facet, String>,
    pub organization: Option<OrganizationId>,
    pub published_from: Option<DateTime<Utc>>,
    /// Exclusive.
    pub published_before: Option<DateTime<Utc>>,
    pub limit: u32,
    pub offset: u32,
    /// Newest first even with words (feeds), instead of best first.
    pub newest_first: bool,
}

impl SearchQuery {
    pub fn new(viewer: Viewer, text: impl Into<String>) -> Self {
        Self {
            viewer,
            text: text.into(),
            filters: BTreeMap::new(),
            organization: None,
            published_from: None,
            published_before: None,
            limit: 20,
            offset: 0,
            newest_first: false,
        }
    }

    pub fn filter(mut self, facet: Facet, value: impl Into<String>) -> Self {
        self.filters.insert(facet, value.into());
        self
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SearchHit {
    pub kind: DocKind,
    pub id: Uuid,
}

/// One page of hits, how many there are in all, and the facet counts over
/// all of them.
#[derive(Clone, Debug, Default)]
pub struct SearchPage {
    pub hits: Vec<SearchHit>,
    pub total: u64,
    /// Facet → (value, count), most frequent first.
    pub facets: BTreeMap<Facet, Vec<(String, u64)>>,
}

/// How many values of the service facet are counted; the rest are found
/// by typing the key.
const SERVICE_VALUES_MAX: usize = 30;

pub struct Search<'a> {
    pool: &'a Pool,
}

/// Placeholders numbered in the order their arguments are bound.
#[derive(Default)]
struct Args(Vec<Arg>);

impl Args {
    fn push(&mut self, arg: impl Into<Arg>) -> String {
        self.0.push(arg.into());
        format!("${}", self.0.len())
    }
}

impl<'a> Search<'a> {
    pub(crate) fn new(pool: &'a Pool) -> Self {
        Self { pool }
    }

    /// Rebuilds the index if it was made by another version of the
    /// analysis; see [`index::rebuild_if_stale`].
    pub async fn rebuild_if_stale(&self) -> Result<u64, StoreError> {
        index::rebuild_if_stale(self.pool).await
    }

    /// Rebuilds every row now (`allmende search reindex`); returns how
    /// many were written.
    pub async fn rebuild(&self) -> Result<u64, StoreError> {
        query("UPDATE search_meta SET version = 0 WHERE id = 1")
            .execute(self.pool)
            .await?;
        index::rebuild_if_stale(self.pool).await
    }

    /// Rewrites the rows of every organization and the profile facets of
    /// what they published (after the reference directory changed).
    pub async fn refresh_organizations(&self) -> Result<u64, StoreError> {
        let ids: Vec<String> = query("SELECT id FROM organizations")
            .fetch_all(self.pool)
            .await?
            .iter()
            .map(|row| row.col("id"))
            .collect::<Result<_, _>>()?;
        let mut tx = self.pool.begin().await?;
        for id in &ids {
            let id = Uuid::parse_str(id)
                .map_err(|_| StoreError::Corrupt(format!("organization id {id:?}")))?;
            refresh_organization(&mut tx, OrganizationId(id)).await?;
        }
        tx.commit().await?;
        Ok(ids.len() as u64)
    }

    /// The best `limit` hits for `text`, of every kind, without facets.
    pub async fn find(
        &self,
        viewer: Viewer,
        text: &str,
        limit: u32,
    ) -> Result<Vec<SearchHit>, StoreError> {
        let mut search = SearchQuery::new(viewer, text);
        search.limit = limit;
        Ok(self.query(&search).await?.hits)
    }

    /// The `FROM … WHERE …` of the rows a search matches, and the
    /// expression they are ranked by (lower first).
    fn matching(
        &self,
        search: &SearchQuery,
        terms: &[analysis::Term],
        any: bool,
        args: &mut Args,
    ) -> Option<(String, String)> {
        let mut conditions = vec![readable("d", &args.push(viewer_arg(search.viewer)))];
        let (from, rank) = if terms.is_empty() {
            ("search_docs d".to_owned(), "0".to_owned())
        } else {
            match self.pool.engine() {
                Engine::Sqlite => {
                    let q = args.push(analysis::fts5(terms, any)?);
                    conditions.push(format!("search_text MATCH {q}"));
                    // CROSS JOIN keeps the text match as the outer loop:
                    // with filters on `search_docs`, SQLite's planner would
                    // otherwise walk the rows and ask FTS5 for each (3 s
                    // instead of 0.1 s at 320,000 rows).
                    (
                        "search_text CROSS JOIN search_docs d ON d.id = search_text.rowid"
                            .to_owned(),
                        "bm25(search_text, 5.0, 1.0)".to_owned(),
                    )
                }
                Engine::Postgres => {
                    let q = args.push(analysis::tsquery(terms, any)?);
                    conditions.push(format!("d.document @@ to_tsquery('simple', {q})"));
                    (
                        "search_docs d".to_owned(),
                        format!("-ts_rank(d.document, to_tsquery('simple', {q}))"),
                    )
                }
            }
        };
        for (facet, value) in &search.filters {
            match facet {
                Facet::Service => {
                    let v = args.push(value.as_str());
                    conditions.push(format!(
                        "d.id IN (SELECT doc_id FROM search_services WHERE service = {v})"
                    ));
                }
                Facet::SeekingPartners => conditions.push("d.seeking_partners = TRUE".into()),
                facet => {
                    let v = args.push(value.as_str());
                    conditions.push(format!("d.{} = {v}", facet.column()));
                }
            }
        }
        if let Some(organization) = search.organization {
            let v = args.push(organization.to_string());
            conditions.push(format!("d.organization_id = {v}"));
        }
        if let Some(from) = search.published_from {
            let v = args.push(from);
            conditions.push(format!("d.published >= {v}"));
        }
        if let Some(before) = search.published_before {
            let v = args.push(before);
            conditions.push(format!("d.published < {v}"));
        }
        Some((format!("{from} WHERE {}", conditions.join(" AND ")), rank))
    }

    /// One page of what `search` finds, best first (newest first without
    /// words), with the number of hits and the facet counts over all of
    /// them, in one statement.
    pub async fn query(&self, search: &SearchQuery) -> Result<SearchPage, StoreError> {
        let terms = analysis::terms(&search.text);
        if terms.is_empty() && !search.text.trim().is_empty() {
            // Only punctuation: nothing to look for.
            return Ok(SearchPage::default());
        }
        let mut args = Args::default();
        let Some((matching, rank)) = self.matching(search, &terms, false, &mut args) else {
            return Ok(SearchPage::default());
        };
        let rank = if search.newest_first {
            "0".to_owned()
        } else {
            rank
        };
        let limit = args.push(i64::from(search.limit.clamp(1, 100)));
        let offset = args.push(i64::from(search.offset));
        let counted: Vec<String> = Facet::ALL
            .iter()
            .filter(|f| !matches!(f, Facet::Service | Facet::SeekingPartners))
            .map(|f| {
                format!(
                    "SELECT '{p}' AS facet, {c} AS value, COUNT(*) AS n FROM m WHERE {c} IS NOT NULL GROUP BY {c}",
                    p = f.param(),
                    c = f.column()
                )
            })
            .collect();
        let statement = format!(
            "WITH m AS MATERIALIZED (
                 SELECT d.id, d.kind, d.item_id, d.status, d.themenfeld, d.land, d.org_kind,
                        d.size_class, d.licence, d.seeking_partners, d.published, {rank} AS rank
                 FROM {matching})
             SELECT 'hit' AS facet, kind || ' ' || item_id AS value, n FROM (
                 SELECT kind, item_id, ROW_NUMBER() OVER (ORDER BY rank, published DESC, id) AS n
                 FROM m ORDER BY rank, published DESC, id LIMIT {limit} OFFSET {offset}) page
             UNION ALL {counted}
             UNION ALL SELECT 'seeking_partners', 'yes', COUNT(*) FROM m WHERE seeking_partners = TRUE
             UNION ALL SELECT 'service', s.service, COUNT(*) FROM m JOIN search_services s ON s.doc_id = m.id GROUP BY s.service",
            counted = counted.join(" UNION ALL ")
        );
        let mut statement = query(statement);
        for arg in args.0 {
            statement = statement.bind(arg);
        }
        let rows = statement.fetch_all(self.pool).await?;
        let mut page = SearchPage::default();
        let mut hits = Vec::new();
        for row in &rows {
            let facet: String = row.col("facet")?;
            let value: String = row.col("value")?;
            let n: i64 = row.col("n")?;
            if facet == "hit" {
                hits.push((n, parse_hit(&value)?));
            } else if let Some(facet) = Facet::parse(&facet) {
                if n > 0 {
                    page.facets
                        .entry(facet)
                        .or_default()
                        .push((value, n as u64));
                }
            }
        }
        hits.sort_by_key(|(n, _)| *n);
        page.hits = hits.into_iter().map(|(_, hit)| hit).collect();
        for values in page.facets.values_mut() {
            values.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        }
        if let Some(services) = page.facets.get_mut(&Facet::Service) {
            services.truncate(SERVICE_VALUES_MAX);
        }
        page.total = page
            .facets
            .get(&Facet::Kind)
            .map_or(0, |kinds| kinds.iter().map(|(_, n)| n).sum());
        Ok(page)
    }

    /// Every service something `viewer` may read is about, with how many
    /// entries, most first.
    pub async fn services(&self, viewer: Viewer) -> Result<Vec<(String, u64)>, StoreError> {
        let rows = query(format!(
            "SELECT s.service, COUNT(*) AS n FROM search_services s
             JOIN search_docs d ON d.id = s.doc_id
             WHERE {} GROUP BY s.service ORDER BY n DESC, s.service",
            readable("d", "$1")
        ))
        .bind(viewer_arg(viewer))
        .fetch_all(self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let n: i64 = row.col("n")?;
                Ok((row.col("service")?, n as u64))
            })
            .collect()
    }

    /// The organizations with something `viewer` may read on `service`
    /// (each once), with the Bundesland their profile gives.
    pub async fn authors_of_service(
        &self,
        viewer: Viewer,
        service: &ServiceKey,
    ) -> Result<Vec<(OrganizationId, Option<String>)>, StoreError> {
        let rows = query(format!(
            "SELECT DISTINCT d.organization_id, d.land FROM search_services s
             JOIN search_docs d ON d.id = s.doc_id
             WHERE s.service = $1 AND d.kind <> 'organization' AND {}",
            readable("d", "$2")
        ))
        .bind(service.slug())
        .bind(viewer_arg(viewer))
        .fetch_all(self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let id = crate::uuid_column(row, "organization_id")?;
                Ok((OrganizationId(id), row.col("land")?))
            })
            .collect()
    }

    /// Items like one described by `services` and `text` (its title and
    /// summary): first those that share a service with it, most shared
    /// first, then those whose text is closest. Organizations and
    /// `exclude` (the item itself) are left out.
    pub async fn similar(
        &self,
        viewer: Viewer,
        services: &[ServiceKey],
        text: &str,
        exclude: Option<Uuid>,
        limit: u32,
    ) -> Result<Vec<(SearchHit, bool)>, StoreError> {
        let mut found: Vec<(SearchHit, bool)> = Vec::new();
        let excluded = exclude.map(|id| id.to_string()).unwrap_or_default();
        if !services.is_empty() {
            let mut args = Args::default();
            let viewer_slot = args.push(viewer_arg(viewer));
            let slots: Vec<String> = services.iter().map(|s| args.push(s.slug())).collect();
            let exclude_slot = args.push(excluded.as_str());
            let limit_slot = args.push(i64::from(limit));
            let mut statement = query(format!(
                "SELECT d.kind, d.item_id, COUNT(*) AS shared, d.published FROM search_services s
                 JOIN search_docs d ON d.id = s.doc_id
                 WHERE s.service IN ({}) AND d.kind <> 'organization' AND d.item_id <> {exclude_slot}
                   AND {}
                 GROUP BY d.id, d.kind, d.item_id, d.published
                 ORDER BY shared DESC, d.published DESC LIMIT {limit_slot}",
                slots.join(", "),
                readable("d", &viewer_slot)
            ));
            for arg in args.0 {
                statement = statement.bind(arg);
            }
            for row in statement.fetch_all(self.pool).await? {
                let kind: String = row.col("kind")?;
                let id: String = row.col("item_id")?;
                found.push((parse_hit(&format!("{kind} {id}"))?, true));
            }
        }
        let terms = analysis::terms(text);
        if found.len() < limit as usize && !terms.is_empty() {
            let mut search = SearchQuery::new(viewer, text);
            search.limit = limit + found.len() as u32 + 1;
            let mut args = Args::default();
            if let Some((matching, rank)) = self.matching(&search, &terms, true, &mut args) {
                let exclude_slot = args.push(excluded.as_str());
                let limit_slot = args.push(i64::from(search.limit));
                let mut statement = query(format!(
                    "SELECT d.kind, d.item_id FROM {matching}
                       AND d.kind <> 'organization' AND d.item_id <> {exclude_slot}
                     ORDER BY {rank}, d.published DESC LIMIT {limit_slot}"
                ));
                for arg in args.0 {
                    statement = statement.bind(arg);
                }
                for row in statement.fetch_all(self.pool).await? {
                    let kind: String = row.col("kind")?;
                    let id: String = row.col("item_id")?;
                    let hit = parse_hit(&format!("{kind} {id}"))?;
                    if found.len() < limit as usize && !found.iter().any(|(h, _)| *h == hit) {
                        found.push((hit, false));
                    }
                }
            }
        }
        Ok(found)
    }
}

fn parse_hit(value: &str) -> Result<SearchHit, StoreError> {
    let corrupt = || StoreError::Corrupt(format!("search row {value:?}"));
    let (kind, id) = value.split_once(' ').ok_or_else(corrupt)?;
    Ok(SearchHit {
        kind: DocKind::parse(kind).ok_or_else(corrupt)?,
        id: Uuid::parse_str(id).map_err(|_| corrupt())?,
    })
}
