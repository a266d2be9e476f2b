//! The JSON documents Allmende serves and sends (actors, items, activities)
//! and the reading of the ones it receives. Remote JSON is read field by
//! field with [`field`] helpers rather than strict structs: the fediverse
//! writes the same thing in several shapes (a URL, an object with an `id`,
//! an array of either).

pub mod activity;
pub mod actor;
pub mod item;

use chrono::{DateTime, Utc};
use serde_json::Value;
use url::Url;

/// The id of a value that is either a URL string or an object with `id`.
pub fn id_of(value: &Value) -> Option<Url> {
    match value {
        Value::String(s) => Url::parse(s).ok(),
        Value::Object(map) => map.get("id").and_then(Value::as_str)?.parse().ok(),
        _ => None,
    }
}

/// Ids of a property that may be one value or an array.
pub fn ids_of(value: Option<&Value>) -> Vec<Url> {
    match value {
        Some(Value::Array(items)) => items.iter().filter_map(id_of).collect(),
        Some(v) => id_of(v).into_iter().collect(),
        None => Vec::new(),
    }
}

/// The type of an object; with several types, the first.
pub fn type_of(value: &Value) -> Option<&str> {
    match value.get("type")? {
        Value::String(s) => Some(s),
        Value::Array(types) => types.first()?.as_str(),
        _ => None,
    }
}

pub fn str_field<'v>(value: &'v Value, name: &str) -> Option<&'v str> {
    value.get(name)?.as_str()
}

pub fn date_field(value: &Value, name: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(str_field(value, name)?)
        .ok()
        .map(|d| d.with_timezone(&Utc))
}

/// Plain text as HTML paragraphs: blank lines separate paragraphs, single
/// line breaks become `<br>`.
pub fn text_to_html(text: &str) -> String {
    text.split("\n\n")
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| {
            let lines: Vec<String> = p.lines().map(ammonia::clean_text).collect();
            format!("<p>{}</p>", lines.join("<br>"))
        })
        .collect()
}
