//! Publishing, editing and deleting projects, questions and solutions. The
//! three share one flow; [`Publishable`] says how each validates its input.

use allmende_domain::Problem;
/// Item types that are published and federated (`Publishable` in the store
/// plus how each looks in ActivityPub).
pub use allmende_federation::objects::item::Federated as Publishable;
use allmende_store::{Store, User};

use crate::state::AppState;
use chrono::Utc;
use uuid::Uuid;

use super::{Result, UseCaseError};

/// Publishes a new item for the user's organization and sends it to the
/// organization's followers.
pub async fn create<T: Publishable>(state: &AppState, user: &User, input: &T::Input) -> Result<T> {
    let draft = T::validate(input)?;
    let item = T::items(&state.store)
        .insert(user.organization_id, &draft, Utc::now())
        .await?;
    // The store recorded the announcement with the item; send it now.
    state.federation.wake();
    Ok(item)
}

/// Reads an item. Restricted (followers-only) ones only for signed-in
/// users: of this node's organizations' items, any; of another node's,
/// only users whose organization follows the author.
pub async fn get<T: Publishable>(store: &Store, viewer: Option<&User>, id: Uuid) -> Result<T> {
    let item = T::items(store).get(id).await?;
    if !T::is_public(item.draft()) {
        let Some(viewer) = viewer else {
            return Err(UseCaseError::NotFound);
        };
        if !store
            .follows()
            .may_read_restricted(viewer.organization_id, item.organization_id())
            .await?
        {
            return Err(UseCaseError::NotFound);
        }
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
    state: &AppState,
    user: &User,
    id: Uuid,
    input: &T::Input,
) -> Result<T> {
    editable::<T>(&state.store, user, id).await?;
    let draft = T::validate(input)?;
    let item = T::items(&state.store)
        .update(id, &draft, Utc::now())
        .await?;
    state.federation.wake();
    Ok(item)
}

/// Changes only the fields present in `changes` (JSON merge): a field set to
/// `null` is cleared, absent fields keep their value.
pub async fn patch<T: Publishable>(
    state: &AppState,
    user: &User,
    id: Uuid,
    changes: serde_json::Map<String, serde_json::Value>,
) -> Result<T> {
    let item = editable::<T>(&state.store, user, id).await?;
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
    update::<T>(state, user, id, &input).await
}

pub async fn delete<T: Publishable>(state: &AppState, user: &User, id: Uuid) -> Result<()> {
    editable::<T>(&state.store, user, id).await?;
    T::items(&state.store).delete(id).await?;
    state.federation.wake();
    Ok(())
}
