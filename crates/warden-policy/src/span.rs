//! Source locations: byte spans on every syntax node, and their translation to 1-based
//! line:column positions for messages.

use serde::Serialize;

/// A half-open byte range `start..end` into the source text a node was parsed from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, PartialOrd, Ord, Serialize)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

impl Span {
    pub fn new(start: usize, end: usize) -> Self {
        Span {
            start,
            end: end.max(start),
        }
    }

    /// The smallest span covering both.
    pub fn to(self, other: Span) -> Span {
        Span::new(self.start.min(other.start), self.end.max(other.end))
    }

    pub fn len(self) -> usize {
        self.end - self.start
    }

    pub fn is_empty(self) -> bool {
        self.start == self.end
    }

    /// The text this span covers, or "" when it does not fit `source` (never panics).
    pub fn text(self, source: &str) -> &str {
        source.get(self.start..self.end).unwrap_or("")
    }
}

impl From<Span> for miette::SourceSpan {
    fn from(span: Span) -> Self {
        miette::SourceSpan::new(span.start.into(), span.len())
    }
}

/// A value with the span it came from. Equality ignores the span, so two ASTs parsed from
/// differently laid-out texts compare equal when they mean the same.
#[derive(Debug, Clone, Serialize)]
pub struct Spanned<T> {
    pub node: T,
    pub span: Span,
}

impl<T> Spanned<T> {
    pub fn new(node: T, span: Span) -> Self {
        Spanned { node, span }
    }
}

impl<T: PartialEq> PartialEq for Spanned<T> {
    fn eq(&self, other: &Self) -> bool {
        self.node == other.node
    }
}

impl<T: Eq> Eq for Spanned<T> {}

/// A 1-based line and column (columns count characters, not bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Position {
    pub line: usize,
    pub column: usize,
}

/// Maps byte offsets of one text to line:column positions. Built once per text in one pass;
/// a position then costs a binary search, plus (for a text that is not all ASCII) counting the
/// characters of at most [`CHECKPOINT_BYTES`] bytes: locating many diagnostics stays linear in
/// the text, however long its lines.
#[derive(Debug, Clone)]
pub struct LineIndex<'a> {
    source: &'a str,
    line_starts: Vec<usize>,
    /// For a text with non-ASCII characters: the number of characters before each checkpoint
    /// (the char boundary at or before every [`CHECKPOINT_BYTES`]th byte). Empty for ASCII, where
    /// a column is a byte difference.
    checkpoints: Vec<(usize, usize)>,
}

/// Bytes between two checkpoints of a [`LineIndex`].
pub const CHECKPOINT_BYTES: usize = 1024;

impl<'a> LineIndex<'a> {
    pub fn new(source: &'a str) -> Self {
        let mut line_starts = vec![0];
        line_starts.extend(source.match_indices('\n').map(|(at, _)| at + 1));
        let mut checkpoints = Vec::new();
        if !source.is_ascii() {
            let mut next = 0;
            for (chars, (at, _)) in source.char_indices().enumerate() {
                if at >= next {
                    checkpoints.push((at, chars));
                    next = (at / CHECKPOINT_BYTES + 1) * CHECKPOINT_BYTES;
                }
            }
        }
        LineIndex {
            source,
            line_starts,
            checkpoints,
        }
    }

    /// The 1-based line of a byte offset.
    pub fn line(&self, offset: usize) -> usize {
        let offset = offset.min(self.source.len());
        self.line_starts
            .partition_point(|&start| start <= offset)
            .max(1)
    }

    /// Characters before `offset` (a char boundary), from the nearest checkpoint.
    fn chars_before(&self, offset: usize) -> usize {
        let at = self
            .checkpoints
            .partition_point(|&(start, _)| start <= offset);
        let (start, chars) = at
            .checked_sub(1)
            .and_then(|i| self.checkpoints.get(i))
            .copied()
            .unwrap_or((0, 0));
        chars
            + self
                .source
                .get(start..offset)
                .map_or(offset - start, |between| between.chars().count())
    }

    pub fn position(&self, offset: usize) -> Position {
        let offset = offset.min(self.source.len());
        let line = self.line(offset);
        let line_start = self.line_starts.get(line - 1).copied().unwrap_or(0);
        let column = if self.checkpoints.is_empty() || !self.source.is_char_boundary(offset) {
            // ASCII (or an offset inside a character, which spans never hold): bytes are
            // characters.
            offset - line_start
        } else {
            self.chars_before(offset) - self.chars_before(line_start)
        } + 1;
        Position { line, column }
    }

    /// The full text of a 1-based line, without its line break.
    pub fn line_text(&self, line: usize) -> &'a str {
        let start = self
            .line_starts
            .get(line.wrapping_sub(1))
            .copied()
            .unwrap_or(0);
        let end = self
            .line_starts
            .get(line)
            .map_or(self.source.len(), |next| next - 1);
        self.source
            .get(start..end)
            .unwrap_or("")
            .trim_end_matches('\r')
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_one_based_and_count_characters() {
        let index = LineIndex::new("ab\nçd\n\nx");
        assert_eq!(index.position(0), Position { line: 1, column: 1 });
        assert_eq!(index.position(3), Position { line: 2, column: 1 });
        // `ç` is two bytes; the `d` after it is in column 2.
        assert_eq!(index.position(5), Position { line: 2, column: 2 });
        assert_eq!(index.position(8), Position { line: 4, column: 1 });
        assert_eq!(index.position(999), Position { line: 4, column: 2 });
        assert_eq!(index.line_text(2), "çd");
        assert_eq!(index.line_text(3), "");
        assert_eq!(index.line(5), 2);
    }

    #[test]
    fn long_lines_with_other_scripts_count_characters_between_checkpoints() {
        let text = format!(
            "{}\n{}x",
            "é".repeat(3 * CHECKPOINT_BYTES),
            "aé".repeat(CHECKPOINT_BYTES)
        );
        let index = LineIndex::new(&text);
        for offset in (0..text.len()).filter(|o| text.is_char_boundary(*o)) {
            let line_start = text[..offset].rfind('\n').map_or(0, |at| at + 1);
            let expected = Position {
                line: 1 + text[..offset].matches('\n').count(),
                column: text[line_start..offset].chars().count() + 1,
            };
            assert_eq!(index.position(offset), expected, "at {offset}");
        }
    }

    #[test]
    fn span_text_never_panics_on_bad_ranges() {
        assert_eq!(Span::new(5, 50).text("short"), "");
        assert_eq!(Span::new(2, 3).text("héllo"), "");
        assert_eq!(Span::new(0, 2).text("héllo"), "");
        assert_eq!(Span::new(0, 3).text("héllo"), "hé");
    }
}
