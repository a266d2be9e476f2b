//! Where answers to questions are stored (the questions themselves are
//! items, see `items.rs`), and which answer the asker accepted.

use crate::db::{query, Pool, Row, Tx};
use crate::outbox::{self, Announcement};
use crate::visibility::{readable, viewer_arg};
use allmende_domain::{
    Answer, AnswerDraft, AnswerId, ItemKind, OrganizationId, QuestionId, Viewer,
};
use chrono::{DateTime, Utc};

use crate::{uuid_column, StoreError};

/// An answer as it arrives from another node.
pub struct RemoteAnswer<'s> {
    pub ap_id: &'s str,
    pub body: &'s str,
    pub body_html: Option<&'s str>,
    pub published: DateTime<Utc>,
    pub updated: DateTime<Utc>,
}

/// Answers belong to a question; they are deleted with it.
pub struct Answers<'a> {
    pool: &'a Pool,
}

impl<'a> Answers<'a> {
    pub(crate) fn new(pool: &'a Pool) -> Self {
        Self { pool }
    }

    pub async fn insert(
        &self,
        question_id: QuestionId,
        organization_id: OrganizationId,
        draft: &AnswerDraft,
        now: DateTime<Utc>,
    ) -> Result<Answer, StoreError> {
        let id = AnswerId::new();
        let mut tx = self.pool.begin().await?;
        query(
            "INSERT INTO answers (id, question_id, organization_id, body, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(id.to_string())
        .bind(question_id.to_string())
        .bind(organization_id.to_string())
        .bind(&draft.body)
        .bind(now)
        .bind(now)
        .execute(&mut tx)
        .await
        .map_err(|e| match &e {
            sqlx::Error::Database(db) if db.is_foreign_key_violation() => StoreError::NotFound,
            _ => StoreError::from(e),
        })?;
        crate::search::refresh_item(&mut tx, ItemKind::Question, question_id.0).await?;
        let answered = crate::notifications::Event::Answer {
            answer: id.0,
            question: question_id.0,
        };
        crate::notifications::record(&mut tx, &answered, now).await?;
        let created = Announcement::AnswerCreated { id: id.0 };
        outbox::record(&mut tx, organization_id, &created, now).await?;
        tx.commit().await?;
        self.get(id).await
    }

    /// Stores an answer that arrived from another node.
    pub async fn insert_remote(
        &self,
        question_id: QuestionId,
        organization_id: OrganizationId,
        answer: &RemoteAnswer<'_>,
    ) -> Result<Answer, StoreError> {
        let id = AnswerId::new();
        let mut tx = self.pool.begin().await?;
        query(
            "INSERT INTO answers (id, question_id, organization_id, body, body_html, ap_id, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(id.to_string())
        .bind(question_id.to_string())
        .bind(organization_id.to_string())
        .bind(answer.body)
        .bind(answer.body_html)
        .bind(answer.ap_id)
        .bind(answer.published)
        .bind(answer.updated)
        .execute(&mut tx)
        .await
        .map_err(StoreError::unique("ap_id"))?;
        crate::search::refresh_item(&mut tx, ItemKind::Question, question_id.0).await?;
        let answered = crate::notifications::Event::Answer {
            answer: id.0,
            question: question_id.0,
        };
        crate::notifications::record(&mut tx, &answered, Utc::now()).await?;
        tx.commit().await?;
        self.get(id).await
    }

    /// Replaces the text of a remote answer.
    pub async fn update_remote(
        &self,
        id: AnswerId,
        answer: &RemoteAnswer<'_>,
    ) -> Result<Answer, StoreError> {
        let mut tx = self.pool.begin().await?;
        let question: Option<String> = query(
            "UPDATE answers SET body = $1, body_html = $2, updated_at = $3 WHERE id = $4
             RETURNING question_id",
        )
        .bind(answer.body)
        .bind(answer.body_html)
        .bind(answer.updated)
        .bind(id.to_string())
        .optional_scalar(&mut tx)
        .await?;
        refresh_question(&mut tx, question.as_deref()).await?;
        tx.commit().await?;
        self.get(id).await
    }

    pub async fn find_by_ap_id(&self, ap_id: &str) -> Result<Option<Answer>, StoreError> {
        query("SELECT * FROM answers WHERE ap_id = $1")
            .bind(ap_id)
            .fetch_optional(self.pool)
            .await?
            .map(|r| answer_from_row(&r))
            .transpose()
    }

    /// The ActivityPub id of a remote answer; `None` for local ones.
    pub async fn ap_id(&self, id: AnswerId) -> Result<Option<String>, StoreError> {
        query("SELECT ap_id FROM answers WHERE id = $1")
            .bind(id.to_string())
            .optional_scalar(self.pool)
            .await?
            .ok_or(StoreError::NotFound)
    }

    pub async fn delete(&self, id: AnswerId) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        query("UPDATE questions SET accepted_answer_id = NULL WHERE accepted_answer_id = $1")
            .bind(id.to_string())
            .execute(&mut tx)
            .await?;
        let question: Option<String> =
            query("DELETE FROM answers WHERE id = $1 RETURNING question_id")
                .bind(id.to_string())
                .optional_scalar(&mut tx)
                .await?;
        refresh_question(&mut tx, question.as_deref()).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The answer if `viewer` may read its question; `NotFound` otherwise.
    pub async fn read(&self, viewer: Viewer, id: AnswerId) -> Result<Answer, StoreError> {
        query(format!(
            "SELECT a.* FROM answers a JOIN questions q ON q.id = a.question_id
             WHERE a.id = $1 AND {}",
            readable("q", "$2")
        ))
        .bind(id.to_string())
        .bind(viewer_arg(viewer))
        .fetch_optional(self.pool)
        .await?
        .ok_or(StoreError::NotFound)
        .and_then(|r| answer_from_row(&r))
    }

    /// The answer, whoever asks (federation internals); read paths use
    /// [`Answers::read`].
    pub async fn get(&self, id: AnswerId) -> Result<Answer, StoreError> {
        query("SELECT * FROM answers WHERE id = $1")
            .bind(id.to_string())
            .fetch_optional(self.pool)
            .await?
            .ok_or(StoreError::NotFound)
            .and_then(|r| answer_from_row(&r))
    }

    /// A question's answers, oldest first, as a thread reads.
    pub async fn for_question(&self, question_id: QuestionId) -> Result<Vec<Answer>, StoreError> {
        query("SELECT * FROM answers WHERE question_id = $1 ORDER BY created_at, id")
            .bind(question_id.to_string())
            .fetch_all(self.pool)
            .await?
            .iter()
            .map(answer_from_row)
            .collect()
    }

    /// Marks `answer` as the accepted answer of its (local) question,
    /// replacing any earlier choice, and announces the changed question.
    pub async fn accept(&self, answer: &Answer, now: DateTime<Utc>) -> Result<(), StoreError> {
        self.update_accepted(answer.question_id, Some(answer.id), now, true)
            .await
    }

    /// Sets or clears the accepted answer of a remote question's copy (as
    /// its home node says).
    pub async fn set_accepted_remote(
        &self,
        question_id: QuestionId,
        answer_id: Option<AnswerId>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.update_accepted(question_id, answer_id, now, false)
            .await
    }

    async fn update_accepted(
        &self,
        question_id: QuestionId,
        answer_id: Option<AnswerId>,
        now: DateTime<Utc>,
        announce: bool,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        let done = query(
            "UPDATE questions SET accepted_answer_id = $1, updated_at = $2 WHERE id = $3
             RETURNING organization_id",
        )
        .bind(answer_id.map(|a| a.to_string()))
        .bind(now)
        .bind(question_id.to_string())
        .fetch_optional(&mut tx)
        .await?
        .ok_or(StoreError::NotFound)?;
        crate::search::refresh_item(&mut tx, ItemKind::Question, question_id.0).await?;
        if let Some(answer) = answer_id {
            let accepted = crate::notifications::Event::Accepted {
                answer: answer.0,
                question: question_id.0,
            };
            crate::notifications::record(&mut tx, &accepted, now).await?;
        }
        if announce {
            let asker = OrganizationId(uuid_column(&done, "organization_id")?);
            let updated = Announcement::ItemUpdated {
                item: ItemKind::Question,
                id: question_id.0,
            };
            outbox::record(&mut tx, asker, &updated, now).await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

/// Rewrites the search row of the question an answer belongs to: its
/// answers are part of what finds it.
async fn refresh_question(tx: &mut Tx, question_id: Option<&str>) -> Result<(), StoreError> {
    let Some(question_id) = question_id else {
        return Ok(());
    };
    let id = uuid::Uuid::parse_str(question_id)
        .map_err(|_| StoreError::Corrupt(format!("question id {question_id:?}")))?;
    crate::search::refresh_item(tx, ItemKind::Question, id).await
}

fn answer_from_row(row: &Row) -> Result<Answer, StoreError> {
    Ok(Answer {
        id: AnswerId(uuid_column(row, "id")?),
        question_id: QuestionId(uuid_column(row, "question_id")?),
        organization_id: OrganizationId(uuid_column(row, "organization_id")?),
        body: row.col("body")?,
        body_html: row.col("body_html")?,
        created_at: row.col("created_at")?,
        updated_at: row.col("updated_at")?,
    })
}
