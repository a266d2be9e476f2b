//! The texts of items and answers are Markdown (CommonMark), of which a
//! safe subset is shown: paragraphs and line breaks, emphasis, links,
//! lists, headings, quotes and code. Everything else stays visible as
//! text: raw HTML is escaped, not interpreted, and an image becomes a link
//! to it (nodes load nothing from elsewhere).
//!
//! The same HTML is shown on the pages and federated as `content`, with
//! the Markdown as `source` (`mediaType: text/markdown`), as Mastodon,
//! Misskey and others do. Plain text written before Markdown renders as
//! it did: paragraphs at blank lines, and every line break kept (a single
//! newline is a hard break here, as in GitHub comments).

use std::collections::HashSet;
use std::sync::LazyLock;

use pulldown_cmark::{CowStr, Event, HeadingLevel, Options, Parser, Tag, TagEnd};

/// Longest text rendered; longer input (which validation refuses anyway)
/// is cut, so rendering time stays bounded.
const MAX_SOURCE: usize = 100_000;

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
            "code",
            "pre",
            "blockquote",
            "h2",
            "h3",
            "h4",
            "h5",
            "h6",
            "hr",
            "del",
        ]))
        .add_tag_attributes("ol", ["start"])
        .add_tag_attributes("a", ["href"])
        .link_rel(Some("nofollow noopener noreferrer"))
        .url_schemes(HashSet::from(["http", "https", "mailto"]))
        .url_relative(ammonia::UrlRelative::Deny);
    builder
});

/// Markdown as safe HTML. `top` is the level of the text's first-level
/// heading (`#`), so that its headings continue the page's outline: under
/// a page's h2 sections, `top` is 3; deeper levels follow, at most h6.
pub fn to_html(source: &str, top: u8) -> String {
    let source = truncate(source, MAX_SOURCE);
    let options = Options::ENABLE_STRIKETHROUGH;
    let top = top.clamp(2, 6);
    let events = Parser::new_ext(source, options).map(|event| match event {
        // A single newline is a line break: plain text keeps its lines.
        Event::SoftBreak => Event::HardBreak,
        // Raw HTML is shown as the text it is.
        Event::Html(html) | Event::InlineHtml(html) => Event::Text(html),
        Event::Start(Tag::Heading {
            level,
            id,
            classes,
            attrs,
        }) => Event::Start(Tag::Heading {
            level: shift(level, top),
            id,
            classes,
            attrs,
        }),
        Event::End(TagEnd::Heading(level)) => Event::End(TagEnd::Heading(shift(level, top))),
        // No images: a link to where the image is.
        Event::Start(Tag::Image {
            link_type,
            dest_url,
            title,
            id,
        }) => Event::Start(Tag::Link {
            link_type,
            dest_url,
            title,
            id,
        }),
        Event::End(TagEnd::Image) => Event::End(TagEnd::Link),
        Event::Start(Tag::HtmlBlock) | Event::End(TagEnd::HtmlBlock) => {
            Event::Text(CowStr::Borrowed(""))
        }
        other => other,
    });
    let mut html = String::new();
    pulldown_cmark::html::push_html(&mut html, events);
    CLEANER.clean(&html).to_string()
}

fn shift(level: HeadingLevel, top: u8) -> HeadingLevel {
    let shifted = (level as u8).saturating_sub(1).saturating_add(top).min(6);
    HeadingLevel::try_from(usize::from(shifted)).unwrap_or(HeadingLevel::H6)
}

fn truncate(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_keeps_paragraphs_and_lines() {
        assert_eq!(
            to_html("Erste Zeile\nzweite Zeile\n\nNeuer Absatz", 3),
            "<p>Erste Zeile<br>\nzweite Zeile</p>\n<p>Neuer Absatz</p>\n"
        );
    }

    #[test]
    fn the_subset_is_rendered() {
        let html = to_html(
            "# Ziel\n\n*kurz* und **klar**, [Satzung](https://ulm.example/satzung)\n\n- eins\n- zwei\n\n3. drei\n\n> Zitat\n\n`code`",
            3,
        );
        assert!(html.contains("<h3>Ziel</h3>"), "{html}");
        assert!(html.contains("<em>kurz</em> und <strong>klar</strong>"));
        assert!(html.contains(
            "<a href=\"https://ulm.example/satzung\" rel=\"nofollow noopener noreferrer\">Satzung</a>"
        ));
        assert!(html.contains("<ul>\n<li>eins</li>\n<li>zwei</li>\n</ul>"));
        assert!(html.contains("<ol start=\"3\">"));
        assert!(html.contains("<blockquote>"));
        assert!(html.contains("<code>code</code>"));
    }

    #[test]
    fn headings_continue_the_page_outline() {
        assert!(to_html("## Zwei", 3).contains("<h4>Zwei</h4>"));
        assert!(to_html("###### Sechs", 3).contains("<h6>Sechs</h6>"));
        assert!(to_html("# Eins", 2).contains("<h2>Eins</h2>"));
    }

    #[test]
    fn nothing_runs_or_loads() {
        let html = to_html(
            "<script>alert(1)</script>\n\n<img src=x onerror=alert(1)>\n\n[x](javascript:alert(1)) ![Plan](https://evil.example/p.png) [r](/relative)",
            3,
        );
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("<img"), "{html}");
        assert!(!html.contains("javascript:"), "{html}");
        assert!(
            html.contains("&lt;script&gt;"),
            "raw HTML shown as text: {html}"
        );
        assert!(
            html.contains("<a href=\"https://evil.example/p.png\""),
            "an image is a link: {html}"
        );
        assert!(!html.contains("href=\"/relative\""), "{html}");
    }

    #[test]
    fn long_input_is_cut_at_a_character() {
        let text = "ä".repeat(MAX_SOURCE);
        assert!(to_html(&text, 3).len() < MAX_SOURCE * 2);
    }
}
