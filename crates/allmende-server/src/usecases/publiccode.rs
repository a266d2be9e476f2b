//! Importing a publiccode.yml: fetched from its address (through the
//! node's HTTP client, which refuses private addresses and redirects) and
//! turned into the input of a new software solution.

use allmende_domain::publiccode::Publiccode;
use allmende_domain::{Problem, SolutionInput};

use crate::state::AppState;

/// The text of a publiccode.yml at `address`: the file itself when the
/// address ends in `.yml`/`.yaml`, otherwise the repository's file on its
/// default branch in the GitLab layout (OpenCoDE runs GitLab).
pub async fn fetch(state: &AppState, address: &str) -> Result<String, Problem> {
    let url = allmende_domain::text::http_url(address)?;
    let path = url.path().to_ascii_lowercase();
    let file = if path.ends_with(".yml") || path.ends_with(".yaml") {
        url
    } else {
        let mut repo = url.clone();
        repo.set_query(None);
        repo.set_fragment(None);
        let repo = repo.as_str().trim_end_matches('/').trim_end_matches(".git");
        url::Url::parse(&format!("{repo}/-/raw/HEAD/publiccode.yml")).map_err(|_| Problem::Url)?
    };
    let text = state.federation.fetch_text(&file).await.map_err(|e| {
        tracing::info!(error = %e, url = %file, "publiccode.yml not fetched");
        Problem::RemoteUnavailable
    })?;
    if text.len() > allmende_domain::solution::PUBLICCODE_MAX {
        return Err(Problem::TooLong {
            max: allmende_domain::solution::PUBLICCODE_MAX,
        });
    }
    Ok(text)
}

/// A new software solution filled from the file's facts (in German where
/// it has a German description). The file itself goes along, so saving
/// checks it against the standard.
pub fn to_input(text: &str) -> SolutionInput {
    let mut input = SolutionInput {
        kind: Some("software".into()),
        publiccode_yml: Some(text.to_owned()),
        ..Default::default()
    };
    if let Ok(p) = Publiccode::parse(text) {
        let description = p.description("de");
        input.title = Some(
            description
                .and_then(|d| d.localised_name.clone())
                .unwrap_or_else(|| p.name.clone()),
        );
        input.summary = description.map(|d| d.short.clone());
        input.body = description.map(|d| d.long.clone());
        input.licence = Some(p.licence.clone());
        input.maturity = Some(p.development_status.clone());
        input.repository_url = Some(p.url.clone());
    }
    input
}
