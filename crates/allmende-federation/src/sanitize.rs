//! HTML from other servers is cleaned to a small allow-list before it is
//! stored: text structure and links, nothing that runs or loads.

use std::collections::HashSet;
use std::sync::LazyLock;

static CLEANER: LazyLock<ammonia::Builder<'static>> = LazyLock::new(|| {
    let mut builder = ammonia::Builder::empty();
    builder
        .tags(HashSet::from([
            "p",
            "br",
            "a",
            "ul",
            "ol",
            "li",
            "em",
            "strong",
            "b",
            "i",
            "code",
            "pre",
            "blockquote",
            "span",
        ]))
        .clean_content_tags(HashSet::from(["script", "style"]))
        .link_rel(Some("nofollow noopener noreferrer"))
        .url_schemes(HashSet::from(["http", "https"]))
        .add_tag_attributes("a", ["href"]);
    builder
});

/// Remote HTML reduced to the allow-list.
pub fn clean_html(html: &str) -> String {
    CLEANER.clean(html).to_string()
}

/// The text of remote HTML, for search and plain-text fields: tags
/// removed, paragraphs and line breaks kept as newlines, entities decoded.
pub fn html_to_text(html: &str) -> String {
    let with_breaks = html
        .replace("<br>", "\n")
        .replace("<br/>", "\n")
        .replace("<br />", "\n")
        .replace("</p>", "\n\n");
    let stripped = ammonia::Builder::empty()
        .clean_content_tags(HashSet::from(["script", "style"]))
        .clean(&with_breaks)
        .to_string();
    // ammonia's serializer writes every other character as itself, so these
    // are the only entities its output can contain.
    let decoded = stripped
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&nbsp;", " ")
        .replace("&amp;", "&");
    decoded.trim().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_styles_and_handlers_are_removed() {
        let dirty = r#"<p onclick="x()">Hallo <script>alert(1)</script><a href="javascript:evil()">a</a> <a href="https://ulm.de">Ulm</a><img src=x onerror=alert(1)><style>p{}</style></p>"#;
        let clean = clean_html(dirty);
        assert!(!clean.contains("script"), "{clean}");
        assert!(!clean.contains("onclick"), "{clean}");
        assert!(!clean.contains("javascript"), "{clean}");
        assert!(!clean.contains("img"), "{clean}");
        assert!(!clean.contains("style"), "{clean}");
        assert!(
            clean
                .contains(r#"<a href="https://ulm.de" rel="nofollow noopener noreferrer">Ulm</a>"#),
            "{clean}"
        );
    }

    #[test]
    fn text_keeps_paragraphs() {
        assert_eq!(
            html_to_text("<p>Eins &amp; zwei</p><p>drei<br>vier <b>fünf</b></p>"),
            "Eins & zwei\n\ndrei\nvier fünf"
        );
    }
}
