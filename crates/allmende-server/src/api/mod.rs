//! The JSON API under `/api/v1` (documented in docs/api.md and served as
//! OpenAPI at `/api/v1/openapi.json`).

pub mod error;
pub mod extract;
pub mod follows;
pub mod items;
pub mod openapi;
pub mod organizations;
pub mod questions;

use allmende_domain::{Project, Question, Solution};
use axum::routing::{get, post};
use axum::{Json, Router};

use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/projects",
            get(items::list::<Project>).post(items::create::<Project>),
        )
        .route(
            "/projects/{id}",
            get(items::get::<Project>)
                .patch(items::patch::<Project>)
                .delete(items::delete::<Project>),
        )
        .route(
            "/questions",
            get(items::list::<Question>).post(items::create::<Question>),
        )
        .route(
            "/questions/{id}",
            get(questions::get)
                .patch(items::patch::<Question>)
                .delete(items::delete::<Question>),
        )
        .route("/questions/{id}/answers", post(questions::answer))
        .route("/answers/{id}/accept", post(questions::accept))
        .route(
            "/solutions",
            get(items::list::<Solution>).post(items::create::<Solution>),
        )
        .route(
            "/solutions/{id}",
            get(items::get::<Solution>)
                .patch(items::patch::<Solution>)
                .delete(items::delete::<Solution>),
        )
        .route("/organizations", get(organizations::list))
        .route(
            "/organizations/{handle}",
            get(organizations::get).put(organizations::update),
        )
        .route("/me", get(organizations::me))
        .route("/follows", get(follows::list).post(follows::follow))
        .route(
            "/follows/{handle}",
            axum::routing::delete(follows::unfollow),
        )
        .route("/feed", get(follows::feed))
        .route("/openapi.json", get(|| async { Json(openapi::document()) }))
        .fallback(|| async { error::ApiError::not_found() })
        .method_not_allowed_fallback(|| async {
            error::ApiError::new(
                axum::http::StatusCode::METHOD_NOT_ALLOWED,
                "method not allowed on this path",
            )
        })
}

/// Every path the router serves, for the test that keeps the OpenAPI
/// document complete.
pub const ROUTES: &[&str] = &[
    "/projects",
    "/projects/{id}",
    "/questions",
    "/questions/{id}",
    "/questions/{id}/answers",
    "/answers/{id}/accept",
    "/solutions",
    "/solutions/{id}",
    "/organizations",
    "/organizations/{handle}",
    "/me",
    "/follows",
    "/follows/{handle}",
    "/feed",
    "/openapi.json",
];

#[cfg(test)]
mod tests {
    #[test]
    fn openapi_lists_every_route() {
        let doc = super::openapi::document();
        for route in super::ROUTES {
            assert!(
                doc["paths"].get(*route).is_some(),
                "{route} missing from openapi.json"
            );
        }
        assert_eq!(doc["paths"].as_object().unwrap().len(), super::ROUTES.len());
    }
}
