//! What running a policy test file produces: the problems of the file (with their line:column in
//! the YAML text) or, for a valid file, one result per case. Serialisable as the JSON of
//! `warden test --format json`; the CLI owns the human-readable rendering.

use std::fmt;

use serde::Serialize;

use crate::explain::Explanation;
use crate::snapshot::Outcome;

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
    /// `alice@example.com storage:logs:read in env-prod`, plus attributes and time when given.
    pub description: String,
    pub expected: Outcome,
    pub actual: Outcome,
    pub passed: bool,
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
