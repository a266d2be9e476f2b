//! Looking things up on other servers: documents (`fetch.rs`: signed by
//! the instance actor, size-limited, never redirected, a bounded number
//! per incoming activity), remote actors (`actors.rs`: fetched, checked
//! and kept in the store) and WebFinger addresses (`webfinger.rs`).

mod actors;
mod fetch;
mod webfinger;

use std::sync::Arc;

pub use fetch::{FetchBudget, FETCHES_PER_ACTIVITY};

use crate::Core;

/// Fetches and caches remote actors and objects.
#[derive(Clone)]
pub struct Resolver {
    core: Arc<Core>,
}

impl Resolver {
    pub(crate) fn new(core: Arc<Core>) -> Self {
        Self { core }
    }
}
