//! A loopback ActivityPub peer built on `activitypub_federation`, the
//! federation library of Lemmy, for the interop scenario in
//! `tests/tests/interop/scenario.rs`.
//!
//! It runs in the test's process but speaks to the node only over HTTP,
//! and serves the control API every scenario peer serves
//! (`interop/README.md`). What it can do, it does with the library's own
//! code: WebFinger resolution, fetching actors (signed, as the library
//! does), verifying the digest and HTTP signature of every inbox request
//! against the sender's fetched key, and signing what it sends. The
//! activities themselves are plain JSON built here, since the library
//! leaves their vocabulary to its user.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};

use activitypub_federation::axum::inbox::{receive_activity, ActivityData};
use activitypub_federation::config::{Data, FederationConfig, FederationMiddleware};
use activitypub_federation::fetch::object_id::ObjectId;
use activitypub_federation::fetch::webfinger::{build_webfinger_response, webfinger_resolve_actor};
use activitypub_federation::http_signatures::generate_actor_keypair;
use activitypub_federation::protocol::public_key::PublicKey;
use activitypub_federation::protocol::verification::verify_domains_match;
use activitypub_federation::traits::{Activity, Actor, Object};
use axum::extract::{Path, Query};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use url::Url;

const PUBLIC: &str = "https://www.w3.org/ns/activitystreams#Public";
const ACTIVITY_JSON: &str = "application/activity+json";

/// An error of the peer: the library's, or one of its own.
#[derive(Debug)]
pub struct PeerError(String);

impl fmt::Display for PeerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<activitypub_federation::error::Error> for PeerError {
    fn from(e: activitypub_federation::error::Error) -> Self {
        Self(format!("activitypub_federation: {e}"))
    }
}

impl From<serde_json::Error> for PeerError {
    fn from(e: serde_json::Error) -> Self {
        Self(format!("json: {e}"))
    }
}

impl From<url::ParseError> for PeerError {
    fn from(e: url::ParseError) -> Self {
        Self(format!("url: {e}"))
    }
}

impl IntoResponse for PeerError {
    fn into_response(self) -> Response {
        (
            StatusCode::INTERNAL_SERVER_ERROR,
            Json(json!({ "error": self.0 })),
        )
            .into_response()
    }
}

/// An actor: alice (local, with her private key) or one fetched from
/// elsewhere.
#[derive(Clone, Debug)]
pub struct PeerActor {
    id: Url,
    json: ActorJson,
    private_key: Option<String>,
}

/// The parts of an actor document the peer reads.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ActorJson {
    #[serde(rename = "type")]
    kind: String,
    id: Url,
    preferred_username: String,
    inbox: Url,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    followers: Option<Url>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    endpoints: Option<Endpoints>,
    public_key: PublicKey,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Endpoints {
    #[serde(default)]
    shared_inbox: Option<Url>,
}

/// What the peer keeps, in memory.
#[derive(Default)]
struct Kept {
    /// Actors fetched from elsewhere.
    actors: HashMap<Url, PeerActor>,
    /// Every activity alice's inboxes accepted, as received.
    received: Vec<Value>,
    /// Alice's followers.
    followers: Vec<Url>,
    /// Alice's follows: the followed actor and the Follow's id.
    follows: HashMap<Url, Url>,
    /// Objects alice published, with the actor each went to; a deleted
    /// one is `None`.
    objects: HashMap<Url, (Option<Value>, Url)>,
}

/// The peer's state, handed to the library as its app data.
#[derive(Clone)]
pub struct State {
    base: Url,
    alice: PeerActor,
    kept: Arc<Mutex<Kept>>,
}

impl State {
    fn kept(&self) -> MutexGuard<'_, Kept> {
        self.kept.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn new_id(&self, kind: &str) -> Result<Url, PeerError> {
        Ok(self
            .base
            .join(&format!("/{kind}/{}", uuid::Uuid::new_v4()))?)
    }
}

#[async_trait::async_trait]
impl Object for PeerActor {
    type DataType = State;
    type Kind = ActorJson;
    type Error = PeerError;

    fn id(&self) -> &Url {
        &self.id
    }

    fn last_refreshed_at(&self) -> Option<DateTime<Utc>> {
        // Never refetched during a test run.
        Some(Utc::now())
    }

    async fn read_from_id(id: Url, data: &Data<State>) -> Result<Option<Self>, PeerError> {
        if id == data.alice.id {
            return Ok(Some(data.alice.clone()));
        }
        Ok(data.kept().actors.get(&id).cloned())
    }

    async fn into_json(self, _data: &Data<State>) -> Result<ActorJson, PeerError> {
        Ok(self.json)
    }

    async fn verify(
        json: &ActorJson,
        expected: &Url,
        _data: &Data<State>,
    ) -> Result<(), PeerError> {
        verify_domains_match(&json.id, expected)?;
        Ok(())
    }

    async fn from_json(json: ActorJson, data: &Data<State>) -> Result<Self, PeerError> {
        let actor = PeerActor {
            id: json.id.clone(),
            json,
            private_key: None,
        };
        data.kept().actors.insert(actor.id.clone(), actor.clone());
        Ok(actor)
    }
}

impl Actor for PeerActor {
    fn public_key_pem(&self) -> &str {
        &self.json.public_key.public_key_pem
    }

    fn private_key_pem(&self) -> Option<String> {
        self.private_key.clone()
    }

    fn inbox(&self) -> Url {
        self.json.inbox.clone()
    }

    fn shared_inbox(&self) -> Option<Url> {
        self.json.endpoints.as_ref()?.shared_inbox.clone()
    }
}

/// Any activity, received or sent: its id and actor for the library, the
/// rest as JSON.
#[derive(Debug, Deserialize, Serialize)]
pub struct AnyActivity {
    id: Url,
    actor: ObjectId<PeerActor>,
    #[serde(flatten)]
    rest: Map<String, Value>,
}

impl AnyActivity {
    fn new(id: Url, actor: &Url, rest: Value) -> Self {
        let rest = match rest {
            Value::Object(map) => map,
            _ => Map::new(),
        };
        Self {
            id,
            actor: actor.clone().into(),
            rest,
        }
    }

    fn kind(&self) -> &str {
        self.rest.get("type").and_then(Value::as_str).unwrap_or("")
    }
}

#[async_trait::async_trait]
impl Activity for AnyActivity {
    type DataType = State;
    type Error = PeerError;

    fn id(&self) -> &Url {
        &self.id
    }

    fn actor(&self) -> &Url {
        self.actor.inner()
    }

    async fn verify(&self, _data: &Data<State>) -> Result<(), PeerError> {
        // An activity comes from its actor's server.
        verify_domains_match(&self.id, self.actor.inner())?;
        Ok(())
    }

    /// Reached only after the library checked the digest and signature.
    async fn receive(self, data: &Data<State>) -> Result<(), PeerError> {
        let raw = serde_json::to_value(&self)?;
        data.kept().received.push(raw);
        let object = self.rest.get("object").cloned().unwrap_or(Value::Null);
        match self.kind() {
            "Follow" => {
                let follower = self.actor.dereference(data).await?;
                {
                    let mut kept = data.kept();
                    if !kept.followers.contains(&follower.id) {
                        kept.followers.push(follower.id.clone());
                    }
                }
                let follow = serde_json::to_value(&self)?;
                let accept = AnyActivity::new(
                    data.new_id("accepts")?,
                    &data.alice.id,
                    json!({
                        "@context": "https://www.w3.org/ns/activitystreams",
                        "type": "Accept",
                        "object": follow,
                        "to": [follower.id],
                    }),
                );
                // Sent on its own, as a server's queue would: what fails
                // here is not the inbox request's fault.
                let data = data.reset_request_count();
                tokio::spawn(async move {
                    if let Err(e) = send(&data, &accept, &follower).await {
                        eprintln!("activitypub_federation peer: Accept not sent: {e}");
                    }
                });
            }
            "Undo" if object.get("type").and_then(Value::as_str) == Some("Follow") => {
                data.kept().followers.retain(|f| f != self.actor.inner());
            }
            _ => {}
        }
        Ok(())
    }
}

/// Signs and sends `activity` to `to`'s inbox with the library.
async fn send(data: &Data<State>, activity: &AnyActivity, to: &PeerActor) -> Result<(), PeerError> {
    let tasks = activitypub_federation::activity_sending::SendActivityTask::prepare(
        activity,
        &data.alice,
        vec![to.shared_inbox_or_inbox()],
        data,
    )
    .await?;
    for task in tasks {
        task.sign_and_send(data).await?;
    }
    Ok(())
}

/// A running peer.
pub struct Peer {
    /// `http://localhost:PORT`
    pub base: String,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for Peer {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// Starts the peer on a free loopback port.
pub async fn start() -> Result<Peer, PeerError> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| PeerError(format!("bind: {e}")))?;
    let port = listener
        .local_addr()
        .map_err(|e| PeerError(format!("address: {e}")))?
        .port();
    let domain = format!("localhost:{port}");
    let base: Url = format!("http://{domain}").parse()?;
    let keys = generate_actor_keypair()?;
    let id = base.join("/users/alice")?;
    let alice = PeerActor {
        id: id.clone(),
        json: ActorJson {
            kind: "Person".into(),
            id: id.clone(),
            preferred_username: "alice".into(),
            inbox: base.join("/users/alice/inbox")?,
            followers: Some(base.join("/users/alice/followers")?),
            endpoints: Some(Endpoints {
                shared_inbox: Some(base.join("/inbox")?),
            }),
            public_key: PublicKey {
                id: format!("{id}#main-key"),
                owner: id.clone(),
                public_key_pem: keys.public_key,
            },
        },
        private_key: Some(keys.private_key),
    };
    let state = State {
        base: base.clone(),
        alice: alice.clone(),
        kept: Arc::default(),
    };
    let config = FederationConfig::builder()
        .domain(domain)
        .app_data(state)
        // http and loopback addresses, for this test peer only.
        .debug(true)
        // Fetches are signed as alice (the node may run authorized fetch).
        .signed_fetch_actor(&alice)
        .build()
        .await
        .map_err(|e| PeerError(format!("config: {e}")))?;
    let app = Router::new()
        .route("/.well-known/webfinger", get(webfinger))
        .route("/users/alice", get(actor_document))
        .route("/users/alice/inbox", post(inbox))
        .route("/inbox", post(inbox))
        .route("/objects/{id}", get(object_document))
        .route("/_test/{name}", post(control))
        .layer(FederationMiddleware::new(config));
    let server = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok(Peer {
        base: base.as_str().trim_end_matches('/').to_owned(),
        server,
    })
}

fn activity_json(value: Value) -> Response {
    ([(header::CONTENT_TYPE, ACTIVITY_JSON)], Json(value)).into_response()
}

async fn actor_document(data: Data<State>) -> Result<Response, PeerError> {
    let mut doc = serde_json::to_value(&data.alice.json)?;
    doc["@context"] = json!([
        "https://www.w3.org/ns/activitystreams",
        "https://w3id.org/security/v1"
    ]);
    Ok(activity_json(doc))
}

async fn object_document(Path(id): Path<String>, data: Data<State>) -> Result<Response, PeerError> {
    let url = data.base.join(&format!("/objects/{id}"))?;
    let found = data.kept().objects.get(&url).map(|(o, _)| o.clone());
    Ok(match found {
        Some(Some(object)) => activity_json(object),
        Some(None) => (StatusCode::GONE, "deleted").into_response(),
        None => (StatusCode::NOT_FOUND, "unknown").into_response(),
    })
}

#[derive(Deserialize)]
struct Resource {
    resource: String,
}

async fn webfinger(Query(q): Query<Resource>, data: Data<State>) -> Response {
    let name = activitypub_federation::fetch::webfinger::extract_webfinger_name(&q.resource, &data);
    match name {
        Ok("alice") => Json(build_webfinger_response(
            q.resource.clone(),
            data.alice.id.clone(),
        ))
        .into_response(),
        _ => (StatusCode::NOT_FOUND, "unknown").into_response(),
    }
}

/// The inbox: the library checks digest and signature, then hands the
/// activity to [`AnyActivity::receive`], which records it and can no
/// longer fail. A request that fails (unparseable, or not verified) is
/// refused with 401 and the reason, and is not recorded.
async fn inbox(data: Data<State>, activity: ActivityData) -> Response {
    match receive_activity::<AnyActivity, PeerActor, State>(activity, &data).await {
        Ok(()) => StatusCode::ACCEPTED.into_response(),
        Err(e) => (StatusCode::UNAUTHORIZED, e.0).into_response(),
    }
}

fn field<'a>(body: &'a Value, name: &str) -> Result<&'a str, PeerError> {
    body.get(name)
        .and_then(Value::as_str)
        .ok_or_else(|| PeerError(format!("missing field {name}")))
}

async fn actor_at(url: &str, data: &Data<State>) -> Result<PeerActor, PeerError> {
    ObjectId::<PeerActor>::parse(url)?.dereference(data).await
}

/// The control API of `interop/README.md`.
async fn control(
    Path(name): Path<String>,
    data: Data<State>,
    Json(body): Json<Value>,
) -> Result<Json<Value>, PeerError> {
    let alice = data.alice.id.clone();
    let followers = data.base.join("/users/alice/followers")?;
    let context = "https://www.w3.org/ns/activitystreams";
    Ok(Json(match name.as_str() {
        "whoami" => json!({
            "actor": alice,
            "handle": format!("alice@{}", data.domain()),
            "inbox": data.alice.json.inbox,
        }),
        "webfinger" => {
            // The library resolves a handle to its actor; the links it
            // read are not exposed, so the answer names what it found.
            let resource = field(&body, "resource")?;
            let handle = resource.trim_start_matches("acct:");
            let actor: PeerActor = webfinger_resolve_actor(handle, &data).await?;
            json!({
                "subject": resource,
                "links": [{ "rel": "self", "type": ACTIVITY_JSON, "href": actor.id }],
            })
        }
        "lookup" => {
            let actor = actor_at(field(&body, "actor")?, &data).await?;
            json!({
                "id": actor.id,
                "type": actor.json.kind,
                "preferredUsername": actor.json.preferred_username,
                "inbox": actor.json.inbox,
                "publicKeyId": actor.json.public_key.id,
            })
        }
        "follow" => {
            let target = actor_at(field(&body, "actor")?, &data).await?;
            let id = data.new_id("follows")?;
            data.kept().follows.insert(target.id.clone(), id.clone());
            let follow = AnyActivity::new(
                id.clone(),
                &alice,
                json!({ "@context": context, "type": "Follow", "object": target.id, "to": [target.id] }),
            );
            send(&data, &follow, &target).await?;
            json!({ "id": id })
        }
        "unfollow" => {
            let target = actor_at(field(&body, "actor")?, &data).await?;
            let follow_id = data
                .kept()
                .follows
                .remove(&target.id)
                .ok_or_else(|| PeerError("alice does not follow that actor".into()))?;
            let id = data.new_id("undos")?;
            let undo = AnyActivity::new(
                id.clone(),
                &alice,
                json!({
                    "@context": context,
                    "type": "Undo",
                    "object": { "id": follow_id, "type": "Follow", "actor": alice, "object": target.id },
                    "to": [target.id],
                }),
            );
            send(&data, &undo, &target).await?;
            json!({ "id": id })
        }
        "create" => {
            let target = actor_at(field(&body, "to")?, &data).await?;
            let id = data.new_id("objects")?;
            let mut object = json!({
                "@context": context,
                "id": id,
                "type": field(&body, "type")?,
                "attributedTo": alice,
                "content": field(&body, "content")?,
                "mediaType": "text/html",
                "to": [PUBLIC],
                "cc": [followers, target.id],
                "published": Utc::now().to_rfc3339(),
            });
            for key in ["name", "inReplyTo"] {
                if let Some(value) = body.get(key).filter(|v| !v.is_null()) {
                    object[key] = value.clone();
                }
            }
            data.kept()
                .objects
                .insert(id.clone(), (Some(object.clone()), target.id.clone()));
            let activity = about(&data, "Create", object, &target)?;
            send(&data, &activity, &target).await?;
            json!({ "id": id, "activity": activity.id })
        }
        "update" => {
            let id: Url = field(&body, "id")?.parse()?;
            let (object, to) = {
                let mut kept = data.kept();
                let (object, to) = kept
                    .objects
                    .get_mut(&id)
                    .ok_or_else(|| PeerError("no such object".into()))?;
                let object = object.as_mut().ok_or_else(|| PeerError("deleted".into()))?;
                object["content"] = json!(field(&body, "content")?);
                object["updated"] = json!(Utc::now().to_rfc3339());
                (object.clone(), to.clone())
            };
            let target = actor_at(to.as_str(), &data).await?;
            let activity = about(&data, "Update", object, &target)?;
            send(&data, &activity, &target).await?;
            json!({ "id": activity.id })
        }
        "delete" => {
            let id: Url = field(&body, "id")?.parse()?;
            let to = {
                let mut kept = data.kept();
                let (object, to) = kept
                    .objects
                    .get_mut(&id)
                    .ok_or_else(|| PeerError("no such object".into()))?;
                *object = None;
                to.clone()
            };
            let target = actor_at(to.as_str(), &data).await?;
            let tombstone = json!({ "id": id, "type": "Tombstone" });
            let activity = about(&data, "Delete", tombstone, &target)?;
            send(&data, &activity, &target).await?;
            json!({ "id": activity.id })
        }
        "received" => json!(data.kept().received),
        "followers" => json!(data.kept().followers),
        other => return Err(PeerError(format!("unknown control endpoint {other}"))),
    }))
}

/// `verb` by alice about `object`, public, to her followers and `target`.
fn about(
    data: &Data<State>,
    verb: &str,
    mut object: Value,
    target: &PeerActor,
) -> Result<AnyActivity, PeerError> {
    if let Some(map) = object.as_object_mut() {
        map.remove("@context");
    }
    let followers = data.base.join("/users/alice/followers")?;
    Ok(AnyActivity::new(
        data.new_id("activities")?,
        &data.alice.id,
        json!({
            "@context": "https://www.w3.org/ns/activitystreams",
            "type": verb,
            "object": object,
            "to": [PUBLIC],
            "cc": [followers, target.id],
        }),
    ))
}
