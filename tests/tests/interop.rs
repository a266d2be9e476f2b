//! Interop with ActivityPub software nobody on this team wrote, on
//! loopback: a Fedify peer (npm `@fedify/fedify`, which verifies HTTP
//! signatures strictly) and fediverse-pasture's `verify_actor` (PyPI).
//!
//! Both need their packages installed (`.ci/run` does it). Without them the
//! tests say so loudly and pass; with `ALLMENDE_REQUIRE_INTEROP=1` (set by
//! `.ci/run`) a missing peer fails the test instead.
#![allow(clippy::unwrap_used)]

mod interop {
    pub mod fedify;
    pub mod pasture;
    pub mod peer;
}
