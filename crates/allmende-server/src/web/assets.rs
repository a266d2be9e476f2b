//! Static assets, compiled into the binary so a node is one file: our
//! stylesheet, the KERN UX-Standard's stylesheet and its Fira Sans fonts
//! (vendored from `@kern-ux/native`, EUPL-1.2; the fonts are SIL OFL 1.1:
//! see `assets/kern/README.md`). Served from our own origin, so the
//! Content-Security-Policy stays `'self'`.

use axum::extract::Path;
use axum::http::header;
use axum::response::{IntoResponse, Response};

use super::error::PageError;

/// Our own rules, on top of KERN's.
pub const STYLE: &str = include_str!("style.css");
pub const KERN_CSS: &str = include_str!("../../assets/kern/kern.min.css");

/// Asset file names change with the release, so browsers may keep them
/// long; the version is part of every asset's URL.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

const FONTS: &[(&str, &[u8])] = &[
    (
        "FiraSans-Regular.woff2",
        include_bytes!("../../assets/kern/fonts/FiraSans-Regular.woff2"),
    ),
    (
        "FiraSans-Italic.woff2",
        include_bytes!("../../assets/kern/fonts/FiraSans-Italic.woff2"),
    ),
    (
        "FiraSans-Medium.woff2",
        include_bytes!("../../assets/kern/fonts/FiraSans-Medium.woff2"),
    ),
    (
        "FiraSans-SemiBold.woff2",
        include_bytes!("../../assets/kern/fonts/FiraSans-SemiBold.woff2"),
    ),
    (
        "FiraSans-Bold.woff2",
        include_bytes!("../../assets/kern/fonts/FiraSans-Bold.woff2"),
    ),
];

const LICENCES: &str = concat!(
    include_str!("../../assets/kern/README.md"),
    "\n\n----------------------------------------------------------------\n\n",
    include_str!("../../assets/kern/fonts/OFL-1.1.txt"),
    "\n\n----------------------------------------------------------------\n\n",
    include_str!("../../assets/kern/LICENSE-EUPL-1.2.md"),
);

fn cached(content_type: &'static str, body: impl IntoResponse) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "public, max-age=604800"),
        ],
        body,
    )
        .into_response()
}

/// `GET /static/{version}/{file}`; an unknown file (or an old version's
/// name for one) is 404.
pub async fn serve(Path((version, file)): Path<(String, String)>) -> Result<Response, PageError> {
    if version != VERSION {
        return Err(PageError::NotFound);
    }
    match file.as_str() {
        "style.css" => Ok(cached("text/css; charset=utf-8", STYLE)),
        "kern.min.css" => Ok(cached("text/css; charset=utf-8", KERN_CSS)),
        "LICENCES.txt" => Ok(cached("text/plain; charset=utf-8", LICENCES)),
        _ => FONTS
            .iter()
            .find(|(name, _)| *name == file)
            .map(|(_, bytes)| cached("font/woff2", *bytes))
            .ok_or(PageError::NotFound),
    }
}

/// The URL of an asset of this release.
pub fn url(file: &str) -> String {
    format!("/static/{VERSION}/{file}")
}
