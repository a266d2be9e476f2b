//! Following organizations on other nodes, and the home feed of what they
//! publish.

use allmende_domain::{
    Item, Organization, OrganizationId, Problem, Project, Question, Solution, Viewer,
};
use allmende_federation::resolver::FetchBudget;
use allmende_federation::webfinger::Target;
use allmende_federation::FederationError;
use allmende_store::{ListFilter, Post, User};
use chrono::{DateTime, Utc};

use super::{Result, UseCaseError};
use crate::state::AppState;

/// Asks the organization at `target` (`name@host` or an actor URL) to let
/// the user's organization follow it. The follow is pending until the
/// other node accepts, usually within a second.
pub async fn follow(state: &AppState, user: &User, target: &str) -> Result<Organization> {
    follow_as(state, user.organization_id, target).await
}

/// [`follow`] for an organization of this node (the demo's set-up).
pub async fn follow_as(
    state: &AppState,
    follower: OrganizationId,
    target: &str,
) -> Result<Organization> {
    let target = Target::parse(target).map_err(|_| Problem::FediverseAddress.at("target"))?;
    let federation = &state.federation;
    let unavailable = |e: FederationError| -> UseCaseError {
        match e {
            FederationError::Key(_) | FederationError::Store(_) | FederationError::Internal(_) => {
                UseCaseError::Internal(e.to_string())
            }
            other => {
                tracing::info!(error = %other, "follow target unavailable");
                Problem::RemoteUnavailable.at("target").into()
            }
        }
    };
    let actor_url = federation
        .resolver()
        .resolve_target(&target)
        .await
        .map_err(unavailable)?;
    if federation.urls().is_local(&actor_url) {
        return join_local(state, follower, &actor_url).await;
    }
    let (remote, _actor) = federation
        .resolver()
        .actor_by_id(&actor_url, &mut FetchBudget::new())
        .await
        .map_err(unavailable)?;
    let activity_id = federation.urls().new_activity("Follow");
    state
        .store
        .follows()
        .request(follower, remote.id, &activity_id, Utc::now())
        .await?;
    federation.wake();
    Ok(remote)
}

/// Joins a group on this node. Other organizations here need no follow:
/// their items are shown here already.
async fn join_local(
    state: &AppState,
    follower: OrganizationId,
    actor_url: &url::Url,
) -> Result<Organization> {
    let federation = &state.federation;
    let group = match federation.urls().local_handle(actor_url) {
        Some(handle) => state.store.organizations().by_handle(handle).await.ok(),
        None => None,
    };
    let Some(group) = group.filter(|g| g.profile.kind.is_group() && g.id != follower) else {
        return Err(Problem::LocalAddress.at("target").into());
    };
    let store = &state.store;
    if store.groups().is_blocked(group.id, follower).await? {
        return Err(UseCaseError::Forbidden);
    }
    let already = store
        .follows()
        .get(follower, group.id)
        .await?
        .is_some_and(|f| f.accepted);
    // Organizations on one node are vouched for by its operators, as
    // trusted nodes are: only a group that approves everyone makes them wait.
    let accepted = already
        || store.organizations().follower_approval(group.id).await?
            != allmende_domain::FollowerApproval::Manual;
    store
        .follows()
        .join_local(
            follower,
            group.id,
            &federation.urls().new_activity("Follow"),
            accepted,
            Utc::now(),
        )
        .await?;
    Ok(group)
}

/// Stops following the remote organization with `handle` (`name@host`):
/// forgets the follow and sends Undo(Follow).
pub async fn unfollow(state: &AppState, user: &User, handle: &str) -> Result<()> {
    let target = state.store.organizations().by_handle(handle).await?;
    if !state
        .store
        .follows()
        .unfollow(user.organization_id, target.id, Utc::now())
        .await?
    {
        return Err(UseCaseError::NotFound);
    }
    state.federation.wake();
    Ok(())
}

/// An admin of the user's organization approves (`true`) or refuses the
/// follow request of the remote organization `handle`, or (refusing an
/// accepted follower) removes it. Sends Accept or Reject.
pub async fn decide_follower(
    state: &AppState,
    user: &User,
    handle: &str,
    approve: bool,
) -> Result<()> {
    if user.role != allmende_domain::Role::Admin {
        return Err(UseCaseError::Forbidden);
    }
    let follower = state.store.organizations().by_handle(handle).await?;
    let follows = state.store.follows();
    let done = if approve {
        follows
            .approve_follower(follower.id, user.organization_id, Utc::now())
            .await?
    } else {
        follows
            .refuse_follower(follower.id, user.organization_id, Utc::now())
            .await?
    };
    if !done {
        return Err(UseCaseError::NotFound);
    }
    state.federation.wake();
    Ok(())
}

/// An admin sets who becomes a follower of their organization at once.
pub async fn set_follower_approval(state: &AppState, user: &User, approval: &str) -> Result<()> {
    if user.role != allmende_domain::Role::Admin {
        return Err(UseCaseError::Forbidden);
    }
    let approval = allmende_domain::FollowerApproval::parse(approval)
        .map_err(|p| p.at("follower_approval"))?;
    state
        .store
        .organizations()
        .set_follower_approval(user.organization_id, approval)
        .await?;
    Ok(())
}

/// Whom the user's organization follows, and who follows it; each with
/// whether the follow is accepted.
pub struct Relations {
    pub following: Vec<(Organization, bool)>,
    pub followers: Vec<(Organization, bool)>,
}

pub async fn relations(state: &AppState, user: &User) -> Result<Relations> {
    let follows = state.store.follows();
    Ok(Relations {
        following: follows.following(user.organization_id).await?,
        followers: follows.followers(user.organization_id).await?,
    })
}

/// One entry of the home feed.
pub enum FeedEntry {
    Project(Project),
    Question(Question),
    Solution(Solution),
    /// A post of a followed fediverse account that is not an Allmende item.
    Post(Post),
}

impl FeedEntry {
    pub fn published(&self) -> DateTime<Utc> {
        match self {
            FeedEntry::Project(i) => i.created_at,
            FeedEntry::Question(i) => i.created_at,
            FeedEntry::Solution(i) => i.created_at,
            FeedEntry::Post(p) => p.published,
        }
    }

    pub fn organization_id(&self) -> allmende_domain::OrganizationId {
        match self {
            FeedEntry::Project(i) => i.organization_id,
            FeedEntry::Question(i) => i.organization_id,
            FeedEntry::Solution(i) => i.organization_id,
            FeedEntry::Post(p) => p.organization_id,
        }
    }
}

/// The newest items of the organizations the user's organization follows.
pub async fn feed(state: &AppState, user: &User, limit: u32) -> Result<Vec<FeedEntry>> {
    let filter = ListFilter {
        followed_by: Some(user.organization_id),
        limit,
        ..ListFilter::for_viewer(Viewer::Member(user.organization_id))
    };
    let mut entries: Vec<FeedEntry> = Vec::new();
    entries.extend(
        list::<Project>(state, &filter)
            .await?
            .into_iter()
            .map(FeedEntry::Project),
    );
    entries.extend(
        list::<Question>(state, &filter)
            .await?
            .into_iter()
            .map(FeedEntry::Question),
    );
    entries.extend(
        list::<Solution>(state, &filter)
            .await?
            .into_iter()
            .map(FeedEntry::Solution),
    );
    entries.extend(
        state
            .store
            .posts()
            .feed(user.organization_id, limit)
            .await?
            .into_iter()
            .map(FeedEntry::Post),
    );
    entries.sort_by_key(|e| std::cmp::Reverse(e.published()));
    entries.truncate(limit as usize);
    Ok(entries)
}

async fn list<T: Item>(state: &AppState, filter: &ListFilter) -> Result<Vec<T>> {
    Ok(state.store.items::<T>().list(filter).await?)
}
