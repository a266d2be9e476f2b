//! `GET /api/v1/search`: the search page's search as JSON, with the same
//! parameters, facet counts and paging.

use std::collections::HashMap;

use allmende_domain::Item;
use allmende_store::Facet;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Map, Value};

use super::error::ApiError;
use super::extract::OptionalApiUser;
use super::items::org_ref;
use crate::state::AppState;
use crate::usecases::search::{Found, Hit, Request};
use crate::usecases::{items, search};

/// `GET /api/v1/search?q=&type=&status=&themenfeld=&service=&bundesland=
/// &organization_kind=&size=&licence=&seeking_partners=&from=&to=&page=&per_page=`
pub async fn search(
    State(state): State<AppState>,
    OptionalApiUser(viewer): OptionalApiUser,
    params: Result<Query<HashMap<String, String>>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Query(params) =
        params.map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, e.body_text()))?;
    let request = Request::parse(&params)
        .map_err(|bad| ApiError::field(StatusCode::BAD_REQUEST, bad.field, bad.message_en))?;
    let viewer = items::viewer(viewer.as_ref());
    let results = search::run(&state.store, viewer, &request).await?;
    let orgs = state
        .store
        .organizations()
        .by_ids(results.hits.iter().filter_map(author))
        .await
        .map_err(crate::usecases::UseCaseError::from)?;
    let hits: Vec<Value> = results
        .hits
        .iter()
        .map(|hit| {
            let mut v = match &hit.found {
                Found::Project(p) => item_hit(&state, p),
                Found::Question(q) => item_hit(&state, q),
                Found::Solution(s) => item_hit(&state, s),
                Found::Organization(o) => json!({
                    "type": "organization",
                    "id": o.id.to_string(),
                    "title": o.profile.name,
                    "url": state.config.url(&format!("/orgs/{}", o.handle)),
                    "organization": org_ref(&state, o),
                    "published": o.created_at,
                }),
            };
            if let Some(org) = author(hit).and_then(|id| orgs.get(&id)) {
                v["organization"] = org_ref(&state, org);
            }
            v["snippet"] = hit
                .snippet
                .as_deref()
                .map(search::plain)
                .map_or(Value::Null, Value::String);
            v
        })
        .collect();
    let mut facets = Map::new();
    for facet in Facet::ALL {
        let values: Vec<Value> = results
            .facets
            .get(&facet)
            .into_iter()
            .flatten()
            .map(|(value, count)| {
                let (de, en) = search::value_labels(facet, value);
                let mut entry =
                    json!({"value": value, "count": count, "label_de": de, "label_en": en});
                if let Some(name) = results
                    .service_names
                    .get(value)
                    .filter(|_| facet == Facet::Service)
                {
                    entry["name"] = Value::String(name.clone());
                }
                entry
            })
            .collect();
        facets.insert(facet.param().into(), Value::Array(values));
    }
    Ok(Json(json!({
        "total": results.total,
        "page": request.page,
        "per_page": request.per_page,
        "pages": results.pages(request.per_page),
        "hits": hits,
        "facets": facets,
    })))
}

fn author(hit: &Hit) -> Option<allmende_domain::OrganizationId> {
    match &hit.found {
        Found::Project(p) => Some(p.organization_id),
        Found::Question(q) => Some(q.organization_id),
        Found::Solution(s) => Some(s.organization_id),
        Found::Organization(_) => None,
    }
}

fn item_hit<T: Item>(state: &AppState, item: &T) -> Value {
    json!({
        "type": allmende_store::DocKind::from_item(T::KIND).map(|k| k.slug()),
        "id": item.id().to_string(),
        "title": T::title(item.draft()),
        "url": state.config.url(&format!("/{}/{}", T::KIND.collection(), item.id())),
        "published": item.created_at(),
    })
}
