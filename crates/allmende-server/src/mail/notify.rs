//! Turns notification events into mails (or digest entries) for the
//! people they concern:
//!
//! - an answer to a question of your organization (not your own answer);
//! - your organization's answer accepted by the asker;
//! - a new item on a service you watch, or shared with a group you watch,
//!   if you may read it and it is not your organization's own.
//!
//! Items that arrive long after they were published (a backfill when
//! someone is followed) are not news: older than [`NEWS_DAYS`], they are
//! not notified.

use allmende_domain::{
    AnswerId, Item, ItemKind, Organization, Project, Question, Solution, Viewer,
};
use allmende_store::notifications::{Event, WatchKind};
use allmende_store::{StoreError, User};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::compose::{self, Notice};
use crate::state::AppState;

pub const NEWS_DAYS: i64 = 7;

/// Handles one event. A subject that is gone (deleted since) is no news.
pub async fn dispatch(
    state: &AppState,
    event: &Event,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let outcome = match event {
        Event::Answer { answer, question } => answered(state, *answer, *question, now).await,
        Event::Accepted { answer, question } => accepted(state, *answer, *question, now).await,
        Event::Item { kind, id } => new_item(state, *kind, *id, None, now).await,
        Event::SharedWithGroup { group, kind, id } => {
            new_item(state, *kind, *id, Some(*group), now).await
        }
    };
    match outcome {
        Err(StoreError::NotFound) => Ok(()),
        other => other,
    }
}

async fn local_org(
    state: &AppState,
    id: allmende_domain::OrganizationId,
) -> Result<Option<Organization>, StoreError> {
    let org = state.store.organizations().get(id).await?;
    Ok(org.is_local().then_some(org))
}

async fn answered(
    state: &AppState,
    answer: Uuid,
    question: Uuid,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let q: Question = state.store.items::<Question>().get(question).await?;
    if local_org(state, q.organization_id).await?.is_none() {
        return Ok(());
    }
    let a = state.store.answers().get(AnswerId(answer)).await?;
    if a.organization_id == q.organization_id {
        return Ok(());
    }
    let by = state.store.organizations().get(a.organization_id).await?;
    let title = &q.content.title;
    let notice = Notice {
        subject_de: format!("Neue Antwort auf „{title}“"),
        subject_en: format!("New answer to “{title}”"),
        text_de: format!(
            "{} hat die Frage Ihrer Organisation „{title}“ beantwortet.",
            by.profile.name
        ),
        text_en: format!(
            "{} answered your organization's question “{title}”.",
            by.profile.name
        ),
        url: state
            .config
            .url(&format!("/questions/{}#answer-{}", q.id, a.id)),
    };
    let people = state
        .store
        .notifications()
        .recipients_in(q.organization_id)
        .await?;
    tell(state, &people, &format!("answer:{answer}"), &notice, now).await
}

async fn accepted(
    state: &AppState,
    answer: Uuid,
    question: Uuid,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let a = state.store.answers().get(AnswerId(answer)).await?;
    if local_org(state, a.organization_id).await?.is_none() {
        return Ok(());
    }
    let q: Question = state.store.items::<Question>().get(question).await?;
    if q.organization_id == a.organization_id {
        return Ok(());
    }
    let asker = state.store.organizations().get(q.organization_id).await?;
    let title = &q.content.title;
    let notice = Notice {
        subject_de: format!("Antwort akzeptiert: „{title}“"),
        subject_en: format!("Answer accepted: “{title}”"),
        text_de: format!(
            "{} hat die Antwort Ihrer Organisation auf „{title}“ als hilfreichste markiert.",
            asker.profile.name
        ),
        text_en: format!(
            "{} marked your organization's answer to “{title}” as the most helpful.",
            asker.profile.name
        ),
        url: state
            .config
            .url(&format!("/questions/{}#answer-{}", q.id, a.id)),
    };
    let people = state
        .store
        .notifications()
        .recipients_in(a.organization_id)
        .await?;
    tell(state, &people, &format!("accepted:{answer}"), &notice, now).await
}

/// What the notification needs of an item, whatever its kind.
struct Arrived {
    title: String,
    author: allmende_domain::OrganizationId,
    published: DateTime<Utc>,
    services: Vec<String>,
}

fn arrived<T: Item>(item: &T) -> Arrived {
    Arrived {
        title: T::title(item.draft()).to_owned(),
        author: item.organization_id(),
        published: item.created_at(),
        services: T::facets(item.draft())
            .services
            .iter()
            .map(|s| s.slug())
            .collect(),
    }
}

async fn may_read(state: &AppState, kind: ItemKind, id: Uuid, user: &User) -> bool {
    let viewer = Viewer::Member(user.organization_id);
    match kind {
        ItemKind::Project => state
            .store
            .items::<Project>()
            .read(viewer, id)
            .await
            .is_ok(),
        ItemKind::Question => state
            .store
            .items::<Question>()
            .read(viewer, id)
            .await
            .is_ok(),
        ItemKind::Solution => state
            .store
            .items::<Solution>()
            .read(viewer, id)
            .await
            .is_ok(),
        _ => false,
    }
}

async fn new_item(
    state: &AppState,
    kind: ItemKind,
    id: Uuid,
    group: Option<Uuid>,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let item = match kind {
        ItemKind::Project => arrived(&state.store.items::<Project>().get(id).await?),
        ItemKind::Question => arrived(&state.store.items::<Question>().get(id).await?),
        ItemKind::Solution => arrived(&state.store.items::<Solution>().get(id).await?),
        _ => return Ok(()),
    };
    if now - item.published > chrono::Duration::days(NEWS_DAYS) {
        return Ok(());
    }
    // Shared with a group: its watchers; otherwise those of its services.
    let (watch_kind, targets) = match group {
        Some(g) => (WatchKind::Group, vec![g.to_string()]),
        None => (WatchKind::Service, item.services.clone()),
    };
    let watchers = state
        .store
        .notifications()
        .watchers(watch_kind, &targets)
        .await?;
    if watchers.is_empty() {
        return Ok(());
    }
    let author = state.store.organizations().get(item.author).await?;
    let (what_de, what_en) = match kind {
        ItemKind::Project => ("Neues Vorhaben", "New project"),
        ItemKind::Question => ("Neue Frage", "New question"),
        _ => ("Neue Lösung", "New solution"),
    };
    let (why_de, why_en) = match group {
        Some(g) => {
            let name = state
                .store
                .organizations()
                .get(allmende_domain::OrganizationId(g))
                .await?
                .profile
                .name;
            (
                format!("in der Gruppe {name}, die Sie beobachten"),
                format!("in the group {name}, which you watch"),
            )
        }
        None => (
            "zu einer Leistung, die Sie beobachten".to_owned(),
            "on a service you watch".to_owned(),
        ),
    };
    let title = &item.title;
    let notice = Notice {
        subject_de: format!("{what_de}: „{title}“"),
        subject_en: format!("{what_en}: “{title}”"),
        text_de: format!(
            "{} hat {why_de} „{title}“ veröffentlicht.",
            author.profile.name
        ),
        text_en: format!("{} published “{title}” {why_en}.", author.profile.name),
        url: state.config.url(&format!("/{}/{id}", kind.collection())),
    };
    let mut readers = Vec::new();
    for (user, mode) in watchers {
        if user.organization_id != item.author && may_read(state, kind, id, &user).await {
            readers.push((user, mode));
        }
    }
    tell(
        state,
        &readers,
        &format!("item:{}:{id}", kind.slug()),
        &notice,
        now,
    )
    .await
}

/// Mails the notice to each person who wants it at once, adds it to the
/// digest of those who want a daily one; once per person and subject
/// (the mark and the mail are written together).
async fn tell(
    state: &AppState,
    people: &[(User, String)],
    subject: &str,
    notice: &Notice,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let site = state.config.public_url.host_str().unwrap_or("").to_owned();
    let store = state.store.notifications();
    for (user, mode) in people {
        if mode == "daily" {
            store
                .digest_once(
                    user.id,
                    subject,
                    (
                        &format!("{}: {}", notice.subject_de, notice.text_de),
                        &format!("{}: {}", notice.subject_en, notice.text_en),
                    ),
                    &notice.url,
                    now,
                )
                .await?;
        } else {
            let unsubscribe = unsubscribe_url(state, user).await?;
            let mail = compose::notification(user.email.as_str(), notice, &site, unsubscribe);
            store.send_once(user.id, subject, &mail, now).await?;
        }
    }
    state.mailer.wake();
    Ok(())
}

/// The link that turns a person's notifications off without logging in.
pub async fn unsubscribe_url(state: &AppState, user: &User) -> Result<String, StoreError> {
    let token = state
        .store
        .people()
        .unsubscribe_token(user.id, &crate::auth::random_secret(24))
        .await?;
    Ok(state.config.url(&format!(
        "/notifications/unsubscribe?u={}&t={token}",
        user.id
    )))
}
