//! Multi-node tests: several real nodes on loopback federating over HTTP
//! (`localhost:PORT`), plus attacks on the inbox.
#![allow(clippy::unwrap_used)]

mod federation {
    pub mod addressing;
    pub mod adoption;
    pub mod audiences;
    pub mod discovery;
    pub mod exchange;
    pub mod groups;
    pub mod hygiene;
    pub mod identity;
    pub mod inbox;
    pub mod pages;
    pub mod policy;
    pub mod relocation;
    pub mod visibility;
}
