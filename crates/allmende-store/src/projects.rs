//! Where projects are stored.

use crate::db::Row;
use allmende_domain::{OrganizationId, Project, ProjectDraft, ProjectId, Themenfeld};

use crate::items::{join_text, StoredItem};
use crate::search::SearchKind;
use crate::{json_column, uuid_column, StoreError};

impl StoredItem for Project {
    const TABLE: &'static str = "projects";
    const KIND: SearchKind = SearchKind::Project;
    type Draft = ProjectDraft;

    fn title(draft: &ProjectDraft) -> &str {
        &draft.title
    }

    fn themenfeld(draft: &ProjectDraft) -> Option<Themenfeld> {
        draft.themenfeld
    }

    fn search_text(d: &ProjectDraft) -> String {
        let keys = d
            .leika_keys
            .iter()
            .map(|k| k.as_str())
            .collect::<Vec<_>>()
            .join(" ");
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

    fn from_row(row: &Row) -> Result<Self, StoreError> {
        Ok(Project {
            id: ProjectId(uuid_column(row, "id")?),
            organization_id: OrganizationId(uuid_column(row, "organization_id")?),
            content: json_column(row, "content")?,
            created_at: row.col("created_at")?,
            updated_at: row.col("updated_at")?,
        })
    }
}
