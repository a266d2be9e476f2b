//! Validation errors that name the field and say, in German and English, what
//! is wrong with it.

use std::fmt;

/// What is wrong with one value, independent of where it came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Problem {
    Required,
    /// Only spaces or invisible characters.
    Invisible,
    /// Not a domain name (with an optional port).
    Domain,
    TooLong {
        max: usize,
    },
    TooShort {
        min: usize,
    },
    TooMany {
        max: usize,
    },
    Ags,
    Ars,
    Leika,
    OzgId,
    UnknownValue {
        allowed: Vec<&'static str>,
    },
    Spdx(String),
    Url,
    Email,
    Handle,
    Date,
    EndBeforeStart,
    LandMismatch,
    Number,
    /// The value has the wrong JSON type or shape (the text says which).
    Malformed(String),
    /// A fediverse address in the form name@host or an actor URL.
    FediverseAddress,
    /// The named organization on another node could not be found or reached.
    RemoteUnavailable,
    /// The address names this node itself.
    LocalAddress,
    /// Not a group the organization is an accepted member of.
    NotGroupMember,
    /// Only public items are passed on by groups.
    GroupNeedsPublic,
    /// An item shared with groups cannot become followers-only.
    SharedWithGroups,
    /// A publiccode.yml that breaks the standard, at one of its keys.
    Publiccode(Box<crate::publiccode::Finding>),
    /// A solution cannot be a variant of itself.
    VariantOfItself,
    /// Not the address of a solution known on this node.
    NotASolution,
}

impl Problem {
    /// Attaches the field the problem was found in.
    pub fn at(self, field: impl Into<String>) -> ValidationError {
        ValidationError {
            field: field.into(),
            problem: self,
        }
    }

    pub fn message_en(&self) -> String {
        match self {
            Problem::Required => "is required".into(),
            Problem::Invisible => "must contain visible characters".into(),
            Problem::Domain => "must be a domain such as example.org (optionally with :port), not this node's own".into(),
            Problem::TooLong { max } => format!("must be at most {max} characters long"),
            Problem::TooShort { min } => format!("must be at least {min} characters long"),
            Problem::TooMany { max } => format!("may contain at most {max} entries"),
            Problem::Ags => "must be an AGS of 8 digits whose first two digits are a Land key 01–16 (e.g. 08111000)".into(),
            Problem::Ars => "must be an ARS of 12 digits whose first two digits are a Land key 01–16 (e.g. 081110000000)".into(),
            Problem::Leika => "must be a LeiKa key of 14 digits (e.g. 99041006017000)".into(),
            Problem::OzgId => "must be an OZG service id, a whole number from 1 to 99999".into(),
            Problem::UnknownValue { allowed } => format!("must be one of: {}", allowed.join(", ")),
            Problem::Spdx(reason) => format!("must be an SPDX licence expression such as EUPL-1.2 or MIT OR Apache-2.0 ({reason})"),
            Problem::Url => "must be an http or https address".into(),
            Problem::Email => "must be an e-mail address".into(),
            Problem::Handle => "must be 1–64 characters: lowercase letters a–z, digits, '-' or '_', starting with a letter or digit".into(),
            Problem::Date => "must be a date in the form YYYY-MM-DD".into(),
            Problem::EndBeforeStart => "must not be before the start date".into(),
            Problem::LandMismatch => "does not match the Land of the AGS".into(),
            Problem::Number => "must be a whole number of at least 0".into(),
            Problem::Malformed(detail) => format!("is malformed: {detail}"),
            Problem::FediverseAddress => "must be an address like ulm@allmende.example.de or an actor URL".into(),
            Problem::RemoteUnavailable => "could not be found or its node did not answer; check the address and try again later".into(),
            Problem::LocalAddress => "is an organization on this node; its items are already shown here".into(),
            Problem::NotGroupMember => "can be chosen only when your organization is an accepted member".into(),
            Problem::GroupNeedsPublic => "can be chosen only for public items (questions: “public”), since a group passes items on to everyone who follows it".into(),
            Problem::SharedWithGroups => "must stay public: the item is shared with groups, which passed it on to everyone who follows them".into(),
            Problem::Publiccode(finding) => finding.message_en(),
            Problem::VariantOfItself => "must name another solution than this one".into(),
            Problem::NotASolution => "must be the address of a solution known on this node (open the original and choose “Create a variant”)".into(),
        }
    }

    pub fn message_de(&self) -> String {
        match self {
            Problem::Required => "ist ein Pflichtfeld".into(),
            Problem::Invisible => "muss sichtbare Zeichen enthalten".into(),
            Problem::Domain => "muss eine Domain wie example.org sein (wahlweise mit :Port), nicht die dieses Knotens".into(),
            Problem::TooLong { max } => format!("darf höchstens {max} Zeichen lang sein"),
            Problem::TooShort { min } => format!("muss mindestens {min} Zeichen lang sein"),
            Problem::TooMany { max } => format!("darf höchstens {max} Einträge enthalten"),
            Problem::Ags => "muss ein AGS aus 8 Ziffern sein, beginnend mit einem Länderschlüssel 01–16 (z. B. 08111000)".into(),
            Problem::Ars => "muss ein ARS aus 12 Ziffern sein, beginnend mit einem Länderschlüssel 01–16 (z. B. 081110000000)".into(),
            Problem::Leika => "muss ein LeiKa-Schlüssel aus 14 Ziffern sein (z. B. 99041006017000)".into(),
            Problem::OzgId => "muss eine OZG-Leistungs-ID sein, eine ganze Zahl von 1 bis 99999".into(),
            Problem::UnknownValue { allowed } => format!("muss einer dieser Werte sein: {}", allowed.join(", ")),
            // The parser's reason is English; the example says enough.
            Problem::Spdx(_) => "muss ein SPDX-Lizenzausdruck sein, z. B. EUPL-1.2 oder MIT OR Apache-2.0".into(),
            Problem::Url => "muss eine http- oder https-Adresse sein".into(),
            Problem::Email => "muss eine E-Mail-Adresse sein".into(),
            Problem::Handle => "muss 1–64 Zeichen lang sein: Kleinbuchstaben a–z, Ziffern, '-' oder '_', beginnend mit Buchstabe oder Ziffer".into(),
            Problem::Date => "muss ein Datum im Format JJJJ-MM-TT sein".into(),
            Problem::EndBeforeStart => "darf nicht vor dem Startdatum liegen".into(),
            Problem::LandMismatch => "passt nicht zum Bundesland des AGS".into(),
            Problem::Number => "muss eine ganze Zahl ab 0 sein".into(),
            Problem::Malformed(detail) => format!("hat ein ungültiges Format: {detail}"),
            Problem::FediverseAddress => "muss eine Adresse wie ulm@allmende.example.de oder eine Actor-URL sein".into(),
            Problem::RemoteUnavailable => "wurde nicht gefunden oder ihr Knoten hat nicht geantwortet; bitte Adresse prüfen und später erneut versuchen".into(),
            Problem::LocalAddress => "ist eine Organisation auf diesem Knoten; ihre Beiträge sind hier bereits sichtbar".into(),
            Problem::NotGroupMember => "können nur gewählt werden, wenn Ihre Organisation in sie aufgenommen ist".into(),
            Problem::GroupNeedsPublic => "können nur für öffentliche Beiträge gewählt werden (bei Fragen: „Öffentlich“), denn eine Gruppe gibt Beiträge an alle weiter, die ihr folgen".into(),
            Problem::SharedWithGroups => "muss öffentlich bleiben: der Beitrag ist mit Gruppen geteilt, die ihn an alle weitergegeben haben, die ihnen folgen".into(),
            Problem::Publiccode(finding) => finding.message_de(),
            Problem::VariantOfItself => "muss eine andere Lösung als diese nennen".into(),
            Problem::NotASolution => "muss die Adresse einer Lösung sein, die dieser Knoten kennt (öffnen Sie das Original und wählen Sie „Variante anlegen“)".into(),
        }
    }
}

/// A value that failed validation, with the field (a JSON path such as
/// `contact.email` or `leika_keys[1]`) it came from.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct ValidationError {
    pub field: String,
    pub problem: Problem,
}

impl fmt::Display for ValidationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.field, self.problem.message_en())
    }
}

/// Every problem found in one input, in field order; never empty. Forms show
/// them all at once; the API reports the first with its field.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct ValidationErrors(Vec<ValidationError>);

impl ValidationErrors {
    /// `None` when there is nothing to report.
    pub fn new(errors: Vec<ValidationError>) -> Option<Self> {
        (!errors.is_empty()).then_some(Self(errors))
    }

    pub fn first(&self) -> &ValidationError {
        &self.0[0]
    }

    pub fn iter(&self) -> std::slice::Iter<'_, ValidationError> {
        self.0.iter()
    }
}

impl From<ValidationError> for ValidationErrors {
    fn from(e: ValidationError) -> Self {
        Self(vec![e])
    }
}

impl IntoIterator for ValidationErrors {
    type Item = ValidationError;
    type IntoIter = std::vec::IntoIter<ValidationError>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl fmt::Display for ValidationErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            e.fmt(f)?;
        }
        Ok(())
    }
}

/// Runs every field check, binding each result to a name, and returns all
/// failures together; after it, every name holds its checked value:
///
/// ```text
/// check_all! {
///     title = required("title", input.title.as_deref(), TITLE_MAX);
///     body = optional("body", input.body.as_deref(), BODY_MAX);
/// }
/// Ok(Draft { title, body })
/// ```
macro_rules! check_all {
    ($($name:ident = $check:expr;)+) => {
        let mut errors: Vec<$crate::error::ValidationError> = Vec::new();
        $(
            let $name = match $check {
                Ok(value) => Some(value),
                Err(e) => {
                    errors.extend($crate::error::ValidationErrors::from(e));
                    None
                }
            };
        )+
        if let Some(all) = $crate::error::ValidationErrors::new(errors) {
            return Err(all);
        }
        $( let Some($name) = $name else { unreachable!("a failed check was recorded") }; )+
    };
}
pub(crate) use check_all;
