//! Loading a test file's YAML into `marked-yaml` nodes, and reading those nodes with every problem
//! located at the node that caused it.
//!
//! Test files are untrusted. Before the YAML parser sees a text, two guards run: one document only
//! (the parser would silently ignore everything after a second `---`), and a bound on nesting (the
//! parser recurses once per level, so a deeply nested text could exhaust the stack). The reader
//! never stops at the first problem: it records it and goes on with what it can still read.

use marked_yaml::types::{MarkedMappingNode, MarkedScalarNode};
use marked_yaml::{LoadError, LoaderOptions, Node, Span, Spanned};
use warden_policy::Catalogue;

use super::report::{Pos, Problem};

/// A string from the file with the span it came from.
pub(super) type Text = Spanned<String>;

/// How far right (in characters) a line's YAML structure may start. Block nesting can only grow
/// with the column, so this bounds the parser's recursion (flow nesting is bounded by the parser).
pub(super) const MAX_STRUCTURE_COLUMN: usize = 100;

/// Parses the text into its root mapping, or says why it cannot.
pub(super) fn load(text: &str) -> Result<Node, Problem> {
    check_single_document(text)?;
    check_nesting(text)?;
    let options = LoaderOptions::default()
        .error_on_duplicate_keys(true)
        .prevent_coercion(true);
    marked_yaml::parse_yaml_with_options(0, text, options).map_err(load_error)
}

fn check_single_document(text: &str) -> Result<(), Problem> {
    let mut content_seen = false;
    for (index, line) in text.lines().enumerate() {
        let marker = ["---", "..."].into_iter().find(|m| {
            line.strip_prefix(m)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with([' ', '\t', '\r']))
        });
        match marker {
            Some("---") if !content_seen => content_seen = true,
            Some(marker) => {
                let message = format!(
                    "a test file holds one YAML document, but `{marker}` starts or ends another"
                );
                let help = "remove the marker; put further cases in the same `cases:` list or in \
                            another file";
                return Err(Problem::new(Pos::new(index + 1, 1), message).with_help(help));
            }
            None => {
                let trimmed = line.trim_start();
                if !trimmed.is_empty() && !trimmed.starts_with('#') {
                    content_seen = true;
                }
            }
        }
    }
    Ok(())
}

fn check_nesting(text: &str) -> Result<(), Problem> {
    for (index, line) in text.lines().enumerate() {
        let column = line
            .chars()
            .position(|c| !matches!(c, ' ' | '\t' | '-' | '?' | ':'))
            .unwrap_or_else(|| line.chars().count());
        if column > MAX_STRUCTURE_COLUMN {
            let message = format!(
                "line {} is nested or indented too deeply (column {}, at most \
                 {MAX_STRUCTURE_COLUMN})",
                index + 1,
                column + 1
            );
            return Err(Problem::new(Pos::new(index + 1, 1), message)
                .with_help("indent less; a test file needs only a few levels"));
        }
    }
    Ok(())
}

fn load_error(error: LoadError) -> Problem {
    let at = |marker: &marked_yaml::Marker| Pos::new(marker.line(), marker.column());
    match error {
        LoadError::TopLevelMustBeMapping(m) | LoadError::TopLevelMustBeSequence(m) => {
            Problem::new(at(&m), "a test file is a YAML mapping")
                .with_help("start with keys such as `users:`, `groups:` and `cases:`")
        }
        LoadError::UnexpectedAnchor(m) => Problem::new(
            at(&m),
            "YAML anchors and aliases are not supported in test files",
        )
        .with_help("write the value out where it is used"),
        LoadError::MappingKeyMustBeScalar(m) => Problem::new(at(&m), "a key must be a string"),
        LoadError::UnexpectedTag(m) => {
            Problem::new(at(&m), "YAML tags are not supported in test files")
                .with_help("remove the `!…` tag")
        }
        LoadError::ScanError(m, e) => Problem::new(at(&m), format!("invalid YAML: {}", e.info())),
        LoadError::DuplicateKey(inner) => {
            let first = pos(inner.prev_key.span());
            Problem::new(
                pos(inner.key.span()),
                format!(
                    "key `{}` appears twice in this mapping (first at line {})",
                    inner.key.as_str(),
                    first.line
                ),
            )
            .with_help("keep only one of them")
        }
    }
}

/// Where a span starts (1:1 when it has no start).
pub(super) fn pos(span: &Span) -> Pos {
    span.start()
        .map_or(Pos::START, |m| Pos::new(m.line(), m.column()))
}

/// Where a node is: a mapping at its first key, a sequence at its first item, a scalar where it
/// starts.
pub(super) fn node_pos(node: &Node) -> Pos {
    match node {
        Node::Scalar(scalar) => pos(scalar.span()),
        Node::Mapping(mapping) => mapping
            .keys()
            .next()
            .map_or_else(|| pos(mapping.span()), |key| pos(key.span())),
        Node::Sequence(sequence) => sequence
            .first()
            .map_or_else(|| pos(sequence.span()), node_pos),
    }
}

pub(super) fn text_pos(text: &Text) -> Pos {
    pos(text.span())
}

fn text(scalar: &MarkedScalarNode) -> Text {
    Spanned::new(*scalar.span(), scalar.as_str().to_owned())
}

/// A plain `~`, `null` or nothing at all: an absent value.
pub(super) fn is_null(node: &Node) -> bool {
    matches!(node, Node::Scalar(s)
        if s.may_coerce() && matches!(s.as_str(), "" | "~" | "null" | "Null" | "NULL"))
}

fn kind(node: &Node) -> &'static str {
    match node {
        _ if is_null(node) => "nothing",
        Node::Scalar(_) => "a string",
        Node::Mapping(_) => "a mapping",
        Node::Sequence(_) => "a list",
    }
}

/// The closest of `candidates` to `name`, compared without case.
pub(super) fn suggest<'a>(name: &str, candidates: impl Iterator<Item = &'a str>) -> Option<String> {
    let candidates: Vec<(String, &str)> = candidates.map(|c| (c.to_lowercase(), c)).collect();
    let lower = name.to_lowercase();
    let best = Catalogue::suggest_among(&lower, candidates.iter().map(|(l, _)| l.as_str()))?;
    candidates
        .iter()
        .find(|(l, _)| l == best)
        .map(|(_, original)| (*original).to_owned())
}

pub(super) fn did_you_mean(suggestion: Option<String>) -> Option<String> {
    suggestion.map(|s| format!("did you mean `{s}`?"))
}

/// A string, or a list of strings, as written.
#[derive(Debug, Clone)]
pub(super) enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

/// Reads nodes, collecting every problem.
#[derive(Debug, Default)]
pub(super) struct Reader {
    pub problems: Vec<Problem>,
}

impl Reader {
    pub fn error(&mut self, problem: Problem) {
        self.problems.push(problem);
    }

    fn wrong_kind(&mut self, node: &Node, what: &str, expected: &str) {
        self.error(Problem::new(
            node_pos(node),
            format!("{what} must be {expected}, not {}", kind(node)),
        ));
    }

    /// The entries of a mapping (nothing for an absent value).
    pub fn entries<'n>(&mut self, node: &'n Node, what: &str) -> Option<Vec<(Text, &'n Node)>> {
        if is_null(node) {
            return Some(Vec::new());
        }
        match node {
            Node::Mapping(mapping) => Some(mapping.iter().map(|(k, v)| (text(k), v)).collect()),
            _ => {
                self.wrong_kind(node, what, "a mapping");
                None
            }
        }
    }

    /// The items of a list (nothing for an absent value).
    pub fn items<'n>(&mut self, node: &'n Node, what: &str) -> Option<Vec<&'n Node>> {
        if is_null(node) {
            return Some(Vec::new());
        }
        match node {
            Node::Sequence(sequence) => Some(sequence.iter().collect()),
            _ => {
                self.wrong_kind(node, what, "a list");
                None
            }
        }
    }

    /// A mapping whose keys must be among `allowed`; unknown keys are reported with the closest
    /// allowed one.
    pub fn fields<'n>(
        &mut self,
        node: &'n Node,
        what: &str,
        allowed: &[&str],
    ) -> Option<Fields<'n>> {
        let Node::Mapping(mapping) = node else {
            self.wrong_kind(node, what, "a mapping");
            return None;
        };
        for key in mapping.keys() {
            if !allowed.contains(&key.as_str()) {
                let known: Vec<String> = allowed.iter().map(|k| format!("`{k}`")).collect();
                let help = match suggest(key.as_str(), allowed.iter().copied()) {
                    Some(s) => format!(
                        "did you mean `{s}`? the keys of {what} are {}",
                        known.join(", ")
                    ),
                    None => format!("the keys of {what} are {}", known.join(", ")),
                };
                self.error(
                    Problem::new(
                        pos(key.span()),
                        format!("unknown key `{}` in {what}", key.as_str()),
                    )
                    .with_help(help),
                );
            }
        }
        Some(Fields { mapping })
    }

    /// One string; an absent value is an error.
    pub fn string(&mut self, node: &Node, what: &str) -> Option<Text> {
        match node {
            Node::Scalar(_) if is_null(node) => {
                self.error(Problem::new(
                    node_pos(node),
                    format!("{what} needs a value"),
                ));
                None
            }
            Node::Scalar(scalar) => Some(text(scalar)),
            _ => {
                self.wrong_kind(node, what, "a string");
                None
            }
        }
    }

    /// One string or a list of strings, as a list (nothing for an absent value).
    pub fn strings(&mut self, node: &Node, what: &str) -> Option<Vec<Text>> {
        match node {
            _ if is_null(node) => Some(Vec::new()),
            Node::Scalar(scalar) => Some(vec![text(scalar)]),
            Node::Sequence(sequence) => {
                let mut out = Vec::new();
                for item in sequence.iter() {
                    out.push(self.string(item, &format!("an item of {what}"))?);
                }
                Some(out)
            }
            Node::Mapping(_) => {
                self.wrong_kind(node, what, "a string or a list of strings");
                None
            }
        }
    }

    /// One string or a list of strings, keeping which it was.
    pub fn one_or_many(&mut self, node: &Node, what: &str) -> Option<Spanned<OneOrMany>> {
        let span = match node {
            Node::Scalar(s) => *s.span(),
            Node::Sequence(s) => *s.span(),
            Node::Mapping(m) => *m.span(),
        };
        let value = match node {
            Node::Scalar(_) => OneOrMany::One(self.string(node, what)?.to_string()),
            Node::Sequence(_) => OneOrMany::Many(
                self.strings(node, what)?
                    .iter()
                    .map(|t| t.to_string())
                    .collect(),
            ),
            Node::Mapping(_) => {
                self.wrong_kind(node, what, "a string or a list of strings");
                return None;
            }
        };
        Some(Spanned::new(span, value))
    }
}

/// The fields of a mapping that [`Reader::fields`] checked.
#[derive(Debug, Clone, Copy)]
pub(super) struct Fields<'n> {
    mapping: &'n MarkedMappingNode,
}

impl<'n> Fields<'n> {
    /// The value of `key`, when present.
    pub fn get(&self, key: &str) -> Option<&'n Node> {
        self.mapping.get_node(key)
    }

    /// Where the mapping is (its first key).
    pub fn pos(&self) -> Pos {
        self.mapping
            .keys()
            .next()
            .map_or_else(|| pos(self.mapping.span()), |key| pos(key.span()))
    }

    /// Where `key` is written, or the mapping when it is absent.
    pub fn key_pos(&self, key: &str) -> Pos {
        self.mapping
            .keys()
            .find(|k| k.as_str() == key)
            .map_or_else(|| self.pos(), |k| pos(k.span()))
    }
}
