//! `/api/v1/follows` and `/api/v1/feed`: following organizations on other
//! nodes and reading what they publish.

use allmende_domain::{ItemKind, Organization};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use super::error::ApiError;
use super::extract::{ApiJson, ApiUser};
use super::items::{item_json, org_ref};
use crate::state::AppState;
use crate::usecases::follows::{self, FeedEntry};
use crate::usecases::UseCaseError;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FollowInput {
    target: Option<String>,
}

fn relation(state: &AppState, org: &Organization, accepted: bool) -> Value {
    json!({ "organization": org_ref(state, org), "accepted": accepted })
}

/// `POST /api/v1/follows` → 202: the follow is pending until the other
/// node accepts.
pub async fn follow(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    ApiJson(input): ApiJson<FollowInput>,
) -> Result<Response, ApiError> {
    let target = input
        .target
        .filter(|t| !t.trim().is_empty())
        .ok_or_else(|| UseCaseError::from(allmende_domain::Problem::Required.at("target")))?;
    let org = follows::follow(&state, &user, &target).await?;
    Ok((StatusCode::ACCEPTED, Json(relation(&state, &org, false))).into_response())
}

/// `GET /api/v1/follows`: whom the organization follows and who follows it.
pub async fn list(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
) -> Result<Json<Value>, ApiError> {
    let r = follows::relations(&state, &user).await?;
    let map = |list: &[(Organization, bool)]| -> Vec<Value> {
        list.iter().map(|(o, a)| relation(&state, o, *a)).collect()
    };
    Ok(Json(json!({
        "following": map(&r.following),
        "followers": map(&r.followers),
    })))
}

/// `DELETE /api/v1/follows/{handle}` → 204.
pub async fn unfollow(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(handle): Path<String>,
) -> Result<StatusCode, ApiError> {
    follows::unfollow(&state, &user, &handle).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
pub struct FeedQuery {
    limit: Option<u32>,
}

/// `GET /api/v1/feed`: the newest items of followed organizations.
pub async fn feed(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Query(query): Query<FeedQuery>,
) -> Result<Json<Value>, ApiError> {
    let limit = query.limit.unwrap_or(50).clamp(1, 200);
    let entries = follows::feed(&state, &user, limit).await?;
    let orgs = state
        .store
        .organizations()
        .by_ids(entries.iter().map(FeedEntry::organization_id))
        .await
        .map_err(UseCaseError::from)?;
    let items: Vec<Value> = entries
        .iter()
        .map(|e| {
            let org = orgs.get(&e.organization_id());
            let (kind, mut v) = match e {
                FeedEntry::Project(i) => (ItemKind::Project, item_json(&state, i, org)),
                FeedEntry::Question(i) => (ItemKind::Question, item_json(&state, i, org)),
                FeedEntry::Solution(i) => (ItemKind::Solution, item_json(&state, i, org)),
                FeedEntry::Post(p) => (
                    ItemKind::Post,
                    json!({
                        "id": p.id,
                        "ap_id": p.ap_id,
                        "name": p.name,
                        "content_html": p.content_html,
                        "url": p.url,
                        "created_at": p.published,
                        "organization": org.map(|o| org_ref(&state, o)),
                    }),
                ),
            };
            v["type"] = kind.slug().into();
            v
        })
        .collect();
    Ok(Json(json!({ "items": items })))
}
