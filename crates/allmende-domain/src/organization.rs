//! Organizations: the municipalities, districts, associations, networks and IT
//! providers that publish on a node. Each will be an ActivityPub actor.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use url::Url;

use crate::contact::{Contact, ContactInput};
use crate::error::{check_all, Problem, ValidationErrors};
use crate::ids::{Ags, Ars};
use crate::region::Bundesland;
use crate::text::{optional, optional_parsed, optional_url, required_line, NAME_MAX, SUMMARY_MAX};

crate::uuid_id!(
    /// Identifies an organization on this node.
    OrganizationId
);

crate::text::labelled_enum! {
    /// Who becomes a follower of a local organization without an admin's
    /// approval. Followers receive the organization's followers-only
    /// questions, so a follow is an admission, not a formality.
    FollowerApproval {
        Manual = "manual", "Jede Anfrage bestätigt ein Admin", "An admin approves every request";
        Trusted = "trusted", "Organisationen vertrauenswürdiger Knoten sofort, andere nach Bestätigung", "Organizations on trusted nodes at once, others after approval";
        Everyone = "everyone", "Alle sofort (dann lesen alle Folgenden die Fragen für Folgende)", "Everyone at once (then every follower reads the followers-only questions)";
    }
}

// The enum comes from `labelled_enum!`, whose variants take no attributes.
#[allow(clippy::derivable_impls)]
impl Default for FollowerApproval {
    fn default() -> Self {
        FollowerApproval::Trusted
    }
}

crate::text::labelled_enum! {
    OrganizationKind {
        Municipality = "municipality", "Kommune", "Municipality";
        District = "district", "Landkreis", "District";
        Association = "association", "Verband", "Association";
        Network = "network", "Netzwerk", "Network";
        ItProvider = "it-provider", "IT-Dienstleister", "IT provider";
        // Fediverse accounts that are not Allmende organizations (a person
        // on a Mastodon server answering a question), and bodies that fit
        // none of the kinds above.
        Other = "other", "Sonstige", "Other";
    }
}

impl OrganizationKind {
    /// Associations and networks are groups (FEP-1b12): organizations
    /// join them, and they pass their members' items on to everyone who
    /// follows them.
    pub fn is_group(self) -> bool {
        matches!(
            self,
            OrganizationKind::Association | OrganizationKind::Network
        )
    }
}

/// The short name in URLs and in `@handle@node` addresses: lowercase ASCII
/// for local organizations, so it is the same in every fediverse client.
/// Actors on other nodes carry `name@host` (their own rules for `name`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Handle(String);

impl Handle {
    pub fn parse(input: &str) -> Result<Self, Problem> {
        let s = input.trim();
        let mut chars = s.chars();
        let first_ok = chars
            .next()
            .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
        let rest_ok =
            chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
        // `instance` is the node's own actor.
        if !first_ok || !rest_ok || s.len() > 64 || s == "instance" {
            return Err(Problem::Handle);
        }
        Ok(Self(s.to_owned()))
    }

    /// The handle of an actor on another node: `name@host`, where `name`
    /// follows the fediverse's usual username rules and `host` may carry a
    /// port.
    pub fn remote(name: &str, host: &str) -> Result<Self, Problem> {
        let name_ok = !name.is_empty()
            && name.len() <= 64
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
        let host_ok = !host.is_empty()
            && host.len() <= 253
            && host
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | ':'));
        if !name_ok || !host_ok {
            return Err(Problem::Handle);
        }
        Ok(Self(format!("{name}@{}", host.to_ascii_lowercase())))
    }

    /// Either form: a local handle or `name@host`.
    pub fn parse_any(input: &str) -> Result<Self, Problem> {
        match input.split_once('@') {
            Some((name, host)) => Self::remote(name, host),
            None => Self::parse(input),
        }
    }

    /// Whether this names an actor on another node.
    pub fn is_remote(&self) -> bool {
        self.0.contains('@')
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Handle {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        Self::parse_any(&s).map_err(|p| p.message_en())
    }
}
impl From<Handle> for String {
    fn from(v: Handle) -> String {
        v.0
    }
}
impl fmt::Display for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The validated, editable part of an organization's profile.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrganizationDraft {
    pub name: String,
    pub kind: OrganizationKind,
    pub ags: Option<Ags>,
    pub ars: Option<Ars>,
    pub bundesland: Option<Bundesland>,
    pub population: Option<u32>,
    pub website: Option<Url>,
    pub description: Option<String>,
    pub contact: Option<Contact>,
}

impl OrganizationDraft {
    /// A profile with nothing but a name and a kind (a fediverse account
    /// whose server says no more).
    pub fn named(name: impl Into<String>, kind: OrganizationKind) -> Self {
        Self {
            name: name.into(),
            kind,
            ags: None,
            ars: None,
            bundesland: None,
            population: None,
            website: None,
            description: None,
            contact: None,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Organization {
    pub id: OrganizationId,
    pub handle: Handle,
    #[serde(flatten)]
    pub profile: OrganizationDraft,
    /// Where an organization from another node lives; `None` for this
    /// node's own.
    pub origin: Option<Origin>,
    /// The actor ids it had before it moved here (`alsoKnownAs`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub also_known_as: Vec<Url>,
    /// Where it moved to (`movedTo`): its new home's actor id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub moved_to: Option<Url>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Organization {
    pub fn is_local(&self) -> bool {
        self.origin.is_none()
    }
}

/// The home of an organization (or fediverse account) on another node.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Origin {
    /// Its ActivityPub actor id.
    pub actor_id: Url,
    /// Its page for people, where the home node has one.
    pub profile_url: Option<Url>,
}

/// Raw profile input from a form, the API or the CLI.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrganizationInput {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub kind: Option<String>,
    #[serde(default)]
    pub ags: Option<String>,
    #[serde(default)]
    pub ars: Option<String>,
    #[serde(default)]
    pub bundesland: Option<String>,
    #[serde(default)]
    pub population: Option<u32>,
    #[serde(default)]
    pub website: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub contact: Option<ContactInput>,
}

impl OrganizationInput {
    /// Checks every field. The Bundesland follows from the AGS or ARS when
    /// not given, and must agree with them when it is.
    pub fn validate(&self) -> Result<OrganizationDraft, ValidationErrors> {
        check_all! {
            name = required_line("name", self.name.as_deref(), NAME_MAX);
            kind = optional_parsed("kind", self.kind.as_deref(), OrganizationKind::parse)
                .and_then(|k| k.ok_or_else(|| Problem::Required.at("kind")));
            ags = optional_parsed("ags", self.ags.as_deref(), Ags::parse);
            ars = optional_parsed("ars", self.ars.as_deref(), Ars::parse);
            given_land = optional_parsed("bundesland", self.bundesland.as_deref(), Bundesland::parse);
            website = optional_url("website", self.website.as_deref());
            description = optional("description", self.description.as_deref(), SUMMARY_MAX);
            contact = self.contact.as_ref().map_or(Ok(None), |c| c.validate("contact"));
        }
        if let (Some(ags), Some(ars)) = (&ags, &ars) {
            if ars.ags() != *ags {
                return Err(Problem::Ars.at("ars").into());
            }
        }
        let derived = ags.as_ref().map(Ags::land).or(ars.as_ref().map(Ars::land));
        let bundesland = match given_land {
            Some(given) if derived.is_some_and(|d| d != given) => {
                return Err(Problem::LandMismatch.at("bundesland").into())
            }
            Some(given) => Some(given),
            None => derived,
        };
        Ok(OrganizationDraft {
            name,
            kind,
            ags,
            ars,
            bundesland,
            population: self.population,
            website,
            description,
            contact,
        })
    }
}

impl From<&OrganizationDraft> for OrganizationInput {
    fn from(d: &OrganizationDraft) -> Self {
        Self {
            name: Some(d.name.clone()),
            kind: Some(d.kind.slug().into()),
            ags: d.ags.as_ref().map(|v| v.to_string()),
            ars: d.ars.as_ref().map(|v| v.to_string()),
            bundesland: d.bundesland.map(|v| v.slug().into()),
            population: d.population,
            website: d.website.as_ref().map(|v| v.to_string()),
            description: d.description.clone(),
            contact: d.contact.as_ref().map(ContactInput::from),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> OrganizationInput {
        OrganizationInput {
            name: Some("Stadt Ulm".into()),
            kind: Some("municipality".into()),
            ags: Some("08421000".into()),
            ..Default::default()
        }
    }

    #[test]
    fn land_is_derived_from_ags() {
        let d = input().validate().unwrap();
        assert_eq!(d.bundesland, Some(Bundesland::BadenWuerttemberg));
    }

    #[test]
    fn mismatching_land_is_rejected() {
        let mut i = input();
        i.bundesland = Some("by".into());
        assert_eq!(i.validate().unwrap_err().first().field, "bundesland");
        let mut i = input();
        i.ars = Some("091620000000".into());
        assert_eq!(i.validate().unwrap_err().first().field, "ars");
    }

    #[test]
    fn invalid_fields_are_named() {
        let mut i = input();
        i.ags = Some("8421000".into());
        assert_eq!(i.validate().unwrap_err().first().field, "ags");
        let mut i = input();
        i.kind = Some("city".into());
        assert_eq!(i.validate().unwrap_err().first().field, "kind");
        let mut i = input();
        i.kind = None;
        assert_eq!(i.validate().unwrap_err().first().problem, Problem::Required);
    }

    #[test]
    fn handles() {
        assert!(Handle::parse("ulm").is_ok());
        assert!(Handle::parse("landkreis-alb-donau_2").is_ok());
        for bad in ["", "Ulm", "-ulm", "ulm!", "ülm", &"a".repeat(65)] {
            assert_eq!(Handle::parse(bad), Err(Problem::Handle), "{bad:?}");
        }
    }
}
