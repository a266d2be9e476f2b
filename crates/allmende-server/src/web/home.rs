//! The start page and the search page.

use std::collections::HashMap;

use allmende_domain::{Organization, OrganizationId, Project, Question, Solution};
use allmende_store::{Facet, ListFilter};

use crate::usecases::search;
use axum::extract::State;
use maud::{html, Markup};

use super::context::Ctx;
use super::error::PageError;
use super::items::{item_list, org_map};
use super::layout::page;
use crate::state::AppState;

/// `GET /`: what is new on this node.
pub async fn home(ctx: Ctx, State(state): State<AppState>) -> Result<Markup, PageError> {
    let filter = ListFilter {
        limit: 5,
        ..ListFilter::for_viewer(ctx.viewer())
    };
    let store = &state.store;
    let projects = store
        .projects()
        .list(&filter)
        .await
        .map_err(PageError::internal)?;
    // Only questions still waiting for an answer: the section invites help.
    let mut open = search::Request {
        newest_first: true,
        page: 1,
        per_page: 5,
        ..search::Request::default()
    };
    open.filters.insert(Facet::Kind, "question".into());
    open.filters.insert(Facet::Status, "open".into());
    let questions: Vec<Question> = search::run(store, ctx.viewer(), &open)
        .await?
        .hits
        .into_iter()
        .filter_map(|hit| match hit.found {
            search::Found::Question(q) => Some(q),
            _ => None,
        })
        .collect();
    let solutions = store
        .solutions()
        .list(&filter)
        .await
        .map_err(PageError::internal)?;
    let orgs = authors(&state, &projects, &questions, &solutions).await?;
    Ok(page(
        &ctx,
        ctx.t(
            "Allmende – voneinander lernen, gemeinsam nutzen",
            "Allmende – learn from each other, reuse together",
        ),
        html! {
            p { (ctx.t(
                "Kommunen, Kreise und Verbände zeigen hier ihre Vorhaben, stellen Fragen und teilen nachnutzbare Lösungen. Niemand muss das Rad neu erfinden.",
                "Municipalities, districts and associations show their projects here, ask questions and share reusable solutions. Nobody has to reinvent the wheel."
            )) }
            (super::search::search_form(&ctx, &Default::default()))
            div.columns {
                section aria-labelledby="new-projects" {
                    h2 #new-projects { a href="/projects" { (ctx.t("Neue Vorhaben", "New projects")) } }
                    (item_list(&ctx, &projects, &orgs, true))
                }
                section aria-labelledby="new-questions" {
                    h2 #new-questions { a href="/search?type=question&status=open" { (ctx.t("Offene Fragen", "Open questions")) } }
                    (item_list(&ctx, &questions, &orgs, true))
                }
                section aria-labelledby="new-solutions" {
                    h2 #new-solutions { a href="/solutions" { (ctx.t("Lösungen zur Nachnutzung", "Solutions to reuse")) } }
                    (item_list(&ctx, &solutions, &orgs, true))
                }
            }
        },
    ))
}

/// The organizations that published what a page lists.
async fn authors(
    state: &AppState,
    projects: &[Project],
    questions: &[Question],
    solutions: &[Solution],
) -> Result<HashMap<OrganizationId, Organization>, PageError> {
    let ids = (projects.iter().map(|i| i.organization_id))
        .chain(questions.iter().map(|i| i.organization_id))
        .chain(solutions.iter().map(|i| i.organization_id));
    org_map(state, ids).await
}
