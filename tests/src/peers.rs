//! Stand-ins for other servers, for tests and benchmarks: followers that
//! exist only as rows in a node's store, inboxes on loopback that count
//! what they receive, and a listener that only counts connections.

use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use allmende_domain::{Handle, Organization, OrganizationDraft, OrganizationId, OrganizationKind};
use allmende_store::{RemoteActor, Store};
use url::Url;

/// Records a remote actor `name` with the given inbox, as if it had been
/// fetched. Its actor id is `{inbox origin}/users/{name}`; it has no
/// usable key (nothing it "sends" is checked).
pub async fn fake_remote(store: &Store, name: &str, inbox: &str) -> Organization {
    let url = Url::parse(inbox).expect("inbox URL");
    let origin = url.origin().ascii_serialization();
    let host = match (url.host_str(), url.port()) {
        (Some(h), Some(p)) => format!("{h}:{p}"),
        (Some(h), None) => h.to_owned(),
        _ => panic!("inbox without host: {inbox}"),
    };
    let actor = RemoteActor {
        actor_id: format!("{origin}/users/{name}"),
        actor_type: "Person".into(),
        inbox: inbox.to_owned(),
        shared_inbox: None,
        public_key_id: format!("{origin}/users/{name}#main-key"),
        public_key_pem: "unused".into(),
        profile_url: None,
        ..Default::default()
    };
    store
        .remote_actors()
        .upsert(
            &Handle::remote(name, &host).expect("handle"),
            &OrganizationDraft::named(name, OrganizationKind::Other),
            &actor,
            chrono::Utc::now(),
        )
        .await
        .expect("remote actor stored")
}

/// Records a remote actor `name` with the given inbox (see
/// [`fake_remote`]) as an accepted follower of `followed`, as if it had
/// followed over ActivityPub.
pub async fn fake_follower(
    store: &Store,
    followed: OrganizationId,
    name: &str,
    inbox: &str,
) -> Organization {
    let follower = fake_remote(store, name, inbox).await;
    let origin = Url::parse(inbox)
        .expect("inbox URL")
        .origin()
        .ascii_serialization();
    store
        .follows()
        .upsert(
            follower.id,
            followed,
            &format!("{origin}/follows/{name}"),
            true,
            chrono::Utc::now(),
        )
        .await
        .expect("follow stored");
    follower
}

/// What counting inboxes received, indexed the two ways tests ask.
#[derive(Default)]
struct Log {
    /// How often each inbox (by index) received each activity (by id).
    by_activity: HashMap<(usize, String), u32>,
    /// Which inboxes received an activity about each object (by id).
    by_object: HashMap<String, HashSet<usize>>,
    /// Every activity received, with the inbox's index, in order.
    bodies: Vec<(usize, serde_json::Value)>,
}

/// Inboxes on loopback, each its own host for the per-host limits, that
/// answer 202 and record what they get. Inboxes are named by their index
/// (`0..n`) in what they report.
#[derive(Clone)]
pub struct CountingInboxes {
    urls: Vec<String>,
    log: Arc<Mutex<Log>>,
    total: Arc<AtomicU64>,
    keep_bodies: bool,
}

impl CountingInboxes {
    /// Starts `n` inboxes at `http://127.0.0.1:PORT/inbox`, each on its
    /// own port.
    pub async fn start(n: usize) -> Self {
        Self::start_with(n, false).await
    }

    /// Like [`Self::start`], keeping every activity received for
    /// [`Self::received`] (not for benchmarks: it grows with the load).
    pub async fn start_recording(n: usize) -> Self {
        Self::start_with(n, true).await
    }

    fn empty(keep_bodies: bool) -> Self {
        Self {
            urls: Vec::new(),
            log: Arc::default(),
            total: Arc::default(),
            keep_bodies,
        }
    }

    async fn start_with(n: usize, keep_bodies: bool) -> Self {
        let mut inboxes = Self::empty(keep_bodies);
        for _ in 0..n {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("bind");
            inboxes.serve(listener);
        }
        inboxes
    }

    /// Starts `n` inboxes on one port, each on its own loopback address
    /// (`127.1.0.1`, `127.1.0.2`, …: every address in 127.0.0.0/8 is
    /// loopback), so that thousands of distinct hosts need neither
    /// thousands of ports nor a name resolver. For fan-out benchmarks.
    pub async fn start_spread(n: usize) -> Self {
        'port: loop {
            let first = tokio::net::TcpListener::bind("127.1.0.1:0")
                .await
                .expect("bind");
            let port = first.local_addr().expect("addr").port();
            let mut listeners = vec![first];
            for i in 1..n {
                let ip = Ipv4Addr::new(127, 1, (i / 250) as u8, (i % 250 + 1) as u8);
                match tokio::net::TcpListener::bind((ip, port)).await {
                    Ok(listener) => listeners.push(listener),
                    // Someone else has this port on that address: try
                    // another port.
                    Err(_) => continue 'port,
                }
            }
            let mut inboxes = Self::empty(false);
            for listener in listeners {
                inboxes.serve(listener);
            }
            return inboxes;
        }
    }

    /// Serves the next inbox on `listener`.
    fn serve(&mut self, listener: tokio::net::TcpListener) {
        let index = self.urls.len();
        let address = listener.local_addr().expect("addr");
        self.urls.push(format!("http://{address}/inbox"));
        let (log, total, keep_bodies) = (self.log.clone(), self.total.clone(), self.keep_bodies);
        let app = axum::Router::new().route(
            "/inbox",
            axum::routing::post(move |body: axum::body::Bytes| {
                let (log, total) = (log.clone(), total.clone());
                async move {
                    let doc: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
                    let activity = doc["id"].as_str().unwrap_or_default().to_owned();
                    let object = match &doc["object"] {
                        serde_json::Value::String(id) => Some(id.clone()),
                        other => other["id"].as_str().map(str::to_owned),
                    };
                    let mut log = log.lock().unwrap_or_else(|p| p.into_inner());
                    *log.by_activity.entry((index, activity)).or_insert(0) += 1;
                    if let Some(object) = object {
                        log.by_object.entry(object).or_default().insert(index);
                    }
                    if keep_bodies {
                        log.bodies.push((index, doc));
                    }
                    total.fetch_add(1, Ordering::Relaxed);
                    axum::http::StatusCode::ACCEPTED
                }
            }),
        );
        tokio::spawn(async move { axum::serve(listener, app).await });
    }

    /// The inbox URL of the `i`th inbox.
    pub fn url(&self, i: usize) -> String {
        self.urls[i].clone()
    }

    /// Activities received, over all inboxes.
    pub fn total(&self) -> u64 {
        self.total.load(Ordering::Relaxed)
    }

    /// How often each inbox received each activity.
    pub fn counts(&self) -> HashMap<(usize, String), u32> {
        self.log
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .by_activity
            .clone()
    }

    /// Every activity received so far, with the index of the inbox.
    pub fn received(&self) -> Vec<(usize, serde_json::Value)> {
        self.log
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .bodies
            .clone()
    }

    /// How many inboxes received an activity about `object_id`.
    pub fn inboxes_with(&self, object_id: &str) -> usize {
        self.log
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .by_object
            .get(object_id)
            .map_or(0, HashSet::len)
    }
}

/// A TCP listener on `ip` that accepts connections, counts and closes
/// them: whatever tries to talk to it, the count shows that it connected.
pub async fn connection_counter(ip: IpAddr) -> (SocketAddr, Arc<AtomicU64>) {
    let listener = tokio::net::TcpListener::bind((ip, 0)).await.expect("bind");
    let address = listener.local_addr().expect("addr");
    let count = Arc::new(AtomicU64::new(0));
    let counted = count.clone();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            counted.fetch_add(1, Ordering::Relaxed);
            drop(socket);
        }
    });
    (address, count)
}

/// `127.0.0.1`.
pub const LOOPBACK: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);
