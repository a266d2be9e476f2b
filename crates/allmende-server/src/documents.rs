//! ActivityPub documents at the URLs of the human pages: a request for an
//! organization, project, question, solution or answer that asks for
//! `application/activity+json` (or the ActivityStreams `ld+json` profile)
//! gets the JSON document; everyone else gets the page. Deleted local
//! objects answer 410 Gone with a Tombstone.

use allmende_domain::{AnswerId, Project, Question, Solution};
use allmende_federation::objects::item::Federated;
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
    Item(&'p str, &'p str),
}

fn negotiable(path: &str) -> Option<Target<'_>> {
    let mut parts = path.trim_start_matches('/').split('/');
    match (parts.next(), parts.next(), parts.next()) {
        (Some("orgs"), Some(handle), None) if !handle.is_empty() => {
            Some(Target::Organization(handle))
        }
        (Some(c @ ("projects" | "questions" | "solutions" | "answers")), Some(id), None)
            if !id.is_empty() =>
        {
            Some(Target::Item(c, id))
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
            federation.organization_document(&org).await?
        }
        Target::Item(collection, id) => {
            let id: Uuid = id.parse().map_err(|_| FederationError::NotFound)?;
            let found = match collection {
                "projects" => item::<Project>(state, id).await,
                "questions" => item::<Question>(state, id).await,
                "solutions" => item::<Solution>(state, id).await,
                _ => answer(state, id).await,
            };
            match found {
                Err(FederationError::NotFound)
                | Err(FederationError::Store(allmende_store::StoreError::NotFound)) => {
                    let ap_id = state.config.url(path);
                    return match federation.tombstone_document(&ap_id).await? {
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

/// A local, public item's document. Restricted items and remote copies
/// are not served: the former need the follower relation, the latter are
/// served by their home node.
async fn item<T: Federated>(
    state: &AppState,
    id: Uuid,
) -> Result<serde_json::Value, FederationError> {
    let item: T = T::items(&state.store).get(id).await?;
    if !T::public(item.draft()) || T::items(&state.store).ap_id(id).await?.is_some() {
        return Err(FederationError::NotFound);
    }
    let org = state
        .store
        .organizations()
        .get(item.organization_id())
        .await?;
    state.federation.item_document(&org, &item).await
}

async fn answer(state: &AppState, id: Uuid) -> Result<serde_json::Value, FederationError> {
    let answer = state.store.answers().get(AnswerId(id)).await?;
    if state.store.answers().ap_id(answer.id).await?.is_some() {
        return Err(FederationError::NotFound);
    }
    let question: Question = state.store.questions().get(answer.question_id).await?;
    if !Question::public(&question.content) {
        return Err(FederationError::NotFound);
    }
    let org = state
        .store
        .organizations()
        .get(answer.organization_id)
        .await?;
    state.federation.answer_document(&org, &answer).await
}
