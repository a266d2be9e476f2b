//! Test rig: starts real Allmende nodes on loopback (port 0, a fresh
//! database each: SQLite, or PostgreSQL with `ALLMENDE_TEST_DATABASE=postgres`)
//! and talks to them over HTTP, as a browser or script would.

pub mod api;
pub mod harness;
pub mod peers;
pub mod process;
pub mod signed;
pub mod smtp;

use allmende_domain::OrganizationInput;
use allmende_server::auth::token;
use allmende_server::usecases::{accounts, organizations};
use allmende_server::{AppState, Application, Config};
pub use allmende_store::testing::TestDatabase;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub const PASSWORD: &str = "ein-sicheres-passwort";

pub struct TestNode {
    /// `http://localhost:PORT`
    pub url: String,
    pub state: AppState,
    /// `ALLMENDE_DATABASE_URL` of the node, to start it again on its data.
    pub database_url: String,
    /// Where `metrics_listen` serves, when set (port 0 becomes a real one).
    pub metrics_addr: Option<std::net::SocketAddr>,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<Result<(), String>>>,
    database: Option<TestDatabase>,
}

/// The configuration test nodes start from: federation with other test
/// nodes on loopback allowed, and retries after a tenth of a second.
pub fn test_config() -> Config {
    Config {
        federation_development: true,
        delivery_retry_ms: 100,
        // 14,000 rows per test database would only slow tests down; the
        // tests of reference data load it themselves.
        reference_data: false,
        ..Config::default()
    }
}

/// Starts a node with a fresh database.
pub async fn spawn_app() -> TestNode {
    spawn_app_with(test_config()).await
}

/// Starts a node with a fresh database and the given configuration.
pub async fn spawn_app_with(config: Config) -> TestNode {
    let database = TestDatabase::new().await;
    let mut node = spawn_app_on(database.url(), config, 0).await;
    node.database = Some(database);
    node
}

/// Starts a node on an existing database.
pub async fn spawn_app_with_db(database_url: &str, base: Config) -> TestNode {
    spawn_app_on(database_url, base, 0).await
}

/// Starts a node on `port` (0 for any): a node restarted on its old port
/// keeps its URL, as a real node does.
pub async fn spawn_app_on(database_url: &str, base: Config, port: u16) -> TestNode {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .expect("bind port");
    let port = listener.local_addr().expect("addr").port();
    let url = format!("http://localhost:{port}");
    let config = Config {
        database_url: database_url.into(),
        listen: listener.local_addr().expect("addr"),
        public_url: url.parse().expect("url"),
        ..base
    };
    let app = Application::with_listener(config, listener)
        .await
        .expect("node starts");
    let state = app.state().clone();
    let metrics_addr = app.metrics_addr();
    // Test nodes trust each other (all are on localhost), so follows are
    // accepted at once as before approval existed; tests of approval
    // choose it per organization.
    allmende_server::usecases::policy::add(
        &state,
        "test set-up",
        "localhost",
        "trust",
        "test nodes",
    )
    .await
    .expect("trust test nodes");
    let (tx, rx) = oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        app.run_until(async move {
            let _ = rx.await;
        })
        .await
        .map_err(|e| e.to_string())
    });
    TestNode {
        url,
        state,
        database_url: database_url.to_owned(),
        metrics_addr,
        shutdown: Some(tx),
        server: Some(server),
        database: None,
    }
}

impl TestNode {
    /// Stops the node gracefully and waits until it has closed the database.
    /// Returns the test database so that it outlives the node.
    pub async fn stop(mut self) -> Option<TestDatabase> {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(server) = self.server.take() {
            server
                .await
                .expect("server task")
                .expect("server ran cleanly");
        }
        self.database.take()
    }

    /// The port the node listens on.
    pub fn port(&self) -> u16 {
        self.state.config.listen.port()
    }

    /// `host:port` as in `acct:handle@host:port`.
    pub fn host(&self) -> String {
        self.url.trim_start_matches("http://").to_owned()
    }

    /// Takes over the node's test database (for a node that is stopped and
    /// started again on the same data).
    pub fn take_database(&mut self) -> Option<TestDatabase> {
        self.database.take()
    }

    pub fn at(&self, path: &str) -> String {
        format!("{}{}", self.url, path)
    }

    /// Creates an organization (municipality) with the given handle.
    pub async fn org(&self, handle: &str, name: &str) {
        let input = OrganizationInput {
            name: Some(name.into()),
            kind: Some("municipality".into()),
            ags: Some("08421000".into()),
            ..Default::default()
        };
        organizations::create(&self.state.store, handle, &input)
            .await
            .expect("organization created");
    }

    /// An organization with one user of the given role.
    pub async fn org_with_user(&self, handle: &str, name: &str, email: &str, role: &str) {
        self.org(handle, name).await;
        self.user(email, handle, role).await;
    }

    /// Creates a user with [`PASSWORD`].
    pub async fn user(&self, email: &str, org: &str, role: &str) {
        accounts::create_user(&self.state.store, email, org, role, PASSWORD)
            .await
            .expect("user created");
    }

    /// An organization with an admin user and an API token for them.
    pub async fn org_with_token(&self, handle: &str) -> String {
        self.org(handle, &format!("Stadt {handle}")).await;
        let email = format!("admin@{handle}.example");
        self.user(&email, handle, "admin").await;
        self.token_for(&email).await
    }

    /// A group (an association or network, `kind`) with an admin user
    /// `admin@{handle}.example`, who approves members by hand unless
    /// `approval` says otherwise; returns the admin's API token.
    pub async fn group_with_token(
        &self,
        handle: &str,
        kind: &str,
        approval: allmende_domain::FollowerApproval,
    ) -> String {
        let input = OrganizationInput {
            name: Some(format!("Netzwerk {handle}")),
            kind: Some(kind.into()),
            ..Default::default()
        };
        let group = organizations::create(&self.state.store, handle, &input)
            .await
            .expect("group created");
        self.state
            .store
            .organizations()
            .set_follower_approval(group.id, approval)
            .await
            .expect("approval set");
        let email = format!("admin@{handle}.example");
        self.user(&email, handle, "admin").await;
        self.token_for(&email).await
    }

    /// The organization with `handle` as this node stores it.
    pub async fn organization(&self, handle: &str) -> allmende_domain::Organization {
        self.state
            .store
            .organizations()
            .by_handle(handle)
            .await
            .expect("organization")
    }

    /// A new API token of the user with this e-mail address.
    pub async fn token_for(&self, email: &str) -> String {
        let email = allmende_domain::Email::parse(email).expect("valid e-mail");
        let user = self
            .state
            .store
            .accounts()
            .credentials(&email)
            .await
            .expect("db")
            .expect("user")
            .0;
        token::create(&self.state.store, user.id, "test")
            .await
            .expect("token")
            .0
    }

    pub async fn count(&self, table: &str) -> i64 {
        match table {
            "projects" => self.state.store.projects().count().await,
            "questions" => self.state.store.questions().count().await,
            "solutions" => self.state.store.solutions().count().await,
            other => self.state.store.count_rows(other).await,
        }
        .expect("count")
    }
}

/// An HTTP client that keeps cookies (a browser) and does not follow
/// redirects, so tests can check them.
pub fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

/// The value of the hidden CSRF field in a page.
pub fn csrf_from(html: &str) -> String {
    let marker = "name=\"csrf\" value=\"";
    let start = html.find(marker).expect("page has a CSRF field") + marker.len();
    html[start..].split('"').next().expect("value").to_owned()
}

/// Opens a page in the browser and returns the CSRF token of its forms.
pub async fn page_csrf(node: &TestNode, browser: &reqwest::Client, path: &str) -> String {
    let page = browser
        .get(node.at(path))
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("body");
    csrf_from(&page)
}

/// Logs a browser in and returns the CSRF token to use in its forms (the
/// session's, not the one the login form carried).
pub async fn login(node: &TestNode, browser: &reqwest::Client, email: &str) -> String {
    let csrf = page_csrf(node, browser, "/login").await;
    let response = browser
        .post(node.at("/login"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("email", email),
            ("password", PASSWORD),
            ("next", "/"),
        ])
        .send()
        .await
        .expect("login post");
    assert_eq!(response.status(), 303, "login should redirect");
    // Form tokens are bound to the session: the pre-login one is dead now.
    let fresh = page_csrf(node, browser, "/").await;
    assert_ne!(fresh, csrf, "the form token changes at login");
    fresh
}

/// Asserts that headings never skip a level going down (h1 → h3), as
/// WCAG 1.3.1 / BITV expect for navigable page structure.
pub fn assert_heading_order(path: &str, html: &str) {
    let mut previous = 0u8;
    for (i, _) in html.match_indices("<h") {
        let Some(level) = html[i + 2..].chars().next().and_then(|c| c.to_digit(10)) else {
            continue;
        };
        let level = level as u8;
        assert!(
            level <= previous + 1,
            "{path}: h{level} follows h{previous}"
        );
        previous = level;
    }
    assert!(previous > 0, "{path}: no headings");
}

/// Waits (at most a minute) until no delivery is pending on any of
/// `nodes`; see [`allmende_federation::Federation::settle`].
pub async fn settle(nodes: &[&TestNode]) {
    let federations: Vec<&allmende_federation::Federation> =
        nodes.iter().map(|n| &n.state.federation).collect();
    tokio::time::timeout(
        std::time::Duration::from_secs(60),
        allmende_federation::Federation::settle(&federations),
    )
    .await
    .expect("deliveries finish within a minute");
}

/// Polls `condition` for at most `secs` seconds; `false` if it never held.
/// For states that other tasks or processes bring about.
pub async fn eventually<F, Fut>(secs: u64, mut condition: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(secs);
    while !condition().await {
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    true
}

/// Like [`eventually`], but panics with `what` when `condition` never held.
pub async fn wait_until<F, Fut>(secs: u64, what: &str, condition: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    assert!(
        eventually(secs, condition).await,
        "timed out after {secs} s waiting until {what}"
    );
}

/// Polls `find` for at most `secs` seconds until it finds something, and
/// returns that; panics with `what` when it never does.
pub async fn wait_for<T, F, Fut>(secs: u64, what: &str, mut find: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(secs);
    loop {
        if let Some(found) = find().await {
            return found;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out after {secs} s waiting until {what}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// A port that was free a moment ago (for processes that bind it
/// themselves).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// GETs `url` and returns the body as text.
pub async fn get_text(url: &str) -> String {
    client()
        .get(url)
        .send()
        .await
        .expect("GET")
        .text()
        .await
        .expect("body")
}

/// GETs `url` and returns the body as JSON.
pub async fn get_json(url: &str) -> serde_json::Value {
    client()
        .get(url)
        .send()
        .await
        .expect("GET")
        .json()
        .await
        .expect("JSON body")
}
