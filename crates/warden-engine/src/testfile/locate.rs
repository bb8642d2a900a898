//! Positions inside a YAML string, translated to positions in the test file: a diagnostic at
//! line 2, column 7 of a policy text written as a block scalar is at the file line of that text
//! line, its column shifted by the block's indentation.
//!
//! The translation is only trusted when the file really holds the text at the computed place, up
//! to the column in question: literal `|` blocks and one-line plain or quoted strings pass; after
//! an escape, in a folded `>` block or in a multi-line quoted string it gives up, and the caller
//! points at the string itself and names the position inside the text instead.

use super::report::Pos;
use super::yaml::{Text, text_pos};

/// The lines of a test file, for looking up what a line holds.
#[derive(Debug)]
pub(super) struct SourceLines<'a> {
    lines: Vec<&'a str>,
}

impl<'a> SourceLines<'a> {
    pub fn new(source: &'a str) -> Self {
        SourceLines {
            lines: source.lines().collect(),
        }
    }

    /// A 1-based line, without its line break.
    fn line(&self, line: usize) -> Option<&'a str> {
        self.lines.get(line.checked_sub(1)?).copied()
    }

    /// Where `line:column` (1-based, in characters) of the string `value` is in the file.
    pub fn locate(&self, value: &Text, line: usize, column: usize) -> Option<Pos> {
        let lines: Vec<&str> = value.split('\n').collect();
        // An empty last line is where a text without a final `;` ends: point after the line before.
        if line > 1 && lines.get(line - 1).is_some_and(|l| l.is_empty()) {
            let previous = *lines.get(line - 2)?;
            let at = self.locate(value, line - 1, 1)?;
            return Some(Pos::new(at.line, at.column + previous.chars().count()));
        }
        let wanted = *lines.get(line.checked_sub(1)?)?;
        let start = text_pos(value);
        // A block scalar's span starts at its first non-empty line.
        let leading_empty = lines.iter().take_while(|l| l.is_empty()).count();
        let index = line.checked_sub(1)?.checked_sub(leading_empty)?;
        let file_line = start.line.checked_add(index)?;
        let first_char = self
            .line(start.line)?
            .chars()
            .nth(start.column.checked_sub(1)?);
        let quoted = matches!(first_char, Some('"' | '\''));
        if quoted && lines.len() > 1 {
            return None;
        }
        let offset = start.column - 1 + usize::from(quoted);
        // Proof: the file holds the text line's characters up to and including the column.
        let proof: String = wanted.chars().take(column).collect();
        let held: String = self.line(file_line)?.chars().skip(offset).collect();
        if !held.starts_with(&proof) {
            return None;
        }
        Some(Pos::new(file_line, offset.checked_add(column)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testfile::yaml::load;

    /// The string under `key` in a one-level mapping.
    fn value_of(node: &marked_yaml::Node, key: &str) -> Text {
        let scalar = node
            .as_mapping()
            .unwrap()
            .get_scalar(key)
            .unwrap_or_else(|| panic!("no `{key}`"));
        marked_yaml::Spanned::new(*scalar.span(), scalar.as_str().to_owned())
    }

    const FILE: &str = "\
literal: |
  ALLOW a:b:c;
  DENY x:y:z
leading: |-

    ALLOW q
plain: ALLOW p:q:r
quoted: \"ALLOW d:e:f\"
escaped: \"ALLOW \\\"x\\\"\"
folded: >
  ALLOW f
  g
";

    #[test]
    fn literal_blocks_shift_by_their_indentation() {
        let root = load(FILE).unwrap();
        let lines = SourceLines::new(FILE);
        let literal = value_of(&root, "literal");
        assert_eq!(lines.locate(&literal, 1, 7), Some(Pos::new(2, 9)));
        assert_eq!(lines.locate(&literal, 2, 6), Some(Pos::new(3, 8)));
        // The end of a text is after its last character.
        assert_eq!(lines.locate(&literal, 3, 1), Some(Pos::new(3, 13)));
        let leading = value_of(&root, "leading");
        assert_eq!(lines.locate(&leading, 2, 1), Some(Pos::new(6, 5)));
    }

    #[test]
    fn one_line_strings_shift_by_their_column_and_quote() {
        let root = load(FILE).unwrap();
        let lines = SourceLines::new(FILE);
        assert_eq!(
            lines.locate(&value_of(&root, "plain"), 1, 7),
            Some(Pos::new(7, 14))
        );
        assert_eq!(
            lines.locate(&value_of(&root, "quoted"), 1, 7),
            Some(Pos::new(8, 16))
        );
    }

    #[test]
    fn unprovable_positions_give_up() {
        let root = load(FILE).unwrap();
        let lines = SourceLines::new(FILE);
        let escaped = value_of(&root, "escaped");
        assert_eq!(lines.locate(&escaped, 1, 6), Some(Pos::new(9, 16)));
        assert_eq!(lines.locate(&escaped, 1, 7), None);
        let folded = value_of(&root, "folded");
        assert_eq!(lines.locate(&folded, 1, 7), Some(Pos::new(11, 9)));
        assert_eq!(lines.locate(&folded, 1, 9), None);
        assert_eq!(lines.locate(&value_of(&root, "literal"), 9, 1), None);
        assert_eq!(lines.locate(&value_of(&root, "literal"), 0, 1), None);
    }
}
