//! Groups: associations and networks that organizations join and that pass
//! their members' items on to everyone who follows them (FEP-1b12).
//!
//! Joining is following (`follows.rs`): a group's follower approval says
//! whether it is open or its admins approve each member. Here: which groups
//! an organization may publish to, what a group carries, and moderation by
//! the group's admins (removing an item, blocking a member), each recorded
//! in the group's moderation log.

use allmende_domain::{Organization, OrganizationId, Problem, Role};
use allmende_store::{Announcement, GroupItem, ModerationEntry, User};
use chrono::Utc;

use super::{Result, UseCaseError};
use crate::state::AppState;

/// The groups `org` is an accepted member of.
pub async fn memberships(state: &AppState, org: OrganizationId) -> Result<Vec<Organization>> {
    Ok(state
        .store
        .follows()
        .following(org)
        .await?
        .into_iter()
        .filter(|(g, accepted)| *accepted && g.profile.kind.is_group())
        .map(|(g, _)| g)
        .collect())
}

/// The groups named by `handles` that `org` may publish to: each must be a
/// group it is an accepted member of (and has not been blocked in, for a
/// group here). Unknown names are refused like non-memberships.
pub async fn publishable(
    state: &AppState,
    org: OrganizationId,
    handles: &[String],
) -> Result<Vec<OrganizationId>> {
    let mine = memberships(state, org).await?;
    let mut chosen = Vec::new();
    for handle in handles {
        let Some(group) = mine.iter().find(|g| g.handle.as_str() == handle) else {
            return Err(Problem::NotGroupMember.at("groups").into());
        };
        if group.is_local() && state.store.groups().is_blocked(group.id, org).await? {
            return Err(Problem::NotGroupMember.at("groups").into());
        }
        if !chosen.contains(&group.id) {
            chosen.push(group.id);
        }
    }
    Ok(chosen)
}

/// A group as its page and the API show it.
pub struct GroupView {
    pub group: Organization,
    /// Accepted members (for a group here) or the members this node knows
    /// of (for one elsewhere: the organizations here that joined it).
    pub members: Vec<Organization>,
    /// Waiting for approval (only for the group's own admins).
    pub pending: Vec<Organization>,
    pub items: Vec<GroupItem>,
    /// Blocked members and the moderation log (only for its admins).
    pub blocked: Vec<Organization>,
    pub log: Vec<ModerationEntry>,
}

/// The group `handle`; admin details when `viewer` administers it.
pub async fn view(state: &AppState, handle: &str, viewer: Option<&User>) -> Result<GroupView> {
    let store = &state.store;
    let group = store.organizations().by_handle(handle).await?;
    if !group.profile.kind.is_group() {
        return Err(UseCaseError::NotFound);
    }
    let admin = viewer.is_some_and(|u| u.organization_id == group.id && u.role == Role::Admin);
    let mut members = Vec::new();
    let mut pending = Vec::new();
    for (org, accepted) in store.follows().followers(group.id).await? {
        if accepted {
            members.push(org);
        } else if admin {
            pending.push(org);
        }
    }
    let items = store.groups().items(group.id, 100).await?;
    let (blocked, log) = if admin {
        let ids = store.groups().blocked(group.id).await?;
        let mut blocked: Vec<Organization> = store
            .organizations()
            .by_ids(ids)
            .await?
            .into_values()
            .collect();
        blocked.sort_by(|a, b| a.profile.name.cmp(&b.profile.name));
        (blocked, store.groups().moderation_log(group.id, 100).await?)
    } else {
        (Vec::new(), Vec::new())
    };
    Ok(GroupView {
        group,
        members,
        pending,
        items,
        blocked,
        log,
    })
}

/// The user's own organization, if it is a group they administer.
async fn administered(state: &AppState, user: &User) -> Result<Organization> {
    if user.role != Role::Admin {
        return Err(UseCaseError::Forbidden);
    }
    let group = state
        .store
        .organizations()
        .get(user.organization_id)
        .await?;
    // Only a group has members to moderate.
    if !group.profile.kind.is_group() {
        return Err(UseCaseError::Forbidden);
    }
    Ok(group)
}

/// An admin removes an item (by its ActivityPub id) from their group: the
/// group stops carrying it and announces the `Remove` to its followers.
pub async fn remove_item(state: &AppState, user: &User, object: &str) -> Result<()> {
    let group = administered(state, user).await?;
    let now = Utc::now();
    let removed = state
        .store
        .groups()
        .remove_announced(
            group.id,
            object,
            &Announcement::GroupRemove {
                object: object.to_owned(),
            },
            now,
        )
        .await?;
    if !removed {
        return Err(UseCaseError::NotFound);
    }
    state
        .store
        .groups()
        .log(group.id, user.email.as_str(), "remove-item", object, now)
        .await?;
    state.federation.wake();
    Ok(())
}

/// An admin blocks a member (or anyone) of their group by handle: it is
/// removed as a member (Reject), can no longer join or post, and the items
/// of its the group carried are removed on every node.
pub async fn block(state: &AppState, user: &User, handle: &str) -> Result<()> {
    let group = administered(state, user).await?;
    let store = &state.store;
    let member = store
        .organizations()
        .by_handle(handle)
        .await
        .map_err(|_| UseCaseError::from(Problem::Handle.at("member")))?;
    if member.id == group.id {
        return Err(Problem::Handle.at("member").into());
    }
    let now = Utc::now();
    store.groups().block(group.id, member.id, now).await?;
    store
        .follows()
        .refuse_follower(member.id, group.id, now)
        .await?;
    for item in store.groups().items_by(group.id, member.id).await? {
        store
            .groups()
            .remove_announced(
                group.id,
                &item.object_id,
                &Announcement::GroupRemove {
                    object: item.object_id.clone(),
                },
                now,
            )
            .await?;
    }
    store
        .groups()
        .log(group.id, user.email.as_str(), "block-member", handle, now)
        .await?;
    state.federation.wake();
    Ok(())
}

/// An admin lifts a block; the organization may join again.
pub async fn unblock(state: &AppState, user: &User, handle: &str) -> Result<()> {
    let group = administered(state, user).await?;
    let member = state.store.organizations().by_handle(handle).await?;
    if !state.store.groups().unblock(group.id, member.id).await? {
        return Err(UseCaseError::NotFound);
    }
    state
        .store
        .groups()
        .log(
            group.id,
            user.email.as_str(),
            "unblock-member",
            handle,
            Utc::now(),
        )
        .await?;
    Ok(())
}
