//! Durable delivery between real nodes on loopback: outages of receivers
//! and restarts of senders lose nothing, new followers get the existing
//! items (backfill), and operators see the queue. The crash tests with
//! whole processes (SIGKILL, two processes on one database) are in
//! `crates/allmende-server/tests/processes.rs`.
#![allow(clippy::unwrap_used)]

mod delivery {
    pub mod backfill;
    pub mod gone;
    pub mod operations;
    pub mod outage;
    pub mod signatures;
    pub mod ssrf;
    pub mod support;
}
