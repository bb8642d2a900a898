//! `warden health`: asks a server's `/health` without a token — for container health checks and
//! service supervisors, which have no shell or HTTP client of their own. Exit 0 healthy, 1 when
//! the server answers anything else, 2 when it cannot be reached.

use std::process::ExitCode;
use std::time::Duration;

use warden_client::{Method, Options, Payload};

use crate::command::client::server_url;
use crate::output::{CliError, Output};

#[derive(Debug, clap::Args)]
pub struct HealthArgs {
    /// The Warden server.
    #[arg(
        long,
        env = "WARDEN_URL",
        default_value = "http://127.0.0.1:8080",
        value_name = "URL"
    )]
    server: String,
    /// Seconds to wait for the answer.
    #[arg(long, default_value_t = 5, value_name = "SECONDS",
          value_parser = clap::value_parser!(u64).range(1..=300))]
    timeout: u64,
}

pub fn run(args: HealthArgs, output: &mut Output) -> Result<ExitCode, CliError> {
    let base = server_url(&args.server)?;
    let unreachable = |e: warden_client::ClientError| {
        CliError::new("unreachable", e.to_string())
            .with_help("check that `warden serve` runs and listens on that address")
    };
    let options = Options {
        connect_timeout: Duration::from_secs(args.timeout),
        timeout: Duration::from_secs(args.timeout),
        ..Options::default()
    };
    let client = warden_client::Client::new(base.as_str(), &options).map_err(unreachable)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::new("runtime", format!("cannot start the async runtime: {e}")))?;
    let answer = runtime.block_on(async {
        let url = client.url_of("/health")?;
        client.exchange(Method::GET, url, Payload::None).await
    });
    let answer = answer.map_err(unreachable)?;
    if output.is_json() {
        output.json(&answer.body);
    } else if answer.status.is_success() {
        output.line(&format!("healthy: {}", answer.body));
    } else {
        output.line(&format!("unhealthy ({}): {}", answer.status, answer.body));
    }
    Ok(if answer.status.is_success() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
