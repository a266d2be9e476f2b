//! SPDX licence expressions, checked against the SPDX licence list.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::Problem;

/// A syntactically valid SPDX licence expression made of known licence ids,
/// e.g. `EUPL-1.2` or `MIT OR Apache-2.0`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct SpdxExpression(String);

impl SpdxExpression {
    pub fn parse(input: &str) -> Result<Self, Problem> {
        let s = input.trim();
        if s.len() > 200 {
            return Err(Problem::TooLong { max: 200 });
        }
        spdx::Expression::parse(s).map_err(|e| Problem::Spdx(e.reason.to_string()))?;
        Ok(Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for SpdxExpression {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        Self::parse(&s).map_err(|p| p.message_en())
    }
}
impl From<SpdxExpression> for String {
    fn from(v: SpdxExpression) -> String {
        v.0
    }
}
impl fmt::Display for SpdxExpression {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_common_public_sector_licences() {
        for ok in [
            "EUPL-1.2",
            "MIT OR Apache-2.0",
            "AGPL-3.0-or-later",
            "(MIT AND BSD-3-Clause)",
            "GPL-2.0-only WITH Classpath-exception-2.0",
        ] {
            assert!(SpdxExpression::parse(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn rejects_unknown_or_broken() {
        for bad in ["", "EUPL", "MIT OR", "Proprietär", "MIT AND AND Apache-2.0"] {
            assert!(
                matches!(SpdxExpression::parse(bad), Err(Problem::Spdx(_))),
                "{bad}"
            );
        }
    }
}
