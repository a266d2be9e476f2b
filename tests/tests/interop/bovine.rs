//! Allmende against bovine-herd (PyPI, `interop/bovine/harness.py`): the
//! whole scenario of `scenario.rs`.

use allmende_tests::harness::Ran;
use allmende_tests::test_config;
use tokio::process::Command;

use super::peer;
use super::scenario;

pub async fn bovine_herd_runs_the_scenario() -> Ran {
    // Its own virtualenv: bovine-herd needs older Quart and tortoise-orm
    // than fediverse-pasture.
    let python = peer::root().join("target/bovine-venv/bin/python");
    if !python.exists() {
        return peer::missing("no virtualenv with bovine-herd (target/bovine-venv)");
    }
    let mut command = Command::new(python);
    command.arg(peer::root().join("interop/bovine/harness.py"));
    scenario::run_against_process(test_config(), command, "bovine-herd").await
}
