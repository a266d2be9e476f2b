//! The audit log: who invited, removed or changed whom, and who changed a
//! password or created an organization. Written by the use cases, never
//! changed; shown to an organization's admins (their entries) and to the
//! node's operators (all).

use allmende_domain::OrganizationId;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::db::{query, Pool, Row};
use crate::StoreError;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditEntry {
    pub at: DateTime<Utc>,
    /// Who acted: an e-mail address, or `operator:ADDRESS`, or `cli`.
    pub actor: String,
    pub organization_id: Option<OrganizationId>,
    /// What was done, a fixed slug (`invited`, `role-changed`, …).
    pub action: String,
    /// To whom or what: an e-mail address, an organization's handle.
    pub subject: String,
}

pub struct Audit<'a> {
    pool: &'a Pool,
}

impl<'a> Audit<'a> {
    pub(crate) fn new(pool: &'a Pool) -> Self {
        Self { pool }
    }

    pub async fn record(
        &self,
        actor: &str,
        organization: Option<OrganizationId>,
        action: &str,
        subject: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        query(
            "INSERT INTO audit_log (id, at, actor, organization_id, action, subject) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(Uuid::now_v7().to_string())
        .bind(now)
        .bind(actor)
        .bind(organization.map(|o| o.to_string()))
        .bind(action)
        .bind(subject)
        .execute(self.pool)
        .await?;
        Ok(())
    }

    /// The newest entries, of one organization or of all.
    pub async fn recent(
        &self,
        organization: Option<OrganizationId>,
        limit: i64,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        let rows = match organization {
            Some(org) => {
                query("SELECT * FROM audit_log WHERE organization_id = $1 ORDER BY at DESC, id DESC LIMIT $2")
                    .bind(org.to_string())
                    .bind(limit)
                    .fetch_all(self.pool)
                    .await?
            }
            None => {
                query("SELECT * FROM audit_log ORDER BY at DESC, id DESC LIMIT $1")
                    .bind(limit)
                    .fetch_all(self.pool)
                    .await?
            }
        };
        rows.iter().map(entry_from_row).collect()
    }
}

fn entry_from_row(r: &Row) -> Result<AuditEntry, StoreError> {
    let org: Option<String> = r.col("organization_id")?;
    Ok(AuditEntry {
        at: r.col("at")?,
        actor: r.col("actor")?,
        organization_id: org
            .map(|o| {
                Uuid::parse_str(&o)
                    .map(OrganizationId)
                    .map_err(|_| StoreError::Corrupt(format!("organization id {o:?}")))
            })
            .transpose()?,
        action: r.col("action")?,
        subject: r.col("subject")?,
    })
}
