//! `warden effective USER` / `warden effective --group G`: what a user or a group may do, at
//! account level or in one environment (`--env`, account-level bindings included): one row per
//! permission and effect variant, with its conditions and the policies and groups it comes from.

use std::process::ExitCode;

use serde_json::{Value, json};

use warden_client::pending::EffectiveQuery;

use crate::command::client::{Client, Connection};
use crate::command::resolve;
use crate::command::values::{Level, field, items, set, text};
use crate::output::{CliError, Output, plural, table};

/// The page size asked for; every page is fetched.
const PAGE: usize = 1000;

#[derive(Debug, clap::Args)]
pub struct EffectiveArgs {
    /// The user: an email, uid or service-user handle.
    #[arg(required_unless_present = "group", conflicts_with = "group")]
    user: Option<String>,
    /// A group (uuid or name) instead of a user.
    #[arg(long)]
    group: Option<String>,
    /// In this environment (default: at account level).
    #[arg(long = "env", value_name = "ENV")]
    environment: Option<String>,
    /// Only the permissions of this service (repeatable).
    #[arg(long = "service", value_name = "SERVICE")]
    services: Vec<String>,
    #[command(flatten)]
    connection: Connection,
}

pub fn run(args: EffectiveArgs, output: &mut Output) -> Result<ExitCode, CliError> {
    let client = Client::connect(&args.connection)?;
    // For a user, the group names only label the rows: a token that may not list groups still
    // gets the table, with group uuids.
    let groups = match &args.group {
        Some(_) => resolve::groups(&client)?,
        None => resolve::groups(&client).unwrap_or_default(),
    };
    let (entity_type, entity_id, who) = match (&args.user, &args.group) {
        (_, Some(group)) => {
            let found = resolve::pick("group", group, &groups, "warden group list")?;
            ("group", found.id, format!("group `{}`", found.name))
        }
        (Some(user), None) => ("user", user.clone(), format!("`{user}`")),
        (None, None) => {
            return Err(CliError::new(
                "usage",
                "name a user, or a group with `--group`",
            ));
        }
    };
    let level = args
        .environment
        .clone()
        .map_or(Level::Account, Level::Environment);
    let at = client.level(&level)?;
    let mut permissions: Vec<Value> = Vec::new();
    let mut page = 1usize;
    loop {
        let query = EffectiveQuery {
            entity_type: entity_type.to_owned(),
            entity_id: entity_id.clone(),
            services: args.services.clone(),
            page: Some(page),
            size: Some(PAGE),
        };
        let found = client
            .call(client.typed().effective_permissions(&at, &query))?
            .body;
        let batch = found.effective_permissions;
        let empty = batch.is_empty();
        permissions.extend(
            batch
                .iter()
                .map(|p| serde_json::to_value(p).unwrap_or(Value::Null)),
        );
        if empty || permissions.len() >= found.total_count {
            break;
        }
        page += 1;
    }
    if output.is_json() {
        let mut document = json!({ "effectivePermissions": permissions });
        set(&mut document, "totalCount", json!(permissions.len()));
        output.json(&document);
        return Ok(ExitCode::SUCCESS);
    }
    if permissions.is_empty() {
        output.line(&format!("{who} has no effective permissions at {level}"));
        return Ok(ExitCode::SUCCESS);
    }
    let group_name = |id: &str| {
        groups
            .iter()
            .find(|g| g.id == id)
            .map_or_else(|| id.to_owned(), |g| g.name.clone())
    };
    let mut rows = Vec::new();
    for permission in &permissions {
        for variant in items(permission, "effects") {
            let conditions: Vec<String> = items(variant, "conditions")
                .iter()
                .map(condition_text)
                .collect();
            let sources: Vec<String> = items(variant, "effectivePolicies")
                .iter()
                .map(|source| {
                    let mut from = format!(
                        "{} via {}",
                        text(field(source, "policy"), "name"),
                        group_name(&text(field(source, "binding"), "groupUuid"))
                    );
                    if let Some(boundary) = field(source, "boundary").as_str() {
                        from.push_str(&format!(" within {boundary}"));
                    }
                    from
                })
                .collect();
            rows.push(vec![
                text(permission, "permission"),
                text(variant, "effect"),
                if conditions.is_empty() {
                    "-".to_owned()
                } else {
                    conditions.join(" AND ")
                },
                sources.join("; "),
            ]);
        }
    }
    output.text(&table(
        &["PERMISSION", "EFFECT", "CONDITIONS", "FROM"],
        &rows,
    ));
    output.line(&format!(
        "{} for {who} at {level}",
        plural(permissions.len(), "permission")
    ));
    Ok(ExitCode::SUCCESS)
}

/// A `{name, operator, values}` condition as policy text: `name startsWith "x"`.
fn condition_text(condition: &Value) -> String {
    let operator = text(condition, "operator");
    let symbol = match operator.as_str() {
        "EQ" => "=",
        "NOT_EQ" => "!=",
        "LT" => "<",
        "GT" => ">",
        "NOT_IN" => "NOT IN",
        "STARTS_WITH" => "startsWith",
        "NOT_STARTS_WITH" => "NOT startsWith",
        other => other,
    };
    let values: Vec<String> = items(condition, "values")
        .iter()
        .map(|v| format!("{:?}", v.as_str().unwrap_or_default()))
        .collect();
    let operand = if values.len() == 1 && !matches!(operator.as_str(), "IN" | "NOT_IN") {
        values.concat()
    } else {
        format!("({})", values.join(", "))
    };
    format!("{} {symbol} {operand}", text(condition, "name"))
}
