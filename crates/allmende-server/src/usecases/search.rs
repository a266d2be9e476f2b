//! Full-text search over the items a viewer may read, for the search page
//! and the API's `q` parameter.

use allmende_domain::{Item, ItemKind, Project, Question, Solution, Viewer};
use allmende_store::{SearchHit, Store};

use super::{Result, UseCaseError};

/// Search hits of every item type, each list best first.
#[derive(Default)]
pub struct Found {
    pub projects: Vec<Project>,
    pub questions: Vec<Question>,
    pub solutions: Vec<Solution>,
}

impl Found {
    pub fn total(&self) -> usize {
        self.projects.len() + self.questions.len() + self.solutions.len()
    }
}

/// The best `limit` hits over all item types.
pub async fn everything(store: &Store, viewer: Viewer, q: &str, limit: u32) -> Result<Found> {
    let mut found = Found::default();
    for hit in store.search().query(viewer, q, limit).await? {
        match hit.kind {
            ItemKind::Project => found.projects.extend(load(store, viewer, &hit).await?),
            ItemKind::Question => found.questions.extend(load(store, viewer, &hit).await?),
            ItemKind::Solution => found.solutions.extend(load(store, viewer, &hit).await?),
            // Answers and posts are not in the index.
            ItemKind::Answer | ItemKind::Post => {}
        }
    }
    Ok(found)
}

/// The best `limit` hits of one item type.
pub async fn of_type<T: Item>(
    store: &Store,
    viewer: Viewer,
    q: &str,
    limit: u32,
) -> Result<Vec<T>> {
    // The index ranks all types together; ask for enough to fill `limit`.
    let hits = store.search().query(viewer, q, limit.max(500)).await?;
    let mut out = Vec::new();
    for hit in hits.iter().filter(|h| h.kind == T::KIND) {
        out.extend(load::<T>(store, viewer, hit).await?);
        if out.len() >= limit as usize {
            break;
        }
    }
    Ok(out)
}

/// The item a hit names, unless it went away since the query.
async fn load<T: Item>(store: &Store, viewer: Viewer, hit: &SearchHit) -> Result<Option<T>> {
    match super::items::get::<T>(store, viewer, hit.id).await {
        Ok(item) => Ok(Some(item)),
        Err(UseCaseError::NotFound) => Ok(None),
        Err(e) => Err(e),
    }
}
