//! Adoption declarations from other nodes, and the adopters lists of
//! solutions kept here.
//!
//! - `Create`/`Update` of an `Adoption`: by the adopting organization
//!   itself. The declaration must be on its actor's domain and attributed
//!   to it (checked before, in `items.rs`); it is kept when the solution
//!   is one of this node's (then its author tells its followers, `Add`)
//!   or when someone here follows the adopter. Older updates than what is
//!   stored, and declarations withdrawn before they arrived, change
//!   nothing.
//! - `Delete` of an `Adoption`: withdrawn, and remembered as withdrawn.
//! - `Add`/`Remove` by a solution's author to/from `{solution}/adopters`:
//!   the solution must be the sender's. An added declaration is never
//!   taken from the activity: it is fetched from its origin and checked
//!   (its own domain, attributed to an actor there, of that solution).

use allmende_domain::Solution;
use allmende_store::{Found, Stored};
use chrono::{SubsecRound, Utc};
use serde_json::Value;
use url::Url;

use super::{Inbound, Sender};
use crate::error::FederationError;
use crate::objects::activity::Incoming;
use crate::objects::adoption::{adopters_of, ReceivedAdoption};
use crate::objects::id_of;
use crate::resolver::FetchBudget;
use crate::urls::same_origin;

/// The actor types that declare the use of solutions: organizations
/// (Allmende's `Organization` and `Group` actors).
const ADOPTER_TYPES: &[&str] = &["Organization", "Group"];

impl Inbound {
    /// A checked `Adoption` object of `sender` (id on its domain,
    /// attributed to it).
    pub(super) async fn store_adoption(
        &self,
        object: &Value,
        sender: &Sender,
    ) -> Result<(), FederationError> {
        let received = ReceivedAdoption::parse(object)?;
        if received.adopter.as_str() != sender.actor.actor_id {
            return Err(FederationError::Forbidden(
                "adoption declared for another organization".into(),
            ));
        }
        if !ADOPTER_TYPES.contains(&sender.actor.actor_type.as_str()) {
            return Err(FederationError::Forbidden(format!(
                "a {} cannot declare the use of a solution; organizations do",
                sender.actor.actor_type
            )));
        }
        self.check_solution_name(&received.solution)?;
        let home = self.local_solution_author(&received.solution).await?;
        // A solution of this node that is not public (or not there) is
        // not declared here, whoever follows the sender.
        if home.is_none()
            && (self.core.urls.is_local(&received.solution)
                || !sender.followed_here(&self.core.store).await?)
        {
            return Ok(());
        }
        self.keep_adoption(&received, sender.org.id, home).await
    }

    /// The local organization whose public solution `url` is, if it is
    /// one here.
    async fn local_solution_author(
        &self,
        url: &Url,
    ) -> Result<Option<allmende_domain::OrganizationId>, FederationError> {
        let Some(id) = self.core.urls.local_solution(url) else {
            return Ok(None);
        };
        let found: Option<Solution> = self
            .core
            .store
            .solutions()
            .read(allmende_domain::Viewer::Public, id)
            .await
            .found()?;
        Ok(found.map(|s| s.organization_id))
    }

    /// A URL of this node that names a solution must be its exact id (one
    /// solution, one name: a query or fragment would make a second
    /// declaration of the same organization look different).
    fn check_solution_name(&self, url: &Url) -> Result<(), FederationError> {
        if self.core.urls.is_local(url) && self.core.urls.local_solution(url).is_none() {
            return Err(FederationError::BadRequest(format!(
                "{url} is not the id of a solution here"
            )));
        }
        Ok(())
    }

    async fn keep_adoption(
        &self,
        received: &ReceivedAdoption,
        adopter: allmende_domain::OrganizationId,
        home: Option<allmende_domain::OrganizationId>,
    ) -> Result<(), FederationError> {
        let draft = received.input.validate().map_err(|e| {
            let first = e.first();
            FederationError::BadRequest(format!(
                "adoption.{}: {}",
                first.field,
                first.problem.message_en()
            ))
        })?;
        // Microseconds, as PostgreSQL keeps them: a repeated Update then
        // compares equal to what was stored.
        let now = Utc::now().trunc_subsecs(6);
        let updated = received
            .updated
            .filter(|d| *d <= now)
            .unwrap_or(now)
            .trunc_subsecs(6);
        let published = received
            .published
            .filter(|d| *d <= now)
            .unwrap_or(updated)
            .trunc_subsecs(6);
        let stored = self
            .core
            .store
            .adoptions()
            .store_remote(
                adopter,
                received.solution.as_str(),
                received.id.as_str(),
                &draft,
                home,
                published,
                updated,
            )
            .await?;
        match stored {
            Stored::OwnedByAnother => Err(FederationError::Forbidden(
                "adoption owned by another actor".into(),
            )),
            Stored::New | Stored::Changed | Stored::Ignored => Ok(()),
        }
    }

    /// A Delete of something that is (or was, or will arrive as) an
    /// adoption: `true` when it was one and is handled.
    pub(super) async fn withdraw_adoption(
        &self,
        activity: &Incoming,
        id: &Url,
        sender: &Sender,
    ) -> Result<bool, FederationError> {
        let former_type = activity.object.get("formerType").and_then(Value::as_str);
        let known = self
            .core
            .store
            .adoptions()
            .find_by_ap_id(id.as_str())
            .await?;
        if known.is_none() && former_type != Some(crate::objects::adoption::ADOPTION_TYPE) {
            return Ok(false);
        }
        if known.is_some_and(|a| a.organization_id != sender.org.id) {
            return Err(FederationError::Forbidden(
                "adoption owned by another actor".into(),
            ));
        }
        self.core
            .store
            .adoptions()
            .withdraw_remote(id.as_str(), sender.org.id, Utc::now())
            .await?;
        Ok(true)
    }

    /// `Add` or `Remove` of a declaration to or from a solution's adopters.
    pub(super) async fn on_adopters_change(
        &self,
        activity: &Incoming,
        sender: &Sender,
        budget: &mut FetchBudget,
    ) -> Result<(), FederationError> {
        let Some(target) = activity.raw.get("target").and_then(id_of) else {
            return Ok(()); // not about adopters
        };
        let Some(solution) = target
            .as_str()
            .strip_suffix("/adopters")
            .and_then(|s| Url::parse(s).ok())
        else {
            return Ok(());
        };
        if adopters_of(solution.as_str()) != target.as_str() {
            return Ok(());
        }
        if !same_origin(&solution, &activity.actor) {
            return Err(FederationError::Forbidden(
                "adopters of a solution on another domain".into(),
            ));
        }
        // Only the solution's author speaks for its adopters, and only a
        // solution kept here has adopters worth keeping.
        let Some(copy) = self
            .core
            .store
            .solutions()
            .find_by_ap_id(solution.as_str())
            .await?
        else {
            return Ok(());
        };
        if copy.organization_id != sender.org.id {
            return Err(FederationError::Forbidden(
                "adopters of another actor's solution".into(),
            ));
        }
        let adoption = id_of(&activity.object)
            .ok_or_else(|| FederationError::BadRequest("Add/Remove without object".into()))?;
        if activity.kind == "Remove" {
            self.core
                .store
                .adoptions()
                .drop_from_solution(adoption.as_str(), solution.as_str())
                .await?;
            return Ok(());
        }
        if self.core.urls.is_local(&adoption) {
            return Ok(()); // our own declaration: known here already
        }
        let object = match self.resolver.fetch_object(&adoption, budget).await {
            Ok(doc) => doc,
            // Withdrawn meanwhile: nothing to add.
            Err(FederationError::NotFound) => return Ok(()),
            Err(e) => return Err(e),
        };
        let received = ReceivedAdoption::parse(&object)?;
        if received.id != adoption
            || !same_origin(&received.id, &received.adopter)
            || received.solution != solution
        {
            return Err(FederationError::Forbidden(
                "added adoption does not check out at its origin".into(),
            ));
        }
        let (adopter, adopter_actor) = self.resolver.actor_by_id(&received.adopter, budget).await?;
        if !ADOPTER_TYPES.contains(&adopter_actor.actor_type.as_str()) {
            return Err(FederationError::Forbidden(
                "added adoption not declared by an organization".into(),
            ));
        }
        self.keep_adoption(&received, adopter.id, None).await
    }
}
