//! The Allmende node: HTML pages for people, a JSON API for scripts, accounts,
//! the use cases that validate input and store it, and the `allmende` CLI.
//!
//! Layout: `usecases/` holds what a request *does* (shared by pages and API);
//! `web/` renders pages and reads forms; `api/` speaks JSON; `auth/` knows
//! passwords, sessions, tokens and CSRF; `app.rs` wires the router and runs
//! the server with graceful shutdown; `proxy.rs` refuses requests for
//! other hosts and `metrics.rs` serves Prometheus metrics.

pub mod api;
pub mod app;
pub mod auth;
pub mod cli;
pub mod config;
pub mod demo;
pub mod doctor;
pub mod documents;
pub mod mail;
pub mod metrics;
pub mod proxy;
pub mod state;
pub mod usecases;
pub mod web;

pub use app::Application;
pub use config::Config;
pub use state::AppState;
