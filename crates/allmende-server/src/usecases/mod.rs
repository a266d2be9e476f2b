//! What requests do, independent of whether they came from a page or the
//! API: check who may do it, validate, store. Handlers translate the
//! outcome into a page or a JSON response.

pub mod accounts;
pub mod adoptions;
pub mod branding;
pub mod follows;
pub mod groups;
pub mod items;
pub mod organizations;
pub mod people;
pub mod policy;
pub mod publiccode;
pub mod questions;
pub mod reference;
pub mod relocation;
pub mod search;

use allmende_domain::{ValidationError, ValidationErrors};
use allmende_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum UseCaseError {
    #[error("{0}")]
    Invalid(ValidationErrors),
    #[error("not found")]
    NotFound,
    #[error("not allowed")]
    Forbidden,
    #[error("{0} already exists")]
    Conflict(&'static str),
    /// Too many failed attempts; try again later.
    #[error("too many attempts")]
    TooManyAttempts,
    /// The node is too busy to do this now; try again in a few seconds.
    #[error("busy")]
    Busy,
    /// The operation cannot be done, and why (an organization archive that
    /// does not fit this node): said to the operator as it is.
    #[error("{0}")]
    Refused(String),
    /// Something broke on our side; the details go to the log, not the client.
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<ValidationErrors> for UseCaseError {
    fn from(e: ValidationErrors) -> Self {
        UseCaseError::Invalid(e)
    }
}

impl From<ValidationError> for UseCaseError {
    fn from(e: ValidationError) -> Self {
        UseCaseError::Invalid(e.into())
    }
}

impl From<StoreError> for UseCaseError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => UseCaseError::NotFound,
            StoreError::Conflict(what) => UseCaseError::Conflict(what),
            StoreError::Refused(why) => UseCaseError::Refused(why),
            StoreError::Busy(e) => {
                tracing::warn!(error = %e, "database busy; asking the client to retry");
                UseCaseError::Busy
            }
            other => UseCaseError::Internal(other.to_string()),
        }
    }
}

pub type Result<T> = std::result::Result<T, UseCaseError>;
