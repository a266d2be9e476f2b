//! Adoptions (Nachnutzungen): an organization's declaration that it uses a
//! solution — in a pilot or in production, since when, which version, the
//! values it chose for the solution's local parameters where it wants to
//! share them, and a note. Only the organization itself declares it, from
//! its own node; other nodes keep what they could verify.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::error::{check_all, Problem, ValidationError, ValidationErrors};
use crate::organization::OrganizationId;
use crate::solution::PARAMETERS_MAX;
use crate::text::{optional, optional_date, optional_parsed, required_line, NAME_MAX, SUMMARY_MAX};

crate::uuid_id!(AdoptionId);

crate::text::labelled_enum! {
    /// How far the adopter is.
    AdoptionStage {
        Pilot = "pilot", "Pilotbetrieb", "Pilot";
        Production = "production", "Produktivbetrieb", "In production";
    }
}

/// The value an adopter chose for one local parameter.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParameterValue {
    pub name: String,
    pub value: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParameterValueInput {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub value: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdoptionDraft {
    pub stage: AdoptionStage,
    pub since: Option<NaiveDate>,
    pub version: Option<String>,
    pub parameters: Vec<ParameterValue>,
    pub note: Option<String>,
}

/// An adoption as forms, the API and other nodes send it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdoptionInput {
    #[serde(default)]
    pub stage: Option<String>,
    #[serde(default)]
    pub since: Option<String>,
    #[serde(default)]
    pub version: Option<String>,
    #[serde(default)]
    pub parameters: Vec<ParameterValueInput>,
    #[serde(default)]
    pub note: Option<String>,
}

impl AdoptionInput {
    pub fn validate(&self) -> Result<AdoptionDraft, ValidationErrors> {
        check_all! {
            stage = optional_parsed("stage", self.stage.as_deref(), AdoptionStage::parse)
                .and_then(|s| s.ok_or_else(|| Problem::Required.at("stage")));
            since = optional_date("since", self.since.as_deref());
            version = optional("version", self.version.as_deref(), NAME_MAX);
            parameters = self.parameters();
            note = optional("note", self.note.as_deref(), SUMMARY_MAX);
        }
        Ok(AdoptionDraft {
            stage,
            since,
            version,
            parameters,
            note,
        })
    }

    /// Rows with neither name nor value are left out (an empty form row).
    fn parameters(&self) -> Result<Vec<ParameterValue>, ValidationError> {
        if self.parameters.len() > PARAMETERS_MAX {
            return Err(Problem::TooMany {
                max: PARAMETERS_MAX,
            }
            .at("parameters"));
        }
        let mut out: Vec<ParameterValue> = Vec::new();
        for (i, p) in self.parameters.iter().enumerate() {
            let f = |name: &str| format!("parameters[{i}].{name}");
            let value = optional(&f("value"), p.value.as_deref(), NAME_MAX)?;
            let Some(value) = value else { continue };
            let name = required_line(&f("name"), p.name.as_deref(), NAME_MAX)?;
            if out.iter().any(|o| o.name == name) {
                return Err(Problem::Malformed(format!("{name:?} appears twice")).at(f("name")));
            }
            out.push(ParameterValue { name, value });
        }
        Ok(out)
    }
}

impl From<&AdoptionDraft> for AdoptionInput {
    fn from(d: &AdoptionDraft) -> Self {
        Self {
            stage: Some(d.stage.slug().into()),
            since: d.since.map(|s| s.format("%Y-%m-%d").to_string()),
            version: d.version.clone(),
            parameters: d
                .parameters
                .iter()
                .map(|p| ParameterValueInput {
                    name: Some(p.name.clone()),
                    value: Some(p.value.clone()),
                })
                .collect(),
            note: d.note.clone(),
        }
    }
}

/// A declaration as stored: by `organization_id`, of the solution with the
/// ActivityPub id `solution`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Adoption {
    pub id: AdoptionId,
    pub organization_id: OrganizationId,
    pub solution: String,
    /// Its id at home, for a declaration made on another node.
    pub ap_id: Option<String>,
    #[serde(flatten)]
    pub content: AdoptionDraft,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adoption_is_checked_and_round_trips() {
        let input = AdoptionInput {
            stage: Some("production".into()),
            since: Some("2026-01-15".into()),
            version: Some("2.3".into()),
            parameters: vec![
                ParameterValueInput {
                    name: Some("Steuersatz Ersthund".into()),
                    value: Some("96 €".into()),
                },
                ParameterValueInput::default(),
            ],
            note: None,
        };
        let draft = input.validate().unwrap();
        assert_eq!(draft.parameters.len(), 1, "the empty row is left out");
        assert_eq!(AdoptionInput::from(&draft).validate().unwrap(), draft);

        let mut bad = input.clone();
        bad.stage = Some("someday".into());
        bad.since = Some("15.01.2026".into());
        let errors: Vec<_> = bad
            .validate()
            .unwrap_err()
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(errors, ["stage", "since"]);
        let mut unnamed = input;
        unnamed.parameters[0].name = None;
        assert_eq!(
            unnamed.validate().unwrap_err().first().field,
            "parameters[0].name"
        );
    }
}
