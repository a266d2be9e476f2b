//! ActivityPub documents at the URLs of the human pages: a request for an
//! organization, project, question, solution or answer that asks for
//! `application/activity+json` (or the ActivityStreams `ld+json` profile)
//! gets the JSON document; everyone else gets the page. Deleted local
//! objects answer 410 Gone with a Tombstone.

use allmende_domain::{for_item_kind, AnswerId, Item, ItemKind, Viewer};
use allmende_federation::routes::activity_json;
use allmende_federation::vocabulary::wants_activity_json;
use allmende_federation::FederationError;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use uuid::Uuid;

use crate::state::AppState;

/// Serves the JSON document where one is asked for, otherwise the page.
pub async fn negotiate(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let wants_json = request.method() == Method::GET
        && wants_activity_json(
            request
                .headers()
                .get(header::ACCEPT)
                .and_then(|v| v.to_str().ok()),
        );
    let path = request.uri().path().to_owned();
    let negotiable = negotiable(&path);
    if wants_json {
        if let Some(target) = negotiable {
            let path_and_query = request
                .uri()
                .path_and_query()
                .map_or(path.as_str(), |p| p.as_str());
            if let Err(e) = state
                .federation
                .authorize_fetch(path_and_query, request.headers())
                .await
            {
                return e.into_response();
            }
            return match document(&state, target, &path).await {
                Ok(response) => response,
                Err(e) => e.into_response(),
            };
        }
    }
    let mut response = next.run(request).await;
    if negotiable.is_some() {
        response
            .headers_mut()
            .insert(header::VARY, HeaderValue::from_static("Accept"));
    }
    response
}

#[derive(Clone, Copy)]
enum Target<'p> {
    Organization(&'p str),
    Item(ItemKind, &'p str),
}

/// The organizations, items and answers of this node have documents;
/// posts (from other servers) do not.
fn negotiable(path: &str) -> Option<Target<'_>> {
    let mut parts = path.trim_start_matches('/').split('/');
    match (parts.next(), parts.next(), parts.next()) {
        (Some("orgs"), Some(handle), None) if !handle.is_empty() => {
            Some(Target::Organization(handle))
        }
        (Some(collection), Some(id), None) if !id.is_empty() => {
            match ItemKind::from_collection(collection)? {
                ItemKind::Post => None,
                kind => Some(Target::Item(kind, id)),
            }
        }
        _ => None,
    }
}

async fn document(
    state: &AppState,
    target: Target<'_>,
    path: &str,
) -> Result<Response, FederationError> {
    let federation = &state.federation;
    let store = &state.store;
    let doc = match target {
        Target::Organization(handle) => {
            let org = store.organizations().by_handle(handle).await?;
            if !org.is_local() {
                return Err(FederationError::NotFound);
            }
            federation.outbound().organization_document(&org).await?
        }
        Target::Item(kind, id) => {
            let id: Uuid = id.parse().map_err(|_| FederationError::NotFound)?;
            let found = for_item_kind!(kind,
            T => item::<T>(state, id).await,
            other => match other {
                ItemKind::Answer => answer(state, id).await,
                _ => Err(FederationError::NotFound),
            });
            match found {
                Err(FederationError::NotFound) => {
                    let ap_id = state.config.url(path);
                    return match federation.outbound().tombstone_document(&ap_id).await? {
                        Some(tombstone) => Ok(activity_json(StatusCode::GONE, tombstone)),
                        None => Err(FederationError::NotFound),
                    };
                }
                other => other?,
            }
        }
    };
    Ok(activity_json(StatusCode::OK, doc))
}

/// A local item's document, for other servers — which read as the public,
/// so restricted items are not served. Remote copies are served by their
/// home node.
async fn item<T: Item>(state: &AppState, id: Uuid) -> Result<serde_json::Value, FederationError> {
    let items = state.store.items::<T>();
    let item: T = items.read(Viewer::Public, id).await?;
    if items.ap_id(id).await?.is_some() {
        return Err(FederationError::NotFound);
    }
    let org = state
        .store
        .organizations()
        .get(item.organization_id())
        .await?;
    state.federation.outbound().item_document(&org, &item).await
}

/// A local answer's document, if its question is public.
async fn answer(state: &AppState, id: Uuid) -> Result<serde_json::Value, FederationError> {
    let answers = state.store.answers();
    let answer = answers.read(Viewer::Public, AnswerId(id)).await?;
    if answers.ap_id(answer.id).await?.is_some() {
        return Err(FederationError::NotFound);
    }
    let org = state
        .store
        .organizations()
        .get(answer.organization_id)
        .await?;
    state
        .federation
        .outbound()
        .answer_document(&org, &answer)
        .await
}
