//! JSON errors: `{"error": "...", "field": "..."}` with the status that says
//! what went wrong. Internal details go to the log only.

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
}

#[derive(Serialize)]
struct Body<'a> {
    error: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<&'a str>,
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
            field: None,
        }
    }

    pub fn field(status: StatusCode, field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
            field: Some(field.into()),
        }
    }

    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "not found")
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
            UseCaseError::Invalid(v) => {
                let message = format!("{} {}", v.field, v.problem.message_en());
                ApiError::field(StatusCode::UNPROCESSABLE_ENTITY, v.field, message)
            }
            UseCaseError::NotFound => ApiError::not_found(),
            UseCaseError::Forbidden => ApiError::new(
                StatusCode::FORBIDDEN,
                "your organization may not change this item",
            ),
            UseCaseError::Conflict(what) => {
                ApiError::new(StatusCode::CONFLICT, format!("{what} already exists"))
            }
            UseCaseError::TooManyAttempts => ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "too many attempts; try again later",
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
        };
        let mut response = (self.status, Json(body)).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Bearer"),
            );
        }
        response
    }
}
