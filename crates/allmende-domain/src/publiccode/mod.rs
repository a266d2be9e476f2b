//! publiccode.yml: the metadata file public-sector software publishes in
//! its repository (<https://yml.publiccode.tools>), read, checked against
//! the standard and written back.
//!
//! Checks follow the reference parser `italia/publiccode-parser-go`: the
//! same keys, required fields, value rules and dotted key paths in the
//! messages (`legal.license`, `maintenance.contacts[0].name`), and unknown
//! keys are errors. What it checks over the network is left out.
//!
//! YAML is read with `yaml-rust2` (maintained, pure Rust, YAML 1.2: `yes`
//! is text, not `true`), through its event parser; see `tree.rs` for why.

mod schema;
mod tree;

use serde::{Deserialize, Serialize};

use crate::error::{Problem, ValidationError, ValidationErrors};
pub use schema::{DEVELOPMENT_STATUSES, SUPPORTED_VERSIONS};
use tree::{Node, Value};

/// What is wrong with one key of a publiccode.yml.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Issue {
    /// Not YAML at all (the parser's message).
    Syntax(String),
    Required,
    WrongType,
    /// A key the standard does not have.
    Unknown(String),
    Version(String),
    OldVersion(String),
    Deprecated,
    OneOf(Vec<String>),
    Date,
    Url,
    HttpUrl,
    PathOrUrl,
    Uri,
    Email,
    Licence,
    Language,
    Country,
    Support,
    TooLong(usize),
    TooShort(usize),
    Empty,
    ContractorsRequired,
    ContractorsForbidden,
    ContactsRequired(String),
    BothCountrySections,
}

impl From<&'static [&'static str]> for Issue {
    fn from(allowed: &'static [&'static str]) -> Self {
        Issue::OneOf(allowed.iter().map(|s| (*s).to_owned()).collect())
    }
}

/// One problem (or warning) with the key it concerns and its line.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// Dotted path of the key, as the reference parser writes it:
    /// `legal.license`, `description.en.features`, `usedBy[2]`.
    pub key: String,
    /// 1-based line in the file.
    pub line: usize,
    pub issue: Issue,
    /// A warning does not make the file invalid (deprecated keys, an
    /// older `publiccodeYmlVersion`).
    pub warning: bool,
}

impl Finding {
    fn error(key: &str, line: usize, issue: Issue) -> Self {
        Self {
            key: key.to_owned(),
            line,
            issue,
            warning: false,
        }
    }

    fn warning(key: &str, line: usize, issue: Issue) -> Self {
        Self {
            warning: true,
            ..Self::error(key, line, issue)
        }
    }

    /// The last segment of the key, which the message repeats.
    fn name(&self) -> &str {
        self.key.rsplit('.').next().unwrap_or(&self.key)
    }

    pub fn message_en(&self) -> String {
        let f = self.name();
        let text = match &self.issue {
            Issue::Syntax(m) => format!("is not valid YAML: {m}"),
            Issue::Required => format!("{f} is a required field"),
            Issue::WrongType => "wrong type for this field".into(),
            Issue::Unknown(k) => format!("unknown field \"{k}\""),
            Issue::Version(v) => format!(
                "unsupported version: '{v}'. Supported versions: {}",
                SUPPORTED_VERSIONS.join(", ")
            ),
            Issue::OldVersion(v) => {
                format!("v{v} is not the latest version, use '0'. Parsing this file as v0.7.")
            }
            Issue::Deprecated => {
                format!("{f}: this key is DEPRECATED and will be removed in the future")
            }
            Issue::OneOf(allowed) => format!(
                "{f} must be one of the following: {}",
                quoted(allowed, "or")
            ),
            Issue::Date => format!("{f} must be a date with format 'YYYY-MM-DD'"),
            Issue::Url => format!("{f} must be a valid URL"),
            Issue::HttpUrl => format!("{f} must be an HTTP URL"),
            Issue::PathOrUrl => format!("{f} must be a relative path or an HTTP(S) URL"),
            Issue::Uri => format!("{f} is not a valid URI"),
            Issue::Email => format!("{f} must be a valid email address"),
            Issue::Licence => {
                format!("{f} must be a valid license (see https://spdx.org/licenses)")
            }
            Issue::Language => format!("{f} must be a valid BCP 47 language"),
            Issue::Country => {
                format!("{f} must be a valid ISO 3166-1 alpha-2 two-letter country code")
            }
            Issue::Support => {
                format!("{f} must be a known alias ('alias:<name>') or a valid URI (URL or URN)")
            }
            Issue::TooLong(max) => format!("{f} must be a maximum of {max} characters in length"),
            Issue::TooShort(min) => format!("{f} must be at least {min} characters in length"),
            Issue::Empty => format!("{f} must contain more than 0 items"),
            Issue::ContractorsRequired => {
                "contractors is a required field when \"type\" is \"contract\"".into()
            }
            Issue::ContractorsForbidden => {
                "contractors must not be present unless \"type\" is \"contract\"".into()
            }
            Issue::ContactsRequired(kind) => {
                format!("contacts is a required field when \"type\" is \"{kind}\"")
            }
            Issue::BothCountrySections => "'IT' key already present. Remove this key".into(),
        };
        format!("line {}, {}: {text}", self.line, self.shown_key())
    }

    pub fn message_de(&self) -> String {
        let f = self.name();
        let text = match &self.issue {
            Issue::Syntax(m) => format!("ist kein gültiges YAML: {m}"),
            Issue::Required => format!("{f} ist ein Pflichtfeld"),
            Issue::WrongType => "falscher Typ für diesen Schlüssel".into(),
            Issue::Unknown(k) => format!("unbekannter Schlüssel „{k}“"),
            Issue::Version(v) => format!(
                "Version „{v}“ wird nicht unterstützt; möglich sind: {}",
                SUPPORTED_VERSIONS.join(", ")
            ),
            Issue::OldVersion(v) => format!("v{v} ist nicht die neueste Version; empfohlen ist „0“. Die Datei wird nach v0.7 gelesen."),
            Issue::Deprecated => format!("{f} ist veraltet und wird künftig entfernt"),
            Issue::OneOf(allowed) => format!("{f} muss einer dieser Werte sein: {}", quoted(allowed, "oder")),
            Issue::Date => format!("{f} muss ein Datum im Format JJJJ-MM-TT sein"),
            Issue::Url => format!("{f} muss eine gültige URL sein"),
            Issue::HttpUrl => format!("{f} muss eine http- oder https-Adresse sein"),
            Issue::PathOrUrl => format!("{f} muss ein relativer Pfad oder eine http(s)-Adresse sein"),
            Issue::Uri => format!("{f} ist keine gültige URI"),
            Issue::Email => format!("{f} muss eine E-Mail-Adresse sein"),
            Issue::Licence => format!("{f} muss eine gültige SPDX-Lizenz sein (siehe https://spdx.org/licenses)"),
            Issue::Language => format!("{f} muss ein Sprachcode nach BCP 47 sein (z. B. de oder de-DE)"),
            Issue::Country => format!("{f} muss ein zweistelliger Ländercode nach ISO 3166-1 sein"),
            Issue::Support => format!("{f} muss ein bekannter Alias („alias:<name>“) oder eine gültige URI sein"),
            Issue::TooLong(max) => format!("{f} darf höchstens {max} Zeichen lang sein"),
            Issue::TooShort(min) => format!("{f} muss mindestens {min} Zeichen lang sein"),
            Issue::Empty => format!("{f} muss mindestens einen Eintrag enthalten"),
            Issue::ContractorsRequired => "contractors ist Pflicht, wenn „type“ „contract“ ist".into(),
            Issue::ContractorsForbidden => "contractors ist nur erlaubt, wenn „type“ „contract“ ist".into(),
            Issue::ContactsRequired(kind) => format!("contacts ist Pflicht, wenn „type“ „{kind}“ ist"),
            Issue::BothCountrySections => "der Schlüssel „IT“ ist schon vorhanden; bitte „it“ entfernen".into(),
        };
        format!("Zeile {}, {}: {text}", self.line, self.shown_key())
    }

    fn shown_key(&self) -> &str {
        if self.key.is_empty() {
            "publiccode.yml"
        } else {
            &self.key
        }
    }
}

fn quoted(values: &[String], or: &str) -> String {
    let quoted: Vec<String> = values.iter().map(|v| format!("\"{v}\"")).collect();
    match quoted.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} {or} {last}", rest.join(", ")),
        _ => quoted.join(""),
    }
}

/// One language's description.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Description {
    pub language: String,
    pub localised_name: Option<String>,
    pub short: String,
    pub long: String,
    pub features: Vec<String>,
    pub documentation: Option<String>,
}

/// The facts of a valid publiccode.yml that pages and the API show.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Publiccode {
    pub version: String,
    pub name: String,
    pub url: String,
    pub landing_url: Option<String>,
    pub software_version: Option<String>,
    pub release_date: Option<String>,
    pub development_status: String,
    pub software_type: String,
    pub platforms: Vec<String>,
    pub categories: Vec<String>,
    pub licence: String,
    pub main_copyright_owner: Option<String>,
    pub maintenance: String,
    /// Names of the maintenance contacts and contractors.
    pub maintainers: Vec<String>,
    pub used_by: Vec<String>,
    pub descriptions: Vec<Description>,
    pub available_languages: Vec<String>,
    /// What is outdated but allowed.
    pub warnings: Vec<Finding>,
    #[serde(skip)]
    doc: Node,
}

impl Publiccode {
    /// Reads and checks a publiccode.yml: its facts, or every error found
    /// (warnings alone do not fail it).
    pub fn parse(text: &str) -> Result<Self, Vec<Finding>> {
        let doc = tree::parse(text)
            .map_err(|e| vec![Finding::error("", e.line.max(1), Issue::Syntax(e.message))])?;
        let (errors, warnings): (Vec<_>, Vec<_>) =
            schema::check(&doc).into_iter().partition(|f| !f.warning);
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(Self::facts(doc, warnings))
    }

    fn facts(doc: Node, warnings: Vec<Finding>) -> Self {
        let text = |n: Option<&Node>| n.and_then(Node::as_str).map(str::to_owned);
        let texts = |n: Option<&Node>| -> Vec<String> {
            n.map(Node::items)
                .unwrap_or_default()
                .iter()
                .filter_map(Node::as_str)
                .map(str::to_owned)
                .collect()
        };
        let get = |path: &str| -> Option<&Node> { path.split('.').try_fold(&doc, |n, k| n.get(k)) };
        let maintainers = ["maintenance.contacts", "maintenance.contractors"]
            .iter()
            .flat_map(|p| get(p).map(Node::items).unwrap_or_default())
            .filter_map(|c| text(c.get("name")))
            .collect();
        let descriptions = match get("description").map(|d| &d.value) {
            Some(Value::Map(entries)) => entries
                .iter()
                .map(|(language, d)| Description {
                    language: language.clone(),
                    localised_name: text(d.get("localisedName")),
                    short: text(d.get("shortDescription"))
                        .unwrap_or_default()
                        .trim()
                        .to_owned(),
                    long: text(d.get("longDescription"))
                        .unwrap_or_default()
                        .trim()
                        .to_owned(),
                    features: texts(d.get("features")),
                    documentation: text(d.get("documentation")),
                })
                .collect(),
            _ => Vec::new(),
        };
        Self {
            version: text(get("publiccodeYmlVersion")).unwrap_or_default(),
            name: text(get("name")).unwrap_or_default(),
            url: text(get("url")).unwrap_or_default(),
            landing_url: text(get("landingURL")),
            software_version: text(get("softwareVersion")),
            release_date: text(get("releaseDate")),
            development_status: text(get("developmentStatus")).unwrap_or_default(),
            software_type: text(get("softwareType")).unwrap_or_default(),
            platforms: texts(get("platforms")),
            categories: texts(get("categories")),
            licence: text(get("legal.license")).unwrap_or_default(),
            main_copyright_owner: text(get("legal.mainCopyrightOwner")),
            maintenance: text(get("maintenance.type")).unwrap_or_default(),
            maintainers,
            used_by: texts(get("usedBy")),
            descriptions,
            available_languages: texts(get("localisation.availableLanguages")),
            warnings,
            doc,
        }
    }

    /// The description in `language` (`de` matches `de-DE`), else German,
    /// English, or the first.
    pub fn description(&self, language: &str) -> Option<&Description> {
        let in_lang = |l: &str| {
            self.descriptions
                .iter()
                .find(|d| d.language == l || d.language.starts_with(&format!("{l}-")))
        };
        in_lang(language)
            .or_else(|| in_lang("de"))
            .or_else(|| in_lang("en"))
            .or_else(|| self.descriptions.first())
    }

    /// The file written back, with `usedBy` listing `adopters` after the
    /// names it had (each once). Other keys keep their order and values;
    /// comments and formatting are not kept.
    pub fn export(&self, adopters: &[String]) -> String {
        let mut doc = self.doc.clone();
        let mut used_by = self.used_by.clone();
        for name in adopters {
            if !used_by.contains(name) {
                used_by.push(name.clone());
            }
        }
        if let Value::Map(entries) = &mut doc.value {
            let list = Node {
                value: Value::List(
                    used_by
                        .into_iter()
                        .map(|text| Node {
                            value: Value::Scalar { text, plain: false },
                            line: 0,
                        })
                        .collect(),
                ),
                line: 0,
            };
            match entries.iter_mut().find(|(k, _)| k == "usedBy") {
                Some((_, existing)) => *existing = list,
                None if matches!(&list.value, Value::List(l) if l.is_empty()) => {}
                None => entries.push(("usedBy".into(), list)),
            }
        }
        let mut out = String::new();
        // Multi-line strings are written quoted with `\n` escapes: the
        // emitter's literal blocks carry no indentation indicator, which
        // breaks text that starts with spaces or ends with blank lines.
        let mut emitter = yaml_rust2::YamlEmitter::new(&mut out);
        // Writing to a String cannot fail; a value the emitter refuses
        // would be a bug in `to_yaml`.
        if emitter.dump(&to_yaml(&doc)).is_err() {
            return String::new();
        }
        out.push('\n');
        out
    }
}

/// The tree as `yaml-rust2` values for its emitter. Plain scalars keep
/// their YAML meaning (booleans, numbers written as they were); quoted
/// ones stay strings, and the emitter quotes them where needed.
fn to_yaml(node: &Node) -> yaml_rust2::Yaml {
    use yaml_rust2::Yaml;
    match &node.value {
        Value::Scalar { text, plain: true } if node.is_null() => {
            let _ = text;
            Yaml::Null
        }
        Value::Scalar { text, plain: true } => match text.as_str() {
            "true" => Yaml::Boolean(true),
            "false" => Yaml::Boolean(false),
            t if t.parse::<f64>().is_ok() => Yaml::Real(t.to_owned()),
            t => Yaml::String(t.to_owned()),
        },
        Value::Scalar { text, .. } => Yaml::String(text.clone()),
        Value::List(items) => Yaml::Array(items.iter().map(to_yaml).collect()),
        Value::Map(entries) => Yaml::Hash(
            entries
                .iter()
                .map(|(k, v)| (Yaml::String(k.clone()), to_yaml(v)))
                .collect(),
        ),
    }
}

/// Checks the publiccode.yml text of a form or an API field: every error
/// as a problem of `field`, naming the key in the file.
pub fn validate(field: &str, text: &str) -> Result<Publiccode, ValidationErrors> {
    Publiccode::parse(text).map_err(|findings| {
        let errors: Vec<ValidationError> = findings
            .into_iter()
            .map(|f| Problem::Publiccode(Box::new(f)).at(field))
            .collect();
        ValidationErrors::new(errors).unwrap_or_else(|| Problem::Required.at(field).into())
    })
}

#[cfg(test)]
mod tests;
