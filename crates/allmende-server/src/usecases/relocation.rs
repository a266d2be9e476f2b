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
#[derive(Debug)]
pub struct Imported {
    pub organization: Organization,
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
    operators: &[String],
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
    let archive = &checked(archive, operators)?;
    let keys = imported_keys(archive)?;
    let local_question = |ap_id: &str| {
        Url::parse(ap_id)
            .ok()
            .and_then(|u| urls.local_item(&u))
            .filter(|(kind, _)| *kind == allmende_domain::ItemKind::Question)
            .map(|(_, id)| id)
    };
    let stored = store
        .relocations()
        .import(archive, &handle, &keys, &local_question, Utc::now())
        .await?;
    let org = store.organizations().by_handle(handle.as_str()).await?;

    let mut follows_requested = 0;
    let mut follows_failed = Vec::new();
    for target in &archive.following {
        match follow_again(store, federation, &org, target).await {
            Ok(()) => follows_requested += 1,
            Err(reason) => follows_failed.push((target.clone(), reason)),
        }
    }
    federation.wake();
    Ok(Imported {
        organization: org,
        stored,
        follows_requested,
        follows_failed,
    })
}

/// The archive as this node would have stored it: everything checked as
/// if typed in again (a changed file cannot bring in what a form would
/// refuse), the logo re-encoded, e-mail addresses in their usual form.
/// People whose password hash this node would not make, or whose address
/// is an operator's here (the file's author would choose an operator's
/// password), are refused.
fn checked(archive: &OrganizationArchive, operators: &[String]) -> Result<OrganizationArchive> {
    let refused = |m: String| UseCaseError::Refused(m);
    let mut archive = archive.clone();
    archive.organization.profile =
        OrganizationInput::from(&archive.organization.profile).validate()?;
    let branding = &mut archive.branding;
    if let Some(logo) = branding.logo()? {
        let png = crate::usecases::branding::reencode(&logo)
            .map_err(|p| refused(format!("branding.logo_png: {}", p.message(false))))?;
        branding.set_logo(&png);
    }
    if let Some(color) = &branding.color {
        branding.color = Some(
            crate::usecases::branding::check_color(color)
                .map_err(|p| refused(format!("branding.color: {}", p.message(false))))?,
        );
    }
    for answer in &mut archive.answers {
        let input = allmende_domain::AnswerInput {
            body: Some(answer.body.clone()),
        };
        answer.body = input
            .validate()
            .map_err(|e| refused(format!("answers: {}: {e}", answer.id)))?
            .body;
    }
    for person in &mut archive.people {
        let email = allmende_domain::Email::parse(&person.email).map_err(|_| {
            refused(format!(
                "people: {:?} is not an e-mail address",
                person.email
            ))
        })?;
        if operators
            .iter()
            .any(|o| o.trim().eq_ignore_ascii_case(email.as_str()))
        {
            return Err(refused(format!(
                "people: {email} is an operator of this node; remove the person from the archive or from operators"
            )));
        }
        if !crate::auth::password::is_acceptable_hash(&person.password_hash) {
            return Err(refused(format!(
                "people: the password hash of {email} is not one this node makes (Argon2id, at most its cost)"
            )));
        }
        person.email = email.as_str().to_owned();
    }
    Ok(archive)
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
            FederationError::Forbidden(why) => UseCaseError::Refused(format!(
                "{why}: import the organization there first (allmende org import), then name the actor URL the import printed"
            )),
            other => UseCaseError::Refused(format!("{to}: {other}")),
        })?;
    let now = Utc::now();
    let moved = store.organizations().moved(org.id, &to, now).await?;
    let internal = |e: FederationError| UseCaseError::Internal(e.to_string());
    federation
        .inbound()
        .move_local_follows(&org, &new_home)
        .await
        .map_err(internal)?;
    // It follows from its new home now (the import asked again): the old
    // actor stops following, so that nobody delivers to it any more.
    let follows = store.follows();
    for (target, _) in follows.following(org.id).await? {
        if target.is_local() {
            follows.remove(org.id, target.id).await?;
        } else {
            follows.unfollow(org.id, target.id, now).await?;
        }
    }
    federation.wake();
    Ok(moved)
}
