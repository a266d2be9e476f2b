//! Where adoption declarations are stored: this node's organizations' own
//! (announced to their followers and to the solution's author in the same
//! transaction) and the verified ones of other nodes.
//!
//! When the adopted solution is one of this node's, its organization is
//! kept as `home`: every change to the solution's adopters is then told to
//! its followers too (`Add`/`Remove`), so that nodes which follow only the
//! solution's author learn of adopters they could not otherwise see.

use allmende_domain::{Adoption, AdoptionDraft, AdoptionId, OrganizationId};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::db::{query, Pool, Row, Tx};
use crate::outbox::{self, Announcement};
use crate::{json_column, to_json, uuid_column, StoreError};

pub struct Adoptions<'a> {
    pool: &'a Pool,
}

/// What storing a remote declaration did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stored {
    New,
    Changed,
    /// Already withdrawn, or older than what is stored: nothing changed.
    Ignored,
    /// The id belongs to another organization's declaration.
    OwnedByAnother,
}

fn from_row(row: &Row) -> Result<Adoption, StoreError> {
    Ok(Adoption {
        id: AdoptionId(uuid_column(row, "id")?),
        organization_id: OrganizationId(uuid_column(row, "organization_id")?),
        solution: row.col("solution_ap_id")?,
        ap_id: row.col("ap_id")?,
        content: json_column(row, "content")?,
        created_at: row.col("created_at")?,
        updated_at: row.col("updated_at")?,
    })
}

impl<'a> Adoptions<'a> {
    pub(crate) fn new(pool: &'a Pool) -> Self {
        Self { pool }
    }

    /// Declares (or updates) a local organization's use of `solution`.
    /// `home` is the local organization whose solution it is, if any.
    pub async fn declare(
        &self,
        organization: OrganizationId,
        solution: &str,
        draft: &AdoptionDraft,
        home: Option<OrganizationId>,
        now: DateTime<Utc>,
    ) -> Result<Adoption, StoreError> {
        let mut tx = self.pool.begin().await?;
        let existing = Self::of_in(&mut tx, organization, solution).await?;
        let id = match &existing {
            Some(a) => {
                query("UPDATE adoptions SET content = $1, updated_at = $2 WHERE id = $3")
                    .bind(to_json(draft))
                    .bind(now)
                    .bind(a.id.to_string())
                    .execute(&mut tx)
                    .await?;
                a.id
            }
            None => {
                let id = AdoptionId(Uuid::now_v7());
                Self::insert(
                    &mut tx,
                    id,
                    organization,
                    solution,
                    None,
                    draft,
                    home,
                    now,
                    now,
                )
                .await?;
                id
            }
        };
        let announcement = match existing {
            Some(_) => Announcement::AdoptionUpdated { id: id.0 },
            None => Announcement::AdoptionDeclared { id: id.0 },
        };
        outbox::record(&mut tx, organization, &announcement, now).await?;
        if let Some(home) = home {
            let added = Announcement::AdopterAdded { adoption: id.0 };
            outbox::record(&mut tx, home, &added, now).await?;
        }
        tx.commit().await?;
        self.get(id).await
    }

    /// Withdraws a local organization's declaration; `false` if there was
    /// none. `adoption_ap_id` is its ActivityPub id (for the Delete).
    pub async fn withdraw(
        &self,
        adoption: &Adoption,
        adoption_ap_id: &str,
        solution_author: Option<OrganizationId>,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        let home = Self::home_of(&mut tx, adoption.id).await?;
        let done = query("DELETE FROM adoptions WHERE id = $1")
            .bind(adoption.id.to_string())
            .execute(&mut tx)
            .await?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        tombstone(&mut tx, adoption_ap_id, now).await?;
        let withdrawn = Announcement::AdoptionWithdrawn {
            ap_id: adoption_ap_id.to_owned(),
            solution: adoption.solution.clone(),
            solution_author,
        };
        outbox::record(&mut tx, adoption.organization_id, &withdrawn, now).await?;
        if let Some(home) = home {
            let removed = Announcement::AdopterRemoved {
                adoption: adoption_ap_id.to_owned(),
                solution: adoption.solution.clone(),
            };
            outbox::record(&mut tx, home, &removed, now).await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    /// Stores a verified declaration from another node, unless it was
    /// withdrawn already or what is stored is newer.
    #[allow(clippy::too_many_arguments)]
    pub async fn store_remote(
        &self,
        organization: OrganizationId,
        solution: &str,
        ap_id: &str,
        draft: &AdoptionDraft,
        home: Option<OrganizationId>,
        published: DateTime<Utc>,
        updated: DateTime<Utc>,
    ) -> Result<Stored, StoreError> {
        let mut tx = self.pool.begin().await?;
        let withdrawn: Option<String> =
            query("SELECT ap_id FROM withdrawn_adoptions WHERE ap_id = $1")
                .bind(ap_id)
                .optional_scalar(&mut tx)
                .await?;
        if withdrawn.is_some() {
            return Ok(Stored::Ignored);
        }
        let existing = query("SELECT * FROM adoptions WHERE ap_id = $1")
            .bind(ap_id)
            .fetch_optional(&mut tx)
            .await?
            .map(|r| from_row(&r))
            .transpose()?;
        let (id, outcome) = match existing {
            Some(a) if a.organization_id != organization || a.solution != solution => {
                return Ok(Stored::OwnedByAnother)
            }
            Some(a)
                if a.updated_at > updated || (a.updated_at == updated && a.content == *draft) =>
            {
                return Ok(Stored::Ignored)
            }
            Some(a) => {
                query("UPDATE adoptions SET content = $1, updated_at = $2 WHERE id = $3")
                    .bind(to_json(draft))
                    .bind(updated)
                    .bind(a.id.to_string())
                    .execute(&mut tx)
                    .await?;
                (a.id, Stored::Changed)
            }
            None => {
                // A second declaration of the same organization for the
                // same solution replaces the first if it is newer; the
                // first's id is then withdrawn, so a late copy of it
                // cannot come back.
                if let Some(previous) = Self::of_in(&mut tx, organization, solution).await? {
                    if previous.updated_at >= updated {
                        return Ok(Stored::Ignored);
                    }
                    if let Some(old) = &previous.ap_id {
                        query("INSERT INTO withdrawn_adoptions (ap_id, withdrawn_at) VALUES ($1, $2) ON CONFLICT (ap_id) DO NOTHING")
                            .bind(old)
                            .bind(Utc::now())
                            .execute(&mut tx)
                            .await?;
                    }
                    query("DELETE FROM adoptions WHERE id = $1")
                        .bind(previous.id.to_string())
                        .execute(&mut tx)
                        .await?;
                }
                let id = AdoptionId(Uuid::now_v7());
                Self::insert(
                    &mut tx,
                    id,
                    organization,
                    solution,
                    Some(ap_id),
                    draft,
                    home,
                    published,
                    updated,
                )
                .await?;
                (id, Stored::New)
            }
        };
        if let Some(home) = home {
            let added = Announcement::AdopterAdded { adoption: id.0 };
            outbox::record(&mut tx, home, &added, Utc::now()).await?;
        }
        tx.commit().await?;
        Ok(outcome)
    }

    /// A declaration withdrawn at home (Delete by its organization): gone
    /// here, and remembered so that a late Create does not bring it back.
    /// `false` if it was not stored.
    pub async fn withdraw_remote(
        &self,
        ap_id: &str,
        organization: OrganizationId,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        query("INSERT INTO withdrawn_adoptions (ap_id, withdrawn_at) VALUES ($1, $2) ON CONFLICT (ap_id) DO NOTHING")
            .bind(ap_id)
            .bind(now)
            .execute(&mut tx)
            .await?;
        let existing = query("SELECT * FROM adoptions WHERE ap_id = $1 AND organization_id = $2")
            .bind(ap_id)
            .bind(organization.to_string())
            .fetch_optional(&mut tx)
            .await?
            .map(|r| from_row(&r))
            .transpose()?;
        let Some(adoption) = existing else {
            tx.commit().await?;
            return Ok(false);
        };
        let home = Self::home_of(&mut tx, adoption.id).await?;
        query("DELETE FROM adoptions WHERE id = $1")
            .bind(adoption.id.to_string())
            .execute(&mut tx)
            .await?;
        if let Some(home) = home {
            let removed = Announcement::AdopterRemoved {
                adoption: ap_id.to_owned(),
                solution: adoption.solution,
            };
            outbox::record(&mut tx, home, &removed, now).await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    /// The solution's author removed a declaration from its adopters
    /// (`Remove`): it is dropped here if it concerns that solution.
    pub async fn drop_from_solution(
        &self,
        ap_id: &str,
        solution: &str,
    ) -> Result<bool, StoreError> {
        let done = query("DELETE FROM adoptions WHERE ap_id = $1 AND solution_ap_id = $2")
            .bind(ap_id)
            .bind(solution)
            .execute(self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    /// The solution `solution` was deleted: its declarations go (they
    /// declared the use of something that no longer exists). This node's
    /// own are withdrawn as if by hand (a Delete to the adopter's
    /// followers, a Tombstone at their id, made by `ap_id_of`). Returns
    /// how many.
    pub async fn drop_of_solution(
        &self,
        solution: &str,
        ap_id_of: impl Fn(Uuid) -> String,
    ) -> Result<u64, StoreError> {
        let mut tx = self.pool.begin().await?;
        let rows = query("SELECT * FROM adoptions WHERE solution_ap_id = $1")
            .bind(solution)
            .fetch_all(&mut tx)
            .await?;
        let now = Utc::now();
        for row in &rows {
            let adoption = from_row(row)?;
            if adoption.ap_id.is_none() {
                let ap_id = ap_id_of(adoption.id.0);
                tombstone(&mut tx, &ap_id, now).await?;
                let withdrawn = Announcement::AdoptionWithdrawn {
                    ap_id,
                    solution: adoption.solution.clone(),
                    solution_author: None,
                };
                outbox::record(&mut tx, adoption.organization_id, &withdrawn, now).await?;
            }
        }
        let done = query("DELETE FROM adoptions WHERE solution_ap_id = $1")
            .bind(solution)
            .execute(&mut tx)
            .await?;
        tx.commit().await?;
        Ok(done.rows_affected())
    }

    pub async fn get(&self, id: AdoptionId) -> Result<Adoption, StoreError> {
        query("SELECT * FROM adoptions WHERE id = $1")
            .bind(id.to_string())
            .fetch_optional(self.pool)
            .await?
            .map(|r| from_row(&r))
            .transpose()?
            .ok_or(StoreError::NotFound)
    }

    pub async fn find_by_ap_id(&self, ap_id: &str) -> Result<Option<Adoption>, StoreError> {
        query("SELECT * FROM adoptions WHERE ap_id = $1")
            .bind(ap_id)
            .fetch_optional(self.pool)
            .await?
            .map(|r| from_row(&r))
            .transpose()
    }

    /// An organization's declaration for `solution`, if it made one.
    pub async fn of(
        &self,
        organization: OrganizationId,
        solution: &str,
    ) -> Result<Option<Adoption>, StoreError> {
        query("SELECT * FROM adoptions WHERE organization_id = $1 AND solution_ap_id = $2")
            .bind(organization.to_string())
            .bind(solution)
            .fetch_optional(self.pool)
            .await?
            .map(|r| from_row(&r))
            .transpose()
    }

    /// Every declaration of `solution` kept here, production before
    /// pilot, then oldest first.
    pub async fn of_solution(&self, solution: &str) -> Result<Vec<Adoption>, StoreError> {
        let mut all: Vec<Adoption> = query(
            "SELECT * FROM adoptions WHERE solution_ap_id = $1 ORDER BY created_at, id LIMIT 1000",
        )
        .bind(solution)
        .fetch_all(self.pool)
        .await?
        .iter()
        .map(from_row)
        .collect::<Result<_, _>>()?;
        all.sort_by_key(|a| a.content.stage != allmende_domain::AdoptionStage::Production);
        Ok(all)
    }

    /// The declarations an organization made, the newest 100.
    pub async fn by_organization(
        &self,
        organization: OrganizationId,
    ) -> Result<Vec<Adoption>, StoreError> {
        query(
            "SELECT * FROM adoptions WHERE organization_id = $1 ORDER BY updated_at DESC LIMIT 100",
        )
        .bind(organization.to_string())
        .fetch_all(self.pool)
        .await?
        .iter()
        .map(from_row)
        .collect()
    }

    async fn of_in(
        tx: &mut Tx,
        organization: OrganizationId,
        solution: &str,
    ) -> Result<Option<Adoption>, StoreError> {
        query("SELECT * FROM adoptions WHERE organization_id = $1 AND solution_ap_id = $2")
            .bind(organization.to_string())
            .bind(solution)
            .fetch_optional(&mut *tx)
            .await?
            .map(|r| from_row(&r))
            .transpose()
    }

    async fn home_of(tx: &mut Tx, id: AdoptionId) -> Result<Option<OrganizationId>, StoreError> {
        let home: Option<Option<String>> =
            query("SELECT home_organization_id FROM adoptions WHERE id = $1")
                .bind(id.to_string())
                .optional_scalar(&mut *tx)
                .await?;
        home.flatten()
            .map(|h| {
                h.parse()
                    .map(OrganizationId)
                    .map_err(|_| StoreError::Corrupt(format!("home_organization_id {h:?}")))
            })
            .transpose()
    }

    #[allow(clippy::too_many_arguments)]
    async fn insert(
        tx: &mut Tx,
        id: AdoptionId,
        organization: OrganizationId,
        solution: &str,
        ap_id: Option<&str>,
        draft: &AdoptionDraft,
        home: Option<OrganizationId>,
        created: DateTime<Utc>,
        updated: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        query(
            "INSERT INTO adoptions (id, organization_id, solution_ap_id, ap_id, home_organization_id, content, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(id.to_string())
        .bind(organization.to_string())
        .bind(solution)
        .bind(ap_id)
        .bind(home.map(|h| h.to_string()))
        .bind(to_json(draft))
        .bind(created)
        .bind(updated)
        .execute(&mut *tx)
        .await
        .map_err(StoreError::unique("solution"))?;
        Ok(())
    }
}

/// The Tombstone a withdrawn declaration of this node leaves at its id
/// (served with 410 from the moment it is withdrawn).
async fn tombstone(tx: &mut Tx, ap_id: &str, now: DateTime<Utc>) -> Result<(), StoreError> {
    query(
        "INSERT INTO tombstones (ap_id, former_type, deleted_at) VALUES ($1, 'Adoption', $2)
         ON CONFLICT (ap_id) DO NOTHING",
    )
    .bind(ap_id)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Before a remote organization is deleted (its actor was deleted): the
/// adopters lists of this node's solutions lose it, and their followers
/// hear so. `adoption_ap_id` is `None` for rows without one (never for a
/// remote organization's).
pub(crate) async fn remove_of_organization(
    tx: &mut Tx,
    organization: &str,
) -> Result<(), StoreError> {
    let rows = query(
        "SELECT * FROM adoptions WHERE organization_id = $1 AND home_organization_id IS NOT NULL AND ap_id IS NOT NULL",
    )
    .bind(organization)
    .fetch_all(&mut *tx)
    .await?;
    let now = Utc::now();
    for row in &rows {
        let adoption = from_row(row)?;
        let home: String = row.col("home_organization_id")?;
        let home = home
            .parse()
            .map(OrganizationId)
            .map_err(|_| StoreError::Corrupt(format!("home_organization_id {home:?}")))?;
        let removed = Announcement::AdopterRemoved {
            adoption: adoption.ap_id.unwrap_or_default(),
            solution: adoption.solution,
        };
        outbox::record(tx, home, &removed, now).await?;
    }
    Ok(())
}
