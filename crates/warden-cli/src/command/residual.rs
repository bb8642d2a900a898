//! `warden residual PRINCIPAL PERMISSION`: asks the server for the residual — the condition the
//! attributes the request leaves free must meet for it to be allowed — and prints it readably
//! (default), as the server's JSON (`--format json`), or as a parameterised SQL `WHERE` clause
//! and its parameters (`--format sql`, with `--column NAME=COLUMN` for each attribute it tests
//! and `--dialect`). The rendering is the engine's (`warden_engine::residual::{text, sql}`).
//!
//! Exit codes as `warden authorize`: 0 ALLOW or CONDITIONAL, 3 DENY (the residual is `false`),
//! 1 the server refused the request, 2 it could not be made (or the SQL could not be written).

use std::collections::BTreeMap;
use std::process::ExitCode;

use warden_api::decisions::{AttributeValue, Attributes};
use warden_api::residuals::{Operator, Predicate, ResidualDecision, ResidualRequest};
use warden_engine::residual::{self, sql};

use crate::command::authorize::DENY_EXIT;
use crate::command::client::{Client, Connection};
use crate::command::values::key_value;
use crate::output::{CliError, Output, OutputFormat};

/// The SQL dialect of `--format sql`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

#[derive(Debug, clap::Args)]
pub struct ResidualArgs {
    /// The principal: a uid, an email or a service-user handle.
    principal: String,
    /// The permission, e.g. `storage:logs:read`.
    permission: String,
    /// The environment of the request (omit for an account-level request).
    #[arg(long = "env", value_name = "ENV")]
    environment: Option<String>,
    /// An attribute to fix, `name=value`; repeat a name to give a list. Every attribute not
    /// given is left to the residual.
    #[arg(long = "attr", value_name = "NAME=VALUE", value_parser = key_value)]
    attributes: Vec<(String, String)>,
    /// The time of the request (RFC 3339; default: now).
    #[arg(long, value_name = "RFC3339")]
    time: Option<String>,
    /// With `--format sql`: the column holding an attribute (one value per row, NULL when the
    /// record does not have it), `name=column`; one for each attribute the residual tests.
    #[arg(long = "column", value_name = "NAME=COLUMN", value_parser = key_value)]
    columns: Vec<(String, String)>,
    /// With `--format sql`: the SQL dialect (placeholders, and how prefixes and patterns match).
    #[arg(long, value_enum, default_value_t = Dialect::Sqlite)]
    dialect: Dialect,
    #[command(flatten)]
    connection: Connection,
}

pub fn run(args: ResidualArgs, output: &mut Output) -> Result<ExitCode, CliError> {
    let client = Client::connect(&args.connection)?;
    let request = ResidualRequest {
        principal: Some(args.principal),
        permission: args.permission,
        environment: args.environment,
        attributes: attributes(&args.attributes),
        time: args.time,
        ..ResidualRequest::default()
    };
    let answer = client
        .call(client.typed().authorize_residual(&request))?
        .body;
    match output.format {
        OutputFormat::Json => output.json(&answer),
        OutputFormat::Sql => {
            let columns: BTreeMap<String, String> = args.columns.into_iter().collect();
            let dialect = match args.dialect {
                Dialect::Sqlite => sql::Dialect::Sqlite,
                Dialect::Postgres => sql::Dialect::Postgres,
            };
            let rendered =
                sql::render(&engine(&answer.residual), &columns, dialect).map_err(sql_error)?;
            output.line(&format!("WHERE {}", rendered.clause));
            output.line(&format!(
                "parameters: {}",
                serde_json::to_string(&rendered.parameters).unwrap_or_default()
            ));
        }
        OutputFormat::Human | OutputFormat::Csv => {
            let text = residual::text::render(&engine(&answer.residual));
            match answer.decision {
                ResidualDecision::Allow => {
                    output.line("ALLOW: allowed whatever the free attributes are");
                }
                ResidualDecision::Deny => {
                    output.line("DENY: denied whatever the free attributes are");
                }
                ResidualDecision::Conditional => {
                    output.line("CONDITIONAL: allowed when");
                    for line in text.lines() {
                        output.line(&format!("  {line}"));
                    }
                }
            }
        }
    }
    Ok(if answer.decision == ResidualDecision::Deny {
        ExitCode::from(DENY_EXIT)
    } else {
        ExitCode::SUCCESS
    })
}

/// `--attr` pairs as attributes: a name given once is a string, a name repeated a list.
fn attributes(pairs: &[(String, String)]) -> Attributes {
    let mut grouped: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (name, value) in pairs {
        grouped.entry(name.clone()).or_default().push(value.clone());
    }
    grouped
        .into_iter()
        .map(|(name, mut values)| {
            let value = if values.len() == 1 {
                AttributeValue::One(values.pop().unwrap_or_default())
            } else {
                AttributeValue::Many(values)
            };
            (name, value)
        })
        .collect()
}

fn sql_error(error: sql::SqlError) -> CliError {
    let text = error.to_string();
    let (message, help) = text.split_once("\nhelp: ").unwrap_or((&text, ""));
    let error = CliError::new("usage", message);
    if help.is_empty() {
        error
    } else {
        error.with_help(help)
    }
}

/// The wire's predicate as the engine's, to render.
fn engine(predicate: &Predicate) -> residual::Predicate {
    use residual::Predicate as Engine;
    match predicate {
        Predicate::Constant(value) => Engine::Constant(*value),
        Predicate::All { all } => Engine::All {
            all: all.iter().map(engine).collect(),
        },
        Predicate::Any { any } => Engine::Any {
            any: any.iter().map(engine).collect(),
        },
        Predicate::Not { not } => Engine::Not {
            not: Box::new(engine(not)),
        },
        Predicate::Present { present } => Engine::Present {
            present: present.clone(),
        },
        Predicate::Compare(comparison) => Engine::Compare(residual::Comparison {
            attribute: comparison.attribute.clone(),
            operator: operator(comparison.operator),
            values: comparison.values.clone(),
        }),
    }
}

fn operator(operator: Operator) -> residual::ResidualOperator {
    use residual::ResidualOperator as Engine;
    match operator {
        Operator::Eq => Engine::Eq,
        Operator::In => Engine::In,
        Operator::StartsWith => Engine::StartsWith,
        Operator::Match => Engine::Match,
        Operator::NotEq => Engine::NotEq,
        Operator::NotIn => Engine::NotIn,
        Operator::NotStartsWith => Engine::NotStartsWith,
    }
}
