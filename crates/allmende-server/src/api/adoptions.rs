//! `/api/v1/solutions/{id}/adoption` (declare, update, withdraw one's own
//! organization's use), `/api/v1/solutions/{id}/adopters`,
//! `/api/v1/publiccode/import` and the catalogue of this node's software
//! with its publiccode.yml files (`/api/v1/catalogue`).

use allmende_domain::{
    Adoption, AdoptionInput, AdoptionStage, Item, Problem, Solution, SolutionKind,
};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use super::error::ApiError;
use super::extract::{ApiJson, ApiUser, OptionalApiUser};
use super::items::{org_ref, parse_id};
use crate::state::AppState;
use crate::usecases::{adoptions, items, publiccode, UseCaseError};

async fn adoption_json(state: &AppState, a: &Adoption) -> Result<Value, ApiError> {
    let org = state
        .store
        .organizations()
        .get(a.organization_id)
        .await
        .map_err(UseCaseError::from)?;
    let mut v = serde_json::to_value(a).unwrap_or(Value::Null);
    if let Some(obj) = v.as_object_mut() {
        obj.remove("organization_id");
        obj.insert("organization".into(), org_ref(state, &org));
    }
    Ok(v)
}

/// `PUT /api/v1/solutions/{id}/adoption`: declares or updates the
/// caller's organization's use of the solution.
pub async fn declare(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<AdoptionInput>,
) -> Result<Json<Value>, ApiError> {
    let adoption = adoptions::declare(&state, &user, parse_id(&id)?, &input).await?;
    Ok(Json(adoption_json(&state, &adoption).await?))
}

/// `DELETE /api/v1/solutions/{id}/adoption` → 204.
pub async fn withdraw(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    adoptions::withdraw(&state, &user, parse_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/v1/solutions/{id}/adopters`: the verified adopters known
/// here, and the variants.
pub async fn adopters(
    State(state): State<AppState>,
    OptionalApiUser(viewer): OptionalApiUser,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let viewer = items::viewer(viewer.as_ref());
    let known = adoptions::known(&state, viewer, parse_id(&id)?).await?;
    let list = adoptions::of_solution(&state.store, &known.ap_id).await?;
    let mut adopters = Vec::new();
    for a in &list {
        adopters.push(adoption_json(&state, a).await?);
    }
    let variants: Vec<Value> = adoptions::variants(&state.store, viewer, &known.ap_id)
        .await?
        .iter()
        .map(|v| {
            json!({
                "id": v.id,
                "title": Solution::title(&v.content),
                "url": state.config.url(&format!("/solutions/{}", v.id)),
            })
        })
        .collect();
    Ok(Json(json!({
        "solution": known.ap_id,
        "total": list.len(),
        "production": list.iter().filter(|a| a.content.stage == AdoptionStage::Production).count(),
        "adopters": adopters,
        "variants": variants,
    })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImportRequest {
    #[serde(default)]
    publiccode_yml: Option<String>,
    #[serde(default)]
    url: Option<String>,
}

/// `POST /api/v1/publiccode/import`: checks a publiccode.yml (given, or
/// fetched from `url`) and answers its facts and a solution input made
/// from them, ready for `POST /api/v1/solutions`; 422 with every problem
/// (each naming its key) when it breaks the standard.
pub async fn import(
    State(state): State<AppState>,
    ApiUser(_user): ApiUser,
    ApiJson(request): ApiJson<ImportRequest>,
) -> Result<Json<Value>, ApiError> {
    let text = match (request.publiccode_yml, request.url) {
        (Some(text), _) => text,
        (None, Some(url)) => publiccode::fetch(&state, &url)
            .await
            .map_err(|p| UseCaseError::from(p.at("url")))?,
        (None, None) => {
            return Err(UseCaseError::from(Problem::Required.at("publiccode_yml")).into())
        }
    };
    if text.len() > allmende_domain::solution::PUBLICCODE_MAX {
        let max = allmende_domain::solution::PUBLICCODE_MAX;
        return Err(UseCaseError::from(Problem::TooLong { max }.at("publiccode_yml")).into());
    }
    let facts = allmende_domain::publiccode::validate("publiccode_yml", &text)
        .map_err(UseCaseError::Invalid)?;
    Ok(Json(json!({
        "publiccode": facts,
        "solution": publiccode::to_input(&text),
    })))
}

/// `GET /api/v1/catalogue`: every public software solution of this
/// node's organizations that has a publiccode.yml, with the file's stable
/// URL, for catalogues that crawl publiccode.yml files. The files were
/// checked when saved, so none is parsed here.
pub async fn catalogue(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let solutions = state
        .store
        .solutions()
        .local_public(10_000)
        .await
        .map_err(UseCaseError::from)?;
    let entries: Vec<Value> = solutions
        .iter()
        .filter(|s| s.content.kind == SolutionKind::Software && s.content.publiccode_yml.is_some())
        .map(|s| {
            json!({
                "title": s.content.title,
                "url": state.config.url(&format!("/solutions/{}", s.id)),
                "publiccode_url": state.config.url(&format!("/solutions/{}/publiccode.yml", s.id)),
                "repository": s.content.repository_url,
                "updated_at": s.updated_at,
            })
        })
        .collect();
    Ok(Json(json!({
        "total": entries.len(),
        "items": entries,
    })))
}
