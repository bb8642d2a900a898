//! Printing: human-readable text by default, JSON with `--format json`, for results and errors.

use std::io::Write;

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    Human,
    Json,
}

/// An error that stops a command: what went wrong and what to do about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CliError {
    pub code: &'static str,
    pub message: String,
    pub help: Option<String>,
}

impl CliError {
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        CliError {
            code,
            message: message.into(),
            help: None,
        }
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
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
            let details = error
                .help
                .as_ref()
                .map(|help| serde_json::json!({ "help": help }));
            self.json(&serde_json::json!({
                "error": { "code": error.code, "message": error.message, "details": details }
            }));
        } else {
            let _ = writeln!(self.err, "error: {}", error.message);
            if let Some(help) = &error.help {
                let _ = writeln!(self.err, "  help: {help}");
            }
        }
    }
}
