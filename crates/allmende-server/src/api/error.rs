//! JSON errors: `{"error": "...", "field": "..."}` with the status that says
//! what went wrong; when several fields are invalid, `errors` lists each.
//! Internal details go to the log only.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;

use crate::usecases::UseCaseError;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
    pub field: Option<String>,
    /// Every invalid field as (field, message), when there is more than one.
    pub all: Vec<(String, String)>,
}

#[derive(Serialize)]
struct Body<'a> {
    error: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<&'a str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    errors: Vec<FieldError<'a>>,
}

#[derive(Serialize)]
struct FieldError<'a> {
    error: &'a str,
    field: &'a str,
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
            field: None,
            all: Vec::new(),
        }
    }

    pub fn field(status: StatusCode, field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
            field: Some(field.into()),
            all: Vec::new(),
        }
    }

    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "not found")
    }

    /// A path the API does not have (as opposed to an item it does not
    /// have): told apart so clients and tests can see a wrong URL.
    pub fn no_such_endpoint() -> Self {
        Self::new(StatusCode::NOT_FOUND, "no such endpoint")
    }

    pub fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "authentication required: send an API token as 'Authorization: Bearer alm_…'",
        )
    }
}

impl From<UseCaseError> for ApiError {
    fn from(e: UseCaseError) -> Self {
        match e {
            UseCaseError::Invalid(errors) => {
                let all: Vec<(String, String)> = errors
                    .iter()
                    .map(|e| {
                        (
                            e.field.clone(),
                            format!("{} {}", e.field, e.problem.message_en()),
                        )
                    })
                    .collect();
                let (field, message) = all[0].clone();
                let mut error = ApiError::field(StatusCode::UNPROCESSABLE_ENTITY, field, message);
                if all.len() > 1 {
                    error.all = all;
                }
                error
            }
            UseCaseError::NotFound => ApiError::not_found(),
            UseCaseError::Forbidden => ApiError::new(
                StatusCode::FORBIDDEN,
                "your organization may not change this item",
            ),
            UseCaseError::Conflict(what) => {
                ApiError::new(StatusCode::CONFLICT, format!("{what} already exists"))
            }
            UseCaseError::Refused(why) => ApiError::new(StatusCode::CONFLICT, why),
            UseCaseError::TooManyAttempts => ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "too many attempts; try again later",
            ),
            UseCaseError::Busy => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "the node is busy; try again in a few seconds",
            ),
            UseCaseError::Internal(detail) => {
                tracing::error!(%detail, "internal error in API request");
                ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal error")
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = Body {
            error: &self.message,
            field: self.field.as_deref(),
            errors: self
                .all
                .iter()
                .map(|(field, error)| FieldError { error, field })
                .collect(),
        };
        let mut response = (self.status, Json(body)).into_response();
        if self.status == StatusCode::SERVICE_UNAVAILABLE {
            response.headers_mut().insert(
                header::RETRY_AFTER,
                header::HeaderValue::from_static(RETRY_AFTER_SECS),
            );
        }
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Bearer"),
            );
        }
        response
    }
}

/// What a busy node asks clients to wait (seconds), pages and API alike.
pub const RETRY_AFTER_SECS: &str = "5";
