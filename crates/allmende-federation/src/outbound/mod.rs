//! What this node says about itself: the documents of its actors and
//! objects (`documents.rs`), WebFinger and NodeInfo (`discovery.rs`), and
//! the activities its local changes become, with their addressing
//! (`activities.rs`).

mod activities;
mod adoptions;
mod discovery;
mod documents;

use std::sync::Arc;

use crate::Core;

/// Builds this node's documents and activities.
#[derive(Clone)]
pub struct Outbound {
    core: Arc<Core>,
}

impl Outbound {
    pub(crate) fn new(core: Arc<Core>) -> Self {
        Self { core }
    }
}
