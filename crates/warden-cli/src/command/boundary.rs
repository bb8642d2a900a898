//! `warden boundary create|list|get|delete`: policy boundaries of the account (SPEC §4). A
//! boundary is named by its uuid or its name (any case); the server validates the text and its
//! diagnostics are printed against the file.

use std::path::PathBuf;
use std::process::ExitCode;

use std::collections::BTreeMap;

use serde_json::{Value, json};
use warden_api::boundaries::BoundaryInput;

use crate::command::client::{Client, Connection, located_in, written_answer};
use crate::command::values::{items, text};
use crate::command::{read_input, resolve};
use crate::output::{CliError, Output, fields, table};

#[derive(Debug, clap::Args)]
pub struct BoundaryArgs {
    #[command(flatten)]
    connection: Connection,
    #[command(subcommand)]
    command: BoundaryCommand,
}

#[derive(Debug, clap::Subcommand)]
enum BoundaryCommand {
    /// Create a boundary from a file (`-` for standard input): one condition per line.
    Create {
        #[arg(long)]
        name: String,
        file: PathBuf,
    },
    /// List the account's boundaries.
    List,
    /// Show one boundary.
    Get {
        /// The boundary's uuid or name.
        boundary: String,
    },
    /// Delete a boundary (refused while bindings use it).
    Delete {
        /// The boundary's uuid or name.
        boundary: String,
    },
}

pub fn run(args: BoundaryArgs, output: &mut Output) -> Result<ExitCode, CliError> {
    let client = Client::connect(&args.connection)?;
    match args.command {
        BoundaryCommand::Create { name, file } => {
            let source = read_input(&file)?;
            let origin = file.display().to_string();
            let input = BoundaryInput {
                name,
                boundary_query: source,
                metadata: BTreeMap::new(),
            };
            let created = client
                .call(client.typed().create_boundary(client.account()?, &input))
                .map_err(|e| located_in(e, &origin))?
                .body;
            if output.is_json() {
                output.json(&created);
            } else {
                output.line(&format!(
                    "created boundary `{}` ({})",
                    created.name, created.uuid
                ));
            }
        }
        BoundaryCommand::List => {
            let all = resolve::boundaries(&client)?;
            if output.is_json() {
                let content: Vec<&Value> = all.iter().map(|b| &b.value).collect();
                output.json(&json!({ "totalCount": all.len(), "content": content }));
                return Ok(ExitCode::SUCCESS);
            }
            let rows: Vec<Vec<String>> = all
                .iter()
                .map(|b| vec![b.name.clone(), b.id.clone(), conditions(&b.value)])
                .collect();
            output.text(&table(&["NAME", "UUID", "CONDITIONS"], &rows));
            output.line(&match all.len() {
                1 => "1 boundary".to_owned(),
                n => format!("{n} boundaries"),
            });
        }
        BoundaryCommand::Get { boundary } => {
            let found = resolve::boundary(&client, &boundary)?;
            let shown = client
                .call(client.typed().boundary(client.account()?, &found.id))?
                .body;
            if output.is_json() {
                output.json(&shown);
                return Ok(ExitCode::SUCCESS);
            }
            output.text(&fields(&[("name", shown.name), ("uuid", shown.uuid)]));
            output.line("");
            output.text(&shown.boundary_query);
            if !shown.boundary_query.ends_with('\n') {
                output.line("");
            }
        }
        BoundaryCommand::Delete { boundary } => {
            let found = resolve::boundary(&client, &boundary)?;
            let deleted =
                client.call(client.typed().delete_boundary(client.account()?, &found.id))?;
            if output.is_json() {
                output.json(&written_answer(
                    &deleted,
                    json!({ "deleted": { "uuid": found.id, "name": found.name } }),
                ));
            } else {
                output.line(&format!("deleted boundary `{}` ({})", found.name, found.id));
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `name operator values; …` on one line.
fn conditions(boundary: &Value) -> String {
    items(boundary, "boundaryConditions")
        .iter()
        .map(|c| {
            let values: Vec<String> = items(c, "values")
                .iter()
                .map(|v| format!("{:?}", v.as_str().unwrap_or_default()))
                .collect();
            format!(
                "{} {} {}",
                text(c, "name"),
                text(c, "operator"),
                values.join(", ")
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}
