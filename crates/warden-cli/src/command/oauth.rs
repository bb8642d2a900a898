//! `warden oauth token CLIENT_ID --secret-file FILE [--scope P]…`: an access token with the
//! client-credentials grant (`POST /sso/oauth2/token`, HTTP Basic). Prints the token alone, so
//! that `TOKEN=$(warden oauth token …)` works; `--format json` prints the whole answer. The
//! secret is read from a file (or `-`, standard input), never from the command line, where other
//! users of the machine could see it.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use warden_client::pending::TokenRequest;
use warden_client::{ClientError, Options, Url};

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
    // Checked first, for the address's own message.
    token_url(&server)?;
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
    let request = TokenRequest {
        scope: (!scopes.is_empty()).then(|| scopes.join(" ")),
        resource: None,
    };
    let issued = match runtime.block_on(api.access_token(&request)) {
        Ok(issued) => issued.body,
        Err(ClientError::Refused {
            status,
            retry_after,
            body,
            ..
        }) => {
            // The token endpoint answers OAuth's errors (`{error, error_description}`).
            let code = text(&body, "error");
            let description = text(&body, "error_description");
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
        Err(other) => return Err(unreachable(&server, &other)),
    };
    if output.is_json() {
        output.json(&issued);
    } else {
        output.line(&issued.access_token);
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
