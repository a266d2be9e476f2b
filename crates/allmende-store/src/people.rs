//! Where the people of an organization are managed: the list, roles,
//! removal, password changes, invitations and password resets. Tokens of
//! invitations and resets are stored as SHA-256 digests only; the caller
//! makes and hashes them.

use allmende_domain::{Email, OrganizationId, Role};
use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

use crate::accounts::{user_from_row, User, UserId, USER_COLUMNS};
use crate::db::{query, Pool, Row};
use crate::{uuid_column, StoreError};

/// An invitation not yet accepted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Invitation {
    pub id: Uuid,
    pub email: Email,
    pub organization_id: OrganizationId,
    pub role: Role,
    pub invited_by: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// An invitation to record: the digest of its token, whom, where, as what,
/// by whom, and for how long.
pub struct NewInvitation<'a> {
    pub token_hash: &'a str,
    pub email: &'a Email,
    pub organization_id: OrganizationId,
    pub role: Role,
    pub invited_by: &'a str,
    pub valid: Duration,
}

/// How a person wants to hear of what concerns them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NotifyMode {
    Immediate,
    Daily,
    Off,
}

impl NotifyMode {
    pub fn slug(self) -> &'static str {
        match self {
            NotifyMode::Immediate => "immediate",
            NotifyMode::Daily => "daily",
            NotifyMode::Off => "off",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "immediate" => Some(NotifyMode::Immediate),
            "daily" => Some(NotifyMode::Daily),
            "off" => Some(NotifyMode::Off),
            _ => None,
        }
    }
}

pub struct People<'a> {
    pool: &'a Pool,
}

impl<'a> People<'a> {
    pub(crate) fn new(pool: &'a Pool) -> Self {
        Self { pool }
    }

    /// The people of an organization, by e-mail address.
    pub async fn of_organization(&self, org: OrganizationId) -> Result<Vec<User>, StoreError> {
        query(format!(
            "SELECT {USER_COLUMNS} FROM users u WHERE u.organization_id = $1 ORDER BY u.email"
        ))
        .bind(org.to_string())
        .fetch_all(self.pool)
        .await?
        .iter()
        .map(user_from_row)
        .collect()
    }

    pub async fn by_email(&self, email: &Email) -> Result<Option<User>, StoreError> {
        query(format!(
            "SELECT {USER_COLUMNS} FROM users u WHERE u.email = $1"
        ))
        .bind(email.as_str())
        .fetch_optional(self.pool)
        .await?
        .map(|r| user_from_row(&r))
        .transpose()
    }

    /// Changes a person's role; refused (`Conflict`) if it would leave the
    /// organization without an admin.
    pub async fn set_role(&self, user: UserId, role: Role) -> Result<User, StoreError> {
        let mut tx = self.pool.begin().await?;
        let current = user_in(&mut tx, user).await?;
        if current.role == Role::Admin && role != Role::Admin {
            ensure_other_admin(&mut tx, &current, self.pool.engine()).await?;
            // Admin invitations this person made go with their role.
            drop_invitations_by(&mut tx, &current).await?;
        }
        query("UPDATE users SET role = $1 WHERE id = $2")
            .bind(role.slug())
            .bind(user.to_string())
            .execute(&mut tx)
            .await?;
        tx.commit().await?;
        Ok(User { role, ..current })
    }

    /// Removes a person (their sessions and tokens go with them); refused
    /// (`Conflict`) for an organization's last admin.
    pub async fn remove(&self, user: UserId) -> Result<User, StoreError> {
        let mut tx = self.pool.begin().await?;
        let current = user_in(&mut tx, user).await?;
        if current.role == Role::Admin {
            ensure_other_admin(&mut tx, &current, self.pool.engine()).await?;
        }
        drop_invitations_by(&mut tx, &current).await?;
        query("DELETE FROM users WHERE id = $1")
            .bind(user.to_string())
            .execute(&mut tx)
            .await?;
        tx.commit().await?;
        Ok(current)
    }

    pub async fn password_hash(&self, user: UserId) -> Result<String, StoreError> {
        query("SELECT password_hash FROM users WHERE id = $1")
            .bind(user.to_string())
            .fetch_optional(self.pool)
            .await?
            .ok_or(StoreError::NotFound)?
            .col("password_hash")
    }

    /// Sets a new password and ends every session of the person except
    /// `keep_session` (the one they changed it in), and every open reset.
    pub async fn set_password(
        &self,
        user: UserId,
        password_hash: &str,
        keep_session: Option<&str>,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        let done = query("UPDATE users SET password_hash = $1 WHERE id = $2")
            .bind(password_hash)
            .bind(user.to_string())
            .execute(&mut tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        query("DELETE FROM sessions WHERE user_id = $1 AND token_hash <> $2")
            .bind(user.to_string())
            .bind(keep_session.unwrap_or(""))
            .execute(&mut tx)
            .await?;
        query("DELETE FROM password_resets WHERE user_id = $1")
            .bind(user.to_string())
            .execute(&mut tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn invite(
        &self,
        new: &NewInvitation<'_>,
        now: DateTime<Utc>,
    ) -> Result<Invitation, StoreError> {
        let id = Uuid::now_v7();
        // A new invitation of the same address to the same organization
        // replaces the old one (its link stops working).
        let mut tx = self.pool.begin().await?;
        query("DELETE FROM invitations WHERE organization_id = $1 AND email = $2")
            .bind(new.organization_id.to_string())
            .bind(new.email.as_str())
            .execute(&mut tx)
            .await?;
        query(
            "INSERT INTO invitations (id, token_hash, email, organization_id, role, invited_by, created_at, expires_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(id.to_string())
        .bind(new.token_hash)
        .bind(new.email.as_str())
        .bind(new.organization_id.to_string())
        .bind(new.role.slug())
        .bind(new.invited_by)
        .bind(now)
        .bind(now + new.valid)
        .execute(&mut tx)
        .await?;
        tx.commit().await?;
        Ok(Invitation {
            id,
            email: new.email.clone(),
            organization_id: new.organization_id,
            role: new.role,
            invited_by: new.invited_by.to_owned(),
            created_at: now,
            expires_at: now + new.valid,
        })
    }

    /// The unexpired invitation with this token digest.
    pub async fn invitation(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Invitation>, StoreError> {
        query("SELECT * FROM invitations WHERE token_hash = $1 AND expires_at > $2")
            .bind(token_hash)
            .bind(now)
            .fetch_optional(self.pool)
            .await?
            .map(|r| invitation_from_row(&r))
            .transpose()
    }

    pub async fn invitations_of(
        &self,
        org: OrganizationId,
        now: DateTime<Utc>,
    ) -> Result<Vec<Invitation>, StoreError> {
        query("SELECT * FROM invitations WHERE organization_id = $1 AND expires_at > $2 ORDER BY created_at")
            .bind(org.to_string())
            .bind(now)
            .fetch_all(self.pool)
            .await?
            .iter()
            .map(invitation_from_row)
            .collect()
    }

    pub async fn withdraw_invitation(
        &self,
        org: OrganizationId,
        id: Uuid,
    ) -> Result<Invitation, StoreError> {
        query("DELETE FROM invitations WHERE id = $1 AND organization_id = $2 RETURNING *")
            .bind(id.to_string())
            .bind(org.to_string())
            .fetch_optional(self.pool)
            .await?
            .ok_or(StoreError::NotFound)
            .and_then(|r| invitation_from_row(&r))
    }

    /// Accepts an invitation: the person is created with its address,
    /// organization and role, and the invitation is used up — in one
    /// transaction, so a link works once.
    pub async fn accept_invitation(
        &self,
        token_hash: &str,
        password_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<User, StoreError> {
        let mut tx = self.pool.begin().await?;
        let invitation =
            query("DELETE FROM invitations WHERE token_hash = $1 AND expires_at > $2 RETURNING *")
                .bind(token_hash)
                .bind(now)
                .fetch_optional(&mut tx)
                .await?
                .ok_or(StoreError::NotFound)
                .and_then(|r| invitation_from_row(&r))?;
        let id = Uuid::now_v7();
        query(
            "INSERT INTO users (id, email, password_hash, organization_id, role, created_at)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(id.to_string())
        .bind(invitation.email.as_str())
        .bind(password_hash)
        .bind(invitation.organization_id.to_string())
        .bind(invitation.role.slug())
        .bind(now)
        .execute(&mut tx)
        .await
        .map_err(StoreError::unique("user e-mail"))?;
        let user = user_in(&mut tx, UserId(id)).await?;
        tx.commit().await?;
        Ok(user)
    }

    /// Records a password reset link, unless `limit` were made for the
    /// person in the hour before (one statement: the count and the insert
    /// go together); returns whether it was recorded.
    pub async fn create_reset(
        &self,
        user: UserId,
        token_hash: &str,
        now: DateTime<Utc>,
        valid: Duration,
        limit: u64,
    ) -> Result<bool, StoreError> {
        let done = query(
            "INSERT INTO password_resets (token_hash, user_id, created_at, expires_at)
             SELECT $1, $2, $3, $4
             WHERE (SELECT COUNT(*) FROM password_resets WHERE user_id = $2 AND created_at > $5) < $6",
        )
        .bind(token_hash)
        .bind(user.to_string())
        .bind(now)
        .bind(now + valid)
        .bind(now - Duration::hours(1))
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .execute(self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// The person an unexpired reset link is for.
    pub async fn reset_user(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<User>, StoreError> {
        query(format!(
            "SELECT {USER_COLUMNS} FROM password_resets r JOIN users u ON u.id = r.user_id
             WHERE r.token_hash = $1 AND r.expires_at > $2"
        ))
        .bind(token_hash)
        .bind(now)
        .fetch_optional(self.pool)
        .await?
        .map(|r| user_from_row(&r))
        .transpose()
    }

    pub async fn notify_mode(&self, user: UserId) -> Result<NotifyMode, StoreError> {
        let mode: String = query("SELECT notify FROM users WHERE id = $1")
            .bind(user.to_string())
            .fetch_optional(self.pool)
            .await?
            .ok_or(StoreError::NotFound)?
            .col("notify")?;
        Ok(NotifyMode::parse(&mode).unwrap_or(NotifyMode::Immediate))
    }

    pub async fn set_notify_mode(&self, user: UserId, mode: NotifyMode) -> Result<(), StoreError> {
        query("UPDATE users SET notify = $1 WHERE id = $2")
            .bind(mode.slug())
            .bind(user.to_string())
            .execute(self.pool)
            .await?;
        Ok(())
    }

    /// The token of the person's unsubscribe links, made on first use.
    pub async fn unsubscribe_token(&self, user: UserId, fresh: &str) -> Result<String, StoreError> {
        query(
            "UPDATE users SET unsubscribe_token = $1 WHERE id = $2 AND unsubscribe_token IS NULL",
        )
        .bind(fresh)
        .bind(user.to_string())
        .execute(self.pool)
        .await?;
        query("SELECT unsubscribe_token FROM users WHERE id = $1")
            .bind(user.to_string())
            .fetch_optional(self.pool)
            .await?
            .ok_or(StoreError::NotFound)?
            .col("unsubscribe_token")
    }

    /// Turns notifications off for the person whose unsubscribe token this
    /// is; `false` if there is none.
    pub async fn unsubscribe(&self, user: UserId, token: &str) -> Result<bool, StoreError> {
        let done =
            query("UPDATE users SET notify = 'off' WHERE id = $1 AND unsubscribe_token = $2")
                .bind(user.to_string())
                .bind(token)
                .execute(self.pool)
                .await?;
        Ok(done.rows_affected() == 1)
    }
}

async fn user_in(tx: &mut crate::db::Tx, user: UserId) -> Result<User, StoreError> {
    query(format!(
        "SELECT {USER_COLUMNS} FROM users u WHERE u.id = $1"
    ))
    .bind(user.to_string())
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(StoreError::NotFound)
    .and_then(|r| user_from_row(&r))
}

/// An organization keeps at least one admin. The other admins' rows are
/// locked (PostgreSQL) so two admins demoting each other at once cannot
/// both pass; SQLite's transactions take the write lock at the start.
async fn ensure_other_admin(
    tx: &mut crate::db::Tx,
    user: &User,
    engine: crate::Engine,
) -> Result<(), StoreError> {
    let lock = match engine {
        crate::Engine::Postgres => "FOR UPDATE",
        crate::Engine::Sqlite => "",
    };
    let admins = query(format!(
        "SELECT id FROM users WHERE organization_id = $1 AND role = 'admin' ORDER BY id {lock}"
    ))
    .bind(user.organization_id.to_string())
    .fetch_all(&mut *tx)
    .await?;
    let others = admins
        .iter()
        .filter(|r| {
            r.col::<String>("id")
                .is_ok_and(|id| id != user.id.to_string())
        })
        .count();
    if others == 0 {
        return Err(StoreError::Conflict("the organization's last admin"));
    }
    Ok(())
}

/// Invitations a person made stop working when they lose the right to
/// make them.
async fn drop_invitations_by(tx: &mut crate::db::Tx, user: &User) -> Result<(), StoreError> {
    query("DELETE FROM invitations WHERE organization_id = $1 AND invited_by = $2")
        .bind(user.organization_id.to_string())
        .bind(user.email.as_str())
        .execute(&mut *tx)
        .await?;
    Ok(())
}

fn invitation_from_row(r: &Row) -> Result<Invitation, StoreError> {
    let email: String = r.col("email")?;
    let role: String = r.col("role")?;
    Ok(Invitation {
        id: uuid_column(r, "id")?,
        email: Email::parse(&email).map_err(|_| StoreError::Corrupt(format!("email {email:?}")))?,
        organization_id: OrganizationId(uuid_column(r, "organization_id")?),
        role: Role::parse(&role).map_err(|_| StoreError::Corrupt(format!("role {role:?}")))?,
        invited_by: r.col("invited_by")?,
        created_at: r.col("created_at")?,
        expires_at: r.col("expires_at")?,
    })
}
