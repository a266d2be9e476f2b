//! An organization's logo and colour on its pages. Uploads are decoded
//! with limits and re-encoded as a PNG of at most 256×256 pixels, so what
//! the node serves is always an image it made (no scripts in SVG, no
//! oversized or malformed files); SVG is refused. The colour must keep
//! white header text readable (contrast at least 4.5:1, WCAG 1.4.3).

use std::io::Cursor;

use allmende_domain::Organization;
use image::{ImageFormat, ImageReader, Limits};

use super::people::Actor;
use super::{Result, UseCaseError};
use crate::state::AppState;

/// One logo decoded at a time per process.
static DECODING: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(1);

/// Largest upload accepted.
pub const MAX_UPLOAD_BYTES: usize = 512 * 1024;
/// Longest side of the stored logo.
pub const MAX_SIDE: u32 = 256;

/// Why a logo or colour was refused; each names what to do instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BrandingProblem {
    TooLarge,
    Svg,
    NotAnImage,
    Color,
    Contrast,
}

impl BrandingProblem {
    pub fn message(self, german: bool) -> &'static str {
        match (self, german) {
            (Self::TooLarge, true) => "Logo: Die Datei ist größer als 512 KB.",
            (Self::TooLarge, false) => "Logo: the file is larger than 512 KB.",
            (Self::Svg, true) => "Logo: SVG wird nicht angenommen (es kann Skripte enthalten). Bitte als PNG, JPEG, WebP oder GIF hochladen.",
            (Self::Svg, false) => "Logo: SVG is not accepted (it can contain scripts). Please upload a PNG, JPEG, WebP or GIF.",
            (Self::NotAnImage, true) => "Logo: kein lesbares Bild. Möglich sind PNG, JPEG, WebP und GIF bis 4000 × 4000 Pixel.",
            (Self::NotAnImage, false) => "Logo: not a readable image. PNG, JPEG, WebP and GIF up to 4000 × 4000 pixels are possible.",
            (Self::Color, true) => "Farbe: bitte als #rrggbb angeben, z. B. #1a3da5.",
            (Self::Color, false) => "Colour: please give it as #rrggbb, e.g. #1a3da5.",
            (Self::Contrast, true) => "Farbe: zu hell für weiße Schrift (Kontrast unter 4,5 : 1). Bitte eine dunklere Farbe wählen.",
            (Self::Contrast, false) => "Colour: too light for white text (contrast below 4.5 : 1). Please choose a darker colour.",
        }
    }
}

/// The upload as the PNG the node will serve.
pub fn reencode(upload: &[u8]) -> std::result::Result<Vec<u8>, BrandingProblem> {
    if upload.len() > MAX_UPLOAD_BYTES {
        return Err(BrandingProblem::TooLarge);
    }
    let start = String::from_utf8_lossy(&upload[..upload.len().min(512)]).to_ascii_lowercase();
    if start.contains("<svg") || start.trim_start().starts_with("<?xml") {
        return Err(BrandingProblem::Svg);
    }
    let mut reader = ImageReader::new(Cursor::new(upload))
        .with_guessed_format()
        .map_err(|_| BrandingProblem::NotAnImage)?;
    if !matches!(
        reader.format(),
        Some(ImageFormat::Png | ImageFormat::Jpeg | ImageFormat::WebP | ImageFormat::Gif)
    ) {
        return Err(BrandingProblem::NotAnImage);
    }
    let mut limits = Limits::default();
    limits.max_image_width = Some(4000);
    limits.max_image_height = Some(4000);
    limits.max_alloc = Some(64 * 1024 * 1024);
    reader.limits(limits);
    let decoded = reader.decode().map_err(|_| BrandingProblem::NotAnImage)?;
    let fitted = if decoded.width() > MAX_SIDE || decoded.height() > MAX_SIDE {
        decoded.resize(MAX_SIDE, MAX_SIDE, image::imageops::FilterType::Lanczos3)
    } else {
        decoded
    };
    let mut png = Vec::new();
    fitted
        .to_rgba8()
        .write_to(&mut Cursor::new(&mut png), ImageFormat::Png)
        .map_err(|_| BrandingProblem::NotAnImage)?;
    Ok(png)
}

/// `#rrggbb`, lowercased, dark enough for white text.
pub fn check_color(raw: &str) -> std::result::Result<String, BrandingProblem> {
    let raw = raw.trim().to_ascii_lowercase();
    let hex = raw.strip_prefix('#').unwrap_or(&raw);
    if hex.len() != 6 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(BrandingProblem::Color);
    }
    let channel = |i: usize| u8::from_str_radix(&hex[i..i + 2], 16).unwrap_or(0);
    let linear = |c: u8| {
        let c = f64::from(c) / 255.0;
        if c <= 0.04045 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    };
    let luminance =
        0.2126 * linear(channel(0)) + 0.7152 * linear(channel(2)) + 0.0722 * linear(channel(4));
    let contrast_with_white = 1.05 / (luminance + 0.05);
    if contrast_with_white < 4.5 {
        return Err(BrandingProblem::Contrast);
    }
    Ok(format!("#{hex}"))
}

/// What the form asked for.
pub struct BrandingChange<'a> {
    pub logo: Option<&'a [u8]>,
    pub remove_logo: bool,
    pub color: Option<&'a str>,
}

pub enum BrandingError {
    Problem(BrandingProblem),
    Other(UseCaseError),
}

impl From<UseCaseError> for BrandingError {
    fn from(e: UseCaseError) -> Self {
        BrandingError::Other(e)
    }
}

pub async fn change(
    state: &AppState,
    actor: &Actor<'_>,
    org: &Organization,
    change: &BrandingChange<'_>,
) -> std::result::Result<(), BrandingError> {
    if !org.is_local() || !actor.may_manage(org) {
        return Err(UseCaseError::Forbidden.into());
    }
    let color = match change.color.filter(|c| !c.trim().is_empty()) {
        Some(c) => Some(check_color(c).map_err(BrandingError::Problem)?),
        None => None,
    };
    // Decoding and scaling take CPU time: off the async workers, one at a
    // time per server process.
    let logo = match change.logo.filter(|l| !l.is_empty()) {
        Some(upload) => {
            let upload = upload.to_vec();
            let _turn = DECODING.acquire().await.map_err(|_| UseCaseError::Busy)?;
            let png = tokio::task::spawn_blocking(move || reencode(&upload))
                .await
                .map_err(|e| UseCaseError::Internal(e.to_string()))?;
            Some(png.map_err(BrandingError::Problem)?)
        }
        None => None,
    };
    let replace = logo.is_some() || change.remove_logo;
    state
        .store
        .branding()
        .set(org.id, logo, replace, color.as_deref(), chrono::Utc::now())
        .await
        .map_err(|e| BrandingError::Other(e.into()))?;
    Ok(())
}

/// The PNG of an organization's logo.
pub async fn logo(state: &AppState, org: &Organization) -> Result<Vec<u8>> {
    Ok(state
        .store
        .branding()
        .logo(org.id)
        .await?
        .ok_or(UseCaseError::NotFound)?
        .0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(width: u32, height: u32) -> Vec<u8> {
        let img = image::RgbaImage::from_pixel(width, height, image::Rgba([10, 60, 160, 255]));
        let mut out = Vec::new();
        image::DynamicImage::ImageRgba8(img)
            .write_to(&mut Cursor::new(&mut out), ImageFormat::Png)
            .unwrap();
        out
    }

    #[test]
    fn uploads_are_re_encoded_and_fitted() {
        let stored = reencode(&png(1000, 500)).unwrap();
        let back = image::load_from_memory(&stored).unwrap();
        assert_eq!((back.width(), back.height()), (256, 128));
        let small = image::load_from_memory(&reencode(&png(40, 40)).unwrap()).unwrap();
        assert_eq!((small.width(), small.height()), (40, 40), "not enlarged");
    }

    #[test]
    fn svg_and_garbage_are_refused() {
        let svg = b"<?xml version=\"1.0\"?><svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(1)</script></svg>";
        assert_eq!(reencode(svg), Err(BrandingProblem::Svg));
        assert_eq!(
            reencode(b"<svg onload=alert(1)>"),
            Err(BrandingProblem::Svg)
        );
        assert_eq!(
            reencode(b"GIF89a not really"),
            Err(BrandingProblem::NotAnImage)
        );
        assert_eq!(
            reencode(&vec![0u8; MAX_UPLOAD_BYTES + 1]),
            Err(BrandingProblem::TooLarge)
        );
    }

    #[test]
    fn colours_need_contrast_with_white() {
        assert_eq!(check_color("#1A3DA5"), Ok("#1a3da5".into()));
        assert_eq!(check_color("0b5394"), Ok("#0b5394".into()));
        assert_eq!(check_color("#ffff00"), Err(BrandingProblem::Contrast));
        assert_eq!(
            check_color("#777777"),
            Err(BrandingProblem::Contrast),
            "4.48 : 1"
        );
        assert_eq!(check_color("#767676"), Ok("#767676".into()), "4.54 : 1");
        assert_eq!(check_color("blue"), Err(BrandingProblem::Color));
        assert_eq!(check_color("#12345g"), Err(BrandingProblem::Color));
    }
}
