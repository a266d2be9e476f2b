//! The sixteen Länder; their two-digit keys are the first digits of an AGS.

crate::text::labelled_enum! {
    /// A federal state (Bundesland). Travels as its ISO 3166-2 suffix in
    /// lowercase (`bw`, `by`, …).
    Bundesland {
        SchleswigHolstein = "sh", "Schleswig-Holstein", "Schleswig-Holstein";
        Hamburg = "hh", "Hamburg", "Hamburg";
        Niedersachsen = "ni", "Niedersachsen", "Lower Saxony";
        Bremen = "hb", "Bremen", "Bremen";
        NordrheinWestfalen = "nw", "Nordrhein-Westfalen", "North Rhine-Westphalia";
        Hessen = "he", "Hessen", "Hesse";
        RheinlandPfalz = "rp", "Rheinland-Pfalz", "Rhineland-Palatinate";
        BadenWuerttemberg = "bw", "Baden-Württemberg", "Baden-Württemberg";
        Bayern = "by", "Bayern", "Bavaria";
        Saarland = "sl", "Saarland", "Saarland";
        Berlin = "be", "Berlin", "Berlin";
        Brandenburg = "bb", "Brandenburg", "Brandenburg";
        MecklenburgVorpommern = "mv", "Mecklenburg-Vorpommern", "Mecklenburg-Western Pomerania";
        Sachsen = "sn", "Sachsen", "Saxony";
        SachsenAnhalt = "st", "Sachsen-Anhalt", "Saxony-Anhalt";
        Thueringen = "th", "Thüringen", "Thuringia";
    }
}

impl Bundesland {
    /// The two-digit Länderschlüssel, "01" (Schleswig-Holstein) to "16" (Thüringen).
    pub fn key(self) -> String {
        let index = Self::ALL.iter().position(|l| *l == self).expect("listed");
        format!("{:02}", index + 1)
    }

    pub fn from_key(key: &str) -> Option<Self> {
        let n: usize = key.parse().ok().filter(|_| key.len() == 2)?;
        Self::ALL.get(n.checked_sub(1)?).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_follow_the_official_order() {
        assert_eq!(Bundesland::ALL.len(), 16);
        assert_eq!(
            Bundesland::from_key("08"),
            Some(Bundesland::BadenWuerttemberg)
        );
        assert_eq!(
            Bundesland::from_key("01"),
            Some(Bundesland::SchleswigHolstein)
        );
        assert_eq!(Bundesland::from_key("16"), Some(Bundesland::Thueringen));
        assert_eq!(Bundesland::from_key("11"), Some(Bundesland::Berlin));
        assert_eq!(Bundesland::from_key("00"), None);
        assert_eq!(Bundesland::from_key("17"), None);
        assert_eq!(Bundesland::from_key("8"), None);
        assert_eq!(Bundesland::Bayern.key(), "09");
    }

    #[test]
    fn slugs_parse() {
        assert_eq!(Bundesland::parse("bw"), Ok(Bundesland::BadenWuerttemberg));
        assert!(Bundesland::parse("BW-x").is_err());
        assert_eq!(Bundesland::Thueringen.label_de(), "Thüringen");
    }
}
