//! Where organizations are stored.

use std::collections::{BTreeSet, HashMap};

use crate::db::{query, Pool, Row};
use allmende_domain::{Handle, Organization, OrganizationDraft, OrganizationId, Origin};
use chrono::{DateTime, Utc};

use crate::{json_column, to_json, uuid_column, StoreError};

pub struct Organizations<'a> {
    pool: &'a Pool,
}

impl<'a> Organizations<'a> {
    pub(crate) fn new(pool: &'a Pool) -> Self {
        Self { pool }
    }

    pub async fn insert(
        &self,
        handle: &Handle,
        profile: &OrganizationDraft,
        now: DateTime<Utc>,
    ) -> Result<Organization, StoreError> {
        let id = OrganizationId::new();
        let mut tx = self.pool.begin().await?;
        query(
            "INSERT INTO organizations (id, handle, name, kind, profile, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(id.to_string())
        .bind(handle.as_str())
        .bind(&profile.name)
        .bind(profile.kind.slug())
        .bind(to_json(profile))
        .bind(now)
        .bind(now)
        .execute(&mut tx)
        .await
        .map_err(StoreError::unique("organization handle"))?;
        crate::search::refresh_organization(&mut tx, id).await?;
        tx.commit().await?;
        self.get(id).await
    }

    /// Changes a local organization's profile and announces it.
    pub async fn update(
        &self,
        id: OrganizationId,
        profile: &OrganizationDraft,
        now: DateTime<Utc>,
    ) -> Result<Organization, StoreError> {
        let mut tx = self.pool.begin().await?;
        let done = query(
            "UPDATE organizations SET name = $1, kind = $2, profile = $3, updated_at = $4 WHERE id = $5",
        )
        .bind(&profile.name)
        .bind(profile.kind.slug())
        .bind(to_json(profile))
        .bind(now)
        .bind(id.to_string())
        .execute(&mut tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        crate::search::refresh_organization(&mut tx, id).await?;
        crate::outbox::record(&mut tx, id, &crate::Announcement::ProfileUpdated, now).await?;
        tx.commit().await?;
        self.get(id).await
    }

    /// A local organization moved to `to` (its new home's actor, which
    /// names it in `alsoKnownAs`): recorded, and its followers are told
    /// with a `Move`.
    pub async fn moved(
        &self,
        id: OrganizationId,
        to: &url::Url,
        now: DateTime<Utc>,
    ) -> Result<Organization, StoreError> {
        let mut tx = self.pool.begin().await?;
        let done = query("UPDATE organizations SET moved_to = $1, updated_at = $2 WHERE id = $3")
            .bind(to.as_str())
            .bind(now)
            .bind(id.to_string())
            .execute(&mut tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        let announcement = crate::Announcement::Moved { to: to.to_string() };
        crate::outbox::record(&mut tx, id, &announcement, now).await?;
        tx.commit().await?;
        self.get(id).await
    }

    /// A remote organization announced that it moved to `to` (checked by
    /// the caller): shown on its page here.
    pub async fn remote_moved(&self, id: OrganizationId, to: &url::Url) -> Result<(), StoreError> {
        query("UPDATE organizations SET moved_to = $1 WHERE id = $2")
            .bind(to.as_str())
            .bind(id.to_string())
            .execute(self.pool)
            .await?;
        Ok(())
    }

    pub async fn get(&self, id: OrganizationId) -> Result<Organization, StoreError> {
        query(format!("{SELECT} WHERE o.id = $1"))
            .bind(id.to_string())
            .fetch_optional(self.pool)
            .await?
            .ok_or(StoreError::NotFound)
            .and_then(|r| from_row(&r))
    }

    pub async fn by_handle(&self, handle: &str) -> Result<Organization, StoreError> {
        query(format!("{SELECT} WHERE o.handle = $1"))
            .bind(handle)
            .fetch_optional(self.pool)
            .await?
            .ok_or(StoreError::NotFound)
            .and_then(|r| from_row(&r))
    }

    /// The organizations among `ids` (to name the authors of a list of
    /// items: only theirs, not every organization of the network).
    pub async fn by_ids(
        &self,
        ids: impl IntoIterator<Item = OrganizationId>,
    ) -> Result<HashMap<OrganizationId, Organization>, StoreError> {
        let ids: BTreeSet<OrganizationId> = ids.into_iter().collect();
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        let placeholders: Vec<String> = (1..=ids.len()).map(|i| format!("${i}")).collect();
        let mut statement = query(format!(
            "{SELECT} WHERE o.id IN ({})",
            placeholders.join(", ")
        ));
        for id in &ids {
            statement = statement.bind(id.to_string());
        }
        statement
            .fetch_all(self.pool)
            .await?
            .iter()
            .map(|row| from_row(row).map(|o| (o.id, o)))
            .collect()
    }

    /// Every organization known here, local and remote.
    pub async fn list_all(&self) -> Result<Vec<Organization>, StoreError> {
        query(SELECT)
            .fetch_all(self.pool)
            .await?
            .iter()
            .map(from_row)
            .collect()
    }

    /// All organizations this node hosts, by name. Nodes host tens to a
    /// few hundred organizations, so no paging.
    pub async fn list(&self) -> Result<Vec<Organization>, StoreError> {
        query(format!(
            "{SELECT} WHERE r.actor_id IS NULL ORDER BY lower(o.name), o.name"
        ))
        .fetch_all(self.pool)
        .await?
        .iter()
        .map(from_row)
        .collect()
    }

    /// Who becomes a follower of `org` without approval.
    pub async fn follower_approval(
        &self,
        org: OrganizationId,
    ) -> Result<allmende_domain::FollowerApproval, StoreError> {
        let stored: Option<String> =
            query("SELECT approval FROM follower_approval WHERE organization_id = $1")
                .bind(org.to_string())
                .optional_scalar(self.pool)
                .await?;
        match stored {
            None => Ok(allmende_domain::FollowerApproval::default()),
            Some(s) => allmende_domain::FollowerApproval::parse(&s)
                .map_err(|_| StoreError::Corrupt(format!("follower approval {s:?}"))),
        }
    }

    pub async fn set_follower_approval(
        &self,
        org: OrganizationId,
        approval: allmende_domain::FollowerApproval,
    ) -> Result<(), StoreError> {
        query(
            "INSERT INTO follower_approval (organization_id, approval) VALUES ($1, $2)
             ON CONFLICT (organization_id) DO UPDATE SET approval = excluded.approval",
        )
        .bind(org.to_string())
        .bind(approval.slug())
        .execute(self.pool)
        .await?;
        Ok(())
    }
}

/// Organizations with the home of those from other nodes.
const SELECT: &str = "SELECT o.*, r.actor_id, r.profile_url FROM organizations o
     LEFT JOIN remote_actors r ON r.organization_id = o.id";

pub(crate) fn from_row(row: &Row) -> Result<Organization, StoreError> {
    let handle: String = row.col("handle")?;
    let actor_id: Option<String> = row.col("actor_id")?;
    let profile_url: Option<String> = row.col("profile_url")?;
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
    let also_known_as: Option<String> = row.col("also_known_as")?;
    let also_known_as: Vec<url::Url> = match also_known_as {
        Some(json) => serde_json::from_str(&json)
            .map_err(|_| StoreError::Corrupt(format!("also_known_as {json:?}")))?,
        None => Vec::new(),
    };
    let moved_to: Option<String> = row.col("moved_to")?;
    let moved_to = moved_to
        .map(|u| {
            u.parse::<url::Url>()
                .map_err(|_| StoreError::Corrupt(format!("moved_to {u:?}")))
        })
        .transpose()?;
    Ok(Organization {
        id: OrganizationId(uuid_column(row, "id")?),
        handle: Handle::parse_any(&handle)
            .map_err(|_| StoreError::Corrupt(format!("handle {handle:?}")))?,
        profile: json_column(row, "profile")?,
        origin,
        also_known_as,
        moved_to,
        created_at: row.col("created_at")?,
        updated_at: row.col("updated_at")?,
    })
}
