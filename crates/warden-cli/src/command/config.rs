//! `warden config`: the settings `warden serve` would run with — checked, printed (the store's
//! password redacted) or documented — without starting anything.

use std::process::ExitCode;

use serde::Serialize;

use crate::command::serve::ServeArgs;
use crate::output::{CliError, Output};
use crate::settings;

#[derive(Debug, clap::Subcommand)]
pub enum ConfigCommand {
    /// Check the settings (file, environment, flags) as `warden serve` would, and exit.
    Check(ServeArgs),
    /// Print the effective settings and where each came from (secrets redacted).
    Print(ServeArgs),
    /// Print the reference of every setting (Markdown, as in docs/configuration.md).
    Docs,
}

#[derive(Serialize)]
struct Effective {
    key: &'static str,
    value: String,
    origin: String,
}

pub fn run(command: ConfigCommand, output: &mut Output) -> Result<ExitCode, CliError> {
    match command {
        ConfigCommand::Check(args) => {
            args.load()?;
            let file = args
                .config
                .as_ref()
                .map_or("no settings file".to_owned(), |path| {
                    format!("`{}`", path.display())
                });
            if output.is_json() {
                output.json(&serde_json::json!({ "valid": true }));
            } else {
                output.line(&format!("settings are valid ({file})"));
            }
        }
        ConfigCommand::Print(args) => {
            let loaded = args.load()?;
            let effective: Vec<Effective> = settings::print_values(&loaded.settings, true)
                .into_iter()
                .map(|(key, value)| Effective {
                    key,
                    value,
                    origin: loaded.origin(key),
                })
                .collect();
            if output.is_json() {
                output.json(&effective);
            } else {
                for item in &effective {
                    output.line(&format!(
                        "{} = {}    # {}",
                        item.key, item.value, item.origin
                    ));
                }
            }
        }
        ConfigCommand::Docs => output.text(&settings::documentation()),
    }
    Ok(ExitCode::SUCCESS)
}
