//! Errors of the federation layer, each with the HTTP status a remote
//! sender should see. What the log gets (the message) is more detailed than
//! the response body, which only names the kind of problem.

use allmende_store::StoreError;
use axum::http::StatusCode;

#[derive(Debug, thiserror::Error)]
pub enum FederationError {
    /// Missing or invalid signature or digest, stale date, unknown key.
    #[error("not authenticated: {0}")]
    Unauthorized(String),
    /// Signed correctly, but not allowed: the actor does not own the key,
    /// or names objects on another domain.
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// Not JSON, not an activity, or an object that fails validation.
    #[error("bad request: {0}")]
    BadRequest(String),
    #[error("body too large")]
    TooLarge,
    #[error("not found")]
    NotFound,
    /// The peer sent more than its share; it should retry after a while.
    #[error("rate limited; retry after {retry_after_secs} s")]
    RateLimited { retry_after_secs: u64 },
    /// A remote document could not be fetched or is not what was asked for.
    #[error("fetching {url} failed: {reason}")]
    Fetch { url: String, reason: String },
    /// The node's own key material is broken.
    #[error("key: {0}")]
    Key(String),
    /// The database failed. (A row not found is [`FederationError::NotFound`].)
    #[error(transparent)]
    Store(StoreError),
    /// A bug: a handler panicked.
    #[error("internal error: {0}")]
    Internal(String),
}

/// One "not found": a store lookup that finds nothing is the same outcome
/// as a missing remote document, so callers (the job runner deciding that
/// an announcement's item is gone) test one variant.
impl From<StoreError> for FederationError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => FederationError::NotFound,
            other => FederationError::Store(other),
        }
    }
}

impl FederationError {
    pub fn fetch(url: impl ToString, reason: impl ToString) -> Self {
        Self::Fetch {
            url: url.to_string(),
            reason: reason.to_string(),
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            // A document we needed from elsewhere was unavailable: the
            // request cannot be checked, so it is not accepted.
            Self::Fetch { .. } => StatusCode::UNAUTHORIZED,
            // The sender retries later (Retry-After): nothing is lost.
            Self::Store(StoreError::Busy(_)) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Key(_) | Self::Store(_) | Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// Whether trying again later may succeed (a peer or the database was
    /// unavailable), as opposed to an activity that is refused for good.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Fetch { .. } | Self::Key(_) => true,
            Self::Store(e) => !matches!(e, StoreError::Conflict(_)),
            _ => false,
        }
    }

    /// What became of a refused request, as a metric label.
    pub fn metric_label(&self) -> &'static str {
        match self {
            Self::Unauthorized(_) | Self::Fetch { .. } => "unauthorized",
            Self::Forbidden(_) => "forbidden",
            Self::BadRequest(_) => "malformed",
            Self::TooLarge => "too_large",
            Self::NotFound => "not_found",
            Self::RateLimited { .. } => "rate_limited",
            Self::Store(StoreError::Busy(_)) => "busy",
            Self::Key(_) | Self::Store(_) | Self::Internal(_) => "error",
        }
    }

    /// The short reason sent to the remote side; details stay in the log.
    pub fn public_reason(&self) -> &'static str {
        match self {
            Self::Unauthorized(_) | Self::Fetch { .. } => "signature could not be verified",
            Self::Forbidden(_) => "not allowed for this actor",
            Self::BadRequest(_) => "malformed activity",
            Self::TooLarge => "body too large",
            Self::NotFound => "not found",
            Self::RateLimited { .. } => "too many requests",
            Self::Store(StoreError::Busy(_)) => "busy; retry later",
            Self::Key(_) | Self::Store(_) | Self::Internal(_) => "internal error",
        }
    }
}
