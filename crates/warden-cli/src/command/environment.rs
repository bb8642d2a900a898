//! `warden environment create|list`: the account's environments, the levels that
//! `environment:ID` bindings and decisions apply at.

use std::process::ExitCode;

use warden_client::pending::EnvironmentInput;

use crate::command::client::{Client, Connection};
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
    let api = client.typed();
    match args.command {
        EnvironmentCommand::Create { id, name } => {
            let input = EnvironmentInput { id, name };
            let created = client
                .call(api.create_environment(client.account()?, &input))?
                .body;
            if output.is_json() {
                output.json(&created);
            } else {
                output.line(&format!("created environment `{}`", created.id));
            }
        }
        EnvironmentCommand::List => {
            let environments = client.call(api.environments(client.account()?))?.body;
            if output.is_json() {
                output.json(&environments);
                return Ok(ExitCode::SUCCESS);
            }
            let rows: Vec<Vec<String>> = environments
                .items
                .iter()
                .map(|e| vec![e.id.clone(), e.name.clone()])
                .collect();
            output.text(&table(&["ID", "NAME"], &rows));
            output.line(&plural(environments.items.len(), "environment"));
        }
    }
    Ok(ExitCode::SUCCESS)
}
