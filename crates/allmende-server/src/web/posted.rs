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

/// A form with files (`multipart/form-data`) by a signed-in user whose
/// CSRF token matched: the text fields as values, each file's bytes as
/// they came (for images; text files are among the values too).
pub struct SignedUpload {
    pub ctx: Ctx,
    pub signed_in: SignedIn,
    pub values: FormValues,
    pub files: Files,
}

/// Uploaded files by field name.
pub type Files = std::collections::HashMap<String, Vec<u8>>;

async fn read(
    req: Request,
    state: &AppState,
    need_user: bool,
) -> Result<(Ctx, FormValues), PageError> {
    let (ctx, values, files) = read_with_files(req, state, need_user).await?;
    // Forms of text take text files only.
    if let Some(name) = files.keys().find(|name| !values.contains_key(*name)) {
        return Err(PageError::BadRequest(format!("{name}: not UTF-8 text")));
    }
    Ok((ctx, values))
}

async fn read_with_files(
    req: Request,
    state: &AppState,
    need_user: bool,
) -> Result<(Ctx, FormValues, Files), PageError> {
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
    let (values, files) = if multipart {
        read_multipart(request, state).await?
    } else {
        match Form::<FormValues>::from_request(request, state).await {
            Ok(Form(v)) => (v, Files::new()),
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                return Err(PageError::TooLarge)
            }
            Err(e) => return Err(PageError::BadRequest(e.body_text())),
        }
    };
    ctx.check_csrf(values.get(crate::auth::csrf::FIELD))?;
    Ok((ctx, values, files))
}

impl FromRequest<AppState> for SignedUpload {
    type Rejection = PageError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, PageError> {
        let (ctx, values, files) = read_with_files(req, state, true).await?;
        let signed_in = ctx.require_user()?.clone();
        Ok(Self {
            ctx,
            signed_in,
            values,
            files,
        })
    }
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
/// becomes a value under its field name, a file's contents too when they
/// are UTF-8 text; every file's bytes are kept as well. A text field that
/// is not UTF-8 is refused. The body limit is the server's, as for other
/// forms.
async fn read_multipart(
    request: Request,
    state: &AppState,
) -> Result<(FormValues, Files), PageError> {
    let mut multipart = axum::extract::Multipart::from_request(request, state)
        .await
        .map_err(|e| PageError::BadRequest(e.body_text()))?;
    let mut values = FormValues::new();
    let mut files = Files::new();
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
        let is_file = field.file_name().is_some();
        let bytes = match field.bytes().await {
            Ok(bytes) => bytes,
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                return Err(PageError::TooLarge)
            }
            Err(e) => return Err(PageError::BadRequest(e.body_text())),
        };
        match String::from_utf8(bytes.to_vec()) {
            Ok(text) => {
                values.insert(name.clone(), text);
            }
            Err(_) if is_file => {}
            Err(_) => return Err(PageError::BadRequest(format!("{name}: not UTF-8 text"))),
        }
        if is_file {
            files.insert(name, bytes.to_vec());
        }
    }
    Ok((values, files))
}
