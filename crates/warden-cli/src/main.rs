//! `warden`: the Warden command. `warden serve` runs the service; the other commands work on
//! policy files, run policy tests and talk to a running server.
//!
//! Exit codes: 0 success, 1 the checked input has findings (invalid policy, unformatted file,
//! failed test case), 2 the command itself could not run (bad usage, unreadable file).

mod command;
mod output;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::output::{Output, OutputFormat};

#[derive(Debug, Parser)]
#[command(
    name = "warden",
    version,
    about = "Warden: identity and access management for platforms"
)]
struct Cli {
    /// How results and errors are printed.
    #[arg(long, global = true, value_enum, default_value_t = OutputFormat::Human)]
    format: OutputFormat,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the Warden service (creates `./warden.db` and an administrator on first start).
    Serve(command::serve::ServeArgs),
    /// Check and format policy files.
    #[command(subcommand)]
    Policy(command::policy::PolicyCommand),
    /// Run policy test files (exit 1 when a case fails, 2 when a file is invalid).
    Test(command::test::TestArgs),
    /// Audit log tools.
    #[command(subcommand)]
    Audit(command::audit::AuditCommand),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let mut output = Output::stdout(cli.format);
    let result = match cli.command {
        Command::Policy(command) => command::policy::run(command, &mut output),
        Command::Test(args) => command::test::run(args, &mut output),
        Command::Serve(args) => command::serve::run(args, &mut output),
        Command::Audit(command) => command::audit::run(command, &mut output),
    };
    match result {
        Ok(code) => code,
        Err(error) => {
            output.error(&error);
            ExitCode::from(2)
        }
    }
}
