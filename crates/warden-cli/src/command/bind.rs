//! `warden bind`, `warden unbind` and `warden bindings`: policies bound to groups at a level, with
//! parameters and boundaries. Policies, groups and boundaries are named by id or name; a policy
//! may be any one visible at the level (global, account, or the environment's own).
//!
//! `--param name=value` sets a bind parameter; giving the same name again makes it a list
//! (`--param zone=a --param zone=b` is `zone=("a", "b")`).

use std::process::ExitCode;

use serde_json::{Value, json};

use crate::command::client::{Client, Connection, with_query, written};
use crate::command::resolve::{self, Named};
use crate::command::values::{Level, describe_pairs, field, items, key_value, pairs_object, text};
use crate::output::{CliError, Output, table};

#[derive(Debug, clap::Args)]
pub struct BindArgs {
    /// The policy's id or name.
    policy: String,
    /// The group's uuid or name.
    group: String,
    /// `account` or `environment:ID`.
    #[arg(long, default_value = "account")]
    level: Level,
    /// A bind parameter `name=value`; repeat a name to give a list.
    #[arg(long = "param", value_name = "NAME=VALUE", value_parser = key_value)]
    params: Vec<(String, String)>,
    /// A boundary (uuid or name) that limits the binding; repeatable.
    #[arg(long = "boundary", value_name = "BOUNDARY")]
    boundaries: Vec<String>,
    #[command(flatten)]
    connection: Connection,
}

#[derive(Debug, clap::Args)]
pub struct UnbindArgs {
    /// The policy's id or name.
    policy: String,
    /// The group's uuid or name.
    group: String,
    /// `account` or `environment:ID`.
    #[arg(long, default_value = "account")]
    level: Level,
    /// Only the binding with this parameter value (`name=value`; repeatable).
    #[arg(long = "param", value_name = "NAME=VALUE", value_parser = key_value)]
    params: Vec<(String, String)>,
    /// Remove every matching binding when several do (different parameters).
    #[arg(long)]
    all: bool,
    #[command(flatten)]
    connection: Connection,
}

#[derive(Debug, clap::Args)]
pub struct BindingsArgs {
    /// `account`, `environment:ID` or `global`.
    #[arg(long, default_value = "account")]
    level: Level,
    /// Only the bindings of this group (uuid or name).
    #[arg(long)]
    group: Option<String>,
    /// Only the bindings of this policy (id or name).
    #[arg(long)]
    policy: Option<String>,
    #[command(flatten)]
    connection: Connection,
}

pub fn bind(args: BindArgs, output: &mut Output) -> Result<ExitCode, CliError> {
    let client = Client::connect(&args.connection)?;
    let policy = resolve::policy_visible(&client, &args.level, &args.policy)?;
    let group = resolve::group(&client, &args.group)?;
    let boundaries: Vec<Named> = if args.boundaries.is_empty() {
        Vec::new()
    } else {
        let all = resolve::boundaries(&client)?;
        args.boundaries
            .iter()
            .map(|b| resolve::pick("boundary", b, &all, "warden boundary list"))
            .collect::<Result<_, _>>()?
    };
    let parameters = pairs_object(&args.params);
    let boundary_ids: Vec<&str> = boundaries.iter().map(|b| b.id.as_str()).collect();
    let body = json!({ "parameters": parameters, "boundaries": boundary_ids });
    let url = client.repo(&args.level, &["bindings", &policy.id, &group.id])?;
    let reply = client.post(url, &body)?;
    if output.is_json() {
        let (level_type, level_id) = client.level_parts(&args.level)?;
        let boundaries: Vec<Value> = boundaries
            .iter()
            .map(|b| json!({ "uuid": b.id, "name": b.name }))
            .collect();
        output.json(&written(
            &reply,
            json!({
                "policy": { "uuid": policy.id, "name": policy.name },
                "group": { "uuid": group.id, "name": group.name },
                "levelType": level_type,
                "levelId": level_id,
                "parameters": parameters,
                "boundaries": boundaries,
                "warnings": reply.warnings,
            }),
        ));
        return Ok(ExitCode::SUCCESS);
    }
    let mut line = format!(
        "bound policy `{}` to group `{}` at {}",
        policy.name, group.name, args.level
    );
    if !args.params.is_empty() {
        line.push_str(&format!(" with {}", describe_pairs(&parameters)));
    }
    if !boundaries.is_empty() {
        let names: Vec<String> = boundaries.iter().map(|b| format!("`{}`", b.name)).collect();
        line.push_str(&format!(" within {}", names.join(", ")));
    }
    output.line(&line);
    for warning in &reply.warnings {
        output.warning(warning);
    }
    Ok(ExitCode::SUCCESS)
}

pub fn unbind(args: UnbindArgs, output: &mut Output) -> Result<ExitCode, CliError> {
    let client = Client::connect(&args.connection)?;
    let policy = resolve::policy_visible(&client, &args.level, &args.policy)?;
    let group = resolve::group(&client, &args.group)?;
    let keys: Vec<String> = args
        .params
        .iter()
        .map(|(k, _)| format!("parameters[{k}]"))
        .collect();
    let mut query: Vec<(&str, &str)> = keys
        .iter()
        .zip(&args.params)
        .map(|(key, (_, value))| (key.as_str(), value.as_str()))
        .collect();
    if args.all {
        query.push(("forceMultiple", "true"));
    }
    let url = with_query(
        client.repo(&args.level, &["bindings", &policy.id, &group.id])?,
        &query,
    );
    let reply = client.delete(url).map_err(|mut e| {
        if e.message.contains("bindings match") {
            e.help = Some(
                "pick one with `--param name=value`, or remove them all with `--all`".to_owned(),
            );
        } else if e.code == "not_found" && e.message == "no binding matches" {
            e.message = format!(
                "policy `{}` is not bound to group `{}` at {}",
                policy.name, group.name, args.level
            );
            e.help = Some("list the bindings with `warden bindings`".to_owned());
        }
        e
    })?;
    if output.is_json() {
        output.json(&written(
            &reply,
            json!({
                "unbound": {
                    "policy": { "uuid": policy.id, "name": policy.name },
                    "group": { "uuid": group.id, "name": group.name },
                    "level": args.level.to_string(),
                }
            }),
        ));
    } else {
        output.line(&format!(
            "unbound policy `{}` from group `{}` at {}",
            policy.name, group.name, args.level
        ));
    }
    Ok(ExitCode::SUCCESS)
}

pub fn bindings(args: BindingsArgs, output: &mut Output) -> Result<ExitCode, CliError> {
    let client = Client::connect(&args.connection)?;
    let reply = client.get(client.repo(&args.level, &["bindings"])?)?;
    let policies = resolve::policies(&client, &args.level, true)?;
    let groups = resolve::groups(&client)?;
    let only_group = match &args.group {
        Some(wanted) => Some(resolve::pick("group", wanted, &groups, "warden group list")?.id),
        None => None,
    };
    let only_policy = match &args.policy {
        Some(wanted) => Some(resolve::pick("policy", wanted, &policies, "warden policy list")?.id),
        None => None,
    };
    let mut selected: Vec<Value> = Vec::new();
    for binding in items(&reply.body, "policyBindings") {
        let policy = text(binding, "policyUuid");
        if only_policy.as_ref().is_some_and(|p| *p != policy) {
            continue;
        }
        for group in items(binding, "groups") {
            let group = group.as_str().unwrap_or_default();
            if only_group.as_ref().is_some_and(|g| g != group) {
                continue;
            }
            let mut one = binding.clone();
            crate::command::values::set(&mut one, "groups", json!([group]));
            selected.push(one);
        }
    }
    if output.is_json() {
        let mut document = reply.body.clone();
        crate::command::values::set(&mut document, "policyBindings", json!(selected));
        output.json(&document);
        return Ok(ExitCode::SUCCESS);
    }
    if selected.is_empty() {
        output.line(&format!("no bindings at {}", args.level));
        return Ok(ExitCode::SUCCESS);
    }
    let boundaries = if selected.iter().any(|b| !items(b, "boundaries").is_empty()) {
        resolve::boundaries(&client)?
    } else {
        Vec::new()
    };
    let name_of = |all: &[Named], id: &str| {
        all.iter()
            .find(|n| n.id == id)
            .map_or_else(|| id.to_owned(), |n| n.name.clone())
    };
    let mut rows: Vec<Vec<String>> = selected
        .iter()
        .map(|b| {
            let group = items(b, "groups")
                .first()
                .and_then(Value::as_str)
                .unwrap_or_default();
            let bounded: Vec<String> = items(b, "boundaries")
                .iter()
                .map(|id| name_of(&boundaries, id.as_str().unwrap_or_default()))
                .collect();
            vec![
                name_of(&policies, &text(b, "policyUuid")),
                name_of(&groups, group),
                describe_pairs(field(b, "parameters")),
                bounded.join(", "),
            ]
        })
        .collect();
    rows.sort();
    output.text(&table(
        &["POLICY", "GROUP", "PARAMETERS", "BOUNDARIES"],
        &rows,
    ));
    Ok(ExitCode::SUCCESS)
}
