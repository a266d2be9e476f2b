use std::sync::Arc;

use allmende_federation::Federation;
use allmende_store::Store;
use axum::extract::FromRef;

use crate::auth::password::PasswordChecks;
use crate::config::Config;

/// What every request handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub config: Arc<Config>,
    pub federation: Federation,
    pub password_checks: Arc<PasswordChecks>,
    pub mailer: crate::mail::Mailer,
}

impl FromRef<AppState> for Federation {
    fn from_ref(state: &AppState) -> Federation {
        state.federation.clone()
    }
}
