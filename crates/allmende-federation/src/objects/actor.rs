//! Organizations as ActivityPub actors (type `Organization`, or `Group`
//! for associations and networks), the instance
//! actor (type `Application`), and the reading of remote actors.

use allmende_domain::{
    Handle, Organization, OrganizationDraft, OrganizationInput, OrganizationKind,
};
use allmende_store::RemoteActor;
use serde_json::{json, Value};
use url::Url;

use super::{id_of, str_field, text_to_html, type_of};
use crate::error::FederationError;
use crate::urls::{authority, same_origin, Urls};
use crate::vocabulary::context;

/// The keys an actor document publishes.
pub struct PublishedKeys<'k> {
    /// RSA, for draft-cavage signatures (`publicKey`).
    pub rsa_pem: &'k str,
    /// Ed25519 as a Multikey (`assertionMethod`, FEP-521a), for RFC 9421.
    pub ed25519_multibase: &'k str,
}

/// The actor document of one of this node's organizations.
/// `manually_approves`: followers wait for approval (see `FollowerApproval`).
pub fn organization_json(
    urls: &Urls,
    org: &Organization,
    keys: &PublishedKeys<'_>,
    manually_approves: bool,
) -> Value {
    let public_key_pem = keys.rsa_pem;
    let handle = org.handle.as_str();
    let id = urls.organization(handle);
    let p = &org.profile;
    let mut attachment = vec![property("Art", p.kind.label_de())];
    if let Some(ags) = &p.ags {
        attachment.push(property("AGS", &ags.to_string()));
    }
    if let Some(land) = &p.bundesland {
        attachment.push(property("Bundesland", land.label_de()));
    }
    if let Some(website) = &p.website {
        attachment.push(property(
            "Website",
            &format!(
                "<a href=\"{0}\" rel=\"me nofollow noopener\">{0}</a>",
                super::escape_attribute(website.as_str())
            ),
        ));
    }
    let mut doc = json!({
        "@context": context(),
        "id": id,
        // Associations and networks are FEP-1b12 groups.
        "type": if p.kind.is_group() { "Group" } else { "Organization" },
        "preferredUsername": handle,
        "name": p.name,
        "summary": p.description.as_deref().map(text_to_html).unwrap_or_default(),
        "url": id,
        "inbox": urls.inbox(handle),
        "outbox": urls.outbox(handle),
        "followers": urls.followers(handle),
        "following": urls.following(handle),
        "endpoints": { "sharedInbox": urls.shared_inbox() },
        "manuallyApprovesFollowers": manually_approves,
        "discoverable": true,
        "published": org.created_at.to_rfc3339(),
        "publicKey": {
            "id": urls.key_id(handle),
            "owner": id,
            "publicKeyPem": public_key_pem,
        },
        "assertionMethod": [{
            "id": urls.ed25519_key_id(handle),
            "type": "Multikey",
            "controller": id,
            "publicKeyMultibase": keys.ed25519_multibase,
        }],
        "attachment": attachment,
        "organizationKind": p.kind.slug(),
        "ags": p.ags.as_ref().map(ToString::to_string),
        "ars": p.ars.as_ref().map(ToString::to_string),
        "bundesland": p.bundesland.map(|b| b.slug()),
        "population": p.population,
        "profile": OrganizationInput::from(p),
    });
    // Where it lived before, and where it lives now (after a Move).
    if !org.also_known_as.is_empty() {
        doc["alsoKnownAs"] = json!(org.also_known_as);
    }
    if let Some(moved_to) = &org.moved_to {
        doc["movedTo"] = json!(moved_to);
    }
    doc
}

fn property(name: &str, value: &str) -> Value {
    json!({ "type": "PropertyValue", "name": name, "value": value })
}

/// The instance actor: signs this node's fetches, and is fetchable
/// without a signature so others can check those.
pub fn instance_json(urls: &Urls, public_key_pem: &str) -> Value {
    let id = urls.instance_actor();
    json!({
        "@context": context(),
        "id": id,
        "type": "Application",
        "preferredUsername": crate::INSTANCE_HANDLE,
        "name": format!("Allmende {}", urls.host()),
        "url": urls.base(),
        "inbox": urls.shared_inbox(),
        "outbox": format!("{id}/outbox"),
        "endpoints": { "sharedInbox": urls.shared_inbox() },
        "manuallyApprovesFollowers": true,
        "publicKey": {
            "id": urls.instance_key_id(),
            "owner": id,
            "publicKeyPem": public_key_pem,
        },
    })
}

/// A remote actor as this node keeps it.
pub struct ParsedActor {
    pub handle: Handle,
    pub profile: OrganizationDraft,
    pub actor: RemoteActor,
}

const ACTOR_TYPES: &[&str] = &["Organization", "Person", "Group", "Service", "Application"];

/// Reads a fetched actor document. `fetched_from` is the URL it came from:
/// the document must be about itself, and its inbox and key must be on its
/// own domain.
pub fn parse_remote(doc: &Value, fetched_from: &Url) -> Result<ParsedActor, FederationError> {
    let bad = |m: &str| FederationError::fetch(fetched_from, m);
    let id = id_of(doc).ok_or_else(|| bad("actor without id"))?;
    if !same_origin(&id, fetched_from) {
        return Err(bad("actor id on another domain than the document"));
    }
    let actor_type = type_of(doc).ok_or_else(|| bad("actor without type"))?;
    if !ACTOR_TYPES.contains(&actor_type) {
        return Err(bad("not an actor"));
    }
    let inbox = str_field(doc, "inbox")
        .and_then(|s| Url::parse(s).ok())
        .filter(|u| same_origin(u, &id))
        .ok_or_else(|| bad("no inbox on the actor's domain"))?;
    let shared_inbox = doc
        .get("endpoints")
        .and_then(|e| str_field(e, "sharedInbox"))
        .and_then(|s| Url::parse(s).ok())
        .filter(|u| same_origin(u, &id));
    let key = doc.get("publicKey").ok_or_else(|| bad("no publicKey"))?;
    // Some servers list several keys; the first RSA key is the one used.
    let key = match key {
        Value::Array(keys) => keys.first().ok_or_else(|| bad("no publicKey"))?,
        k => k,
    };
    let key_id = id_of(key).ok_or_else(|| bad("publicKey without id"))?;
    let owner = key.get("owner").and_then(id_of);
    if !same_origin(&key_id, &id) || owner.is_some_and(|o| o != id) {
        return Err(bad("publicKey not owned by the actor"));
    }
    let pem = str_field(key, "publicKeyPem").ok_or_else(|| bad("no publicKeyPem"))?;
    let username = str_field(doc, "preferredUsername")
        .or_else(|| id.path_segments().and_then(|mut s| s.next_back()))
        .unwrap_or_default();
    // Usernames outside the usual characters (or none) get a stable
    // stand-in derived from the actor id.
    let handle = Handle::remote(username, &authority(&id))
        .or_else(|_| Handle::remote(&fallback_name(&id), &authority(&id)))
        .map_err(|_| bad("unusable host"))?;
    let mut profile = profile_of(doc, username);
    // A group of other software (a Lemmy community, a Friendica forum) is
    // a network here: organizations join it and it passes items on.
    if actor_type == "Group" && !profile.kind.is_group() {
        profile.kind = OrganizationKind::Network;
    }
    let ed25519 = ed25519_multikey(doc, &id);
    Ok(ParsedActor {
        handle,
        profile,
        actor: RemoteActor {
            actor_id: id.to_string(),
            actor_type: actor_type.to_owned(),
            inbox: inbox.to_string(),
            shared_inbox: shared_inbox.map(|u| u.to_string()),
            public_key_id: key_id.to_string(),
            public_key_pem: pem.to_owned(),
            // Shown as a link: only web addresses, never `javascript:`;
            // and only on the actor's own server (it stands for the actor,
            // as in identity checks).
            profile_url: str_field(doc, "url")
                .and_then(|u| Url::parse(u).ok())
                .filter(|u| matches!(u.scheme(), "http" | "https") && same_origin(u, &id))
                .map(String::from),
            ed25519_key_id: ed25519.as_ref().map(|(key_id, _)| key_id.to_string()),
            ed25519_key: ed25519.map(|(_, multibase)| multibase),
        },
    })
}

/// The actor's first Ed25519 Multikey in `assertionMethod` (FEP-521a):
/// its id (on the actor's domain, controlled by the actor) and its
/// `publicKeyMultibase`. Other key types and malformed entries are
/// skipped.
fn ed25519_multikey(doc: &Value, actor: &Url) -> Option<(Url, String)> {
    let methods = match doc.get("assertionMethod")? {
        Value::Array(all) => all.iter().collect::<Vec<_>>(),
        one => vec![one],
    };
    methods.into_iter().take(10).find_map(|m| {
        let id = id_of(m)?;
        let controller = m.get("controller").and_then(id_of);
        let multibase = str_field(m, "publicKeyMultibase")?;
        let mut without_fragment = id.clone();
        without_fragment.set_fragment(None);
        (type_of(m) == Some("Multikey")
            && &without_fragment == actor
            && controller.is_none_or(|c| &c == actor)
            && crate::keys::ed25519_from_multibase(multibase).is_some())
        .then(|| (id, multibase.to_owned()))
    })
}

/// `user-` and eight hex digits of the SHA-256 of the actor id.
pub fn fallback_name(id: &Url) -> String {
    use sha2::{Digest, Sha256};
    let hash = Sha256::digest(id.as_str().as_bytes());
    let hex: String = hash.iter().take(4).map(|b| format!("{b:02x}")).collect();
    format!("user-{hex}")
}

/// The profile of a remote actor: the full typed profile an Allmende node
/// sends, if it validates; otherwise the name alone. A remote node's bad
/// AGS is no reason to refuse its actor.
fn profile_of(doc: &Value, username: &str) -> OrganizationDraft {
    let typed = doc
        .get("profile")
        .and_then(|p| serde_json::from_value::<OrganizationInput>(p.clone()).ok())
        .and_then(|input| input.validate().ok());
    typed.unwrap_or_else(|| {
        // The same rules as a name typed here: no bidi overrides, no
        // control characters, something visible.
        let name: String = str_field(doc, "name")
            .and_then(|n| {
                allmende_domain::text::required_line(
                    "name",
                    Some(n),
                    allmende_domain::text::NAME_MAX,
                )
                .ok()
            })
            .unwrap_or_else(|| allmende_domain::text::clean_line(username))
            .chars()
            .take(allmende_domain::text::NAME_MAX)
            .collect();
        OrganizationDraft::named(name, OrganizationKind::Other)
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use serde_json::json;

    use super::*;

    fn doc() -> Value {
        json!({
            "id": "https://b.example/users/anna",
            "type": "Person",
            "preferredUsername": "anna",
            "name": "Anna",
            "inbox": "https://b.example/users/anna/inbox",
            "endpoints": { "sharedInbox": "https://b.example/inbox" },
            "publicKey": {
                "id": "https://b.example/users/anna#main-key",
                "owner": "https://b.example/users/anna",
                "publicKeyPem": "-----BEGIN PUBLIC KEY-----\nMIIB\n-----END PUBLIC KEY-----"
            }
        })
    }

    fn from() -> Url {
        Url::parse("https://b.example/users/anna").unwrap()
    }

    #[test]
    fn a_plain_fediverse_account_is_read() {
        let parsed = parse_remote(&doc(), &from()).unwrap();
        assert_eq!(parsed.handle.as_str(), "anna@b.example");
        assert_eq!(parsed.profile.kind, OrganizationKind::Other);
        assert_eq!(parsed.profile.name, "Anna");
        assert_eq!(parsed.actor.delivery_inbox(), "https://b.example/inbox");
    }

    /// Finding 11 of the security review: remote display names with U+202E
    /// were stored as they came.
    #[test]
    fn remote_names_follow_the_rules_of_local_names() {
        for (name, shown) in [
            ("\u{202E}annA", "annA"),
            ("Stadt\u{0}\nUlm", "Stadt Ulm"),
            ("\u{200B}\u{2066}", "anna"), // nothing visible: the username
        ] {
            let mut d = doc();
            d["name"] = json!(name);
            assert_eq!(
                parse_remote(&d, &from()).unwrap().profile.name,
                shown,
                "{name:?}"
            );
        }
    }

    #[test]
    fn documents_about_other_domains_are_refused() {
        for (pointer, value) in [
            ("/id", "https://evil.example/users/anna"),
            ("/inbox", "https://evil.example/inbox"),
            ("/publicKey/id", "https://evil.example/key"),
            ("/publicKey/owner", "https://b.example/users/someone-else"),
            ("/type", "Note"),
        ] {
            let mut d = doc();
            *d.pointer_mut(pointer).unwrap() = json!(value);
            assert!(parse_remote(&d, &from()).is_err(), "{pointer} = {value}");
        }
    }

    #[test]
    fn only_web_addresses_are_kept_as_profile_links() {
        let mut d = doc();
        d["url"] = json!("javascript:alert(1)");
        assert_eq!(parse_remote(&d, &from()).unwrap().actor.profile_url, None);
        d["url"] = json!("https://b.example/@anna");
        assert_eq!(
            parse_remote(&d, &from())
                .unwrap()
                .actor
                .profile_url
                .as_deref(),
            Some("https://b.example/@anna")
        );
    }

    #[test]
    fn unusual_usernames_get_a_stable_stand_in() {
        let mut d = doc();
        d["preferredUsername"] = json!("ünïcode name");
        let handle = parse_remote(&d, &from()).unwrap().handle;
        assert!(handle.as_str().starts_with("user-"), "{handle}");
        assert_eq!(handle, parse_remote(&d, &from()).unwrap().handle);
    }
}
