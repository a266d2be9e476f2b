//! The contract every published item type fulfils, and the kinds of item
//! the node knows.
//!
//! Projects, questions and solutions are *items*: an organization publishes
//! them from a form or the API, they federate as ActivityStreams objects,
//! they are listed, searched and read under one visibility rule. Each type
//! implements [`Item`] in its own file (`project.rs`, …); the store,
//! federation and pages work on any `T: Item`, so a new item type is a new
//! file here plus its pages, not edits across the code base.
//!
//! [`ItemKind`] names every kind of thing the node stores per organization —
//! the three items plus answers and fediverse posts — with the names it has
//! in URLs, tables, ActivityStreams and the search index. No kind is a bare
//! string anywhere else.

use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::ValidationErrors;
use crate::organization::OrganizationId;
use crate::question::AnswerId;
use crate::themenfeld::Themenfeld;

/// Every kind of content an organization has on a node.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ItemKind {
    Project,
    Question,
    Answer,
    Solution,
    /// A note or article of a followed fediverse account that is not an
    /// Allmende item (a Mastodon post, say).
    Post,
}

impl ItemKind {
    pub const ALL: [ItemKind; 5] = [
        ItemKind::Project,
        ItemKind::Question,
        ItemKind::Answer,
        ItemKind::Solution,
        ItemKind::Post,
    ];

    /// The kind's name: `itemType` in ActivityPub documents, `type` in the
    /// API's feed, and the kind of a search hit.
    pub fn slug(self) -> &'static str {
        match self {
            ItemKind::Project => "project",
            ItemKind::Question => "question",
            ItemKind::Answer => "answer",
            ItemKind::Solution => "solution",
            ItemKind::Post => "post",
        }
    }

    /// The URL path segment and API collection (`/projects/{id}`).
    pub fn collection(self) -> &'static str {
        match self {
            ItemKind::Project => "projects",
            ItemKind::Question => "questions",
            ItemKind::Answer => "answers",
            ItemKind::Solution => "solutions",
            ItemKind::Post => "posts",
        }
    }

    /// The database table. A constant, never user input, so the store may
    /// put it into SQL.
    pub fn table(self) -> &'static str {
        // Each kind's table is named like its collection.
        self.collection()
    }

    /// The ActivityStreams type plain fediverse software sees: projects and
    /// solutions are articles, questions and answers notes. (Posts keep the
    /// type they arrived with; `Note` is the usual one.)
    pub fn as_type(self) -> &'static str {
        match self {
            ItemKind::Project | ItemKind::Solution => "Article",
            ItemKind::Question | ItemKind::Answer | ItemKind::Post => "Note",
        }
    }

    /// Whether the kind is an [`Item`] type (project, question, solution),
    /// which organizations publish and edit.
    pub fn is_item(self) -> bool {
        match self {
            ItemKind::Project | ItemKind::Question | ItemKind::Solution => true,
            ItemKind::Answer | ItemKind::Post => false,
        }
    }

    /// The kind with this slug (`project`), if any.
    pub fn parse(slug: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.slug() == slug)
    }

    /// The kind whose URL segment is `segment` (`projects`), if any.
    pub fn from_collection(segment: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.collection() == segment)
    }
}

impl std::fmt::Display for ItemKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.slug())
    }
}

impl Serialize for ItemKind {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.slug())
    }
}

impl<'de> Deserialize<'de> for ItemKind {
    /// Reads a slug, or a collection name as versions before 0.2 wrote in
    /// queued announcements.
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        ItemKind::parse(&raw)
            .or_else(|| ItemKind::from_collection(&raw))
            .ok_or_else(|| serde::de::Error::custom(format!("unknown item kind {raw:?}")))
    }
}

crate::text::labelled_enum! {
    /// Who may read an item. Public items are for everyone; followers-only
    /// ones for the users of organizations that follow the author (the rule
    /// is in the store's `visibility.rs`).
    Audience {
        Public = "public", "Öffentlich", "Public";
        Followers = "followers", "Folgende Organisationen", "Followers";
    }
}

/// Who is reading. Every read path (pages, lists, search, feeds, API,
/// ActivityPub documents, outbox pages) knows its viewer and asks the
/// store's visibility rule with it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Viewer {
    /// Nobody signed in: a visitor of the pages, a script without a token,
    /// or another server fetching documents (signed fetches are not yet
    /// told apart).
    Public,
    /// A signed-in user (session or API token) of an organization on this
    /// node.
    Member(OrganizationId),
}

impl Viewer {
    /// The reader's organization, if signed in.
    pub fn organization(self) -> Option<OrganizationId> {
        match self {
            Viewer::Public => None,
            Viewer::Member(org) => Some(org),
        }
    }
}

/// What an item type is, in one place: how its input is validated, what
/// its parts are, and what the index and ActivityStreams see of it.
pub trait Item: Clone + Serialize + Send + Sync + Unpin + 'static {
    const KIND: ItemKind;
    /// The validated content, as stored.
    type Draft: Clone + Serialize + DeserializeOwned + Send + Sync;
    /// Raw input as it arrives from a form, the API or another node.
    type Input: Clone + Default + Serialize + DeserializeOwned + Send + Sync;

    fn validate(input: &Self::Input) -> Result<Self::Draft, ValidationErrors>;
    /// Rebuilds an item from what the store kept.
    fn from_record(record: ItemRecord, draft: Self::Draft) -> Self;
    /// The input that validates to `draft` (to edit it, or to send it).
    fn to_input(draft: &Self::Draft) -> Self::Input;

    fn id(&self) -> Uuid;
    fn organization_id(&self) -> OrganizationId;
    fn draft(&self) -> &Self::Draft;
    fn created_at(&self) -> DateTime<Utc>;
    fn updated_at(&self) -> DateTime<Utc>;

    fn title(draft: &Self::Draft) -> &str;
    /// A short summary, where the type has one.
    fn summary(draft: &Self::Draft) -> Option<&str>;
    /// The main text, where the type has one.
    fn body(draft: &Self::Draft) -> Option<&str>;
    fn themenfeld(draft: &Self::Draft) -> Option<Themenfeld>;
    /// Who may read it; only questions can be restricted so far.
    fn audience(_draft: &Self::Draft) -> Audience {
        Audience::Public
    }
    /// The text the full-text index finds the item by, besides its title.
    fn search_text(draft: &Self::Draft) -> String;
    /// What search facets and service pages see of the item.
    fn facets(draft: &Self::Draft) -> ItemFacets;
    /// The address of the item this one adapts, as entered (a solution's
    /// `variant_of`), for the use case to check against what is known.
    fn original_mut(_input: &mut Self::Input) -> Option<&mut Option<String>> {
        None
    }
    /// The accepted answer, for questions.
    fn accepted_answer(&self) -> Option<AnswerId> {
        None
    }

    fn is_public(draft: &Self::Draft) -> bool {
        Self::audience(draft) == Audience::Public
    }
}

/// What search filters by, beside the Themenfeld and the author's
/// profile: one status value (a project's stage, a solution's maturity;
/// a question's is kept by the store, which knows its accepted answer),
/// the licence, whether partners are sought, and the services.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ItemFacets {
    pub status: Option<&'static str>,
    pub licence: Option<String>,
    pub seeking_partners: bool,
    pub services: Vec<crate::ServiceKey>,
}

impl ItemFacets {
    /// The services named by LeiKa keys and OZG ids, without repeats.
    pub fn services_of(leika: &[crate::LeikaKey], ozg: &[crate::OzgId]) -> Vec<crate::ServiceKey> {
        let mut services: Vec<_> = (leika.iter().cloned().map(crate::ServiceKey::Leika))
            .chain(ozg.iter().copied().map(crate::ServiceKey::Ozg))
            .collect();
        services.sort();
        services.dedup();
        services
    }
}

/// Runs `$body` with the type name `$T` standing for the [`Item`] type of
/// `$kind`; for the kinds that are not items (answers, posts) it runs
/// `$other`, with `$kind_name` bound to the kind. The one place that maps
/// kinds to item types: a new item kind fails to compile here until it is
/// added.
///
/// ```text
/// for_item_kind!(kind, T => store.items::<T>().count().await, other => Err(other))
/// ```
#[macro_export]
macro_rules! for_item_kind {
    ($kind:expr, $T:ident => $body:expr, $kind_name:ident => $other:expr) => {
        match $kind {
            $crate::ItemKind::Project => {
                type $T = $crate::Project;
                $body
            }
            $crate::ItemKind::Question => {
                type $T = $crate::Question;
                $body
            }
            $crate::ItemKind::Solution => {
                type $T = $crate::Solution;
                $body
            }
            $kind_name @ ($crate::ItemKind::Answer | $crate::ItemKind::Post) => $other,
        }
    };
}

/// What the store keeps of an item beside its content.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ItemRecord {
    pub id: Uuid,
    pub organization_id: OrganizationId,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Questions only: the answer the asker accepted.
    pub accepted_answer: Option<AnswerId>,
}

/// Joins the optional texts of an item for the search index.
pub fn join_text<'s>(parts: impl IntoIterator<Item = Option<&'s str>>) -> String {
    parts.into_iter().flatten().collect::<Vec<_>>().join("\n")
}

/// The LeiKa keys of an item as one line of the search index.
pub fn keys_text(keys: &[crate::LeikaKey]) -> String {
    keys.iter()
        .map(|k| k.as_str())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Implements [`Item::validate`] and [`Item::to_input`] with the input
/// type's own `validate` and `From<&Draft>`.
macro_rules! input_rules {
    () => {
        fn validate(input: &Self::Input) -> Result<Self::Draft, $crate::ValidationErrors> {
            input.validate()
        }
        fn to_input(draft: &Self::Draft) -> Self::Input {
            Self::Input::from(draft)
        }
    };
}
pub(crate) use input_rules;

/// Implements the text parts of [`Item`] for drafts with `title`, optional
/// `summary` and `body`, and `themenfeld` fields.
macro_rules! text_parts {
    () => {
        fn title(d: &Self::Draft) -> &str {
            &d.title
        }
        fn summary(d: &Self::Draft) -> Option<&str> {
            d.summary.as_deref()
        }
        fn body(d: &Self::Draft) -> Option<&str> {
            d.body.as_deref()
        }
        fn themenfeld(d: &Self::Draft) -> Option<$crate::Themenfeld> {
            d.themenfeld
        }
    };
}
pub(crate) use text_parts;

/// Implements the parts of [`Item`] that read the fields every item struct
/// has (`id`, `organization_id`, `content`, `created_at`, `updated_at`).
macro_rules! item_fields {
    ($id:ident) => {
        fn from_record(r: $crate::item::ItemRecord, content: Self::Draft) -> Self {
            Self {
                id: $id(r.id),
                organization_id: r.organization_id,
                content,
                created_at: r.created_at,
                updated_at: r.updated_at,
            }
        }
        $crate::item::item_fields!();
    };
    () => {
        fn id(&self) -> uuid::Uuid {
            self.id.0
        }
        fn organization_id(&self) -> $crate::OrganizationId {
            self.organization_id
        }
        fn draft(&self) -> &Self::Draft {
            &self.content
        }
        fn created_at(&self) -> chrono::DateTime<chrono::Utc> {
            self.created_at
        }
        fn updated_at(&self) -> chrono::DateTime<chrono::Utc> {
            self.updated_at
        }
    };
}
pub(crate) use item_fields;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_have_one_name_each_and_parse_back() {
        for kind in ItemKind::ALL {
            assert_eq!(ItemKind::parse(kind.slug()), Some(kind));
            assert_eq!(ItemKind::from_collection(kind.collection()), Some(kind));
            let json = serde_json::to_string(&kind).unwrap();
            assert_eq!(serde_json::from_str::<ItemKind>(&json).unwrap(), kind);
        }
        assert_eq!(ItemKind::parse("projects"), None);
        assert_eq!(ItemKind::from_collection("project"), None);
        // Announcements queued by earlier versions name the collection.
        assert_eq!(
            serde_json::from_str::<ItemKind>("\"solutions\"").unwrap(),
            ItemKind::Solution
        );
        assert!(serde_json::from_str::<ItemKind>("\"poll\"").is_err());
    }
}
