//! The people of an organization: invitations (by e-mail, or a link the
//! admin passes on when the node sends no mail), roles, removal, password
//! changes and resets. Every change is written to the audit log.
//!
//! Who may manage an organization's people: its admins, and the node's
//! operators.

use allmende_domain::{Email, Organization, OrganizationId, Problem, Role};
use allmende_store::people::{Invitation, NewInvitation};
use allmende_store::{User, UserId};
use chrono::{Duration, Utc};

use super::{Result, UseCaseError};
use crate::auth::{digest, password, random_secret};
use crate::mail::compose;
use crate::state::AppState;

/// How long an invitation link works.
pub const INVITATION_DAYS: i64 = 7;
/// How long a password reset link works.
pub const RESET_MINUTES: i64 = 60;
/// Reset mails per person and hour; more requests are answered the same
/// way but send nothing.
pub const RESETS_PER_HOUR: u64 = 3;

/// Who acts: a signed-in person, and whether they operate the node.
pub struct Actor<'a> {
    pub user: &'a User,
    pub operator: bool,
}

impl Actor<'_> {
    /// How the audit log names them.
    /// `operator:ADDRESS` when an operator acts on another organization
    /// than their own.
    fn name_for(&self, org: &Organization) -> String {
        if self.operator && self.user.organization_id != org.id {
            format!("operator:{}", self.user.email)
        } else {
            self.user.email.to_string()
        }
    }

    pub fn may_manage(&self, org: &Organization) -> bool {
        self.operator || (self.user.organization_id == org.id && self.user.role == Role::Admin)
    }
}

/// Writes an entry of the organization's audit log, now.
async fn log(
    state: &AppState,
    who: &str,
    org: OrganizationId,
    action: &str,
    subject: &str,
) -> Result<()> {
    Ok(state
        .store
        .audit()
        .record(who, Some(org), action, subject, Utc::now())
        .await?)
}

/// An invitation made: the link (shown to the admin when no mail went).
pub struct Invited {
    pub invitation: Invitation,
    pub link: String,
    pub mailed: bool,
}

fn hash_password(raw: &str) -> Result<String> {
    password::hash(raw).map_err(|e| match e {
        password::PasswordError::TooShort => UseCaseError::Invalid(
            Problem::TooShort {
                min: password::MIN_LENGTH,
            }
            .at("password")
            .into(),
        ),
        other => UseCaseError::Internal(other.to_string()),
    })
}

pub async fn invite(
    state: &AppState,
    actor: &Actor<'_>,
    org: &Organization,
    email: &str,
    role: &str,
) -> Result<Invited> {
    if !actor.may_manage(org) || !org.is_local() {
        return Err(UseCaseError::Forbidden);
    }
    let email = Email::parse(email).map_err(|p| p.at("email"))?;
    let role = Role::parse(role).map_err(|p| p.at("role"))?;
    if state.store.people().by_email(&email).await?.is_some() {
        return Err(UseCaseError::Conflict(
            "an account with this e-mail address",
        ));
    }
    let token = random_secret(32);
    let now = Utc::now();
    let token_hash = digest(&token);
    let invitation = state
        .store
        .people()
        .invite(
            &NewInvitation {
                token_hash: &token_hash,
                email: &email,
                organization_id: org.id,
                role,
                invited_by: actor.user.email.as_str(),
                valid: Duration::days(INVITATION_DAYS),
            },
            now,
        )
        .await?;
    let link = state.config.url(&format!("/invitations/{token}"));
    let mailed = state.mailer.enabled();
    if mailed {
        let mail = compose::invitation(&compose::Invitation {
            to: email.as_str(),
            organization: &org.profile.name,
            inviter: actor.user.email.as_str(),
            role_de: role.label_de(),
            role_en: role.label_en(),
            link: &link,
            valid_days: INVITATION_DAYS,
            site: state.config.public_url.host_str().unwrap_or(""),
        });
        state.mailer.queue(&state.store, &mail).await?;
    }
    log(
        state,
        &actor.name_for(org),
        org.id,
        "invited",
        &format!("{email} ({})", role.slug()),
    )
    .await?;
    Ok(Invited {
        invitation,
        link,
        mailed,
    })
}

pub async fn withdraw_invitation(
    state: &AppState,
    actor: &Actor<'_>,
    org: &Organization,
    id: uuid::Uuid,
) -> Result<()> {
    if !actor.may_manage(org) {
        return Err(UseCaseError::Forbidden);
    }
    let gone = state.store.people().withdraw_invitation(org.id, id).await?;
    log(
        state,
        &actor.name_for(org),
        org.id,
        "invitation-withdrawn",
        gone.email.as_str(),
    )
    .await?;
    Ok(())
}

/// The invitation a link stands for, if it still works.
pub async fn invitation(state: &AppState, token: &str) -> Result<Invitation> {
    state
        .store
        .people()
        .invitation(&digest(token), Utc::now())
        .await?
        .ok_or(UseCaseError::NotFound)
}

/// Accepts an invitation with the new person's password.
pub async fn accept(state: &AppState, token: &str, new_password: &str) -> Result<User> {
    let hash = hash_password(new_password)?;
    let user = state
        .store
        .people()
        .accept_invitation(&digest(token), &hash, Utc::now())
        .await?;
    log(
        state,
        user.email.as_str(),
        user.organization_id,
        "joined",
        &format!("{} ({})", user.email, user.role.slug()),
    )
    .await?;
    Ok(user)
}

/// A person of `org`, for someone who may manage it.
async fn member(
    state: &AppState,
    actor: &Actor<'_>,
    org: &Organization,
    user: UserId,
) -> Result<User> {
    if !actor.may_manage(org) {
        return Err(UseCaseError::Forbidden);
    }
    let person = state.store.accounts().user(user).await?;
    if person.organization_id != org.id {
        return Err(UseCaseError::NotFound);
    }
    Ok(person)
}

pub async fn set_role(
    state: &AppState,
    actor: &Actor<'_>,
    org: &Organization,
    user: UserId,
    role: &str,
) -> Result<User> {
    let role = Role::parse(role).map_err(|p| p.at("role"))?;
    let person = member(state, actor, org, user).await?;
    if person.role == role {
        return Ok(person);
    }
    let changed = state.store.people().set_role(user, role).await?;
    log(
        state,
        &actor.name_for(org),
        org.id,
        "role-changed",
        &format!(
            "{} ({} → {})",
            person.email,
            person.role.slug(),
            role.slug()
        ),
    )
    .await?;
    Ok(changed)
}

pub async fn remove(
    state: &AppState,
    actor: &Actor<'_>,
    org: &Organization,
    user: UserId,
) -> Result<User> {
    let person = member(state, actor, org, user).await?;
    let removed = state.store.people().remove(person.id).await?;
    log(
        state,
        &actor.name_for(org),
        org.id,
        "removed",
        removed.email.as_str(),
    )
    .await?;
    Ok(removed)
}

/// Changes one's own password, checking the current one first. Every
/// other session of the person ends.
pub async fn change_password(
    state: &AppState,
    user: &User,
    current: &str,
    new_password: &str,
    session_hash: Option<&str>,
) -> Result<()> {
    let stored = state.store.people().password_hash(user.id).await?;
    let given = current.to_owned();
    let right = state
        .password_checks
        .run(move || password::verify(&given, &stored))
        .await
        .map_err(|_| UseCaseError::Busy)?;
    if !right {
        return Err(UseCaseError::Forbidden);
    }
    let hash = hash_password(new_password)?;
    state
        .store
        .people()
        .set_password(user.id, &hash, session_hash)
        .await?;
    log(
        state,
        user.email.as_str(),
        user.organization_id,
        "password-changed",
        user.email.as_str(),
    )
    .await?;
    Ok(())
}

/// Starts sending a reset link if the address has an account, and returns
/// at once either way: the answer (and its timing) says nothing about the
/// address. At most [`RESETS_PER_HOUR`] links per person and hour.
pub fn request_reset(state: &AppState, email: &str) -> Result<()> {
    if !state.mailer.enabled() {
        return Err(UseCaseError::Forbidden);
    }
    let Ok(email) = Email::parse(email) else {
        return Ok(());
    };
    let state = state.clone();
    tokio::spawn(async move {
        if let Err(e) = send_reset(&state, &email).await {
            tracing::warn!(error = %e, "password reset link not queued");
        }
    });
    Ok(())
}

/// The work behind [`request_reset`]: a link recorded and mailed, unless
/// the address has no account or the hour's links are used up.
pub async fn send_reset(state: &AppState, email: &Email) -> Result<()> {
    let Some(user) = state.store.people().by_email(email).await? else {
        return Ok(());
    };
    let token = random_secret(32);
    let recorded = state
        .store
        .people()
        .create_reset(
            user.id,
            &digest(&token),
            Utc::now(),
            Duration::minutes(RESET_MINUTES),
            RESETS_PER_HOUR,
        )
        .await?;
    if !recorded {
        tracing::warn!(user = %user.id, "password reset requested too often; no mail sent");
        return Ok(());
    }
    let link = state.config.url(&format!("/password/reset/{token}"));
    let mail = compose::password_reset(
        user.email.as_str(),
        &link,
        state.config.public_url.host_str().unwrap_or(""),
    );
    state.mailer.queue(&state.store, &mail).await?;
    Ok(())
}

/// The person a reset link is for, if it still works.
pub async fn reset_user(state: &AppState, token: &str) -> Result<User> {
    state
        .store
        .people()
        .reset_user(&digest(token), Utc::now())
        .await?
        .ok_or(UseCaseError::NotFound)
}

/// Sets a new password through a reset link; every session of the person
/// ends and the link stops working.
pub async fn reset(state: &AppState, token: &str, new_password: &str) -> Result<User> {
    let user = reset_user(state, token).await?;
    let hash = hash_password(new_password)?;
    state
        .store
        .people()
        .set_password(user.id, &hash, None)
        .await?;
    log(
        state,
        user.email.as_str(),
        user.organization_id,
        "password-reset",
        user.email.as_str(),
    )
    .await?;
    Ok(user)
}
