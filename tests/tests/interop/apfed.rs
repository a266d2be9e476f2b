//! Allmende against a peer built on `activitypub_federation` 0.7 (Lemmy's
//! federation library, `interop/apfed`), in this process but over HTTP:
//! the whole scenario of `scenario.rs`.

use allmende_tests::harness::Ran;
use allmende_tests::spawn_app;

use super::scenario::{self, Remote};

pub async fn activitypub_federation_runs_the_scenario() -> Ran {
    let node = spawn_app().await;
    let token = node.org_with_token("ulm").await;
    let peer = allmende_interop_apfed::start()
        .await
        .expect("the activitypub_federation peer starts");
    let remote = Remote {
        base: peer.base.clone(),
        name: "activitypub_federation",
    };
    scenario::run(&node, &token, &remote).await;
    Ran::Yes
}
