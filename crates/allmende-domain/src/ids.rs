//! Official German identifiers: AGS, ARS, LeiKa keys and OZG service ids.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::Problem;
use crate::region::Bundesland;

fn is_digits(s: &str, len: usize) -> bool {
    s.len() == len && s.bytes().all(|b| b.is_ascii_digit())
}

/// Amtlicher Gemeindeschlüssel: 8 digits, Land (01–16) + Regierungsbezirk (1)
/// + Kreis (2) + Gemeinde (3). Stuttgart is 08111000.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Ags(String);

impl Ags {
    pub fn parse(input: &str) -> Result<Self, Problem> {
        let s = input.trim();
        if !is_digits(s, 8) || Bundesland::from_key(&s[..2]).is_none() {
            return Err(Problem::Ags);
        }
        Ok(Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The Land is encoded in the first two digits.
    pub fn land(&self) -> Bundesland {
        Bundesland::from_key(&self.0[..2]).expect("checked in parse")
    }
}

/// Regionalschlüssel: 12 digits, Land 2 + RB 1 + Kreis 2 + Gemeindeverband 4 +
/// Gemeinde 3.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Ars(String);

impl Ars {
    pub fn parse(input: &str) -> Result<Self, Problem> {
        let s = input.trim();
        if !is_digits(s, 12) || Bundesland::from_key(&s[..2]).is_none() {
            return Err(Problem::Ars);
        }
        Ok(Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn land(&self) -> Bundesland {
        Bundesland::from_key(&self.0[..2]).expect("checked in parse")
    }

    /// The AGS contained in the ARS: it drops the four Gemeindeverband digits.
    pub fn ags(&self) -> Ags {
        Ags(format!("{}{}", &self.0[..5], &self.0[9..]))
    }
}

/// Key of the federal service catalogue (Leistungskatalog): 14 digits.
/// 99041006017000 is "Hundesteuer Anmeldung".
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct LeikaKey(String);

impl LeikaKey {
    pub fn parse(input: &str) -> Result<Self, Problem> {
        let s = input.trim();
        if !is_digits(s, 14) {
            return Err(Problem::Leika);
        }
        Ok(Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Id of one of the OZG service bundles (OZG-Leistung), a positive integer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "u32", into = "u32")]
pub struct OzgId(u32);

impl OzgId {
    pub const MAX: u32 = 99_999;

    pub fn new(value: u32) -> Result<Self, Problem> {
        if value == 0 || value > Self::MAX {
            return Err(Problem::OzgId);
        }
        Ok(Self(value))
    }

    pub fn parse(input: &str) -> Result<Self, Problem> {
        let s = input.trim();
        if s.is_empty() || s.len() > 5 || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Problem::OzgId);
        }
        Self::new(s.parse().map_err(|_| Problem::OzgId)?)
    }

    pub fn get(self) -> u32 {
        self.0
    }
}

/// A public service an item is about: a LeiKa key or an OZG service. One
/// page per service lists everything the network has on it; the key is
/// its URL segment (`leika:99041006017000`, `ozg:42`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ServiceKey {
    Leika(LeikaKey),
    Ozg(OzgId),
}

impl ServiceKey {
    /// `leika:<14 digits>` or `ozg:<id>`; a bare 14-digit number is a
    /// LeiKa key, a bare shorter number an OZG id.
    pub fn parse(input: &str) -> Result<Self, Problem> {
        let s = input.trim();
        match s.split_once(':') {
            Some(("leika", key)) => LeikaKey::parse(key).map(Self::Leika),
            Some(("ozg", id)) => OzgId::parse(id).map(Self::Ozg),
            Some(_) => Err(Problem::Leika),
            None if s.len() == 14 => LeikaKey::parse(s).map(Self::Leika),
            None => OzgId::parse(s).map(Self::Ozg),
        }
    }

    /// The form kept in the index and used in URLs.
    pub fn slug(&self) -> String {
        match self {
            Self::Leika(key) => format!("leika:{key}"),
            Self::Ozg(id) => format!("ozg:{id}"),
        }
    }
}

impl fmt::Display for ServiceKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Leika(key) => write!(f, "LeiKa {key}"),
            Self::Ozg(id) => write!(f, "OZG {id}"),
        }
    }
}

macro_rules! string_conversions {
    ($($t:ty),*) => {$(
        impl TryFrom<String> for $t {
            type Error = String;
            fn try_from(s: String) -> Result<Self, String> {
                Self::parse(&s).map_err(|p| p.message_en())
            }
        }
        impl From<$t> for String {
            fn from(v: $t) -> String { v.0 }
        }
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result { f.write_str(&self.0) }
        }
    )*};
}
string_conversions!(Ags, Ars, LeikaKey);

impl TryFrom<u32> for OzgId {
    type Error = String;
    fn try_from(v: u32) -> Result<Self, String> {
        Self::new(v).map_err(|p| p.message_en())
    }
}
impl From<OzgId> for u32 {
    fn from(v: OzgId) -> u32 {
        v.0
    }
}
impl fmt::Display for OzgId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_keys_read_both_forms() {
        let dog_tax = ServiceKey::parse("leika:99041006017000").unwrap();
        assert_eq!(dog_tax, ServiceKey::parse("99041006017000").unwrap());
        assert_eq!(dog_tax.slug(), "leika:99041006017000");
        assert_eq!(ServiceKey::parse("ozg:42").unwrap().slug(), "ozg:42");
        assert_eq!(ServiceKey::parse("42").unwrap().slug(), "ozg:42");
        assert!(ServiceKey::parse("leika:123").is_err());
        assert!(ServiceKey::parse("x:1").is_err());
        assert!(ServiceKey::parse("ozg:0").is_err());
    }

    #[test]
    fn ags_accepts_real_keys() {
        let stuttgart = Ags::parse("08111000").unwrap();
        assert_eq!(stuttgart.land(), Bundesland::BadenWuerttemberg);
        assert_eq!(Ags::parse(" 01001000 ").unwrap().as_str(), "01001000");
        assert_eq!(
            Ags::parse("16077052").unwrap().land(),
            Bundesland::Thueringen
        );
    }

    #[test]
    fn ags_rejects_bad_keys() {
        for bad in [
            "",
            "0811100",
            "081110000",
            "0811100a",
            "00111000",
            "17111000",
            "99111000",
            "08 11100",
            "０８１１１０００",
            "-8111000",
        ] {
            assert_eq!(Ags::parse(bad), Err(Problem::Ags), "{bad:?}");
        }
    }

    #[test]
    fn ars_parses_and_yields_ags() {
        let ars = Ars::parse("081110000000").unwrap();
        assert_eq!(ars.ags().as_str(), "08111000");
        let ulm = Ars::parse("084210000000").unwrap();
        assert_eq!(ulm.land(), Bundesland::BadenWuerttemberg);
        // Gemeindeverband digits are dropped, Gemeinde digits kept.
        assert_eq!(
            Ars::parse("083355001123").unwrap().ags().as_str(),
            "08335123"
        );
        for bad in [
            "08111000",
            "0811100000000",
            "18111000000x",
            "171110000000",
            "",
        ] {
            assert_eq!(Ars::parse(bad), Err(Problem::Ars), "{bad:?}");
        }
    }

    #[test]
    fn leika_needs_fourteen_digits() {
        assert_eq!(
            LeikaKey::parse("99041006017000").unwrap().as_str(),
            "99041006017000"
        );
        for bad in ["9904100601700", "990410060170000", "9904100601700x", ""] {
            assert_eq!(LeikaKey::parse(bad), Err(Problem::Leika), "{bad:?}");
        }
    }

    #[test]
    fn ozg_id_range() {
        assert_eq!(OzgId::parse("1").unwrap().get(), 1);
        assert_eq!(OzgId::parse("99999").unwrap().get(), 99_999);
        for bad in ["0", "100000", "-1", "1.5", "", "abc", "000001"] {
            assert_eq!(OzgId::parse(bad), Err(Problem::OzgId), "{bad:?}");
        }
        assert!(OzgId::new(0).is_err());
    }

    #[test]
    fn serde_round_trip_validates() {
        let ags: Ags = serde_json::from_str("\"08111000\"").unwrap();
        assert_eq!(serde_json::to_string(&ags).unwrap(), "\"08111000\"");
        assert!(serde_json::from_str::<Ags>("\"123\"").is_err());
        assert!(serde_json::from_str::<OzgId>("0").is_err());
    }
}
