//! Questions (Fragen) one organization asks the others, and the answers
//! (Antworten) that come back; the asker accepts the one that helped.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::{check_all, ValidationErrors};
use crate::ids::LeikaKey;
use crate::item::{
    input_rules, item_fields, join_text, keys_text, Audience, Item, ItemFacets, ItemKind,
};
use crate::organization::OrganizationId;
use crate::text::{self, optional_parsed, required, required_line, BODY_MAX, LIST_MAX, TITLE_MAX};
use crate::themenfeld::Themenfeld;

crate::uuid_id!(QuestionId);
crate::uuid_id!(AnswerId);

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuestionDraft {
    pub title: String,
    pub body: String,
    pub audience: Audience,
    pub themenfeld: Option<Themenfeld>,
    pub leika_keys: Vec<LeikaKey>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Question {
    pub id: QuestionId,
    pub organization_id: OrganizationId,
    #[serde(flatten)]
    pub content: QuestionDraft,
    pub accepted_answer_id: Option<AnswerId>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuestionInput {
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub body: Option<String>,
    #[serde(default)]
    pub audience: Option<String>,
    #[serde(default)]
    pub themenfeld: Option<String>,
    #[serde(default)]
    pub leika_keys: Vec<String>,
}

impl QuestionInput {
    pub fn validate(&self) -> Result<QuestionDraft, ValidationErrors> {
        check_all! {
            title = required_line("title", self.title.as_deref(), TITLE_MAX);
            body = required("body", self.body.as_deref(), BODY_MAX);
            audience = optional_parsed("audience", self.audience.as_deref(), Audience::parse);
            themenfeld = optional_parsed("themenfeld", self.themenfeld.as_deref(), Themenfeld::parse);
            leika_keys = text::list("leika_keys", &self.leika_keys, LIST_MAX, LeikaKey::parse);
        }
        Ok(QuestionDraft {
            title,
            body,
            audience: audience.unwrap_or(Audience::Public),
            themenfeld,
            leika_keys,
        })
    }
}

impl From<&QuestionDraft> for QuestionInput {
    fn from(d: &QuestionDraft) -> Self {
        Self {
            title: Some(d.title.clone()),
            body: Some(d.body.clone()),
            audience: Some(d.audience.slug().into()),
            themenfeld: d.themenfeld.map(|t| t.slug().into()),
            leika_keys: d.leika_keys.iter().map(ToString::to_string).collect(),
        }
    }
}

impl Item for Question {
    const KIND: ItemKind = ItemKind::Question;
    type Draft = QuestionDraft;
    type Input = QuestionInput;

    input_rules!();
    fn from_record(r: crate::item::ItemRecord, content: QuestionDraft) -> Self {
        Question {
            id: QuestionId(r.id),
            organization_id: r.organization_id,
            content,
            accepted_answer_id: r.accepted_answer,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
    item_fields!();

    fn title(d: &QuestionDraft) -> &str {
        &d.title
    }
    fn summary(_: &QuestionDraft) -> Option<&str> {
        None
    }
    fn body(d: &QuestionDraft) -> Option<&str> {
        Some(&d.body)
    }
    fn themenfeld(d: &QuestionDraft) -> Option<Themenfeld> {
        d.themenfeld
    }
    fn audience(d: &QuestionDraft) -> Audience {
        d.audience
    }
    fn search_text(d: &QuestionDraft) -> String {
        let keys = keys_text(&d.leika_keys);
        join_text([
            Some(d.body.as_str()),
            Some(&keys),
            d.themenfeld.map(|t| t.label_de()),
        ])
    }
    fn facets(d: &QuestionDraft) -> ItemFacets {
        ItemFacets {
            services: ItemFacets::services_of(&d.leika_keys, &[]),
            ..ItemFacets::default()
        }
    }
    fn accepted_answer(&self) -> Option<AnswerId> {
        self.accepted_answer_id
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnswerDraft {
    pub body: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Answer {
    pub id: AnswerId,
    pub question_id: QuestionId,
    pub organization_id: OrganizationId,
    /// Plain text; for answers written in other fediverse software, the
    /// text of [`Answer::body_html`].
    pub body: String,
    /// Sanitised HTML of an answer that arrived from ordinary fediverse
    /// software; Allmende answers are plain text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body_html: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnswerInput {
    #[serde(default)]
    pub body: Option<String>,
}

impl AnswerInput {
    pub fn validate(&self) -> Result<AnswerDraft, ValidationErrors> {
        Ok(AnswerDraft {
            body: required("body", self.body.as_deref(), BODY_MAX)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Problem;

    #[test]
    fn question_needs_title_and_body() {
        let q = QuestionInput {
            title: Some("Wer hat die Hundesteuer digitalisiert?".into()),
            body: Some("Wir suchen Erfahrungen.".into()),
            ..Default::default()
        };
        let d = q.validate().unwrap();
        assert_eq!(d.audience, Audience::Public);
        let mut no_body = q.clone();
        no_body.body = Some(" ".into());
        assert_eq!(
            no_body.validate().unwrap_err(),
            Problem::Required.at("body").into()
        );
        let mut bad = q;
        bad.audience = Some("everyone".into());
        assert_eq!(bad.validate().unwrap_err().first().field, "audience");
    }

    #[test]
    fn every_invalid_field_is_reported_at_once() {
        let q = QuestionInput {
            audience: Some("everyone".into()),
            leika_keys: vec!["1".into()],
            ..Default::default()
        };
        let fields: Vec<String> = q
            .validate()
            .unwrap_err()
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(fields, ["title", "body", "audience", "leika_keys[0]"]);
    }

    #[test]
    fn answer_needs_body() {
        assert!(AnswerInput {
            body: Some("Ja, wir.".into())
        }
        .validate()
        .is_ok());
        assert_eq!(
            AnswerInput::default().validate().unwrap_err().first().field,
            "body"
        );
    }
}
