//! The fourteen OZG topic fields (Themenfelder) that group the OZG services.

crate::text::labelled_enum! {
    /// OZG-Themenfeld.
    Themenfeld {
        FamilieKind = "familie-kind", "Familie & Kind", "Family & children";
        Bildung = "bildung", "Bildung", "Education";
        ArbeitRuhestand = "arbeit-ruhestand", "Arbeit & Ruhestand", "Work & retirement";
        EngagementHobby = "engagement-hobby", "Engagement & Hobby", "Volunteering & hobbies";
        Gesundheit = "gesundheit", "Gesundheit", "Health";
        EinAuswanderung = "ein-auswanderung", "Ein- & Auswanderung", "Immigration & emigration";
        MobilitaetReisen = "mobilitaet-reisen", "Mobilität & Reisen", "Mobility & travel";
        BauenWohnen = "bauen-wohnen", "Bauen & Wohnen", "Building & housing";
        Umwelt = "umwelt", "Umwelt", "Environment";
        RechtOrdnung = "recht-ordnung", "Recht & Ordnung", "Law & order";
        Unternehmensfuehrung = "unternehmensfuehrung", "Unternehmensführung & -entwicklung", "Running a business";
        SteuernZoll = "steuern-zoll", "Steuern & Zoll", "Taxes & customs";
        ForschungFoerderung = "forschung-foerderung", "Forschung & Förderung", "Research & funding";
        Querschnitt = "querschnitt", "Querschnittsleistungen", "Cross-cutting services";
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fourteen_fields() {
        assert_eq!(Themenfeld::ALL.len(), 14);
        assert_eq!(
            Themenfeld::parse("steuern-zoll"),
            Ok(Themenfeld::SteuernZoll)
        );
        let err = Themenfeld::parse("Steuern").unwrap_err();
        assert!(err.message_en().contains("mobilitaet-reisen"));
    }
}
