//! The service's settings: one TOML file (`--config`), `WARDEN_…` environment variables and
//! `warden serve` flags, layered by figment in that order of precedence (a flag over a variable
//! over the file over the default), then checked as a whole before anything starts. Every key is
//! described once, in [`KEYS`]: the flags' help, `warden config print` and
//! `docs/configuration.md` all come from it, and a test keeps it and [`Settings`] in step.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::providers::{Env, Serialized};
use figment::value::{Dict, Map};
use figment::{Figment, Metadata, Profile, Provider, Source};
use serde::{Deserialize, Serialize};

use crate::output::CliError;

/// Every setting of `warden serve`, under the name it has in the file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    pub db: String,
    pub listen: String,
    pub admin_email: String,
    pub token_file: PathBuf,
    pub domain: String,
    pub environments: Vec<String>,
    pub catalogue: Vec<PathBuf>,
    pub read_timeout_seconds: u64,
    pub access_token_ttl_seconds: u64,
    pub usage_flush_seconds: u64,
    pub usage_sample_retention_days: u64,
    pub replication_poll_ms: u64,
    pub stale_after_ms: u64,
    pub max_stale_ms: u64,
    pub log_format: LogFormat,
    pub log_filter: String,
    pub bootstrap_token_ttl_hours: u64,
    pub max_connections: u64,
    pub unauthenticated_rate_per_second: u64,
    pub unauthenticated_burst: u64,
    pub allow_insecure_permissions: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_cert: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_key: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub otlp_endpoint: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_user_names: Option<PathBuf>,
}

impl Default for Settings {
    fn default() -> Self {
        let server = warden_server::Config::default();
        Settings {
            db: server.db,
            listen: "127.0.0.1:8080".to_owned(),
            admin_email: server.admin_email,
            token_file: server.token_file,
            domain: server.domain,
            environments: Vec::new(),
            catalogue: Vec::new(),
            read_timeout_seconds: server.read_timeout.as_secs(),
            access_token_ttl_seconds: server.access_token_ttl.as_secs(),
            usage_flush_seconds: server.usage_flush_interval.as_secs(),
            usage_sample_retention_days: u64::try_from(server.usage_sample_retention_days)
                .unwrap_or(90),
            replication_poll_ms: duration_ms(server.replication.poll_interval),
            stale_after_ms: u64::try_from(server.replication.stale_after_ms).unwrap_or(0),
            max_stale_ms: u64::try_from(server.replication.max_stale_ms).unwrap_or(0),
            log_format: LogFormat::Auto,
            log_filter: "warden=info,warn".to_owned(),
            bootstrap_token_ttl_hours: server.bootstrap_token_ttl.as_secs() / 3600,
            max_connections: u64::try_from(server.max_connections).unwrap_or(u64::MAX),
            unauthenticated_rate_per_second: u64::from(server.unauthenticated_rate.per_second),
            unauthenticated_burst: u64::from(server.unauthenticated_rate.burst),
            allow_insecure_permissions: false,
            tls_cert: None,
            tls_key: None,
            otlp_endpoint: None,
            service_user_names: None,
        }
    }
}

fn duration_ms(duration: std::time::Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Text on a terminal, JSON lines otherwise.
    Auto,
    /// Human-readable lines (colours only on a terminal).
    Text,
    /// One JSON object per line.
    Json,
}

/// One key of the settings, as the file, the environment and the command line spell it.
#[derive(Debug, Clone, Copy)]
pub struct Key {
    pub name: &'static str,
    pub flag: &'static str,
    pub help: &'static str,
    /// Printed redacted by `warden config print`.
    pub secret: bool,
}

impl Key {
    pub fn env(&self) -> String {
        format!("WARDEN_{}", self.name.to_ascii_uppercase())
    }
}

const fn key(name: &'static str, flag: &'static str, help: &'static str) -> Key {
    Key {
        name,
        flag,
        help,
        secret: false,
    }
}

/// Every key, in the order the documentation lists them.
pub const KEYS: &[Key] = &[
    Key {
        secret: true,
        ..key(
            "db",
            "--db",
            "The store: an SQLite file path, `sqlite://…`, or `postgres://user:password@host/db` (its password is never printed).",
        )
    },
    key("listen", "--listen", "The address and port to listen on."),
    key(
        "admin_email",
        "--admin-email",
        "Email of the administrator created on first start.",
    ),
    key(
        "token_file",
        "--token-file",
        "Where the first start writes the administrator's token (created readable only by its owner).",
    ),
    key(
        "domain",
        "--domain",
        "Domain of service-user emails (`<uid>@service.<domain>`).",
    ),
    key(
        "environments",
        "--environment",
        "Environments that must exist, created when missing (a list; in a variable `[env-a, env-b]`; the flag is repeated).",
    ),
    key(
        "catalogue",
        "--catalogue",
        "Extra service definitions for the permission catalogue: TOML files (a list; the flag is repeated).",
    ),
    key(
        "read_timeout_seconds",
        "--read-timeout",
        "Seconds a client may take to send a request's headers, and then its body (1 to 3600); slower clients are cut off, idle keep-alive connections close after it too.",
    ),
    key(
        "access_token_ttl_seconds",
        "--access-token-ttl",
        "Seconds an OAuth access token lives (60 to 86400).",
    ),
    key(
        "usage_flush_seconds",
        "--usage-flush",
        "Seconds between writes of permission-usage counters to the store (1 to 3600).",
    ),
    key(
        "usage_sample_retention_days",
        "--usage-sample-retention",
        "Days the sample of allowed requests behind `warden suggest-policy` is kept (1 to 36500): attribute values, environments, each with when it was last seen. Older observations are removed.",
    ),
    key(
        "replication_poll_ms",
        "--replication-poll",
        "Milliseconds between looks at the store for other replicas' writes (50 to 60000).",
    ),
    key(
        "stale_after_ms",
        "--stale-after",
        "Beyond this age in milliseconds of the last successful look at the store, decisions are marked stale.",
    ),
    key(
        "max_stale_ms",
        "--max-stale",
        "Beyond this age in milliseconds decisions are refused (503); at least `stale_after_ms`.",
    ),
    key(
        "log_format",
        "--log-format",
        "`auto` (text on a terminal, JSON lines otherwise), `text` or `json`. Colour codes are only ever written to a terminal.",
    ),
    key(
        "log_filter",
        "--log-filter",
        "Which log lines are written, as a tracing filter (`warden=debug`, `info`, …). One line per request comes from `warden::access` (method, route template, status, latency, caller, request id; never a token or a body): `warden::access=off` silences it.",
    ),
    key(
        "bootstrap_token_ttl_hours",
        "--bootstrap-token-ttl",
        "Hours the administrator token made at the first start lives (1 to 720); make lasting credentials before it expires.",
    ),
    key(
        "max_connections",
        "--max-connections",
        "Connections served at once (1 to 1000000); more are answered `503` with `Retry-After` and closed at once, never queued. Keep it below the process's open-file limit (`ulimit -n`, `LimitNOFILE=`).",
    ),
    key(
        "unauthenticated_rate_per_second",
        "--unauthenticated-rate",
        "Requests a second from one source (an IPv4 address, an IPv6 /64) to the endpoints that answer without a token: OAuth token, introspection, revocation, console sign-in (1 to 100000). Beyond it and the burst, `429` with `Retry-After`.",
    ),
    key(
        "unauthenticated_burst",
        "--unauthenticated-burst",
        "Requests one source may send to those endpoints at once before the rate applies (1 to 100000).",
    ),
    key(
        "allow_insecure_permissions",
        "--allow-insecure-permissions",
        "Start even when other users may read or write the SQLite store file (Warden then narrows it to mode 600). Without it, such a store is refused: it holds the token key and password hashes.",
    ),
    key(
        "tls_cert",
        "--tls-cert",
        "A PEM file with the server's certificate chain: Warden then serves HTTPS (HTTP/2 and HTTP/1.1) itself. Reloaded with the key on SIGHUP, without dropping connections. Not set: plain HTTP (behind a TLS-terminating proxy).",
    ),
    key(
        "tls_key",
        "--tls-key",
        "The PEM file of the certificate's private key (PKCS#8, PKCS#1 or SEC1); required with `tls_cert`.",
    ),
    key(
        "otlp_endpoint",
        "--otlp-endpoint",
        "Export traces over OTLP/HTTP (protobuf, plain HTTP: a collector beside Warden) to this URL, e.g. `http://collector:4318/v1/traces`: a span per request (method, route template, status, request id), per decision and per store transaction. Not set: no traces.",
    ),
    key(
        "service_user_names",
        "--service-user-names",
        "A TOML file replacing the built-in list of generic service-user names (`names`, `words`, `min_length`, as in `data/service-user-names.toml`): creating or renaming a service user with such a name is answered with a warning. Not set: the built-in list.",
    ),
];

/// Values given on the command line; an unset one leaves the lower layers' value.
#[derive(Debug, Default, Serialize)]
pub struct Overrides {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub db: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listen: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub admin_email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_file: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub environments: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub catalogue: Vec<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub read_timeout_seconds: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_token_ttl_seconds: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub usage_flush_seconds: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub usage_sample_retention_days: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replication_poll_ms: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stale_after_ms: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_stale_ms: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_format: Option<LogFormat>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_filter: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bootstrap_token_ttl_hours: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_connections: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unauthenticated_rate_per_second: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unauthenticated_burst: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allow_insecure_permissions: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_cert: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_key: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub otlp_endpoint: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_user_names: Option<PathBuf>,
}

/// The settings and where each came from.
#[derive(Debug)]
pub struct Loaded {
    pub settings: Settings,
    figment: Figment,
}

impl Loaded {
    /// Where `key`'s value came from, in words: `` `warden.toml`:3:1``, `the environment variable
    /// `WARDEN_DB``, `the flag `--db``, or `the default`.
    pub fn origin(&self, key: &str) -> String {
        origin(&self.figment, key)
    }
}

/// Layers the defaults, the file (when given), the environment and the flags, and checks the
/// result. Nothing is started: the caller decides what to do with the settings.
pub fn load(file: Option<&Path>, overrides: &Overrides) -> Result<Loaded, CliError> {
    let mut figment = Figment::from(Serialized::defaults(Settings::default()));
    if let Some(path) = file {
        figment = figment.merge(TomlFile::read(path)?);
    }
    let names: Vec<&str> = KEYS.iter().map(|key| key.name).collect();
    figment = figment
        .merge(Env::prefixed("WARDEN_").only(&names))
        .merge(Flags(overrides));
    let settings: Settings = figment
        .extract()
        .map_err(|error| extraction_error(&figment, error))?;
    let loaded = Loaded { settings, figment };
    check(&loaded)?;
    Ok(loaded)
}

const FLAGS: &str = "command line";

/// Names the provider of a value in the words of an error message.
fn origin(figment: &Figment, key: &str) -> String {
    let Some(metadata) = figment.find_metadata(key) else {
        return "the default".to_owned();
    };
    describe(metadata, key)
}

fn describe(metadata: &Metadata, key: &str) -> String {
    match &metadata.source {
        Some(Source::File(path)) => match key_position(path, key) {
            Some((line, column)) => format!("`{}`:{line}:{column}", path.display()),
            None => format!("`{}`", path.display()),
        },
        _ if metadata.name.contains("environment") => {
            format!(
                "the environment variable `WARDEN_{}`",
                key.to_ascii_uppercase()
            )
        }
        _ if metadata.name == FLAGS => {
            let flag = KEYS
                .iter()
                .find(|known| known.name == key)
                .map_or(key, |known| known.flag);
            format!("the flag `{flag}`")
        }
        _ => "the default".to_owned(),
    }
}

/// The 1-based line and column of `key` in the TOML file at `path`.
fn key_position(path: &Path, key: &str) -> Option<(usize, usize)> {
    let text = std::fs::read_to_string(path).ok()?;
    let table = toml::de::DeTable::parse(&text).ok()?;
    let span = table
        .get_ref()
        .keys()
        .find(|found| found.get_ref().as_ref() == key)?
        .span();
    Some(line_column(&text, span.start))
}

fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let column = before
        .rsplit('\n')
        .next()
        .map_or(0, |tail| tail.chars().count())
        + 1;
    (line, column)
}

fn extraction_error(figment: &Figment, error: figment::Error) -> CliError {
    let key = error.path.join(".");
    let place = error.metadata.as_ref().map_or_else(
        || origin(figment, &key),
        |metadata| describe(metadata, &key),
    );
    match &error.kind {
        figment::error::Kind::UnknownField(field, _) => {
            let suggestion = closest_key(field)
                .map(|known| format!("did you mean `{known}`? "))
                .unwrap_or_default();
            CliError::new("config", format!("unknown setting `{field}` in {place}")).with_help(
                format!("{suggestion}`warden config docs` lists every setting"),
            )
        }
        kind => CliError::new("config", format!("setting `{key}` from {place}: {kind}"))
            .with_help("`warden config docs` says what each setting takes"),
    }
}

fn closest_key(field: &str) -> Option<&'static str> {
    KEYS.iter()
        .map(|known| (strsim::jaro_winkler(field, known.name), known.name))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, name)| name)
}

/// The checks serde cannot make: ranges, addresses, relations between keys.
fn check(loaded: &Loaded) -> Result<(), CliError> {
    let settings = &loaded.settings;
    let invalid = |key: &str, problem: String, help: &str| {
        CliError::new(
            "config",
            format!("setting `{key}` from {}: {problem}", loaded.origin(key)),
        )
        .with_help(help.to_owned())
    };
    if settings.listen.parse::<SocketAddr>().is_err() {
        return Err(invalid(
            "listen",
            format!("`{}` is not an address and port", settings.listen),
            "write it as `127.0.0.1:8080` or `[::1]:8080`",
        ));
    }
    if settings.db.trim().is_empty() {
        return Err(invalid(
            "db",
            "the store is empty".to_owned(),
            "give an SQLite file path or a `postgres://` address",
        ));
    }
    if !settings.admin_email.contains('@') {
        return Err(invalid(
            "admin_email",
            format!("`{}` is not an email address", settings.admin_email),
            "write it as `name@example.com`",
        ));
    }
    let ranges: [(&str, u64, u64, u64); 9] = [
        (
            "read_timeout_seconds",
            settings.read_timeout_seconds,
            1,
            3600,
        ),
        (
            "access_token_ttl_seconds",
            settings.access_token_ttl_seconds,
            60,
            86_400,
        ),
        ("usage_flush_seconds", settings.usage_flush_seconds, 1, 3600),
        (
            "usage_sample_retention_days",
            settings.usage_sample_retention_days,
            1,
            36_500,
        ),
        (
            "replication_poll_ms",
            settings.replication_poll_ms,
            50,
            60_000,
        ),
        (
            "bootstrap_token_ttl_hours",
            settings.bootstrap_token_ttl_hours,
            1,
            720,
        ),
        ("max_connections", settings.max_connections, 1, 1_000_000),
        (
            "unauthenticated_rate_per_second",
            settings.unauthenticated_rate_per_second,
            1,
            100_000,
        ),
        (
            "unauthenticated_burst",
            settings.unauthenticated_burst,
            1,
            100_000,
        ),
    ];
    for (key, value, low, high) in ranges {
        if !(low..=high).contains(&value) {
            return Err(invalid(
                key,
                format!("{value} is outside {low} to {high}"),
                "choose a value in that range",
            ));
        }
    }
    if settings.max_stale_ms < settings.stale_after_ms {
        return Err(invalid(
            "max_stale_ms",
            format!(
                "{} is below `stale_after_ms` ({})",
                settings.max_stale_ms, settings.stale_after_ms
            ),
            "decisions are marked stale before they are refused: raise `max_stale_ms`",
        ));
    }
    match (&settings.tls_cert, &settings.tls_key) {
        (Some(_), None) => {
            return Err(invalid(
                "tls_cert",
                "a certificate without `tls_key`".to_owned(),
                "give both `tls_cert` and `tls_key`, or neither for plain HTTP",
            ));
        }
        (None, Some(_)) => {
            return Err(invalid(
                "tls_key",
                "a key without `tls_cert`".to_owned(),
                "give both `tls_cert` and `tls_key`, or neither for plain HTTP",
            ));
        }
        _ => {}
    }
    if let Some(endpoint) = &settings.otlp_endpoint
        && !endpoint.starts_with("http://")
    {
        return Err(invalid(
            "otlp_endpoint",
            format!("`{endpoint}` is not an `http://` address"),
            "write it as `http://collector:4318/v1/traces` (a collector beside Warden; traces are sent without TLS)",
        ));
    }
    if let Err(error) = tracing_subscriber::EnvFilter::try_new(&settings.log_filter) {
        return Err(invalid(
            "log_filter",
            format!("`{}` is not a log filter: {error}", settings.log_filter),
            "write it as `warden=info,warn`",
        ));
    }
    Ok(())
}

impl Settings {
    /// The server's configuration (catalogue files read by the caller).
    pub fn server_config(&self, catalogue_files: Vec<(String, String)>) -> warden_server::Config {
        use std::time::Duration;
        let defaults = warden_server::Config::default();
        warden_server::Config {
            db: self.db.clone(),
            admin_email: self.admin_email.clone(),
            token_file: self.token_file.clone(),
            domain: self.domain.clone(),
            environments: self.environments.clone(),
            catalogue_files,
            usage_flush_interval: Duration::from_secs(self.usage_flush_seconds),
            usage_sample_retention_days: i64::try_from(self.usage_sample_retention_days)
                .unwrap_or(i64::MAX),
            access_token_ttl: Duration::from_secs(self.access_token_ttl_seconds),
            replication: warden_server::replication::ReplicationConfig {
                poll_interval: Duration::from_millis(self.replication_poll_ms),
                stale_after_ms: i64::try_from(self.stale_after_ms).unwrap_or(i64::MAX),
                max_stale_ms: i64::try_from(self.max_stale_ms).unwrap_or(i64::MAX),
            },
            read_timeout: Duration::from_secs(self.read_timeout_seconds),
            bootstrap_token_ttl: Duration::from_secs(self.bootstrap_token_ttl_hours * 3600),
            max_connections: usize::try_from(self.max_connections).unwrap_or(usize::MAX),
            unauthenticated_rate: warden_server::rate::RateConfig {
                per_second: u32::try_from(self.unauthenticated_rate_per_second).unwrap_or(u32::MAX),
                burst: u32::try_from(self.unauthenticated_burst).unwrap_or(u32::MAX),
            },
            ..defaults
        }
    }

    /// The address to listen on (checked by [`load`]).
    pub fn listen_address(&self) -> Result<SocketAddr, CliError> {
        self.listen.parse().map_err(|_| {
            CliError::new(
                "config",
                format!(
                    "setting `listen`: `{}` is not an address and port",
                    self.listen
                ),
            )
        })
    }
}

/// The TOML file, read with the workspace's TOML parser so that syntax errors carry their line
/// and column; figment sees it as one more layer.
struct TomlFile {
    path: PathBuf,
    table: toml::Table,
}

impl TomlFile {
    fn read(path: &Path) -> Result<TomlFile, CliError> {
        let text = std::fs::read_to_string(path).map_err(|error| {
            CliError::new(
                "config",
                format!(
                    "cannot read the settings file `{}`: {error}",
                    path.display()
                ),
            )
            .with_help("check the path given with `--config` (or `WARDEN_CONFIG`)")
        })?;
        let table: toml::Table = toml::from_str(&text).map_err(|error| {
            let (line, column) = error
                .span()
                .map_or((1, 1), |span| line_column(&text, span.start));
            CliError::new(
                "config",
                format!("`{}`:{line}:{column}: {}", path.display(), error.message()),
            )
            .with_help("the settings file is TOML: `key = value`, strings in quotes")
        })?;
        Ok(TomlFile {
            path: path.to_path_buf(),
            table,
        })
    }
}

impl Provider for TomlFile {
    fn metadata(&self) -> Metadata {
        Metadata::from("settings file", Source::File(self.path.clone()))
    }

    fn data(&self) -> Result<Map<Profile, Dict>, figment::Error> {
        Serialized::defaults(&self.table).data()
    }
}

/// The command line's values, named so that errors can say a value came from a flag.
struct Flags<'a>(&'a Overrides);

impl Provider for Flags<'_> {
    fn metadata(&self) -> Metadata {
        Metadata::named(FLAGS)
    }

    fn data(&self) -> Result<Map<Profile, Dict>, figment::Error> {
        Serialized::defaults(self.0).data()
    }
}

/// `docs/configuration.md`: every key with its variable, flag, default and meaning.
pub fn documentation() -> String {
    let defaults = print_values(&Settings::default(), false);
    // `table` lists the keys set by default; the others are written as not set.
    let mut text = String::from(
        "# Configuration\n\n\
         `warden serve` reads its settings from three places, in this order of precedence: a flag \
         on the command line, an environment variable `WARDEN_<KEY>`, the TOML file given with \
         `--config FILE` (or `WARDEN_CONFIG`), then the default. Everything is checked before the \
         server starts; an error names the key and where its value came from (`file:line:column`, \
         the variable or the flag). `warden config check` runs the same checks and exits; \
         `warden config print` shows the effective values, the store's password redacted.\n\n\
         This page is generated by `warden config docs` from the same table the command reads; a \
         test keeps the two identical.\n\n\
         | Key | Variable | Flag | Default | Meaning |\n|---|---|---|---|---|\n",
    );
    for key in KEYS {
        let default = defaults
            .iter()
            .find(|(name, _)| *name == key.name)
            .map_or(String::new(), |(_, value)| value.clone());
        text.push_str(&format!(
            "| `{}` | `{}` | `{}` | `{}` | {} |\n",
            key.name,
            key.env(),
            key.flag,
            default,
            key.help
        ));
    }
    text.push_str(
        "\nAn example file:\n\n```toml\ndb = \"/var/lib/warden/warden.db\"\nlisten = \"0.0.0.0:8080\"\n\
         environments = [\"env-prod\", \"env-dev\"]\nlog_format = \"json\"\n```\n",
    );
    text
}

/// Each key's value as TOML would write it (every value here is a string, a number or a list of
/// strings, which JSON and TOML write alike), secrets redacted when asked.
pub fn print_values(settings: &Settings, redact: bool) -> Vec<(&'static str, String)> {
    let table = serde_json::to_value(settings).unwrap_or_default();
    KEYS.iter()
        .map(|key| {
            let value = table
                .get(key.name)
                .map_or_else(|| "(not set)".to_owned(), |value| value.to_string());
            let value = if redact && key.secret {
                crate::command::serve::redact_db(&value)
            } else {
                value
            };
            (key.name, value)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A settings file in a directory of its own, removed when the guard drops.
    struct File(PathBuf);

    impl Drop for File {
        fn drop(&mut self) {
            if let Some(dir) = self.0.parent() {
                let _ = std::fs::remove_dir_all(dir);
            }
        }
    }

    fn write(text: &str) -> (File, PathBuf) {
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let dir = std::env::temp_dir().join(format!("warden-settings-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("warden.toml");
        std::fs::write(&path, text).unwrap();
        (File(path.clone()), path)
    }

    #[test]
    fn the_documentation_is_generated_from_the_keys() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/configuration.md");
        let written = std::fs::read_to_string(path).unwrap();
        assert!(
            written == documentation(),
            "docs/configuration.md is out of date: run `warden config docs > docs/configuration.md`"
        );
    }

    #[test]
    fn every_key_is_a_setting_and_every_setting_a_key() {
        let table = toml::Table::try_from(Settings::default()).unwrap();
        let mut fields: Vec<&str> = table.keys().map(String::as_str).collect();
        // Unset optional keys are not serialised.
        fields.extend(["tls_cert", "tls_key", "otlp_endpoint", "service_user_names"]);
        fields.sort_unstable();
        fields.dedup();
        let mut keys: Vec<&str> = KEYS.iter().map(|key| key.name).collect();
        keys.sort_unstable();
        assert_eq!(keys, fields);
    }

    #[test]
    fn a_setting_from_the_file_is_found_with_its_line() {
        let (_dir, path) = write("db = \"a.db\"\n\nlisten = \"nowhere\"\n");
        let error = load(Some(&path), &Overrides::default()).unwrap_err();
        assert_eq!(
            error.message,
            format!(
                "setting `listen` from `{}`:3:1: `nowhere` is not an address and port",
                path.display()
            )
        );
    }

    #[test]
    fn a_flag_wins_over_the_file() {
        let (_dir, path) = write("db = \"a.db\"\nread_timeout_seconds = 30\n");
        let overrides = Overrides {
            db: Some("b.db".to_owned()),
            ..Overrides::default()
        };
        let loaded = load(Some(&path), &overrides).unwrap();
        assert_eq!(loaded.settings.db, "b.db");
        assert_eq!(loaded.settings.read_timeout_seconds, 30);
        assert_eq!(loaded.origin("db"), "the flag `--db`");
        assert_eq!(loaded.origin("listen"), "the default");
    }

    #[test]
    fn an_unknown_key_is_named_with_a_suggestion() {
        let (_dir, path) = write("read_timeout = 30\n");
        let error = load(Some(&path), &Overrides::default()).unwrap_err();
        assert!(
            error
                .message
                .starts_with("unknown setting `read_timeout` in"),
            "{}",
            error.message
        );
        assert_eq!(
            error.help.as_deref(),
            Some("did you mean `read_timeout_seconds`? `warden config docs` lists every setting")
        );
    }

    #[test]
    fn a_syntax_error_names_line_and_column() {
        let (_dir, path) = write("db = \"a.db\"\nlisten = \n");
        let error = load(Some(&path), &Overrides::default()).unwrap_err();
        assert!(
            error
                .message
                .starts_with(&format!("`{}`:2:", path.display())),
            "{}",
            error.message
        );
    }

    #[test]
    fn a_wrong_type_names_the_key_and_the_file() {
        let (_dir, path) = write("read_timeout_seconds = \"soon\"\n");
        let error = load(Some(&path), &Overrides::default()).unwrap_err();
        assert!(
            error.message.starts_with(&format!(
                "setting `read_timeout_seconds` from `{}`:1:1:",
                path.display()
            )),
            "{}",
            error.message
        );
    }

    #[test]
    fn ranges_and_relations_are_checked() {
        let (_dir, path) = write("stale_after_ms = 5000\nmax_stale_ms = 10\n");
        let error = load(Some(&path), &Overrides::default()).unwrap_err();
        assert_eq!(
            error.message,
            format!(
                "setting `max_stale_ms` from `{}`:2:1: 10 is below `stale_after_ms` (5000)",
                path.display()
            )
        );
    }

    #[test]
    fn the_stores_password_is_redacted_when_printed() {
        let settings = Settings {
            db: "postgres://warden:s3cret@db/warden".to_owned(),
            ..Settings::default()
        };
        let printed = print_values(&settings, true);
        assert_eq!(
            printed.first(),
            Some(&("db", "\"postgres://warden:***@db/warden\"".to_owned()))
        );
    }
}
