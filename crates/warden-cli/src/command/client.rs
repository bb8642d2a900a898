//! The connection of the client commands to a Warden server: `--server`, `--token` or
//! `--token-file`, the account (discovered with `GET /iam/v1/me`), and requests whose failures
//! become [`CliError`]s carrying the server's message and details.
//!
//! Exit codes of a failed request: 1 when the server refused it (4xx), 2 when the server could not
//! be reached or failed (5xx).

use std::cell::OnceCell;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use serde_json::{Value, json};
use warden_client::{Answer, ClientError, Options, StatusCode, Url};

use crate::command::values::{Level, field, items, set, text};
use crate::output::CliError;

/// The token file `warden serve` writes on its first start, used when no token is given.
const DEFAULT_TOKEN_FILE: &str = "warden-admin-token";

/// Where the server is and who is asking.
#[derive(Debug, Clone, clap::Args)]
pub struct Connection {
    /// The Warden server.
    #[arg(
        long,
        global = true,
        env = "WARDEN_URL",
        default_value = "http://127.0.0.1:8080",
        value_name = "URL"
    )]
    pub server: String,
    /// The API token (else `WARDEN_TOKEN`, else the file `warden-admin-token` here).
    #[arg(
        long,
        global = true,
        value_name = "TOKEN",
        conflicts_with = "token_file"
    )]
    pub token: Option<String>,
    /// A file holding the API token.
    #[arg(long, global = true, value_name = "FILE")]
    pub token_file: Option<PathBuf>,
    /// The account; discovered from the token when not given.
    #[arg(long, global = true, env = "WARDEN_ACCOUNT", value_name = "ID")]
    pub account: Option<String>,
}

/// A connection to one server with one token; requests are made on a runtime of its own.
pub struct Client {
    runtime: tokio::runtime::Runtime,
    api: warden_client::Client,
    /// The address as given, for messages.
    shown: String,
    account: OnceCell<String>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("base", &self.api.base().as_str())
            .finish_non_exhaustive()
    }
}

impl Client {
    pub fn connect(connection: &Connection) -> Result<Client, CliError> {
        let base = server_url(&connection.server)?;
        let token = token(connection)?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| {
                CliError::new("runtime", format!("cannot start the async runtime: {e}"))
            })?;
        let options = Options {
            connect_timeout: Duration::from_secs(5),
            timeout: Duration::from_secs(60),
            ..Options::default()
        };
        let api = warden_client::Client::new(base.as_str(), &options)
            .map_err(|e| CliError::new("http", e.to_string()))?
            .with_token(Some(&token));
        let account = OnceCell::new();
        if let Some(given) = &connection.account {
            let _ = account.set(given.clone());
        }
        Ok(Client {
            runtime,
            api,
            shown: connection.server.trim_end_matches('/').to_owned(),
            account,
        })
    }

    /// The token's account: `--account`, or what `GET /iam/v1/me` says.
    pub fn account(&self) -> Result<&str, CliError> {
        if let Some(account) = self.account.get() {
            return Ok(account);
        }
        let me = match self.call(self.api.me()) {
            Ok(answer) => answer.body,
            Err(error) if error.code == "not_found" => {
                return Err(CliError::new(
                    "account",
                    format!(
                        "the server at `{}` does not say which account the token belongs to (`GET /iam/v1/me` is not found)",
                        self.shown
                    ),
                )
                .with_help("give the account with `--account` (or `WARDEN_ACCOUNT`)"));
            }
            Err(error) => return Err(error),
        };
        let account = me.account;
        if account.is_empty() {
            return Err(CliError::new(
                "account",
                "the server's answer to `GET /iam/v1/me` names no account",
            )
            .with_help("give the account with `--account` (or `WARDEN_ACCOUNT`)"));
        }
        Ok(self.account.get_or_init(|| account))
    }

    /// A level as the typed client names it (the account resolved).
    pub fn level(&self, level: &Level) -> Result<warden_client::Level, CliError> {
        Ok(match level {
            Level::Global => warden_client::Level::Global,
            Level::Account => warden_client::Level::Account(self.account()?.to_owned()),
            Level::Environment(id) => warden_client::Level::Environment(id.clone()),
        })
    }

    /// `(levelType, levelId)` of a level.
    pub fn level_parts(&self, level: &Level) -> Result<(&'static str, String), CliError> {
        Ok(match level {
            Level::Global => ("global", "global".to_owned()),
            Level::Account => ("account", self.account()?.to_owned()),
            Level::Environment(id) => ("environment", id.clone()),
        })
    }

    /// The typed client of the API, for [`Client::call`].
    pub fn typed(&self) -> &warden_client::Client {
        &self.api
    }

    /// Like [`Client::call`], also giving the error body's `details` of a refusal.
    pub fn call_detailed<T>(
        &self,
        request: impl Future<Output = Result<Answer<T>, ClientError>>,
    ) -> Result<Answer<T>, Box<(CliError, Option<serde_json::Value>)>> {
        self.runtime.block_on(request).map_err(|e| {
            Box::new(match e {
                ClientError::Refused {
                    status,
                    body,
                    retry_after,
                    error,
                } => (
                    refused(status, &body, retry_after),
                    error.and_then(|e| e.details),
                ),
                other => (unreachable(&self.shown, &other), None),
            })
        })
    }

    /// Runs one typed request of [`Client::typed`]; any answer but 2xx is an error.
    pub fn call<T>(
        &self,
        request: impl Future<Output = Result<Answer<T>, ClientError>>,
    ) -> Result<Answer<T>, CliError> {
        self.runtime.block_on(request).map_err(|e| match e {
            ClientError::Refused {
                status,
                body,
                retry_after,
                ..
            } => refused(status, &body, retry_after),
            other => unreachable(&self.shown, &other),
        })
    }
}

pub fn server_url(text: &str) -> Result<Url, CliError> {
    let help =
        "give the server's address with `--server` (or `WARDEN_URL`), e.g. `http://127.0.0.1:8080`";
    let url = Url::parse(text).map_err(|e| {
        CliError::new("usage", format!("`{text}` is not a server address: {e}")).with_help(help)
    })?;
    match url.scheme() {
        "http" => Ok(url),
        "https" => Err(CliError::new(
            "usage",
            format!("`{text}`: this `warden` speaks plain HTTP only"),
        )
        .with_help("give the server's `http://` address with `--server`")),
        other => Err(CliError::new(
            "usage",
            format!("`{text}` is not an HTTP address (scheme `{other}`)"),
        )
        .with_help(help)),
    }
}

/// `--token`, `--token-file`, `WARDEN_TOKEN`, then `./warden-admin-token`.
fn token(connection: &Connection) -> Result<String, CliError> {
    let from_file = |path: &std::path::Path| -> Result<String, CliError> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            CliError::new(
                "token",
                format!("cannot read the token file `{}`: {e}", path.display()),
            )
            .with_help("give the token with `--token` or `--token-file`")
        })?;
        let token = text.trim().to_owned();
        if token.is_empty() {
            return Err(CliError::new(
                "token",
                format!("the token file `{}` is empty", path.display()),
            )
            .with_help("give the token with `--token` or `--token-file`"));
        }
        Ok(token)
    };
    if let Some(token) = &connection.token {
        return Ok(token.trim().to_owned());
    }
    if let Some(path) = &connection.token_file {
        return from_file(path);
    }
    if let Ok(token) = std::env::var("WARDEN_TOKEN")
        && !token.trim().is_empty()
    {
        return Ok(token.trim().to_owned());
    }
    let default = std::path::Path::new(DEFAULT_TOKEN_FILE);
    if default.exists() {
        return from_file(default);
    }
    Err(CliError::new("token", "no API token was given").with_help(
        "give it with `--token`, `--token-file` or `WARDEN_TOKEN` (the first start of `warden serve` writes the administrator's token to `warden-admin-token`)",
    ))
}

/// The server cannot be reached (or stopped answering): exit 2.
fn unreachable(server: &str, error: &ClientError) -> CliError {
    let message = match error {
        ClientError::Unreachable { message, .. } => {
            format!("cannot reach the Warden server at `{server}`: {message}")
        }
        other => other.to_string(),
    };
    CliError::new("unreachable", message).with_help(
        "start it with `warden serve`, or give its address with `--server` (or `WARDEN_URL`)",
    )
}

/// The server answered with an error: its message and details; exit 1 when it refused the
/// request (4xx), 2 when it failed (5xx).
fn refused(status: StatusCode, body: &Value, retry_after: Option<u64>) -> CliError {
    let error = field(body, "error");
    let code = field(error, "code").as_str().unwrap_or("http");
    let message = field(error, "message")
        .as_str()
        .map_or_else(|| format!("the server answered {status}"), str::to_owned);
    let details = Some(field(error, "details").clone()).filter(|d| !d.is_null());
    let mut cli =
        CliError::new(code, message).with_exit(if status.is_client_error() { 1 } else { 2 });
    if let Some(details) = &details {
        cli.notes = detail_notes(details, None);
        if let Some(help) = field(details, "help").as_str() {
            cli.help = Some(help.to_owned());
        } else if let Some(suggestion) = field(details, "didYouMean").as_str() {
            cli.help = Some(format!("did you mean `{suggestion}`?"));
        }
    }
    if status == StatusCode::UNAUTHORIZED {
        cli.help = Some(
            "check the token given with `--token`, `--token-file` or `WARDEN_TOKEN`".to_owned(),
        );
    } else if let Some(seconds) = retry_after {
        cli.help = Some(format!("retry in {seconds} s"));
    }
    cli.details = details.map(Box::new);
    cli
}

/// Re-renders the notes of a server error naming the file its diagnostics are in.
pub fn located_in(mut error: CliError, origin: &str) -> CliError {
    if let Some(details) = &error.details {
        error.notes = detail_notes(details, Some(origin));
    }
    error
}

/// Human lines for an error's details: each diagnostic with its line:column, the bindings that
/// block a delete, the permission that is missing.
fn detail_notes(details: &Value, origin: Option<&str>) -> Vec<String> {
    let mut notes = Vec::new();
    let prefix = origin.map_or_else(String::new, |o| format!("{o}:"));
    for diagnostic in items(details, "diagnostics") {
        notes.push(format!(
            "  {prefix}{}:{}: {}[{}]: {}",
            field(field(diagnostic, "start"), "line"),
            field(field(diagnostic, "start"), "column"),
            text(diagnostic, "severity"),
            text(diagnostic, "code"),
            text(diagnostic, "message"),
        ));
        if let Some(help) = field(diagnostic, "help").as_str() {
            notes.push(format!("    help: {help}"));
        }
    }
    for binding in items(details, "bindings") {
        let level = match text(binding, "levelType").as_str() {
            "environment" => format!("environment:{}", text(binding, "levelId")),
            other => other.to_owned(),
        };
        let mut line = String::from("  bound:");
        if let Some(policy) = field(binding, "policyUuid").as_str() {
            line.push_str(&format!(" policy `{policy}`"));
        }
        line.push_str(&format!(
            " to group `{}` at {level}",
            text(binding, "groupUuid")
        ));
        notes.push(line);
    }
    // An unknown permission's error names it with the closest known one (`suggestion`), which
    // its message already says: it is not a permission the caller lacks.
    let unknown_permission = details.get("suggestion").is_some();
    if let Some(permission) = field(details, "permission").as_str()
        && !unknown_permission
    {
        notes.push(format!("  missing permission: `{permission}`"));
    }
    // What still uses a service user that is to be deleted.
    for referrer in items(details, "referrers") {
        notes.push(format!(
            "  used by: {} `{}` ({})",
            text(referrer, "type").replace('-', " "),
            text(referrer, "name"),
            text(referrer, "id")
        ));
    }
    if let Some(map) = details.as_object() {
        for (key, value) in map {
            if matches!(
                key.as_str(),
                "diagnostics" | "bindings" | "permission" | "referrers" | "help" | "didYouMean"
            ) || (unknown_permission && key == "suggestion")
            {
                continue;
            }
            let shown = value
                .as_str()
                .map_or_else(|| value.to_string(), str::to_owned);
            notes.push(format!("  {key}: {shown}"));
        }
    }
    notes
}

/// The JSON printed for a write whose answer has no body: the document, the revision the write
/// produced and its warnings.
pub fn written_answer<T>(answer: &Answer<T>, document: Value) -> Value {
    with_revision(answer.revision, &answer.warnings, document)
}

fn with_revision(revision: Option<i64>, warnings: &[String], mut document: Value) -> Value {
    set(&mut document, "revision", json!(revision));
    if !warnings.is_empty() {
        set(&mut document, "warnings", json!(warnings));
    }
    document
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_errors_keep_message_details_and_exit_code() {
        let body = json!({ "error": { "code": "invalid", "message": "the policy has 1 error(s)", "details": {
            "diagnostics": [{ "severity": "error", "code": "unknown-permission", "message": "unknown permission `x:y:z`",
                "start": { "line": 1, "column": 7 }, "help": "did you mean `x:y:w`?" }] } } });
        let error = refused(StatusCode::BAD_REQUEST, &body, None);
        assert_eq!(error.exit, 1);
        assert_eq!(error.code, "invalid");
        assert_eq!(
            error.notes,
            vec![
                "  1:7: error[unknown-permission]: unknown permission `x:y:z`",
                "    help: did you mean `x:y:w`?"
            ]
        );
        let located = located_in(error, "team.policy");
        assert_eq!(
            located.notes.first().map(String::as_str),
            Some("  team.policy:1:7: error[unknown-permission]: unknown permission `x:y:z`")
        );
        let failed = refused(StatusCode::SERVICE_UNAVAILABLE, &json!("oops"), Some(5));
        assert_eq!(failed.exit, 2);
        assert_eq!(failed.help.as_deref(), Some("retry in 5 s"));
    }
}
