//! A line diff of a saved text and a draft (longest common subsequence), rendered as HTML.
//! Bounded: texts of more than [`MAX_LINES`] lines each are not diffed.

use maud::{Markup, html};

/// Lines per side beyond which no diff is computed (the table is lines × lines).
pub const MAX_LINES: usize = 2_000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Line<'a> {
    Same(&'a str),
    Added(&'a str),
    Removed(&'a str),
}

/// The edit script from `old` to `new`, or `None` when either is too long.
pub fn lines<'a>(old: &'a str, new: &'a str) -> Option<Vec<Line<'a>>> {
    let a: Vec<&str> = old.lines().collect();
    let b: Vec<&str> = new.lines().collect();
    if a.len() > MAX_LINES || b.len() > MAX_LINES {
        return None;
    }
    let width = b.len() + 1;
    // lcs[i * width + j]: the longest common subsequence of a[i..] and b[j..].
    let mut lcs = vec![0u32; (a.len() + 1) * width];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            let value = if a.get(i) == b.get(j) {
                lcs.get((i + 1) * width + j + 1).copied().unwrap_or(0) + 1
            } else {
                let down = lcs.get((i + 1) * width + j).copied().unwrap_or(0);
                let right = lcs.get(i * width + j + 1).copied().unwrap_or(0);
                down.max(right)
            };
            if let Some(cell) = lcs.get_mut(i * width + j) {
                *cell = value;
            }
        }
    }
    let mut out = Vec::with_capacity(a.len().max(b.len()));
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        match (a.get(i), b.get(j)) {
            (Some(x), Some(y)) if x == y => {
                out.push(Line::Same(x));
                i += 1;
                j += 1;
            }
            (Some(x), Some(y)) => {
                let down = lcs.get((i + 1) * width + j).copied().unwrap_or(0);
                let right = lcs.get(i * width + j + 1).copied().unwrap_or(0);
                if down >= right {
                    out.push(Line::Removed(x));
                    i += 1;
                } else {
                    out.push(Line::Added(y));
                    j += 1;
                }
            }
            (Some(x), None) => {
                out.push(Line::Removed(x));
                i += 1;
            }
            (None, Some(y)) => {
                out.push(Line::Added(y));
                j += 1;
            }
            (None, None) => break,
        }
    }
    Some(out)
}

/// The diff as HTML: one row per line, `+`/`-` marked, with a text summary for screen readers.
pub fn html(old: &str, new: &str) -> Markup {
    let Some(diff) = lines(old, new) else {
        return html! {
            p.note { "The texts are longer than " (MAX_LINES) " lines; no diff is shown." }
        };
    };
    let added = diff.iter().filter(|l| matches!(l, Line::Added(_))).count();
    let removed = diff
        .iter()
        .filter(|l| matches!(l, Line::Removed(_)))
        .count();
    if added == 0 && removed == 0 {
        return html! { p { "No change against the saved version." } };
    }
    html! {
        p { (added) " line(s) added, " (removed) " line(s) removed against the saved version." }
        div.diff role="group" aria-label="Changes against the saved version" {
            @for line in diff {
                @let (class, mark, text) = match line {
                    Line::Same(t) => ("same", " ", t),
                    Line::Added(t) => ("add", "+", t),
                    Line::Removed(t) => ("del", "-", t),
                };
                div class=(class) { (mark) " " (text) }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_diff_keeps_common_lines_and_marks_the_rest() {
        let diff = lines("a\nb\nc\n", "a\nx\nc\nd\n").unwrap();
        assert_eq!(
            diff,
            vec![
                Line::Same("a"),
                Line::Removed("b"),
                Line::Added("x"),
                Line::Same("c"),
                Line::Added("d"),
            ]
        );
        assert!(html("a", "a").into_string().contains("No change"));
        assert!(html("<b>", "<i>").into_string().contains("&lt;i&gt;"));
    }
}
