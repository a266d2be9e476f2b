//! `/api/v1/organizations` and `/api/v1/me`.

use axum::extract::{Path, State};
use axum::Json;
use serde_json::{json, Value};

use super::error::ApiError;
use super::extract::{ApiJson, ApiUser};
use crate::state::AppState;
use crate::usecases::{organizations, UseCaseError};

fn org_json(state: &AppState, org: &allmende_domain::Organization) -> Value {
    let mut v = serde_json::to_value(org).unwrap_or(Value::Null);
    v["url"] = state.config.url(&format!("/orgs/{}", org.handle)).into();
    v
}

pub async fn list(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let orgs = state
        .store
        .organizations()
        .list()
        .await
        .map_err(UseCaseError::from)?;
    Ok(Json(
        json!({ "items": orgs.iter().map(|o| org_json(&state, o)).collect::<Vec<_>>() }),
    ))
}

pub async fn get(
    State(state): State<AppState>,
    Path(handle): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let org = state
        .store
        .organizations()
        .by_handle(&handle)
        .await
        .map_err(UseCaseError::from)?;
    Ok(Json(org_json(&state, &org)))
}

/// `PUT /api/v1/organizations/{handle}`: replaces the profile (admins only).
pub async fn update(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(handle): Path<String>,
    ApiJson(input): ApiJson<allmende_domain::OrganizationInput>,
) -> Result<Json<Value>, ApiError> {
    let org = organizations::update_profile(&state, &user, &handle, &input).await?;
    Ok(Json(org_json(&state, &org)))
}

/// `GET /api/v1/me`: who the token belongs to.
pub async fn me(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
) -> Result<Json<Value>, ApiError> {
    let org = state
        .store
        .organizations()
        .get(user.organization_id)
        .await
        .map_err(UseCaseError::from)?;
    Ok(Json(json!({
        "email": user.email,
        "role": user.role,
        "organization": org_json(&state, &org),
    })))
}
