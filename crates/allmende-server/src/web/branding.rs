//! An organization's logo and colour: the form for its admins, the logo
//! and a small stylesheet with the colour (the Content-Security-Policy
//! allows no inline styles), and what the page frame shows of them.

use allmende_domain::Organization;
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use maud::{html, Markup};

use super::context::{Ctx, Lang};
use super::error::PageError;
use super::forms::{csrf_field, error_summary, value, Field, FormErrors, FormValues};
use super::layout::page;
use super::notice::{redirect, Notice};
use super::posted::SignedUpload;
use crate::state::AppState;
use crate::usecases::branding::{self, BrandingChange, BrandingError};
use crate::usecases::people::Actor;

/// What the frame shows of an organization on its pages.
#[derive(Clone, Debug)]
pub struct Brand {
    pub handle: String,
    pub name: String,
    pub logo: bool,
    pub color: bool,
    /// Changes with every change, so browsers fetch anew.
    pub version: i64,
}

/// The brand of a local organization that has one.
pub async fn of(state: &AppState, org: &Organization) -> Result<Option<Brand>, PageError> {
    if !org.is_local() {
        return Ok(None);
    }
    let b = state
        .store
        .branding()
        .get(org.id)
        .await
        .map_err(PageError::internal)?;
    if !b.has_logo && b.color.is_none() {
        return Ok(None);
    }
    Ok(Some(Brand {
        handle: org.handle.to_string(),
        name: org.profile.name.clone(),
        logo: b.has_logo,
        color: b.color.is_some(),
        version: b.updated_at.map_or(0, |t| t.timestamp()),
    }))
}

fn form_page(
    ctx: &Ctx,
    org: &Organization,
    current: &allmende_store::branding::Branding,
    values: &FormValues,
    errors: &FormErrors,
) -> Markup {
    page(
        ctx,
        &format!(
            "{} {}",
            ctx.t("Logo und Farbe:", "Logo and colour:"),
            org.profile.name
        ),
        html! {
            (error_summary(ctx, errors))
            p { (ctx.t("Logo und Farbe erscheinen auf den Seiten Ihrer Organisation und ihrer Einträge; das Logo erhalten auch andere Knoten (als Bild des Profils).",
                       "The logo and colour appear on the pages of your organization and its entries; other nodes get the logo too (as the profile's image).")) }
            @if current.has_logo {
                p { img.org-logo src={ "/orgs/" (org.handle) "/logo.png?v=" (current.updated_at.map_or(0, |t| t.timestamp())) } alt={ (ctx.t("Aktuelles Logo von ", "Current logo of ")) (org.profile.name) }; }
            }
            form.stacked method="post" action={ "/orgs/" (org.handle) "/branding" } enctype="multipart/form-data" novalidate {
                (csrf_field(ctx))
                (Field::new("logo", ctx.t("Neues Logo", "New logo")).hint(ctx.t("PNG, JPEG, WebP oder GIF bis 512 KB; es wird auf höchstens 256 × 256 Pixel verkleinert. SVG wird nicht angenommen.", "PNG, JPEG, WebP or GIF up to 512 KB; it is scaled down to at most 256 × 256 pixels. SVG is not accepted.")).input(ctx, "file", &FormValues::new(), errors))
                @if current.has_logo {
                    (Field::new("remove_logo", ctx.t("Logo entfernen", "Remove the logo")).checkbox(values))
                }
                (Field::new("color", ctx.t("Farbe der Kopfzeile", "Header colour")).hint(ctx.t("Als #rrggbb, z. B. #1a3da5. Sie muss dunkel genug für weiße Schrift sein (Kontrast mindestens 4,5 : 1). Leer: die Farbe des Knotens.", "As #rrggbb, e.g. #1a3da5. It must be dark enough for white text (contrast at least 4.5 : 1). Empty: the node's colour.")).input(ctx, "text", values, errors))
                div.actions {
                    button.kern-btn.kern-btn--primary type="submit" { span.kern-label { (ctx.t("Speichern", "Save")) } }
                    a href={ "/orgs/" (org.handle) } { (ctx.t("Zurück zum Profil", "Back to the profile")) }
                }
            }
        },
    )
}

/// `GET /orgs/{handle}/branding`
pub async fn form(
    ctx: Ctx,
    State(state): State<AppState>,
    Path(handle): Path<String>,
) -> Result<Markup, PageError> {
    let org = super::people::managed(&ctx, &state, &handle).await?;
    let current = state
        .store
        .branding()
        .get(org.id)
        .await
        .map_err(PageError::internal)?;
    let mut values = FormValues::new();
    if let Some(c) = &current.color {
        values.insert("color".into(), c.clone());
    }
    Ok(form_page(
        &ctx,
        &org,
        &current,
        &values,
        &FormErrors::default(),
    ))
}

/// `POST /orgs/{handle}/branding` (multipart)
pub async fn save(
    State(state): State<AppState>,
    Path(handle): Path<String>,
    SignedUpload {
        ctx,
        signed_in,
        values,
        files,
    }: SignedUpload,
) -> Result<Response, PageError> {
    let org = super::people::managed(&ctx, &state, &handle).await?;
    let actor = Actor {
        user: &signed_in.user,
        operator: ctx.operator,
    };
    let color = value(&values, "color");
    let change = BrandingChange {
        logo: files.get("logo").map(Vec::as_slice),
        remove_logo: values.get("remove_logo").is_some_and(|v| v == "on"),
        color: color.as_deref(),
    };
    match branding::change(&state, &actor, &org, &change).await {
        Ok(()) => Ok(redirect(&format!("/orgs/{}", org.handle), Notice::Saved)),
        Err(BrandingError::Problem(p)) => {
            let field = match p {
                branding::BrandingProblem::Color | branding::BrandingProblem::Contrast => "color",
                _ => "logo",
            };
            let errors = FormErrors::single(field, p.message(ctx.lang == Lang::De).into());
            let current = state
                .store
                .branding()
                .get(org.id)
                .await
                .map_err(PageError::internal)?;
            let page = form_page(&ctx, &org, &current, &values, &errors);
            Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(page.into_string())).into_response())
        }
        Err(BrandingError::Other(e)) => Err(e.into()),
    }
}

/// `GET /orgs/{handle}/logo.png`
pub async fn logo(
    State(state): State<AppState>,
    Path(handle): Path<String>,
) -> Result<Response, PageError> {
    let org = state
        .store
        .organizations()
        .by_handle(&handle)
        .await
        .map_err(|_| PageError::NotFound)?;
    let png = branding::logo(&state, &org).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "image/png"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        png,
    )
        .into_response())
}

/// `GET /orgs/{handle}/brand.css`: the colour as a custom property.
pub async fn stylesheet(
    State(state): State<AppState>,
    Path(handle): Path<String>,
) -> Result<Response, PageError> {
    let org = state
        .store
        .organizations()
        .by_handle(&handle)
        .await
        .map_err(|_| PageError::NotFound)?;
    let b = state
        .store
        .branding()
        .get(org.id)
        .await
        .map_err(PageError::internal)?;
    // Only a colour the node checked (#rrggbb) reaches the stylesheet.
    let css = match b
        .color
        .as_deref()
        .and_then(|c| branding::check_color(c).ok())
    {
        Some(c) => format!(":root {{ --brand: {c}; }}\n"),
        None => String::new(),
    };
    Ok((
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        css,
    )
        .into_response())
}
