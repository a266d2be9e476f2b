//! Where solutions are stored.

use crate::db::Row;
use allmende_domain::{OrganizationId, Solution, SolutionDraft, SolutionId, Themenfeld};

use crate::items::{join_text, StoredItem};
use crate::search::SearchKind;
use crate::{json_column, uuid_column, StoreError};

impl StoredItem for Solution {
    const TABLE: &'static str = "solutions";
    const KIND: SearchKind = SearchKind::Solution;
    type Draft = SolutionDraft;

    fn title(draft: &SolutionDraft) -> &str {
        &draft.title
    }

    fn themenfeld(draft: &SolutionDraft) -> Option<Themenfeld> {
        draft.themenfeld
    }

    fn search_text(d: &SolutionDraft) -> String {
        let keys = d
            .leika_keys
            .iter()
            .map(|k| k.as_str())
            .collect::<Vec<_>>()
            .join(" ");
        let used_by = d.used_by.join(" ");
        join_text([
            d.summary.as_deref(),
            d.body.as_deref(),
            Some(d.kind.label_de()),
            d.licence.as_ref().map(|l| l.as_str()),
            Some(&keys),
            Some(&used_by),
            d.themenfeld.map(|t| t.label_de()),
        ])
    }

    fn from_row(row: &Row) -> Result<Self, StoreError> {
        Ok(Solution {
            id: SolutionId(uuid_column(row, "id")?),
            organization_id: OrganizationId(uuid_column(row, "organization_id")?),
            content: json_column(row, "content")?,
            created_at: row.col("created_at")?,
            updated_at: row.col("updated_at")?,
        })
    }
}
