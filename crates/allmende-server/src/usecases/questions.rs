//! Answering questions and accepting answers.

use allmende_domain::{Answer, AnswerId, AnswerInput, Question};
use allmende_store::{Store, User};
use chrono::Utc;
use uuid::Uuid;

use super::items::get;
use super::{Result, UseCaseError};

/// Any signed-in user may answer a question they can read, for their own
/// organization.
pub async fn answer(
    store: &Store,
    user: &User,
    question_id: Uuid,
    input: &AnswerInput,
) -> Result<Answer> {
    let question: Question = get(store, Some(user), question_id).await?;
    let draft = input.validate()?;
    Ok(store
        .answers()
        .insert(question.id, user.organization_id, &draft, Utc::now())
        .await?)
}

/// Only the asking organization accepts an answer. Accepting another answer
/// replaces the earlier choice.
pub async fn accept(store: &Store, user: &User, answer_id: Uuid) -> Result<Question> {
    let answer = store.answers().get(AnswerId(answer_id)).await?;
    let question: Question = store.questions().get(answer.question_id).await?;
    if question.organization_id != user.organization_id {
        return Err(UseCaseError::Forbidden);
    }
    store.answers().accept(&answer, Utc::now()).await?;
    Ok(store.questions().get(question.id).await?)
}
