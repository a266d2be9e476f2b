//! Where users, browser sessions and API tokens are stored. Secrets never
//! reach this module: the caller passes password hashes and SHA-256 digests
//! of session cookies and tokens.

use crate::db::{query, Pool, Row};
use allmende_domain::{Email, OrganizationId, Role};
use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use crate::{uuid_column, StoreError};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct UserId(pub Uuid);

impl std::fmt::Display for UserId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct User {
    pub id: UserId,
    pub email: Email,
    pub organization_id: OrganizationId,
    pub role: Role,
    pub created_at: DateTime<Utc>,
}

/// An API token as listed to its owner; the secret itself is never stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ApiTokenInfo {
    pub id: Uuid,
    pub label: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
}

pub struct Accounts<'a> {
    pool: &'a Pool,
}

pub(crate) const USER_COLUMNS: &str = "u.id, u.email, u.organization_id, u.role, u.created_at";

impl<'a> Accounts<'a> {
    pub(crate) fn new(pool: &'a Pool) -> Self {
        Self { pool }
    }

    pub async fn create_user(
        &self,
        email: &Email,
        password_hash: &str,
        organization_id: OrganizationId,
        role: Role,
        now: DateTime<Utc>,
    ) -> Result<User, StoreError> {
        let id = Uuid::now_v7();
        query(
            "INSERT INTO users (id, email, password_hash, organization_id, role, created_at)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(id.to_string())
        .bind(email.as_str())
        .bind(password_hash)
        .bind(organization_id.to_string())
        .bind(role.slug())
        .bind(now)
        .execute(self.pool)
        .await
        .map_err(StoreError::unique("user e-mail"))?;
        self.user(UserId(id)).await
    }

    pub async fn user(&self, id: UserId) -> Result<User, StoreError> {
        query(format!(
            "SELECT {USER_COLUMNS} FROM users u WHERE u.id = $1"
        ))
        .bind(id.to_string())
        .fetch_optional(self.pool)
        .await?
        .ok_or(StoreError::NotFound)
        .and_then(|r| user_from_row(&r))
    }

    /// The user and their password hash, for logging in.
    pub async fn credentials(&self, email: &Email) -> Result<Option<(User, String)>, StoreError> {
        let Some(row) = query(format!(
            "SELECT {USER_COLUMNS}, u.password_hash FROM users u WHERE u.email = $1"
        ))
        .bind(email.as_str())
        .fetch_optional(self.pool)
        .await?
        else {
            return Ok(None);
        };
        Ok(Some((user_from_row(&row)?, row.col("password_hash")?)))
    }

    /// Counts one more sign-in attempt under `key` as failed, before its
    /// password is checked, and returns the failures now in the window (the
    /// window restarts when it began before `window_start`). One statement
    /// reads and raises the counter, so parallel attempts each see a
    /// different count and no more than the limit get past it.
    pub async fn count_login_attempt(
        &self,
        key: &str,
        now: DateTime<Utc>,
        window_start: DateTime<Utc>,
    ) -> Result<i64, StoreError> {
        query(
            "INSERT INTO login_attempts (key, window_start, failures) VALUES ($1, $2, 1) \
             ON CONFLICT (key) DO UPDATE SET \
               failures = CASE WHEN login_attempts.window_start < $3 THEN 1 \
                               ELSE login_attempts.failures + 1 END, \
               window_start = CASE WHEN login_attempts.window_start < $3 THEN $2 \
                                   ELSE login_attempts.window_start END \
             RETURNING failures",
        )
        .bind(key)
        .bind(now)
        .bind(window_start)
        .scalar(self.pool)
        .await
    }

    /// Takes back an attempt counted by [`count_login_attempt`](Self::count_login_attempt)
    /// that turned out right (or was never checked); `forget` drops the
    /// counter altogether (a successful login clears its address).
    pub async fn uncount_login_attempt(&self, key: &str, forget: bool) -> Result<(), StoreError> {
        let sql = if forget {
            "DELETE FROM login_attempts WHERE key = $1"
        } else {
            "UPDATE login_attempts SET failures = failures - 1 WHERE key = $1 AND failures > 0"
        };
        query(sql).bind(key).execute(self.pool).await?;
        Ok(())
    }

    /// Drops counters whose window began before `before`.
    pub async fn purge_login_attempts(&self, before: DateTime<Utc>) -> Result<u64, StoreError> {
        Ok(query("DELETE FROM login_attempts WHERE window_start < $1")
            .bind(before)
            .execute(self.pool)
            .await?
            .rows_affected())
    }

    /// The confirmed TOTP secret (base32) of a user, if the second factor
    /// is on.
    pub async fn totp_secret(&self, user: UserId) -> Result<Option<String>, StoreError> {
        query("SELECT totp_secret FROM users WHERE id = $1")
            .bind(user.0.to_string())
            .optional_scalar::<Option<String>>(self.pool)
            .await
            .map(Option::flatten)
    }

    /// A secret shown for setting up, not yet confirmed with a code.
    pub async fn totp_pending(&self, user: UserId) -> Result<Option<String>, StoreError> {
        query("SELECT totp_pending FROM users WHERE id = $1")
            .bind(user.0.to_string())
            .optional_scalar::<Option<String>>(self.pool)
            .await
            .map(Option::flatten)
    }

    pub async fn set_totp_pending(
        &self,
        user: UserId,
        secret: Option<&str>,
    ) -> Result<(), StoreError> {
        query("UPDATE users SET totp_pending = $2 WHERE id = $1")
            .bind(user.0.to_string())
            .bind(secret)
            .execute(self.pool)
            .await?;
        Ok(())
    }

    /// Turns the second factor on with `secret` (confirmed by a code of
    /// time step `step`, which is thereby used), or off (`None`).
    pub async fn set_totp(
        &self,
        user: UserId,
        secret: Option<&str>,
        step: Option<i64>,
    ) -> Result<(), StoreError> {
        query("UPDATE users SET totp_secret = $2, totp_pending = NULL, totp_last_step = $3 WHERE id = $1")
            .bind(user.0.to_string())
            .bind(secret)
            .bind(step)
            .execute(self.pool)
            .await?;
        Ok(())
    }

    /// Marks the code of time step `step` used, in one statement: `false`
    /// if it (or a later one) was used before, so a code works once.
    pub async fn use_totp_step(&self, user: UserId, step: i64) -> Result<bool, StoreError> {
        let done = query(
            "UPDATE users SET totp_last_step = $2
             WHERE id = $1 AND (totp_last_step IS NULL OR totp_last_step < $2)",
        )
        .bind(user.0.to_string())
        .bind(step)
        .execute(self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Records a login challenge (the digest of its token).
    pub async fn create_login_challenge(
        &self,
        token_hash: &str,
        user: UserId,
        expires_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        query("DELETE FROM login_challenges WHERE expires_at < $1")
            .bind(Utc::now())
            .execute(self.pool)
            .await?;
        query("INSERT INTO login_challenges (token_hash, user_id, expires_at) VALUES ($1, $2, $3)")
            .bind(token_hash)
            .bind(user.0.to_string())
            .bind(expires_at)
            .execute(self.pool)
            .await?;
        Ok(())
    }

    /// Takes a login challenge (it works once) and returns its user, if it
    /// exists and has not expired.
    pub async fn take_login_challenge(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<User>, StoreError> {
        let user: Option<String> = query(
            "DELETE FROM login_challenges WHERE token_hash = $1 AND expires_at > $2 RETURNING user_id",
        )
        .bind(token_hash)
        .bind(now)
        .optional_scalar(self.pool)
        .await?;
        match user {
            Some(id) => {
                let id = Uuid::parse_str(&id)
                    .map_err(|_| StoreError::Corrupt(format!("user id {id:?}")))?;
                Ok(Some(self.user(UserId(id)).await?))
            }
            None => Ok(None),
        }
    }

    pub async fn create_session(
        &self,
        token_hash: &str,
        user: UserId,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        query("INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)")
            .bind(token_hash)
            .bind(user.to_string())
            .bind(now)
            .bind(expires_at)
            .execute(self.pool)
            .await?;
        Ok(())
    }

    /// The user of an unexpired session.
    pub async fn session_user(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<User>, StoreError> {
        query(format!(
            "SELECT {USER_COLUMNS} FROM sessions s JOIN users u ON u.id = s.user_id
             WHERE s.token_hash = $1 AND s.expires_at > $2"
        ))
        .bind(token_hash)
        .bind(now)
        .fetch_optional(self.pool)
        .await?
        .map(|r| user_from_row(&r))
        .transpose()
    }

    pub async fn delete_session(&self, token_hash: &str) -> Result<(), StoreError> {
        query("DELETE FROM sessions WHERE token_hash = $1")
            .bind(token_hash)
            .execute(self.pool)
            .await?;
        Ok(())
    }

    /// Removes expired sessions; returns how many.
    pub async fn purge_sessions(&self, now: DateTime<Utc>) -> Result<u64, StoreError> {
        Ok(query("DELETE FROM sessions WHERE expires_at <= $1")
            .bind(now)
            .execute(self.pool)
            .await?
            .rows_affected())
    }

    pub async fn create_token(
        &self,
        user: UserId,
        token_hash: &str,
        label: &str,
        now: DateTime<Utc>,
    ) -> Result<ApiTokenInfo, StoreError> {
        let id = Uuid::now_v7();
        query(
            "INSERT INTO api_tokens (id, user_id, token_hash, label, created_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(id.to_string())
        .bind(user.to_string())
        .bind(token_hash)
        .bind(label)
        .bind(now)
        .execute(self.pool)
        .await
        .map_err(StoreError::unique("API token"))?;
        Ok(ApiTokenInfo {
            id,
            label: label.to_owned(),
            created_at: now,
            last_used_at: None,
        })
    }

    /// The user a token belongs to; records when it was last used.
    pub async fn token_user(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<User>, StoreError> {
        let Some(row) = query(format!(
            "SELECT {USER_COLUMNS}, t.last_used_at FROM api_tokens t JOIN users u ON u.id = t.user_id
             WHERE t.token_hash = $1"
        ))
        .bind(token_hash)
        .fetch_optional(self.pool)
        .await?
        else {
            return Ok(None);
        };
        let user = user_from_row(&row)?;
        // Last use to the minute: a read with a token writes at most once
        // a minute (every write takes SQLite's one write lock).
        let last_used: Option<DateTime<Utc>> = row.col("last_used_at")?;
        if last_used.is_none_or(|at| now - at >= chrono::Duration::minutes(1)) {
            query("UPDATE api_tokens SET last_used_at = $1 WHERE token_hash = $2")
                .bind(now)
                .bind(token_hash)
                .execute(self.pool)
                .await?;
        }
        Ok(Some(user))
    }

    pub async fn tokens_of(&self, user: UserId) -> Result<Vec<ApiTokenInfo>, StoreError> {
        let rows = query(
            "SELECT id, label, created_at, last_used_at FROM api_tokens WHERE user_id = $1 ORDER BY created_at DESC",
        )
        .bind(user.to_string())
        .fetch_all(self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(ApiTokenInfo {
                    id: uuid_column(r, "id")?,
                    label: r.col("label")?,
                    created_at: r.col("created_at")?,
                    last_used_at: r.col("last_used_at")?,
                })
            })
            .collect()
    }

    /// Revokes one of the user's tokens.
    pub async fn delete_token(&self, user: UserId, token_id: Uuid) -> Result<(), StoreError> {
        let done = query("DELETE FROM api_tokens WHERE id = $1 AND user_id = $2")
            .bind(token_id.to_string())
            .bind(user.to_string())
            .execute(self.pool)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }
}

pub(crate) fn user_from_row(row: &Row) -> Result<User, StoreError> {
    let email: String = row.col("email")?;
    let role: String = row.col("role")?;
    Ok(User {
        id: UserId(uuid_column(row, "id")?),
        email: Email::parse(&email).map_err(|_| StoreError::Corrupt(format!("email {email:?}")))?,
        organization_id: OrganizationId(uuid_column(row, "organization_id")?),
        role: Role::parse(&role).map_err(|_| StoreError::Corrupt(format!("role {role:?}")))?,
        created_at: row.col("created_at")?,
    })
}
