//! `warden oauth token CLIENT_ID --secret-file FILE [--scope P]…`: an access token with the
//! client-credentials grant (`POST /sso/oauth2/token`, HTTP Basic). Prints the token alone, so
//! that `TOKEN=$(warden oauth token …)` works; `--format json` prints the whole answer. The
//! secret is read from a file (or `-`, standard input), never from the command line, where other
//! users of the machine could see it.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use warden_client::{ClientError, Method, Options, Payload, Url};

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
    let options = Options {
        connect_timeout: Duration::from_secs(5),
        timeout: Duration::from_secs(60),
        ..Options::default()
    };
    let api = warden_client::Client::new(&server, &options)
        .map_err(|e| CliError::new("http", e.to_string()))?
        .with_client_secret(&client_id, &secret);
    let payload = Payload::Raw {
        content_type: "application/x-www-form-urlencoded",
        bytes: body.as_bytes(),
    };
    let reply = runtime
        .block_on(api.exchange(Method::POST, url, payload))
        .map_err(|e| unreachable(&server, &e))?;
    let (status, retry_after, answer) = (reply.status, reply.retry_after, reply.body);
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
