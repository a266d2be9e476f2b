//! WebFinger (RFC 7033) addresses: what a person types to name an
//! organization on another node. Served in `outbound/discovery.rs`, looked
//! up in `resolver/webfinger.rs`.

use url::Url;

use crate::error::FederationError;

/// What a user may type to name a remote organization.
#[derive(Debug, PartialEq, Eq)]
pub enum Target {
    /// `name@host`, `@name@host` or `acct:name@host`.
    Account { name: String, host: String },
    /// An actor URL.
    Url(Url),
}

impl Target {
    pub fn parse(input: &str) -> Result<Self, FederationError> {
        let input = input.trim();
        if input.starts_with("https://") || input.starts_with("http://") {
            return Url::parse(input)
                .map(Target::Url)
                .map_err(|_| FederationError::BadRequest("not a URL".into()));
        }
        let acct = input.trim_start_matches("acct:").trim_start_matches('@');
        match acct.split_once('@') {
            Some((name, host))
                if !name.is_empty()
                    && !host.is_empty()
                    && !host.contains(['/', '@', '?', '#', ' ']) =>
            {
                Ok(Target::Account {
                    name: name.to_owned(),
                    host: host.to_ascii_lowercase(),
                })
            }
            _ => Err(FederationError::BadRequest(
                "expected name@host or an actor URL".into(),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets() {
        let ulm = Target::Account {
            name: "ulm".into(),
            host: "node-a:4001".into(),
        };
        assert_eq!(Target::parse("@ulm@node-a:4001").ok(), Some(ulm));
        assert!(
            matches!(Target::parse("acct:ulm@Node-B"), Ok(Target::Account { host, .. }) if host == "node-b")
        );
        assert!(matches!(
            Target::parse("https://b.example/orgs/x"),
            Ok(Target::Url(_))
        ));
        for bad in ["ulm", "@ulm", "ulm@", "a@b/c", ""] {
            assert!(Target::parse(bad).is_err(), "{bad}");
        }
    }
}
