//! Moving an organization to another node, in three steps an operator
//! takes with the command line (docs/operations.md, "Eine Organisation
//! umziehen"):
//!
//! 1. [`export`] on the old node writes its archive;
//! 2. [`import`] on the new node makes it an organization there, with the
//!    same keys, items and people, and the old actor in `alsoKnownAs`;
//! 3. [`announce_move`] on the old node records `movedTo` and sends `Move`
//!    to its followers, whose nodes then follow it at its new home.

use allmende_domain::{Handle, Organization, OrganizationInput};
use allmende_federation::keys::{Ed25519Key, SigningKey};
use allmende_federation::resolver::FetchBudget;
use allmende_federation::{Federation, FederationError};
use allmende_store::relocation::{ExportNames, ImportReport, ImportedKeys};
use allmende_store::{OrganizationArchive, Store, StoredKey};
use chrono::Utc;
use url::Url;

use super::{Result, UseCaseError};

/// The archive of one of this node's organizations.
pub async fn export(
    store: &Store,
    federation: &Federation,
    handle: &str,
) -> Result<OrganizationArchive> {
    let org = store.organizations().by_handle(handle).await?;
    if !org.is_local() {
        return Err(UseCaseError::Refused(format!(
            "{handle} is an organization of another node; export it there"
        )));
    }
    // Keys are made when first needed; one that never federated gets its
    // keys now, so that it moves with the keys it will keep.
    let key_failed = |e: FederationError| UseCaseError::Internal(e.to_string());
    federation
        .organization_key(org.id)
        .await
        .map_err(key_failed)?;
    federation
        .organization_ed25519_key(org.id)
        .await
        .map_err(key_failed)?;
    let urls = federation.urls();
    let actor = |o: &Organization| federation.outbound().actor_id_of(o);
    let item = |kind, id| urls.item(kind, id);
    let names = ExportNames {
        actor: &actor,
        item: &item,
    };
    Ok(store.relocations().export(&org, &names, Utc::now()).await?)
}

/// What [`import`] did.
#[derive(Debug, Default)]
pub struct Imported {
    pub organization: Option<Organization>,
    pub stored: ImportReport,
    /// Organizations it followed that it asked to follow again.
    pub follows_requested: usize,
    /// Those it could not ask (unreachable, gone), with the reason.
    pub follows_failed: Vec<(String, String)>,
}

/// Makes an archive's organization one of this node's, under its old
/// handle or `handle`, and asks to follow again whom it followed. Nothing
/// is written when the archive is refused.
pub async fn import(
    store: &Store,
    federation: &Federation,
    archive: &OrganizationArchive,
    handle: Option<&str>,
) -> Result<Imported> {
    allmende_store::relocation::check_format(archive)?;
    let handle = Handle::parse(handle.unwrap_or(&archive.organization.handle))
        .map_err(|p| p.at("handle"))?;
    let urls = federation.urls();
    let old_actor = Url::parse(&archive.actor_id)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https"))
        .ok_or_else(|| {
            UseCaseError::Refused(format!("actor_id: {:?} is not a URL", archive.actor_id))
        })?;
    if urls.is_local(&old_actor) {
        return Err(UseCaseError::Refused(
            "the archive comes from this node; import it on the node the organization moves to"
                .into(),
        ));
    }
    // The profile is checked as if typed in again: a changed file cannot
    // bring in what the form would refuse.
    OrganizationInput::from(&archive.organization.profile).validate()?;
    let keys = imported_keys(archive)?;
    let stored = store
        .relocations()
        .import(archive, &handle, &keys, Utc::now())
        .await?;
    let org = store.organizations().by_handle(handle.as_str()).await?;

    let mut imported = Imported {
        stored,
        ..Imported::default()
    };
    for target in &archive.following {
        match follow_again(store, federation, &org, target).await {
            Ok(()) => imported.follows_requested += 1,
            Err(reason) => imported.follows_failed.push((target.clone(), reason)),
        }
    }
    federation.wake();
    imported.organization = Some(org);
    Ok(imported)
}

/// The archive's keys, read the way the node will use them; the public
/// halves are derived, not taken from the file.
fn imported_keys(archive: &OrganizationArchive) -> Result<ImportedKeys> {
    let unreadable =
        |field: &str, e: FederationError| UseCaseError::Refused(format!("{field}: {e}"));
    let as_stored = |der| StoredKey {
        private_key_der: der,
        public_key_pem: String::new(),
    };
    let rsa = SigningKey::from_stored(&as_stored(archive.keys.rsa_der()?))
        .and_then(|k| k.to_stored())
        .map_err(|e| unreadable("keys.rsa", e))?;
    let ed25519 = archive
        .keys
        .ed25519_der()?
        .map(|der| {
            Ed25519Key::from_stored(&as_stored(der))
                .map(|k| k.to_stored())
                .map_err(|e| unreadable("keys.ed25519", e))
        })
        .transpose()?;
    Ok(ImportedKeys { rsa, ed25519 })
}

/// Asks to follow `target` (an actor id) as `org`.
async fn follow_again(
    store: &Store,
    federation: &Federation,
    org: &Organization,
    target: &str,
) -> std::result::Result<(), String> {
    let url = Url::parse(target).map_err(|e| e.to_string())?;
    if federation.urls().is_local(&url) {
        // An organization of this node: its items are here already.
        return Ok(());
    }
    let (remote, _) = federation
        .resolver()
        .actor_by_id(&url, &mut FetchBudget::new())
        .await
        .map_err(|e| e.to_string())?;
    let activity_id = federation.urls().new_activity("Follow");
    store
        .follows()
        .request(org.id, remote.id, &activity_id, Utc::now())
        .await
        .map_err(|e| e.to_string())
}

/// Records that one of this node's organizations moved to `to` (the
/// actor it was imported as, which must name it in `alsoKnownAs`), and
/// sends `Move` to its followers. Announcing again is allowed: a `Move`
/// that some follower missed is sent once more.
pub async fn announce_move(
    store: &Store,
    federation: &Federation,
    handle: &str,
    to: &str,
) -> Result<Organization> {
    let org = store.organizations().by_handle(handle).await?;
    if !org.is_local() {
        return Err(UseCaseError::Refused(format!(
            "{handle} is an organization of another node"
        )));
    }
    let to = Url::parse(to)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https"))
        .ok_or_else(|| {
            UseCaseError::Refused(format!("--to: {to:?} is not an http(s) actor URL"))
        })?;
    let me = federation.outbound().actor_id_of(&org);
    let new_home = federation
        .inbound()
        .verified_new_home(&me, &to, &mut FetchBudget::new())
        .await
        .map_err(|e| match e {
            FederationError::Store(s) => UseCaseError::from(s),
            FederationError::Forbidden(_) => UseCaseError::Refused(format!(
                "{to} does not name {me} in alsoKnownAs: import the organization there first (allmende org import)"
            )),
            other => UseCaseError::Refused(format!("{to}: {other}")),
        })?;
    let moved = store.organizations().moved(org.id, &to, Utc::now()).await?;
    federation
        .inbound()
        .move_local_follows(&org, &new_home)
        .await
        .map_err(|e| UseCaseError::Internal(e.to_string()))?;
    federation.wake();
    Ok(moved)
}
