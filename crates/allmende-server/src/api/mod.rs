//! The JSON API under `/api/v1` (documented in docs/api.md and served as
//! OpenAPI at `/api/v1/openapi.json`).

pub mod adoptions;
pub mod error;
pub mod extract;
pub mod follows;
pub mod groups;
pub mod items;
pub mod openapi;
pub mod organizations;
pub mod questions;
pub mod search;

use allmende_domain::{Project, Question, Solution};
use axum::handler::Handler;
use axum::http::Method;
use axum::routing::{on, MethodFilter};
use axum::{Json, Router};

use crate::state::AppState;

/// The API's routes, registered one operation (method and path) at a time,
/// so that the list of what the router serves comes from the router
/// itself: the OpenAPI document is checked against it (see the tests
/// below) and cannot drift.
pub struct ApiRoutes {
    router: Router<AppState>,
    operations: Vec<(Method, &'static str)>,
}

impl ApiRoutes {
    fn new() -> Self {
        Self {
            router: Router::new(),
            operations: Vec::new(),
        }
    }

    fn add<H, T>(mut self, method: Method, path: &'static str, handler: H) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        let filter = MethodFilter::try_from(method.clone()).expect("a method axum routes");
        self.router = self.router.route(path, on(filter, handler));
        self.operations.push((method, path));
        self
    }

    fn get<H: Handler<T, AppState>, T: 'static>(self, path: &'static str, h: H) -> Self {
        self.add(Method::GET, path, h)
    }
    fn post<H: Handler<T, AppState>, T: 'static>(self, path: &'static str, h: H) -> Self {
        self.add(Method::POST, path, h)
    }
    fn put<H: Handler<T, AppState>, T: 'static>(self, path: &'static str, h: H) -> Self {
        self.add(Method::PUT, path, h)
    }
    fn patch<H: Handler<T, AppState>, T: 'static>(self, path: &'static str, h: H) -> Self {
        self.add(Method::PATCH, path, h)
    }
    fn delete<H: Handler<T, AppState>, T: 'static>(self, path: &'static str, h: H) -> Self {
        self.add(Method::DELETE, path, h)
    }

    /// Every operation the router serves, as (method, path) with the
    /// path in OpenAPI's `{param}` form (axum 0.8 uses the same).
    pub fn operations(&self) -> &[(Method, &'static str)] {
        &self.operations
    }
}

/// Every operation of `/api/v1`.
pub fn routes() -> ApiRoutes {
    ApiRoutes::new()
        .get("/projects", items::list::<Project>)
        .post("/projects", items::create::<Project>)
        .get("/projects/{id}", items::get::<Project>)
        .patch("/projects/{id}", items::patch::<Project>)
        .delete("/projects/{id}", items::delete::<Project>)
        .get("/questions", items::list::<Question>)
        .post("/questions", items::create::<Question>)
        .get("/questions/{id}", questions::get)
        .patch("/questions/{id}", items::patch::<Question>)
        .delete("/questions/{id}", items::delete::<Question>)
        .post("/questions/{id}/answers", questions::answer)
        .post("/answers/{id}/accept", questions::accept)
        .get("/solutions", items::list::<Solution>)
        .post("/solutions", items::create::<Solution>)
        .get("/solutions/{id}", items::get::<Solution>)
        .patch("/solutions/{id}", items::patch::<Solution>)
        .delete("/solutions/{id}", items::delete::<Solution>)
        .put("/solutions/{id}/adoption", adoptions::declare)
        .delete("/solutions/{id}/adoption", adoptions::withdraw)
        .get("/solutions/{id}/adopters", adoptions::adopters)
        .post("/publiccode/import", adoptions::import)
        .get("/catalogue", adoptions::catalogue)
        .get("/organizations", organizations::list)
        .get("/organizations/{handle}", organizations::get)
        .put("/organizations/{handle}", organizations::update)
        .get("/me", organizations::me)
        .get("/follows", follows::list)
        .post("/follows", follows::follow)
        .delete("/follows/{handle}", follows::unfollow)
        .get("/feed", follows::feed)
        .get("/groups", groups::mine)
        .get("/groups/{handle}", groups::get)
        .post("/group/removals", groups::remove)
        .post("/group/blocks", groups::block)
        .delete("/group/blocks/{handle}", groups::unblock)
        .get("/search", search::search)
        .get("/openapi.json", || async { Json(openapi::document()) })
}

pub fn router() -> Router<AppState> {
    routes()
        .router
        .fallback(|| async { error::ApiError::no_such_endpoint() })
        .method_not_allowed_fallback(|| async {
            error::ApiError::new(
                axum::http::StatusCode::METHOD_NOT_ALLOWED,
                "method not allowed on this path",
            )
        })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    /// The document describes exactly the operations the router serves.
    #[test]
    fn openapi_describes_exactly_the_routed_operations() {
        let doc = super::openapi::document();
        let documented: BTreeSet<(String, String)> = doc["paths"]
            .as_object()
            .unwrap()
            .iter()
            .flat_map(|(path, item)| {
                item.as_object()
                    .unwrap()
                    .keys()
                    .filter(|k| *k != "parameters")
                    .map(move |method| (method.to_uppercase(), path.clone()))
            })
            .collect();
        let routed: BTreeSet<(String, String)> = super::routes()
            .operations()
            .iter()
            .map(|(method, path)| (method.to_string(), (*path).to_owned()))
            .collect();
        let missing: Vec<_> = routed.difference(&documented).collect();
        let extra: Vec<_> = documented.difference(&routed).collect();
        assert!(missing.is_empty(), "routed but not documented: {missing:?}");
        assert!(extra.is_empty(), "documented but not routed: {extra:?}");
    }
}
