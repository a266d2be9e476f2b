//! Request extractors for the API that answer every rejection in the API's
//! JSON error format (axum's own rejections are plain text).

use allmende_store::User;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use serde::de::DeserializeOwned;

use super::error::ApiError;
use crate::auth;
use crate::state::AppState;

/// A JSON body: 415 without a JSON content type, 413 over the size limit,
/// 400 for broken JSON, 422 naming the field for a wrong type or an unknown
/// field.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(|v| {
                let v = v.trim();
                v == "application/json" || (v.starts_with("application/") && v.ends_with("+json"))
            })
            .unwrap_or(false);
        if !is_json {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "send the request body as JSON with 'Content-Type: application/json'",
            ));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "request body is too large")
            } else {
                ApiError::new(StatusCode::BAD_REQUEST, "could not read the request body")
            }
        })?;
        parse(&bytes).map(ApiJson)
    }
}

/// Parses a JSON object, telling syntax errors (400) from shape errors (422,
/// with the path of the offending field). serde_json limits nesting depth
/// to 128.
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let value: serde_json::Value = serde_json::from_slice(bytes)
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, format!("malformed JSON: {e}")))?;
    // serde would read a struct from an array by position; every body of
    // this API is an object.
    if !value.is_object() {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "the request body must be a JSON object",
        ));
    }
    from_value(value)
}

pub fn from_value<T: DeserializeOwned>(value: serde_json::Value) -> Result<T, ApiError> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let field = if path == "." {
            unknown_field(&inner.to_string())
        } else {
            Some(path)
        };
        ApiError {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            message: match &field {
                Some(f) => format!("{f}: {inner}"),
                None => inner.to_string(),
            },
            field,
            all: Vec::new(),
        }
    })
}

/// The user behind the request's API token; 401 without a valid one.
pub struct ApiUser(pub User);

impl FromRequestParts<AppState> for ApiUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let header = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(ApiError::unauthorized)?;
        match auth::token::authenticate(&state.store, header).await {
            Ok(Some(user)) => Ok(ApiUser(user)),
            Ok(None) => Err(ApiError::unauthorized()),
            Err(e) => Err(crate::usecases::UseCaseError::from(e).into()),
        }
    }
}

/// The token's user when one is sent, for endpoints readable by anyone.
pub struct OptionalApiUser(pub Option<User>);

impl FromRequestParts<AppState> for OptionalApiUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        if parts.headers.contains_key(header::AUTHORIZATION) {
            ApiUser::from_request_parts(parts, state)
                .await
                .map(|u| OptionalApiUser(Some(u.0)))
        } else {
            Ok(OptionalApiUser(None))
        }
    }
}

/// serde reports a rejected unknown field at the parent's path; name the
/// field itself.
fn unknown_field(message: &str) -> Option<String> {
    let rest = message.strip_prefix("unknown field `")?;
    rest.split('`').next().map(str::to_owned)
}
