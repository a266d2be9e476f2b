//! Who may read an item: the one rule every read path applies.
//!
//! - **Public** items: everyone.
//! - **Followers-only** items (questions addressed to "Folgende
//!   Organisationen"), only signed-in users ([`Viewer::Member`]) of
//!   - the author's own organization;
//!   - any organization on this node, when the author is one of this
//!     node's organizations (on its home node every signed-in user sees
//!     such a question);
//!   - an organization that follows the author, accepted, when the author
//!     is on another node.
//!
//! Nobody else: not visitors, not scripts without a token, not other
//! servers (ActivityPub documents, outbox pages and backfill are read as
//! [`Viewer::Public`]). An answer is readable when its question is.
//!
//! The rule is one SQL condition, so single reads, lists, feeds and search
//! run the very same test; the store's read functions take a [`Viewer`]
//! and build their statements with [`readable`].

use allmende_domain::Viewer;

/// The condition under which the viewer bound to the placeholder `viewer`
/// (an organization id, or NULL for [`Viewer::Public`]) may read the item
/// row `alias` of any item table (columns `public`, `organization_id`).
pub(crate) fn readable(alias: &str, viewer: &str) -> String {
    format!(
        "({alias}.public = TRUE OR ({viewer} IS NOT NULL AND (
             {alias}.organization_id = {viewer}
             OR NOT EXISTS (SELECT 1 FROM remote_actors ra WHERE ra.organization_id = {alias}.organization_id)
             OR EXISTS (SELECT 1 FROM follows fv WHERE fv.follower_id = {viewer}
                        AND fv.target_id = {alias}.organization_id AND fv.accepted = TRUE))))"
    )
}

/// What to bind for `viewer` in [`readable`].
pub(crate) fn viewer_arg(viewer: Viewer) -> Option<String> {
    viewer.organization().map(|o| o.to_string())
}
