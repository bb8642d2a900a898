//! `warden environment create|list`: the account's environments, the levels that
//! `environment:ID` bindings and decisions apply at.

use std::process::ExitCode;

use serde_json::json;

use crate::command::client::{Client, Connection};
use crate::command::values::{items, text};
use crate::output::{CliError, Output, plural, table};

#[derive(Debug, clap::Args)]
pub struct EnvironmentArgs {
    #[command(flatten)]
    connection: Connection,
    #[command(subcommand)]
    command: EnvironmentCommand,
}

#[derive(Debug, clap::Subcommand)]
enum EnvironmentCommand {
    /// Create an environment.
    Create {
        /// Its id: what `--env` and `environment:ID` name.
        id: String,
        /// A display name (default: the id).
        #[arg(long)]
        name: Option<String>,
    },
    /// List the account's environments.
    List,
}

pub fn run(args: EnvironmentArgs, output: &mut Output) -> Result<ExitCode, CliError> {
    let client = Client::connect(&args.connection)?;
    match args.command {
        EnvironmentCommand::Create { id, name } => {
            let mut body = json!({ "id": id });
            if let Some(name) = name {
                crate::command::values::set(&mut body, "name", json!(name));
            }
            let reply = client.post(client.accounts(&["environments"])?, &body)?;
            if output.is_json() {
                output.json(&reply.body);
            } else {
                output.line(&format!(
                    "created environment `{}`",
                    text(&reply.body, "id")
                ));
            }
        }
        EnvironmentCommand::List => {
            let reply = client.get(client.accounts(&["environments"])?)?;
            if output.is_json() {
                output.json(&reply.body);
                return Ok(ExitCode::SUCCESS);
            }
            let environments = items(&reply.body, "items");
            let rows: Vec<Vec<String>> = environments
                .iter()
                .map(|e| vec![text(e, "id"), text(e, "name")])
                .collect();
            output.text(&table(&["ID", "NAME"], &rows));
            output.line(&plural(environments.len(), "environment"));
        }
    }
    Ok(ExitCode::SUCCESS)
}
