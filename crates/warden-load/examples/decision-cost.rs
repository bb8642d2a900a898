//! A driver for counting the instructions a decision costs on the server, under
//! `valgrind --tool=callgrind`: instruction counts are repeatable on a busy machine, where the
//! load test's wall-clock figures are not.
//!
//! ```sh
//! cargo build --release -p warden-load --example decision-cost
//! valgrind --tool=callgrind target/release/examples/decision-cost batch router 200
//! ```
//!
//! It starts the load test's server and account, then sends `count` requests of one kind
//! (`health`, `single` or `batch`, with the load test's bodies) on one thread, either through the
//! router itself (`router`: extractors, handler, JSON, no socket) or over one keep-alive loopback
//! connection with a minimal HTTP/1.1 client (`http`: the HTTP server's work included). Start-up
//! is the same for every count, so the difference between two counts divided by the difference in
//! decisions is the cost of one decision.

use std::io::Write as _;
use std::process::ExitCode;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tower::ServiceExt as _;
use warden_load::{BATCH, batch_bodies, populate, single_bodies};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(kind), Some(transport), Some(count)) = (
        args.first().cloned(),
        args.get(1).cloned(),
        args.get(2).and_then(|n| n.parse::<usize>().ok()),
    ) else {
        return fail("usage: decision-cost health|single|batch router|http <count>");
    };
    // One thread: the count does not depend on how work is spread over workers, and the server's
    // tasks run inside `measure` when it waits for them.
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => return fail(&format!("cannot start the runtime: {error}")),
    };
    let prepared = match runtime.block_on(prepare(&kind)) {
        Ok(prepared) => prepared,
        Err(message) => return fail(&message),
    };
    let measured = measure(&runtime, &prepared, &transport, count);
    runtime.block_on(prepared.running.stop());
    match measured {
        Ok(()) => {
            let _ = writeln!(
                std::io::stdout(),
                "{count} {kind} requests ({} decisions) via {transport}",
                count * prepared.per_request
            );
            ExitCode::SUCCESS
        }
        Err(message) => fail(&message),
    }
}

fn fail(message: &str) -> ExitCode {
    let _ = writeln!(std::io::stderr(), "decision-cost: {message}");
    ExitCode::FAILURE
}

struct Prepared {
    running: warden_load::Running,
    app: axum::Router,
    path: &'static str,
    bodies: Vec<String>,
    per_request: usize,
}

async fn prepare(kind: &str) -> Result<Prepared, String> {
    let running = warden_load::start(1).await?;
    let users = populate(&running.target).await?;
    let (path, bodies, per_request) = match kind {
        "health" => ("/health", Vec::new(), 0),
        "single" => ("/iam/v1/authorize", single_bodies(&users), 1),
        "batch" => ("/iam/v1/authorize/batch", batch_bodies(&users), BATCH),
        other => return Err(format!("unknown kind `{other}`")),
    };
    Ok(Prepared {
        app: warden_server::app::router(running.state.clone()),
        running,
        path,
        bodies,
        per_request,
    })
}

/// The requests, and nothing else: `valgrind --tool=callgrind --toggle-collect='decision_cost::measure'`
/// counts only them (start-up and the account's creation excluded).
#[inline(never)]
fn measure(
    runtime: &tokio::runtime::Runtime,
    prepared: &Prepared,
    transport: &str,
    count: usize,
) -> Result<(), String> {
    match transport {
        "router" => runtime.block_on(through_router(prepared, count)),
        "http" => runtime.block_on(over_http(prepared, count)),
        other => Err(format!("unknown transport `{other}`")),
    }
}

fn request_body(prepared: &Prepared, i: usize) -> String {
    prepared
        .bodies
        .get(i % prepared.bodies.len().max(1))
        .cloned()
        .unwrap_or_default()
}

fn method(prepared: &Prepared) -> &'static str {
    if prepared.bodies.is_empty() {
        "GET"
    } else {
        "POST"
    }
}

async fn through_router(prepared: &Prepared, count: usize) -> Result<(), String> {
    let app = &prepared.app;
    let token = &prepared.running.target.token;
    for i in 0..count {
        let request = Request::builder()
            .method(method(prepared))
            .uri(prepared.path)
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(request_body(prepared, i)))
            .map_err(|e| e.to_string())?;
        let Ok(response) = app.clone().oneshot(request).await;
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .map_err(|e| e.to_string())?;
        if status != StatusCode::OK {
            return Err(format!("{status}: {}", String::from_utf8_lossy(&bytes)));
        }
    }
    Ok(())
}

async fn over_http(prepared: &Prepared, count: usize) -> Result<(), String> {
    let target = &prepared.running.target;
    let address = target.base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(address)
        .await
        .map_err(|e| e.to_string())?;
    let mut buffer = Vec::with_capacity(64 * 1024);
    for i in 0..count {
        let body = request_body(prepared, i);
        let head = format!(
            "{} {} HTTP/1.1\r\nhost: {address}\r\nauthorization: Bearer {}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
            method(prepared),
            prepared.path,
            target.token,
            body.len()
        );
        stream
            .write_all(&[head.as_bytes(), body.as_bytes()].concat())
            .await
            .map_err(|e| e.to_string())?;
        read_response(&mut stream, &mut buffer).await?;
    }
    Ok(())
}

/// Reads one response with a `content-length` and checks that it is a 200.
async fn read_response(
    stream: &mut tokio::net::TcpStream,
    buffer: &mut Vec<u8>,
) -> Result<(), String> {
    buffer.clear();
    let mut chunk = [0u8; 16 * 1024];
    loop {
        if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(buffer.get(..end).unwrap_or_default()).to_string();
            let length = head
                .lines()
                .filter_map(|line| line.split_once(':'))
                .find(|(name, _)| name.eq_ignore_ascii_case("content-length"))
                .and_then(|(_, value)| value.trim().parse::<usize>().ok())
                .ok_or_else(|| format!("no content-length in {head}"))?;
            while buffer.len() < end + 4 + length {
                read_more(stream, buffer, &mut chunk).await?;
            }
            if !head.starts_with("HTTP/1.1 200") {
                return Err(String::from_utf8_lossy(buffer).to_string());
            }
            return Ok(());
        }
        read_more(stream, buffer, &mut chunk).await?;
    }
}

async fn read_more(
    stream: &mut tokio::net::TcpStream,
    buffer: &mut Vec<u8>,
    chunk: &mut [u8],
) -> Result<(), String> {
    let n = stream.read(chunk).await.map_err(|e| e.to_string())?;
    if n == 0 {
        return Err("the server closed the connection".to_owned());
    }
    buffer.extend_from_slice(chunk.get(..n).unwrap_or_default());
    Ok(())
}
