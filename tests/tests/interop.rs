//! Interop with ActivityPub software nobody on this team wrote, on
//! loopback (`interop/README.md`): Fedify (npm), activitypub-bot (npm),
//! bovine-herd (PyPI) and a peer on activitypub_federation (crates.io)
//! each run the scenario of `interop/scenario.rs`; Fedify also reports the
//! signature checks it made, and fediverse-pasture's `verify_actor`
//! (PyPI) checks our inbox.
//!
//! The npm and PyPI peers need their packages installed (`.ci/run` does
//! it). Without them
//! the tests are reported *ignored*, with the reason, in the summary line
//! (this binary runs on `allmende_tests::harness`); with
//! `ALLMENDE_REQUIRE_INTEROP=1` (set by `.ci/run`) a missing peer fails the
//! test instead.
#![allow(clippy::unwrap_used)]

mod interop {
    pub mod activitypub_bot;
    pub mod apfed;
    pub mod bovine;
    pub mod fedify;
    pub mod pasture;
    pub mod peer;
    pub mod scenario;
}

use allmende_tests::harness::{run, trial};

fn main() {
    run(vec![
        trial(
            "interop::activitypub_bot::activitypub_bot_runs_the_scenario",
            interop::activitypub_bot::activitypub_bot_runs_the_scenario,
        ),
        trial(
            "interop::apfed::activitypub_federation_runs_the_scenario",
            interop::apfed::activitypub_federation_runs_the_scenario,
        ),
        trial(
            "interop::fedify::allmende_and_fedify_federate_both_ways",
            interop::fedify::allmende_and_fedify_federate_both_ways,
        ),
        trial(
            "interop::bovine::bovine_herd_runs_the_scenario",
            interop::bovine::bovine_herd_runs_the_scenario,
        ),
        trial(
            "interop::fedify::fedify_joins_a_group_and_posts_to_it",
            interop::fedify::fedify_joins_a_group_and_posts_to_it,
        ),
        trial(
            "interop::fedify::fedify_runs_the_scenario",
            interop::fedify::fedify_runs_the_scenario,
        ),
        trial(
            "interop::pasture::verify_actor_accepts_signed_and_refuses_unsigned_posts",
            interop::pasture::verify_actor_accepts_signed_and_refuses_unsigned_posts,
        ),
    ])
}
