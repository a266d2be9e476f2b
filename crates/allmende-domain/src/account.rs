//! Accounts: people log in with an e-mail address and act for one
//! organization in a role.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::Problem;

crate::text::labelled_enum! {
    /// What a user may do for their organization. Editors publish and edit
    /// items; admins also edit the organization's profile.
    Role {
        Admin = "admin", "Administration", "Administrator";
        Editor = "editor", "Redaktion", "Editor";
    }
}

/// An e-mail address, lowercased. Only the shape is checked (one `@`, a dot
/// in the domain, no spaces); whether it receives mail is not our business.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Email(String);

impl Email {
    pub fn parse(input: &str) -> Result<Self, Problem> {
        let s = input.trim().to_lowercase();
        let (local, domain) = s.split_once('@').ok_or(Problem::Email)?;
        let ok = !local.is_empty()
            && s.len() <= 254
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains('@')
            && !s
                .chars()
                .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | '"' | ','));
        if !ok {
            return Err(Problem::Email);
        }
        Ok(Self(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Email {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        Self::parse(&s).map_err(|p| p.message_en())
    }
}
impl From<Email> for String {
    fn from(v: Email) -> String {
        v.0
    }
}
impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails() {
        assert_eq!(
            Email::parse(" Digital@Ulm.de ").unwrap().as_str(),
            "digital@ulm.de"
        );
        for bad in [
            "",
            "ulm.de",
            "@ulm.de",
            "a@ulm",
            "a@b@ulm.de",
            "a b@ulm.de",
            "a@.de",
            "a@de.",
        ] {
            assert_eq!(Email::parse(bad), Err(Problem::Email), "{bad:?}");
        }
    }

    #[test]
    fn roles() {
        assert_eq!(Role::parse("admin"), Ok(Role::Admin));
        assert!(Role::parse("root").is_err());
    }
}
