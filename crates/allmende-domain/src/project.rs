//! Projects (Vorhaben): what an organization is doing or plans to do, so that
//! others working on the same thing find it and call.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::contact::{Contact, ContactInput};
use crate::error::{check_all, Problem, ValidationErrors};
use crate::ids::{LeikaKey, OzgId};
use crate::item::{
    input_rules, item_fields, join_text, keys_text, text_parts, Item, ItemFacets, ItemKind,
};
use crate::organization::OrganizationId;
use crate::text::{
    self, optional, optional_date, optional_parsed, required_line, Link, LinkInput, BODY_MAX,
    LIST_MAX, NAME_MAX, SUMMARY_MAX, TITLE_MAX,
};
use crate::themenfeld::Themenfeld;

crate::uuid_id!(ProjectId);

crate::text::labelled_enum! {
    /// Where a project stands. The usual path is idea → planned → running →
    /// live; any project may be stopped. Every change is allowed, because
    /// editors correct mistakes and stopped projects get revived.
    ProjectStatus {
        Idea = "idea", "Idee", "Idea";
        Planned = "planned", "Geplant", "Planned";
        Running = "running", "In Umsetzung", "Running";
        Live = "live", "In Betrieb", "Live";
        Stopped = "stopped", "Eingestellt", "Stopped";
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectDraft {
    pub title: String,
    pub summary: Option<String>,
    pub body: Option<String>,
    pub status: ProjectStatus,
    pub start_date: Option<NaiveDate>,
    pub end_date: Option<NaiveDate>,
    pub themenfeld: Option<Themenfeld>,
    pub leika_keys: Vec<LeikaKey>,
    pub ozg_ids: Vec<OzgId>,
    /// Other organizations taking part, by name or handle.
    pub partners: Vec<String>,
    pub funding_programme: Option<String>,
    pub seeking_partners: bool,
    pub contact: Option<Contact>,
    pub links: Vec<Link>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Project {
    pub id: ProjectId,
    pub organization_id: OrganizationId,
    #[serde(flatten)]
    pub content: ProjectDraft,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProjectInput {
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub summary: Option<String>,
    #[serde(default)]
    pub body: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub start_date: Option<String>,
    #[serde(default)]
    pub end_date: Option<String>,
    #[serde(default)]
    pub themenfeld: Option<String>,
    #[serde(default)]
    pub leika_keys: Vec<String>,
    #[serde(default)]
    pub ozg_ids: Vec<u32>,
    #[serde(default)]
    pub partners: Vec<String>,
    #[serde(default)]
    pub funding_programme: Option<String>,
    #[serde(default)]
    pub seeking_partners: Option<bool>,
    #[serde(default)]
    pub contact: Option<ContactInput>,
    #[serde(default)]
    pub links: Vec<LinkInput>,
}

impl ProjectInput {
    pub fn validate(&self) -> Result<ProjectDraft, ValidationErrors> {
        check_all! {
            title = required_line("title", self.title.as_deref(), TITLE_MAX);
            summary = optional("summary", self.summary.as_deref(), SUMMARY_MAX);
            body = optional("body", self.body.as_deref(), BODY_MAX);
            status = optional_parsed("status", self.status.as_deref(), ProjectStatus::parse);
            start_date = optional_date("start_date", self.start_date.as_deref());
            end_date = optional_date("end_date", self.end_date.as_deref());
            themenfeld = optional_parsed("themenfeld", self.themenfeld.as_deref(), Themenfeld::parse);
            leika_keys = text::list("leika_keys", &self.leika_keys, LIST_MAX, LeikaKey::parse);
            ozg_ids = text::ozg_ids("ozg_ids", &self.ozg_ids);
            partners = text::names("partners", &self.partners);
            funding_programme = optional("funding_programme", self.funding_programme.as_deref(), NAME_MAX);
            contact = self.contact.as_ref().map_or(Ok(None), |c| c.validate("contact"));
            links = text::links("links", &self.links);
        }
        if let (Some(s), Some(e)) = (start_date, end_date) {
            if e < s {
                return Err(Problem::EndBeforeStart.at("end_date").into());
            }
        }
        Ok(ProjectDraft {
            title,
            summary,
            body,
            status: status.unwrap_or(ProjectStatus::Idea),
            start_date,
            end_date,
            themenfeld,
            leika_keys,
            ozg_ids,
            partners,
            funding_programme,
            seeking_partners: self.seeking_partners.unwrap_or(false),
            contact,
            links,
        })
    }
}

impl From<&ProjectDraft> for ProjectInput {
    fn from(d: &ProjectDraft) -> Self {
        Self {
            title: Some(d.title.clone()),
            summary: d.summary.clone(),
            body: d.body.clone(),
            status: Some(d.status.slug().into()),
            start_date: d.start_date.map(|d| d.to_string()),
            end_date: d.end_date.map(|d| d.to_string()),
            themenfeld: d.themenfeld.map(|t| t.slug().into()),
            leika_keys: d.leika_keys.iter().map(ToString::to_string).collect(),
            ozg_ids: d.ozg_ids.iter().map(|o| o.get()).collect(),
            partners: d.partners.clone(),
            funding_programme: d.funding_programme.clone(),
            seeking_partners: Some(d.seeking_partners),
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

impl Item for Project {
    const KIND: ItemKind = ItemKind::Project;
    type Draft = ProjectDraft;
    type Input = ProjectInput;

    input_rules!();
    item_fields!(ProjectId);
    text_parts!();

    fn search_text(d: &ProjectDraft) -> String {
        let keys = keys_text(&d.leika_keys);
        let partners = d.partners.join(" ");
        join_text([
            d.summary.as_deref(),
            d.body.as_deref(),
            d.funding_programme.as_deref(),
            Some(&keys),
            Some(&partners),
            d.themenfeld.map(|t| t.label_de()),
        ])
    }
    fn facets(d: &ProjectDraft) -> ItemFacets {
        ItemFacets {
            status: Some(d.status.slug()),
            licence: None,
            seeking_partners: d.seeking_partners,
            services: ItemFacets::services_of(&d.leika_keys, &d.ozg_ids),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dog_tax() -> ProjectInput {
        ProjectInput {
            title: Some("Hundesteuer digital".into()),
            status: Some("running".into()),
            start_date: Some("2025-01-01".into()),
            leika_keys: vec!["99041006017000".into()],
            ozg_ids: vec![10224],
            ..Default::default()
        }
    }

    #[test]
    fn valid_project() {
        let d = dog_tax().validate().unwrap();
        assert_eq!(d.status, ProjectStatus::Running);
        assert_eq!(d.leika_keys[0].as_str(), "99041006017000");
        // Round trip through the raw input keeps everything.
        assert_eq!(ProjectInput::from(&d).validate().unwrap(), d);
    }

    #[test]
    fn status_defaults_to_idea() {
        let mut i = dog_tax();
        i.status = None;
        assert_eq!(i.validate().unwrap().status, ProjectStatus::Idea);
    }

    #[test]
    fn each_invalid_field_is_named() {
        type Change = Box<dyn Fn(&mut ProjectInput)>;
        let cases: Vec<(&str, Change)> = vec![
            ("title", Box::new(|i| i.title = None)),
            ("status", Box::new(|i| i.status = Some("done".into()))),
            (
                "end_date",
                Box::new(|i| i.end_date = Some("2024-12-31".into())),
            ),
            (
                "leika_keys[0]",
                Box::new(|i| i.leika_keys = vec!["123".into()]),
            ),
            ("ozg_ids[1]", Box::new(|i| i.ozg_ids = vec![1, 0])),
            ("themenfeld", Box::new(|i| i.themenfeld = Some("x".into()))),
            (
                "links[0].url",
                Box::new(|i| {
                    i.links = vec![LinkInput {
                        title: None,
                        url: "javascript:x".into(),
                    }]
                }),
            ),
        ];
        for (field, change) in cases {
            let mut i = dog_tax();
            change(&mut i);
            assert_eq!(i.validate().unwrap_err().first().field, field);
        }
    }

    #[test]
    fn unknown_json_fields_are_rejected() {
        let err =
            serde_json::from_str::<ProjectInput>(r#"{"title":"x","colour":"red"}"#).unwrap_err();
        assert!(err.to_string().contains("colour"));
    }
}
