//! fediverse-pasture's `verify_actor` against our inbox: its test actors
//! fetch our actor and post to our inbox. Unsigned posts must be refused;
//! signed ones accepted, including from actors whose key can only be
//! fetched with a signed request (our instance actor signs those fetches).

use std::time::Duration;

use allmende_tests::harness::Ran;
use allmende_tests::{client, spawn_app};
use serde_json::Value;
use tokio::process::Command;

use super::peer;

/// The virtualenv `.ci/run` installs the pinned packages into.
fn python() -> std::path::PathBuf {
    std::env::var_os("ALLMENDE_PASTURE_PYTHON")
        .map(Into::into)
        .unwrap_or_else(|| peer::root().join("target/interop-venv/bin/python"))
}

pub async fn verify_actor_accepts_signed_and_refuses_unsigned_posts() -> Ran {
    let python = python();
    if !python.exists() {
        return peer::missing("no virtualenv with fediverse-pasture");
    }
    let node = spawn_app().await;
    node.org("ulm", "Stadt Ulm").await;
    let actor = node.at("/orgs/ulm");

    let port = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        probe.local_addr().unwrap().port()
    };
    let workdir = tempfile::tempdir().unwrap(); // it writes its keys to the working directory
    let mut command = Command::new(&python);
    command
        .args(["-m", "fediverse_pasture.verify_actor", "--port"])
        .arg(port.to_string())
        .arg("--domain")
        .arg(format!("localhost:{port}"))
        .current_dir(workdir.path())
        .env("PYTHONUNBUFFERED", "1");
    let (_peer, _) = peer::start(command, " * Running on").await;
    // It announces itself a moment before it accepts connections.
    allmende_tests::wait_until(30, "verify_actor accepts connections", || async move {
        tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
    })
    .await;

    let response = tokio::time::timeout(
        Duration::from_secs(120),
        client()
            .get(format!("http://localhost:{port}/"))
            .query(&[("actor_uri", actor.as_str())])
            .header("accept", "application/json")
            .send(),
    )
    .await
    .expect("verify_actor answers within two minutes")
    .unwrap();
    assert_eq!(response.status(), 200);
    let report: Value = response.json().await.unwrap();
    let result = &report["result"];
    let messages = report["messages"].as_str().unwrap_or_default();
    let check = |name: &str, get: bool, post: bool| {
        assert_eq!(
            result[name]["get_actor"], get,
            "{name} get_actor\n{result}\n{messages}"
        );
        assert_eq!(
            result[name]["post_inbox"], post,
            "{name} post_inbox\n{result}\n{messages}"
        );
    };
    // Unsigned posts are refused.
    check("alice", true, false);
    check("dean", true, false);
    // Signed posts are accepted, also when the key needs a signed fetch,
    // and from actors without preferredUsername.
    check("bob", true, true);
    check("claire", true, true);
    check("emily", true, true);
    check("frank", true, true);
    assert_eq!(result["webfinger"], true, "{messages}");
    Ran::Yes
}
