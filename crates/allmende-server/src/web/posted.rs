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
    let values = match Form::<FormValues>::from_request(Request::from_parts(parts, body), state)
        .await
    {
        Ok(Form(v)) => v,
        Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => return Err(PageError::TooLarge),
        Err(e) => return Err(PageError::BadRequest(e.body_text())),
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
