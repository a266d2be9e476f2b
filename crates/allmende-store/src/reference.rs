//! Where reference data is stored: the service catalogue (names of LeiKa
//! keys and OZG services) and the places (Länder, districts,
//! municipalities). An import writes a whole file in one transaction.

use std::collections::HashMap;

use allmende_domain::reference::{PlaceEntry, ServiceEntry};
use allmende_domain::ServiceKey;

use crate::db::{query, Pool};
use crate::StoreError;

/// Rows per INSERT statement of an import.
const IMPORT_BATCH: usize = 400;

pub struct Reference<'a> {
    pool: &'a Pool,
}

/// A place as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Place {
    pub ags: String,
    pub name: String,
    pub level: String,
    pub land: String,
    pub population: Option<i64>,
}

impl<'a> Reference<'a> {
    pub(crate) fn new(pool: &'a Pool) -> Self {
        Self { pool }
    }

    /// Adds or replaces services; `source` names the file they came from.
    pub async fn import_services(
        &self,
        rows: &[ServiceEntry],
        source: &str,
    ) -> Result<u64, StoreError> {
        let mut tx = self.pool.begin().await?;
        for row in rows {
            query(
                "INSERT INTO ref_services (key, name, themenfeld, source) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (key) DO UPDATE SET name = excluded.name,
                     themenfeld = excluded.themenfeld, source = excluded.source",
            )
            .bind(row.key.slug())
            .bind(&row.name)
            .bind(row.themenfeld.map(|t| t.slug()))
            .bind(source)
            .execute(&mut tx)
            .await?;
        }
        tx.commit().await?;
        Ok(rows.len() as u64)
    }

    /// Adds or replaces places; a newer file replaces the population of
    /// the places it names (a file without population keeps the old one).
    pub async fn import_places(
        &self,
        rows: &[PlaceEntry],
        source: &str,
    ) -> Result<u64, StoreError> {
        let mut tx = self.pool.begin().await?;
        // Many rows per statement: a full directory has some 14,000.
        for chunk in rows.chunks(IMPORT_BATCH) {
            let placeholders: Vec<String> = (0..chunk.len())
                .map(|i| {
                    let b = i * 6;
                    format!(
                        "(${}, ${}, ${}, ${}, ${}, ${})",
                        b + 1,
                        b + 2,
                        b + 3,
                        b + 4,
                        b + 5,
                        b + 6
                    )
                })
                .collect();
            let mut statement = query(format!(
                "INSERT INTO ref_places (ags, name, level, land, population, source) VALUES {}
                 ON CONFLICT (ags) DO UPDATE SET name = excluded.name, level = excluded.level,
                     land = excluded.land,
                     population = COALESCE(excluded.population, ref_places.population),
                     source = excluded.source",
                placeholders.join(", ")
            ));
            for row in chunk {
                statement = statement
                    .bind(row.ags.as_str())
                    .bind(row.name.as_str())
                    .bind(row.level.slug())
                    .bind(row.land.slug())
                    .bind(row.population.and_then(|p| i64::try_from(p).ok()))
                    .bind(source);
            }
            statement.execute(&mut tx).await?;
        }
        tx.commit().await?;
        Ok(rows.len() as u64)
    }

    pub async fn count_places(&self) -> Result<i64, StoreError> {
        query("SELECT COUNT(*) FROM ref_places")
            .scalar(self.pool)
            .await
    }

    pub async fn count_services(&self) -> Result<i64, StoreError> {
        query("SELECT COUNT(*) FROM ref_services")
            .scalar(self.pool)
            .await
    }

    /// The place with this AGS, if the directory knows it.
    pub async fn place(&self, ags: &str) -> Result<Option<Place>, StoreError> {
        let Some(row) = query("SELECT * FROM ref_places WHERE ags = $1")
            .bind(ags)
            .fetch_optional(self.pool)
            .await?
        else {
            return Ok(None);
        };
        Ok(Some(Place {
            ags: row.col("ags")?,
            name: row.col("name")?,
            level: row.col("level")?,
            land: row.col("land")?,
            population: row.col("population")?,
        }))
    }

    /// The names of these services, where the catalogue has them.
    pub async fn service_names(
        &self,
        keys: &[ServiceKey],
    ) -> Result<HashMap<ServiceKey, String>, StoreError> {
        let mut names = HashMap::new();
        for key in keys {
            let name: Option<String> = query("SELECT name FROM ref_services WHERE key = $1")
                .bind(key.slug())
                .optional_scalar(self.pool)
                .await?;
            if let Some(name) = name {
                names.insert(key.clone(), name);
            }
        }
        Ok(names)
    }

    /// Services of the catalogue whose name contains `text` (any case),
    /// by name; at most `limit`.
    pub async fn find_services(
        &self,
        text: &str,
        limit: u32,
    ) -> Result<Vec<(ServiceKey, String)>, StoreError> {
        let pattern = format!("%{}%", text.to_lowercase().replace(['\\', '%', '_'], ""));
        let rows = query(
            "SELECT key, name FROM ref_services WHERE LOWER(name) LIKE $1 OR key LIKE $1
             ORDER BY name LIMIT $2",
        )
        .bind(pattern)
        .bind(i64::from(limit))
        .fetch_all(self.pool)
        .await?;
        rows.iter()
            .filter_map(|row| {
                let key: String = match row.col("key") {
                    Ok(k) => k,
                    Err(e) => return Some(Err(e)),
                };
                let name: String = match row.col("name") {
                    Ok(n) => n,
                    Err(e) => return Some(Err(e)),
                };
                ServiceKey::parse(&key).ok().map(|k| Ok((k, name)))
            })
            .collect()
    }
}
