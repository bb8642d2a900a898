//! What running a policy test file produces: the problems of the file (with their line:column in
//! the YAML text) or, for a valid file, one result per case. Serialisable as the JSON of
//! `warden test --format json`; the CLI owns the human-readable rendering.

use std::fmt;

use serde::Serialize;

use crate::explain::Explanation;
use crate::snapshot::Outcome;
use crate::workflow::RefusedBy;

/// A 1-based line and column (in characters) of the test file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Pos {
    pub line: usize,
    pub column: usize,
}

impl Pos {
    pub const START: Pos = Pos { line: 1, column: 1 };

    pub fn new(line: usize, column: usize) -> Pos {
        Pos { line, column }
    }
}

impl fmt::Display for Pos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

/// One problem of a test file: where, what is wrong, and the fix when one is known.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    pub line: usize,
    pub column: usize,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
}

impl Problem {
    pub fn new(at: Pos, message: impl Into<String>) -> Problem {
        Problem {
            line: at.line,
            column: at.column,
            message: message.into(),
            help: None,
        }
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Problem {
        self.help = Some(help.into());
        self
    }

    /// Adds `help` unless it is `None`.
    pub fn maybe_help(mut self, help: Option<String>) -> Problem {
        if help.is_some() {
            self.help = help;
        }
        self
    }

    pub fn pos(&self) -> Pos {
        Pos::new(self.line, self.column)
    }
}

/// The result of one case.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CaseReport {
    /// 1-based position of the case in `cases:`.
    pub index: usize,
    pub line: usize,
    pub column: usize,
    /// `alice@example.com storage:logs:read in env-prod`, plus attributes and time when given;
    /// `workflow Nightly as Pipeline Automation: settings:objects:write in env-prod` for a task.
    pub description: String,
    pub expected: Outcome,
    pub actual: Outcome,
    pub passed: bool,
    /// A task of a workflow that was denied: the side that refused it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refused_by: Option<RefusedBy>,
    /// Why the decision came out as it did; failures only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub explanation: Option<Explanation>,
}

/// Everything `warden test` learns from one file. When `errors` is not empty, no case ran and
/// `cases` is empty.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FileReport {
    pub file: String,
    pub errors: Vec<Problem>,
    pub warnings: Vec<Problem>,
    pub cases: Vec<CaseReport>,
}

impl FileReport {
    pub(crate) fn invalid(file: &str, mut errors: Vec<Problem>, warnings: Vec<Problem>) -> Self {
        errors.sort_by_key(Problem::pos);
        FileReport {
            file: file.to_owned(),
            errors,
            warnings,
            cases: Vec::new(),
        }
    }

    /// Moves every position to the nearest one inside `source`. The YAML parser reports the end
    /// of the input on the line after the last (as if the text ended with a line break), and a
    /// file without content is located there too: such positions become the end of the text.
    pub(crate) fn inside(mut self, source: &str) -> FileReport {
        let lengths = line_lengths(source);
        let inside = |line: usize, column: usize| -> (usize, usize) {
            let last = lengths.len();
            let (line, column) = if line > last {
                (last, usize::MAX)
            } else {
                (line.max(1), column)
            };
            let length = lengths.get(line - 1).copied().unwrap_or(0);
            (line, column.clamp(1, length.saturating_add(1)))
        };
        for problem in self.errors.iter_mut().chain(self.warnings.iter_mut()) {
            (problem.line, problem.column) = inside(problem.line, problem.column);
        }
        for case in &mut self.cases {
            (case.line, case.column) = inside(case.line, case.column);
        }
        self
    }

    /// The file could be read and every case ran.
    pub fn is_valid(&self) -> bool {
        self.errors.is_empty()
    }

    pub fn passed(&self) -> usize {
        self.cases.iter().filter(|c| c.passed).count()
    }

    pub fn failed(&self) -> usize {
        self.cases.len() - self.passed()
    }
}

/// The length in characters of every line of a text, lines ending at `\r\n`, `\r` or `\n` as in
/// YAML (and so in the positions of the YAML parser). A text has at least one, empty, line.
fn line_lengths(text: &str) -> Vec<usize> {
    let mut lengths = vec![0];
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' | '\n' => {
                if c == '\r' && chars.peek() == Some(&'\n') {
                    chars.next();
                }
                lengths.push(0);
            }
            _ => {
                if let Some(length) = lengths.last_mut() {
                    *length += 1;
                }
            }
        }
    }
    lengths
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report_at(line: usize, column: usize) -> FileReport {
        FileReport::invalid(
            "f",
            vec![Problem::new(Pos::new(line, column), "x")],
            Vec::new(),
        )
    }

    #[test]
    fn positions_past_the_end_of_the_text_move_to_its_end() {
        // Found by the `testfile_loader` fuzz target: the YAML parser's end of input is on the line
        // after the last one of a text without a final line break.
        let at = |text: &str, line, column| report_at(line, column).inside(text).errors[0].pos();
        assert_eq!(at("a: b\nB", 3, 1), Pos::new(2, 2));
        assert_eq!(at("# c", 2, 1), Pos::new(1, 4));
        assert_eq!(at("", 1, 1), Pos::START);
        assert_eq!(at("a: b\n", 2, 1), Pos::new(2, 1));
        assert_eq!(at("a: b\n", 1, 9), Pos::new(1, 5));
        assert_eq!(at("a: b\n", 0, 0), Pos::START);
        // `\r` ends a line, as in YAML; `\r\n` ends one line.
        assert_eq!(at("\r:\r\nB", 3, 2), Pos::new(3, 2));
        assert_eq!(at("\r:\r\nB", 4, 1), Pos::new(3, 2));
        assert_eq!(at("é\n", 1, 3), Pos::new(1, 2));
    }
}
