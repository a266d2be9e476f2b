//! Creating organizations and editing their profiles.

use allmende_domain::{Handle, Organization, OrganizationInput, Role};
use allmende_store::{Store, User};
use chrono::Utc;

use super::{Result, UseCaseError};
use crate::state::AppState;

/// Creates an organization (CLI and demo; there is no self-service sign-up:
/// the node operator decides who publishes on their node).
pub async fn create(
    store: &Store,
    handle: &str,
    input: &OrganizationInput,
) -> Result<Organization> {
    let handle = Handle::parse(handle).map_err(|p| p.at("handle"))?;
    let profile = input.validate()?;
    Ok(store
        .organizations()
        .insert(&handle, &profile, Utc::now())
        .await?)
}

/// The organization `handle` if `user` is one of its admins.
pub async fn administered(store: &Store, user: &User, handle: &str) -> Result<Organization> {
    let org = store.organizations().by_handle(handle).await?;
    if org.id != user.organization_id || user.role != Role::Admin {
        return Err(UseCaseError::Forbidden);
    }
    Ok(org)
}

/// Admins of an organization edit its profile.
/// Followers receive the new profile as an Update of the actor.
pub async fn update_profile(
    state: &AppState,
    user: &User,
    handle: &str,
    input: &OrganizationInput,
) -> Result<Organization> {
    let org = administered(&state.store, user, handle).await?;
    let profile = input.validate()?;
    let org = state
        .store
        .organizations()
        .update(org.id, &profile, Utc::now())
        .await?;
    state.federation.wake();
    Ok(org)
}
