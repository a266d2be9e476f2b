//! Projects, questions, solutions and answers as ActivityStreams objects.
//!
//! Each uses a standard type that plain fediverse software displays
//! (projects and solutions `Article`, questions and answers `Note`), with
//! title, text and link; beside them `itemType` names the Allmende type and
//! `item` carries the full typed item in the same shape as the JSON API's
//! input, which the receiving node validates with the same rules as a form.

use allmende_domain::{Answer, Audience, Item, ItemKind};
use chrono::{DateTime, Utc};
use serde_json::{json, Map, Value};

use super::{escape_attribute, escape_text};
use crate::vocabulary::{context, PUBLIC};

/// Addressing: public items to everyone with followers in copy; restricted
/// ones to followers only.
pub(crate) fn audience(public: bool, followers: &str) -> (Value, Value) {
    if public {
        (json!([PUBLIC]), json!([followers]))
    } else {
        (json!([followers]), json!([]))
    }
}

/// The object of one of this node's items. `extra` adds properties (the
/// accepted answer of a question).
pub fn item_json<T: Item>(
    id: &str,
    actor: &str,
    followers: &str,
    item: &T,
    extra: Map<String, Value>,
) -> Value {
    let draft = item.draft();
    let title = T::title(draft);
    let mut content = String::new();
    if T::KIND.as_type() == "Note" {
        // Notes have no visible title in most software: lead with it.
        content.push_str(&format!("<p><strong>{}</strong></p>", escape_text(title)));
    }
    if let Some(body) = T::body(draft) {
        content.push_str(&crate::markdown::to_html(body, 2));
    }
    content.push_str(&format!(
        "<p><a href=\"{0}\">{0}</a></p>",
        escape_attribute(id)
    ));
    let (to, cc) = audience(T::is_public(draft), followers);
    let mut doc = json!({
        "@context": context(),
        "id": id,
        "type": T::KIND.as_type(),
        "attributedTo": actor,
        "name": title,
        "content": content,
        "mediaType": "text/html",
        "url": id,
        "published": item.created_at().to_rfc3339(),
        "updated": item.updated_at().to_rfc3339(),
        "to": to,
        "cc": cc,
        "itemType": T::KIND.slug(),
        "item": T::to_input(draft),
    });
    // The Markdown the content was made from, for software that edits or
    // shows the source (Mastodon, Misskey and others do the same).
    if let Some(body) = T::body(draft) {
        doc["source"] = json!({ "content": body, "mediaType": "text/markdown" });
    }
    // A solution's verified adopters (FEP-400e-style collection).
    if T::KIND == ItemKind::Solution {
        doc["adopters"] = Value::String(super::adoption::adopters_of(id));
        omit_unused_fields(&mut doc["item"]);
    }
    // A variant names its original for every reader (`item` has it too).
    if let Some(original) = doc["item"]
        .get("variant_of")
        .filter(|v| v.is_string())
        .cloned()
    {
        doc["variantOf"] = original;
    }
    if let Some(summary) = T::summary(draft) {
        doc["summary"] = Value::String(escape_text(summary).into_owned());
    }
    if let Some(map) = doc.as_object_mut() {
        map.extend(extra);
    }
    doc
}

/// Leaves out of a solution's `item` the fields added in issue 15 while
/// they are unused (`variant_of` null, `required` false, `used_by`
/// empty): a node of the version before, whose input refuses unknown
/// fields, still reads every solution that uses none of them.
fn omit_unused_fields(item: &mut Value) {
    let Some(map) = item.as_object_mut() else {
        return;
    };
    if map.get("variant_of").is_some_and(Value::is_null) {
        map.remove("variant_of");
    }
    if map
        .get("used_by")
        .and_then(Value::as_array)
        .is_some_and(Vec::is_empty)
    {
        map.remove("used_by");
    }
    if let Some(Value::Array(params)) = map.get_mut("local_parameters") {
        for p in params.iter_mut().filter_map(Value::as_object_mut) {
            if p.get("required") == Some(&Value::Bool(false)) {
                p.remove("required");
            }
        }
    }
}

/// The object of an answer written on this node. An answer has its
/// question's audience: to a public question it is public, with the
/// answerer's followers and the asker in copy; to a followers-only question
/// it goes to the asker alone, never to the public or to the answerer's
/// followers (who may not read the question).
pub fn answer_json(
    id: &str,
    actor: &str,
    followers: &str,
    question_id: &str,
    question_actor: &str,
    question_audience: Audience,
    answer: &Answer,
) -> Value {
    let (to, cc) = match question_audience {
        Audience::Public => (json!([PUBLIC]), json!([followers, question_actor])),
        Audience::Followers => (json!([question_actor]), json!([])),
    };
    json!({
        "@context": context(),
        "id": id,
        "type": ItemKind::Answer.as_type(),
        "attributedTo": actor,
        "inReplyTo": question_id,
        "content": crate::markdown::to_html(&answer.body, 2),
        "mediaType": "text/html",
        "source": { "content": answer.body, "mediaType": "text/markdown" },
        "url": id,
        "published": answer.created_at.to_rfc3339(),
        "updated": answer.updated_at.to_rfc3339(),
        "to": to,
        "cc": cc,
        "itemType": ItemKind::Answer.slug(),
        "item": { "body": answer.body },
    })
}

/// What a deleted object leaves behind.
pub fn tombstone_json(id: &str, former_type: &str, deleted: DateTime<Utc>) -> Value {
    json!({
        "@context": context(),
        "id": id,
        "type": "Tombstone",
        "formerType": former_type,
        "deleted": deleted.to_rfc3339(),
    })
}
