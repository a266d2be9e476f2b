//! The `allmende` binary as an operator uses it: create an organization, a
//! user and a token, serve, and stop with SIGTERM.
#![allow(clippy::unwrap_used)]

use std::io::Write;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use allmende_store::testing::TestDatabase;
use allmende_store::Engine;
use allmende_tests::free_port;

const BIN: &str = env!("CARGO_BIN_EXE_allmende");

fn allmende(dir: &std::path::Path, db: &str, args: &[&str], stdin: Option<&str>) -> Output {
    allmende_with(dir, db, &[], args, stdin)
}

/// [`allmende`] with more environment (another node's `public_url`).
fn allmende_with(
    dir: &std::path::Path,
    db: &str,
    env: &[(&str, &str)],
    args: &[&str],
    stdin: Option<&str>,
) -> Output {
    let mut child = Command::new(BIN)
        .args(args)
        .current_dir(dir)
        .env("ALLMENDE_DATABASE_URL", db)
        .env("RUST_LOG", "warn")
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    {
        let mut input = child.stdin.take().unwrap();
        if let Some(text) = stdin {
            input.write_all(text.as_bytes()).unwrap();
        }
    }
    child.wait_with_output().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[tokio::test]
async fn operator_workflow_and_graceful_shutdown() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // SQLite: a relative path, whose directory the node creates.
    let test_db = TestDatabase::new().await;
    let db = match test_db.engine() {
        Engine::Sqlite => "sqlite://data/node.sqlite".to_owned(),
        Engine::Postgres => test_db.url().to_owned(),
    };

    let migrate = allmende(d, &db, &["migrate"], None);
    assert!(migrate.status.success(), "{migrate:?}");
    if test_db.engine() == Engine::Sqlite {
        assert!(d.join("data/node.sqlite").exists());
    }

    // A new node's queue is empty.
    let queue = allmende(d, &db, &["queue", "status"], None);
    assert!(queue.status.success(), "{queue:?}");
    let report = stdout(&queue);
    assert!(report.contains("deliveries pending     0"), "{report}");
    assert!(report.contains("failing peers          none"), "{report}");
    let queue = allmende(d, &db, &["queue", "status", "--json"], None);
    let json: serde_json::Value = serde_json::from_slice(&queue.stdout).unwrap();
    assert_eq!(json["deliveries"], 0);
    assert_eq!(json["events"], 0);

    let bad = allmende(
        d,
        &db,
        &[
            "org",
            "create",
            "ulm",
            "--name",
            "Stadt Ulm",
            "--kind",
            "municipality",
            "--ags",
            "123",
        ],
        None,
    );
    assert!(!bad.status.success());
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("ags"),
        "{bad:?}"
    );

    let org = allmende(
        d,
        &db,
        &[
            "org",
            "create",
            "ulm",
            "--name",
            "Stadt Ulm",
            "--kind",
            "municipality",
            "--ags",
            "08421000",
        ],
        None,
    );
    assert!(org.status.success(), "{org:?}");
    let dup = allmende(
        d,
        &db,
        &[
            "org",
            "create",
            "ulm",
            "--name",
            "Stadt Ulm",
            "--kind",
            "municipality",
        ],
        None,
    );
    assert!(!dup.status.success(), "handles are unique");
    let group = allmende(
        d,
        &db,
        &[
            "org",
            "create",
            "verband",
            "--name",
            "Gemeindetag",
            "--kind",
            "association",
        ],
        None,
    );
    assert!(group.status.success(), "{group:?}");
    let list = allmende(d, &db, &["org", "list"], None);
    assert!(list.status.success(), "{list:?}");
    let listed = stdout(&list);
    assert!(listed.contains("ulm\tmunicipality\tStadt Ulm"), "{listed}");
    assert!(
        listed.contains("verband\tassociation (group)\tGemeindetag"),
        "{listed}"
    );

    let typed = allmende(
        d,
        &db,
        &[
            "user",
            "create",
            "digital@ulm.example",
            "--org",
            "ulm",
            "--role",
            "admin",
        ],
        Some("ein-langes-passwort\n"),
    );
    assert!(typed.status.success(), "{typed:?}");
    assert!(
        !stdout(&typed).contains("password"),
        "a typed password is not echoed"
    );
    let generated = allmende(
        d,
        &db,
        &[
            "user",
            "create",
            "redaktion@ulm.example",
            "--org",
            "ulm",
            "--role",
            "editor",
        ],
        None,
    );
    assert!(
        stdout(&generated).contains("password (shown once): "),
        "{generated:?}"
    );
    let short = allmende(
        d,
        &db,
        &[
            "user",
            "create",
            "x@ulm.example",
            "--org",
            "ulm",
            "--role",
            "editor",
        ],
        Some("kurz\n"),
    );
    assert!(!short.status.success());

    let token = allmende(d, &db, &["token", "create", "digital@ulm.example"], None);
    assert!(token.status.success(), "{token:?}");
    let token = stdout(&token).trim().to_owned();
    assert!(token.starts_with("alm_"));

    let port = free_port();
    let mut server = Command::new(BIN)
        .arg("serve")
        .current_dir(d)
        .env("ALLMENDE_DATABASE_URL", &db)
        .env("ALLMENDE_LISTEN", format!("127.0.0.1:{port}"))
        .env("ALLMENDE_PUBLIC_URL", format!("http://localhost:{port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let client = reqwest::Client::new();
    let base = format!("http://localhost:{port}");
    let mut healthy = false;
    for _ in 0..100 {
        if let Ok(r) = client.get(format!("{base}/healthz")).send().await {
            healthy = r.status() == 200;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(healthy, "node answers /healthz");
    // The container health check asks the node at its listen address.
    let health = |listen: String| {
        Command::new(BIN)
            .arg("health")
            .current_dir(d)
            .env("ALLMENDE_DATABASE_URL", &db)
            .env("ALLMENDE_LISTEN", listen)
            .output()
            .unwrap()
    };
    let healthy = health(format!("127.0.0.1:{port}"));
    assert!(healthy.status.success(), "{healthy:?}");
    let nobody = health(format!("127.0.0.1:{}", free_port()));
    assert!(!nobody.status.success(), "{nobody:?}");
    let created = client
        .post(format!("{base}/api/v1/projects"))
        .bearer_auth(&token)
        .json(&serde_json::json!({"title": "Per CLI-Token"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);

    let kill = Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let status = server.wait().unwrap();
    assert!(
        status.success(),
        "SIGTERM ends the node cleanly: {status:?}"
    );
}

#[test]
fn config_file_errors_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    let db = "sqlite://data/node.sqlite".to_owned();
    let missing = allmende(dir.path(), &db, &["--config", "nope.toml", "migrate"], None);
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("nope.toml"));

    std::fs::write(
        dir.path().join("allmende.toml"),
        "databse_url = \"sqlite://x.sqlite\"\n",
    )
    .unwrap();
    let typo = allmende(dir.path(), &db, &["migrate"], None);
    assert!(!typo.status.success(), "unknown keys are errors");
    assert!(
        String::from_utf8_lossy(&typo.stderr).contains("databse_url"),
        "{typo:?}"
    );

    std::fs::write(
        dir.path().join("allmende.toml"),
        "public_url = \"https://allmende.ulm.de/pfad\"\n",
    )
    .unwrap();
    let bad_url = allmende(dir.path(), &db, &["migrate"], None);
    assert!(!bad_url.status.success());
    assert!(String::from_utf8_lossy(&bad_url.stderr).contains("public_url"));
}

/// `allmende queue stuck|retry|drop`: an operator lists dead work per peer,
/// starts it over, and drops it.
#[tokio::test]
async fn stuck_work_is_listed_retried_and_dropped_from_the_command_line() {
    let db = TestDatabase::new().await;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let url = db.url().to_owned();
    let store = allmende_store::Store::open(&url).await.unwrap();
    let org = store
        .organizations()
        .insert(
            &allmende_domain::Handle::parse("ulm").unwrap(),
            &allmende_domain::OrganizationDraft::named(
                "Stadt Ulm",
                allmende_domain::OrganizationKind::Municipality,
            ),
            chrono::Utc::now(),
        )
        .await
        .unwrap();
    // Two announcements: one dies before its activity is built, the other
    // becomes a delivery to h.example that dies.
    let profile = allmende_domain::OrganizationDraft::named(
        "Stadt Ulm",
        allmende_domain::OrganizationKind::Municipality,
    );
    for _ in 0..2 {
        store
            .organizations()
            .update(org.id, &profile, chrono::Utc::now())
            .await
            .unwrap();
    }
    let outbox = store.outbox();
    let now = chrono::Utc::now();
    let events = outbox
        .claim_events(now, chrono::Duration::seconds(60), 10)
        .await
        .unwrap();
    outbox
        .event_failed(events[0].id, "key unreadable", None, now)
        .await
        .unwrap();
    let activity = allmende_store::NewActivity {
        activity_id: "https://ulm.example/activities/1".into(),
        sender: org.id.to_string(),
        key_id: "https://ulm.example/orgs/ulm#main-key".into(),
        body: "{}".into(),
        inboxes: vec![("https://h.example/inbox".into(), "h.example".into())],
    };
    outbox
        .expand(events[1].id, Some(&activity), now)
        .await
        .unwrap();
    let delivery = outbox
        .claim_deliveries("w", now, chrono::Duration::seconds(60), 10)
        .await
        .unwrap()
        .remove(0);
    outbox
        .delivery_dead(&delivery, "refused: status 401 Unauthorized", now)
        .await
        .unwrap();
    store.close().await;

    let listed = stdout(&allmende(d, &url, &["queue", "stuck"], None));
    assert!(
        listed.contains("(this node)  dead Announcement x1")
            && listed.contains("last error: key unreadable"),
        "{listed}"
    );
    assert!(
        listed.contains("h.example  dead Delivery x1") && listed.contains("status 401"),
        "{listed}"
    );
    let json: serde_json::Value =
        serde_json::from_slice(&allmende(d, &url, &["queue", "stuck", "--json"], None).stdout)
            .unwrap();
    assert_eq!(json.as_array().unwrap().len(), 2, "{json}");
    let status = stdout(&allmende(d, &url, &["queue", "status"], None));
    assert!(status.contains("dead work              2"), "{status}");

    // A scope is required: nothing is retried or dropped by accident.
    let bare = allmende(d, &url, &["queue", "drop"], None);
    assert!(!bare.status.success());

    let retried = allmende(d, &url, &["queue", "retry", "--peer", "h.example"], None);
    assert!(retried.status.success(), "{retried:?}");
    assert!(
        stdout(&retried).contains("retrying 1 dead jobs"),
        "{retried:?}"
    );
    let listed = stdout(&allmende(d, &url, &["queue", "stuck"], None));
    assert!(!listed.contains("h.example"), "{listed}");
    assert!(
        listed.contains("(this node)"),
        "the other peer's work stays: {listed}"
    );

    let dropped = allmende(d, &url, &["queue", "drop", "--local"], None);
    assert!(stdout(&dropped).contains("dropped 1 jobs"), "{dropped:?}");
    let listed = stdout(&allmende(d, &url, &["queue", "stuck"], None));
    assert_eq!(listed, "nothing stuck\n");
}

/// `allmende doctor` names what keeps a node from working and what to do,
/// fails only for those, and changes nothing.
#[tokio::test]
async fn the_doctor_says_what_to_fix() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let test_db = TestDatabase::new().await;
    let db = match test_db.engine() {
        Engine::Sqlite => "sqlite://data/node.sqlite".to_owned(),
        Engine::Postgres => test_db.url().to_owned(),
    };
    let doctor = |config: &str| {
        std::fs::write(d.join("allmende.toml"), config).unwrap();
        allmende(d, &db, &["doctor"], None)
    };

    // A node nobody could reach: plain http on a reserved name.
    let bad = doctor("public_url = \"http://allmende.invalid\"\n");
    assert!(!bad.status.success());
    let report = stdout(&bad);
    assert!(
        report.contains("FAIL  public_url http://allmende.invalid/ is not https"),
        "{report}"
    );
    assert!(report.contains("reserved for tests"), "{report}");
    assert!(
        report.contains("legal pages not set: imprint_url"),
        "{report}"
    );
    assert!(
        report.contains("→ "),
        "every problem says what to do: {report}"
    );
    if test_db.engine() == Engine::Sqlite {
        assert!(
            report.contains("does not exist: the node creates a new, empty one"),
            "{report}"
        );
        assert!(
            !d.join("data/node.sqlite").exists(),
            "the doctor created the database"
        );
    }

    // A development node on loopback, migrated, with its keys: no failure.
    let development = format!(
        "public_url = \"http://localhost:{}\"\nlisten = \"127.0.0.1:{}\"\nfederation_development = true\n",
        free_port(),
        free_port()
    );
    std::fs::write(d.join("allmende.toml"), &development).unwrap();
    let migrate = allmende(d, &db, &["migrate"], None);
    assert!(migrate.status.success(), "{migrate:?}");
    let created = allmende(
        d,
        &db,
        &[
            "org",
            "create",
            "ulm",
            "--name",
            "Stadt Ulm",
            "--kind",
            "municipality",
        ],
        None,
    );
    assert!(created.status.success(), "{created:?}");
    let good = doctor(&development);
    let report = stdout(&good);
    assert!(good.status.success(), "{report}");
    assert!(report.contains("schema up to date"), "{report}");
    assert!(report.contains("0 failures"), "{report}");

    // A database written by a newer version (a migration this one does not
    // know) is a failure: migrations only go forward.
    let store = allmende_store::Store::connect(&sqlite_or_pg(&db, d))
        .await
        .unwrap();
    store.insert_future_migration_for_tests().await.unwrap();
    store.close().await;
    let newer = doctor(&development);
    assert!(!newer.status.success());
    assert!(
        stdout(&newer).contains("a newer Allmende wrote it"),
        "{}",
        stdout(&newer)
    );
}

#[tokio::test]
async fn an_organization_is_exported_and_imported_from_the_command_line() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let old_db = TestDatabase::new().await;
    let new_db = TestDatabase::new().await;
    let at_old = [("ALLMENDE_PUBLIC_URL", "https://alt.example")];
    let at_new = [("ALLMENDE_PUBLIC_URL", "https://neu.example")];
    let old = |args: &[&str]| allmende_with(d, old_db.url(), &at_old, args, None);
    let new = |args: &[&str]| allmende_with(d, new_db.url(), &at_new, args, None);

    let created = old(&[
        "org",
        "create",
        "ulm",
        "--name",
        "Stadt Ulm",
        "--kind",
        "municipality",
    ]);
    assert!(created.status.success(), "{created:?}");
    let user = allmende(
        d,
        old_db.url(),
        &[
            "user",
            "create",
            "digital@ulm.example",
            "--org",
            "ulm",
            "--role",
            "admin",
        ],
        Some("ein-langes-passwort\n"),
    );
    assert!(user.status.success(), "{user:?}");

    let exported = old(&["org", "export", "ulm", "ulm.json"]);
    assert!(exported.status.success(), "{exported:?}");
    assert!(
        stdout(&exported).contains("1 people"),
        "{}",
        stdout(&exported)
    );
    let file = d.join("ulm.json");
    // It holds private keys: only its owner may read it.
    let mode = std::fs::metadata(&file).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    let archive: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    assert_eq!(archive["format"], "allmende-organization");
    assert_eq!(archive["version"], 1);
    assert_eq!(archive["actor_id"], "https://alt.example/orgs/ulm");
    assert_eq!(archive["people"][0]["email"], "digital@ulm.example");
    // An existing file is never overwritten.
    let again = old(&["org", "export", "ulm", "ulm.json"]);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("must not exist"));

    let imported = new(&["org", "import", "ulm.json"]);
    assert!(imported.status.success(), "{imported:?}");
    let report = stdout(&imported);
    assert!(report.contains("imported ulm"), "{report}");
    assert!(
        report.contains("allmende org move ulm --to https://neu.example/orgs/ulm"),
        "{report}"
    );
    let listed = stdout(&new(&["org", "list"]));
    assert!(listed.contains("ulm\tmunicipality\tStadt Ulm"), "{listed}");
    // Twice is refused, and so is a file that is no archive.
    let twice = new(&["org", "import", "ulm.json"]);
    assert!(!twice.status.success());
    assert!(
        String::from_utf8_lossy(&twice.stderr).contains("already"),
        "{twice:?}"
    );
    std::fs::write(d.join("other.json"), "{\"format\": 1}").unwrap();
    let other = new(&["org", "import", "other.json"]);
    assert!(!other.status.success());
    assert!(
        String::from_utf8_lossy(&other.stderr).contains("is not an organization archive"),
        "{other:?}"
    );
}

/// The URL of `db` as seen from the test, whose working directory is not `d`.
fn sqlite_or_pg(db: &str, d: &std::path::Path) -> String {
    match db.strip_prefix("sqlite://") {
        Some(relative) => format!("sqlite://{}", d.join(relative).display()),
        None => db.to_owned(),
    }
}
