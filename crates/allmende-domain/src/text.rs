//! Shared rules for free text, lists, links and dates in item input.

use serde::{Deserialize, Serialize};
use url::Url;

use crate::error::{Problem, ValidationError};

pub const TITLE_MAX: usize = 200;
pub const SUMMARY_MAX: usize = 1_000;
pub const BODY_MAX: usize = 50_000;
pub const NAME_MAX: usize = 200;
pub const LIST_MAX: usize = 50;

/// Declares an enum whose values travel as fixed lowercase slugs and have a
/// German and an English label, and whose parse error lists the slugs.
macro_rules! labelled_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $slug:literal, $de:literal, $en:literal;)+ }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        #[serde(try_from = "String", into = "&'static str")]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn slug(self) -> &'static str {
                match self { $($name::$variant => $slug),+ }
            }
            pub fn label_de(self) -> &'static str {
                match self { $($name::$variant => $de),+ }
            }
            pub fn label_en(self) -> &'static str {
                match self { $($name::$variant => $en),+ }
            }
            pub fn parse(input: &str) -> Result<Self, $crate::error::Problem> {
                let s = input.trim();
                Self::ALL.iter().copied().find(|v| v.slug() == s).ok_or_else(|| {
                    $crate::error::Problem::UnknownValue { allowed: Self::ALL.iter().map(|v| v.slug()).collect() }
                })
            }
        }

        impl $crate::text::Labelled for $name {
            fn label_de(&self) -> &'static str { $name::label_de(*self) }
            fn label_en(&self) -> &'static str { $name::label_en(*self) }
        }

        impl TryFrom<String> for $name {
            type Error = String;
            fn try_from(s: String) -> Result<Self, String> {
                Self::parse(&s).map_err(|p| p.message_en())
            }
        }
        impl From<$name> for &'static str {
            fn from(v: $name) -> &'static str { v.slug() }
        }
        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result { f.write_str(self.slug()) }
        }
    };
}
pub(crate) use labelled_enum;

/// A value with a German and an English name for people.
pub trait Labelled {
    fn label_de(&self) -> &'static str;
    fn label_en(&self) -> &'static str;
}

/// Trims and checks a required text field (a body: several lines). It
/// must show something: text made only of spaces, zero-width or other
/// invisible characters is refused.
pub fn required(field: &str, value: Option<&str>, max: usize) -> Result<String, ValidationError> {
    match optional(field, value, max)? {
        Some(v) => Ok(v),
        None => Err(Problem::Required.at(field)),
    }
}

/// Trims a text field; empty means absent. NUL characters are removed
/// (no database keeps them, and no text needs them); other characters stay
/// and are escaped wherever the text is shown.
pub fn optional(
    field: &str,
    value: Option<&str>,
    max: usize,
) -> Result<Option<String>, ValidationError> {
    let Some(value) = value else { return Ok(None) };
    checked(field, &value.replace('\0', ""), max)
}

/// A required one-line text: a title or a name.
pub fn required_line(
    field: &str,
    value: Option<&str>,
    max: usize,
) -> Result<String, ValidationError> {
    match value.map(clean_line) {
        Some(v) => match checked(field, &v, max)? {
            Some(v) => Ok(v),
            None => Err(Problem::Required.at(field)),
        },
        None => Err(Problem::Required.at(field)),
    }
}

fn checked(field: &str, value: &str, max: usize) -> Result<Option<String>, ValidationError> {
    let v = value.trim();
    if v.is_empty() {
        return Ok(None);
    }
    if !v.chars().any(is_visible) {
        return Err(Problem::Invisible.at(field));
    }
    if v.chars().count() > max {
        return Err(Problem::TooLong { max }.at(field));
    }
    Ok(Some(v.to_owned()))
}

/// A title or name as it may be shown in a list, a page title or a
/// notification: control characters (NUL, line breaks, tabs) become
/// spaces, and bidirectional overrides, embeddings and isolates (which
/// make U+202E followed by `gpj.exe` read as `exe.jpg`) are removed. Used for local and
/// remote input alike.
pub fn clean_line(value: &str) -> String {
    value
        .chars()
        .filter(|c| !is_bidi_control(*c) && *c != '\0')
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// U+202A–U+202E (embeddings, overrides), U+2066–U+2069 (isolates), and
/// the marks U+200E, U+200F, U+061C.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}')
}

/// Whether a character leaves a mark: not whitespace, not a control, not
/// one of the invisible format characters (zero-width space and joiners,
/// word joiner, BOM, soft hyphen, bidi controls, invisible operators,
/// Hangul fillers, variation selectors, tag characters).
fn is_visible(c: char) -> bool {
    !(c.is_whitespace()
        || c.is_control()
        || is_bidi_control(c)
        || matches!(c,
            '\u{00AD}' | '\u{034F}' | '\u{115F}' | '\u{1160}' | '\u{17B4}' | '\u{17B5}'
            | '\u{180B}'..='\u{180F}' | '\u{200B}'..='\u{200D}' | '\u{2060}'..='\u{2064}'
            | '\u{206A}'..='\u{206F}' | '\u{3164}' | '\u{FE00}'..='\u{FE0F}' | '\u{FEFF}'
            | '\u{FFA0}' | '\u{E0000}'..='\u{E007F}'))
}

/// Parses every entry of a list with `parse`, naming the failing index, and
/// drops duplicates while keeping the order.
pub fn list<T: PartialEq>(
    field: &str,
    values: &[String],
    max: usize,
    parse: impl Fn(&str) -> Result<T, Problem>,
) -> Result<Vec<T>, ValidationError> {
    if values.len() > max {
        return Err(Problem::TooMany { max }.at(field));
    }
    let mut out = Vec::with_capacity(values.len());
    for (i, raw) in values.iter().enumerate() {
        if raw.trim().is_empty() {
            continue;
        }
        let v = parse(raw).map_err(|p| p.at(format!("{field}[{i}]")))?;
        if !out.contains(&v) {
            out.push(v);
        }
    }
    Ok(out)
}

/// Parses an optional field with `parse`; empty means absent.
pub fn optional_parsed<T>(
    field: &str,
    value: Option<&str>,
    parse: impl Fn(&str) -> Result<T, Problem>,
) -> Result<Option<T>, ValidationError> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => parse(v).map(Some).map_err(|p| p.at(field)),
    }
}

/// OZG ids arrive as numbers from the API; each is range-checked here.
pub fn ozg_ids(field: &str, values: &[u32]) -> Result<Vec<crate::OzgId>, ValidationError> {
    if values.len() > LIST_MAX {
        return Err(Problem::TooMany { max: LIST_MAX }.at(field));
    }
    let mut out = Vec::new();
    for (i, v) in values.iter().enumerate() {
        let id = crate::OzgId::new(*v).map_err(|p| p.at(format!("{field}[{i}]")))?;
        if !out.contains(&id) {
            out.push(id);
        }
    }
    Ok(out)
}

/// Free-text list entries (partner names, places), trimmed and limited.
pub fn names(field: &str, values: &[String]) -> Result<Vec<String>, ValidationError> {
    list(field, values, LIST_MAX, |v| {
        let v = clean_line(v);
        let v = v.trim();
        if v.chars().count() > NAME_MAX {
            Err(Problem::TooLong { max: NAME_MAX })
        } else if !v.chars().any(is_visible) {
            Err(Problem::Invisible)
        } else {
            Ok(v.to_owned())
        }
    })
}

/// An absolute http(s) URL.
pub fn http_url(input: &str) -> Result<Url, Problem> {
    let url = Url::parse(input.trim()).map_err(|_| Problem::Url)?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(Problem::Url);
    }
    Ok(url)
}

pub fn optional_url(field: &str, value: Option<&str>) -> Result<Option<Url>, ValidationError> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) if v.len() > 2_000 => Err(Problem::TooLong { max: 2_000 }.at(field)),
        Some(v) => http_url(v).map(Some).map_err(|p| p.at(field)),
    }
}

pub fn optional_date(
    field: &str,
    value: Option<&str>,
) -> Result<Option<chrono::NaiveDate>, ValidationError> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => chrono::NaiveDate::parse_from_str(v, "%Y-%m-%d")
            .map(Some)
            .map_err(|_| Problem::Date.at(field)),
    }
}

/// A titled link to more information (a web page, a repository, a document).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Link {
    pub title: String,
    pub url: Url,
}

/// Raw link input as it arrives from a form or the API.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkInput {
    #[serde(default)]
    pub title: Option<String>,
    pub url: String,
}

pub fn links(field: &str, input: &[LinkInput]) -> Result<Vec<Link>, ValidationError> {
    if input.len() > 20 {
        return Err(Problem::TooMany { max: 20 }.at(field));
    }
    input
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let url = http_url(&l.url).map_err(|p| p.at(format!("{field}[{i}].url")))?;
            let title = optional(&format!("{field}[{i}].title"), l.title.as_deref(), NAME_MAX)?
                .unwrap_or_else(|| url.to_string());
            Ok(Link { title, url })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn required_trims_and_limits() {
        assert_eq!(
            required("title", Some("  Hundesteuer "), 20).unwrap(),
            "Hundesteuer"
        );
        assert_eq!(
            required("title", Some("   "), 20).unwrap_err().field,
            "title"
        );
        assert_eq!(
            required("title", None, 20).unwrap_err().problem,
            Problem::Required
        );
        // Characters, not bytes: umlauts count once.
        assert!(required("t", Some("äöü"), 3).is_ok());
        assert_eq!(
            required("t", Some("äöüß"), 3).unwrap_err().problem,
            Problem::TooLong { max: 3 }
        );
    }

    #[test]
    fn titles_need_visible_characters_and_lose_bidi_controls() {
        for invisible in [
            "\u{200B}\u{200B}",
            "\u{202E}",
            "\u{2066}\u{2069}",
            "\u{FEFF}\u{00AD}",
            "\0\u{200D}",
        ] {
            // Bidi controls are removed first: then nothing may be left.
            assert!(
                matches!(
                    required_line("title", Some(invisible), 20)
                        .unwrap_err()
                        .problem,
                    Problem::Invisible | Problem::Required
                ),
                "{invisible:?}"
            );
            assert_eq!(
                required("body", Some(invisible), 20).unwrap_err().problem,
                Problem::Invisible,
                "{invisible:?}"
            );
        }
        assert_eq!(
            required_line("t", Some("\0"), 20).unwrap_err().problem,
            Problem::Required
        );
        assert_eq!(
            required_line("t", Some("gnp.\u{202E}exe"), 20).unwrap(),
            "gnp.exe"
        );
        assert_eq!(
            required_line("t", Some("A\tB\nC\0D"), 20).unwrap(),
            "A B CD"
        );
        // Bodies keep their lines and their (escaped on output) bidi marks,
        // but never NUL.
        assert_eq!(
            required("b", Some("a\n\u{202E}b\0c"), 20).unwrap(),
            "a\n\u{202E}bc"
        );
        assert_eq!(names("n", &["\u{202E}Ulm".into()]).unwrap(), vec!["Ulm"]);
        assert!(names("n", &["\u{200B}".into()]).is_err());
    }

    #[test]
    fn list_names_the_index() {
        let err = list(
            "leika_keys",
            &["99041006017000".into(), "1".into()],
            5,
            crate::LeikaKey::parse,
        )
        .unwrap_err();
        assert_eq!(err.field, "leika_keys[1]");
        let many = vec!["1".to_string(); 6];
        assert_eq!(
            list("ozg_ids", &many, 5, crate::OzgId::parse)
                .unwrap_err()
                .problem,
            Problem::TooMany { max: 5 }
        );
        let dedup = list(
            "ozg_ids",
            &["1".into(), "1".into(), " ".into()],
            5,
            crate::OzgId::parse,
        )
        .unwrap();
        assert_eq!(dedup.len(), 1);
    }

    #[test]
    fn urls_must_be_http() {
        assert!(http_url("https://www.ulm.de/").is_ok());
        for bad in [
            "javascript:alert(1)",
            "ftp://x.de",
            "www.ulm.de",
            "",
            "https://",
        ] {
            assert_eq!(http_url(bad), Err(Problem::Url), "{bad:?}");
        }
    }

    #[test]
    fn dates() {
        assert!(optional_date("start", Some("2025-02-28"))
            .unwrap()
            .is_some());
        assert!(optional_date("start", Some("")).unwrap().is_none());
        assert_eq!(
            optional_date("start", Some("2025-02-30"))
                .unwrap_err()
                .field,
            "start"
        );
        assert!(optional_date("start", Some("28.02.2025")).is_err());
    }
}
