//! `warden catalogue [list] [--service S]`: the server's permission catalogue (the services, or one
//! service's permissions with their conditions); `warden catalogue register FILE.toml`: adds a
//! custom service, written in the catalogue's TOML format (docs/catalogue-format.md).

use std::path::PathBuf;
use std::process::ExitCode;

use serde_json::{Value, json};
use warden_policy::ServiceFile;

use crate::command::client::{Client, Connection};
use crate::command::read_input;
use crate::command::resolve::{self, Named};
use crate::command::values::{field, items, text};
use crate::output::{CliError, Output, plural, table, truncate};

#[derive(Debug, clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct CatalogueArgs {
    #[command(flatten)]
    connection: Connection,
    #[command(subcommand)]
    command: Option<CatalogueCommand>,
    /// Only this service's permissions.
    #[arg(long)]
    service: Option<String>,
}

#[derive(Debug, clap::Subcommand)]
enum CatalogueCommand {
    /// List the services, or one service's permissions (the default command).
    List {
        /// Only this service's permissions.
        #[arg(long)]
        service: Option<String>,
    },
    /// Register a custom service from its TOML definition.
    Register {
        /// The service file (TOML; `-` for standard input).
        file: PathBuf,
    },
}

pub fn run(args: CatalogueArgs, output: &mut Output) -> Result<ExitCode, CliError> {
    match args.command {
        Some(CatalogueCommand::Register { file }) => register(&file, &args.connection, output),
        Some(CatalogueCommand::List { service }) => list(service, &args.connection, output),
        None => list(args.service, &args.connection, output),
    }
}

fn list(
    service: Option<String>,
    connection: &Connection,
    output: &mut Output,
) -> Result<ExitCode, CliError> {
    let client = Client::connect(connection)?;
    let catalogue = client.call(client.typed().catalogue())?.body;
    let services: Vec<Named> = catalogue
        .services
        .iter()
        .map(|s| Named {
            id: s.name.clone(),
            name: s.name.clone(),
            value: serde_json::to_value(s).unwrap_or(Value::Null),
        })
        .collect();
    let Some(wanted) = service else {
        if output.is_json() {
            output.json(&catalogue);
            return Ok(ExitCode::SUCCESS);
        }
        let rows: Vec<Vec<String>> = services
            .iter()
            .map(|s| {
                let kind = if field(&s.value, "custom").as_bool() == Some(true) {
                    "custom"
                } else {
                    "built-in"
                };
                vec![
                    s.name.clone(),
                    items(&s.value, "permissions").len().to_string(),
                    kind.to_owned(),
                    text(&s.value, "title"),
                ]
            })
            .collect();
        output.text(&table(&["SERVICE", "PERMISSIONS", "KIND", "TITLE"], &rows));
        output.line(&format!(
            "{}; `warden catalogue --service NAME` lists a service's permissions",
            plural(services.len(), "service")
        ));
        return Ok(ExitCode::SUCCESS);
    };
    let found = resolve::pick("service", &wanted, &services, "warden catalogue")?;
    if output.is_json() {
        output.json(
            &json!({ "services": [found.value], "globalConditions": catalogue.global_conditions }),
        );
        return Ok(ExitCode::SUCCESS);
    }
    let rows: Vec<Vec<String>> = items(&found.value, "permissions")
        .iter()
        .map(|p| {
            let conditions: Vec<String> = items(p, "conditions")
                .iter()
                .map(|c| text(c, "name"))
                .collect();
            vec![
                text(p, "name"),
                truncate(&text(p, "description"), 50),
                conditions.join(", "),
            ]
        })
        .collect();
    output.text(&table(&["PERMISSION", "DESCRIPTION", "CONDITIONS"], &rows));
    Ok(ExitCode::SUCCESS)
}

fn register(
    file: &std::path::Path,
    connection: &Connection,
    output: &mut Output,
) -> Result<ExitCode, CliError> {
    let origin = file.display().to_string();
    let source = read_input(file)?;
    let service = ServiceFile::from_toml(&origin, &source).map_err(|e| {
        CliError::new(
            "catalogue",
            format!("`{origin}` is not a service file: {}", e.message),
        )
        .with_help("see docs/catalogue-format.md for the format")
    })?;
    let client = Client::connect(connection)?;
    let registered = client.call(client.typed().register_service(&service))?.body;
    if output.is_json() {
        output.json(&registered);
        return Ok(ExitCode::SUCCESS);
    }
    let permissions: Vec<String> = registered
        .permissions
        .iter()
        .map(|p| format!("`{p}`"))
        .collect();
    output.line(&format!(
        "registered service `{}` with {}: {}",
        registered.service,
        plural(permissions.len(), "permission"),
        permissions.join(", ")
    ));
    Ok(ExitCode::SUCCESS)
}
