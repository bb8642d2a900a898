//! `warden`: the Warden command. `warden serve` runs the service; the other commands work on
//! policy files, run policy tests and talk to a running server (`--server`, `--token`), except the
//! operator's `warden audit verify` and `warden admin recover`, which work on the store (`--db`).
//!
//! Exit codes: 0 success, 1 the checked input has findings (invalid policy, unformatted file,
//! failed test case, an audit log that does not verify) or the server (for `warden admin
//! recover`, the store) refused the request, 2 the command itself could not run (bad
//! usage, unreadable file, unreachable server), 3 `warden authorize` (or `warden workflow
//! authorize-task`) got DENY, or `warden residual` a residual that is `false`.

mod command;
mod output;
mod settings;
mod telemetry;

use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand};

use crate::output::{Output, OutputFormat};

#[derive(Debug, Parser)]
#[command(
    name = "warden",
    version,
    about = "Warden: identity and access management for platforms",
    after_help = "Client commands reach the server given with `--server` (or `WARDEN_URL`, default \
                  http://127.0.0.1:8080) with the token of `--token`, `--token-file` or \
                  `WARDEN_TOKEN` (default: the file `warden-admin-token` here)."
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
    /// The settings of `warden serve`: check, print the effective values, or document them.
    #[command(subcommand)]
    Config(command::config::ConfigCommand),
    /// Check and format policy files; create, list, show, update and delete policies on a server.
    #[command(subcommand)]
    Policy(command::policy::PolicyCommand),
    /// Run policy test files (exit 1 when a case fails, 2 when a file is invalid).
    Test(command::test::TestArgs),
    /// Write the account as a world file (configuration as code).
    Export(command::world::ExportArgs),
    /// Say what `warden apply` would change (exit 0 nothing, 2 changes).
    Plan(command::world::PlanArgs),
    /// Make the account as a world file describes it, through the API.
    Apply(command::world::ApplyArgs),
    /// Groups of the account.
    Group(command::group::GroupArgs),
    /// Users and their groups.
    User(command::user::UserArgs),
    /// Service users.
    ServiceUser(command::service_user::ServiceUserArgs),
    /// OAuth clients (client credentials): create, rotate and revoke secrets.
    OauthClient(command::oauth_client::OAuthClientArgs),
    /// OAuth: get an access token for a client.
    #[command(subcommand)]
    Oauth(command::oauth::OAuthCommand),
    /// Platform tokens: create, list, revoke, disable, enable.
    Token(command::token::TokenArgs),
    /// Bind a policy to a group at a level, with parameters and boundaries.
    Bind(command::bind::BindArgs),
    /// Remove the binding of a policy to a group at a level.
    Unbind(command::bind::UnbindArgs),
    /// List the bindings at a level.
    Bindings(command::bind::BindingsArgs),
    /// Policy boundaries.
    Boundary(command::boundary::BoundaryArgs),
    /// Environments of the account.
    Environment(command::environment::EnvironmentArgs),
    /// Ask for a decision: prints ALLOW or DENY and why (exit 0 ALLOW, 3 DENY).
    Authorize(command::authorize::AuthorizeArgs),
    /// The condition the free attributes must meet to be allowed, as text, JSON or SQL (exit 0
    /// ALLOW or CONDITIONAL, 3 DENY).
    Residual(command::residual::ResidualArgs),
    /// The effective permissions of a user or a group.
    Effective(command::effective::EffectiveArgs),
    /// The smallest policy that allows every request a service user made (with its diff and
    /// the impact of switching to it).
    SuggestPolicy(command::suggest::SuggestArgs),
    /// The permission catalogue; register custom services.
    Catalogue(command::catalogue::CatalogueArgs),
    /// Workflows: owner, visibility, actor; decide a task as the actor; your consent.
    Workflow(command::workflow::WorkflowArgs),
    /// The audit log: list entries from a server, verify the hash chain of a store.
    #[command(subcommand)]
    Audit(command::audit::AuditCommand),
    /// Operator commands run on the store: restore an administrator when none is left.
    #[command(subcommand)]
    Admin(command::admin::AdminCommand),
    /// Back up an SQLite store while it is in use (a consistent copy, checked once written).
    Backup(command::store::BackupArgs),
    /// Restore a backup (its audit chain checked first; migrated if from an older release).
    Restore(command::store::RestoreArgs),
    /// Schema migrations of a store: `warden migrate status`.
    #[command(subcommand)]
    Migrate(command::store::MigrateCommand),
    /// Ask a server's `/health` (no token needed): exit 0 healthy, 1 not, 2 unreachable.
    Health(command::health::HealthArgs),
    /// Print shell completions (`warden completions bash > /etc/bash_completion.d/warden`).
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (`warden man > /usr/local/share/man/man1/warden.1`).
    Man,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let mut output = Output::stdout(cli.format);
    if cli.format == OutputFormat::Sql && !matches!(cli.command, Command::Residual(_)) {
        // Only a residual has an SQL form; errors are then written as text.
        let error = output::CliError::new("usage", "`--format sql` is only for `warden residual`")
            .with_help("use `--format human` or `--format json`");
        output.error(&error);
        return ExitCode::from(error.exit);
    }
    if cli.format == OutputFormat::Csv
        && !matches!(&cli.command, Command::ServiceUser(args) if args.is_review())
    {
        let error = output::CliError::new(
            "usage",
            "`--format csv` is only for `warden service-user review`",
        )
        .with_help("use `--format human` or `--format json`");
        output.error(&error);
        return ExitCode::from(error.exit);
    }
    let result = match cli.command {
        Command::Policy(command) => command::policy::run(command, &mut output),
        Command::Test(args) => command::test::run(args, &mut output),
        Command::Serve(args) => command::serve::run(args, &mut output),
        Command::Config(command) => command::config::run(command, &mut output),
        Command::Audit(command) => command::audit::run(command, &mut output),
        Command::Admin(command) => command::admin::run(command, &mut output),
        Command::Export(args) => command::world::export(args, &mut output),
        Command::Plan(args) => command::world::plan(args, &mut output),
        Command::Apply(args) => command::world::apply(args, &mut output),
        Command::Group(args) => command::group::run(args, &mut output),
        Command::User(args) => command::user::run(args, &mut output),
        Command::ServiceUser(args) => command::service_user::run(args, &mut output),
        Command::OauthClient(args) => command::oauth_client::run(args, &mut output),
        Command::Oauth(command) => command::oauth::run(command, &mut output),
        Command::Token(args) => command::token::run(args, &mut output),
        Command::Bind(args) => command::bind::bind(args, &mut output),
        Command::Unbind(args) => command::bind::unbind(args, &mut output),
        Command::Bindings(args) => command::bind::bindings(args, &mut output),
        Command::Boundary(args) => command::boundary::run(args, &mut output),
        Command::Environment(args) => command::environment::run(args, &mut output),
        Command::Authorize(args) => command::authorize::run(args, &mut output),
        Command::Residual(args) => command::residual::run(args, &mut output),
        Command::Effective(args) => command::effective::run(args, &mut output),
        Command::SuggestPolicy(args) => command::suggest::run(args, &mut output),
        Command::Catalogue(args) => command::catalogue::run(args, &mut output),
        Command::Workflow(args) => command::workflow::run(args, &mut output),
        Command::Completions { shell } => {
            let mut text = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "warden", &mut text);
            output.text(&String::from_utf8_lossy(&text));
            Ok(ExitCode::SUCCESS)
        }
        Command::Man => man_page(&mut output),
        Command::Health(args) => command::health::run(args, &mut output),
        Command::Backup(args) => command::store::backup(args, &mut output),
        Command::Restore(args) => command::store::restore(args, &mut output),
        Command::Migrate(command) => command::store::migrate(command, &mut output),
    };
    match result {
        Ok(code) => code,
        Err(error) => {
            output.error(&error);
            ExitCode::from(error.exit)
        }
    }
}

/// The man page of `warden` and its commands, in roff.
fn man_page(output: &mut Output) -> Result<ExitCode, output::CliError> {
    let mut page = Vec::new();
    clap_mangen::Man::new(Cli::command())
        .render(&mut page)
        .map_err(|e| output::CliError::new("io", format!("cannot render the man page: {e}")))?;
    output.text(&String::from_utf8_lossy(&page));
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::Cli;

    #[test]
    fn the_command_line_is_well_formed() {
        Cli::command().debug_assert();
    }
}
