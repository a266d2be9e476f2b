//! A YAML document as a plain tree of strings, lists and maps, each node
//! with the line it starts on, built from `yaml-rust2`'s event parser.
//!
//! Why not the crate's own loader: it expands aliases by copying, so a
//! 64 KiB file of nested aliases ("billion laughs") would take all memory.
//! publiccode.yml files have no use for anchors, so they are refused, and
//! nesting is bounded. Scalars stay strings: publiccode.yml's types
//! (dates, booleans, versions) are checked by the schema, not guessed by
//! YAML's implicit typing (`version: 1.10` must not become `1.1`).

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

/// How deep lists and maps may nest; the standard needs four levels.
const MAX_DEPTH: usize = 16;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    /// A scalar; `plain` when it was written without quotes (then `true`
    /// is a boolean and `~` or an empty value is null).
    Scalar {
        text: String,
        plain: bool,
    },
    List(Vec<Node>),
    Map(Vec<(String, Node)>),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Node {
    pub value: Value,
    /// 1-based line of the node in the file.
    pub line: usize,
}

impl Node {
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Scalar { text, .. } => Some(text),
            _ => None,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(&self.value, Value::Scalar { text, plain: true } if text.is_empty() || text == "~" || text == "null")
    }

    pub fn as_bool(&self) -> Option<bool> {
        match &self.value {
            Value::Scalar { text, plain: true } => match text.as_str() {
                "true" => Some(true),
                "false" => Some(false),
                _ => None,
            },
            _ => None,
        }
    }

    pub fn get(&self, key: &str) -> Option<&Node> {
        match &self.value {
            Value::Map(entries) => entries.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    pub fn items(&self) -> &[Node] {
        match &self.value {
            Value::List(items) => items,
            _ => &[],
        }
    }
}

/// Why a text is not a YAML document we read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyntaxError {
    pub line: usize,
    pub message: String,
}

/// Parses one YAML document.
pub fn parse(text: &str) -> Result<Node, SyntaxError> {
    // A byte order mark is not part of the first key (the scanner does
    // not skip it).
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut builder = Builder::default();
    let mut parser = Parser::new_from_str(text);
    parser.load(&mut builder, true).map_err(|e| SyntaxError {
        line: e.marker().line(),
        message: e.info().to_owned(),
    })?;
    if let Some(error) = builder.error {
        return Err(error);
    }
    builder.root.ok_or(SyntaxError {
        line: 1,
        message: "the file is empty".into(),
    })
}

/// Collects events into nodes; the first problem stops collecting.
#[derive(Default)]
struct Builder {
    /// Open lists and maps; a map's pending key waits beside it.
    open: Vec<(Node, Option<String>)>,
    root: Option<Node>,
    error: Option<SyntaxError>,
    documents: usize,
}

impl Builder {
    fn fail(&mut self, mark: Marker, message: &str) {
        if self.error.is_none() {
            self.error = Some(SyntaxError {
                line: mark.line(),
                message: message.into(),
            });
        }
    }

    /// Puts a finished node into its parent (or makes it the document).
    fn place(&mut self, node: Node, mark: Marker) {
        let Some((parent, pending_key)) = self.open.last_mut() else {
            if self.root.is_none() {
                self.root = Some(node);
            }
            return;
        };
        match &mut parent.value {
            Value::List(items) => items.push(node),
            Value::Map(entries) => match pending_key.take() {
                Some(key) => {
                    if entries.iter().any(|(k, _)| *k == key) {
                        let message = format!("key {key:?} appears twice");
                        self.fail(mark, &message);
                        return;
                    }
                    entries.push((key, node));
                }
                None => match node.value {
                    Value::Scalar { text, .. } => *pending_key = Some(text),
                    _ => self.fail(mark, "a map key must be a plain value"),
                },
            },
            Value::Scalar { .. } => unreachable!("only lists and maps are open"),
        }
    }

    fn open(&mut self, value: Value, mark: Marker) {
        if self.open.len() >= MAX_DEPTH {
            self.fail(mark, "nested too deeply");
            return;
        }
        self.open.push((
            Node {
                value,
                line: mark.line(),
            },
            None,
        ));
    }

    fn close(&mut self, mark: Marker) {
        if let Some((node, _)) = self.open.pop() {
            self.place(node, mark);
        }
    }
}

impl MarkedEventReceiver for Builder {
    fn on_event(&mut self, event: Event, mark: Marker) {
        if self.error.is_some() {
            return;
        }
        match event {
            Event::Alias(_) => self.fail(mark, "aliases (*name) are not allowed in publiccode.yml"),
            Event::Scalar(text, style, anchor, _) => {
                if anchor != 0 {
                    self.fail(mark, "anchors (&name) are not allowed in publiccode.yml");
                    return;
                }
                let node = Node {
                    value: Value::Scalar {
                        text,
                        plain: style == TScalarStyle::Plain,
                    },
                    line: mark.line(),
                };
                self.place(node, mark);
            }
            Event::SequenceStart(anchor, _) | Event::MappingStart(anchor, _) if anchor != 0 => {
                self.fail(mark, "anchors (&name) are not allowed in publiccode.yml");
            }
            Event::SequenceStart(..) => self.open(Value::List(Vec::new()), mark),
            Event::MappingStart(..) => self.open(Value::Map(Vec::new()), mark),
            Event::SequenceEnd | Event::MappingEnd => self.close(mark),
            Event::DocumentStart => {
                self.documents += 1;
                if self.documents > 1 {
                    self.fail(
                        mark,
                        "a publiccode.yml holds one YAML document, not several",
                    );
                }
            }
            Event::Nothing | Event::StreamStart | Event::StreamEnd | Event::DocumentEnd => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_maps_lists_and_lines() {
        let doc = parse("name: Hund\nplatforms:\n  - web\n  - linux\nversion: 1.10\n").unwrap();
        assert_eq!(doc.get("name").unwrap().as_str(), Some("Hund"));
        assert_eq!(doc.get("platforms").unwrap().items().len(), 2);
        assert_eq!(doc.get("platforms").unwrap().items()[1].line, 4);
        // Scalars stay text: 1.10 is not the number 1.1.
        assert_eq!(doc.get("version").unwrap().as_str(), Some("1.10"));
    }

    #[test]
    fn refuses_aliases_duplicates_depth_and_bad_syntax() {
        let laughs = "a: &a [x, x]\nb: [*a, *a]\n";
        assert!(parse(laughs).unwrap_err().message.contains("anchors"));
        assert!(parse("a: 1\na: 2\n").unwrap_err().message.contains("twice"));
        let deep = format!("{}{}", "[".repeat(40), "]".repeat(40));
        assert!(parse(&deep).unwrap_err().message.contains("deeply"));
        let two = parse("name: a\n---\nname: b\n").unwrap_err();
        assert!(two.message.contains("one YAML document"), "{two:?}");
        let bom = parse("\u{feff}name: a\n").unwrap();
        assert_eq!(bom.get("name").unwrap().as_str(), Some("a"));
        let broken = parse("name: [unclosed\n").unwrap_err();
        assert_eq!(broken.line, 2);
        assert!(parse("").is_err());
    }
}
