//! The JSON documents Allmende serves and sends (actors, items, activities)
//! and the reading of the ones it receives. Remote JSON is read field by
//! field with [`field`] helpers rather than strict structs: the fediverse
//! writes the same thing in several shapes (a URL, an object with an `id`,
//! an array of either).

pub mod activity;
pub mod actor;
pub mod adoption;
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
            let lines: Vec<String> = p.lines().map(|l| escape_text(l).into_owned()).collect();
            format!("<p>{}</p>", lines.join("<br>"))
        })
        .collect()
}

/// Plain text as HTML text: only `&`, `<` and `>` become entities. (Not
/// `ammonia::clean_text`, which also escapes every space and slash: valid,
/// but software that shows `summary` as plain text would show `&#32;`.)
pub fn escape_text(text: &str) -> std::borrow::Cow<'_, str> {
    html_escape::encode_text(text)
}

/// Plain text inside a double-quoted HTML attribute (and as text).
pub fn escape_attribute(text: &str) -> std::borrow::Cow<'_, str> {
    html_escape::encode_double_quoted_attribute(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 11, finding 5: spaces and slashes were escaped as `&#32;` and
    /// `&#47;`; only what HTML needs is escaped now.
    #[test]
    fn html_escapes_only_what_html_needs() {
        assert_eq!(
            text_to_html("Hunde / Steuer & <Abgaben>\nzweite Zeile\n\nneu"),
            "<p>Hunde / Steuer &amp; &lt;Abgaben&gt;<br>zweite Zeile</p><p>neu</p>"
        );
        assert_eq!(
            escape_attribute("https://ulm.example/p?a=1&b=\"2\""),
            "https://ulm.example/p?a=1&amp;b=&quot;2&quot;"
        );
        assert_eq!(escape_text("Bewohner parken"), "Bewohner parken");
    }
}
