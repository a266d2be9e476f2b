//! Reference data: the files shipped with Allmende, loaded into an empty
//! directory at start-up, and imports of official publications.

use std::path::Path;

use allmende_domain::reference::{self, Dataset, Format, LineError};
use allmende_store::Store;

/// Why an import did not happen; nothing was stored then.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("the format of {0} is not recognised; name it with --format gv100ad|leika|ozg|districts|regions")]
    UnknownFormat(String),
    #[error("{path}: nothing was imported, because of these lines:\n{}", .errors.iter().map(|e| format!("  {e}")).collect::<Vec<_>>().join("\n"))]
    Invalid {
        path: String,
        errors: Vec<LineError>,
    },
    #[error(transparent)]
    Store(#[from] allmende_store::StoreError),
}

/// What an import stored.
#[derive(Debug, PartialEq, Eq)]
pub struct Imported {
    pub format: Format,
    pub services: u64,
    pub places: u64,
}

/// Reads `path` whole (in `format`, or the one its first line shows), then
/// stores every record in one transaction.
pub async fn import_file(
    store: &Store,
    path: &Path,
    format: Option<Format>,
) -> Result<Imported, ImportError> {
    let shown = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|source| ImportError::Read {
        path: shown.clone(),
        source,
    })?;
    let text = reference::decode(&bytes);
    let format = format
        .or_else(|| Format::detect(&text))
        .ok_or_else(|| ImportError::UnknownFormat(shown.clone()))?;
    let source = path
        .file_name()
        .map_or(shown.clone(), |n| n.to_string_lossy().into_owned());
    let dataset = reference::parse(&text, format).map_err(|errors| ImportError::Invalid {
        path: shown,
        errors,
    })?;
    store_dataset(store, &dataset, &source, format).await
}

async fn store_dataset(
    store: &Store,
    dataset: &Dataset,
    source: &str,
    format: Format,
) -> Result<Imported, ImportError> {
    let mut imported = Imported {
        format,
        services: 0,
        places: 0,
    };
    match dataset {
        Dataset::Services(rows) => {
            imported.services = store.reference().import_services(rows, source).await?;
        }
        Dataset::Places(rows) => {
            imported.places = store.reference().import_places(rows, source).await?;
            // Populations feed the size facet of every organization.
            store.search().refresh_organizations().await?;
        }
    }
    Ok(imported)
}

/// Loads the shipped districts and municipalities when the directory is
/// empty; returns how many places were loaded.
pub async fn load_shipped(store: &Store) -> Result<u64, ImportError> {
    if store.reference().count_places().await? > 0 {
        return Ok(0);
    }
    let mut loaded = 0;
    for (text, format, source) in [
        (
            reference::SHIPPED_MUNICIPALITIES,
            Format::Regions,
            "datenguidepy 0.4.1 regions.csv (Regionalstatistik, dl-de/by-2-0)",
        ),
        (
            reference::SHIPPED_DISTRICTS,
            Format::Districts,
            "landkreise-deutschland 3.0.0 (Destatis GV-ISys, 31.12.2018)",
        ),
    ] {
        let dataset = reference::parse(text, format).map_err(|errors| ImportError::Invalid {
            path: source.to_owned(),
            errors,
        })?;
        loaded += store_dataset(store, &dataset, source, format).await?.places;
    }
    Ok(loaded)
}
