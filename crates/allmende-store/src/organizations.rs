//! Where organizations are stored.

use allmende_domain::{Handle, Organization, OrganizationDraft, OrganizationId, Origin};
use chrono::{DateTime, Utc};
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, SqlitePool};

use crate::{json_column, to_json, uuid_column, StoreError};

pub struct Organizations<'a> {
    pool: &'a SqlitePool,
}

impl<'a> Organizations<'a> {
    pub(crate) fn new(pool: &'a SqlitePool) -> Self {
        Self { pool }
    }

    pub async fn insert(
        &self,
        handle: &Handle,
        profile: &OrganizationDraft,
        now: DateTime<Utc>,
    ) -> Result<Organization, StoreError> {
        let id = OrganizationId::new();
        sqlx::query(
            "INSERT INTO organizations (id, handle, name, kind, profile, created_at, updated_at)
             VALUES (?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(id.to_string())
        .bind(handle.as_str())
        .bind(&profile.name)
        .bind(profile.kind.slug())
        .bind(to_json(profile))
        .bind(now)
        .bind(now)
        .execute(self.pool)
        .await
        .map_err(StoreError::unique("organization handle"))?;
        self.get(id).await
    }

    pub async fn update(
        &self,
        id: OrganizationId,
        profile: &OrganizationDraft,
        now: DateTime<Utc>,
    ) -> Result<Organization, StoreError> {
        let done = sqlx::query(
            "UPDATE organizations SET name = ?, kind = ?, profile = ?, updated_at = ? WHERE id = ?",
        )
        .bind(&profile.name)
        .bind(profile.kind.slug())
        .bind(to_json(profile))
        .bind(now)
        .bind(id.to_string())
        .execute(self.pool)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        self.get(id).await
    }

    pub async fn get(&self, id: OrganizationId) -> Result<Organization, StoreError> {
        sqlx::query(&format!("{SELECT} WHERE o.id = ?"))
            .bind(id.to_string())
            .fetch_optional(self.pool)
            .await?
            .ok_or(StoreError::NotFound)
            .and_then(|r| from_row(&r))
    }

    pub async fn by_handle(&self, handle: &str) -> Result<Organization, StoreError> {
        sqlx::query(&format!("{SELECT} WHERE o.handle = ?"))
            .bind(handle)
            .fetch_optional(self.pool)
            .await?
            .ok_or(StoreError::NotFound)
            .and_then(|r| from_row(&r))
    }

    /// Every organization known here, local and remote (to name the
    /// authors of a feed).
    pub async fn list_all(&self) -> Result<Vec<Organization>, StoreError> {
        sqlx::query(SELECT)
            .fetch_all(self.pool)
            .await?
            .iter()
            .map(from_row)
            .collect()
    }

    /// All organizations this node hosts, by name. Nodes host tens to a
    /// few hundred organizations, so no paging.
    pub async fn list(&self) -> Result<Vec<Organization>, StoreError> {
        sqlx::query(&format!(
            "{SELECT} WHERE r.actor_id IS NULL ORDER BY o.name COLLATE NOCASE"
        ))
        .fetch_all(self.pool)
        .await?
        .iter()
        .map(from_row)
        .collect()
    }
}

/// Organizations with the home of those from other nodes.
const SELECT: &str = "SELECT o.*, r.actor_id, r.profile_url FROM organizations o
     LEFT JOIN remote_actors r ON r.organization_id = o.id";

pub(crate) fn from_row(row: &SqliteRow) -> Result<Organization, StoreError> {
    let handle: String = row.try_get("handle")?;
    let actor_id: Option<String> = row.try_get("actor_id")?;
    let profile_url: Option<String> = row.try_get("profile_url")?;
    let origin = actor_id
        .map(|actor| -> Result<Origin, StoreError> {
            Ok(Origin {
                actor_id: actor
                    .parse()
                    .map_err(|_| StoreError::Corrupt(format!("actor id {actor:?}")))?,
                profile_url: profile_url
                    .and_then(|u| u.parse::<url::Url>().ok())
                    .filter(|u| matches!(u.scheme(), "http" | "https")),
            })
        })
        .transpose()?;
    Ok(Organization {
        id: OrganizationId(uuid_column(row, "id")?),
        handle: Handle::parse_any(&handle)
            .map_err(|_| StoreError::Corrupt(format!("handle {handle:?}")))?,
        profile: json_column(row, "profile")?,
        origin,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}
