//! Publishing, editing and deleting projects, questions and solutions. The
//! three share one flow; [`Publishable`] says how each validates its input.

use allmende_domain::{
    OrganizationId, Problem, Project, ProjectInput, Question, QuestionInput, Solution,
    SolutionInput, ValidationErrors,
};
use allmende_store::items::StoredItem;
use allmende_store::{ItemStore, Store, User};
use chrono::Utc;
use serde::de::DeserializeOwned;
use serde::Serialize;
use uuid::Uuid;

use super::{Result, UseCaseError};

pub trait Publishable: StoredItem + Serialize + Clone + Sync {
    /// Raw input as it arrives from the API or a form.
    type Input: DeserializeOwned + Serialize + Default + Clone + Send + Sync;
    /// URL segment and API collection name.
    const COLLECTION: &'static str;

    fn validate(input: &Self::Input) -> std::result::Result<Self::Draft, ValidationErrors>;
    fn to_input(draft: &Self::Draft) -> Self::Input;
    fn id(&self) -> Uuid;
    fn organization_id(&self) -> OrganizationId;
    fn draft(&self) -> &Self::Draft;
    fn created_at(&self) -> chrono::DateTime<Utc>;
    fn items(store: &Store) -> ItemStore<'_, Self>;
}

macro_rules! publishable {
    ($item:ty, $input:ty, $collection:literal, $items:ident) => {
        impl Publishable for $item {
            type Input = $input;
            const COLLECTION: &'static str = $collection;

            fn validate(input: &$input) -> std::result::Result<Self::Draft, ValidationErrors> {
                input.validate()
            }
            fn to_input(draft: &Self::Draft) -> $input {
                <$input>::from(draft)
            }
            fn id(&self) -> Uuid {
                self.id.0
            }
            fn organization_id(&self) -> OrganizationId {
                self.organization_id
            }
            fn draft(&self) -> &Self::Draft {
                &self.content
            }
            fn created_at(&self) -> chrono::DateTime<Utc> {
                self.created_at
            }
            fn items(store: &Store) -> ItemStore<'_, Self> {
                store.$items()
            }
        }
    };
}
publishable!(Project, ProjectInput, "projects", projects);
publishable!(Question, QuestionInput, "questions", questions);
publishable!(Solution, SolutionInput, "solutions", solutions);

/// Publishes a new item for the user's organization.
pub async fn create<T: Publishable>(store: &Store, user: &User, input: &T::Input) -> Result<T> {
    let draft = T::validate(input)?;
    Ok(T::items(store)
        .insert(user.organization_id, &draft, Utc::now())
        .await?)
}

/// Reads an item; restricted ones only for signed-in users.
pub async fn get<T: Publishable>(store: &Store, viewer: Option<&User>, id: Uuid) -> Result<T> {
    let item = T::items(store).get(id).await?;
    if viewer.is_none() && !T::is_public(item.draft()) {
        return Err(UseCaseError::NotFound);
    }
    Ok(item)
}

/// Loads an item the user may change: one of their own organization's.
pub async fn editable<T: Publishable>(store: &Store, user: &User, id: Uuid) -> Result<T> {
    let item = T::items(store).get(id).await?;
    if item.organization_id() != user.organization_id {
        return Err(UseCaseError::Forbidden);
    }
    Ok(item)
}

/// Replaces an item's content with `input`.
pub async fn update<T: Publishable>(
    store: &Store,
    user: &User,
    id: Uuid,
    input: &T::Input,
) -> Result<T> {
    editable::<T>(store, user, id).await?;
    let draft = T::validate(input)?;
    Ok(T::items(store).update(id, &draft, Utc::now()).await?)
}

/// Changes only the fields present in `changes` (JSON merge): a field set to
/// `null` is cleared, absent fields keep their value.
pub async fn patch<T: Publishable>(
    store: &Store,
    user: &User,
    id: Uuid,
    changes: serde_json::Map<String, serde_json::Value>,
) -> Result<T> {
    let item = editable::<T>(store, user, id).await?;
    let mut merged = serde_json::to_value(T::to_input(item.draft()))
        .map_err(|e| UseCaseError::Internal(e.to_string()))?;
    if let Some(fields) = merged.as_object_mut() {
        // Every input field serialises (absent ones as null), so a key not
        // among them is not a field of this item type.
        if let Some(unknown) = changes.keys().find(|k| !fields.contains_key(*k)) {
            return Err(Problem::Malformed("unknown field".into())
                .at(unknown.clone())
                .into());
        }
        fields.extend(changes);
    }
    let input: T::Input = serde_path_to_error::deserialize(merged).map_err(|e| {
        let field = e.path().to_string();
        UseCaseError::Invalid(
            Problem::Malformed(e.into_inner().to_string())
                .at(field)
                .into(),
        )
    })?;
    update::<T>(store, user, id, &input).await
}

pub async fn delete<T: Publishable>(store: &Store, user: &User, id: Uuid) -> Result<()> {
    editable::<T>(store, user, id).await?;
    Ok(T::items(store).delete(id).await?)
}
