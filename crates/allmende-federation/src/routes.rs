//! The HTTP endpoints of federation: WebFinger, NodeInfo, host-meta, the
//! instance actor, the vocabulary, inboxes, outboxes and follower
//! collections. Actor and object documents are served by the server's page
//! routes through content negotiation (one URL for people and machines).

use allmende_domain::{for_item_kind, Item, ItemKind, Organization, Viewer};
use allmende_store::ListFilter;
use axum::body::Bytes;
use axum::extract::{FromRef, OriginalUri, Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::error::FederationError;
use crate::inbound::InboxRequest;
use crate::objects::activity::activity;
use crate::vocabulary::{context, ACTIVITY_JSON, PUBLIC};
use crate::Federation;

/// Items per outbox page.
const OUTBOX_PAGE: u32 = 20;
/// Outbox pages served; older items are found through the node's search.
const OUTBOX_MAX_PAGES: u32 = 50;

pub fn router<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    Federation: FromRef<S>,
{
    Router::new()
        .route("/.well-known/webfinger", get(webfinger))
        .route("/.well-known/nodeinfo", get(nodeinfo_links))
        .route("/.well-known/host-meta", get(host_meta))
        .route("/nodeinfo/2.1", get(nodeinfo))
        .route("/actor", get(instance_actor))
        .route("/ns", get(vocabulary))
        .route("/inbox", post(inbox))
        .route("/actor/inbox", post(inbox))
        .route("/orgs/{handle}/inbox", post(inbox))
        .route("/orgs/{handle}/outbox", get(outbox))
        .route("/orgs/{handle}/followers", get(followers))
        .route("/orgs/{handle}/following", get(following))
        .route("/users/{handle}", get(conventional_actor_path))
        .route("/adoptions/{id}", get(adoption))
        .route("/solutions/{id}/adopters", get(adopters))
}

/// `/users/NAME` answers with a permanent redirect to `/orgs/NAME`, the
/// actor's one id: software that recognizes actors by path (Epicyon, say,
/// knows `/users/`, `/profile/`, `/accounts/`, `/@`) reaches them, and no
/// second id for the same actor exists (FEDERATION.md, "Actor paths").
async fn conventional_actor_path(
    State(federation): State<Federation>,
    Path(handle): Path<String>,
) -> Result<Response, FederationError> {
    let org = local_organization(&federation, &handle).await?;
    let id = federation.urls().organization(org.handle.as_str());
    Ok(axum::response::Redirect::permanent(&id).into_response())
}

/// An ActivityPub JSON response.
pub fn activity_json(status: StatusCode, doc: Value) -> Response {
    (
        status,
        [
            (header::CONTENT_TYPE, ACTIVITY_JSON),
            (header::VARY, "Accept"),
        ],
        doc.to_string(),
    )
        .into_response()
}

impl IntoResponse for FederationError {
    fn into_response(self) -> Response {
        let status = self.status();
        if status == StatusCode::SERVICE_UNAVAILABLE {
            tracing::warn!(error = %self, "federation request deferred: busy");
        } else if status.is_server_error() {
            tracing::error!(error = %self, "federation request failed");
        } else {
            tracing::info!(error = %self, %status, "federation request refused");
        }
        let mut response = (
            status,
            [(header::CONTENT_TYPE, "application/json")],
            json!({ "error": self.public_reason() }).to_string(),
        )
            .into_response();
        if let Self::RateLimited { retry_after_secs } = self {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, retry_after_secs.into());
        } else if status == StatusCode::SERVICE_UNAVAILABLE {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, header::HeaderValue::from_static("10"));
        }
        response
    }
}

#[derive(Deserialize)]
struct WebfingerQuery {
    resource: Option<String>,
}

async fn webfinger(
    State(federation): State<Federation>,
    Query(query): Query<WebfingerQuery>,
) -> Result<Response, FederationError> {
    let resource = query
        .resource
        .ok_or_else(|| FederationError::BadRequest("resource missing".into()))?;
    let jrd = federation.outbound().webfinger(&resource).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/jrd+json"),
            (header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"),
        ],
        jrd.to_string(),
    )
        .into_response())
}

async fn nodeinfo_links(State(federation): State<Federation>) -> Response {
    let doc = federation.outbound().nodeinfo_links();
    (
        [(header::CONTENT_TYPE, "application/json")],
        doc.to_string(),
    )
        .into_response()
}

async fn nodeinfo(State(federation): State<Federation>) -> Result<Response, FederationError> {
    let doc = federation.outbound().nodeinfo().await?;
    Ok((
        [(
            header::CONTENT_TYPE,
            "application/json; profile=\"http://nodeinfo.diaspora.software/ns/schema/2.1#\"",
        )],
        doc.to_string(),
    )
        .into_response())
}

async fn host_meta(State(federation): State<Federation>) -> Response {
    (
        [(header::CONTENT_TYPE, "application/xrd+xml")],
        federation.outbound().host_meta(),
    )
        .into_response()
}

async fn instance_actor(State(federation): State<Federation>) -> Result<Response, FederationError> {
    Ok(activity_json(
        StatusCode::OK,
        federation.outbound().instance_document().await?,
    ))
}

async fn vocabulary() -> Response {
    (
        [(header::CONTENT_TYPE, "application/ld+json")],
        crate::vocabulary::context_document().to_string(),
    )
        .into_response()
}

async fn inbox(
    State(federation): State<Federation>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, FederationError> {
    let path_and_query = uri.path_and_query().map_or(uri.path(), |p| p.as_str());
    let status = federation
        .inbound()
        .receive(InboxRequest {
            path_and_query,
            headers: &headers,
            body: &body,
        })
        .await?;
    Ok((status, [(header::CONTENT_TYPE, "application/json")], "{}").into_response())
}

/// With authorized fetch on, only signed requests get collections.
async fn authorize(
    federation: &Federation,
    uri: &axum::http::Uri,
    headers: &HeaderMap,
) -> Result<(), FederationError> {
    let path_and_query = uri.path_and_query().map_or(uri.path(), |p| p.as_str());
    federation.authorize_fetch(path_and_query, headers).await
}

async fn local_organization(
    federation: &Federation,
    handle: &str,
) -> Result<Organization, FederationError> {
    let org = federation.store().organizations().by_handle(handle).await?;
    if !org.is_local() {
        return Err(FederationError::NotFound);
    }
    Ok(org)
}

#[derive(Deserialize)]
struct PageQuery {
    page: Option<u32>,
}

async fn outbox(
    State(federation): State<Federation>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    Path(handle): Path<String>,
    Query(query): Query<PageQuery>,
) -> Result<Response, FederationError> {
    authorize(&federation, &uri, &headers).await?;
    let org = local_organization(&federation, &handle).await?;
    let urls = federation.urls();
    let id = urls.outbox(&handle);
    let store = federation.store();
    let Some(page) = query.page else {
        let mut total = 0;
        for kind in ItemKind::ALL.into_iter().filter(|k| k.is_item()) {
            total += for_item_kind!(kind,
                T => store.items::<T>().count_public_of(org.id).await?,
                _not_an_item => 0);
        }
        // What a group carries is listed too (public items only, so this
        // is an upper bound when a carried item changed its audience).
        if org.profile.kind.is_group() {
            total += store.groups().count_of(org.id).await?;
        }
        return Ok(activity_json(
            StatusCode::OK,
            json!({
                "@context": context(),
                "id": id,
                "type": "OrderedCollection",
                "totalItems": total,
                "first": format!("{id}?page=1"),
            }),
        ));
    };
    let page = page.clamp(1, OUTBOX_MAX_PAGES);
    let wanted = page * OUTBOX_PAGE;
    // Other servers read as the public: followers-only items are never
    // listed here.
    let filter = ListFilter {
        organization_id: Some(org.id),
        limit: wanted + 1,
        ..ListFilter::for_viewer(Viewer::Public)
    };
    // Newest first over every item type.
    let mut entries: Vec<(chrono::DateTime<chrono::Utc>, Value)> = Vec::new();
    for kind in ItemKind::ALL.into_iter().filter(|k| k.is_item()) {
        for_item_kind!(kind,
            T => collect::<T>(&federation, &org, &filter, &mut entries).await?,
            _not_an_item => {});
    }
    if org.profile.kind.is_group() {
        carried(&federation, &org, wanted + 1, &mut entries).await?;
    }
    entries.sort_by_key(|e| std::cmp::Reverse(e.0));
    let has_next = entries.len() > wanted as usize && page < OUTBOX_MAX_PAGES;
    let items: Vec<Value> = entries
        .into_iter()
        .skip(((page - 1) * OUTBOX_PAGE) as usize)
        .take(OUTBOX_PAGE as usize)
        .map(|(_, v)| v)
        .collect();
    let mut doc = json!({
        "@context": context(),
        "id": format!("{id}?page={page}"),
        "type": "OrderedCollectionPage",
        "partOf": id,
        "orderedItems": items,
    });
    if has_next {
        doc["next"] = json!(format!("{id}?page={}", page + 1));
    }
    Ok(activity_json(StatusCode::OK, doc))
}

/// A group's outbox also lists what it carries, as the Announce of each
/// item's Create (FEP-1b12), so a new follower backfills the group's
/// items. The Create names only the object: receivers fetch it from its
/// origin.
async fn carried(
    federation: &Federation,
    group: &Organization,
    limit: u32,
    into: &mut Vec<(chrono::DateTime<chrono::Utc>, Value)>,
) -> Result<(), FederationError> {
    let store = federation.store();
    let urls = federation.urls();
    let actor = urls.organization(group.handle.as_str());
    let entries = store.groups().items(group.id, limit).await?;
    let authors = store
        .organizations()
        .by_ids(entries.iter().map(|e| e.author_id))
        .await?;
    for entry in entries {
        // Public items only: other servers read as the public.
        let public = for_item_kind!(entry.kind,
            T => store.items::<T>().read(Viewer::Public, entry.item_id).await.is_ok(),
            _not_an_item => false);
        let Some(author) = authors.get(&entry.author_id).filter(|_| public) else {
            continue;
        };
        let author = federation.outbound().actor_id_of(author);
        into.push((
            entry.added_at,
            json!({
                "id": format!("{actor}#announce-{}", entry.item_id),
                "type": "Announce",
                "actor": actor,
                "object": {
                    "id": format!("{}#create", entry.object_id),
                    "type": "Create",
                    "actor": author,
                    "object": entry.object_id,
                },
                "to": [PUBLIC],
                "published": entry.added_at.to_rfc3339(),
            }),
        ));
    }
    Ok(())
}

async fn collect<T: Item>(
    federation: &Federation,
    org: &Organization,
    filter: &ListFilter,
    into: &mut Vec<(chrono::DateTime<chrono::Utc>, Value)>,
) -> Result<(), FederationError> {
    let actor = federation.urls().organization(org.handle.as_str());
    for item in federation.store().items::<T>().list(filter).await? {
        let object = federation.outbound().item_document(org, &item).await?;
        let create_id = format!("{}#create", federation.urls().item(T::KIND, item.id()));
        let cc = object.get("cc").cloned().unwrap_or_else(|| json!([]));
        let mut create = activity(&create_id, "Create", &actor, object, json!([PUBLIC]), cc);
        if let Some(map) = create.as_object_mut() {
            map.remove("@context");
            map.insert("published".into(), json!(item.created_at().to_rfc3339()));
        }
        into.push((item.created_at(), create));
    }
    Ok(())
}

/// Follower and following collections show their size only: who follows
/// whom is not published.
async fn followers(
    State(federation): State<Federation>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    Path(handle): Path<String>,
) -> Result<Response, FederationError> {
    authorize(&federation, &uri, &headers).await?;
    let org = local_organization(&federation, &handle).await?;
    let total = federation.store().follows().count_followers(org.id).await?;
    Ok(activity_json(
        StatusCode::OK,
        json!({
            "@context": context(),
            "id": federation.urls().followers(&handle),
            "type": "OrderedCollection",
            "totalItems": total,
        }),
    ))
}

async fn following(
    State(federation): State<Federation>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    Path(handle): Path<String>,
) -> Result<Response, FederationError> {
    authorize(&federation, &uri, &headers).await?;
    let org = local_organization(&federation, &handle).await?;
    let total = federation.store().follows().count_following(org.id).await?;
    Ok(activity_json(
        StatusCode::OK,
        json!({
            "@context": context(),
            "id": federation.urls().following(&handle),
            "type": "OrderedCollection",
            "totalItems": total,
        }),
    ))
}

/// A declaration of use made here; a withdrawn one answers 410 with its
/// Tombstone.
async fn adoption(
    State(federation): State<Federation>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, FederationError> {
    authorize(&federation, &uri, &headers).await?;
    let id: uuid::Uuid = id.parse().map_err(|_| FederationError::NotFound)?;
    let ap_id = federation.urls().adoption(id);
    let store = federation.store();
    match store.adoptions().get(allmende_domain::AdoptionId(id)).await {
        Ok(adoption) if adoption.ap_id.is_none() => {
            let org = store.organizations().get(adoption.organization_id).await?;
            let doc = federation
                .outbound()
                .adoption_document(&org, &adoption)
                .await?;
            Ok(activity_json(StatusCode::OK, doc))
        }
        Ok(_) | Err(allmende_store::StoreError::NotFound) => {
            match federation.outbound().tombstone_document(&ap_id).await? {
                Some(tombstone) => Ok(activity_json(StatusCode::GONE, tombstone)),
                None => Err(FederationError::NotFound),
            }
        }
        Err(e) => Err(e.into()),
    }
}

/// The adopters collection of a local solution.
async fn adopters(
    State(federation): State<Federation>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, FederationError> {
    authorize(&federation, &uri, &headers).await?;
    let id: uuid::Uuid = id.parse().map_err(|_| FederationError::NotFound)?;
    let solution: allmende_domain::Solution = federation
        .store()
        .solutions()
        .read(allmende_domain::Viewer::Public, id)
        .await?;
    if federation
        .store()
        .solutions()
        .ap_id(solution.id.0)
        .await?
        .is_some()
    {
        return Err(FederationError::NotFound);
    }
    let solution_id = federation
        .urls()
        .item(allmende_domain::ItemKind::Solution, id);
    let doc = federation
        .outbound()
        .adopters_document(&solution_id)
        .await?;
    Ok(activity_json(StatusCode::OK, doc))
}
