//! One module per `warden` subcommand; the client commands share [`client`] (the connection to
//! a server), [`resolve`] (names to ids) and [`values`] (levels, pairs, JSON fields).

pub mod admin;
pub mod audit;
pub mod authorize;
pub mod bind;
pub mod boundary;
pub mod catalogue;
pub mod client;
pub mod config;
pub mod effective;
pub mod environment;
pub mod group;
pub mod health;
pub mod oauth;
pub mod oauth_client;
pub mod policy;
pub mod policy_client;
pub mod residual;
pub mod resolve;
pub mod serve;
pub mod service_user;
pub mod service_user_lifecycle;
pub mod store;
pub mod suggest;
pub mod test;
pub mod token;
pub mod user;
pub mod values;
pub mod workflow;
pub mod world;
pub mod world_sync;

use std::io::Read;
use std::path::Path;

use crate::output::CliError;

/// Reads a file, or standard input for `-`.
pub fn read_input(path: &Path) -> Result<String, CliError> {
    if path.as_os_str() == "-" {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| CliError::new("io", format!("cannot read standard input: {e}")))?;
        return Ok(text);
    }
    let bytes = std::fs::read(path).map_err(|e| {
        CliError::new("io", format!("cannot read `{}`: {e}", path.display()))
            .with_help("check the path and its permissions")
    })?;
    String::from_utf8(bytes).map_err(|e| {
        CliError::new(
            "encoding",
            format!(
                "`{}` is not UTF-8 text (invalid byte at offset {})",
                path.display(),
                e.utf8_error().valid_up_to()
            ),
        )
        .with_help("save the file as UTF-8")
    })
}

/// The built-in catalogue plus the custom service files given with `--catalogue`.
pub fn load_catalogue(extra: &[std::path::PathBuf]) -> Result<warden_policy::Catalogue, CliError> {
    let mut files = Vec::new();
    for path in extra {
        files.push((path.display().to_string(), read_input(path)?));
    }
    warden_engine::builtin::load_catalogue(&files).map_err(|errors| {
        let lines: Vec<String> = errors.iter().map(ToString::to_string).collect();
        CliError::new(
            "catalogue",
            format!("the catalogue is invalid:\n  {}", lines.join("\n  ")),
        )
        .with_help("fix the service files given with `--catalogue`")
    })
}
