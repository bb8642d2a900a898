//! `warden policy create|update|list|get|delete`: policies on a server, at a level (`--level
//! account`, the default, or `environment:ID`; `global` to read the built-in ones). A policy is
//! named by its uuid or its name (any case). The server validates every save; its diagnostics are
//! printed against the file they came from.

use std::path::PathBuf;
use std::process::ExitCode;

use serde_json::{Value, json};

use crate::command::client::{Client, Connection, located_in, with_query, written};
use crate::command::values::{Level, field, items, set, text};
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
    let body = json!({
        "name": args.name,
        "description": args.description.unwrap_or_default(),
        "statementQuery": source,
    });
    let reply = client
        .post(client.repo(&args.level, &["policies"])?, &body)
        .map_err(|e| located_in(e, &origin))?;
    if output.is_json() {
        output.json(&reply.body);
        return Ok(ExitCode::SUCCESS);
    }
    output.line(&format!(
        "created policy `{}` ({}) at {}",
        text(&reply.body, "name"),
        text(&reply.body, "uuid"),
        args.level
    ));
    warn(output, &origin, items(&reply.body, "diagnostics"));
    Ok(ExitCode::SUCCESS)
}

pub fn update(args: UpdateArgs, output: &mut Output) -> Result<ExitCode, CliError> {
    let source = read_input(&args.file)?;
    let origin = args.file.display().to_string();
    let client = Client::connect(&args.connection)?;
    let current = resolve::policy_at(&client, &args.level, &args.policy)?;
    let body = json!({
        "name": args.name.unwrap_or(current.name),
        "description": args.description.unwrap_or_else(|| text(&current.value, "description")),
        "statementQuery": source,
    });
    // The update answers 204 without the checker's warnings; validation gives them first.
    let checked = client
        .post(
            client.repo(&args.level, &["policies", "validation", &current.id])?,
            &body,
        )
        .map_err(|e| located_in(e, &origin))?;
    client
        .put(client.repo(&args.level, &["policies", &current.id])?, &body)
        .map_err(|e| located_in(e, &origin))?;
    let diagnostics = items(&checked.body, "diagnostics");
    if output.is_json() {
        let mut policy = client
            .get(client.repo(&args.level, &["policies", &current.id])?)?
            .body;
        if !diagnostics.is_empty() {
            set(&mut policy, "diagnostics", json!(diagnostics));
        }
        output.json(&policy);
        return Ok(ExitCode::SUCCESS);
    }
    output.line(&format!(
        "updated policy `{}` ({})",
        field(&body, "name").as_str().unwrap_or_default(),
        current.id
    ));
    warn(output, &origin, diagnostics);
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
    let reply = client.get(client.repo(&args.level, &["policies", &found.id])?)?;
    if output.is_json() {
        output.json(&reply.body);
        return Ok(ExitCode::SUCCESS);
    }
    let policy = &reply.body;
    output.text(&fields(&[
        ("name", text(policy, "name")),
        ("uuid", text(policy, "uuid")),
        ("level", level_of(policy)),
        ("description", text(policy, "description")),
    ]));
    output.line("");
    let statements = text(policy, "statementQuery");
    output.text(&statements);
    if !statements.ends_with('\n') {
        output.line("");
    }
    Ok(ExitCode::SUCCESS)
}

pub fn delete(args: DeleteArgs, output: &mut Output) -> Result<ExitCode, CliError> {
    let client = Client::connect(&args.connection)?;
    let found = resolve::policy_at(&client, &args.level, &args.policy)?;
    let mut url = client.repo(&args.level, &["policies", &found.id])?;
    if args.force {
        url = with_query(url, &[("force", "true")]);
    }
    let reply = client.delete(url).map_err(|mut e| {
        if e.code == "conflict" && !args.force {
            e.help = Some("unbind it first, or delete it with its bindings: `--force`".to_owned());
        }
        e
    })?;
    if output.is_json() {
        output.json(&written(
            &reply,
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
fn warn(output: &mut Output, origin: &str, diagnostics: &[Value]) {
    for diagnostic in diagnostics {
        let mut line = format!(
            "{origin}:{}:{}: {} [{}]",
            field(field(diagnostic, "start"), "line"),
            field(field(diagnostic, "start"), "column"),
            text(diagnostic, "message"),
            text(diagnostic, "code"),
        );
        if let Some(help) = field(diagnostic, "help").as_str() {
            line.push_str(&format!("\n  help: {help}"));
        }
        output.warning(&line);
    }
}
