//! Create, Update and Delete: projects, questions, solutions and answers
//! from Allmende nodes, replies and posts from other fediverse software,
//! and profile updates of actors.
//!
//! An object must be on its actor's domain and attributed to it. Allmende
//! items are rebuilt from `item` and validated with the same rules as a
//! form on this node; HTML from other software is sanitised. New objects
//! are kept only from actors a local organization follows (answers: when
//! they reply to a question here), so strangers cannot fill the store.

use allmende_domain::{
    for_item_kind, AnswerId, AnswerInput, Item, ItemKind, OrganizationId, Question,
};
use allmende_store::{Found, Post, RemoteAnswer};
use chrono::Utc;
use serde_json::Value;
use url::Url;
use uuid::Uuid;

use super::Inbound;
use super::Sender;
use crate::error::FederationError;
use crate::objects::activity::Incoming;
use crate::objects::{date_field, id_of, ids_of, str_field, type_of};
use crate::resolver::FetchBudget;
use crate::sanitize::{clean_html, html_to_text};
use crate::urls::same_origin;

const ACTOR_TYPES: &[&str] = &["Organization", "Person", "Group", "Service", "Application"];
const POST_TYPES: &[&str] = &["Note", "Article", "Page"];

impl Inbound {
    pub(crate) async fn on_create_or_update(
        &self,
        activity: &Incoming,
        sender: &Sender,
        budget: &mut FetchBudget,
    ) -> Result<(), FederationError> {
        let object = match &activity.object {
            Value::Object(_) => activity.object.clone(),
            other => {
                let id = id_of(other).ok_or_else(|| bad("no object"))?;
                self.resolver.fetch_object(&id, budget).await?
            }
        };
        let id = id_of(&object).ok_or_else(|| bad("object without id"))?;
        if !same_origin(&id, &activity.actor) {
            return Err(FederationError::Forbidden(format!(
                "object {id} not on the actor's domain"
            )));
        }
        let kind = type_of(&object).unwrap_or_default();
        if ACTOR_TYPES.contains(&kind) {
            if id != activity.actor {
                return Err(FederationError::Forbidden("updating another actor".into()));
            }
            self.resolver.store_actor(&object, &activity.actor).await?;
            return Ok(());
        }
        let authors = ids_of(object.get("attributedTo"));
        if !authors.is_empty() && !authors.contains(&activity.actor) {
            return Err(FederationError::Forbidden(
                "object attributed to someone else".into(),
            ));
        }
        if kind == crate::objects::adoption::ADOPTION_TYPE {
            return self.store_adoption(&object, sender).await;
        }
        // Allmende items by their `itemType`; answers (`itemType` answer)
        // and notes of other software by what they reply to.
        match str_field(&object, "itemType").and_then(ItemKind::parse) {
            Some(item_kind) => for_item_kind!(item_kind,
                T => self.store_item::<T>(&id, &object, sender).await,
                _not_an_item => self.store_note(&id, &object, kind, sender).await),
            None => self.store_note(&id, &object, kind, sender).await,
        }
    }

    /// A note, article or page that is not an Allmende item: an answer when
    /// it replies to a question known here, a post otherwise. Other types
    /// (Image, Event, Question polls, …) are not kept.
    async fn store_note(
        &self,
        id: &Url,
        object: &Value,
        as_type: &str,
        sender: &Sender,
    ) -> Result<(), FederationError> {
        if !POST_TYPES.contains(&as_type) {
            tracing::debug!(%id, as_type, "object type not kept");
            return Ok(());
        }
        match self.replied_question(object).await? {
            Some(question) => self.store_answer(id, object, question, sender).await,
            None => self.store_post(id, object, sender).await,
        }
    }

    /// Whether a new item or post of `sender` is kept: only when a local
    /// organization follows it (the feed is where they are shown). Posts
    /// of strangers merely addressed here would be stored and never shown.
    async fn followed_here(&self, sender: &Sender) -> Result<bool, FederationError> {
        if sender.is_admitted() {
            return Ok(true);
        }
        sender.followed_here(&self.core.store).await
    }

    async fn store_item<T: Item>(
        &self,
        id: &Url,
        object: &Value,
        sender: &Sender,
    ) -> Result<(), FederationError> {
        let input: T::Input = object
            .get("item")
            .cloned()
            .map(serde_json::from_value)
            .transpose()
            .map_err(|e| bad(&format!("item: {e}")))?
            .ok_or_else(|| bad("itemType without item"))?;
        let draft = T::validate(&input).map_err(|e| {
            let first = e.first();
            bad(&format!(
                "item.{}: {}",
                first.field,
                first.problem.message_en()
            ))
        })?;
        let items = self.core.store.items::<T>();
        let now = Utc::now();
        let published = date_field(object, "published")
            .filter(|d| *d <= now)
            .unwrap_or(now);
        let updated = date_field(object, "updated")
            .filter(|d| *d <= now)
            .unwrap_or(now);
        let stored = match items.find_by_ap_id(id.as_str()).await? {
            Some(existing) => {
                if existing.organization_id() != sender.org.id {
                    return Err(FederationError::Forbidden(
                        "object owned by another actor".into(),
                    ));
                }
                // A solution kept only as a variant of one here (it was
                // one, its author is not followed, no group carries it)
                // stays only while it is one; its declarations go with it.
                if self.kept_as_variant::<T>(&existing)
                    && !self.followed_here(sender).await?
                    && !self.variant_here::<T>(object).await?
                    && self
                        .core
                        .store
                        .groups()
                        .of_object(id.as_str())
                        .await?
                        .is_empty()
                {
                    self.delete_copy::<T>(id, sender.org.id).await?;
                    return Ok(());
                }
                items.update_remote(existing.id(), &draft, updated).await?
            }
            None => {
                // A variant of one of this node's public solutions is kept
                // from anyone: the original lists its variants.
                if !self.followed_here(sender).await? && !self.variant_here::<T>(object).await? {
                    return Ok(());
                }
                items
                    .insert_remote(sender.org.id, &draft, id.as_str(), published, updated)
                    .await?
            }
        };
        if T::KIND == ItemKind::Question {
            self.apply_accepted_answer(stored.id(), object).await?;
        }
        Ok(())
    }

    /// Whether a stored copy is a variant of one of this node's solutions
    /// (the reason a copy from an author nobody follows is kept).
    fn kept_as_variant<T: Item>(&self, copy: &T) -> bool {
        let mut input = T::to_input(copy.draft());
        T::original_mut(&mut input)
            .and_then(|o| o.as_deref().and_then(|u| Url::parse(u).ok()))
            .is_some_and(|o| self.core.urls.local_solution(&o).is_some())
    }

    /// Whether a solution object is a variant of one of this node's public
    /// solutions, named exactly by its id.
    async fn variant_here<T: Item>(&self, object: &Value) -> Result<bool, FederationError> {
        if T::KIND != ItemKind::Solution {
            return Ok(false);
        }
        let Some(id) = super::variant_of(object).and_then(|o| self.core.urls.local_solution(&o))
        else {
            return Ok(false);
        };
        let found: Option<allmende_domain::Solution> = self
            .core
            .store
            .solutions()
            .read(allmende_domain::Viewer::Public, id)
            .await
            .found()?;
        Ok(found.is_some())
    }

    /// A question's `acceptedAnswer`, when it names an answer known here.
    async fn apply_accepted_answer(
        &self,
        question: Uuid,
        object: &Value,
    ) -> Result<(), FederationError> {
        let answer = match object.get("acceptedAnswer").and_then(id_of) {
            Some(url) => self.known_answer(&url).await?,
            None => None,
        };
        let question = allmende_domain::QuestionId(question);
        match answer {
            Some(answer) if answer.question_id == question => {
                self.core
                    .store
                    .answers()
                    .set_accepted_remote(question, Some(answer.id), Utc::now())
                    .await?
            }
            Some(_) => return Err(bad("accepted answer belongs to another question")),
            None if object.get("acceptedAnswer").is_none() => {
                self.core
                    .store
                    .answers()
                    .set_accepted_remote(question, None, Utc::now())
                    .await?
            }
            None => {} // an answer this node never received
        }
        Ok(())
    }

    async fn known_answer(
        &self,
        url: &Url,
    ) -> Result<Option<allmende_domain::Answer>, FederationError> {
        if let Some((ItemKind::Answer, id)) = self.core.urls.local_item(url) {
            return Ok(self.core.store.answers().get(AnswerId(id)).await.found()?);
        }
        Ok(self
            .core
            .store
            .answers()
            .find_by_ap_id(url.as_str())
            .await?)
    }

    /// The question (local, or a remote copy) an object replies to.
    async fn replied_question(&self, object: &Value) -> Result<Option<Question>, FederationError> {
        let Some(parent) = object.get("inReplyTo").and_then(id_of) else {
            return Ok(None);
        };
        if let Some((ItemKind::Question, id)) = self.core.urls.local_item(&parent) {
            return Ok(self.core.store.questions().get(id).await.found()?);
        }
        Ok(self
            .core
            .store
            .questions()
            .find_by_ap_id(parent.as_str())
            .await?)
    }

    async fn store_answer(
        &self,
        id: &Url,
        object: &Value,
        question: Question,
        sender: &Sender,
    ) -> Result<(), FederationError> {
        // Allmende answers are Markdown; so are those of software that
        // sends its Markdown as `source`; others are sanitised HTML.
        let markdown_source = object
            .get("source")
            .filter(|s| str_field(s, "mediaType") == Some("text/markdown"))
            .and_then(|s| str_field(s, "content"));
        let (body, html) = match object
            .get("item")
            .and_then(|i| i.get("body"))
            .and_then(Value::as_str)
        {
            Some(text) if str_field(object, "itemType") == Some(ItemKind::Answer.slug()) => {
                (text.to_owned(), None)
            }
            _ if markdown_source.is_some() => {
                (markdown_source.unwrap_or_default().to_owned(), None)
            }
            _ => {
                let html = clean_html(str_field(object, "content").unwrap_or_default());
                (html_to_text(&html), Some(html))
            }
        };
        // Only who may read a followers-only question may answer it.
        if !self.core.may_read(sender.org.id, &question).await? {
            return Err(FederationError::Forbidden(
                "answer to a question its author may not read".into(),
            ));
        }
        let checked = AnswerInput { body: Some(body) }
            .validate()
            .map_err(|e| bad(&format!("answer: {}", e.first().problem.message_en())))?;
        let now = Utc::now();
        let remote = RemoteAnswer {
            ap_id: id.as_str(),
            body: &checked.body,
            body_html: html.as_deref(),
            published: date_field(object, "published")
                .filter(|d| *d <= now)
                .unwrap_or(now),
            updated: date_field(object, "updated")
                .filter(|d| *d <= now)
                .unwrap_or(now),
        };
        let answers = self.core.store.answers();
        match answers.find_by_ap_id(id.as_str()).await? {
            Some(existing) if existing.organization_id != sender.org.id => {
                return Err(FederationError::Forbidden(
                    "answer owned by another actor".into(),
                ))
            }
            Some(existing) => {
                answers.update_remote(existing.id, &remote).await?;
            }
            None => {
                answers
                    .insert_remote(question.id, sender.org.id, &remote)
                    .await?;
            }
        }
        Ok(())
    }

    async fn store_post(
        &self,
        id: &Url,
        object: &Value,
        sender: &Sender,
    ) -> Result<(), FederationError> {
        let existing = self.core.store.posts().find_by_ap_id(id.as_str()).await?;
        if let Some(post) = &existing {
            if post.organization_id != sender.org.id {
                return Err(FederationError::Forbidden(
                    "post owned by another actor".into(),
                ));
            }
        } else if !self.followed_here(sender).await? {
            return Ok(());
        }
        let now = Utc::now();
        let name = str_field(object, "name")
            .map(|n| {
                allmende_domain::text::clean_line(n)
                    .trim()
                    .chars()
                    .take(200)
                    .collect::<String>()
            })
            .filter(|n| !n.is_empty());
        let post = Post {
            id: existing.as_ref().map_or_else(Uuid::now_v7, |p| p.id),
            ap_id: id.to_string(),
            organization_id: sender.org.id,
            name,
            content_html: clean_html(str_field(object, "content").unwrap_or_default()),
            url: str_field(object, "url")
                .and_then(|u| Url::parse(u).ok())
                .filter(|u| matches!(u.scheme(), "http" | "https"))
                .map(String::from),
            published: date_field(object, "published")
                .filter(|d| *d <= now)
                .unwrap_or(now),
        };
        self.core.store.posts().upsert(&post, now).await?;
        Ok(())
    }

    pub(super) async fn on_delete(
        &self,
        activity: &Incoming,
        sender: &Sender,
    ) -> Result<(), FederationError> {
        let id = id_of(&activity.object).ok_or_else(|| bad("no object"))?;
        if !same_origin(&id, &activity.actor) {
            return Err(FederationError::Forbidden(format!(
                "object {id} not on the actor's domain"
            )));
        }
        let store = &self.core.store;
        if id == activity.actor {
            store.remote_actors().delete(id.as_str()).await?;
            return Ok(());
        }
        if self.withdraw_adoption(activity, &id, sender).await? {
            return Ok(());
        }
        let owner = sender.org.id;
        for kind in ItemKind::ALL.into_iter().filter(|k| k.is_item()) {
            let deleted = for_item_kind!(kind,
                T => self.delete_copy::<T>(&id, owner).await?,
                _not_an_item => false);
            if deleted {
                return Ok(());
            }
        }
        if let Some(answer) = store.answers().find_by_ap_id(id.as_str()).await? {
            if answer.organization_id != owner {
                return Err(FederationError::Forbidden(
                    "object owned by another actor".into(),
                ));
            }
            store.answers().delete(answer.id).await?;
            return Ok(());
        }
        store.posts().delete(id.as_str(), owner).await?;
        Ok(())
    }
}

impl Inbound {
    /// Deletes the local copy of the item `id` if there is one and `owner`
    /// wrote it; `false` if there is none.
    async fn delete_copy<T: Item>(
        &self,
        id: &Url,
        owner: OrganizationId,
    ) -> Result<bool, FederationError> {
        let items = self.core.store.items::<T>();
        let Some(item) = items.find_by_ap_id(id.as_str()).await? else {
            return Ok(false);
        };
        if item.organization_id() != owner {
            return Err(FederationError::Forbidden(
                "object owned by another actor".into(),
            ));
        }
        items.delete_remote(item.id()).await?;
        if T::KIND == ItemKind::Solution {
            let urls = &self.core.urls;
            self.core
                .store
                .adoptions()
                .drop_of_solution(id.as_str(), |a| urls.adoption(a))
                .await?;
        }
        Ok(true)
    }
}

fn bad(message: &str) -> FederationError {
    FederationError::BadRequest(message.to_owned())
}
