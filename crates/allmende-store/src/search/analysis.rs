//! How text becomes search terms, the same for what is indexed and what is
//! typed: lowercase, umlauts and ß folded ("Straße" = "strasse", "München"
//! = "muenchen"), accents dropped, split into words, each word reduced to
//! its German stem (Snowball), so that "Bewohnerparken" and
//! "Bewohnerparkausweis" share the start "bewohnerpark" and "Hunde" finds
//! "Hundesteuer".
//!
//! Both engines index the words written here, separated by spaces, so
//! SQLite's and PostgreSQL's tokenizers have nothing left to decide and
//! find the same things.

use std::sync::LazyLock;

use rust_stemmers::{Algorithm, Stemmer};
use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;

/// Raised whenever what this module writes changes: the node then rebuilds
/// the index at start-up.
pub const VERSION: i64 = 1;

/// How much of an item's text is indexed; longer text adds little to
/// finding it and much to the index.
const INDEXED_CHARS: usize = 20_000;

/// Query words beyond this are ignored.
const QUERY_TERMS_MAX: usize = 12;

/// Query words shorter than this match only whole words: "ulm" should not
/// find "ulmer", but even less should "die" find every "dienst".
const PREFIX_MIN: usize = 4;

static GERMAN: LazyLock<Stemmer> = LazyLock::new(|| Stemmer::create(Algorithm::German));

/// Words too common to narrow a search down; dropped from queries (not
/// from the index) unless the query has nothing else.
const STOPWORDS: &[&str] = &[
    "aber", "als", "am", "an", "auch", "auf", "aus", "bei", "bis", "das", "dass", "de", "dem",
    "den", "der", "des", "die", "ein", "eine", "einem", "einen", "einer", "eines", "es", "fuer",
    "im", "in", "ist", "mit", "nach", "noch", "oder", "sich", "sind", "so", "ueber", "um", "und",
    "unter", "vom", "von", "vor", "wie", "wir", "zu", "zum", "zur", "the", "and", "of", "for",
];

/// Lowercase with German folding: "Straße in MÜNCHEN" → "strasse in
/// muenchen"; other accents are dropped ("Café" → "cafe").
pub fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars().flat_map(char::to_lowercase) {
        match c {
            'ß' => out.push_str("ss"),
            'ä' => out.push_str("ae"),
            'ö' => out.push_str("oe"),
            'ü' => out.push_str("ue"),
            c if c.is_ascii() => out.push(c),
            c => out.extend(c.to_string().nfd().filter(|c| !is_combining_mark(*c))),
        }
    }
    out
}

/// The stem of one folded word; numbers (LeiKa keys, AGS) stay whole.
fn stem(word: &str) -> String {
    if word.bytes().any(|b| b.is_ascii_digit()) {
        word.to_owned()
    } else {
        GERMAN.stem(word).into_owned()
    }
}

fn words(folded: &str) -> impl Iterator<Item = &str> {
    folded
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
}

/// The indexed form of a text: its stems, separated by spaces.
pub fn index_text(text: &str) -> String {
    let text = match text.char_indices().nth(INDEXED_CHARS) {
        Some((end, _)) => &text[..end],
        None => text,
    };
    let folded = fold(text);
    let mut out = String::with_capacity(folded.len());
    for word in words(&folded) {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(&stem(word));
    }
    out
}

/// One word of a query.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Term {
    pub stem: String,
    /// Whether longer words starting with the stem match too.
    pub prefix: bool,
}

impl Term {
    /// Whether an indexed stem matches this term.
    pub fn matches(&self, indexed_stem: &str) -> bool {
        if self.prefix {
            indexed_stem.starts_with(&self.stem)
        } else {
            indexed_stem == self.stem
        }
    }
}

/// What a person typed, as terms that must all occur. Operators and quotes
/// are plain text to us, so no input is a syntax error in either engine.
pub fn terms(input: &str) -> Vec<Term> {
    let folded = fold(input);
    let all: Vec<&str> = words(&folded).take(QUERY_TERMS_MAX).collect();
    let meaningful: Vec<&str> = all
        .iter()
        .copied()
        .filter(|w| !STOPWORDS.contains(w))
        .collect();
    let chosen = if meaningful.is_empty() {
        all
    } else {
        meaningful
    };
    let mut terms: Vec<Term> = chosen
        .into_iter()
        .map(|word| {
            let stem = stem(word);
            Term {
                prefix: stem.chars().count() >= PREFIX_MIN,
                stem,
            }
        })
        .collect();
    terms.dedup();
    terms
}

/// The terms as an FTS5 query: `"bewohnerpark"* "ulm"`.
pub fn fts5(terms: &[Term], any: bool) -> Option<String> {
    let parts: Vec<String> = terms
        .iter()
        .map(|t| {
            if t.prefix {
                format!("\"{}\"*", t.stem)
            } else {
                format!("\"{}\"", t.stem)
            }
        })
        .collect();
    (!parts.is_empty()).then(|| parts.join(if any { " OR " } else { " " }))
}

/// The terms as a PostgreSQL `tsquery`: `bewohnerpark:* & ulm`.
pub fn tsquery(terms: &[Term], any: bool) -> Option<String> {
    let parts: Vec<String> = terms
        .iter()
        .map(|t| {
            if t.prefix {
                format!("{}:*", t.stem)
            } else {
                t.stem.clone()
            }
        })
        .collect();
    (!parts.is_empty()).then(|| parts.join(if any { " | " } else { " & " }))
}

/// A piece of a snippet: text, and whether it matched the query.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Piece {
    pub text: String,
    pub hit: bool,
}

/// Words shown around the first match.
const SNIPPET_BEFORE: usize = 10;
const SNIPPET_WORDS: usize = 32;

/// A short excerpt of `text` around the first word that matches `terms`,
/// with the matching words marked; `None` when no word matches (the hit
/// was in the title or in data that is not shown as text).
pub fn snippet(text: &str, terms: &[Term]) -> Option<Vec<Piece>> {
    // Words with their byte ranges in the original text.
    let mut spans = Vec::new();
    let mut start = None;
    for (i, c) in text.char_indices() {
        match (c.is_alphanumeric(), start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                spans.push((s, i));
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        spans.push((s, text.len()));
    }
    let is_hit = |&(s, e): &(usize, usize)| {
        let folded = fold(&text[s..e]);
        let hit = words(&folded).any(|w| {
            let stemmed = stem(w);
            terms.iter().any(|t| t.matches(&stemmed))
        });
        hit
    };
    let first = spans.iter().position(is_hit)?;
    let from = first.saturating_sub(SNIPPET_BEFORE);
    let to = (from + SNIPPET_WORDS).min(spans.len());
    let mut pieces = Vec::new();
    if from > 0 {
        pieces.push(Piece {
            text: "… ".into(),
            hit: false,
        });
    }
    let mut cursor = spans[from].0;
    for span in &spans[from..to] {
        if span.0 > cursor {
            pieces.push(Piece {
                text: text[cursor..span.0].into(),
                hit: false,
            });
        }
        pieces.push(Piece {
            text: text[span.0..span.1].into(),
            hit: is_hit(span),
        });
        cursor = span.1;
    }
    if to < spans.len() {
        pieces.push(Piece {
            text: " …".into(),
            hit: false,
        });
    }
    Some(pieces)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stems(input: &str) -> Vec<String> {
        terms(input).into_iter().map(|t| t.stem).collect()
    }

    #[test]
    fn folds_german_text() {
        assert_eq!(fold("Straße in MÜNCHEN"), "strasse in muenchen");
        assert_eq!(fold("Café Crème"), "cafe creme");
    }

    #[test]
    fn inflected_and_compound_forms_share_a_stem() {
        let query = &terms("Bewohnerparken")[0];
        assert!(query.prefix);
        assert!(query.matches(&index_text("Bewohnerparkausweis")));
        assert!(terms("Hunde")[0].matches(&index_text("Hundesteuer")));
        assert!(terms("Steuern")[0].matches(&index_text("Steuer")));
        assert!(terms("Hundesteuer")[0].matches(&index_text("Hundesteuern")));
        assert!(!terms("Hundesteuer")[0].matches(&index_text("Hund")));
    }

    #[test]
    fn short_words_match_whole_words_only() {
        let ulm = &terms("Ulm")[0];
        assert!(!ulm.prefix);
        assert!(ulm.matches(&index_text("Ulm")));
        // "Ulmer" has the stem "ulm"; a longer word does not match.
        assert!(ulm.matches(&index_text("Ulmer")));
        assert!(!ulm.matches(&index_text("Ulmenweg")));
    }

    #[test]
    fn numbers_stay_whole_and_stopwords_go() {
        assert_eq!(
            stems("Hundesteuer in der 99041006017000"),
            ["hundesteu", "99041006017000"]
        );
        // A query of stopwords only is still a query.
        assert_eq!(stems("Die"), ["die"]);
        assert!(terms("  ,.;").is_empty());
    }

    #[test]
    fn queries_are_plain_terms_in_both_engines() {
        let t = terms("\" OR NEAR( * Hunde-Steuer 'a' | !b");
        assert_eq!(
            fts5(&t, false).as_deref(),
            Some("\"or\" \"near\"* \"hund\"* \"steu\"* \"a\" \"b\"")
        );
        assert_eq!(
            tsquery(&t, false).as_deref(),
            Some("or & near:* & hund:* & steu:* & a & b")
        );
        assert_eq!(tsquery(&t[..2], true).as_deref(), Some("or | near:*"));
        assert_eq!(fts5(&[], false), None);
    }

    #[test]
    fn snippets_mark_the_matching_words() {
        let text = "Die Stadt bietet einen Bewohnerparkausweis online an. Danach folgt ein sehr langer Text.";
        let pieces = snippet(text, &terms("Bewohnerparken")).expect("a match");
        let marked: Vec<&str> = pieces
            .iter()
            .filter(|p| p.hit)
            .map(|p| p.text.as_str())
            .collect();
        assert_eq!(marked, ["Bewohnerparkausweis"]);
        let joined: String = pieces.iter().map(|p| p.text.as_str()).collect();
        assert!(joined.starts_with("Die Stadt bietet"));
        assert_eq!(snippet(text, &terms("Hundesteuer")), None);
    }

    #[test]
    fn long_text_is_cut_around_the_match() {
        let text = format!("{} Hundesteuer {}", "Wort ".repeat(50), "Ende ".repeat(50));
        let pieces = snippet(&text, &terms("hunde")).expect("a match");
        assert_eq!(pieces.first().map(|p| p.text.as_str()), Some("… "));
        assert_eq!(pieces.last().map(|p| p.text.as_str()), Some(" …"));
        assert_eq!(
            pieces.iter().filter(|p| p.text.trim() == "Wort").count(),
            SNIPPET_BEFORE
        );
    }
}
