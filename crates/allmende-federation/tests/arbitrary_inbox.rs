//! Arbitrary requests to the inbox: random bytes with random signature
//! headers, and random JSON activities correctly signed by a known peer
//! that a local organization follows (so they get past the signature and
//! reach every handler). Each is answered 202 or 4xx: never a panic, never
//! a 5xx. Also arbitrary strings to the parsers of remote identifiers.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use allmende_domain::organization::Handle;
use allmende_domain::{OrganizationDraft, OrganizationKind};
use allmende_federation::inbound::InboxRequest;
use allmende_federation::signatures::sign_post;
use allmende_federation::{DeliverySettings, Federation, FederationSettings, SigningKey};
use allmende_store::RemoteActor;
use axum::http::{HeaderMap, HeaderName, HeaderValue};
use proptest::prelude::*;
use serde_json::{json, Value};
use url::Url;

/// The peer: on a closed loopback port, so any fetch fails at once.
const PEER: &str = "http://127.0.0.1:1";
const NODE: &str = "http://localhost:1";

struct Fixture {
    runtime: tokio::runtime::Runtime,
    federation: Federation,
    store: allmende_store::Store,
    key: Arc<SigningKey>,
    _db: allmende_store::testing::TestDatabase,
}

fn fixture() -> Fixture {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (federation, store, key, db) = runtime.block_on(async {
        let (store, db, ulm) = allmende_store::testing::store_with_organization("ulm").await;
        let federation = Federation::new(
            store.clone(),
            FederationSettings {
                public_url: NODE.parse().unwrap(),
                allow_private_peers: true,
                max_inbox_bytes: 256 * 1024,
                inbox_per_minute: 0,
                allowlist_only: false,
                authorized_fetch: false,
                delivery: DeliverySettings::default(),
                version: "test".into(),
            },
        )
        .unwrap();
        let key = Arc::new(SigningKey::generate().unwrap());
        let peer = store
            .remote_actors()
            .upsert(
                &Handle::remote("peer", "127.0.0.1:1").unwrap(),
                &OrganizationDraft::named("Peer", OrganizationKind::Other),
                &RemoteActor {
                    actor_id: format!("{PEER}/actor"),
                    actor_type: "Organization".into(),
                    inbox: format!("{PEER}/inbox"),
                    shared_inbox: None,
                    public_key_id: format!("{PEER}/actor#main-key"),
                    public_key_pem: key.public_key_pem().to_owned(),
                    profile_url: None,
                    ..Default::default()
                },
                chrono::Utc::now(),
            )
            .await
            .unwrap();
        store
            .follows()
            .upsert(
                ulm,
                peer.id,
                &format!("{NODE}/follows/1"),
                true,
                chrono::Utc::now(),
            )
            .await
            .unwrap();
        (federation, store, key, db)
    });
    Fixture {
        runtime,
        federation,
        store,
        key,
        _db: db,
    }
}

impl Fixture {
    /// The status the inbox answers `body` with `headers`.
    fn receive(&self, headers: &HeaderMap, body: &[u8]) -> u16 {
        let outcome = self
            .runtime
            .block_on(self.federation.inbound().receive(InboxRequest {
                path_and_query: "/inbox",
                headers,
                body,
            }));
        match outcome {
            Ok(status) => status.as_u16(),
            Err(e) => e.status().as_u16(),
        }
    }

    fn signed(&self, body: &[u8]) -> HeaderMap {
        sign_post(
            &self.key,
            &format!("{PEER}/actor#main-key"),
            &Url::parse(&format!("{NODE}/inbox")).unwrap(),
            body,
        )
        .unwrap()
    }
}

fn string() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(format!("{PEER}/actor")),
        Just(format!("{PEER}/notes/1")),
        Just(format!("{NODE}/orgs/ulm")),
        Just(format!(
            "{NODE}/questions/00000000-0000-7000-8000-000000000000"
        )),
        Just("https://www.w3.org/ns/activitystreams#Public".to_owned()),
        Just("Create".to_owned()),
        Just("Update".to_owned()),
        Just("Delete".to_owned()),
        Just("Follow".to_owned()),
        Just("Undo".to_owned()),
        Just("Accept".to_owned()),
        Just("Reject".to_owned()),
        Just("Note".to_owned()),
        Just("Article".to_owned()),
        Just("project".to_owned()),
        Just("question".to_owned()),
        Just("answer".to_owned()),
        Just("solution".to_owned()),
        Just("Organization".to_owned()),
        "[ -~]{0,30}",
        any::<String>(),
    ]
}

/// Arbitrary JSON shaped like activities: the usual keys, nested.
fn activity_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        string().prop_map(Value::String),
    ];
    let keys = prop_oneof![
        Just("id"),
        Just("type"),
        Just("actor"),
        Just("object"),
        Just("to"),
        Just("cc"),
        Just("inReplyTo"),
        Just("attributedTo"),
        Just("content"),
        Just("name"),
        Just("itemType"),
        Just("item"),
        Just("title"),
        Just("body"),
        Just("status"),
        Just("published"),
        Just("updated"),
        Just("acceptedAnswer"),
        Just("publicKey"),
        Just("inbox"),
        Just("profile"),
    ];
    leaf.prop_recursive(5, 80, 10, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(keys.clone().prop_map(str::to_owned), inner, 0..10)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
    .prop_map(|mut v| {
        // Mostly from the signer, with an id on its domain: deeper paths.
        if let Value::Object(m) = &mut v {
            m.entry("actor").or_insert(json!(format!("{PEER}/actor")));
        }
        v
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn random_bytes_and_headers_get_4xx(
        body in prop::collection::vec(any::<u8>(), 0..512),
        headers in prop::collection::vec(
            (prop_oneof![Just("signature"), Just("date"), Just("digest"), Just("host"), Just("content-type")], "[ -~]{0,120}"),
            0..6),
    ) {
        let f = FIXTURE.with(|f| f.clone());
        let mut map = HeaderMap::new();
        for (name, value) in headers {
            if let Ok(v) = HeaderValue::from_str(&value) {
                map.append(HeaderName::from_static(name), v);
            }
        }
        let status = f.receive(&map, &body);
        prop_assert!((400..500).contains(&status) || status == 202, "{status}");
    }

    #[test]
    fn random_signed_activities_get_202_or_4xx(doc in activity_json()) {
        let f = FIXTURE.with(|f| f.clone());
        let body = serde_json::to_vec(&doc).unwrap();
        let status = f.receive(&f.signed(&body), &body);
        prop_assert!((400..500).contains(&status) || status == 202, "{status} for {doc}");
    }

    #[test]
    fn remote_identifier_parsers_never_panic(s in string()) {
        let _ = allmende_federation::webfinger::Target::parse(&s);
        let _ = allmende_federation::policy::normalise_domain(&s);
        let _ = allmende_federation::objects::activity::Incoming::parse(json!({ "id": s, "type": s, "actor": s, "object": s }));
        if let Ok(url) = Url::parse(&s) {
            let _ = allmende_federation::objects::actor::parse_remote(&json!({ "id": s, "type": "Person", "inbox": s, "publicKey": { "id": s, "publicKeyPem": s } }), &url);
        }
    }
}

thread_local! {
    /// One node for all cases of a test (each proptest runs on one thread).
    static FIXTURE: std::rc::Rc<Fixture> = std::rc::Rc::new(fixture());
}

/// The fixture really lets signed activities through to the handlers: a
/// well-formed Create is taken and stored, so the random ones above are
/// judged by the handlers too, not only by the signature check.
#[test]
fn the_fixture_reaches_the_handlers() {
    let f = FIXTURE.with(|f| f.clone());
    let body = serde_json::to_vec(&json!({
        "id": format!("{PEER}/activities/1"), "type": "Create", "actor": format!("{PEER}/actor"),
        "object": { "id": format!("{PEER}/notes/1"), "type": "Note",
                    "attributedTo": format!("{PEER}/actor"), "content": "<p>Hallo</p>" }
    }))
    .unwrap();
    assert_eq!(f.receive(&f.signed(&body), &body), 202);
    let stored = f
        .runtime
        .block_on(f.store.posts().find_by_ap_id(&format!("{PEER}/notes/1")))
        .unwrap();
    assert!(stored.is_some(), "the note was stored");
    // A forged signature on the same body is refused.
    let mut forged = f.signed(&body);
    forged.insert("digest", HeaderValue::from_static("SHA-256=AAAA"));
    assert_eq!(f.receive(&forged, &body), 401);
}
