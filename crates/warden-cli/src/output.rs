//! Printing: human-readable text by default, JSON with `--format json`, for results and errors.

use std::io::Write;

use serde::Serialize;
use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    /// Readable text (also spelled `text`).
    #[value(alias = "text")]
    Human,
    Json,
    /// A parameterised SQL `WHERE` clause: `warden residual` only.
    Sql,
    /// Comma-separated values (RFC 4180) for spreadsheets: `warden service-user review` only.
    Csv,
}

/// An error that stops a command: what went wrong and what to do about it.
#[derive(Debug, Clone, PartialEq)]
pub struct CliError {
    pub code: String,
    pub message: String,
    pub help: Option<String>,
    /// Lines printed under the message in human output (a server error's details).
    pub notes: Vec<String>,
    /// The `details` of the JSON error (a server error's details).
    pub details: Option<Box<Value>>,
    /// The exit code: 2 (the command could not run) unless said otherwise.
    pub exit: u8,
}

impl CliError {
    pub fn new(code: &str, message: impl Into<String>) -> Self {
        CliError {
            code: code.to_owned(),
            message: message.into(),
            help: None,
            notes: Vec::new(),
            details: None,
            exit: 2,
        }
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn with_exit(mut self, exit: u8) -> Self {
        self.exit = exit;
        self
    }
}

pub struct Output {
    pub format: OutputFormat,
    out: Box<dyn Write>,
    err: Box<dyn Write>,
}

impl std::fmt::Debug for Output {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Output")
            .field("format", &self.format)
            .finish_non_exhaustive()
    }
}

impl Output {
    pub fn stdout(format: OutputFormat) -> Self {
        Output {
            format,
            out: Box::new(std::io::stdout()),
            err: Box::new(std::io::stderr()),
        }
    }

    pub fn is_json(&self) -> bool {
        self.format == OutputFormat::Json
    }

    /// Writes text as is (human output).
    pub fn text(&mut self, text: &str) {
        let _ = self.out.write_all(text.as_bytes());
    }

    pub fn line(&mut self, line: &str) {
        let _ = writeln!(self.out, "{line}");
    }

    /// A warning on stderr (human output; JSON output carries warnings in its document).
    pub fn warning(&mut self, warning: &str) {
        let _ = writeln!(self.err, "warning: {warning}");
    }

    /// Writes one JSON document on its own line.
    pub fn json<T: Serialize>(&mut self, value: &T) {
        match serde_json::to_string_pretty(value) {
            Ok(text) => self.line(&text),
            Err(error) => self.line(&format!(
                "{{\"error\":{{\"code\":\"internal\",\"message\":\"{error}\"}}}}"
            )),
        }
    }

    /// Errors go to stderr as text, or to stdout as `{"error":{…}}` in JSON mode.
    pub fn error(&mut self, error: &CliError) {
        if self.is_json() {
            let mut details = error.details.as_deref().cloned();
            if let Some(help) = &error.help {
                match &mut details {
                    Some(Value::Object(map)) => {
                        map.entry("help")
                            .or_insert_with(|| Value::from(help.as_str()));
                    }
                    Some(_) => {}
                    None => details = Some(serde_json::json!({ "help": help })),
                }
            }
            self.json(&serde_json::json!({
                "error": { "code": error.code, "message": error.message, "details": details }
            }));
        } else {
            let _ = writeln!(self.err, "error: {}", error.message);
            for note in &error.notes {
                let _ = writeln!(self.err, "{note}");
            }
            if let Some(help) = &error.help {
                let _ = writeln!(self.err, "  help: {help}");
            }
        }
    }
}

/// A table: a header row, then one row per item, columns separated by two spaces (the last column
/// is not padded).
pub fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let header: Vec<String> = headers.iter().map(|h| (*h).to_owned()).collect();
    for row in std::iter::once(&header).chain(rows) {
        let mut line = String::new();
        let last = row.len().saturating_sub(1);
        for (i, (cell, width)) in row.iter().zip(&widths).enumerate() {
            line.push_str(cell);
            if i < last {
                let pad = width.saturating_sub(cell.chars().count()) + 2;
                line.extend(std::iter::repeat_n(' ', pad));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// `key: value` lines with the values aligned; empty values are left out.
pub fn fields(pairs: &[(&str, String)]) -> String {
    let width = pairs
        .iter()
        .filter(|(_, value)| !value.is_empty())
        .map(|(key, _)| key.chars().count())
        .max()
        .unwrap_or(0);
    let mut out = String::new();
    for (key, value) in pairs.iter().filter(|(_, value)| !value.is_empty()) {
        let pad = width - key.chars().count();
        out.push_str(&format!("{key}:{} {value}\n", " ".repeat(pad)));
    }
    out
}

/// At most `max` characters, with `…` when cut.
pub fn truncate(text: &str, max: usize) -> String {
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= max {
        return flat;
    }
    let mut cut: String = flat.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

/// `1 group`, `2 groups`.
pub fn plural(count: usize, noun: &str) -> String {
    if count == 1 {
        format!("1 {noun}")
    } else {
        format!("{count} {noun}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_align_columns_and_do_not_pad_the_last() {
        let rows = vec![
            vec!["ops".to_owned(), "1".to_owned(), "x".to_owned()],
            vec!["platform".to_owned(), "22".to_owned(), String::new()],
        ];
        assert_eq!(
            table(&["NAME", "N", "NOTE"], &rows),
            "NAME      N   NOTE\nops       1   x\nplatform  22\n"
        );
    }

    #[test]
    fn fields_align_and_skip_empty_values() {
        assert_eq!(
            fields(&[
                ("name", "ops".into()),
                ("description", String::new()),
                ("uuid", "1".into())
            ]),
            "name: ops\nuuid: 1\n"
        );
    }

    #[test]
    fn truncation_counts_characters() {
        assert_eq!(truncate("Can’t edit\n groups", 100), "Can’t edit groups");
        assert_eq!(truncate("abcdef", 4), "abc…");
    }
}
