//! The operators' federation policy: block, allow and trust domains. Each
//! change is recorded in the audit log with who made it, and takes effect
//! in this process at once (other processes within a minute).

use allmende_federation::policy::normalise_domain;
use allmende_store::{AuditEntry, DomainEntry, PolicyKind, Store};
use chrono::Utc;

use super::{Result, UseCaseError};
use crate::state::AppState;

fn kind(kind: &str) -> Result<PolicyKind> {
    PolicyKind::parse(kind).ok_or_else(|| {
        allmende_domain::Problem::UnknownValue {
            allowed: PolicyKind::ALL.iter().map(|k| k.slug()).collect(),
        }
        .at("kind")
        .into()
    })
}

fn domain(input: &str) -> Result<String> {
    normalise_domain(input).map_err(|_| allmende_domain::Problem::Domain.at("domain").into())
}

/// Adds `domain` to the list `kind`; `actor` is who does it (an
/// operator's e-mail address, or `cli`). In force at once in this process.
pub async fn add(
    state: &AppState,
    actor: &str,
    domain_input: &str,
    kind_input: &str,
    note: &str,
) -> Result<String> {
    let domain = add_entry(
        &state.store,
        state.config.public_url.host_str(),
        actor,
        domain_input,
        kind_input,
        note,
    )
    .await?;
    reload(state).await?;
    Ok(domain)
}

/// [`add`] on the store alone (the CLI; a running node reads it within a
/// minute). `own_host` (the node's) cannot be blocked.
pub async fn add_entry(
    store: &Store,
    own_host: Option<&str>,
    actor: &str,
    domain_input: &str,
    kind_input: &str,
    note: &str,
) -> Result<String> {
    let kind = kind(kind_input)?;
    let domain = domain(domain_input)?;
    let note = allmende_domain::text::optional("note", Some(note), 500)?.unwrap_or_default();
    if own_host == Some(domain.as_str()) && kind == PolicyKind::Block {
        return Err(UseCaseError::Invalid(
            allmende_domain::Problem::Domain.at("domain").into(),
        ));
    }
    store
        .policy()
        .add(&domain, kind, &note, actor, Utc::now())
        .await?;
    Ok(domain)
}

/// Removes `domain` from the list `kind`.
pub async fn remove(
    state: &AppState,
    actor: &str,
    domain_input: &str,
    kind_input: &str,
) -> Result<()> {
    remove_entry(&state.store, actor, domain_input, kind_input).await?;
    reload(state).await
}

/// [`remove`] on the store alone (the CLI).
pub async fn remove_entry(
    store: &Store,
    actor: &str,
    domain_input: &str,
    kind_input: &str,
) -> Result<()> {
    let kind = kind(kind_input)?;
    let domain = domain(domain_input)?;
    if !store
        .policy()
        .remove(&domain, kind, actor, Utc::now())
        .await?
    {
        return Err(UseCaseError::NotFound);
    }
    Ok(())
}

async fn reload(state: &AppState) -> Result<()> {
    state
        .federation
        .reload_policy()
        .await
        .map_err(|e| UseCaseError::Internal(e.to_string()))
}

/// The entries and the latest changes.
pub async fn overview(store: &Store) -> Result<(Vec<DomainEntry>, Vec<AuditEntry>)> {
    let policy = store.policy();
    Ok((policy.entries().await?, policy.audit_log(100).await?))
}
