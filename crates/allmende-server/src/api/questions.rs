//! Question-specific API: a question with its answers, answering, accepting.

use allmende_domain::{Answer, AnswerInput, Question};
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::Value;

use super::error::ApiError;
use super::extract::{ApiJson, ApiUser, OptionalApiUser};
use super::items::{item_json, org_ref, parse_id};
use crate::state::AppState;
use crate::usecases::{items, questions, UseCaseError};

fn answer_json(
    state: &AppState,
    answer: &Answer,
    accepted: bool,
    org: Option<&allmende_domain::Organization>,
) -> Value {
    let mut v = serde_json::to_value(answer).unwrap_or(Value::Null);
    if let Some(obj) = v.as_object_mut() {
        obj.insert("accepted".into(), accepted.into());
        obj.insert(
            "url".into(),
            state
                .config
                .url(&format!(
                    "/questions/{}#answer-{}",
                    answer.question_id, answer.id
                ))
                .into(),
        );
        if let Some(org) = org {
            obj.insert("organization".into(), org_ref(state, org));
        }
    }
    v
}

/// The question with its answers embedded.
pub async fn question_json(state: &AppState, question: &Question) -> Result<Value, ApiError> {
    let answers = state
        .store
        .answers()
        .for_question(question.id)
        .await
        .map_err(UseCaseError::from)?;
    let orgs = state
        .store
        .organizations()
        .by_ids(
            std::iter::once(question.organization_id)
                .chain(answers.iter().map(|a| a.organization_id)),
        )
        .await
        .map_err(UseCaseError::from)?;
    let org_of = |id| orgs.get(&id);
    let mut v = item_json(state, question, org_of(question.organization_id));
    v["answers"] = answers
        .iter()
        .map(|a| {
            answer_json(
                state,
                a,
                question.accepted_answer_id == Some(a.id),
                org_of(a.organization_id),
            )
        })
        .collect();
    Ok(v)
}

/// `GET /api/v1/questions/{id}`
pub async fn get(
    State(state): State<AppState>,
    OptionalApiUser(viewer): OptionalApiUser,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let q: Question =
        items::get(&state.store, items::viewer(viewer.as_ref()), parse_id(&id)?).await?;
    Ok(Json(question_json(&state, &q).await?))
}

/// `POST /api/v1/questions/{id}/answers` → 201.
pub async fn answer(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<AnswerInput>,
) -> Result<Response, ApiError> {
    let answer = questions::answer(&state, &user, parse_id(&id)?, &input).await?;
    let org = state
        .store
        .organizations()
        .get(answer.organization_id)
        .await
        .map_err(UseCaseError::from)?;
    let location = format!("/api/v1/questions/{}", answer.question_id);
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(answer_json(&state, &answer, false, Some(&org))),
    )
        .into_response())
}

/// `POST /api/v1/answers/{id}/accept` → the question with its answers.
pub async fn accept(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let q = questions::accept(&state, &user, parse_id(&id)?).await?;
    Ok(Json(question_json(&state, &q).await?))
}
