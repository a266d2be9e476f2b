//! Following organizations on other nodes, and the home feed of what they
//! publish.

use allmende_domain::{Organization, Problem, Project, Question, Solution};
use allmende_federation::webfinger::Target;
use allmende_federation::FederationError;
use allmende_store::{ListFilter, Post, User};
use chrono::{DateTime, Utc};

use super::items::Publishable;
use super::{Result, UseCaseError};
use crate::state::AppState;

/// Asks the organization at `target` (`name@host` or an actor URL) to let
/// the user's organization follow it. The follow is pending until the
/// other node accepts, usually within a second.
pub async fn follow(state: &AppState, user: &User, target: &str) -> Result<Organization> {
    Target::parse(target).map_err(|_| Problem::FediverseAddress.at("target"))?;
    let org = state
        .store
        .organizations()
        .get(user.organization_id)
        .await?;
    state
        .federation
        .follow(&org, target)
        .await
        .map_err(|e| match e {
            FederationError::BadRequest(_) => Problem::LocalAddress.at("target").into(),
            FederationError::Key(_) | FederationError::Store(_) => {
                UseCaseError::Internal(e.to_string())
            }
            other => {
                tracing::info!(error = %other, "follow target unavailable");
                Problem::RemoteUnavailable.at("target").into()
            }
        })
}

/// Stops following the remote organization with `handle` (`name@host`).
pub async fn unfollow(state: &AppState, user: &User, handle: &str) -> Result<()> {
    let target = state.store.organizations().by_handle(handle).await?;
    let org = state
        .store
        .organizations()
        .get(user.organization_id)
        .await?;
    state
        .federation
        .unfollow(&org, &target)
        .await
        .map_err(|e| match e {
            FederationError::NotFound => UseCaseError::NotFound,
            other => UseCaseError::Internal(other.to_string()),
        })
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
        public_only: false,
        limit,
        ..ListFilter::default()
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

async fn list<T: Publishable>(state: &AppState, filter: &ListFilter) -> Result<Vec<T>> {
    Ok(T::items(&state.store).list(filter).await?)
}
