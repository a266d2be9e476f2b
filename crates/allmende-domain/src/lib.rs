//! Allmende's domain: the identifiers German public administration uses, the
//! items nodes exchange, and the rules that make them valid.
//!
//! Everything here is pure: no I/O, no clock (callers pass timestamps), so the
//! same rules hold for the web form, the JSON API and, later, for items that
//! arrive from other nodes. Values are parsed once at the boundary ("parse,
//! don't validate"): a value of type [`Ags`] is a valid AGS.

pub mod account;
pub mod adoption;
pub mod contact;
pub mod error;
pub mod ids;
pub mod item;
pub mod organization;
pub mod project;
pub mod publiccode;
pub mod question;
pub mod reference;
pub mod region;
pub mod solution;
pub mod spdx_licence;
pub mod text;
pub mod themenfeld;

pub use account::{Email, Role};
pub use adoption::{Adoption, AdoptionDraft, AdoptionId, AdoptionInput, AdoptionStage};
pub use contact::{Contact, ContactInput};
pub use error::{Problem, ValidationError, ValidationErrors};
pub use ids::{Ags, Ars, LeikaKey, OzgId, ServiceKey};
pub use item::{Audience, Item, ItemFacets, ItemKind, Viewer};
pub use organization::{
    FollowerApproval, Handle, Organization, OrganizationDraft, OrganizationId, OrganizationInput,
    OrganizationKind, Origin,
};
pub use project::{Project, ProjectDraft, ProjectId, ProjectInput, ProjectStatus};
pub use question::{
    Answer, AnswerDraft, AnswerId, AnswerInput, Question, QuestionDraft, QuestionId, QuestionInput,
};
pub use region::Bundesland;
pub use solution::{
    LocalParameter, Maturity, Solution, SolutionDraft, SolutionId, SolutionInput, SolutionKind,
};
pub use spdx_licence::SpdxExpression;
pub use text::Link;
pub use themenfeld::Themenfeld;

/// Declares a UUID-backed identifier type, so a project id cannot be passed
/// where a question id is expected.
macro_rules! uuid_id {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub uuid::Uuid);

        impl $name {
            /// A new time-ordered id (UUIDv7), so ids sort by creation.
            pub fn new() -> Self {
                Self(uuid::Uuid::now_v7())
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }

        impl From<$name> for uuid::Uuid {
            fn from(id: $name) -> uuid::Uuid {
                id.0
            }
        }

        impl std::str::FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                uuid::Uuid::parse_str(s).map(Self)
            }
        }
    };
}
pub(crate) use uuid_id;
