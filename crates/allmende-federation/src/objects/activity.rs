//! Activity envelopes, sent and received.

use serde_json::{json, Value};
use url::Url;

use super::{id_of, ids_of, type_of};
use crate::error::FederationError;
use crate::vocabulary::context;

/// A new activity of `actor` about `object`, addressed like the object.
pub fn activity(id: &str, kind: &str, actor: &str, object: Value, to: Value, cc: Value) -> Value {
    // The embedded object keeps its data but not a second @context.
    let object = match object {
        Value::Object(mut map) => {
            map.remove("@context");
            Value::Object(map)
        }
        other => other,
    };
    json!({
        "@context": context(),
        "id": id,
        "type": kind,
        "actor": actor,
        "object": object,
        "to": to,
        "cc": cc,
    })
}

/// The parts of a received activity every handler needs.
#[derive(Debug)]
pub struct Incoming {
    pub id: Url,
    pub kind: String,
    pub actor: Url,
    pub object: Value,
    /// Everyone the activity is addressed to (`to`, `cc`, `audience`).
    pub recipients: Vec<Url>,
    /// The activity exactly as received, for a group to pass on.
    pub raw: Value,
}

impl Incoming {
    pub fn parse(doc: Value) -> Result<Self, FederationError> {
        let bad = |m: &str| FederationError::BadRequest(m.to_owned());
        if !doc.is_object() {
            return Err(bad("an activity is a JSON object"));
        }
        let id = doc
            .get("id")
            .and_then(id_of)
            .ok_or_else(|| bad("activity without id"))?;
        let kind = type_of(&doc)
            .ok_or_else(|| bad("activity without type"))?
            .to_owned();
        let actor = doc
            .get("actor")
            .and_then(|a| match a {
                Value::Array(list) if list.len() == 1 => id_of(&list[0]),
                other => id_of(other),
            })
            .ok_or_else(|| bad("activity without a single actor"))?;
        let mut recipients = ids_of(doc.get("to"));
        recipients.extend(ids_of(doc.get("cc")));
        recipients.extend(ids_of(doc.get("audience")));
        let object = doc.get("object").cloned().unwrap_or(Value::Null);
        Ok(Self {
            id,
            kind,
            actor,
            object,
            recipients,
            raw: doc,
        })
    }
}
