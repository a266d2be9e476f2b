use std::sync::Arc;

use allmende_store::Store;

use crate::config::Config;

/// What every request handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub config: Arc<Config>,
}
