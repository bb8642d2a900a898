//! `warden oauth-client create|list|get|rotate|revoke-secret|delete`: OAuth clients for the
//! client-credentials grant (SPEC §8). A secret is shown once: printed, or with `--secret-file`
//! written to a new file only its owner can read (and not printed).

use std::path::PathBuf;
use std::process::ExitCode;

use serde_json::{Value, json};

use warden_api::oauth_clients::{ClientInput, OAuthClient, PrincipalRef};

use crate::command::client::{Client, Connection, written_answer};
use crate::command::values::text;
use crate::output::{CliError, Output, fields, plural, table};

#[derive(Debug, clap::Args)]
pub struct OAuthClientArgs {
    #[command(flatten)]
    connection: Connection,
    #[command(subcommand)]
    command: OAuthClientCommand,
}

#[derive(Debug, clap::Subcommand)]
enum OAuthClientCommand {
    /// Create a client for yourself or a service user you may use.
    Create {
        name: String,
        /// A permission the client's tokens may use (repeat for more).
        #[arg(long = "scope", required = true, value_name = "PERMISSION")]
        scopes: Vec<String>,
        /// The owner: a service user's handle, email or uid (default: you).
        #[arg(long)]
        owner: Option<String>,
        /// Write the secret to this new file (mode 0600) instead of printing it.
        #[arg(long, value_name = "FILE")]
        secret_file: Option<PathBuf>,
    },
    /// List the account's clients.
    List,
    /// Show one client with its secrets' ids.
    Get { client_id: String },
    /// Add a secret; the others stay valid until revoked.
    Rotate {
        client_id: String,
        /// Write the new secret to this new file (mode 0600) instead of printing it.
        #[arg(long, value_name = "FILE")]
        secret_file: Option<PathBuf>,
    },
    /// Revoke one secret of a client at once.
    RevokeSecret {
        client_id: String,
        secret_id: String,
    },
    /// Delete a client and its access tokens.
    Delete { client_id: String },
}

/// Shows the secret in `field` of a server answer once: into a new owner-only file, or printed.
/// With `--format json` the answer is printed, without the secret when it went to a file.
pub fn show_secret(
    output: &mut Output,
    headline: &str,
    answer: &Value,
    field_name: &str,
    file: Option<&PathBuf>,
) -> Result<(), CliError> {
    let secret = text(answer, field_name);
    if let Some(path) = file {
        warden_server::bootstrap::write_secret_file(path, &secret)
            .map_err(|e| CliError::new("io", e.to_string()))?;
    }
    if output.is_json() {
        let mut shown = answer.clone();
        if let (Some(path), Some(object)) = (file, shown.as_object_mut()) {
            object.remove(field_name);
            object.insert("writtenTo".to_owned(), json!(path.display().to_string()));
        }
        output.json(&shown);
        return Ok(());
    }
    output.line(headline);
    match file {
        Some(path) => output.line(&format!(
            "written to `{}` (mode 0600); it is not shown again",
            path.display()
        )),
        None => {
            output.line("shown once, store it now:");
            output.line(&secret);
        }
    }
    Ok(())
}

/// A credential's owner: the handle of a service user, else the email (the uid once the owner
/// is gone).
pub fn owner_name(owner: &PrincipalRef) -> String {
    match &owner.known {
        Some(known) => known
            .handle
            .clone()
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| known.email.clone()),
        None => owner.uid.clone(),
    }
}

fn summary(client: &OAuthClient) -> String {
    let active = client.secrets.iter().filter(|s| s.active).count();
    format!("{active} active")
}

pub fn run(args: OAuthClientArgs, output: &mut Output) -> Result<ExitCode, CliError> {
    let client = Client::connect(&args.connection)?;
    let api = client.typed();
    match args.command {
        OAuthClientCommand::Create {
            name,
            scopes,
            owner,
            secret_file,
        } => {
            let input = ClientInput {
                name,
                owner,
                scopes,
            };
            let created = client
                .call(api.create_oauth_client(client.account()?, &input))?
                .body;
            let headline = format!(
                "created OAuth client `{}` ({}) for `{}`",
                created.client.name,
                created.client.client_id,
                owner_name(&created.client.owner)
            );
            let shown = serde_json::to_value(&created).unwrap_or(Value::Null);
            show_secret(
                output,
                &headline,
                &shown,
                "clientSecret",
                secret_file.as_ref(),
            )?;
        }
        OAuthClientCommand::List => {
            let clients = client.call(api.oauth_clients(client.account()?))?.body;
            if output.is_json() {
                output.json(&clients);
                return Ok(ExitCode::SUCCESS);
            }
            let rows: Vec<Vec<String>> = clients
                .items
                .iter()
                .map(|c| {
                    vec![
                        c.client_id.clone(),
                        c.name.clone(),
                        owner_name(&c.owner),
                        c.scopes.join(" "),
                        summary(c),
                    ]
                })
                .collect();
            output.text(&table(
                &["CLIENT ID", "NAME", "OWNER", "SCOPES", "SECRETS"],
                &rows,
            ));
            output.line(&plural(clients.items.len(), "OAuth client"));
        }
        OAuthClientCommand::Get { client_id } => {
            let c = client
                .call(api.oauth_client(client.account()?, &client_id))?
                .body;
            if output.is_json() {
                output.json(&c);
                return Ok(ExitCode::SUCCESS);
            }
            output.text(&fields(&[
                ("client id", c.client_id.clone()),
                ("name", c.name.clone()),
                ("owner", owner_name(&c.owner)),
                ("scopes", c.scopes.join(" ")),
                ("created", c.created_at.clone()),
            ]));
            let rows: Vec<Vec<String>> = c
                .secrets
                .iter()
                .map(|s| {
                    vec![
                        s.id.clone(),
                        s.created_at.clone(),
                        s.revoked_at
                            .as_ref()
                            .map_or_else(|| "active".to_owned(), |at| format!("revoked {at}")),
                    ]
                })
                .collect();
            output.text(&table(&["SECRET ID", "CREATED", "STATUS"], &rows));
        }
        OAuthClientCommand::Rotate {
            client_id,
            secret_file,
        } => {
            let added = client
                .call(api.add_oauth_secret(client.account()?, &client_id))?
                .body;
            let headline = format!(
                "added secret `{}` to `{client_id}`; the other secrets stay valid until revoked",
                added.secret_id
            );
            let shown = serde_json::to_value(&added).unwrap_or(Value::Null);
            show_secret(
                output,
                &headline,
                &shown,
                "clientSecret",
                secret_file.as_ref(),
            )?;
        }
        OAuthClientCommand::RevokeSecret {
            client_id,
            secret_id,
        } => {
            let revoked =
                client.call(api.revoke_oauth_secret(client.account()?, &client_id, &secret_id))?;
            if output.is_json() {
                output.json(&written_answer(&revoked, json!({ "revoked": secret_id })));
            } else {
                output.line(&format!("revoked secret `{secret_id}` of `{client_id}`"));
            }
        }
        OAuthClientCommand::Delete { client_id } => {
            let deleted = client.call(api.delete_oauth_client(client.account()?, &client_id))?;
            if output.is_json() {
                output.json(&written_answer(&deleted, json!({ "deleted": client_id })));
            } else {
                output.line(&format!(
                    "deleted OAuth client `{client_id}` and its access tokens"
                ));
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
