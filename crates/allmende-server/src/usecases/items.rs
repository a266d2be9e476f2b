//! Publishing, reading, editing and deleting projects, questions and
//! solutions. The three share one flow; [`Item`] says how each validates
//! its input.

use allmende_domain::{Item, Problem, Viewer};
use allmende_store::{Store, User};

use crate::state::AppState;
use chrono::Utc;
use uuid::Uuid;

use super::{Result, UseCaseError};

/// Publishes a new item for the user's organization and sends it to the
/// organization's followers.
pub async fn create<T: Item>(state: &AppState, user: &User, input: &T::Input) -> Result<T> {
    create_in_groups(state, user, input, &[]).await
}

/// [`create`], also published to the groups named by `groups` (handles of
/// groups the organization is an accepted member of), which pass it on to
/// their followers. Only public items can go to groups.
pub async fn create_in_groups<T: Item>(
    state: &AppState,
    user: &User,
    input: &T::Input,
    groups: &[String],
) -> Result<T> {
    let input = &checked_original::<T>(state, input, None, None).await?;
    let draft = T::validate(input)?;
    let groups = super::groups::publishable(state, user.organization_id, groups).await?;
    if !groups.is_empty() && !T::is_public(&draft) {
        return Err(Problem::GroupNeedsPublic.at("groups").into());
    }
    let urls = state.federation.urls();
    let item = state
        .store
        .items::<T>()
        .insert_in_groups(user.organization_id, &draft, Utc::now(), &groups, |id| {
            urls.item(T::KIND, id)
        })
        .await?;
    // The store recorded the announcement with the item; send it now.
    state.federation.wake();
    Ok(item)
}

/// Reads an item if `viewer` may (the store's visibility rule); one they
/// may not read is `NotFound`, like one that does not exist.
pub async fn get<T: Item>(store: &Store, viewer: Viewer, id: Uuid) -> Result<T> {
    Ok(store.items::<T>().read(viewer, id).await?)
}

/// Who a signed-in user (or nobody) reads as.
pub fn viewer(user: Option<&User>) -> Viewer {
    user.map_or(Viewer::Public, |u| Viewer::Member(u.organization_id))
}

/// Loads an item the user may change: one of their own organization's.
pub async fn editable<T: Item>(store: &Store, user: &User, id: Uuid) -> Result<T> {
    let item = store.items::<T>().get(id).await?;
    if item.organization_id() != user.organization_id {
        return Err(UseCaseError::Forbidden);
    }
    Ok(item)
}

/// Replaces an item's content with `input`.
pub async fn update<T: Item>(
    state: &AppState,
    user: &User,
    id: Uuid,
    input: &T::Input,
) -> Result<T> {
    let before = editable::<T>(&state.store, user, id).await?;
    let previous = T::to_input(before.draft());
    let input = &checked_original::<T>(state, input, Some(id), Some(&previous)).await?;
    let draft = T::validate(input)?;
    // Groups passed it on to the public: it cannot become followers-only.
    if !T::is_public(&draft) {
        let object_id = state.federation.urls().item(T::KIND, id);
        if !state.store.groups().of_object(&object_id).await?.is_empty() {
            return Err(Problem::SharedWithGroups.at("audience").into());
        }
    }
    let item = state
        .store
        .items::<T>()
        .update(id, &draft, Utc::now())
        .await?;
    state.federation.wake();
    Ok(item)
}

/// Changes only the fields present in `changes` (JSON merge): a field set to
/// `null` is cleared, absent fields keep their value.
pub async fn patch<T: Item>(
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

pub async fn delete<T: Item>(state: &AppState, user: &User, id: Uuid) -> Result<()> {
    editable::<T>(&state.store, user, id).await?;
    state.store.items::<T>().delete(id).await?;
    if T::KIND == allmende_domain::ItemKind::Solution {
        let urls = state.federation.urls();
        let ap_id = urls.item(T::KIND, id);
        state
            .store
            .adoptions()
            .drop_of_solution(&ap_id, |a| urls.adoption(a))
            .await?;
    }
    state.federation.wake();
    Ok(())
}

/// The input with the item it adapts checked and named by its
/// ActivityPub id (see [`Item::original_mut`]).
/// An unchanged original (`previous`, the stored input) is not checked
/// again: the original may have been deleted meanwhile, and the item must
/// stay editable.
async fn checked_original<T: Item>(
    state: &AppState,
    input: &T::Input,
    this: Option<Uuid>,
    previous: Option<&T::Input>,
) -> Result<T::Input> {
    let mut input = input.clone();
    let mut before = previous.cloned();
    let unchanged = match (
        T::original_mut(&mut input),
        before.as_mut().and_then(|b| T::original_mut(b)),
    ) {
        (Some(now), Some(then)) => now == then,
        _ => false,
    };
    if let (Some(original), false) = (T::original_mut(&mut input), unchanged) {
        super::adoptions::check_variant(state, original, this).await?;
    }
    Ok(input)
}
