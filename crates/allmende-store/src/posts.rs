//! Where notes and articles from followed fediverse accounts are stored that
//! are not Allmende items (a Mastodon post, say). Their HTML is sanitised
//! before it gets here.

use crate::db::{query, Pool, Row};
use allmende_domain::OrganizationId;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::StoreError;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Post {
    pub id: Uuid,
    pub ap_id: String,
    pub organization_id: OrganizationId,
    pub name: Option<String>,
    pub content_html: String,
    pub url: Option<String>,
    pub published: DateTime<Utc>,
}

pub struct Posts<'a> {
    pool: &'a Pool,
}

impl<'a> Posts<'a> {
    pub(crate) fn new(pool: &'a Pool) -> Self {
        Self { pool }
    }

    /// Stores a post, or replaces the text of the one with the same
    /// `ap_id` if it belongs to the same actor.
    pub async fn upsert(&self, post: &Post, now: DateTime<Utc>) -> Result<(), StoreError> {
        query(
            "INSERT INTO posts (id, ap_id, organization_id, name, content_html, url, published, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
             ON CONFLICT (ap_id) DO UPDATE SET name = excluded.name, content_html = excluded.content_html,
             url = excluded.url, updated_at = excluded.updated_at
             WHERE posts.organization_id = excluded.organization_id",
        )
        .bind(post.id.to_string())
        .bind(&post.ap_id)
        .bind(post.organization_id.to_string())
        .bind(&post.name)
        .bind(&post.content_html)
        .bind(&post.url)
        .bind(post.published)
        .bind(now)
        .execute(self.pool)
        .await?;
        Ok(())
    }

    /// Deletes `ap_id` if `organization_id` wrote it; `false` otherwise.
    pub async fn delete(
        &self,
        ap_id: &str,
        organization_id: OrganizationId,
    ) -> Result<bool, StoreError> {
        let done = query("DELETE FROM posts WHERE ap_id = $1 AND organization_id = $2")
            .bind(ap_id)
            .bind(organization_id.to_string())
            .execute(self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    pub async fn find_by_ap_id(&self, ap_id: &str) -> Result<Option<Post>, StoreError> {
        query("SELECT * FROM posts WHERE ap_id = $1")
            .bind(ap_id)
            .fetch_optional(self.pool)
            .await?
            .map(|r| post_from_row(&r))
            .transpose()
    }

    /// Newest posts of the accounts `follower` follows.
    pub async fn feed(
        &self,
        follower: OrganizationId,
        limit: u32,
    ) -> Result<Vec<Post>, StoreError> {
        query(
            "SELECT * FROM posts WHERE organization_id IN
             (SELECT target_id FROM follows WHERE follower_id = $1 AND accepted = TRUE)
             ORDER BY published DESC LIMIT $2",
        )
        .bind(follower.to_string())
        .bind(i64::from(limit))
        .fetch_all(self.pool)
        .await?
        .iter()
        .map(post_from_row)
        .collect()
    }
}

fn post_from_row(r: &Row) -> Result<Post, StoreError> {
    Ok(Post {
        id: crate::uuid_column(r, "id")?,
        ap_id: r.col("ap_id")?,
        organization_id: OrganizationId(crate::uuid_column(r, "organization_id")?),
        name: r.col("name")?,
        content_html: r.col("content_html")?,
        url: r.col("url")?,
        published: r.col("published")?,
    })
}
