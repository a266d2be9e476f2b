//! Answering questions and accepting answers.

use allmende_domain::{Answer, AnswerId, AnswerInput, Question};
use allmende_store::User;

use crate::state::AppState;
use chrono::Utc;
use uuid::Uuid;

use super::items::{get, viewer};
use super::{Result, UseCaseError};

/// Any signed-in user may answer a question they can read, for their own
/// organization.
/// The answer goes to the asking organization's node, if it is a remote
/// one, and to the answering organization's followers.
pub async fn answer(
    state: &AppState,
    user: &User,
    question_id: Uuid,
    input: &AnswerInput,
) -> Result<Answer> {
    let store = &state.store;
    let question: Question = get(store, viewer(Some(user)), question_id).await?;
    let draft = input.validate()?;
    let answer = store
        .answers()
        .insert(question.id, user.organization_id, &draft, Utc::now())
        .await?;
    state.federation.wake();
    Ok(answer)
}

/// Only the asking organization accepts an answer. Accepting another answer
/// replaces the earlier choice.
pub async fn accept(state: &AppState, user: &User, answer_id: Uuid) -> Result<Question> {
    let store = &state.store;
    let answer = store.answers().get(AnswerId(answer_id)).await?;
    let question: Question = store.questions().get(answer.question_id).await?;
    if question.organization_id != user.organization_id {
        return Err(UseCaseError::Forbidden);
    }
    store.answers().accept(&answer, Utc::now()).await?;
    // Accepting is an Update of the question, recorded with the change.
    state.federation.wake();
    Ok(question)
}
