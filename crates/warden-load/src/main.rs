//! `warden-load`: a load test of the decision API over HTTP on loopback.
//!
//! It starts a Warden server in-process on a temporary SQLite store, fills it with a small
//! account (groups, conditional policies, bindings, users), then drives three phases with the
//! same number of keep-alive connections, each bounded in time and in requests:
//!
//! 1. the floor: `GET /health`, a trivial endpoint of the same server;
//! 2. single decisions: `POST /iam/v1/authorize`;
//! 3. batches: `POST /iam/v1/authorize/batch` with 100 decisions each;
//! 4. AuthZEN: `POST /access/v1/evaluation` with the single decisions in AuthZEN's words.
//!
//! It prints throughput and p50/p99 latency per phase; its last line is the ratio of
//! single-decision throughput to trivial-endpoint throughput. Client and server share the machine,
//! as the target says ("on the same run, on this machine").

use std::io::Write as _;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use warden_load::{
    BATCH, GROUPS, Target, USERS, batch_bodies, evaluation_bodies, populate, single_bodies,
};

const CONNECTIONS: usize = 32;
const PHASE: Duration = Duration::from_secs(8);
const MAX_REQUESTS: usize = 2_000_000;

fn main() -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => return fail(&format!("cannot start the runtime: {error}")),
    };
    match runtime.block_on(run()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => fail(&message),
    }
}

fn fail(message: &str) -> ExitCode {
    let _ = writeln!(std::io::stderr(), "warden-load: {message}");
    ExitCode::FAILURE
}

fn say(line: &str) {
    let _ = writeln!(std::io::stdout().lock(), "{line}");
}

async fn run() -> Result<(), String> {
    let running = warden_load::start(CONNECTIONS).await?;
    let target = Arc::clone(&running.target);

    let started = Instant::now();
    let users = populate(&target).await?;
    say(&format!(
        "account: {USERS} users, {GROUPS} groups, {GROUPS} conditional policies (filled in {:.1} s)",
        started.elapsed().as_secs_f64()
    ));
    say(&format!(
        "{CONNECTIONS} keep-alive connections; each phase {} s or {MAX_REQUESTS} requests",
        PHASE.as_secs()
    ));
    say("");
    say(&format!(
        "{:<22} {:>10} {:>12} {:>14} {:>10} {:>10}",
        "phase", "requests", "requests/s", "decisions/s", "p50", "p99"
    ));

    let trivial = phase(&target, Workload::Health).await?;
    report("GET /health (floor)", &trivial, 0);
    let single = phase(&target, Workload::Single(single_bodies(&users))).await?;
    report("POST /authorize", &single, 1);
    let batch = phase(&target, Workload::Batch(batch_bodies(&users))).await?;
    report("POST /authorize/batch", &batch, BATCH);
    let authzen = phase(&target, Workload::Evaluation(evaluation_bodies(&users))).await?;
    report("POST /access/v1/eval.", &authzen, 1);

    running.stop().await;
    say("");
    say(&format!(
        "batch decisions/s: {:.0}",
        batch.throughput() * BATCH as f64
    ));
    say(&format!(
        "single-decision throughput / trivial-endpoint throughput: {:.2}",
        single.throughput() / trivial.throughput()
    ));
    say(&format!(
        "AuthZEN evaluation throughput / single-decision throughput: {:.2}",
        authzen.throughput() / single.throughput()
    ));
    Ok(())
}

enum Workload {
    Health,
    Single(Vec<String>),
    Batch(Vec<String>),
    Evaluation(Vec<String>),
}

struct Phase {
    latencies_us: Vec<u64>,
    elapsed: Duration,
}

impl Phase {
    fn throughput(&self) -> f64 {
        self.latencies_us.len() as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    fn percentile(&self, p: f64) -> u64 {
        let mut sorted = self.latencies_us.clone();
        sorted.sort_unstable();
        let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
        sorted.get(index).copied().unwrap_or(0)
    }
}

fn report(name: &str, phase: &Phase, decisions_per_request: usize) {
    let decisions = if decisions_per_request == 0 {
        "-".to_owned()
    } else {
        format!("{:.0}", phase.throughput() * decisions_per_request as f64)
    };
    say(&format!(
        "{:<22} {:>10} {:>12.0} {:>14} {:>8} µs {:>7} µs",
        name,
        phase.latencies_us.len(),
        phase.throughput(),
        decisions,
        phase.percentile(0.5),
        phase.percentile(0.99)
    ));
}

async fn phase(target: &Arc<Target>, workload: Workload) -> Result<Phase, String> {
    let workload = Arc::new(workload);
    let deadline = Instant::now() + PHASE;
    let budget = Arc::new(std::sync::atomic::AtomicUsize::new(MAX_REQUESTS));
    let start = Instant::now();
    let mut tasks = Vec::new();
    for connection in 0..CONNECTIONS {
        let target = Arc::clone(target);
        let workload = Arc::clone(&workload);
        let budget = Arc::clone(&budget);
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut i = connection;
            while Instant::now() < deadline
                && budget.fetch_sub(1, std::sync::atomic::Ordering::Relaxed) > 0
            {
                let sent = Instant::now();
                let result = match &*workload {
                    Workload::Health => target.hit("/health", None).await,
                    Workload::Single(bodies) => {
                        target
                            .hit("/iam/v1/authorize", bodies.get(i % bodies.len()))
                            .await
                    }
                    Workload::Batch(bodies) => {
                        target
                            .hit("/iam/v1/authorize/batch", bodies.get(i % bodies.len()))
                            .await
                    }
                    Workload::Evaluation(bodies) => {
                        target
                            .hit("/access/v1/evaluation", bodies.get(i % bodies.len()))
                            .await
                    }
                };
                result?;
                latencies.push(u64::try_from(sent.elapsed().as_micros()).unwrap_or(u64::MAX));
                i += CONNECTIONS;
            }
            Ok::<Vec<u64>, String>(latencies)
        }));
    }
    let mut latencies_us = Vec::new();
    for task in tasks {
        latencies_us.extend(task.await.map_err(|e| e.to_string())??);
    }
    Ok(Phase {
        latencies_us,
        elapsed: start.elapsed(),
    })
}
