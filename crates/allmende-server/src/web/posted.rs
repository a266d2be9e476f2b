//! Extractors for form posts. Every state-changing page request goes through
//! one of them, so no handler can forget the CSRF check or the login.

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::Form;

use super::context::{Ctx, SignedIn};
use super::error::PageError;
use super::forms::FormValues;
use crate::state::AppState;

/// A form post whose CSRF token matched (login, logout).
pub struct PostedForm {
    pub ctx: Ctx,
    pub values: FormValues,
}

/// A form post by a signed-in user whose CSRF token matched. Without a
/// session the visitor is sent to the login page before the body is read.
pub struct SignedForm {
    pub ctx: Ctx,
    pub signed_in: SignedIn,
    pub values: FormValues,
}

async fn read(
    req: Request,
    state: &AppState,
    need_user: bool,
) -> Result<(Ctx, FormValues), PageError> {
    let (mut parts, body) = req.into_parts();
    let ctx = Ctx::from_request_parts(&mut parts, state).await?;
    if need_user {
        ctx.require_user()?;
    }
    let multipart = parts
        .headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    let request = Request::from_parts(parts, body);
    let values = if multipart {
        read_multipart(request, state).await?
    } else {
        match Form::<FormValues>::from_request(request, state).await {
            Ok(Form(v)) => v,
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                return Err(PageError::TooLarge)
            }
            Err(e) => return Err(PageError::BadRequest(e.body_text())),
        }
    };
    ctx.check_csrf(values.get(crate::auth::csrf::FIELD))?;
    Ok((ctx, values))
}

impl FromRequest<AppState> for PostedForm {
    type Rejection = PageError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, PageError> {
        let (ctx, values) = read(req, state, false).await?;
        Ok(Self { ctx, values })
    }
}

impl FromRequest<AppState> for SignedForm {
    type Rejection = PageError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, PageError> {
        let (ctx, values) = read(req, state, true).await?;
        let signed_in = ctx.require_user()?.clone();
        Ok(Self {
            ctx,
            signed_in,
            values,
        })
    }
}

/// How many parts a multipart form may have.
const MAX_PARTS: usize = 200;

/// A form sent as `multipart/form-data` (one with a file input): each part
/// becomes a value, a file's contents (UTF-8 text) included, under its
/// field name. The body limit is the server's, as for other forms.
async fn read_multipart(request: Request, state: &AppState) -> Result<FormValues, PageError> {
    let mut multipart = axum::extract::Multipart::from_request(request, state)
        .await
        .map_err(|e| PageError::BadRequest(e.body_text()))?;
    let mut values = FormValues::new();
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                return Err(PageError::TooLarge)
            }
            Err(e) => return Err(PageError::BadRequest(e.body_text())),
        };
        if values.len() >= MAX_PARTS {
            return Err(PageError::BadRequest("too many form fields".into()));
        }
        let Some(name) = field.name().map(str::to_owned) else {
            continue;
        };
        let bytes = match field.bytes().await {
            Ok(bytes) => bytes,
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                return Err(PageError::TooLarge)
            }
            Err(e) => return Err(PageError::BadRequest(e.body_text())),
        };
        let text = String::from_utf8(bytes.to_vec())
            .map_err(|_| PageError::BadRequest(format!("{name}: not UTF-8 text")))?;
        values.insert(name, text);
    }
    Ok(values)
}
