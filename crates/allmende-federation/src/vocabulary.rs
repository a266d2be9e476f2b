//! The JSON-LD vocabulary: ActivityStreams, the security vocabularies (for
//! `publicKey`, and the Multikey of FEP-521a) and Allmende's own terms. Allmende terms are defined with
//! full IRIs in one namespace and the definitions travel inline in every
//! document (FEP-e229), so no consumer has to fetch a context; every node
//! also serves the same definitions at `/ns` for people and tools.

use serde_json::{json, Value};

/// The namespace of Allmende terms. It names terms; it does not need to
/// resolve, and it is the same for every node.
pub const NAMESPACE: &str = "https://w3id.org/allmende/ns#";

pub const ACTIVITY_JSON: &str = "application/activity+json";
pub const LD_JSON_PROFILE: &str =
    "application/ld+json; profile=\"https://www.w3.org/ns/activitystreams\"";
pub const ACTIVITYSTREAMS: &str = "https://www.w3.org/ns/activitystreams";
pub const SECURITY: &str = "https://w3id.org/security/v1";
/// `Multikey`, `assertionMethod`, `publicKeyMultibase` (FEP-521a).
pub const MULTIKEY: &str = "https://w3id.org/security/multikey/v1";
pub const PUBLIC: &str = "https://www.w3.org/ns/activitystreams#Public";

/// Allmende's term definitions.
pub fn terms() -> Value {
    json!({
        "allmende": NAMESPACE,
        "schema": "http://schema.org#",
        "toot": "http://joinmastodon.org/ns#",
        "discoverable": "toot:discoverable",
        "PropertyValue": "schema:PropertyValue",
        "value": "schema:value",
        "manuallyApprovesFollowers": "as:manuallyApprovesFollowers",
        // As Mastodon defines them, for Move.
        "alsoKnownAs": { "@id": "as:alsoKnownAs", "@type": "@id" },
        "movedTo": { "@id": "as:movedTo", "@type": "@id" },
        // The Multikey context defines the key; where it is listed, the
        // DID vocabulary does (FEP-521a).
        "assertionMethod": { "@id": "https://w3id.org/security#assertionMethod", "@type": "@id", "@container": "@set" },
        "itemType": "allmende:itemType",
        "item": { "@id": "allmende:item", "@type": "@json" },
        "acceptedAnswer": { "@id": "allmende:acceptedAnswer", "@type": "@id" },
        "organizationKind": "allmende:organizationKind",
        "ags": "allmende:ags",
        "ars": "allmende:ars",
        "bundesland": "allmende:bundesland",
        "population": "allmende:population",
        "profile": { "@id": "allmende:profile", "@type": "@json" },
        "hops": "allmende:hops",
        "Adoption": "allmende:Adoption",
        "adoption": { "@id": "allmende:adoption", "@type": "@json" },
        "adopters": { "@id": "allmende:adopters", "@type": "@id" },
        "variantOf": { "@id": "allmende:variantOf", "@type": "@id" }
    })
}

/// The `@context` of every document Allmende serves or sends.
pub fn context() -> Value {
    json!([ACTIVITYSTREAMS, SECURITY, MULTIKEY, terms()])
}

/// The document served at `/ns`.
pub fn context_document() -> Value {
    json!({ "@context": terms() })
}

/// Whether an object or activity is addressed to the public (in any of
/// the forms in use: the full IRI, `as:Public`, `Public`).
pub fn is_public(doc: &Value) -> bool {
    ["to", "cc"].iter().any(|field| {
        let is_public = |v: &Value| matches!(v.as_str(), Some(PUBLIC | "as:Public" | "Public"));
        match doc.get(*field) {
            Some(Value::Array(list)) => list.iter().any(is_public),
            Some(one) => is_public(one),
            None => false,
        }
    })
}

/// Whether an `Accept` header asks for ActivityPub JSON rather than HTML.
pub fn wants_activity_json(accept: Option<&str>) -> bool {
    accept.is_some_and(|a| {
        a.split(',').any(|part| {
            let media = part.trim().to_ascii_lowercase();
            media.starts_with(ACTIVITY_JSON)
                || (media.starts_with("application/ld+json")
                    && (!media.contains("profile") || media.contains(ACTIVITYSTREAMS)))
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 11, finding 4: `schema` must expand as Mastodon's does
    /// (`http://schema.org#`), or JSON-LD consumers that know Mastodon's
    /// `PropertyValue` never recognise ours.
    #[test]
    fn schema_terms_expand_as_mastodons() {
        let terms = terms();
        let prefix = terms["schema"].as_str().unwrap();
        let expand = |term: &str| {
            let curie = terms[term].as_str().unwrap();
            format!("{prefix}{}", curie.trim_start_matches("schema:"))
        };
        assert_eq!(expand("value"), "http://schema.org#value");
        assert_eq!(expand("PropertyValue"), "http://schema.org#PropertyValue");
    }

    #[test]
    fn content_negotiation() {
        assert!(wants_activity_json(Some("application/activity+json")));
        assert!(wants_activity_json(Some(LD_JSON_PROFILE)));
        assert!(wants_activity_json(Some(
            "application/ld+json; profile=\"https://www.w3.org/ns/activitystreams\", text/html;q=0.1"
        )));
        assert!(!wants_activity_json(Some(
            "text/html,application/xhtml+xml"
        )));
        assert!(!wants_activity_json(None));
    }
}
