//! Where actors from other nodes are stored: each is an organization row
//! (so its items show like local ones) plus what federation needs to reach
//! it and check its signatures.

use crate::db::{query, Pool, Row};
use allmende_domain::{Handle, Organization, OrganizationDraft, OrganizationId};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::{to_json, StoreError};

/// What is known of an actor on another node.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RemoteActor {
    pub actor_id: String,
    pub actor_type: String,
    pub inbox: String,
    pub shared_inbox: Option<String>,
    pub public_key_id: String,
    pub public_key_pem: String,
    pub profile_url: Option<String>,
    /// The id of its Ed25519 Multikey (FEP-521a), if it publishes one.
    pub ed25519_key_id: Option<String>,
    /// That key's `publicKeyMultibase`.
    pub ed25519_key: Option<String>,
}

impl RemoteActor {
    /// Where deliveries go: the shared inbox when the node offers one, so a
    /// node with many followers receives each activity once.
    pub fn delivery_inbox(&self) -> &str {
        self.shared_inbox.as_deref().unwrap_or(&self.inbox)
    }
}

pub struct RemoteActors<'a> {
    pool: &'a Pool,
}

impl<'a> RemoteActors<'a> {
    pub(crate) fn new(pool: &'a Pool) -> Self {
        Self { pool }
    }

    /// Inserts or refreshes an actor, keyed by its actor id, and returns its
    /// organization row.
    pub async fn upsert(
        &self,
        handle: &Handle,
        profile: &OrganizationDraft,
        actor: &RemoteActor,
        now: DateTime<Utc>,
    ) -> Result<Organization, StoreError> {
        let mut tx = self.pool.begin().await?;
        let existing: Option<String> =
            query("SELECT organization_id FROM remote_actors WHERE actor_id = $1")
                .bind(&actor.actor_id)
                .optional_scalar(&mut tx)
                .await?;
        let id = match existing {
            Some(id) => {
                query(
                    "UPDATE organizations SET handle = $1, name = $2, kind = $3, profile = $4, updated_at = $5 WHERE id = $6",
                )
                .bind(handle.as_str())
                .bind(&profile.name)
                .bind(profile.kind.slug())
                .bind(to_json(profile))
                .bind(now)
                .bind(&id)
                .execute(&mut tx)
                .await
                .map_err(StoreError::unique("organization handle"))?;
                query(
                    "UPDATE remote_actors SET actor_type = $1, inbox = $2, shared_inbox = $3, public_key_id = $4,
                     public_key_pem = $5, profile_url = $6, fetched_at = $7, ed25519_key_id = $9,
                     ed25519_key = $10 WHERE organization_id = $8",
                )
                .bind(&actor.actor_type)
                .bind(&actor.inbox)
                .bind(&actor.shared_inbox)
                .bind(&actor.public_key_id)
                .bind(&actor.public_key_pem)
                .bind(&actor.profile_url)
                .bind(now)
                .bind(&id)
                .bind(&actor.ed25519_key_id)
                .bind(&actor.ed25519_key)
                .execute(&mut tx)
                .await
                .map_err(StoreError::unique("public key id"))?;
                id
            }
            None => {
                let id = OrganizationId::new().to_string();
                query(
                    "INSERT INTO organizations (id, handle, name, kind, profile, created_at, updated_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(&id)
                .bind(handle.as_str())
                .bind(&profile.name)
                .bind(profile.kind.slug())
                .bind(to_json(profile))
                .bind(now)
                .bind(now)
                .execute(&mut tx)
                .await
                .map_err(StoreError::unique("organization handle"))?;
                query(
                    "INSERT INTO remote_actors (organization_id, actor_id, actor_type, inbox, shared_inbox,
                     public_key_id, public_key_pem, profile_url, fetched_at, ed25519_key_id, ed25519_key)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
                )
                .bind(&id)
                .bind(&actor.actor_id)
                .bind(&actor.actor_type)
                .bind(&actor.inbox)
                .bind(&actor.shared_inbox)
                .bind(&actor.public_key_id)
                .bind(&actor.public_key_pem)
                .bind(&actor.profile_url)
                .bind(now)
                .bind(&actor.ed25519_key_id)
                .bind(&actor.ed25519_key)
                .execute(&mut tx)
                .await
                .map_err(StoreError::unique("public key id"))?;
                id
            }
        };
        let organization = Uuid::parse_str(&id)
            .map_err(|_| StoreError::Corrupt(format!("organization id {id:?}")))?;
        crate::search::refresh_organization(&mut tx, OrganizationId(organization)).await?;
        tx.commit().await?;
        self.organization(&id).await
    }

    /// Forgets a remote actor that was deleted at home, with everything it
    /// published here; `false` if it was unknown.
    pub async fn delete(&self, actor_id: &str) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        let Some(id): Option<String> =
            query("SELECT organization_id FROM remote_actors WHERE actor_id = $1")
                .bind(actor_id)
                .optional_scalar(&mut tx)
                .await?
        else {
            return Ok(false);
        };
        crate::search::remove_of_organization(&mut tx, &id).await?;
        crate::adoptions::remove_of_organization(&mut tx, &id).await?;
        query("DELETE FROM organizations WHERE id = $1")
            .bind(&id)
            .execute(&mut tx)
            .await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn organization(&self, id: &str) -> Result<Organization, StoreError> {
        let id = id
            .parse()
            .map_err(|_| StoreError::Corrupt(format!("organization id {id:?}")))?;
        crate::Organizations::new(self.pool)
            .get(OrganizationId(id))
            .await
    }

    /// The actor and its organization row, by actor id.
    pub async fn by_actor_id(
        &self,
        actor_id: &str,
    ) -> Result<Option<(Organization, RemoteActor)>, StoreError> {
        self.find("actor_id", actor_id).await
    }

    /// The actor that owns the key `key_id` (its RSA key or its Ed25519
    /// Multikey).
    pub async fn by_key_id(
        &self,
        key_id: &str,
    ) -> Result<Option<(Organization, RemoteActor)>, StoreError> {
        match self.find("public_key_id", key_id).await? {
            Some(found) => Ok(Some(found)),
            None => self.find("ed25519_key_id", key_id).await,
        }
    }

    /// The remote actor behind an organization row, if it is one.
    pub async fn of_organization(
        &self,
        id: OrganizationId,
    ) -> Result<Option<RemoteActor>, StoreError> {
        Ok(self.with_organization(id).await?.map(|(_, actor)| actor))
    }

    /// A remote organization with its actor, by the organization's id.
    pub async fn with_organization(
        &self,
        id: OrganizationId,
    ) -> Result<Option<(Organization, RemoteActor)>, StoreError> {
        self.find("organization_id", &id.to_string()).await
    }

    async fn find(
        &self,
        column: &'static str,
        value: &str,
    ) -> Result<Option<(Organization, RemoteActor)>, StoreError> {
        let Some(actor_row) = query(format!("SELECT * FROM remote_actors WHERE {column} = $1"))
            .bind(value)
            .fetch_optional(self.pool)
            .await?
        else {
            return Ok(None);
        };
        let organization_id: String = actor_row.col("organization_id")?;
        let organization = self.organization(&organization_id).await?;
        Ok(Some((organization, actor_from_row(&actor_row)?)))
    }
}

pub(crate) fn actor_from_row(row: &Row) -> Result<RemoteActor, StoreError> {
    Ok(RemoteActor {
        actor_id: row.col("actor_id")?,
        actor_type: row.col("actor_type")?,
        inbox: row.col("inbox")?,
        shared_inbox: row.col("shared_inbox")?,
        public_key_id: row.col("public_key_id")?,
        public_key_pem: row.col("public_key_pem")?,
        profile_url: row.col("profile_url")?,
        ed25519_key_id: row.col("ed25519_key_id")?,
        ed25519_key: row.col("ed25519_key")?,
    })
}
