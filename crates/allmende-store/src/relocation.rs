//! Where an organization's move between nodes is stored: everything it
//! takes along is read out as one [`OrganizationArchive`] on the node it
//! leaves (`allmende org export`), and written in one transaction on the
//! node it moves to (`allmende org import`). The archive's format is
//! versioned; docs/operations.md describes it.
//!
//! What moves: the profile, logo and colour, the follower approval
//! setting, both signing keys (so that the organization signs with the
//! same keys at its new home), its projects, questions and solutions
//! under their ids, its answers, its people with their password hashes
//! and second factors, and the actor ids of its followers and of whom it
//! follows. Answers others gave to its questions stay on their authors'
//! nodes.

use std::collections::HashMap;

use allmende_domain::{
    for_item_kind, Email, Handle, Item, ItemKind, Organization, OrganizationDraft, OrganizationId,
    Role,
};
use base64::Engine as _;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::db::{query, Pool, Tx};
use crate::{to_json, uuid_column, StoreError, StoredKey};

/// What `format` says in every archive.
pub const ARCHIVE_FORMAT: &str = "allmende-organization";
/// The version this node writes and reads.
pub const ARCHIVE_VERSION: u32 = 1;

/// One organization, as it leaves its node.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct OrganizationArchive {
    /// [`ARCHIVE_FORMAT`].
    pub format: String,
    /// [`ARCHIVE_VERSION`].
    pub version: u32,
    pub exported_at: DateTime<Utc>,
    /// Its actor id on the node it leaves: its `alsoKnownAs` at the new
    /// home.
    pub actor_id: String,
    pub organization: ArchivedOrganization,
    pub keys: ArchivedKeys,
    #[serde(default)]
    pub branding: ArchivedBranding,
    #[serde(default)]
    pub items: Vec<ArchivedItem>,
    #[serde(default)]
    pub answers: Vec<ArchivedAnswer>,
    #[serde(default)]
    pub people: Vec<ArchivedPerson>,
    /// Actor ids of its accepted followers.
    #[serde(default)]
    pub followers: Vec<String>,
    /// Actor ids of the organizations it follows.
    #[serde(default)]
    pub following: Vec<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ArchivedOrganization {
    pub id: Uuid,
    pub handle: String,
    pub profile: OrganizationDraft,
    /// `everyone`, `trusted` or `manual`.
    pub follower_approval: String,
    pub created_at: DateTime<Utc>,
}

/// The private keys, PKCS#8 DER in standard base64. The public halves
/// are derived from them on import.
#[derive(Clone, Serialize, Deserialize)]
pub struct ArchivedKeys {
    pub rsa: String,
    pub ed25519: Option<String>,
}

impl std::fmt::Debug for ArchivedKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print a private key.
        f.debug_struct("ArchivedKeys").finish_non_exhaustive()
    }
}

impl ArchivedKeys {
    /// The RSA key's DER bytes.
    pub fn rsa_der(&self) -> Result<Vec<u8>, StoreError> {
        decode(&self.rsa, "keys.rsa")
    }

    /// The Ed25519 key's DER bytes, if the organization had one.
    pub fn ed25519_der(&self) -> Result<Option<Vec<u8>>, StoreError> {
        self.ed25519
            .as_deref()
            .map(|k| decode(k, "keys.ed25519"))
            .transpose()
    }
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct ArchivedBranding {
    /// The PNG the node made from the upload, base64.
    pub logo_png: Option<String>,
    /// `#rrggbb`.
    pub color: Option<String>,
}

impl ArchivedBranding {
    /// The logo's bytes, if there is one.
    pub fn logo(&self) -> Result<Option<Vec<u8>>, StoreError> {
        self.logo_png
            .as_deref()
            .map(|l| decode(l, "branding.logo_png"))
            .transpose()
    }

    pub fn set_logo(&mut self, png: &[u8]) {
        self.logo_png = Some(encode(png));
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ArchivedItem {
    pub kind: ItemKind,
    pub id: Uuid,
    /// Its ActivityPub id on the node it leaves (answers name their
    /// question by it).
    pub ap_id: String,
    /// The stored content: the item type's draft.
    pub content: serde_json::Value,
    /// A question's accepted answer (kept when it is one of the
    /// organization's own answers, which move with it).
    #[serde(default)]
    pub accepted_answer: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ArchivedAnswer {
    pub id: Uuid,
    /// The ActivityPub id of the question it answers.
    pub question: String,
    pub body: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Clone, Serialize, Deserialize)]
pub struct ArchivedPerson {
    pub id: Uuid,
    pub email: String,
    /// argon2id PHC string: people keep their passwords.
    pub password_hash: String,
    pub role: String,
    /// Their confirmed second factor, if they set one up.
    pub totp_secret: Option<String>,
    pub notify: String,
    pub created_at: DateTime<Utc>,
}

impl std::fmt::Debug for ArchivedPerson {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ArchivedPerson")
            .field("email", &self.email)
            .finish_non_exhaustive()
    }
}

/// How the node that exports names its actors and items (the store does
/// not know its URLs).
pub struct ExportNames<'a> {
    pub actor: &'a (dyn Fn(&Organization) -> String + Sync),
    pub item: &'a (dyn Fn(ItemKind, Uuid) -> String + Sync),
}

/// What an import wrote.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ImportReport {
    pub items: usize,
    pub answers: usize,
    /// Answers to questions this node does not know: not imported.
    pub answers_skipped: usize,
    pub people: usize,
    pub expected_followers: usize,
}

/// The keys an import stores, checked and completed by the caller.
pub struct ImportedKeys {
    pub rsa: StoredKey,
    pub ed25519: Option<StoredKey>,
}

pub struct Relocations<'a> {
    pool: &'a Pool,
}

impl<'a> Relocations<'a> {
    pub(crate) fn new(pool: &'a Pool) -> Self {
        Self { pool }
    }

    /// Reads out everything a local organization takes along.
    pub async fn export(
        &self,
        org: &Organization,
        names: &ExportNames<'_>,
        now: DateTime<Utc>,
    ) -> Result<OrganizationArchive, StoreError> {
        if !org.is_local() {
            return Err(StoreError::Refused(format!(
                "{} is not an organization of this node",
                org.handle
            )));
        }
        let store_key = |owner: String| async move {
            crate::keys::Keys::new(self.pool)
                .get(&owner)
                .await
                .map(|k| k.map(|k| encode(&k.private_key_der)))
        };
        let Some(rsa) = store_key(org.id.to_string()).await? else {
            return Err(StoreError::Refused(format!(
                "{} has no signing key yet",
                org.handle
            )));
        };
        let ed25519 = store_key(format!("{}:ed25519", org.id)).await?;
        let approval = crate::organizations::Organizations::new(self.pool)
            .follower_approval(org.id)
            .await?;
        let brandings = crate::branding::Brandings::new(self.pool);
        let branding = ArchivedBranding {
            logo_png: brandings.logo(org.id).await?.map(|(png, _)| encode(&png)),
            color: brandings.get(org.id).await?.color,
        };

        let mut items = Vec::new();
        for kind in [ItemKind::Project, ItemKind::Question, ItemKind::Solution] {
            let accepted = if kind == ItemKind::Question {
                "accepted_answer_id"
            } else {
                "NULL AS accepted_answer_id"
            };
            let rows = query(format!(
                "SELECT id, content, created_at, updated_at, {accepted} FROM {} WHERE organization_id = $1 AND ap_id IS NULL ORDER BY created_at",
                kind.table()
            ))
            .bind(org.id.to_string())
            .fetch_all(self.pool)
            .await?;
            for r in rows {
                let id = uuid_column(&r, "id")?;
                let content: String = r.col("content")?;
                let accepted_answer: Option<String> = r.col("accepted_answer_id")?;
                items.push(ArchivedItem {
                    accepted_answer: accepted_answer.and_then(|a| a.parse().ok()),
                    kind,
                    id,
                    ap_id: (names.item)(kind, id),
                    content: serde_json::from_str(&content)
                        .map_err(|e| StoreError::Corrupt(format!("{kind} {id}: {e}")))?,
                    created_at: r.col("created_at")?,
                    updated_at: r.col("updated_at")?,
                });
            }
        }

        let mut answers = Vec::new();
        let rows = query(
            "SELECT a.id, a.question_id, q.ap_id AS question_ap_id, a.body, a.created_at, a.updated_at
             FROM answers a JOIN questions q ON q.id = a.question_id
             WHERE a.organization_id = $1 AND a.ap_id IS NULL ORDER BY a.created_at",
        )
        .bind(org.id.to_string())
        .fetch_all(self.pool)
        .await?;
        for r in rows {
            let question_ap_id: Option<String> = r.col("question_ap_id")?;
            let question = match question_ap_id {
                Some(remote) => remote,
                None => (names.item)(ItemKind::Question, uuid_column(&r, "question_id")?),
            };
            answers.push(ArchivedAnswer {
                id: uuid_column(&r, "id")?,
                question,
                body: r.col("body")?,
                created_at: r.col("created_at")?,
                updated_at: r.col("updated_at")?,
            });
        }

        let people = query(
            "SELECT id, email, password_hash, role, totp_secret, notify, created_at FROM users
             WHERE organization_id = $1 ORDER BY created_at",
        )
        .bind(org.id.to_string())
        .fetch_all(self.pool)
        .await?
        .iter()
        .map(|r| {
            Ok(ArchivedPerson {
                id: uuid_column(r, "id")?,
                email: r.col("email")?,
                password_hash: r.col("password_hash")?,
                role: r.col("role")?,
                totp_secret: r.col("totp_secret")?,
                notify: r.col("notify")?,
                created_at: r.col("created_at")?,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;

        let follows = crate::follows::Follows::new(self.pool);
        let accepted_actors = |related: Vec<(Organization, bool)>| -> Vec<String> {
            related
                .iter()
                .filter(|(_, accepted)| *accepted)
                .map(|(o, _)| (names.actor)(o))
                .collect()
        };
        let followers = accepted_actors(follows.followers(org.id).await?);
        let following = accepted_actors(follows.following(org.id).await?);

        Ok(OrganizationArchive {
            format: ARCHIVE_FORMAT.into(),
            version: ARCHIVE_VERSION,
            exported_at: now,
            actor_id: (names.actor)(org),
            organization: ArchivedOrganization {
                id: org.id.0,
                handle: org.handle.to_string(),
                profile: org.profile.clone(),
                follower_approval: approval.slug().into(),
                created_at: org.created_at,
            },
            keys: ArchivedKeys { rsa, ed25519 },
            branding,
            items,
            answers,
            people,
            followers,
            following,
        })
    }

    /// Writes an archive's organization under `handle`, all or nothing.
    /// Refused, with nothing written, when the archive is not one this
    /// version reads, the organization (or any of its items) is here
    /// already, the handle is taken, one of its people has an account
    /// here, or an item does not validate. The caller checks the rest
    /// (profile, logo, colour, answers, people) as its forms would; `keys`
    /// are the archive's keys, read. `local_question` names the question
    /// of this node an ActivityPub id stands for, if it is one.
    pub async fn import(
        &self,
        archive: &OrganizationArchive,
        handle: &Handle,
        keys: &ImportedKeys,
        local_question: &(dyn Fn(&str) -> Option<Uuid> + Sync),
        now: DateTime<Utc>,
    ) -> Result<ImportReport, StoreError> {
        check_format(archive)?;
        let org_id = archive.organization.id;
        let exists = |table: &'static str, column: &'static str, value: String| async move {
            let found: i64 = query(format!("SELECT COUNT(*) FROM {table} WHERE {column} = $1"))
                .bind(value)
                .scalar(self.pool)
                .await?;
            Ok::<bool, StoreError>(found > 0)
        };
        if exists("organizations", "id", org_id.to_string()).await? {
            return Err(StoreError::Refused(
                "this organization is on this node already (imported before?)".into(),
            ));
        }
        if exists("organizations", "handle", handle.to_string()).await? {
            return Err(StoreError::Refused(format!(
                "the handle {handle} is taken on this node; choose another with --handle"
            )));
        }
        for person in &archive.people {
            if exists("users", "email", person.email.clone()).await? {
                return Err(StoreError::Refused(format!(
                    "{} has an account on this node already; remove it here first",
                    person.email
                )));
            }
        }
        for item in &archive.items {
            if exists(item.kind.table(), "id", item.id.to_string()).await? {
                return Err(StoreError::Refused(format!(
                    "{} {} is on this node already",
                    item.kind, item.id
                )));
            }
        }

        let mut report = ImportReport::default();
        let mut tx = self.pool.begin().await?;
        let profile = &archive.organization.profile;
        let also_known_as = serde_json::to_string(&[&archive.actor_id])
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        query(
            "INSERT INTO organizations (id, handle, name, kind, profile, created_at, updated_at, also_known_as)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(org_id.to_string())
        .bind(handle.as_str())
        .bind(&profile.name)
        .bind(profile.kind.slug())
        .bind(to_json(profile))
        .bind(archive.organization.created_at)
        .bind(now)
        .bind(also_known_as)
        .execute(&mut tx)
        .await
        .map_err(StoreError::unique("organization"))?;

        let mut stored_keys = vec![(org_id.to_string(), &keys.rsa)];
        if let Some(ed25519) = &keys.ed25519 {
            stored_keys.push((format!("{org_id}:ed25519"), ed25519));
        }
        for (owner, key) in stored_keys {
            query(
                "INSERT INTO signing_keys (owner, private_key, public_key_pem, created_at)
                 VALUES ($1, $2, $3, $4)",
            )
            .bind(owner)
            .bind(key.private_key_der.as_slice())
            .bind(&key.public_key_pem)
            .bind(now)
            .execute(&mut tx)
            .await
            .map_err(StoreError::unique("signing key"))?;
        }
        let approval =
            allmende_domain::FollowerApproval::parse(&archive.organization.follower_approval)
                .map_err(|_| {
                    StoreError::Refused(format!(
                        "organization.follower_approval: {:?} is not everyone, trusted or manual",
                        archive.organization.follower_approval
                    ))
                })?;
        query("INSERT INTO follower_approval (organization_id, approval) VALUES ($1, $2)")
            .bind(org_id.to_string())
            .bind(approval.slug())
            .execute(&mut tx)
            .await?;
        let branding = &archive.branding;
        if branding.logo_png.is_some() || branding.color.is_some() {
            let logo = branding.logo()?;
            // Bytes have no NULL to bind: the statement names the logo only
            // when there is one.
            let logo_column = if logo.is_some() { ", logo_png" } else { "" };
            let logo_value = if logo.is_some() { ", $4" } else { "" };
            let mut statement = query(format!(
                "INSERT INTO organization_branding (organization_id, color, updated_at{logo_column})
                 VALUES ($1, $2, $3{logo_value})"
            ))
            .bind(org_id.to_string())
            .bind(branding.color.as_deref())
            .bind(now);
            if let Some(logo) = logo {
                statement = statement.bind(logo);
            }
            statement.execute(&mut tx).await?;
        }

        // Questions first known by their old ids, for the answers.
        let mut questions: HashMap<&str, Uuid> = HashMap::new();
        for item in &archive.items {
            for_item_kind!(item.kind,
                T => insert_item::<T>(&mut tx, OrganizationId(org_id), item).await?,
                other => return Err(StoreError::Refused(format!("items: {other} is not an item kind"))));
            if item.kind == ItemKind::Question {
                questions.insert(item.ap_id.as_str(), item.id);
            }
            report.items += 1;
        }
        let mut imported_answers = std::collections::HashSet::new();
        for answer in &archive.answers {
            // One of its own questions, a question of this node, or a copy
            // of another node's question kept here.
            let question = match questions.get(answer.question.as_str()) {
                Some(id) => Some(*id),
                None => {
                    let (column, value) = match local_question(&answer.question) {
                        Some(id) => ("id", id.to_string()),
                        None => ("ap_id", answer.question.clone()),
                    };
                    query(format!("SELECT id FROM questions WHERE {column} = $1"))
                        .bind(value)
                        .fetch_optional(&mut tx)
                        .await?
                        .map(|r| uuid_column(&r, "id"))
                        .transpose()?
                }
            };
            let Some(question) = question else {
                report.answers_skipped += 1;
                continue;
            };
            query(
                "INSERT INTO answers (id, question_id, organization_id, body, created_at, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(answer.id.to_string())
            .bind(question.to_string())
            .bind(org_id.to_string())
            .bind(&answer.body)
            .bind(answer.created_at)
            .bind(answer.updated_at)
            .execute(&mut tx)
            .await
            .map_err(StoreError::unique("answer"))?;
            crate::search::refresh_item(&mut tx, ItemKind::Question, question).await?;
            imported_answers.insert(answer.id);
            report.answers += 1;
        }
        // Accepted answers that moved along stay accepted.
        for item in &archive.items {
            let Some(accepted) = item.accepted_answer else {
                continue;
            };
            if item.kind == ItemKind::Question && imported_answers.contains(&accepted) {
                query("UPDATE questions SET accepted_answer_id = $1 WHERE id = $2")
                    .bind(accepted.to_string())
                    .bind(item.id.to_string())
                    .execute(&mut tx)
                    .await?;
                crate::search::refresh_item(&mut tx, ItemKind::Question, item.id).await?;
            }
        }
        for person in &archive.people {
            let email = Email::parse(&person.email).map_err(|_| {
                StoreError::Refused(format!(
                    "people: {:?} is not an e-mail address",
                    person.email
                ))
            })?;
            let role = Role::parse(&person.role).map_err(|_| {
                StoreError::Refused(format!("people: {:?} is not a role", person.role))
            })?;
            let notify = crate::people::NotifyMode::parse(&person.notify).ok_or_else(|| {
                StoreError::Refused(format!(
                    "people: {:?} is not a notification mode",
                    person.notify
                ))
            })?;
            query(
                "INSERT INTO users (id, email, password_hash, organization_id, role, created_at, totp_secret, notify)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(person.id.to_string())
            .bind(email.as_str())
            .bind(&person.password_hash)
            .bind(org_id.to_string())
            .bind(role.slug())
            .bind(person.created_at)
            .bind(person.totp_secret.as_deref())
            .bind(notify.slug())
            .execute(&mut tx)
            .await
            .map_err(StoreError::unique("user"))?;
            report.people += 1;
        }
        for follower in &archive.followers {
            query(
                "INSERT INTO expected_followers (organization_id, actor_id) VALUES ($1, $2)
                 ON CONFLICT DO NOTHING",
            )
            .bind(org_id.to_string())
            .bind(follower)
            .execute(&mut tx)
            .await?;
            report.expected_followers += 1;
        }
        crate::search::refresh_organization(&mut tx, OrganizationId(org_id)).await?;
        tx.commit().await?;
        Ok(report)
    }

    /// Whether `actor_id` followed `org` at its old home (and has not
    /// been admitted here since).
    pub async fn is_expected_follower(
        &self,
        org: OrganizationId,
        actor_id: &str,
    ) -> Result<bool, StoreError> {
        let found: i64 = query(
            "SELECT COUNT(*) FROM expected_followers WHERE organization_id = $1 AND actor_id = $2",
        )
        .bind(org.to_string())
        .bind(actor_id)
        .scalar(self.pool)
        .await?;
        Ok(found > 0)
    }

    /// An expected follower was admitted: its row goes, so that it is
    /// admitted without approval once only.
    pub async fn forget_expected_follower(
        &self,
        org: OrganizationId,
        actor_id: &str,
    ) -> Result<(), StoreError> {
        query("DELETE FROM expected_followers WHERE organization_id = $1 AND actor_id = $2")
            .bind(org.to_string())
            .bind(actor_id)
            .execute(self.pool)
            .await?;
        Ok(())
    }
}

/// Refuses an archive this version cannot read.
pub fn check_format(archive: &OrganizationArchive) -> Result<(), StoreError> {
    if archive.format != ARCHIVE_FORMAT {
        return Err(StoreError::Refused(format!(
            "format: {:?} is not an Allmende organization archive",
            archive.format
        )));
    }
    if archive.version != ARCHIVE_VERSION {
        return Err(StoreError::Refused(format!(
            "version: this node reads version {ARCHIVE_VERSION}, the archive is version {}",
            archive.version
        )));
    }
    Ok(())
}

/// Writes one archived item as a local item of `org`, with its id and
/// times, and its search entry. Nothing is announced: the organization
/// has no followers here yet, and those it had know the items.
async fn insert_item<T: Item>(
    tx: &mut Tx,
    org: OrganizationId,
    item: &ArchivedItem,
) -> Result<(), StoreError> {
    let draft: T::Draft = serde_json::from_value(item.content.clone())
        .map_err(|e| StoreError::Refused(format!("items: {} {}: {e}", item.kind, item.id)))?;
    let draft = T::validate(&T::to_input(&draft))
        .map_err(|e| StoreError::Refused(format!("items: {} {}: {e}", item.kind, item.id)))?;
    query(format!(
        "INSERT INTO {} (id, organization_id, title, themenfeld, public, content, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        T::KIND.table()
    ))
    .bind(item.id.to_string())
    .bind(org.to_string())
    .bind(T::title(&draft))
    .bind(T::themenfeld(&draft).map(|t| t.slug()))
    .bind(T::is_public(&draft))
    .bind(to_json(&draft))
    .bind(item.created_at)
    .bind(item.updated_at)
    .execute(&mut *tx)
    .await
    .map_err(StoreError::unique("item"))?;
    crate::search::add_item::<T>(tx, item.id, org, &draft, item.created_at).await
}

fn encode(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn decode(text: &str, field: &str) -> Result<Vec<u8>, StoreError> {
    base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .map_err(|e| StoreError::Refused(format!("{field}: not base64: {e}")))
}
