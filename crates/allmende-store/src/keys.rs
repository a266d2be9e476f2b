//! Where the private keys of this node's actors are stored.

use crate::db::{query, Pool};
use chrono::{DateTime, Utc};

use crate::StoreError;

/// A key pair as stored: PKCS#8 DER private key, PEM public key.
#[derive(Clone)]
pub struct StoredKey {
    pub private_key_der: Vec<u8>,
    pub public_key_pem: String,
}

impl std::fmt::Debug for StoredKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the private key.
        f.debug_struct("StoredKey").finish_non_exhaustive()
    }
}

pub struct Keys<'a> {
    pool: &'a Pool,
}

impl<'a> Keys<'a> {
    pub(crate) fn new(pool: &'a Pool) -> Self {
        Self { pool }
    }

    /// Every stored key with its owner, for `allmende doctor`'s check that
    /// each one can still be read.
    pub async fn all(&self) -> Result<Vec<(String, StoredKey)>, StoreError> {
        query("SELECT owner, private_key, public_key_pem FROM signing_keys ORDER BY owner")
            .fetch_all(self.pool)
            .await?
            .iter()
            .map(|r| {
                Ok((
                    r.col("owner")?,
                    StoredKey {
                        private_key_der: r.col("private_key")?,
                        public_key_pem: r.col("public_key_pem")?,
                    },
                ))
            })
            .collect()
    }

    /// The key of `owner` (an organization id, or `instance`).
    pub async fn get(&self, owner: &str) -> Result<Option<StoredKey>, StoreError> {
        let row = query("SELECT private_key, public_key_pem FROM signing_keys WHERE owner = $1")
            .bind(owner)
            .fetch_optional(self.pool)
            .await?;
        row.map(|r| {
            Ok(StoredKey {
                private_key_der: r.col("private_key")?,
                public_key_pem: r.col("public_key_pem")?,
            })
        })
        .transpose()
    }

    /// Stores `key` for `owner` unless it already has one, and returns the
    /// key that is stored: two processes generating a key at once agree on
    /// the first.
    pub async fn insert_if_missing(
        &self,
        owner: &str,
        key: &StoredKey,
        now: DateTime<Utc>,
    ) -> Result<StoredKey, StoreError> {
        query(
            "INSERT INTO signing_keys (owner, private_key, public_key_pem, created_at)
             VALUES ($1, $2, $3, $4) ON CONFLICT (owner) DO NOTHING",
        )
        .bind(owner)
        .bind(key.private_key_der.as_slice())
        .bind(&key.public_key_pem)
        .bind(now)
        .execute(self.pool)
        .await?;
        self.get(owner).await?.ok_or(StoreError::NotFound)
    }
}
