//! `warden suggest-policy PRINCIPAL [--days N]`: the smallest policy that allows every request a
//! service user made in the window, as a policy file — the diff against what it holds today and
//! the impact of switching follow as comment lines, so the output passes `warden policy check`
//! as it is. `--format json` prints the server's answer.

use std::process::ExitCode;

use warden_api::service_users::SuggestedPolicy;

use crate::command::client::{Client, Connection};
use crate::output::{CliError, Output};

#[derive(Debug, clap::Args)]
pub struct SuggestArgs {
    /// The service user: a handle, uid or email.
    principal: String,
    /// Consider the allowed requests of this many days back (1 to 36500; default: all the server
    /// keeps).
    #[arg(long, value_parser = clap::value_parser!(i64).range(1..=36_500))]
    days: Option<i64>,
    #[command(flatten)]
    connection: Connection,
}

pub fn run(args: SuggestArgs, output: &mut Output) -> Result<ExitCode, CliError> {
    let client = Client::connect(&args.connection)?;
    let suggestion = client
        .call(
            client
                .typed()
                .suggested_policy(client.account()?, &args.principal, args.days),
        )?
        .body;
    if output.is_json() {
        output.json(&suggestion);
    } else {
        output.text(&render(&suggestion));
    }
    Ok(ExitCode::SUCCESS)
}

fn list(label: &str, permissions: &[String]) -> String {
    if permissions.is_empty() {
        format!("//   {label}: none\n")
    } else {
        format!("//   {label}: {}\n", permissions.join(", "))
    }
}

/// The policy, then the diff and the impact as comment lines.
pub fn render(suggestion: &SuggestedPolicy) -> String {
    let mut out = suggestion.policy.clone();
    out.push_str("//\n// Against what it holds today:\n");
    out.push_str(&list("kept", &suggestion.diff.kept));
    out.push_str(&list("removed (unused)", &suggestion.diff.removed));
    out.push_str(&list("added", &suggestion.diff.added));
    let impact = &suggestion.impact;
    out.push_str(
        "// Switching (this policy bound at account level to its own group, in place of that group's bindings and its other groups):\n",
    );
    if impact.total_changes == 0 {
        out.push_str("//   no answer changes for any principal\n");
        return out;
    }
    out.push_str(&format!(
        "//   {} principal(s) affected, {} change(s)\n",
        impact.affected_principals, impact.total_changes
    ));
    for change in &impact.changes {
        let what = match change.change.as_str() {
            "gains" => "gains",
            "loses" => "loses",
            _ => "conditions change for",
        };
        out.push_str(&format!(
            "//   {} {what} {} at {}\n",
            change.email, change.permission, change.level
        ));
    }
    if impact.hidden_changes > 0 {
        out.push_str(&format!(
            "//   {} more change(s) of principals whose permissions you may not read\n",
            impact.hidden_changes
        ));
    }
    out
}
