//! Arbitrary strings and JSON to every identifier parser and every input
//! type: each answers with a value or a `Problem`, never a panic; and what
//! a parser accepts, it accepts again in its own printed form.
#![allow(clippy::unwrap_used)]

use allmende_domain::organization::Handle;
use allmende_domain::{
    Ags, Ars, Email, LeikaKey, OrganizationInput, OzgId, ProjectInput, QuestionInput,
    SolutionInput, SpdxExpression,
};
use proptest::prelude::*;
use serde_json::Value;

/// Strings that look like identifiers, and anything at all.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[0-9]{0,16}",
        "[a-z0-9._@:-]{0,40}",
        "[ -~]{0,60}",
        any::<String>(),
        "\\PC{0,20}[\u{0}\u{202e}\u{200b}\u{feff}]\\PC{0,5}",
    ]
}

/// Arbitrary JSON, a few levels deep.
fn json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        text().prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
            prop::collection::btree_map(
                prop_oneof![
                    Just("title".to_owned()),
                    Just("body".to_owned()),
                    Just("summary".to_owned()),
                    Just("status".to_owned()),
                    Just("name".to_owned()),
                    Just("kind".to_owned()),
                    Just("ags".to_owned()),
                    Just("leika_keys".to_owned()),
                    Just("ozg_ids".to_owned()),
                    Just("links".to_owned()),
                    Just("licence".to_owned()),
                    Just("audience".to_owned()),
                    Just("contact".to_owned()),
                    "[a-z_]{1,12}",
                ],
                inner,
                0..10,
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn identifier_parsers_never_panic(s in text()) {
        if let Ok(ags) = Ags::parse(&s) { prop_assert_eq!(Ags::parse(ags.as_str()).unwrap(), ags); }
        if let Ok(ars) = Ars::parse(&s) { prop_assert_eq!(Ars::parse(ars.as_str()).unwrap(), ars); }
        let _ = LeikaKey::parse(&s);
        let _ = OzgId::parse(&s);
        let _ = Email::parse(&s);
        let _ = SpdxExpression::parse(&s);
        if let Ok(h) = Handle::parse(&s) { prop_assert_eq!(Handle::parse(h.as_str()).unwrap(), h); }
        let _ = Handle::parse_any(&s);
        let _ = Handle::remote(&s, "example.org");
        let _ = Handle::remote("anna", &s);
        let _ = allmende_domain::text::http_url(&s);
    }

    #[test]
    fn input_validation_never_panics(doc in json()) {
        if let Ok(input) = serde_json::from_value::<ProjectInput>(doc.clone()) { let _ = input.validate(); }
        if let Ok(input) = serde_json::from_value::<QuestionInput>(doc.clone()) { let _ = input.validate(); }
        if let Ok(input) = serde_json::from_value::<SolutionInput>(doc.clone()) { let _ = input.validate(); }
        if let Ok(input) = serde_json::from_value::<OrganizationInput>(doc) { let _ = input.validate(); }
    }
}
