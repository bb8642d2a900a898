//! A residual as a parameterised SQL `WHERE` clause, for SQLite and PostgreSQL.
//!
//! Table layout: one row per record, each attribute the residual tests in its own column holding
//! the record's one value, `NULL` when the record does not have the attribute (single-valued
//! attributes; a record with several values of one attribute does not fit this layout). The
//! caller maps attribute names to column names.
//!
//! Values are never written into the clause: each is a placeholder (`?1`, `?2`, … for SQLite,
//! `$1`, `$2`, … for PostgreSQL) and its value is in [`SqlWhere::parameters`], in order. Every
//! test is written so that it is never `NULL` (SQL's third truth value would make `NOT` and the
//! negated operators wrong on absent attributes): a positive test is `col IS NOT NULL AND …`, a
//! negated one `col IS NULL OR …`.
//!
//! `startsWith` and `MATCH` compare case-sensitively, as SPEC §3 requires: SQLite's `LIKE`
//! ignores ASCII case, so SQLite gets `GLOB` (its `*`, `?` and `[` escaped as `[*]`, `[?]`,
//! `[[]`); PostgreSQL gets `LIKE … ESCAPE '\'` (`%`, `_` and `\` escaped with `\`).

use std::collections::BTreeMap;

use super::predicate::{Comparison, Predicate, ResidualOperator};
use crate::condition::Glob;
use crate::condition::glob::GlobToken;

/// The SQL dialect to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

/// A `WHERE` clause (without the keyword) and the values of its placeholders, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqlWhere {
    pub clause: String,
    pub parameters: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SqlError {
    #[error(
        "the residual tests the attribute `{0}`, which has no column\nhelp: name its column, as in `--column {0}=COLUMN`"
    )]
    NoColumn(String),
    #[error(
        "`{0}` is not a plain column name\nhelp: use letters, digits and `_`, starting with a letter or `_`"
    )]
    BadColumn(String),
}

/// Renders `predicate` for a table whose columns are `columns` (attribute name → column name).
pub fn render(
    predicate: &Predicate,
    columns: &BTreeMap<String, String>,
    dialect: Dialect,
) -> Result<SqlWhere, SqlError> {
    for column in columns.values() {
        let mut chars = column.chars();
        let plain = chars
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !plain {
            return Err(SqlError::BadColumn(column.clone()));
        }
    }
    let mut writer = Writer {
        columns,
        dialect,
        parameters: Vec::new(),
    };
    let clause = writer.predicate(predicate)?;
    Ok(SqlWhere {
        clause,
        parameters: writer.parameters,
    })
}

struct Writer<'a> {
    columns: &'a BTreeMap<String, String>,
    dialect: Dialect,
    parameters: Vec<String>,
}

impl Writer<'_> {
    fn placeholder(&mut self, value: String) -> String {
        self.parameters.push(value);
        let n = self.parameters.len();
        match self.dialect {
            Dialect::Sqlite => format!("?{n}"),
            Dialect::Postgres => format!("${n}"),
        }
    }

    fn column(&self, attribute: &str) -> Result<String, SqlError> {
        self.columns
            .get(attribute)
            .map(|column| format!("\"{column}\""))
            .ok_or_else(|| SqlError::NoColumn(attribute.to_owned()))
    }

    fn predicate(&mut self, predicate: &Predicate) -> Result<String, SqlError> {
        Ok(match predicate {
            Predicate::Constant(true) => "(1 = 1)".to_owned(),
            Predicate::Constant(false) => "(1 = 0)".to_owned(),
            Predicate::All { all } => self.join(all, " AND ", "(1 = 1)")?,
            Predicate::Any { any } => self.join(any, " OR ", "(1 = 0)")?,
            Predicate::Not { not } => format!("(NOT {})", self.predicate(not)?),
            Predicate::Present { present } => format!("({} IS NOT NULL)", self.column(present)?),
            Predicate::Compare(comparison) => self.comparison(comparison)?,
        })
    }

    fn join(&mut self, parts: &[Predicate], with: &str, empty: &str) -> Result<String, SqlError> {
        if parts.is_empty() {
            return Ok(empty.to_owned());
        }
        let parts = parts
            .iter()
            .map(|part| self.predicate(part))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(format!("({})", parts.join(with)))
    }

    /// Some value matches: a test that is true or false, never `NULL`, on a non-null column.
    fn test(&mut self, column: &str, operator: ResidualOperator, value: &str) -> String {
        match operator {
            ResidualOperator::Eq
            | ResidualOperator::In
            | ResidualOperator::NotEq
            | ResidualOperator::NotIn => {
                let p = self.placeholder(value.to_owned());
                format!("{column} = {p}")
            }
            ResidualOperator::StartsWith | ResidualOperator::NotStartsWith => match self.dialect {
                Dialect::Sqlite => {
                    let p = self.placeholder(format!("{}*", glob_escape(value)));
                    format!("{column} GLOB {p}")
                }
                Dialect::Postgres => {
                    let p = self.placeholder(format!("{}%", like_escape(value)));
                    format!("{column} LIKE {p} ESCAPE '\\'")
                }
            },
            ResidualOperator::Match => {
                let pattern = match self.dialect {
                    Dialect::Sqlite => sqlite_glob(value),
                    Dialect::Postgres => postgres_like(value),
                };
                let p = self.placeholder(pattern);
                match self.dialect {
                    Dialect::Sqlite => format!("{column} GLOB {p}"),
                    Dialect::Postgres => format!("{column} LIKE {p} ESCAPE '\\'"),
                }
            }
        }
    }

    fn comparison(&mut self, comparison: &Comparison) -> Result<String, SqlError> {
        let column = self.column(&comparison.attribute)?;
        let operator = comparison.operator;
        let tests: Vec<String> = match operator {
            // One placeholder list for `IN`.
            ResidualOperator::In | ResidualOperator::NotIn if !comparison.values.is_empty() => {
                let list: Vec<String> = comparison
                    .values
                    .iter()
                    .map(|v| self.placeholder(v.clone()))
                    .collect();
                vec![format!("{column} IN ({})", list.join(", "))]
            }
            _ => comparison
                .values
                .iter()
                .map(|value| self.test(&column, operator, value))
                .collect(),
        };
        let some = if tests.is_empty() {
            "(1 = 0)".to_owned()
        } else {
            format!("({})", tests.join(" OR "))
        };
        Ok(if operator.is_positive() {
            format!("({column} IS NOT NULL AND {some})")
        } else {
            format!("({column} IS NULL OR NOT {some})")
        })
    }
}

/// Text matched literally by SQLite's `GLOB`.
fn glob_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '*' => out.push_str("[*]"),
            '?' => out.push_str("[?]"),
            '[' => out.push_str("[[]"),
            c => out.push(c),
        }
    }
    out
}

/// Text matched literally by PostgreSQL's `LIKE … ESCAPE '\'`.
fn like_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// A `MATCH` pattern as a SQLite `GLOB` pattern.
fn sqlite_glob(pattern: &str) -> String {
    let mut out = String::new();
    for token in Glob::new(pattern).tokens.iter() {
        match token {
            GlobToken::Any => out.push('*'),
            GlobToken::One => out.push('?'),
            GlobToken::Char(c) => out.push_str(&glob_escape(&c.to_string())),
        }
    }
    out
}

/// A `MATCH` pattern as a PostgreSQL `LIKE` pattern.
fn postgres_like(pattern: &str) -> String {
    let mut out = String::new();
    for token in Glob::new(pattern).tokens.iter() {
        match token {
            GlobToken::Any => out.push('%'),
            GlobToken::One => out.push('_'),
            GlobToken::Char(c) => out.push_str(&like_escape(&c.to_string())),
        }
    }
    out
}
