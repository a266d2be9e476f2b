//! The publiccode.yml standard's keys and the rules for their values, as
//! of version 0.7 (every 0.x file is read by the current rules, as the
//! reference parser `italia/publiccode-parser-go` does). Network checks of
//! the reference parser (is `url` reachable and a repository?) are left
//! out: a node checks what a file says, not what the web says today.

use super::tree::{Node, Value};
use super::{Finding, Issue};

/// Versions the reference parser accepts; all are read by the 0.7 rules.
pub const SUPPORTED_VERSIONS: &[&str] = &[
    "0", "0.2", "0.2.0", "0.2.1", "0.2.2", "0.3", "0.3.0", "0.4", "0.4.0", "0.5.0", "0.5", "0.7.0",
    "0.7",
];

pub const DEVELOPMENT_STATUSES: &[&str] = &["concept", "development", "beta", "stable", "obsolete"];
pub const SOFTWARE_TYPES: &[&str] = &[
    "standalone/mobile",
    "standalone/iot",
    "standalone/desktop",
    "standalone/web",
    "standalone/backend",
    "standalone/other",
    "addon",
    "library",
    "configurationFiles",
];
pub const MAINTENANCE_TYPES: &[&str] = &["internal", "contract", "community", "none"];
const SCOPES: &[&str] = &[
    "agriculture",
    "culture",
    "defence",
    "education",
    "emergency-services",
    "employment",
    "energy",
    "environment",
    "finance-and-economic-development",
    "foreign-affairs",
    "government",
    "healthcare",
    "infrastructures",
    "justice",
    "local-authorities",
    "manufacturing",
    "research",
    "science-and-technology",
    "security",
    "society",
    "sport",
    "tourism",
    "transportation",
    "welfare",
];
const CATEGORIES: &[&str] = &[
    "accounting",
    "agile-project-management",
    "applicant-tracking",
    "application-development",
    "appointment-scheduling",
    "backup",
    "billing-and-invoicing",
    "blog",
    "budgeting",
    "business-intelligence",
    "business-process-management",
    "cad",
    "call-center-management",
    "cloud-management",
    "collaboration",
    "communications",
    "compliance-management",
    "contact-management",
    "content-management",
    "crm",
    "customer-service-and-support",
    "data-analytics",
    "data-collection",
    "data-visualization",
    "design",
    "design-system",
    "digital-asset-management",
    "digital-citizenship",
    "document-management",
    "donor-management",
    "e-commerce",
    "e-signature",
    "educational-content",
    "email-management",
    "email-marketing",
    "employee-management",
    "enterprise-project-management",
    "enterprise-social-networking",
    "erp",
    "event-management",
    "facility-management",
    "feedback-and-reviews-management",
    "financial-reporting",
    "fleet-management",
    "fundraising",
    "gamification",
    "geographic-information-systems",
    "grant-management",
    "graphic-design",
    "help-desk",
    "hr",
    "ide",
    "identity-management",
    "instant-messaging",
    "integrated-library-system",
    "inventory-management",
    "it-asset-management",
    "it-development",
    "it-management",
    "it-security",
    "it-service-management",
    "knowledge-management",
    "learning-management-system",
    "marketing",
    "mind-mapping",
    "mobile-marketing",
    "mobile-payment",
    "network-management",
    "office",
    "online-booking",
    "online-community",
    "payment-gateway",
    "payroll",
    "predictive-analysis",
    "procurement",
    "productivity-suite",
    "project-collaboration",
    "project-management",
    "property-management",
    "real-estate-management",
    "regulations-and-directives",
    "remote-support",
    "resource-management",
    "sales-management",
    "seo",
    "service-desk",
    "social-media-management",
    "survey",
    "talent-management",
    "task-management",
    "taxes-management",
    "test-management",
    "time-management",
    "time-tracking",
    "translation",
    "video-conferencing",
    "video-editing",
    "visitor-management",
    "voip",
    "warehouse-management",
    "web-collaboration",
    "web-conferencing",
    "whistleblowing",
    "website-builder",
    "workflow-management",
    "other",
];
const SUPPORT_ALIASES: &[&str] = &[
    "gdpr", "eidas", "nis2", "cra", "spid", "cie", "anpr", "pagopa", "io",
];

/// What a key's value must be.
#[derive(Clone, Copy)]
enum Rule {
    Text,
    /// An SPDX licence expression.
    Licence,
    /// Text of at most / at least this many characters.
    TextLen {
        min: usize,
        max: usize,
    },
    Bool,
    Date,
    /// A URL with a scheme (`url`).
    Url,
    /// An http(s) URL with a host.
    HttpUrl,
    /// A relative path or an http(s) URL (logo, screenshots).
    PathOrUrl,
    /// A URI: a URL with a host, or a URN.
    Uri,
    Email,
    OneOf(&'static [&'static str]),
    /// A list of values that each follow the rule; `non_empty` lists must
    /// have an entry.
    List {
        each: &'static Rule,
        non_empty: bool,
    },
    /// A URL or a list of URLs (`isBasedOn`).
    UrlOrList,
    Map(&'static [Key]),
    /// A map from language tags to maps of these keys.
    Languages(&'static [Key]),
    /// A BCP 47 language tag.
    Language,
    /// An ISO 3166-1 alpha-2 country code.
    Country,
    /// A `supports` id: `alias:NAME` or a URI.
    Support,
    /// A country section: any map (deprecated since 0.7; not checked).
    AnyMap,
}

#[derive(Clone, Copy)]
struct Key {
    name: &'static str,
    rule: Rule,
    required: bool,
    /// Deprecated keys are read, with a warning.
    deprecated: bool,
}

const fn key(name: &'static str, rule: Rule) -> Key {
    Key {
        name,
        rule,
        required: false,
        deprecated: false,
    }
}

const fn required(name: &'static str, rule: Rule) -> Key {
    Key {
        name,
        rule,
        required: true,
        deprecated: false,
    }
}

const fn deprecated(name: &'static str, rule: Rule) -> Key {
    Key {
        name,
        rule,
        required: false,
        deprecated: true,
    }
}

const TEXTS: Rule = Rule::List {
    each: &Rule::Text,
    non_empty: false,
};

const ORGANISATION: &[Key] = &[required("uri", Rule::Uri), key("name", Rule::Text)];

const DESCRIPTION: &[Key] = &[
    key("localisedName", Rule::Text),
    deprecated("genericName", Rule::TextLen { min: 0, max: 35 }),
    required("shortDescription", Rule::TextLen { min: 0, max: 150 }),
    required(
        "longDescription",
        Rule::TextLen {
            min: 150,
            max: 10_000,
        },
    ),
    key("documentation", Rule::HttpUrl),
    key("apiDocumentation", Rule::HttpUrl),
    required(
        "features",
        Rule::List {
            each: &Rule::Text,
            non_empty: true,
        },
    ),
    key(
        "screenshots",
        Rule::List {
            each: &Rule::PathOrUrl,
            non_empty: false,
        },
    ),
    key(
        "videos",
        Rule::List {
            each: &Rule::HttpUrl,
            non_empty: false,
        },
    ),
    key("awards", TEXTS),
];

const LEGAL: &[Key] = &[
    required("license", Rule::Licence),
    key("mainCopyrightOwner", Rule::Text),
    deprecated("repoOwner", Rule::Text),
    deprecated("authorsFile", Rule::Text),
];

const CONTRACTOR: &[Key] = &[
    required("name", Rule::Text),
    required("until", Rule::Date),
    key("email", Rule::Email),
    key("website", Rule::HttpUrl),
];

const CONTACT: &[Key] = &[
    required("name", Rule::Text),
    key("email", Rule::Email),
    key("phone", Rule::Text),
    key("affiliation", Rule::Text),
];

const MAINTENANCE: &[Key] = &[
    required("type", Rule::OneOf(MAINTENANCE_TYPES)),
    key(
        "contractors",
        Rule::List {
            each: &Rule::Map(CONTRACTOR),
            non_empty: false,
        },
    ),
    key(
        "contacts",
        Rule::List {
            each: &Rule::Map(CONTACT),
            non_empty: false,
        },
    ),
];

const LOCALISATION: &[Key] = &[
    required("localisationReady", Rule::Bool),
    required(
        "availableLanguages",
        Rule::List {
            each: &Rule::Language,
            non_empty: true,
        },
    ),
];

const DEPENDENCY: &[Key] = &[
    required("name", Rule::Text),
    key("versionMin", Rule::Text),
    key("versionMax", Rule::Text),
    key("version", Rule::Text),
    key("optional", Rule::Bool),
];

const DEPENDENCIES: Rule = Rule::List {
    each: &Rule::Map(DEPENDENCY),
    non_empty: false,
};

const DEPENDS_ON: &[Key] = &[
    key("open", DEPENDENCIES),
    key("proprietary", DEPENDENCIES),
    key("hardware", DEPENDENCIES),
];

const COUNTRIES: Rule = Rule::List {
    each: &Rule::Country,
    non_empty: false,
};

const AUDIENCE: &[Key] = &[
    key("countries", COUNTRIES),
    key("unsupportedCountries", COUNTRIES),
    key(
        "scope",
        Rule::List {
            each: &Rule::OneOf(SCOPES),
            non_empty: false,
        },
    ),
];

const SUPPORT: &[Key] = &[required("id", Rule::Support)];

const TOP: &[Key] = &[
    required("publiccodeYmlVersion", Rule::Text),
    required("name", Rule::Text),
    key("applicationSuite", Rule::Text),
    required("url", Rule::Url),
    key("landingURL", Rule::HttpUrl),
    key("isBasedOn", Rule::UrlOrList),
    key("softwareVersion", Rule::Text),
    key("releaseDate", Rule::Date),
    key("logo", Rule::PathOrUrl),
    deprecated("monochromeLogo", Rule::PathOrUrl),
    key("organisation", Rule::Map(ORGANISATION)),
    deprecated("inputTypes", TEXTS),
    deprecated("outputTypes", TEXTS),
    required(
        "platforms",
        Rule::List {
            each: &Rule::Text,
            non_empty: true,
        },
    ),
    key(
        "categories",
        Rule::List {
            each: &Rule::OneOf(CATEGORIES),
            non_empty: false,
        },
    ),
    key("usedBy", TEXTS),
    key(
        "fundedBy",
        Rule::List {
            each: &Rule::Map(ORGANISATION),
            non_empty: false,
        },
    ),
    key("roadmap", Rule::HttpUrl),
    required("developmentStatus", Rule::OneOf(DEVELOPMENT_STATUSES)),
    required("softwareType", Rule::OneOf(SOFTWARE_TYPES)),
    key(
        "supports",
        Rule::List {
            each: &Rule::Map(SUPPORT),
            non_empty: false,
        },
    ),
    key("intendedAudience", Rule::Map(AUDIENCE)),
    required("description", Rule::Languages(DESCRIPTION)),
    required("legal", Rule::Map(LEGAL)),
    required("maintenance", Rule::Map(MAINTENANCE)),
    required("localisation", Rule::Map(LOCALISATION)),
    key("dependsOn", Rule::Map(DEPENDS_ON)),
    key("IT", Rule::AnyMap),
    deprecated("it", Rule::AnyMap),
];

/// Checks a document against the standard: every problem, in file order,
/// errors and warnings.
pub fn check(doc: &Node) -> Vec<Finding> {
    let mut found = Vec::new();
    let Some(version) = doc.get("publiccodeYmlVersion") else {
        found.push(Finding::error(
            "publiccodeYmlVersion",
            doc.line,
            Issue::Required,
        ));
        return found;
    };
    match version.as_str().filter(|_| is_quoted_or_text(version)) {
        None => {
            found.push(Finding::error(
                "publiccodeYmlVersion",
                version.line,
                Issue::WrongType,
            ));
            return found;
        }
        Some(v) if !SUPPORTED_VERSIONS.contains(&v) => {
            found.push(Finding::error(
                "publiccodeYmlVersion",
                version.line,
                Issue::Version(v.to_owned()),
            ));
            return found;
        }
        Some(v) if v != "0" && !v.starts_with("0.7") => found.push(Finding::warning(
            "publiccodeYmlVersion",
            version.line,
            Issue::OldVersion(v.to_owned()),
        )),
        Some(_) => {}
    }
    map(doc, "", TOP, &mut found);
    if doc.get("it").is_some() && doc.get("IT").is_some() {
        found.push(Finding::error("it", doc.line, Issue::BothCountrySections));
    }
    maintenance_rules(doc, &mut found);
    found.sort_by_key(|f| f.line);
    found
}

/// The version must be a string; the reference parser refuses a bare
/// number such as `0.4`, since YAML makes it a float.
fn is_quoted_or_text(node: &Node) -> bool {
    match &node.value {
        Value::Scalar { plain: false, .. } => true,
        Value::Scalar { text, plain: true } => text.parse::<f64>().is_err() && !node.is_null(),
        _ => false,
    }
}

fn path(parent: &str, name: &str) -> String {
    if parent.is_empty() {
        name.to_owned()
    } else {
        format!("{parent}.{name}")
    }
}

fn map(node: &Node, at: &str, keys: &[Key], found: &mut Vec<Finding>) {
    let Value::Map(entries) = &node.value else {
        found.push(Finding::error(at, node.line, Issue::WrongType));
        return;
    };
    for (name, value) in entries {
        let here = path(at, name);
        match keys.iter().find(|k| k.name == name) {
            None => found.push(Finding::error(
                &here,
                value.line,
                Issue::Unknown(name.clone()),
            )),
            Some(k) => {
                if k.deprecated {
                    found.push(Finding::warning(&here, value.line, Issue::Deprecated));
                }
                if value.is_null() && k.required {
                    found.push(Finding::error(&here, value.line, Issue::Required));
                } else if !value.is_null() {
                    rule(value, &here, k.rule, found);
                }
            }
        }
    }
    for k in keys.iter().filter(|k| k.required) {
        if !entries.iter().any(|(name, _)| name == k.name) {
            found.push(Finding::error(
                &path(at, k.name),
                node.line,
                Issue::Required,
            ));
        }
    }
}

fn rule(node: &Node, at: &str, rule_: Rule, found: &mut Vec<Finding>) {
    let text = match (&node.value, rule_) {
        (Value::Scalar { text, .. }, _) => Some(text.as_str()),
        _ => None,
    };
    let mut fail = |issue: Issue| found.push(Finding::error(at, node.line, issue));
    match rule_ {
        Rule::Map(keys) => map(node, at, keys, found),
        Rule::AnyMap => {
            if !matches!(node.value, Value::Map(_)) {
                fail(Issue::WrongType);
            }
        }
        Rule::Languages(keys) => {
            let Value::Map(entries) = &node.value else {
                return fail(Issue::WrongType);
            };
            if entries.is_empty() {
                return fail(Issue::Empty);
            }
            for (lang, value) in entries {
                let here = format!("{at}.{lang}");
                if !is_language(lang) {
                    found.push(Finding::error(&here, value.line, Issue::Language));
                }
                map(value, &here, keys, found);
            }
        }
        Rule::List { each, non_empty } => {
            let Value::List(items) = &node.value else {
                return fail(Issue::WrongType);
            };
            if non_empty && items.is_empty() {
                return fail(Issue::Empty);
            }
            for (i, item) in items.iter().enumerate() {
                rule(item, &format!("{at}[{i}]"), *each, found);
            }
        }
        Rule::UrlOrList => match &node.value {
            Value::List(items) => {
                for (i, item) in items.iter().enumerate() {
                    rule(item, &format!("{at}[{i}]"), Rule::Url, found);
                }
            }
            _ => rule(node, at, Rule::Url, found),
        },
        Rule::Bool => {
            if node.as_bool().is_none() {
                fail(Issue::WrongType);
            }
        }
        _ => {
            let Some(text) = text else {
                return fail(Issue::WrongType);
            };
            if let Some(issue) = scalar_problem(text, rule_) {
                fail(issue);
            }
        }
    }
}

fn scalar_problem(text: &str, rule_: Rule) -> Option<Issue> {
    let chars = text.chars().count();
    match rule_ {
        Rule::Text => None,
        Rule::Licence => crate::SpdxExpression::parse(text)
            .err()
            .map(|_| Issue::Licence),
        Rule::TextLen { max, .. } if chars > max => Some(Issue::TooLong(max)),
        Rule::TextLen { min, .. } if chars < min => Some(Issue::TooShort(min)),
        Rule::TextLen { .. } => None,
        Rule::Date => chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
            .ok()
            .filter(|_| text.len() == 10)
            .is_none()
            .then_some(Issue::Date),
        // A scheme and a host: `javascript:` and `data:` are no addresses.
        Rule::Url => {
            (!url::Url::parse(text).is_ok_and(|u| u.host_str().is_some())).then_some(Issue::Url)
        }
        Rule::HttpUrl => (!is_http_url(text)).then_some(Issue::HttpUrl),
        Rule::PathOrUrl => {
            let ok = is_http_url(text)
                || (!text.starts_with('/') && !text.contains("://") && !text.is_empty());
            (!ok).then_some(Issue::PathOrUrl)
        }
        Rule::Uri => (!is_uri(text)).then_some(Issue::Uri),
        Rule::Email => {
            let ok = text
                .split_once('@')
                .is_some_and(|(l, d)| !l.is_empty() && d.contains('.') && !d.contains('@'));
            (!ok).then_some(Issue::Email)
        }
        Rule::OneOf(allowed) => (!allowed.contains(&text)).then(|| Issue::from(allowed)),
        Rule::Language => (!is_language(text)).then_some(Issue::Language),
        Rule::Country => {
            let ok = text.len() == 2
                && (text.chars().all(|c| c.is_ascii_uppercase())
                    || text.chars().all(|c| c.is_ascii_lowercase()));
            (!ok).then_some(Issue::Country)
        }
        Rule::Support => match text.strip_prefix("alias:") {
            Some(alias) => (!SUPPORT_ALIASES.contains(&alias)).then_some(Issue::Support),
            None => (!is_uri(text)).then_some(Issue::Support),
        },
        Rule::Bool
        | Rule::List { .. }
        | Rule::UrlOrList
        | Rule::Map(_)
        | Rule::Languages(_)
        | Rule::AnyMap => Some(Issue::WrongType),
    }
}

fn is_http_url(text: &str) -> bool {
    url::Url::parse(text)
        .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some())
}

fn is_uri(text: &str) -> bool {
    match url::Url::parse(text) {
        Ok(u) if u.scheme() == "urn" => text.splitn(3, ':').count() == 3,
        Ok(u) => u.host_str().is_some(),
        Err(_) => false,
    }
}

/// A BCP 47 tag in its common form: a 2–3 letter language, then subtags
/// of 1–8 letters or digits (`en`, `de-DE`, `sl-IT-nedis`; not `en_GB`).
fn is_language(tag: &str) -> bool {
    let mut parts = tag.split('-');
    let first_ok = parts
        .next()
        .is_some_and(|l| (2..=3).contains(&l.len()) && l.chars().all(|c| c.is_ascii_alphabetic()));
    first_ok
        && parts.all(|p| (1..=8).contains(&p.len()) && p.chars().all(|c| c.is_ascii_alphanumeric()))
}

/// `contractors` only with maintenance by contract, and then required;
/// `contacts` required for internal and community maintenance.
fn maintenance_rules(doc: &Node, found: &mut Vec<Finding>) {
    let Some(maintenance) = doc.get("maintenance") else {
        return;
    };
    let Some(kind) = maintenance.get("type").and_then(Node::as_str) else {
        return;
    };
    let contractors = maintenance.get("contractors");
    match (kind, contractors) {
        ("contract", None) => found.push(Finding::error(
            "maintenance.contractors",
            maintenance.line,
            Issue::ContractorsRequired,
        )),
        (other, Some(c)) if other != "contract" => found.push(Finding::error(
            "maintenance.contractors",
            c.line,
            Issue::ContractorsForbidden,
        )),
        _ => {}
    }
    if matches!(kind, "internal" | "community") && maintenance.get("contacts").is_none() {
        found.push(Finding::error(
            "maintenance.contacts",
            maintenance.line,
            Issue::ContactsRequired(kind.to_owned()),
        ));
    }
}
