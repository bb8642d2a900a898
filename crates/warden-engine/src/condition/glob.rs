//! `MATCH` patterns (SPEC §3): anchored globs, `*` any run of characters (also none), `?` one
//! character, `\*` and `\?` literal.
//!
//! Matching runs in time linear in the value (times the pattern's length in 64-character words),
//! whatever the pattern: the pattern is split at its `*`s into segments; the first must match at
//! the start of the value and the last at its end, and each one between is found at its earliest
//! end after the previous one (taking the earliest end never loses a match, since the rest of the
//! pattern then has the most value left). A segment is found with a bit-parallel scan (each
//! position of the segment a bit, `?` matching any character), so a value is read once per
//! segment and never re-read from each starting position — which a backtracking matcher does,
//! turning `*aaaa…ab` against a long value into thousands of steps per comparison.

/// An anchored glob, compiled for matching.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Glob {
    pub(crate) source: Box<str>,
    pub(crate) tokens: Box<[GlobToken]>,
    /// The runs of tokens between `*`s, in order; there is one more than there are `*`s.
    segments: Box<[Segment]>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum GlobToken {
    Char(char),
    One,
    Any,
}

/// A run of characters and `?`s, with the bit masks of its scan.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Segment {
    /// `None` for `?`.
    pieces: Box<[Option<char>]>,
    /// Per distinct character of the segment, sorted: the positions it (or a `?`) may take.
    masks: Box<[(char, Box<[u64]>)]>,
    /// The positions of the `?`s: what any other character may take.
    any: Box<[u64]>,
}

impl Segment {
    fn new(pieces: Vec<Option<char>>) -> Segment {
        let words = pieces.len().div_ceil(64).max(1);
        let set = |mask: &mut [u64], at: usize| {
            if let Some(word) = mask.get_mut(at / 64) {
                *word |= 1 << (at % 64);
            }
        };
        let mut any = vec![0u64; words];
        for (at, piece) in pieces.iter().enumerate() {
            if piece.is_none() {
                set(&mut any, at);
            }
        }
        let mut chars: Vec<char> = pieces.iter().flatten().copied().collect();
        chars.sort_unstable();
        chars.dedup();
        let masks = chars
            .into_iter()
            .map(|c| {
                let mut mask = any.clone();
                for (at, piece) in pieces.iter().enumerate() {
                    if *piece == Some(c) {
                        set(&mut mask, at);
                    }
                }
                (c, mask.into_boxed_slice())
            })
            .collect();
        Segment {
            pieces: pieces.into(),
            masks,
            any: any.into(),
        }
    }

    fn len(&self) -> usize {
        self.pieces.len()
    }

    fn mask(&self, c: char) -> &[u64] {
        match self.masks.binary_search_by(|(x, _)| x.cmp(&c)) {
            Ok(found) => self.masks.get(found).map_or(&self.any, |(_, mask)| mask),
            Err(_) => &self.any,
        }
    }

    /// Whether the segment matches `value` exactly (as many characters, each as required).
    fn matches_exactly(&self, value: &str) -> bool {
        let mut chars = value.chars();
        self.pieces
            .iter()
            .all(|piece| chars.next().is_some_and(|c| piece.is_none_or(|p| p == c)))
            && chars.next().is_none()
    }

    /// The byte offset just after the earliest-ending occurrence of the segment in `value`.
    fn find_end(&self, value: &str) -> Option<usize> {
        let Some(last) = self.len().checked_sub(1) else {
            return Some(0);
        };
        let (last_word, last_bit) = (last / 64, 1u64 << (last % 64));
        // Bit j of `state`: the segment's first j + 1 pieces end at the current character.
        let mut state = vec![0u64; self.any.len()];
        for (at, c) in value.char_indices() {
            let mask = self.mask(c);
            let mut carry = 1u64;
            for (word, allowed) in state.iter_mut().zip(mask) {
                let shifted = (*word << 1) | carry;
                carry = *word >> 63;
                *word = shifted & allowed;
            }
            if state.get(last_word).is_some_and(|w| w & last_bit != 0) {
                return Some(at + c.len_utf8());
            }
        }
        None
    }
}

impl Glob {
    pub fn new(pattern: &str) -> Glob {
        let mut tokens = Vec::new();
        let mut chars = pattern.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '\\' if matches!(chars.peek(), Some('*' | '?')) => {
                    tokens.extend(chars.next().map(GlobToken::Char));
                }
                '*' if tokens.last() == Some(&GlobToken::Any) => {}
                '*' => tokens.push(GlobToken::Any),
                '?' => tokens.push(GlobToken::One),
                c => tokens.push(GlobToken::Char(c)),
            }
        }
        let segments = tokens
            .split(|token| *token == GlobToken::Any)
            .map(|run| {
                Segment::new(
                    run.iter()
                        .map(|token| match token {
                            GlobToken::Char(c) => Some(*c),
                            GlobToken::One | GlobToken::Any => None,
                        })
                        .collect(),
                )
            })
            .collect();
        Glob {
            source: pattern.into(),
            tokens: tokens.into(),
            segments,
        }
    }

    /// The string the pattern matches when it has no wildcard.
    pub(crate) fn literal(&self) -> Option<String> {
        self.tokens
            .iter()
            .map(|token| match token {
                GlobToken::Char(c) => Some(*c),
                GlobToken::One | GlobToken::Any => None,
            })
            .collect()
    }

    /// The characters before the first wildcard: every match starts with them.
    pub(crate) fn literal_head(&self) -> String {
        self.tokens
            .iter()
            .map_while(|token| match token {
                GlobToken::Char(c) => Some(*c),
                GlobToken::One | GlobToken::Any => None,
            })
            .collect()
    }

    /// `Some(head)` when the pattern is `head*`: every string starting with `head`.
    pub(crate) fn prefix_then_anything(&self) -> Option<String> {
        match self.tokens.split_last() {
            Some((GlobToken::Any, rest)) => rest
                .iter()
                .map(|token| match token {
                    GlobToken::Char(c) => Some(*c),
                    GlobToken::One | GlobToken::Any => None,
                })
                .collect(),
            _ => None,
        }
    }

    /// Whether the whole of `value` matches.
    pub fn matches(&self, value: &str) -> bool {
        let (first, rest) = match self.segments.split_first() {
            Some(split) => split,
            None => return value.is_empty(),
        };
        let Some((last, middle)) = rest.split_last() else {
            // No `*`: the one segment is the whole value.
            return first.matches_exactly(value);
        };
        // The first segment at the start, the last at the end, not overlapping.
        let Some(head_end) = byte_offset_after(value, first.len()) else {
            return false;
        };
        let tail_chars = last.len();
        let Some(tail_start) = value
            .char_indices()
            .rev()
            .nth(tail_chars.wrapping_sub(1))
            .map(|(at, _)| at)
            .or((tail_chars == 0).then_some(value.len()))
        else {
            return false;
        };
        if tail_start < head_end {
            return false;
        }
        let (Some(head), Some(tail)) = (value.get(..head_end), value.get(tail_start..)) else {
            return false;
        };
        if !first.matches_exactly(head) || !last.matches_exactly(tail) {
            return false;
        }
        let mut at = head_end;
        for segment in middle {
            let Some(window) = value.get(at..tail_start) else {
                return false;
            };
            match segment.find_end(window) {
                Some(end) => at += end,
                None => return false,
            }
        }
        true
    }
}

/// The byte offset after the first `chars` characters of `value`, if it has that many.
fn byte_offset_after(value: &str, chars: usize) -> Option<usize> {
    if chars == 0 {
        return Some(0);
    }
    value
        .char_indices()
        .nth(chars - 1)
        .map(|(at, c)| at + c.len_utf8())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The reference: backtracking over every split, straight from the definition.
    fn reference(tokens: &[GlobToken], value: &[char]) -> bool {
        match tokens.split_first() {
            None => value.is_empty(),
            Some((GlobToken::Any, rest)) => {
                (0..=value.len()).any(|n| reference(rest, value.get(n..).unwrap_or_default()))
            }
            Some((GlobToken::One, rest)) => value
                .split_first()
                .is_some_and(|(_, tail)| reference(rest, tail)),
            Some((GlobToken::Char(c), rest)) => value
                .split_first()
                .is_some_and(|(v, tail)| v == c && reference(rest, tail)),
        }
    }

    #[test]
    fn matches_as_the_definition_says_on_every_small_case() {
        let alphabet = ['a', 'b', 'é'];
        let pieces = ["a", "b", "é", "?", "*"];
        // Every pattern of up to four pieces against every value of up to five characters.
        let mut patterns = vec![String::new()];
        for _ in 0..4 {
            let longer: Vec<String> = patterns
                .iter()
                .flat_map(|p| pieces.iter().map(move |x| format!("{p}{x}")))
                .collect();
            patterns.extend(longer);
        }
        patterns.sort();
        patterns.dedup();
        let mut values = vec![String::new()];
        for _ in 0..5 {
            let longer: Vec<String> = values
                .iter()
                .flat_map(|v| alphabet.iter().map(move |c| format!("{v}{c}")))
                .collect();
            values.extend(longer);
        }
        values.sort();
        values.dedup();
        for pattern in &patterns {
            let glob = Glob::new(pattern);
            for value in &values {
                let chars: Vec<char> = value.chars().collect();
                assert_eq!(
                    glob.matches(value),
                    reference(&glob.tokens, &chars),
                    "`{pattern}` against `{value}`"
                );
            }
        }
    }

    #[test]
    fn escapes_and_long_segments() {
        assert!(Glob::new(r"a\*b").matches("a*b"));
        assert!(!Glob::new(r"a\*b").matches("axb"));
        assert!(Glob::new(r"\?").matches("?"));
        assert!(!Glob::new(r"\?").matches("x"));
        // A segment longer than one word of the scan.
        let long: String = "ab".repeat(70);
        assert!(Glob::new(&format!("*{long}*")).matches(&format!("xx{long}yy")));
        assert!(!Glob::new(&format!("*{long}*")).matches(&format!("xx{}yy", "ab".repeat(69))));
        let with_one: String = "a?".repeat(70);
        assert!(Glob::new(&format!("x*{with_one}")).matches(&format!("xzz{}", "ab".repeat(70))));
    }

    #[test]
    fn a_backtracking_pattern_is_read_once_per_segment() {
        // `*aaaa…ab` against `aaaa…a`: the value is scanned once, not once per start.
        let pattern = format!("*{}b", "a".repeat(255));
        let value = "a".repeat(256);
        assert!(!Glob::new(&pattern).matches(&value));
        assert!(Glob::new(&pattern).matches(&format!("{value}{}b", "a".repeat(255))));
    }
}
