//! A write whose caller gives up half-way (an HTTP client hanging up, a
//! timeout) must not leave its transaction open: on SQLite that would hold
//! the write lock, and every later write would fail with "database is
//! locked" (as a killed sender once left a receiving node).
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use allmende_domain::*;
use chrono::Utc;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_cancelled_half_way_leave_no_transaction_open() {
    let (store, _db, org) = allmende_store::testing::store_with_organization("ulm").await;
    let profile = OrganizationDraft::named("Stadt Ulm", OrganizationKind::Municipality);
    // Cancel writes at every point of their way, from before BEGIN to
    // after COMMIT.
    for i in 0..400u64 {
        let _ = tokio::time::timeout(
            Duration::from_micros(i * 5),
            store.organizations().update(org, &profile, Utc::now()),
        )
        .await;
    }
    // Every connection is free again: writes go through at once, many
    // times (each may get another connection of the pool).
    for _ in 0..20 {
        tokio::time::timeout(
            Duration::from_secs(3),
            store.organizations().update(org, &profile, Utc::now()),
        )
        .await
        .expect("no write waits for a leaked transaction")
        .unwrap();
    }
}
