//! `warden serve`: runs the service on its store (an SQLite file by default, created on first
//! start) until SIGINT or SIGTERM.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use warden_server::{Config, SystemClock};

use crate::output::{CliError, Output};

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// The store: an SQLite file path, `sqlite://…`, or `postgres://…`.
    #[arg(long, env = "WARDEN_DB", default_value = "warden.db")]
    db: String,
    /// Address to listen on.
    #[arg(long, env = "WARDEN_LISTEN", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Email of the administrator created on first start.
    #[arg(long, default_value = "admin@warden.local")]
    admin_email: String,
    /// Where the first start writes the administrator's token (readable only by you).
    #[arg(long, default_value = "warden-admin-token")]
    token_file: PathBuf,
    /// Domain of service-user emails (`<uid>@service.<domain>`).
    #[arg(long, default_value = "warden.local")]
    domain: String,
    /// An environment that must exist (repeatable); created when missing.
    #[arg(long = "environment", value_name = "ID")]
    environments: Vec<String>,
    /// Extra service definitions for the catalogue (TOML, repeatable).
    #[arg(long = "catalogue", value_name = "FILE")]
    catalogue: Vec<PathBuf>,
    /// Seconds a client may take to send a request's headers, and then its body; slower clients
    /// are cut off (idle keep-alive connections close after it too).
    #[arg(long, env = "WARDEN_READ_TIMEOUT", value_name = "SECONDS", default_value_t = 15,
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    read_timeout: u64,
}

pub fn run(args: ServeArgs, output: &mut Output) -> Result<ExitCode, CliError> {
    let filter = tracing_subscriber::EnvFilter::try_from_env("WARDEN_LOG")
        .unwrap_or_else(|_| "warden=info,warn".into());
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
    let mut catalogue_files = Vec::new();
    for path in &args.catalogue {
        catalogue_files.push((
            path.display().to_string(),
            crate::command::read_input(path)?,
        ));
    }
    let config = Config {
        db: args.db.clone(),
        admin_email: args.admin_email,
        token_file: args.token_file,
        domain: args.domain,
        environments: args.environments,
        catalogue_files,
        read_timeout: std::time::Duration::from_secs(args.read_timeout),
        ..Config::default()
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::new("runtime", format!("cannot start the async runtime: {e}")))?;
    runtime.block_on(serve(config, args.listen, output))
}

async fn serve(
    config: Config,
    listen: SocketAddr,
    output: &mut Output,
) -> Result<ExitCode, CliError> {
    let (state, bootstrapped) = warden_server::start(&config, Arc::new(SystemClock))
        .await
        .map_err(|e| {
            CliError::new("start", e.to_string())
                .with_help("check `--db` and that the store is reachable")
        })?;
    if let Some(first) = &bootstrapped {
        output.line(&format!(
            "first start: created account {} with administrator {}; its token is in `{}` (readable only by you)",
            first.account,
            first.admin_email,
            first.token_file.display()
        ));
    }
    let listener = tokio::net::TcpListener::bind(listen).await.map_err(|e| {
        CliError::new("listen", format!("cannot listen on {listen}: {e}"))
            .with_help("choose another address with `--listen`")
    })?;
    let revision = state.snapshot().revision;
    // The address actually bound: with port 0 the system chose it.
    let listening = listener.local_addr().unwrap_or(listen);
    output.line(&format!(
        "Warden listening on http://{listening} (store `{}`, revision {revision})",
        redact_db(&config.db)
    ));
    warden_server::serve(state, listener, shutdown_signal())
        .await
        .map_err(|e| CliError::new("serve", format!("the server stopped: {e}")))?;
    output.line("Warden stopped");
    Ok(ExitCode::SUCCESS)
}

async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut terminate =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(signal) => signal,
                Err(_) => {
                    let _ = interrupt.await;
                    return;
                }
            };
        tokio::select! {
            _ = interrupt => {}
            _ = terminate.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = interrupt.await;
    }
}

/// The store's address without its password (`postgres://user:***@host/db`), for printing.
fn redact_db(db: &str) -> String {
    let Some((scheme, rest)) = db.split_once("://") else {
        return db.to_owned();
    };
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    let Some((credentials, host)) = authority.rsplit_once('@') else {
        return db.to_owned();
    };
    let Some((user, _password)) = credentials.split_once(':') else {
        return db.to_owned();
    };
    let slash = if rest.contains('/') { "/" } else { "" };
    format!("{scheme}://{user}:***@{host}{slash}{path}")
}

#[cfg(test)]
mod tests {
    use super::redact_db;

    #[test]
    fn the_stores_password_is_never_printed() {
        assert_eq!(
            redact_db("postgres://warden:s3cret@db:5432/warden"),
            "postgres://warden:***@db:5432/warden"
        );
        assert_eq!(
            redact_db("postgres://warden@db/warden"),
            "postgres://warden@db/warden"
        );
        assert_eq!(redact_db("warden.db"), "warden.db");
        assert_eq!(redact_db("sqlite://data/w.db"), "sqlite://data/w.db");
    }
}
