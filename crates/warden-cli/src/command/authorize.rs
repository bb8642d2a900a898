//! `warden authorize PRINCIPAL PERMISSION`: asks the server for one decision and prints `ALLOW` or
//! `DENY` with the reason; `--explain` adds the summary, the deciding statements and, for a
//! default deny, the nearest misses.
//!
//! Exit codes: 0 ALLOW, 3 DENY (so scripts can test a decision), 1 the server refused the
//! request, 2 it could not be made.

use std::process::ExitCode;

use serde_json::Value;
use warden_client::pending::DecisionRequest;

use crate::command::client::Client;
use crate::command::client::Connection;
use crate::command::policy_client::level_of;
use crate::command::values::{field, items, key_value, pairs_map, text};
use crate::output::{CliError, Output};

/// The exit code of a DENY.
pub const DENY_EXIT: u8 = 3;

#[derive(Debug, clap::Args)]
pub struct AuthorizeArgs {
    /// The principal: a uid, an email or a service-user handle.
    principal: String,
    /// The permission, e.g. `storage:logs:read`.
    permission: String,
    /// The environment of the request (omit for an account-level request).
    #[arg(long = "env", value_name = "ENV")]
    environment: Option<String>,
    /// A request attribute `name=value`; repeat a name to give a list.
    #[arg(long = "attr", value_name = "NAME=VALUE", value_parser = key_value)]
    attributes: Vec<(String, String)>,
    /// The time of the request (RFC 3339; default: now).
    #[arg(long, value_name = "RFC3339")]
    time: Option<String>,
    /// Say why: the deciding statements, or the nearest misses of a deny.
    #[arg(long)]
    explain: bool,
    #[command(flatten)]
    connection: Connection,
}

pub fn run(args: AuthorizeArgs, output: &mut Output) -> Result<ExitCode, CliError> {
    let client = Client::connect(&args.connection)?;
    let request = DecisionRequest {
        principal: Some(args.principal),
        permission: args.permission,
        environment: args.environment,
        attributes: pairs_map(&args.attributes),
        time: args.time,
        ..DecisionRequest::default()
    };
    let decision = client
        .call(client.typed().authorize(&request, args.explain))?
        .body;
    let allowed = decision.decision == "ALLOW";
    if output.is_json() {
        output.json(&decision);
    } else {
        let reason = decision.reason.as_str();
        output.line(&format!(
            "{}: {} ({reason})",
            if allowed { "ALLOW" } else { "DENY" },
            sentence(reason)
        ));
        if let Some(explanation) = &decision.explanation {
            print_explanation(explanation, output);
        }
    }
    Ok(if allowed {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(DENY_EXIT)
    })
}

pub fn sentence(reason: &str) -> &str {
    match reason {
        "allowed" => "an ALLOW statement applies and no DENY statement does",
        "denied-by-statement" => "a DENY statement applies",
        "no-matching-allow" => "no ALLOW statement applies",
        "unknown-principal" => "there is no such principal",
        "inactive-principal" => "the principal is deactivated",
        "unknown-permission" => "the permission is not in the catalogue",
        "unknown-environment" => "there is no such environment",
        other => other,
    }
}

fn print_explanation(explanation: &Value, output: &mut Output) {
    output.line(&format!("  {}", text(explanation, "summary")));
    print_statements(explanation, output);
}

/// The deciding statements of an explanation, then its nearest misses.
pub fn print_statements(explanation: &Value, output: &mut Output) {
    for statement in items(explanation, "deciding") {
        output.line(&format!("  deciding: {}", cite(statement)));
    }
    for near in items(explanation, "nearest") {
        let failed = field(near, "failed");
        output.line(&format!(
            "  near miss: {}: `{}` fails: {}",
            cite(near),
            text(failed, "condition"),
            text(failed, "why")
        ));
    }
}

/// `` `ALLOW …;` of policy `P`, group `G`, bound at account with boundary `B` ``.
fn cite(statement: &Value) -> String {
    let mut out = format!(
        "`{}` of policy `{}`, group `{}`, bound at {}",
        text(statement, "statement"),
        text(field(statement, "policy"), "name"),
        text(field(statement, "group"), "name"),
        level_of(field(statement, "level"))
    );
    if field(statement, "boundary").is_object() {
        out.push_str(&format!(
            " with boundary `{}`",
            text(field(statement, "boundary"), "name")
        ));
    }
    out
}
