//! Where an organization's logo and header colour are kept. The logo is
//! stored as the PNG the node made from the upload, never as uploaded.

use allmende_domain::OrganizationId;
use chrono::{DateTime, Utc};

use crate::db::{query, Pool};
use crate::StoreError;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Branding {
    pub has_logo: bool,
    /// `#rrggbb`.
    pub color: Option<String>,
    pub updated_at: Option<DateTime<Utc>>,
}

pub struct Brandings<'a> {
    pool: &'a Pool,
}

impl<'a> Brandings<'a> {
    pub(crate) fn new(pool: &'a Pool) -> Self {
        Self { pool }
    }

    pub async fn get(&self, org: OrganizationId) -> Result<Branding, StoreError> {
        let row = query(
            "SELECT logo_png IS NOT NULL AS has_logo, color, updated_at FROM organization_branding WHERE organization_id = $1",
        )
        .bind(org.to_string())
        .fetch_optional(self.pool)
        .await?;
        match row {
            Some(r) => Ok(Branding {
                has_logo: r.col("has_logo")?,
                color: r.col("color")?,
                updated_at: Some(r.col("updated_at")?),
            }),
            None => Ok(Branding::default()),
        }
    }

    pub async fn logo(
        &self,
        org: OrganizationId,
    ) -> Result<Option<(Vec<u8>, DateTime<Utc>)>, StoreError> {
        let row = query("SELECT logo_png, updated_at FROM organization_branding WHERE organization_id = $1 AND logo_png IS NOT NULL")
            .bind(org.to_string())
            .fetch_optional(self.pool)
            .await?;
        row.map(|r| Ok((r.col("logo_png")?, r.col("updated_at")?)))
            .transpose()
    }

    /// Sets the logo (`Some`), removes it (`None` with `replace_logo`), or
    /// keeps it; and sets the colour.
    pub async fn set(
        &self,
        org: OrganizationId,
        logo: Option<Vec<u8>>,
        replace_logo: bool,
        color: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        query(
            "INSERT INTO organization_branding (organization_id, color, updated_at) VALUES ($1, $2, $3)
             ON CONFLICT (organization_id) DO UPDATE SET color = $2, updated_at = $3",
        )
        .bind(org.to_string())
        .bind(color)
        .bind(now)
        .execute(&mut tx)
        .await?;
        match (replace_logo, logo) {
            (true, Some(png)) => {
                query("UPDATE organization_branding SET logo_png = $1 WHERE organization_id = $2")
                    .bind(png)
                    .bind(org.to_string())
                    .execute(&mut tx)
                    .await?;
            }
            (true, None) => {
                query(
                    "UPDATE organization_branding SET logo_png = NULL WHERE organization_id = $1",
                )
                .bind(org.to_string())
                .execute(&mut tx)
                .await?;
            }
            (false, _) => {}
        }
        // Followers get the actor again, with its new icon.
        crate::outbox::record(
            &mut tx,
            org,
            &crate::outbox::Announcement::ProfileUpdated,
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
