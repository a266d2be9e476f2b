//! `/api/v1/{projects,questions,solutions}`: one set of handlers for the
//! three item types.

use std::collections::HashMap;

use allmende_domain::{Item, Organization, OrganizationId, Themenfeld};
use allmende_store::ListFilter;
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};
use uuid::Uuid;

use super::error::ApiError;
use super::extract::{ApiJson, ApiUser, OptionalApiUser};
use crate::state::AppState;
use crate::usecases::items;
use crate::usecases::UseCaseError;

pub const MAX_LIMIT: u32 = 200;

/// An id in a path that is not a UUID cannot name anything: 404.
pub fn parse_id(raw: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(raw).map_err(|_| ApiError::not_found())
}

/// The organization as embedded in item representations.
pub fn org_ref(state: &AppState, org: &Organization) -> Value {
    json!({
        "handle": org.handle,
        "name": org.profile.name,
        "url": state.config.url(&format!("/orgs/{}", org.handle)),
        // Where an organization of another node lives.
        "actor": org.origin.as_ref().map(|o| o.actor_id.to_string()),
    })
}

/// The JSON representation of an item: its stored fields plus its public
/// URL and its organization.
pub fn item_json<T: Item>(state: &AppState, item: &T, org: Option<&Organization>) -> Value {
    let mut v = serde_json::to_value(item).unwrap_or(Value::Null);
    if let Some(obj) = v.as_object_mut() {
        obj.insert(
            "url".into(),
            state
                .config
                .url(&format!("/{}/{}", T::KIND.collection(), item.id()))
                .into(),
        );
        if let Some(org) = org {
            obj.insert("organization".into(), org_ref(state, org));
        }
    }
    v
}

/// The item's representation with its organization loaded.
async fn with_organization<T: Item>(state: &AppState, item: &T) -> Result<Value, ApiError> {
    let org = state
        .store
        .organizations()
        .get(item.organization_id())
        .await
        .map_err(UseCaseError::from)?;
    Ok(item_json(state, item, Some(&org)))
}

/// The organizations of `ids`, to name the authors of listed items.
async fn organizations(
    state: &AppState,
    ids: impl IntoIterator<Item = OrganizationId>,
) -> Result<HashMap<OrganizationId, Organization>, ApiError> {
    Ok(state
        .store
        .organizations()
        .by_ids(ids)
        .await
        .map_err(UseCaseError::from)?)
}

fn number(
    params: &HashMap<String, String>,
    name: &str,
    default: u32,
    max: u32,
) -> Result<u32, ApiError> {
    match params.get(name) {
        None => Ok(default),
        Some(raw) => raw
            .parse::<u32>()
            .ok()
            .filter(|n| *n <= max)
            .ok_or_else(|| {
                ApiError::field(
                    StatusCode::BAD_REQUEST,
                    name,
                    format!("{name} must be a whole number from 0 to {max}"),
                )
            }),
    }
}

/// `GET /api/v1/{items}?organization=&themenfeld=&q=&limit=&offset=`
pub async fn list<T: Item>(
    State(state): State<AppState>,
    OptionalApiUser(viewer): OptionalApiUser,
    params: Result<Query<HashMap<String, String>>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Query(params) =
        params.map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, e.body_text()))?;
    let limit = number(&params, "limit", 50, MAX_LIMIT)?.max(1);
    let offset = number(&params, "offset", 0, u32::MAX)?;
    let organization_id = match params.get("organization") {
        None => None,
        Some(handle) => match state.store.organizations().by_handle(handle).await {
            Ok(org) => Some(org.id),
            Err(allmende_store::StoreError::NotFound) => {
                return Err(ApiError::field(
                    StatusCode::BAD_REQUEST,
                    "organization",
                    "unknown organization handle",
                ))
            }
            Err(e) => return Err(UseCaseError::from(e).into()),
        },
    };
    let themenfeld = match params.get("themenfeld") {
        None => None,
        Some(t) => Some(Themenfeld::parse(t).map_err(|p| {
            ApiError::field(
                StatusCode::BAD_REQUEST,
                "themenfeld",
                format!("themenfeld {}", p.message_en()),
            )
        })?),
    };
    let found: Vec<T> = match params.get("q").map(|q| q.trim()).filter(|q| !q.is_empty()) {
        Some(q) => {
            let viewer = items::viewer(viewer.as_ref());
            let kind = allmende_store::DocKind::from_item(T::KIND).expect("items are indexed");
            let mut request = allmende_store::SearchQuery::new(viewer, q)
                .filter(allmende_store::Facet::Kind, kind.slug());
            if let Some(t) = themenfeld {
                request = request.filter(allmende_store::Facet::Themenfeld, t.slug());
            }
            request.organization = organization_id;
            request.limit = limit;
            request.offset = offset;
            let page = state
                .store
                .search()
                .query(&request)
                .await
                .map_err(UseCaseError::from)?;
            let mut found = Vec::new();
            for hit in &page.hits {
                match items::get::<T>(&state.store, viewer, hit.id).await {
                    Ok(item) => found.push(item),
                    Err(UseCaseError::NotFound) => {}
                    Err(e) => return Err(e.into()),
                }
            }
            found
        }
        None => {
            let filter = ListFilter {
                organization_id,
                themenfeld,
                limit,
                offset,
                ..ListFilter::for_viewer(items::viewer(viewer.as_ref()))
            };
            state
                .store
                .items::<T>()
                .list(&filter)
                .await
                .map_err(UseCaseError::from)?
        }
    };
    let orgs = organizations(&state, found.iter().map(|i| i.organization_id())).await?;
    let items: Vec<Value> = found
        .iter()
        .map(|i| item_json(&state, i, orgs.get(&i.organization_id())))
        .collect();
    Ok(Json(
        json!({ "items": items, "limit": limit, "offset": offset }),
    ))
}

/// `POST /api/v1/{items}` → 201 with `Location`.
pub async fn create<T: Item>(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    ApiJson(mut body): ApiJson<serde_json::Map<String, Value>>,
) -> Result<Response, ApiError> {
    // `groups` (handles of groups to publish to) beside the item's fields.
    let groups: Vec<String> = match body.remove("groups") {
        None | Some(Value::Null) => Vec::new(),
        Some(list) => serde_json::from_value(list).map_err(|_| {
            ApiError::from(UseCaseError::from(
                allmende_domain::Problem::Malformed("a list of group handles".into()).at("groups"),
            ))
        })?,
    };
    let input: T::Input = super::extract::from_value(Value::Object(body))?;
    let item: T = items::create_in_groups(&state, &user, &input, &groups).await?;
    let body = with_organization(&state, &item).await?;
    let location = format!("/api/v1/{}/{}", T::KIND.collection(), item.id());
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(body),
    )
        .into_response())
}

/// `GET /api/v1/{items}/{id}`
pub async fn get<T: Item>(
    State(state): State<AppState>,
    OptionalApiUser(viewer): OptionalApiUser,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let item: T = items::get(&state.store, items::viewer(viewer.as_ref()), parse_id(&id)?).await?;
    Ok(Json(with_organization(&state, &item).await?))
}

/// `PATCH /api/v1/{items}/{id}`: a JSON object with the fields to change.
pub async fn patch<T: Item>(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(id): Path<String>,
    ApiJson(changes): ApiJson<serde_json::Map<String, Value>>,
) -> Result<Json<Value>, ApiError> {
    let item: T = items::patch(&state, &user, parse_id(&id)?, changes).await?;
    Ok(Json(with_organization(&state, &item).await?))
}

/// `DELETE /api/v1/{items}/{id}` → 204.
pub async fn delete<T: Item>(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    items::delete::<T>(&state, &user, parse_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}
