//! End-to-end tests of one node: real server on port 0, real HTTP.
#![allow(clippy::unwrap_used)]

mod node {
    pub mod api;
    pub mod backup;
    pub mod branding;
    pub mod busy;
    pub mod frame;
    pub mod groups;
    pub mod operations;
    pub mod pages;
    pub mod people;
    pub mod reference;
    pub mod restart;
    pub mod reuse;
    pub mod search;
    pub mod signin;
    pub mod upgrade;
}
