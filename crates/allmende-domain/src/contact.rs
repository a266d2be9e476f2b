//! The person to call about an organization or an item.

use serde::{Deserialize, Serialize};

use crate::account::Email;
use crate::error::{check_all, Problem, ValidationErrors};
use crate::text::{optional, optional_parsed, NAME_MAX};

/// A contact person. At least a name is needed; e-mail and phone are optional
/// because many small municipalities publish only a central number.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    pub name: String,
    pub role: Option<String>,
    pub email: Option<Email>,
    pub phone: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContactInput {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub role: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
}

impl ContactInput {
    pub fn is_empty(&self) -> bool {
        [&self.name, &self.role, &self.email, &self.phone]
            .iter()
            .all(|v| v.as_deref().is_none_or(|s| s.trim().is_empty()))
    }

    /// `field` is the prefix for error paths (`contact`). An all-empty input
    /// means "no contact".
    pub fn validate(&self, field: &str) -> Result<Option<Contact>, ValidationErrors> {
        if self.is_empty() {
            return Ok(None);
        }
        let at = |name: &str| format!("{field}.{name}");
        check_all! {
            name = optional(&at("name"), self.name.as_deref(), NAME_MAX)
                .and_then(|n| n.ok_or_else(|| Problem::Required.at(at("name"))));
            role = optional(&at("role"), self.role.as_deref(), NAME_MAX);
            email = optional_parsed(&at("email"), self.email.as_deref(), Email::parse);
            phone = optional(&at("phone"), self.phone.as_deref(), 50).and_then(|p| match p {
                Some(p) if !p.chars().all(|c| c.is_ascii_digit() || " +-/()".contains(c)) => {
                    Err(Problem::UnknownValue { allowed: vec!["digits", "+", "-", "/", "(", ")", " "] }.at(at("phone")))
                }
                other => Ok(other),
            });
        }
        Ok(Some(Contact {
            name,
            role,
            email,
            phone,
        }))
    }
}

impl From<&Contact> for ContactInput {
    fn from(c: &Contact) -> Self {
        Self {
            name: Some(c.name.clone()),
            role: c.role.clone(),
            email: c.email.as_ref().map(|e| e.to_string()),
            phone: c.phone.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_contact_is_none_and_email_checked() {
        assert_eq!(ContactInput::default().validate("contact"), Ok(None));
        let bad = ContactInput {
            name: Some("A".into()),
            email: Some("nope".into()),
            ..Default::default()
        };
        assert_eq!(
            bad.validate("contact").unwrap_err().first().field,
            "contact.email"
        );
        let no_name = ContactInput {
            phone: Some("0731 161-0".into()),
            ..Default::default()
        };
        assert_eq!(
            no_name.validate("contact").unwrap_err().first().field,
            "contact.name"
        );
        let both = ContactInput {
            email: Some("kaputt".into()),
            phone: Some("0731 x".into()),
            ..Default::default()
        };
        let fields: Vec<String> = both
            .validate("contact")
            .unwrap_err()
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(fields, ["contact.name", "contact.email", "contact.phone"]);
        let ok = ContactInput {
            name: Some("Eva Muster".into()),
            phone: Some("+49 731 161-0".into()),
            ..Default::default()
        };
        assert!(ok.validate("contact").unwrap().is_some());
    }
}
