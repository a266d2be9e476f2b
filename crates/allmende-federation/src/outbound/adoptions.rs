//! The documents and activities of adoption declarations: the adopter's
//! Create, Update and Delete of its `Adoption`, and the solution author's
//! `Add`/`Remove` of it to and from the solution's adopters collection.

use allmende_domain::{Adoption, AdoptionId, ItemKind, Organization, OrganizationId, Solution};
use allmende_store::Found;
use serde_json::{json, Value};
use url::Url;

use super::Outbound;
use crate::error::FederationError;
use crate::objects::adoption::{adopters_of, adoption_json, ADOPTION_TYPE};
use crate::objects::item::tombstone_json;
use crate::vocabulary::{context, PUBLIC};

/// An activity document and the inboxes it goes to.
pub(super) type Addressed = (Value, Vec<String>);

impl Outbound {
    /// The ActivityPub id of a declaration kept here.
    pub fn adoption_ap_id(&self, adoption: &Adoption) -> String {
        adoption
            .ap_id
            .clone()
            .unwrap_or_else(|| self.core.urls.adoption(adoption.id.0))
    }

    /// The organization whose solution has the ActivityPub id `solution`,
    /// if the solution (or a copy) is kept here.
    pub async fn solution_author(
        &self,
        solution: &str,
    ) -> Result<Option<OrganizationId>, FederationError> {
        let store = &self.core.store;
        if let Ok(url) = Url::parse(solution) {
            if let Some((ItemKind::Solution, id)) = self.core.urls.local_item(&url) {
                let found: Option<Solution> = store.solutions().get(id).await.found()?;
                return Ok(found.map(|s| s.organization_id));
            }
        }
        Ok(store
            .solutions()
            .find_by_ap_id(solution)
            .await?
            .map(|s| s.organization_id))
    }

    /// The document of a declaration made on this node.
    pub async fn adoption_document(
        &self,
        org: &Organization,
        adoption: &Adoption,
    ) -> Result<Value, FederationError> {
        let author = match self.solution_author(&adoption.solution).await? {
            Some(id) => self
                .core
                .store
                .organizations()
                .get(id)
                .await
                .found()?
                .map(|o| self.actor_id_of(&o)),
            None => None,
        };
        let handle = org.handle.as_str();
        Ok(adoption_json(
            &self.core.urls.adoption(adoption.id.0),
            &self.core.urls.organization(handle),
            &self.core.urls.followers(handle),
            author.as_deref(),
            adoption,
        ))
    }

    /// Create or Update of a local declaration: to the adopter's
    /// followers and to the solution's author.
    pub(super) async fn adoption_activity(
        &self,
        org: &Organization,
        id: uuid::Uuid,
        verb: &str,
    ) -> Result<Addressed, FederationError> {
        let adoption = self.core.store.adoptions().get(AdoptionId(id)).await?;
        let object = self.adoption_document(org, &adoption).await?;
        let mut inboxes = self.core.store.follows().follower_inboxes(org.id).await?;
        let mut concerned = Vec::new();
        if let Some(author) = self.solution_author(&adoption.solution).await? {
            self.reach(author, &mut inboxes, &mut concerned).await?;
        }
        Ok(self.wrap(org, verb, object, inboxes, &concerned))
    }

    /// Delete of a withdrawn local declaration, leaving a Tombstone.
    pub(super) async fn adoption_withdrawal(
        &self,
        org: &Organization,
        ap_id: &str,
        solution_author: Option<OrganizationId>,
    ) -> Result<Addressed, FederationError> {
        let now = chrono::Utc::now();
        self.core
            .store
            .activities()
            .add_tombstone(ap_id, ADOPTION_TYPE, now)
            .await?;
        let object = tombstone_json(ap_id, ADOPTION_TYPE, now);
        let mut inboxes = self.core.store.follows().follower_inboxes(org.id).await?;
        let mut concerned = Vec::new();
        if let Some(author) = solution_author {
            self.reach(author, &mut inboxes, &mut concerned).await?;
        }
        let followers = self.core.urls.followers(org.handle.as_str());
        let addressing = (json!([PUBLIC]), json!([followers]));
        Ok(self.addressed_as(org, "Delete", object, inboxes, addressing, &concerned))
    }

    /// `Add` or `Remove` by the solution's author of a declaration (by its
    /// ActivityPub id) to or from the solution's adopters, to the
    /// author's followers. Receivers fetch the declaration from its origin.
    pub(super) async fn adopters_change(
        &self,
        org: &Organization,
        verb: &str,
        adoption: &str,
        solution: &str,
    ) -> Result<Addressed, FederationError> {
        let actor = self.core.urls.organization(org.handle.as_str());
        let followers = self.core.urls.followers(org.handle.as_str());
        let doc = json!({
            "@context": context(),
            "id": self.core.urls.new_activity(verb),
            "type": verb,
            "actor": actor,
            "object": adoption,
            "target": {
                "id": adopters_of(solution),
                "type": "OrderedCollection",
                "attributedTo": actor,
            },
            "to": [PUBLIC],
            "cc": [followers],
        });
        let inboxes = self.core.store.follows().follower_inboxes(org.id).await?;
        Ok((doc, inboxes))
    }

    /// `Add` of a declaration kept here (by its row).
    pub(super) async fn adopter_added(
        &self,
        org: &Organization,
        id: uuid::Uuid,
    ) -> Result<Addressed, FederationError> {
        let adoption = self.core.store.adoptions().get(AdoptionId(id)).await?;
        let ap_id = self.adoption_ap_id(&adoption);
        self.adopters_change(org, "Add", &ap_id, &adoption.solution)
            .await
    }

    /// The adopters collection of a local solution: the declarations'
    /// ids, production first.
    pub async fn adopters_document(&self, solution: &str) -> Result<Value, FederationError> {
        let adoptions = self.core.store.adoptions().of_solution(solution).await?;
        let items: Vec<String> = adoptions.iter().map(|a| self.adoption_ap_id(a)).collect();
        Ok(json!({
            "@context": context(),
            "id": adopters_of(solution),
            "type": "OrderedCollection",
            "attributedTo": match self.solution_author(solution).await? {
                Some(author) => self.core.store.organizations().get(author).await.found()?.map(|o| Value::String(self.actor_id_of(&o))).unwrap_or(Value::Null),
                None => Value::Null,
            },
            "totalItems": items.len(),
            "orderedItems": items,
        }))
    }
}
