//! `warden serve`: runs the service on its store (an SQLite file by default, created on first
//! start) until SIGINT or SIGTERM.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use warden_server::tls::Tls;
use warden_server::{Config, SystemClock};

use crate::output::{CliError, Output};
use crate::settings::{self, Loaded, LogFormat, Overrides, Settings};

/// The flags of `warden serve` and `warden config`: every setting, each overriding the
/// settings file and the environment ([`crate::settings`]).
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// A TOML settings file (see `warden config docs`).
    #[arg(long, env = "WARDEN_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// The store: an SQLite file path, `sqlite://…`, or `postgres://…` [default: warden.db].
    #[arg(long)]
    db: Option<String>,
    /// Address to listen on [default: 127.0.0.1:8080].
    #[arg(long)]
    listen: Option<String>,
    /// Email of the administrator created on first start [default: admin@warden.local].
    #[arg(long)]
    admin_email: Option<String>,
    /// Where the first start writes the administrator's token (readable only by you)
    /// [default: warden-admin-token].
    #[arg(long)]
    token_file: Option<PathBuf>,
    /// Domain of service-user emails (`<uid>@service.<domain>`) [default: warden.local].
    #[arg(long)]
    domain: Option<String>,
    /// An environment that must exist (repeatable); created when missing.
    #[arg(long = "environment", value_name = "ID")]
    environments: Vec<String>,
    /// Extra service definitions for the catalogue (TOML, repeatable).
    #[arg(long = "catalogue", value_name = "FILE")]
    catalogue: Vec<PathBuf>,
    /// Seconds a client may take to send a request's headers, and then its body [default: 15].
    #[arg(long, value_name = "SECONDS")]
    read_timeout: Option<u64>,
    /// Seconds an OAuth access token lives [default: 300].
    #[arg(long, value_name = "SECONDS")]
    access_token_ttl: Option<u64>,
    /// Seconds between writes of usage counters [default: 10].
    #[arg(long, value_name = "SECONDS")]
    usage_flush: Option<u64>,
    /// Days the sample of allowed requests is kept [default: 90].
    #[arg(long, value_name = "DAYS")]
    usage_sample_retention: Option<u64>,
    /// Milliseconds between looks at the store for other replicas' writes [default: 500].
    #[arg(long, value_name = "MS")]
    replication_poll: Option<u64>,
    /// Milliseconds after which decisions are marked stale [default: 3000].
    #[arg(long, value_name = "MS")]
    stale_after: Option<u64>,
    /// Milliseconds after which decisions are refused [default: 60000].
    #[arg(long, value_name = "MS")]
    max_stale: Option<u64>,
    /// How log lines are written [default: auto: text on a terminal, JSON otherwise].
    #[arg(long, value_enum)]
    log_format: Option<LogFormat>,
    /// Which log lines are written [default: warden=info,warn].
    #[arg(long, value_name = "FILTER")]
    log_filter: Option<String>,
    /// Hours the administrator token of the first start lives [default: 24].
    #[arg(long, value_name = "HOURS")]
    bootstrap_token_ttl: Option<u64>,
    /// Connections served at once; more are answered 503 [default: 1000].
    #[arg(long, value_name = "N")]
    max_connections: Option<u64>,
    /// Requests a second per source to the endpoints without a token [default: 10].
    #[arg(long, value_name = "N")]
    unauthenticated_rate: Option<u64>,
    /// Requests at once per source to the endpoints without a token [default: 50].
    #[arg(long, value_name = "N")]
    unauthenticated_burst: Option<u64>,
    /// Start even when other users can read the store file (Warden narrows it to 600).
    #[arg(long)]
    allow_insecure_permissions: bool,
    /// Export traces over OTLP/HTTP to this endpoint (`http://collector:4318/v1/traces`).
    #[arg(long, value_name = "URL")]
    otlp_endpoint: Option<String>,
    /// Serve HTTPS with this PEM certificate chain (with `--tls-key`); reloaded on SIGHUP.
    #[arg(long, value_name = "FILE")]
    tls_cert: Option<PathBuf>,
    /// The PEM private key of `--tls-cert`.
    #[arg(long, value_name = "FILE")]
    tls_key: Option<PathBuf>,
    /// A TOML file replacing the built-in list of generic service-user names.
    #[arg(long, value_name = "FILE")]
    service_user_names: Option<PathBuf>,
}

impl ServeArgs {
    /// The settings these flags, the environment and the settings file give.
    pub fn load(&self) -> Result<Loaded, CliError> {
        let overrides = Overrides {
            db: self.db.clone(),
            listen: self.listen.clone(),
            admin_email: self.admin_email.clone(),
            token_file: self.token_file.clone(),
            domain: self.domain.clone(),
            environments: self.environments.clone(),
            catalogue: self.catalogue.clone(),
            read_timeout_seconds: self.read_timeout,
            access_token_ttl_seconds: self.access_token_ttl,
            usage_flush_seconds: self.usage_flush,
            usage_sample_retention_days: self.usage_sample_retention,
            replication_poll_ms: self.replication_poll,
            stale_after_ms: self.stale_after,
            max_stale_ms: self.max_stale,
            log_format: self.log_format,
            log_filter: self.log_filter.clone(),
            bootstrap_token_ttl_hours: self.bootstrap_token_ttl,
            max_connections: self.max_connections,
            unauthenticated_rate_per_second: self.unauthenticated_rate,
            unauthenticated_burst: self.unauthenticated_burst,
            allow_insecure_permissions: self.allow_insecure_permissions.then_some(true),
            tls_cert: self.tls_cert.clone(),
            tls_key: self.tls_key.clone(),
            otlp_endpoint: self.otlp_endpoint.clone(),
            service_user_names: self.service_user_names.clone(),
        };
        settings::load(self.config.as_deref(), &overrides)
    }
}

pub fn run(args: ServeArgs, output: &mut Output) -> Result<ExitCode, CliError> {
    let settings = args.load()?.settings;
    let telemetry = crate::telemetry::init(&settings)?;
    check_store_permissions(&settings)?;
    let mut catalogue_files = Vec::new();
    for path in &settings.catalogue {
        catalogue_files.push((
            path.display().to_string(),
            crate::command::read_input(path)?,
        ));
    }
    let listen = settings.listen_address()?;
    let tls = match (&settings.tls_cert, &settings.tls_key) {
        (Some(cert), Some(key)) => Some(warden_server::tls::Tls::load(cert, key).map_err(|e| {
            CliError::new("tls", e.to_string()).with_help(
                "give PEM files with `--tls-cert` and `--tls-key` (`tls_cert`, `tls_key`)",
            )
        })?),
        _ => None,
    };
    let mut config = settings.server_config(catalogue_files);
    if let Some(path) = &settings.service_user_names {
        config.service_user_names = Some((
            path.display().to_string(),
            crate::command::read_input(path)?,
        ));
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::new("runtime", format!("cannot start the async runtime: {e}")))?;
    let served = runtime.block_on(serve(config, listen, tls, output));
    telemetry.shutdown();
    served
}

/// Refuses a store file that other users can read or write: it holds the token key and every
/// password hash, so it may already have been copied — the operator must know, not have Warden
/// quietly narrow it. `allow_insecure_permissions` lets Warden start and narrow it to 0600.
#[cfg(unix)]
fn check_store_permissions(settings: &Settings) -> Result<(), CliError> {
    use std::os::unix::fs::PermissionsExt;
    let Some(path) = warden_store::sqlite_path(&settings.db) else {
        return Ok(());
    };
    let Ok(metadata) = std::fs::metadata(&path) else {
        return Ok(());
    };
    let mode = metadata.permissions().mode() & 0o777;
    if mode & 0o077 == 0 {
        return Ok(());
    }
    if settings.allow_insecure_permissions {
        tracing::warn!(
            "the store `{}` was open to other users (mode {mode:o}); narrowed to 600",
            path.display()
        );
        return Ok(());
    }
    Err(CliError::new(
        "store-permissions",
        format!(
            "the store `{}` can be read or written by other users (mode {mode:o}); it holds the token key and password hashes",
            path.display()
        ),
    )
    .with_help(format!(
        "run `chmod 600 {}` and consider rotating credentials if others may have copied it; or start with `--allow-insecure-permissions` to have Warden narrow it",
        path.display()
    )))
}

#[cfg(not(unix))]
fn check_store_permissions(_: &Settings) -> Result<(), CliError> {
    Ok(())
}

async fn serve(
    config: Config,
    listen: SocketAddr,
    tls: Option<Arc<Tls>>,
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
            "first start: created account {} with administrator {}; its token is in `{}` (readable only by you) and expires at {}",
            first.account,
            first.admin_email,
            first.token_file.display(),
            warden_server::service::groups::iso(first.token_expires_at)
        ));
        output.line(
            "before then, make lasting credentials: a service user with an OAuth client \
             (`warden service-user create …`, `warden oauth-client create …`), a password for the \
             console (`warden user set-password …`), or a platform token with an expiry date \
             (`warden token create NAME --scope … --expires …`)",
        );
    }
    let listener = tokio::net::TcpListener::bind(listen).await.map_err(|e| {
        CliError::new("listen", format!("cannot listen on {listen}: {e}"))
            .with_help("choose another address with `--listen`")
    })?;
    let revision = state.snapshot().revision;
    // The address actually bound: with port 0 the system chose it.
    let listening = listener.local_addr().unwrap_or(listen);
    let scheme = if tls.is_some() { "https" } else { "http" };
    output.line(&format!(
        "Warden listening on {scheme}://{listening} (store `{}`, revision {revision})",
        redact_db(&config.db)
    ));
    let served = match tls {
        Some(tls) => {
            reload_on_hangup(Arc::clone(&tls));
            warden_server::serve_tls(state, listener, tls, shutdown_signal()).await
        }
        None => warden_server::serve(state, listener, shutdown_signal()).await,
    };
    served.map_err(|e| CliError::new("serve", format!("the server stopped: {e}")))?;
    output.line("Warden stopped");
    Ok(ExitCode::SUCCESS)
}

/// Reads the certificate and key again at each SIGHUP; a failed reload keeps the ones in use.
fn reload_on_hangup(tls: Arc<Tls>) {
    #[cfg(unix)]
    tokio::spawn(async move {
        use tokio::signal::unix::{SignalKind, signal};
        let Ok(mut hangups) = signal(SignalKind::hangup()) else {
            tracing::warn!("cannot listen for SIGHUP: the certificate will not be reloaded");
            return;
        };
        while hangups.recv().await.is_some() {
            match tls.reload() {
                Ok(()) => tracing::info!("reloaded the TLS certificate and key"),
                Err(error) => {
                    tracing::warn!(%error, "the TLS certificate was not reloaded; the one in use stays");
                }
            }
        }
    });
    #[cfg(not(unix))]
    let _ = tls;
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
pub fn redact_db(db: &str) -> String {
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
