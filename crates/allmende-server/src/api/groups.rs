//! `/api/v1/groups` and `/api/v1/group/…`: groups (associations and
//! networks) as members and their admins see them. Joining and leaving
//! are `POST /api/v1/follows` and `DELETE /api/v1/follows/{handle}`.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use super::error::ApiError;
use super::extract::{ApiJson, ApiUser, OptionalApiUser};
use super::items::org_ref;
use crate::state::AppState;
use crate::usecases::{groups, UseCaseError};

/// `GET /api/v1/groups`: the groups the organization is a member of.
pub async fn mine(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
) -> Result<Json<Value>, ApiError> {
    let groups = groups::memberships(&state, user.organization_id).await?;
    Ok(Json(json!({
        "groups": groups.iter().map(|g| org_ref(&state, g)).collect::<Vec<_>>(),
    })))
}

/// `GET /api/v1/groups/{handle}`: members and items; for its admins also
/// pending requests, blocked organizations and the moderation log.
pub async fn get(
    State(state): State<AppState>,
    OptionalApiUser(viewer): OptionalApiUser,
    Path(handle): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let view = groups::view(&state, &handle, viewer.as_ref()).await?;
    let orgs = |list: &[allmende_domain::Organization]| -> Vec<Value> {
        list.iter().map(|o| org_ref(&state, o)).collect()
    };
    let authors = state
        .store
        .organizations()
        .by_ids(view.items.iter().map(|i| i.author_id))
        .await
        .map_err(UseCaseError::from)?;
    let viewer_of = crate::usecases::items::viewer(viewer.as_ref());
    let mut items = Vec::new();
    for entry in &view.items {
        // Only what the reader may read (groups carry public items, but a
        // copy may have changed its audience since).
        if !readable(&state, viewer_of, entry).await? {
            continue;
        }
        items.push(json!({
            "object": entry.object_id,
            "type": entry.kind.slug(),
            "id": entry.item_id,
            "href": format!("/api/v1/{}/{}", entry.kind.collection(), entry.item_id),
            "author": authors.get(&entry.author_id).map(|a| org_ref(&state, a)),
            "added_at": entry.added_at,
        }));
    }
    let mut doc = json!({
        "group": org_ref(&state, &view.group),
        "members": orgs(&view.members),
        "items": items,
    });
    if viewer.as_ref().is_some_and(|u| {
        u.organization_id == view.group.id && u.role == allmende_domain::Role::Admin
    }) {
        doc["pending"] = json!(orgs(&view.pending));
        doc["blocked"] = json!(orgs(&view.blocked));
        doc["moderation_log"] = json!(view.log);
    }
    Ok(Json(doc))
}

async fn readable(
    state: &AppState,
    viewer: allmende_domain::Viewer,
    entry: &allmende_store::GroupItem,
) -> Result<bool, ApiError> {
    let found = allmende_domain::for_item_kind!(entry.kind,
        T => state.store.items::<T>().read(viewer, entry.item_id).await.map(|_| ()),
        _not_an_item => Err(allmende_store::StoreError::NotFound));
    match found {
        Ok(()) => Ok(true),
        Err(allmende_store::StoreError::NotFound) => Ok(false),
        Err(e) => Err(UseCaseError::from(e).into()),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RemovalInput {
    object: Option<String>,
}

/// `POST /api/v1/group/removals` → 204: an admin removes an item (by its
/// ActivityPub id) from their group.
pub async fn remove(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    ApiJson(input): ApiJson<RemovalInput>,
) -> Result<StatusCode, ApiError> {
    let object = required(input.object, "object")?;
    groups::remove_item(&state, &user, &object).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BlockInput {
    member: Option<String>,
}

/// `POST /api/v1/group/blocks` → 204: an admin blocks an organization.
pub async fn block(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    ApiJson(input): ApiJson<BlockInput>,
) -> Result<StatusCode, ApiError> {
    let member = required(input.member, "member")?;
    groups::block(&state, &user, &member).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `DELETE /api/v1/group/blocks/{handle}` → 204: an admin lifts a block.
pub async fn unblock(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(handle): Path<String>,
) -> Result<StatusCode, ApiError> {
    groups::unblock(&state, &user, &handle).await?;
    Ok(StatusCode::NO_CONTENT)
}

fn required(value: Option<String>, field: &str) -> Result<String, ApiError> {
    value
        .filter(|v| !v.trim().is_empty())
        .ok_or_else(|| UseCaseError::from(allmende_domain::Problem::Required.at(field)).into())
}
