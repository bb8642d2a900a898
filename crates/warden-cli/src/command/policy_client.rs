//! `warden policy create|update|list|get|delete`: policies on a server, at a level (`--level
//! account`, the default, or `environment:ID`; `global` to read the built-in ones). A policy is
//! named by its uuid or its name (any case). The server validates every save; its diagnostics are
//! printed against the file they came from.

use std::path::PathBuf;
use std::process::ExitCode;

use serde_json::{Value, json};
use warden_api::policies::{PolicyDiagnostic, PolicyInput};

use crate::command::client::{Client, Connection, located_in, written_answer};
use crate::command::values::{Level, text};
use crate::command::{read_input, resolve};
use crate::output::{CliError, Output, fields, table, truncate};

#[derive(Debug, clap::Args)]
pub struct CreateArgs {
    #[arg(long)]
    name: String,
    #[arg(long)]
    description: Option<String>,
    /// `account` or `environment:ID`.
    #[arg(long, default_value = "account")]
    level: Level,
    /// The policy text (`-` for standard input).
    file: PathBuf,
    #[command(flatten)]
    connection: Connection,
}

#[derive(Debug, clap::Args)]
pub struct UpdateArgs {
    /// The policy's uuid or name.
    policy: String,
    /// The new policy text (`-` for standard input).
    file: PathBuf,
    /// A new name (default: keep it).
    #[arg(long)]
    name: Option<String>,
    /// A new description (default: keep it).
    #[arg(long)]
    description: Option<String>,
    #[arg(long, default_value = "account")]
    level: Level,
    #[command(flatten)]
    connection: Connection,
}

#[derive(Debug, clap::Args)]
pub struct ListArgs {
    /// `account`, `environment:ID` or `global`.
    #[arg(long, default_value = "account")]
    level: Level,
    /// Also the policies the level inherits (global, and account for an environment).
    #[arg(long)]
    inherited: bool,
    #[command(flatten)]
    connection: Connection,
}

#[derive(Debug, clap::Args)]
pub struct GetArgs {
    /// The policy's uuid or name.
    policy: String,
    #[arg(long, default_value = "account")]
    level: Level,
    #[command(flatten)]
    connection: Connection,
}

#[derive(Debug, clap::Args)]
pub struct DeleteArgs {
    /// The policy's uuid or name.
    policy: String,
    #[arg(long, default_value = "account")]
    level: Level,
    /// Delete its bindings too (otherwise a bound policy is not deleted).
    #[arg(long)]
    force: bool,
    #[command(flatten)]
    connection: Connection,
}

pub fn create(args: CreateArgs, output: &mut Output) -> Result<ExitCode, CliError> {
    let source = read_input(&args.file)?;
    let origin = args.file.display().to_string();
    let client = Client::connect(&args.connection)?;
    let input = PolicyInput {
        name: args.name,
        description: args.description.unwrap_or_default(),
        tags: Vec::new(),
        statement_query: source,
        category: None,
    };
    let level = client.level(&args.level)?;
    let created = client
        .call(client.typed().create_policy(&level, &input))
        .map_err(|e| located_in(e, &origin))?
        .body;
    if output.is_json() {
        output.json(&created);
        return Ok(ExitCode::SUCCESS);
    }
    output.line(&format!(
        "created policy `{}` ({}) at {}",
        created.name, created.uuid, args.level
    ));
    warn(output, &origin, &created.diagnostics);
    Ok(ExitCode::SUCCESS)
}

pub fn update(args: UpdateArgs, output: &mut Output) -> Result<ExitCode, CliError> {
    let source = read_input(&args.file)?;
    let origin = args.file.display().to_string();
    let client = Client::connect(&args.connection)?;
    let current = resolve::policy_at(&client, &args.level, &args.policy)?;
    let level = client.level(&args.level)?;
    let input = PolicyInput {
        name: args.name.unwrap_or(current.name),
        description: args
            .description
            .unwrap_or_else(|| text(&current.value, "description")),
        tags: Vec::new(),
        statement_query: source,
        category: None,
    };
    let api = client.typed();
    // The update answers 204 without the checker's warnings; validation gives them first.
    let checked = client
        .call(api.validate_policy_change(&level, &current.id, &input))
        .map_err(|e| located_in(e, &origin))?
        .body;
    client
        .call(api.put_policy(&level, &current.id, &input))
        .map_err(|e| located_in(e, &origin))?;
    if output.is_json() {
        let mut policy = client.call(api.policy(&level, &current.id))?.body;
        policy.diagnostics = checked.diagnostics;
        output.json(&policy);
        return Ok(ExitCode::SUCCESS);
    }
    output.line(&format!("updated policy `{}` ({})", input.name, current.id));
    warn(output, &origin, &checked.diagnostics);
    Ok(ExitCode::SUCCESS)
}

pub fn list(args: ListArgs, output: &mut Output) -> Result<ExitCode, CliError> {
    let client = Client::connect(&args.connection)?;
    let policies = resolve::policies(&client, &args.level, args.inherited)?;
    if output.is_json() {
        let list: Vec<&Value> = policies.iter().map(|p| &p.value).collect();
        output.json(&json!({ "policies": list }));
        return Ok(ExitCode::SUCCESS);
    }
    if policies.is_empty() {
        output.line(&format!("no policies at {}", args.level));
        return Ok(ExitCode::SUCCESS);
    }
    let inherited = args.inherited && args.level != Level::Global;
    let rows: Vec<Vec<String>> = policies
        .iter()
        .map(|p| {
            let mut row = vec![p.name.clone(), p.id.clone()];
            if inherited {
                row.push(level_of(&p.value));
            }
            row.push(truncate(&text(&p.value, "description"), 60));
            row
        })
        .collect();
    let headers: &[&str] = if inherited {
        &["NAME", "UUID", "LEVEL", "DESCRIPTION"]
    } else {
        &["NAME", "UUID", "DESCRIPTION"]
    };
    output.text(&table(headers, &rows));
    Ok(ExitCode::SUCCESS)
}

pub fn get(args: GetArgs, output: &mut Output) -> Result<ExitCode, CliError> {
    let client = Client::connect(&args.connection)?;
    let found = resolve::policy_at(&client, &args.level, &args.policy)?;
    let level = client.level(&args.level)?;
    let policy = client.call(client.typed().policy(&level, &found.id))?.body;
    if output.is_json() {
        output.json(&policy);
        return Ok(ExitCode::SUCCESS);
    }
    let level = match policy.level_type.as_str() {
        "environment" => format!("environment:{}", policy.level_id),
        other => other.to_owned(),
    };
    output.text(&fields(&[
        ("name", policy.name),
        ("uuid", policy.uuid),
        ("level", level),
        ("description", policy.description),
    ]));
    output.line("");
    output.text(&policy.statement_query);
    if !policy.statement_query.ends_with('\n') {
        output.line("");
    }
    Ok(ExitCode::SUCCESS)
}

pub fn delete(args: DeleteArgs, output: &mut Output) -> Result<ExitCode, CliError> {
    let client = Client::connect(&args.connection)?;
    let found = resolve::policy_at(&client, &args.level, &args.policy)?;
    let level = client.level(&args.level)?;
    let deleted = client
        .call(client.typed().delete_policy(&level, &found.id, args.force))
        .map_err(|mut e| {
            if e.code == "conflict" && !args.force {
                e.help =
                    Some("unbind it first, or delete it with its bindings: `--force`".to_owned());
            }
            e
        })?;
    if output.is_json() {
        output.json(&written_answer(
            &deleted,
            json!({ "deleted": { "uuid": found.id, "name": found.name } }),
        ));
    } else {
        output.line(&format!("deleted policy `{}` ({})", found.name, found.id));
    }
    Ok(ExitCode::SUCCESS)
}

/// `account`, `environment:ID`, `global` from a JSON object's `levelType` and `levelId`.
pub fn level_of(value: &Value) -> String {
    match text(value, "levelType").as_str() {
        "environment" => format!("environment:{}", text(value, "levelId")),
        other => other.to_owned(),
    }
}

/// The checker's warnings on a saved text, on stderr.
fn warn(output: &mut Output, origin: &str, diagnostics: &[PolicyDiagnostic]) {
    for diagnostic in diagnostics {
        let mut line = format!(
            "{origin}:{}:{}: {} [{}]",
            diagnostic.start.line, diagnostic.start.column, diagnostic.message, diagnostic.code,
        );
        if let Some(help) = &diagnostic.help {
            line.push_str(&format!("\n  help: {help}"));
        }
        output.warning(&line);
    }
}
