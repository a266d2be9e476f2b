//! Question pages: form fields, the question with its answers, answering and
//! accepting.

use allmende_domain::{
    AnswerInput, Audience, Organization, Question, QuestionInput, ValidationError,
};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use maud::{html, Markup, PreEscaped};

use super::context::Ctx;
use super::error::PageError;
use super::fields::*;
use super::forms::{csrf_field, error_summary, lines, set, value, Field, FormErrors, FormValues};
use super::items::{org_map, owner_actions, parse_id, ItemPages};
use super::layout::{branded_page, content_block, timestamp};
use super::notice::{redirect, Notice};
use super::posted::SignedForm;
use super::ui::{badge, badge_item, Tone};
use crate::state::AppState;
use crate::usecases::{items, questions, UseCaseError};

impl ItemPages for Question {
    fn plural(ctx: &Ctx) -> &'static str {
        ctx.t("Fragen", "Questions")
    }

    fn new_title(ctx: &Ctx) -> &'static str {
        ctx.t("Neue Frage", "New question")
    }

    fn input_from_form(v: &FormValues) -> Result<QuestionInput, ValidationError> {
        Ok(QuestionInput {
            title: value(v, "title"),
            body: value(v, "body"),
            audience: value(v, "audience"),
            themenfeld: value(v, "themenfeld"),
            leika_keys: lines(v, "leika_keys"),
        })
    }

    fn form_from_input(i: &QuestionInput) -> FormValues {
        let mut v = FormValues::new();
        set(&mut v, "title", i.title.as_ref());
        set(&mut v, "body", i.body.as_ref());
        set(&mut v, "audience", i.audience.as_ref());
        shared_to_form(&mut v, i.themenfeld.as_ref(), &i.leika_keys, &[], None, &[]);
        v
    }

    fn field_label(ctx: &Ctx, field: &str) -> &'static str {
        match field {
            "body" => ctx.t("Ihre Frage", "Your question"),
            "audience" => ctx.t("Gerichtet an", "Addressed to"),
            other => shared_label(ctx, other).unwrap_or(ctx.t("Eingabe", "Input")),
        }
    }

    fn form_fields(ctx: &Ctx, v: &FormValues, e: &FormErrors) -> Markup {
        let audiences: Vec<(&str, &str)> = Audience::ALL
            .iter()
            .map(|a| (a.slug(), ctx.label(*a)))
            .collect();
        html! {
            (Field::new("title", ctx.t("Titel", "Title")).required().hint(ctx.t("Die Frage in einem Satz", "The question in one sentence")).input(ctx, "text", v, e))
            (Field::new("body", ctx.t("Ihre Frage", "Your question")).required().hint(ctx.t("Was Sie wissen möchten und warum. Formatierung mit Markdown: **fett**, *kursiv*, [Linktext](https://…), Listen mit „- “.", "What you would like to know and why. Formatting with Markdown: **bold**, *italic*, [link text](https://…), lists with “- ”.")).textarea(ctx, 8, v, e))
            (Field::new("audience", ctx.t("Gerichtet an", "Addressed to")).required().hint(ctx.t("„Folgende Organisationen“: lesen und beantworten können nur angemeldete Nutzende dieses Knotens und Organisationen, deren Folgen Ihre Organisation angenommen hat (siehe Netzwerk). Nicht öffentlich, nicht in Suchmaschinen.", "\"Followers\": only signed-in users of this node and organizations whose follow your organization has accepted (see Network) can read and answer it. Not public, not in search engines.")).select(ctx, &audiences, v, e))
            (themenfeld_field(ctx, v, e))
            (leika_field(ctx, v, e))
        }
    }

    fn badges(ctx: &Ctx, q: &Self) -> Markup {
        html! {
            @if q.accepted_answer_id.is_some() { (badge_item(Tone::Success, ctx.t("Beantwortet", "Answered"))) } @else { (badge_item(Tone::Info, ctx.t("Offen", "Open"))) }
            @if q.content.audience != Audience::Public { (badge_item(Tone::Warning, ctx.label(q.content.audience))) }
            @if let Some(t) = q.content.themenfeld { (badge_item(Tone::Neutral, ctx.label(t))) }
        }
    }

    fn detail(ctx: &Ctx, q: &Self, _org: &Organization) -> Markup {
        let c = &q.content;
        html! {
            (content_block(ctx, &c.body, 2))
            dl.facts.kern-description-list {
                div.kern-description-list-item { dt.kern-description-list-item__key { (ctx.t("Gerichtet an", "Addressed to")) } dd.kern-description-list-item__value { (ctx.label(c.audience)) } }
                (shared_facts(ctx, c.themenfeld, &c.leika_keys, &[]))
            }
        }
    }
}

fn answer_form(ctx: &Ctx, q: &Question, values: &FormValues, errors: &FormErrors) -> Markup {
    html! {
        @if ctx.signed_in.is_some() {
            h2 #answer { (ctx.t("Antworten", "Answer")) }
            (error_summary(ctx, errors))
            form.stacked method="post" action={ "/questions/" (q.id) "/answers" } novalidate {
                (csrf_field(ctx))
                (Field::new("body", ctx.t("Ihre Antwort", "Your answer")).required().hint(ctx.t(super::fields::MARKDOWN_HINT_DE, super::fields::MARKDOWN_HINT_EN)).textarea(ctx, 6, values, errors))
                button.kern-btn.kern-btn--primary type="submit" { span.kern-label { (ctx.t("Antwort veröffentlichen", "Publish answer")) } }
            }
        } @else {
            p { a href={ "/login?next=/questions/" (q.id) } { (ctx.t("Melden Sie sich an, um zu antworten.", "Log in to answer.")) } }
        }
    }
}

async fn question_page(
    ctx: &Ctx,
    state: &AppState,
    q: &Question,
    values: &FormValues,
    errors: &FormErrors,
) -> Result<Markup, PageError> {
    let answers = state
        .store
        .answers()
        .for_question(q.id)
        .await
        .map_err(PageError::internal)?;
    let orgs = org_map(
        state,
        std::iter::once(q.organization_id).chain(answers.iter().map(|a| a.organization_id)),
    )
    .await?;
    let org = orgs.get(&q.organization_id).ok_or(PageError::NotFound)?;
    let asker = ctx
        .user()
        .is_some_and(|u| u.organization_id == q.organization_id);
    let original = state
        .store
        .questions()
        .ap_id(q.id)
        .await
        .map_err(PageError::internal)?;
    let object_id = original.clone().unwrap_or_else(|| {
        state
            .federation
            .urls()
            .item(allmende_domain::ItemKind::Question, q.id.0)
    });
    let shared = super::groups::shared_in(ctx, state, &object_id).await?;
    let brand = super::branding::of(state, org).await?;
    Ok(branded_page(
        ctx,
        brand.as_ref(),
        &q.content.title,
        ctx.content_lang(),
        html! {
            p.meta {
                (super::network::org_label(org))
                " · " (ctx.t("gefragt am ", "asked ")) (timestamp(ctx, q.created_at))
                (shared)
                (super::items::original_link(ctx, original.as_deref()))
            }
            (super::ui::badge_list(Question::badges(ctx, q)))
            (owner_actions(ctx, q))
            (Question::detail(ctx, q, org))
            h2 { (answers.len()) " " (if answers.len() == 1 { ctx.t("Antwort", "answer") } else { ctx.t("Antworten", "answers") }) }
            @for a in &answers {
                @let accepted = q.accepted_answer_id == Some(a.id);
                article.answer.accepted[accepted] id={ "answer-" (a.id) } aria-label=(ctx.t("Antwort", "Answer")) {
                    p.meta {
                        @if let Some(o) = orgs.get(&a.organization_id) { (super::network::org_label(o)) }
                        " · " (timestamp(ctx, a.created_at))
                        @if accepted { " " (badge(Tone::Success, ctx.t("Akzeptierte Antwort", "Accepted answer"))) }
                    }
                    @if let Some(html) = &a.body_html {
                        // Written in other fediverse software: sanitised on
                        // arrival, and again here.
                        div.remote-html { (PreEscaped(allmende_federation::sanitize::clean_html(html))) }
                    } @else {
                        (content_block(ctx, &a.body, 3))
                    }
                    @if asker && !accepted {
                        form method="post" action={ "/answers/" (a.id) "/accept" } {
                            (csrf_field(ctx))
                            button.kern-btn.kern-btn--secondary type="submit" { span.kern-label { (ctx.t("Als hilfreichste Antwort akzeptieren", "Accept as the most helpful answer")) } }
                        }
                    }
                }
            }
            (answer_form(ctx, q, values, errors))
        },
    ))
}

/// `GET /answers/{id}`: an answer's URL (its ActivityPub id) shows the
/// answer in its question's page.
pub async fn show_answer(
    ctx: Ctx,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    // Only readers of the question may learn where the answer is.
    let answer = state
        .store
        .answers()
        .read(ctx.viewer(), allmende_domain::AnswerId(parse_id(&id)?))
        .await
        .map_err(UseCaseError::from)?;
    Ok(Redirect::to(&format!(
        "/questions/{}#answer-{}",
        answer.question_id, answer.id
    ))
    .into_response())
}

/// `GET /questions/{id}`
pub async fn show(
    ctx: Ctx,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Markup, PageError> {
    let q: Question = super::items::load_for_page(&state, &ctx, &id).await?;
    question_page(&ctx, &state, &q, &FormValues::new(), &FormErrors::default()).await
}

/// `POST /questions/{id}/answers`
pub async fn answer(
    State(state): State<AppState>,
    Path(id): Path<String>,
    SignedForm {
        ctx,
        signed_in,
        values,
    }: SignedForm,
) -> Result<Response, PageError> {
    let user = &signed_in.user;
    let question_id = parse_id(&id)?;
    let input = AnswerInput {
        body: value(&values, "body"),
    };
    match questions::answer(&state, user, question_id, &input).await {
        Ok(a) => Ok(redirect(
            &format!("/questions/{}#answer-{}", a.question_id, a.id),
            Notice::AnswerPublished,
        )),
        Err(UseCaseError::Invalid(e)) => {
            let q: Question = items::get(&state.store, ctx.viewer(), question_id).await?;
            let errors = FormErrors::from_validation(&ctx, &e, |_| {
                ctx.t("Ihre Antwort", "Your answer").to_owned()
            });
            let markup = question_page(&ctx, &state, &q, &values, &errors).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(markup.into_string())).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

/// `POST /answers/{id}/accept`
pub async fn accept(
    State(state): State<AppState>,
    Path(id): Path<String>,
    SignedForm { signed_in, .. }: SignedForm,
) -> Result<Response, PageError> {
    let q = questions::accept(&state, &signed_in.user, parse_id(&id)?).await?;
    Ok(redirect(
        &format!("/questions/{}", q.id),
        Notice::AnswerAccepted,
    ))
}
