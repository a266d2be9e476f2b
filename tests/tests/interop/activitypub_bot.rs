//! Allmende against @evanp/activitypub-bot (npm,
//! `interop/activitypub-bot/harness.mjs`, on the Node 22 that package
//! installs from the registry): the whole scenario of `scenario.rs`. The
//! bot's Undo of a Follow leaves out the Follow's actor (issue 11,
//! finding 1), and it hands activities to its bots by their addressing
//! (finding 2).

use allmende_tests::harness::Ran;
use allmende_tests::test_config;
use tokio::process::Command;

use super::peer;
use super::scenario;

pub async fn activitypub_bot_runs_the_scenario() -> Ran {
    let dir = peer::root().join("interop/activitypub-bot");
    if !dir
        .join("node_modules/sqlite3/build/Release/node_sqlite3.node")
        .exists()
    {
        return peer::missing(
            "interop/activitypub-bot/node_modules missing (npm ci --ignore-scripts && npm run build-sqlite3)",
        );
    }
    let mut command = Command::new(dir.join("node_modules/.bin/node"));
    command.arg("harness.mjs").current_dir(&dir);
    scenario::run_against_process(test_config(), command, "activitypub-bot").await
}
