//! `warden oauth token CLIENT_ID --secret-file FILE [--scope P]…`: an access token with the
//! client-credentials grant (`POST /sso/oauth2/token`, HTTP Basic). Prints the token alone, so
//! that `TOKEN=$(warden oauth token …)` works; `--format json` prints the whole answer. The
//! secret is read from a file (or `-`, standard input), never from the command line, where other
//! users of the machine could see it.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use reqwest::Url;
use serde_json::Value;

use crate::command::read_input;
use crate::command::values::text;
use crate::output::{CliError, Output};

#[derive(Debug, clap::Subcommand)]
pub enum OAuthCommand {
    /// Get an access token for an OAuth client; prints the token.
    Token {
        client_id: String,
        /// The file holding the client secret (`-`: standard input).
        #[arg(long, value_name = "FILE")]
        secret_file: PathBuf,
        /// Ask for fewer scopes than the client has (repeat for more).
        #[arg(long = "scope", value_name = "PERMISSION")]
        scopes: Vec<String>,
        /// The Warden server.
        #[arg(
            long,
            env = "WARDEN_URL",
            default_value = "http://127.0.0.1:8080",
            value_name = "URL"
        )]
        server: String,
    },
}

pub fn run(command: OAuthCommand, output: &mut Output) -> Result<ExitCode, CliError> {
    let OAuthCommand::Token {
        client_id,
        secret_file,
        scopes,
        server,
    } = command;
    let secret = read_input(&secret_file)?.trim().to_owned();
    if secret.is_empty() {
        return Err(CliError::new(
            "secret",
            format!("the secret file `{}` is empty", secret_file.display()),
        )
        .with_help("write the client secret that `warden oauth-client create` showed into it"));
    }
    let url = token_url(&server)?;
    let mut form =
        Url::parse("http://form.invalid/").map_err(|e| CliError::new("http", e.to_string()))?;
    {
        let mut pairs = form.query_pairs_mut();
        pairs.append_pair("grant_type", "client_credentials");
        if !scopes.is_empty() {
            pairs.append_pair("scope", &scopes.join(" "));
        }
    }
    let body = form.query().unwrap_or_default().to_owned();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::new("runtime", format!("cannot start the async runtime: {e}")))?;
    let (status, retry_after, text_body) = runtime.block_on(async {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(60))
            .build()
            .map_err(|e| CliError::new("http", format!("cannot set up HTTP: {e}")))?;
        let response = http
            .post(url)
            .basic_auth(&client_id, Some(&secret))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .map_err(|e| unreachable(&server, &e))?;
        let status = response.status();
        let retry_after = response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let text = response
            .text()
            .await
            .map_err(|e| unreachable(&server, &e))?;
        Ok::<_, CliError>((status, retry_after, text))
    })?;
    let answer: Value = serde_json::from_str(&text_body).unwrap_or(Value::Null);
    if !status.is_success() {
        let code = text(&answer, "error");
        let description = text(&answer, "error_description");
        let mut error = CliError::new(
            if code.is_empty() { "http" } else { &code },
            if description.is_empty() {
                format!("the server answered {status}")
            } else {
                description
            },
        )
        .with_exit(if status.is_client_error() { 1 } else { 2 });
        if let Some(seconds) = retry_after {
            error = error.with_help(format!("retry in {seconds} s"));
        } else if code == "invalid_client" {
            error = error.with_help(
                "check the client id and the secret file; a revoked secret no longer works",
            );
        }
        return Err(error);
    }
    if output.is_json() {
        output.json(&answer);
    } else {
        output.line(&text(&answer, "access_token"));
    }
    Ok(ExitCode::SUCCESS)
}

fn token_url(server: &str) -> Result<Url, CliError> {
    let help = "give the server's `http://` address with `--server` (or `WARDEN_URL`)";
    let base = Url::parse(server).map_err(|e| {
        CliError::new("usage", format!("`{server}` is not a server address: {e}")).with_help(help)
    })?;
    if base.scheme() != "http" {
        return Err(CliError::new(
            "usage",
            format!("`{server}`: this `warden` speaks plain HTTP only"),
        )
        .with_help(help));
    }
    base.join("/sso/oauth2/token")
        .map_err(|e| CliError::new("usage", format!("`{server}`: {e}")).with_help(help))
}

fn unreachable(server: &str, error: &reqwest::Error) -> CliError {
    CliError::new(
        "unreachable",
        format!("cannot reach the Warden server at `{server}`: {error}"),
    )
    .with_help(
        "start it with `warden serve`, or give its address with `--server` (or `WARDEN_URL`)",
    )
}
