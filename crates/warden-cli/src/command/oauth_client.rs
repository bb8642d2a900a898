//! `warden oauth-client create|list|get|rotate|revoke-secret|delete`: OAuth clients for the
//! client-credentials grant (SPEC §8). A secret is shown once: printed, or with `--secret-file`
//! written to a new file only its owner can read (and not printed).

use std::path::PathBuf;
use std::process::ExitCode;

use serde_json::{Value, json};

use crate::command::client::{Client, Connection, written};
use crate::command::values::{field, items, set, text};
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

/// A credential's owner: the handle of a service user, else the email.
pub fn owner_name(credential: &Value) -> String {
    let owner = field(credential, "owner");
    let handle = text(owner, "handle");
    if handle.is_empty() {
        text(owner, "email")
    } else {
        handle
    }
}

fn summary(client: &Value) -> String {
    let active = items(client, "secrets")
        .iter()
        .filter(|s| field(s, "active").as_bool() == Some(true))
        .count();
    format!("{active} active")
}

pub fn run(args: OAuthClientArgs, output: &mut Output) -> Result<ExitCode, CliError> {
    let client = Client::connect(&args.connection)?;
    match args.command {
        OAuthClientCommand::Create {
            name,
            scopes,
            owner,
            secret_file,
        } => {
            let mut body = json!({ "name": name, "scopes": scopes });
            if let Some(owner) = owner {
                set(&mut body, "owner", json!(owner));
            }
            let reply = client.post(client.accounts(&["oauth-clients"])?, &body)?;
            let created = &reply.body;
            let headline = format!(
                "created OAuth client `{}` ({}) for `{}`",
                text(created, "name"),
                text(created, "clientId"),
                owner_name(created)
            );
            show_secret(
                output,
                &headline,
                created,
                "clientSecret",
                secret_file.as_ref(),
            )?;
        }
        OAuthClientCommand::List => {
            let reply = client.get(client.accounts(&["oauth-clients"])?)?;
            if output.is_json() {
                output.json(&reply.body);
                return Ok(ExitCode::SUCCESS);
            }
            let clients = items(&reply.body, "items");
            let rows: Vec<Vec<String>> = clients
                .iter()
                .map(|c| {
                    let scopes: Vec<String> = items(c, "scopes")
                        .iter()
                        .filter_map(|s| s.as_str().map(str::to_owned))
                        .collect();
                    vec![
                        text(c, "clientId"),
                        text(c, "name"),
                        owner_name(c),
                        scopes.join(" "),
                        summary(c),
                    ]
                })
                .collect();
            output.text(&table(
                &["CLIENT ID", "NAME", "OWNER", "SCOPES", "SECRETS"],
                &rows,
            ));
            output.line(&plural(clients.len(), "OAuth client"));
        }
        OAuthClientCommand::Get { client_id } => {
            let reply = client.get(client.accounts(&["oauth-clients", &client_id])?)?;
            if output.is_json() {
                output.json(&reply.body);
                return Ok(ExitCode::SUCCESS);
            }
            let c = &reply.body;
            let scopes: Vec<String> = items(c, "scopes")
                .iter()
                .filter_map(|s| s.as_str().map(str::to_owned))
                .collect();
            output.text(&fields(&[
                ("client id", text(c, "clientId")),
                ("name", text(c, "name")),
                ("owner", owner_name(c)),
                ("scopes", scopes.join(" ")),
                ("created", text(c, "createdAt")),
            ]));
            let rows: Vec<Vec<String>> = items(c, "secrets")
                .iter()
                .map(|s| {
                    vec![
                        text(s, "id"),
                        text(s, "createdAt"),
                        field(s, "revokedAt")
                            .as_str()
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
            let reply = client.post(
                client.accounts(&["oauth-clients", &client_id, "secrets"])?,
                &json!({}),
            )?;
            let headline = format!(
                "added secret `{}` to `{client_id}`; the other secrets stay valid until revoked",
                text(&reply.body, "secretId")
            );
            show_secret(
                output,
                &headline,
                &reply.body,
                "clientSecret",
                secret_file.as_ref(),
            )?;
        }
        OAuthClientCommand::RevokeSecret {
            client_id,
            secret_id,
        } => {
            let reply = client.delete(client.accounts(&[
                "oauth-clients",
                &client_id,
                "secrets",
                &secret_id,
            ])?)?;
            if output.is_json() {
                output.json(&written(&reply, json!({ "revoked": secret_id })));
            } else {
                output.line(&format!("revoked secret `{secret_id}` of `{client_id}`"));
            }
        }
        OAuthClientCommand::Delete { client_id } => {
            let reply = client.delete(client.accounts(&["oauth-clients", &client_id])?)?;
            if output.is_json() {
                output.json(&written(&reply, json!({ "deleted": client_id })));
            } else {
                output.line(&format!(
                    "deleted OAuth client `{client_id}` and its access tokens"
                ));
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
