//! Where the results of identity checks are stored: whether an
//! organization's official website and its actor link each other.

use allmende_domain::{Organization, OrganizationId};
use chrono::{DateTime, Utc};

use crate::db::{query, Pool};
use crate::organizations::from_row as organization_from_row;
use crate::StoreError;

/// The last check of one organization.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdentityCheck {
    /// The website that was checked (the profile's at the time).
    pub website: Option<String>,
    /// Since when the website and the actor link each other; `None`: they
    /// did not at the last check.
    pub verified_at: Option<DateTime<Utc>>,
    pub checked_at: DateTime<Utc>,
    /// Why the check failed, in English, for the page.
    pub problem: Option<String>,
}

pub struct Identities<'a> {
    pool: &'a Pool,
}

impl<'a> Identities<'a> {
    pub(crate) fn new(pool: &'a Pool) -> Self {
        Self { pool }
    }

    pub async fn get(&self, org: OrganizationId) -> Result<Option<IdentityCheck>, StoreError> {
        let row = query(
            "SELECT website, verified_at, checked_at, problem FROM identity_checks
             WHERE organization_id = $1",
        )
        .bind(org.to_string())
        .fetch_optional(self.pool)
        .await?;
        row.map(|r| {
            Ok(IdentityCheck {
                website: r.col("website")?,
                verified_at: r.col("verified_at")?,
                checked_at: r.col("checked_at")?,
                problem: r.col("problem")?,
            })
        })
        .transpose()
    }

    /// Organizations to check: never checked, checked before `before`, or
    /// changed since their last check; the longest unchecked first. Only
    /// this node's organizations and remote ones in a follow relation with
    /// them: a stranger's actors cost no fetches.
    pub async fn due(
        &self,
        before: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Organization>, StoreError> {
        query(
            "SELECT o.*, r.actor_id, r.profile_url FROM organizations o
             LEFT JOIN remote_actors r ON r.organization_id = o.id
             LEFT JOIN identity_checks i ON i.organization_id = o.id
             WHERE (i.organization_id IS NULL OR i.checked_at < $1 OR o.updated_at > i.checked_at)
               AND (r.organization_id IS NULL
                    OR EXISTS (SELECT 1 FROM follows f WHERE f.follower_id = o.id OR f.target_id = o.id))
             ORDER BY i.checked_at IS NOT NULL, i.checked_at LIMIT $2",
        )
        .bind(before)
        .bind(i64::from(limit))
        .fetch_all(self.pool)
        .await?
        .iter()
        .map(organization_from_row)
        .collect()
    }

    /// Records a check of `website`. A verification of the same website
    /// keeps the date it was first verified.
    pub async fn record(
        &self,
        org: OrganizationId,
        website: Option<&str>,
        verified: bool,
        problem: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        query(
            "INSERT INTO identity_checks (organization_id, website, verified_at, checked_at, problem)
             VALUES ($1, $2, CASE WHEN $3 THEN $4 END, $4, $5)
             ON CONFLICT (organization_id) DO UPDATE SET
               verified_at = CASE WHEN NOT $3 THEN NULL
                                  WHEN identity_checks.website = excluded.website
                                       AND identity_checks.verified_at IS NOT NULL
                                  THEN identity_checks.verified_at
                                  ELSE excluded.checked_at END,
               website = excluded.website, checked_at = excluded.checked_at,
               problem = excluded.problem",
        )
        .bind(org.to_string())
        .bind(website)
        .bind(verified)
        .bind(now)
        .bind(problem)
        .execute(self.pool)
        .await?;
        Ok(())
    }
}
