//! `warden token create|list|revoke|disable|enable`: platform tokens (long-lived, named, with
//! scopes and an expiry date; at most 10 per user). The token is shown once: printed, or with
//! `--token-out` written to a new file only its owner can read.

use std::path::PathBuf;
use std::process::ExitCode;

use serde_json::json;

use warden_api::platform_tokens::{StatusInput, TokenInput, TokenQuery};

use crate::command::client::{Client, Connection, written_answer};
use crate::command::oauth_client::show_secret;
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
    let api = client.typed();
    match args.command {
        TokenCommand::Create {
            name,
            scopes,
            expires,
            user,
            token_out,
        } => {
            let input = TokenInput {
                name,
                scope: scopes,
                expiration_date: expires,
                user_uuid: user,
                resource: Vec::new(),
                tags: Vec::new(),
            };
            let created = client
                .call(api.create_platform_token(client.account()?, &input))?
                .body;
            let headline = format!(
                "created platform token `{}` ({})",
                created.name, created.token_id
            );
            let shown = serde_json::to_value(&created).unwrap_or_default();
            show_secret(output, &headline, &shown, "token", token_out.as_ref())?;
        }
        TokenCommand::List { search, status } => {
            let query = TokenQuery {
                search_term: search,
                status,
                page: None,
                size: Some(500),
            };
            let page = client
                .call(api.platform_tokens(client.account()?, &query))?
                .body;
            if output.is_json() {
                output.json(&page);
                return Ok(ExitCode::SUCCESS);
            }
            let rows: Vec<Vec<String>> = page
                .items
                .iter()
                .map(|t| {
                    let status = if t.expired {
                        "EXPIRED".to_owned()
                    } else {
                        t.status.clone()
                    };
                    vec![
                        t.token_id.clone(),
                        t.name.clone(),
                        t.user_handle
                            .clone()
                            .filter(|h| !h.is_empty())
                            .or_else(|| t.user_email.clone())
                            .unwrap_or_default(),
                        status,
                        t.expiration_date
                            .clone()
                            .unwrap_or_else(|| "never".to_owned()),
                        t.scope.join(" "),
                    ]
                })
                .collect();
            output.text(&table(
                &["TOKEN ID", "NAME", "OWNER", "STATUS", "EXPIRES", "SCOPE"],
                &rows,
            ));
            output.line(&plural(page.items.len(), "platform token"));
        }
        TokenCommand::Revoke { token_id } => {
            let deleted = client.call(api.delete_platform_token(client.account()?, &token_id))?;
            if output.is_json() {
                output.json(&written_answer(&deleted, json!({ "deleted": token_id })));
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
    let input = StatusInput {
        status: status.to_owned(),
    };
    let changed = client.call(client.typed().set_platform_token_status(
        client.account()?,
        token_id,
        &input,
    ))?;
    if output.is_json() {
        output.json(&written_answer(
            &changed,
            json!({ "tokenId": token_id, "status": status }),
        ));
    } else {
        let done = if enable { "enabled" } else { "disabled" };
        output.line(&format!("{done} platform token `{token_id}`"));
    }
    Ok(())
}
