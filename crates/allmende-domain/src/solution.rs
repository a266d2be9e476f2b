//! Solutions (Lösungen): reusable software, process models, tender documents,
//! forms, concepts and EfA services — what Nachnutzung is about.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use url::Url;

use crate::contact::{Contact, ContactInput};
use crate::error::{check_all, Problem, ValidationError, ValidationErrors};
use crate::ids::{LeikaKey, OzgId};
use crate::item::{
    input_rules, item_fields, join_text, keys_text, text_parts, Item, ItemFacets, ItemKind,
};
use crate::organization::OrganizationId;
use crate::spdx_licence::SpdxExpression;
use crate::text::{
    self, optional, optional_parsed, optional_url, required, required_line, Link, LinkInput,
    BODY_MAX, LIST_MAX, NAME_MAX, SUMMARY_MAX, TITLE_MAX,
};
use crate::themenfeld::Themenfeld;

crate::uuid_id!(SolutionId);

/// publiccode.yml files are small; anything bigger is not one.
pub const PUBLICCODE_MAX: usize = 64 * 1024;
pub const PARAMETERS_MAX: usize = 30;

crate::text::labelled_enum! {
    SolutionKind {
        Software = "software", "Software", "Software";
        ProcessModel = "process-model", "Prozessmodell", "Process model";
        TenderDocuments = "tender-documents", "Ausschreibungsunterlagen", "Tender documents";
        Form = "form", "Formular", "Form";
        Concept = "concept", "Konzept", "Concept";
        EfaService = "efa-service", "EfA-Leistung", "EfA service";
    }
}

crate::text::labelled_enum! {
    /// How far a solution is. The values are those of publiccode.yml's
    /// `developmentStatus`, so software entries map one to one.
    Maturity {
        Concept = "concept", "Konzept", "Concept";
        Development = "development", "In Entwicklung", "In development";
        Beta = "beta", "Pilotbetrieb", "Pilot";
        Stable = "stable", "Im Produktivbetrieb", "In production";
        Obsolete = "obsolete", "Veraltet", "Obsolete";
    }
}

/// A setting an adopting body must choose for itself: a tax rate, a fee
/// table, a responsible office.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocalParameter {
    pub name: String,
    pub description: Option<String>,
    pub example: Option<String>,
    /// Whether every adopter must set it (or may keep a default).
    #[serde(default)]
    pub required: bool,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LocalParameterInput {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub example: Option<String>,
    #[serde(default)]
    pub required: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SolutionDraft {
    pub title: String,
    pub summary: Option<String>,
    pub body: Option<String>,
    pub kind: SolutionKind,
    pub licence: Option<SpdxExpression>,
    pub maturity: Maturity,
    pub repository_url: Option<Url>,
    /// The solution's publiccode.yml as published by its maintainers,
    /// checked against the standard when it was saved.
    pub publiccode_yml: Option<String>,
    pub local_parameters: Vec<LocalParameter>,
    /// The solution this one adapts (a fork, an adapted process model):
    /// its ActivityPub id, on this node or another.
    #[serde(default)]
    pub variant_of: Option<Url>,
    pub themenfeld: Option<Themenfeld>,
    pub leika_keys: Vec<LeikaKey>,
    pub ozg_ids: Vec<OzgId>,
    pub contact: Option<Contact>,
    pub links: Vec<Link>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Solution {
    pub id: SolutionId,
    pub organization_id: OrganizationId,
    #[serde(flatten)]
    pub content: SolutionDraft,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SolutionInput {
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub summary: Option<String>,
    #[serde(default)]
    pub body: Option<String>,
    #[serde(default)]
    pub kind: Option<String>,
    #[serde(default)]
    pub licence: Option<String>,
    #[serde(default)]
    pub maturity: Option<String>,
    #[serde(default)]
    pub repository_url: Option<String>,
    #[serde(default)]
    pub publiccode_yml: Option<String>,
    /// Replaced by adoption declarations: still accepted from older
    /// clients and nodes, and ignored.
    #[serde(default)]
    pub used_by: Vec<String>,
    #[serde(default)]
    pub local_parameters: Vec<LocalParameterInput>,
    /// The address of the solution this one adapts.
    #[serde(default)]
    pub variant_of: Option<String>,
    #[serde(default)]
    pub themenfeld: Option<String>,
    #[serde(default)]
    pub leika_keys: Vec<String>,
    #[serde(default)]
    pub ozg_ids: Vec<u32>,
    #[serde(default)]
    pub contact: Option<ContactInput>,
    #[serde(default)]
    pub links: Vec<LinkInput>,
}

impl SolutionInput {
    pub fn validate(&self) -> Result<SolutionDraft, ValidationErrors> {
        check_all! {
            title = required_line("title", self.title.as_deref(), TITLE_MAX);
            summary = optional("summary", self.summary.as_deref(), SUMMARY_MAX);
            body = optional("body", self.body.as_deref(), BODY_MAX);
            kind = optional_parsed("kind", self.kind.as_deref(), SolutionKind::parse)
                .and_then(|k| k.ok_or_else(|| Problem::Required.at("kind")));
            licence = optional_parsed("licence", self.licence.as_deref(), SpdxExpression::parse);
            maturity = optional_parsed("maturity", self.maturity.as_deref(), Maturity::parse);
            repository_url = optional_url("repository_url", self.repository_url.as_deref());
            publiccode_yml = self.publiccode();
            local_parameters = self.local_parameters();
            variant_of = optional_url("variant_of", self.variant_of.as_deref());
            themenfeld = optional_parsed("themenfeld", self.themenfeld.as_deref(), Themenfeld::parse);
            leika_keys = text::list("leika_keys", &self.leika_keys, LIST_MAX, LeikaKey::parse);
            ozg_ids = text::ozg_ids("ozg_ids", &self.ozg_ids);
            contact = self.contact.as_ref().map_or(Ok(None), |c| c.validate("contact"));
            links = text::links("links", &self.links);
        }
        Ok(SolutionDraft {
            title,
            summary,
            body,
            kind,
            licence,
            maturity: maturity.unwrap_or(Maturity::Concept),
            repository_url,
            publiccode_yml,
            local_parameters,
            variant_of,
            themenfeld,
            leika_keys,
            ozg_ids,
            contact,
            links,
        })
    }

    fn local_parameters(&self) -> Result<Vec<LocalParameter>, ValidationError> {
        if self.local_parameters.len() > PARAMETERS_MAX {
            return Err(Problem::TooMany {
                max: PARAMETERS_MAX,
            }
            .at("local_parameters"));
        }
        // Rows with nothing in them (an empty row of a form) are left out;
        // the others keep their index in messages.
        self.local_parameters
            .iter()
            .enumerate()
            .filter(|(_, p)| {
                [&p.name, &p.description, &p.example]
                    .iter()
                    .any(|x| x.as_deref().is_some_and(|t| !t.trim().is_empty()))
            })
            .map(|(i, p)| {
                let f = |name: &str| format!("local_parameters[{i}].{name}");
                Ok(LocalParameter {
                    name: required(&f("name"), p.name.as_deref(), NAME_MAX)?,
                    description: optional(
                        &f("description"),
                        p.description.as_deref(),
                        SUMMARY_MAX,
                    )?,
                    example: optional(&f("example"), p.example.as_deref(), NAME_MAX)?,
                    required: p.required,
                })
            })
            .collect()
    }

    /// The publiccode.yml, checked against the standard: each error names
    /// the key in the file.
    fn publiccode(&self) -> Result<Option<String>, ValidationErrors> {
        let Some(text) = optional(
            "publiccode_yml",
            self.publiccode_yml.as_deref(),
            PUBLICCODE_MAX,
        )?
        else {
            return Ok(None);
        };
        crate::publiccode::validate("publiccode_yml", &text)?;
        Ok(Some(text))
    }
}

impl From<&SolutionDraft> for SolutionInput {
    fn from(d: &SolutionDraft) -> Self {
        Self {
            title: Some(d.title.clone()),
            summary: d.summary.clone(),
            body: d.body.clone(),
            kind: Some(d.kind.slug().into()),
            licence: d.licence.as_ref().map(ToString::to_string),
            maturity: Some(d.maturity.slug().into()),
            repository_url: d.repository_url.as_ref().map(ToString::to_string),
            publiccode_yml: d.publiccode_yml.clone(),
            used_by: Vec::new(),
            variant_of: d.variant_of.as_ref().map(ToString::to_string),
            local_parameters: d
                .local_parameters
                .iter()
                .map(|p| LocalParameterInput {
                    name: Some(p.name.clone()),
                    description: p.description.clone(),
                    example: p.example.clone(),
                    required: p.required,
                })
                .collect(),
            themenfeld: d.themenfeld.map(|t| t.slug().into()),
            leika_keys: d.leika_keys.iter().map(ToString::to_string).collect(),
            ozg_ids: d.ozg_ids.iter().map(|o| o.get()).collect(),
            contact: d.contact.as_ref().map(ContactInput::from),
            links: d
                .links
                .iter()
                .map(|l| LinkInput {
                    title: Some(l.title.clone()),
                    url: l.url.to_string(),
                })
                .collect(),
        }
    }
}

impl Item for Solution {
    const KIND: ItemKind = ItemKind::Solution;
    type Draft = SolutionDraft;
    type Input = SolutionInput;

    input_rules!();
    item_fields!(SolutionId);
    text_parts!();

    fn search_text(d: &SolutionDraft) -> String {
        let keys = keys_text(&d.leika_keys);
        join_text([
            d.summary.as_deref(),
            d.body.as_deref(),
            Some(d.kind.label_de()),
            d.licence.as_ref().map(|l| l.as_str()),
            Some(&keys),
            d.themenfeld.map(|t| t.label_de()),
        ])
    }
    fn original_mut(input: &mut SolutionInput) -> Option<&mut Option<String>> {
        Some(&mut input.variant_of)
    }
    fn facets(d: &SolutionDraft) -> ItemFacets {
        ItemFacets {
            status: Some(d.maturity.slug()),
            licence: d.licence.as_ref().map(|l| l.as_str().to_owned()),
            seeking_partners: false,
            services: ItemFacets::services_of(&d.leika_keys, &d.ozg_ids),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> SolutionInput {
        SolutionInput {
            title: Some("Hundesteuer-Onlineantrag".into()),
            kind: Some("software".into()),
            licence: Some("EUPL-1.2".into()),
            maturity: Some("stable".into()),
            local_parameters: vec![LocalParameterInput {
                name: Some("Steuersatz Ersthund".into()),
                example: Some("108 €".into()),
                ..Default::default()
            }],
            ..Default::default()
        }
    }

    #[test]
    fn valid_solution_round_trips() {
        let d = input().validate().unwrap();
        assert_eq!(d.kind, SolutionKind::Software);
        assert_eq!(SolutionInput::from(&d).validate().unwrap(), d);
    }

    #[test]
    fn fields_are_checked() {
        let mut i = input();
        i.licence = Some("Freeware".into());
        assert_eq!(i.validate().unwrap_err().first().field, "licence");
        let mut i = input();
        i.kind = None;
        assert_eq!(i.validate().unwrap_err().first().field, "kind");
        let mut i = input();
        i.local_parameters[0].name = None;
        assert_eq!(
            i.validate().unwrap_err().first().field,
            "local_parameters[0].name"
        );
        let mut i = input();
        i.publiccode_yml = Some("x".repeat(PUBLICCODE_MAX + 1));
        assert_eq!(i.validate().unwrap_err().first().field, "publiccode_yml");
    }
}
