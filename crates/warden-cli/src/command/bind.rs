//! `warden bind`, `warden unbind` and `warden bindings`: policies bound to groups at a level, with
//! parameters and boundaries. Policies, groups and boundaries are named by id or name; a policy
//! may be any one visible at the level (global, account, or the environment's own).
//!
//! `--param name=value` sets a bind parameter; giving the same name again makes it a list
//! (`--param zone=a --param zone=b` is `zone=("a", "b")`).

use std::collections::BTreeMap;
use std::process::ExitCode;

use serde_json::{Value, json};
use warden_api::bindings::BindingInput;
use warden_client::pending::{BindingFilter, LevelBindings, PolicyBinding};

use crate::command::client::{Client, Connection, written_answer};
use crate::command::resolve::{self, Named};
use crate::command::values::{Level, describe_pairs, key_value, pairs_map, pairs_object};
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
    /// Why the binding is needed, kept with it (metadata `justification`) and in the audit
    /// log; required when the policy grants an `iam:` write permission or is a global Admin
    /// policy and the group has a service user in it.
    #[arg(long, value_name = "TEXT")]
    justification: Option<String>,
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
    let binding = BindingInput {
        parameters: pairs_map(&args.params),
        metadata: args
            .justification
            .iter()
            .map(|text| ("justification".to_owned(), text.clone()))
            .collect(),
        boundaries: boundaries.iter().map(|b| b.id.clone()).collect(),
    };
    let level = client.level(&args.level)?;
    let reply = client.call(client.typed().bind(&level, &policy.id, &group.id, &binding))?;
    if output.is_json() {
        let (level_type, level_id) = client.level_parts(&args.level)?;
        let boundaries: Vec<Value> = boundaries
            .iter()
            .map(|b| json!({ "uuid": b.id, "name": b.name }))
            .collect();
        output.json(&written_answer(
            &reply,
            json!({
                "policy": { "uuid": policy.id, "name": policy.name },
                "group": { "uuid": group.id, "name": group.name },
                "levelType": level_type,
                "levelId": level_id,
                "parameters": parameters,
                "boundaries": boundaries,
                "justification": args.justification,
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
    let filter = BindingFilter {
        parameters: args.params.iter().cloned().collect(),
        metadata: BTreeMap::new(),
        force_multiple: args.all,
    };
    let level = client.level(&args.level)?;
    let request = client
        .typed()
        .unbind(&level, &policy.id, Some(&group.id), &filter);
    let reply = client.call(request).map_err(|mut e| {
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
        output.json(&written_answer(
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
    let level = client.level(&args.level)?;
    let at_level = client.call(client.typed().bindings(&level))?.body;
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
    let mut selected: Vec<PolicyBinding> = Vec::new();
    for binding in &at_level.policy_bindings {
        if only_policy
            .as_ref()
            .is_some_and(|p| *p != binding.policy_uuid)
        {
            continue;
        }
        for group in &binding.groups {
            if only_group.as_ref().is_some_and(|g| g != group) {
                continue;
            }
            selected.push(PolicyBinding {
                groups: vec![group.clone()],
                ..binding.clone()
            });
        }
    }
    if output.is_json() {
        output.json(&LevelBindings {
            policy_bindings: selected,
            ..at_level
        });
        return Ok(ExitCode::SUCCESS);
    }
    if selected.is_empty() {
        output.line(&format!("no bindings at {}", args.level));
        return Ok(ExitCode::SUCCESS);
    }
    let boundaries = if selected.iter().any(|b| !b.boundaries.is_empty()) {
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
            let group = b.groups.first().map_or("", String::as_str);
            let bounded: Vec<String> = b
                .boundaries
                .iter()
                .map(|id| name_of(&boundaries, id))
                .collect();
            let parameters = serde_json::to_value(&b.parameters).unwrap_or(Value::Null);
            vec![
                name_of(&policies, &b.policy_uuid),
                name_of(&groups, group),
                describe_pairs(&parameters),
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
