//! `warden token create|list|revoke|disable|enable`: platform tokens (long-lived, named, with
//! scopes and an expiry date; at most 10 per user). The token is shown once: printed, or with
//! `--token-out` written to a new file only its owner can read.

use std::path::PathBuf;
use std::process::ExitCode;

use serde_json::json;

use crate::command::client::{Client, Connection, with_query, written};
use crate::command::oauth_client::show_secret;
use crate::command::values::{field, items, set, text};
use crate::output::{CliError, Output, plural, table};

#[derive(Debug, clap::Args)]
pub struct TokenArgs {
    #[command(flatten)]
    connection: Connection,
    #[command(subcommand)]
    command: TokenCommand,
}

#[derive(Debug, clap::Subcommand)]
enum TokenCommand {
    /// Create a platform token for yourself or a service user you may use.
    Create {
        name: String,
        /// A permission the token may use (repeat for more).
        #[arg(long = "scope", required = true, value_name = "PERMISSION")]
        scopes: Vec<String>,
        /// When it expires (RFC 3339, e.g. `2027-01-31T00:00:00Z`).
        #[arg(long, value_name = "DATE-TIME")]
        expires: String,
        /// The owner: a service user's handle, email or uid (default: you).
        #[arg(long)]
        user: Option<String>,
        /// Write the token to this new file (mode 0600) instead of printing it.
        #[arg(long, value_name = "FILE")]
        token_out: Option<PathBuf>,
    },
    /// List platform tokens.
    List {
        /// Part of a name or an owner's email.
        #[arg(long)]
        search: Option<String>,
        /// `ACTIVE` or `INACTIVE`.
        #[arg(long)]
        status: Option<String>,
    },
    /// Delete a token: it stops working at once.
    Revoke { token_id: String },
    /// Disable a token (it can be enabled again).
    Disable { token_id: String },
    /// Enable a disabled token.
    Enable { token_id: String },
}

pub fn run(args: TokenArgs, output: &mut Output) -> Result<ExitCode, CliError> {
    let client = Client::connect(&args.connection)?;
    match args.command {
        TokenCommand::Create {
            name,
            scopes,
            expires,
            user,
            token_out,
        } => {
            let mut body = json!({ "name": name, "scope": scopes, "expirationDate": expires });
            if let Some(user) = user {
                set(&mut body, "userUuid", json!(user));
            }
            let reply = client.post(client.accounts(&["platform-tokens"])?, &body)?;
            let headline = format!(
                "created platform token `{}` ({})",
                text(&reply.body, "name"),
                text(&reply.body, "tokenId")
            );
            show_secret(output, &headline, &reply.body, "token", token_out.as_ref())?;
        }
        TokenCommand::List { search, status } => {
            let mut query = Vec::new();
            if let Some(search) = &search {
                query.push(("searchTerm", search.as_str()));
            }
            if let Some(status) = &status {
                query.push(("status", status.as_str()));
            }
            query.push(("size", "500"));
            let reply = client.get(with_query(client.accounts(&["platform-tokens"])?, &query))?;
            if output.is_json() {
                output.json(&reply.body);
                return Ok(ExitCode::SUCCESS);
            }
            let tokens = items(&reply.body, "items");
            let rows: Vec<Vec<String>> = tokens
                .iter()
                .map(|t| {
                    let scopes: Vec<String> = items(t, "scope")
                        .iter()
                        .filter_map(|s| s.as_str().map(str::to_owned))
                        .collect();
                    let status = if field(t, "expired").as_bool() == Some(true) {
                        "EXPIRED".to_owned()
                    } else {
                        text(t, "status")
                    };
                    vec![
                        text(t, "tokenId"),
                        text(t, "name"),
                        Some(text(t, "userHandle"))
                            .filter(|h| !h.is_empty())
                            .unwrap_or_else(|| text(t, "userEmail")),
                        status,
                        field(t, "expirationDate")
                            .as_str()
                            .unwrap_or("never")
                            .to_owned(),
                        scopes.join(" "),
                    ]
                })
                .collect();
            output.text(&table(
                &["TOKEN ID", "NAME", "OWNER", "STATUS", "EXPIRES", "SCOPE"],
                &rows,
            ));
            output.line(&plural(tokens.len(), "platform token"));
        }
        TokenCommand::Revoke { token_id } => {
            let reply = client.delete(client.accounts(&["platform-tokens", &token_id])?)?;
            if output.is_json() {
                output.json(&written(&reply, json!({ "deleted": token_id })));
            } else {
                output.line(&format!("revoked platform token `{token_id}`"));
            }
        }
        TokenCommand::Disable { token_id } => set_status(&client, output, &token_id, false)?,
        TokenCommand::Enable { token_id } => set_status(&client, output, &token_id, true)?,
    }
    Ok(ExitCode::SUCCESS)
}

fn set_status(
    client: &Client,
    output: &mut Output,
    token_id: &str,
    enable: bool,
) -> Result<(), CliError> {
    let status = if enable { "ACTIVE" } else { "INACTIVE" };
    let reply = client.put(
        client.accounts(&["platform-tokens", token_id, "status"])?,
        &json!({ "status": status }),
    )?;
    if output.is_json() {
        output.json(&written(
            &reply,
            json!({ "tokenId": token_id, "status": status }),
        ));
    } else {
        let done = if enable { "enabled" } else { "disabled" };
        output.line(&format!("{done} platform token `{token_id}`"));
    }
    Ok(())
}
