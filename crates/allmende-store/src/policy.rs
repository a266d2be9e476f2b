//! Where the operators' federation policy is stored: domain entries
//! (blocked, allowed, trusted) and the audit log of every change to them.
//! Each change and its audit entry are one transaction: there is no policy
//! change without its record.

use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use crate::db::{query, Pool, Row};
use crate::StoreError;

/// What an entry does with its domain.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PolicyKind {
    /// Nothing is received from it, fetched from it or sent to it.
    Block,
    /// In allow-list mode, only these federate.
    Allow,
    /// Its organizations become followers without an admin's approval.
    Trust,
}

impl PolicyKind {
    pub const ALL: [PolicyKind; 3] = [PolicyKind::Block, PolicyKind::Allow, PolicyKind::Trust];

    pub fn slug(self) -> &'static str {
        match self {
            PolicyKind::Block => "block",
            PolicyKind::Allow => "allow",
            PolicyKind::Trust => "trust",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.slug() == s)
    }
}

/// One domain entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DomainEntry {
    pub domain: String,
    pub kind: PolicyKind,
    pub note: String,
    pub created_at: DateTime<Utc>,
}

/// One change of the policy.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AuditEntry {
    pub at: DateTime<Utc>,
    /// Who changed it: an operator's e-mail address, or `cli`.
    pub actor: String,
    /// `add` or `remove`.
    pub action: String,
    pub domain: String,
    pub kind: PolicyKind,
    pub note: String,
}

pub struct Policy<'a> {
    pool: &'a Pool,
}

impl<'a> Policy<'a> {
    pub(crate) fn new(pool: &'a Pool) -> Self {
        Self { pool }
    }

    /// Every domain entry, by kind and domain.
    pub async fn entries(&self) -> Result<Vec<DomainEntry>, StoreError> {
        query("SELECT domain, kind, note, created_at FROM domain_policy ORDER BY kind, domain")
            .fetch_all(self.pool)
            .await?
            .iter()
            .map(entry_from_row)
            .collect()
    }

    /// Adds an entry (a repeated add only updates its note) and records
    /// the change. `domain` must already be normalised by the caller.
    pub async fn add(
        &self,
        domain: &str,
        kind: PolicyKind,
        note: &str,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        query(
            "INSERT INTO domain_policy (domain, kind, note, created_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (domain, kind) DO UPDATE SET note = excluded.note",
        )
        .bind(domain)
        .bind(kind.slug())
        .bind(note)
        .bind(now)
        .execute(&mut tx)
        .await?;
        audit(&mut tx, "add", domain, kind, note, actor, now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Removes an entry and records the change; `false` if there was none
    /// (nothing is recorded then).
    pub async fn remove(
        &self,
        domain: &str,
        kind: PolicyKind,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        let Some(row) =
            query("DELETE FROM domain_policy WHERE domain = $1 AND kind = $2 RETURNING note")
                .bind(domain)
                .bind(kind.slug())
                .fetch_optional(&mut tx)
                .await?
        else {
            return Ok(false);
        };
        let note: String = row.col("note")?;
        audit(&mut tx, "remove", domain, kind, &note, actor, now).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// The latest changes, newest first.
    pub async fn audit_log(&self, limit: u32) -> Result<Vec<AuditEntry>, StoreError> {
        query(
            "SELECT at, actor, action, domain, kind, note FROM policy_audit
             ORDER BY at DESC, id DESC LIMIT $1",
        )
        .bind(i64::from(limit))
        .fetch_all(self.pool)
        .await?
        .iter()
        .map(|r| {
            Ok(AuditEntry {
                at: r.col("at")?,
                actor: r.col("actor")?,
                action: r.col("action")?,
                domain: r.col("domain")?,
                kind: kind_col(r)?,
                note: r.col("note")?,
            })
        })
        .collect()
    }
}

async fn audit(
    tx: &mut crate::db::Tx,
    action: &str,
    domain: &str,
    kind: PolicyKind,
    note: &str,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    query(
        "INSERT INTO policy_audit (id, at, actor, action, domain, kind, note)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(Uuid::now_v7().to_string())
    .bind(now)
    .bind(actor)
    .bind(action)
    .bind(domain)
    .bind(kind.slug())
    .bind(note)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

fn kind_col(r: &Row) -> Result<PolicyKind, StoreError> {
    let s: String = r.col("kind")?;
    PolicyKind::parse(&s).ok_or_else(|| StoreError::Corrupt(format!("policy kind {s:?}")))
}

fn entry_from_row(r: &Row) -> Result<DomainEntry, StoreError> {
    Ok(DomainEntry {
        domain: r.col("domain")?,
        kind: kind_col(r)?,
        note: r.col("note")?,
        created_at: r.col("created_at")?,
    })
}
