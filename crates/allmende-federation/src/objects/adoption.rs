//! Adoption declarations as ActivityStreams objects, in Allmende's
//! namespace: `type: Adoption`, `attributedTo` the adopting organization,
//! `object` the solution, `target` the solution's adopters collection
//! (`{solution}/adopters`, owned by the solution's author, as in FEP-400e),
//! and `adoption` carrying the declaration in the shape of the JSON API's
//! input, which receivers validate with the same rules as a form.

use allmende_domain::{Adoption, AdoptionInput};
use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use url::Url;

use super::{date_field, escape_attribute, id_of, ids_of, type_of};
use crate::error::FederationError;
use crate::vocabulary::{context, PUBLIC};

pub const ADOPTION_TYPE: &str = "Adoption";

/// The adopters collection of the solution `solution`.
pub fn adopters_of(solution: &str) -> String {
    format!("{solution}/adopters")
}

/// The object of a declaration made on this node: public, to the
/// adopter's followers and to the solution's author.
pub fn adoption_json(
    id: &str,
    actor: &str,
    followers: &str,
    solution_author: Option<&str>,
    adoption: &Adoption,
) -> Value {
    let input = AdoptionInput::from(&adoption.content);
    let mut cc = vec![Value::String(followers.to_owned())];
    cc.extend(solution_author.map(|a| Value::String(a.to_owned())));
    let stage = adoption.content.stage.label_en();
    let mut content = format!(
        "<p>Uses <a href=\"{0}\">{0}</a> ({stage})",
        escape_attribute(&adoption.solution)
    );
    if let Some(since) = adoption.content.since {
        content.push_str(&format!(" since {since}"));
    }
    content.push_str(".</p>");
    json!({
        "@context": context(),
        "id": id,
        "type": ADOPTION_TYPE,
        "attributedTo": actor,
        "object": adoption.solution,
        "target": adopters_of(&adoption.solution),
        "content": content,
        "mediaType": "text/html",
        "published": adoption.created_at.to_rfc3339(),
        "updated": adoption.updated_at.to_rfc3339(),
        "to": [PUBLIC],
        "cc": cc,
        "adoption": input,
    })
}

/// A received Adoption object, checked for shape (not yet for who sent it).
pub struct ReceivedAdoption {
    pub id: Url,
    pub adopter: Url,
    pub solution: Url,
    pub input: AdoptionInput,
    pub published: Option<DateTime<Utc>>,
    pub updated: Option<DateTime<Utc>>,
}

impl ReceivedAdoption {
    pub fn parse(object: &Value) -> Result<Self, FederationError> {
        let bad = |m: &str| FederationError::BadRequest(format!("adoption: {m}"));
        if type_of(object) != Some(ADOPTION_TYPE) {
            return Err(bad("not an Adoption"));
        }
        let id = id_of(object).ok_or_else(|| bad("no id"))?;
        let authors = ids_of(object.get("attributedTo"));
        let [adopter] = authors.as_slice() else {
            return Err(bad("attributedTo must name one actor"));
        };
        let solution = object
            .get("object")
            .and_then(id_of)
            .filter(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some())
            .ok_or_else(|| bad("object must be the http(s) id of a solution"))?;
        let input: AdoptionInput = object
            .get("adoption")
            .cloned()
            .map(serde_json::from_value)
            .transpose()
            .map_err(|e| bad(&e.to_string()))?
            .ok_or_else(|| bad("no adoption"))?;
        Ok(Self {
            id,
            adopter: adopter.clone(),
            solution,
            input,
            published: date_field(object, "published"),
            updated: date_field(object, "updated"),
        })
    }
}

/// Whether an (embedded) object declares the adoption of a solution on
/// the node with the given origin check.
pub fn adopted_solution(object: &Value) -> Option<Url> {
    (type_of(object) == Some(ADOPTION_TYPE))
        .then(|| object.get("object").and_then(id_of))
        .flatten()
}
