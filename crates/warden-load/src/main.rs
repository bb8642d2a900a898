//! `warden-load`: a load test of the decision API over HTTP on loopback.
//!
//! It starts a Warden server in-process on a temporary SQLite store, fills it with a small
//! account (groups, conditional policies, bindings, users), then drives three phases with the
//! same number of keep-alive connections, each bounded in time and in requests:
//!
//! 1. the floor: `GET /health`, a trivial endpoint of the same server;
//! 2. single decisions: `POST /iam/v1/authorize`;
//! 3. batches: `POST /iam/v1/authorize/batch` with 100 decisions each.
//!
//! It prints throughput and p50/p99 latency per phase; its last line is the ratio of
//! single-decision throughput to trivial-endpoint throughput. Client and server share the machine,
//! as the target says ("on the same run, on this machine").

use std::io::Write as _;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use warden_server::{Config, SystemClock};

const CONNECTIONS: usize = 32;
const PHASE: Duration = Duration::from_secs(8);
const MAX_REQUESTS: usize = 2_000_000;
const USERS: usize = 200;
const GROUPS: usize = 20;
const BATCH: usize = 100;

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

struct Target {
    base: String,
    token: String,
    client: reqwest::Client,
}

impl Target {
    /// One request of a phase: pre-serialised body, the answer read but not parsed.
    async fn hit(&self, path: &str, body: Option<&String>) -> Result<(), String> {
        let request = match body {
            Some(body) => self
                .client
                .post(format!("{}{path}", self.base))
                .header("content-type", "application/json")
                .body(body.clone()),
            None => self.client.get(format!("{}{path}", self.base)),
        };
        let response = request
            .bearer_auth(&self.token)
            .send()
            .await
            .map_err(|e| format!("{path}: {e}"))?;
        let status = response.status();
        let bytes = response.bytes().await.map_err(|e| format!("{path}: {e}"))?;
        if status.is_success() {
            Ok(())
        } else {
            Err(format!(
                "{path}: {status}: {}",
                String::from_utf8_lossy(&bytes)
            ))
        }
    }

    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Value, String> {
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.token);
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await.map_err(|e| format!("{path}: {e}"))?;
        let status = response.status();
        let text = response.text().await.map_err(|e| format!("{path}: {e}"))?;
        if !status.is_success() {
            return Err(format!("{path}: {status}: {text}"));
        }
        Ok(serde_json::from_str(&text).unwrap_or(Value::Null))
    }
}

async fn run() -> Result<(), String> {
    let dir = std::env::temp_dir().join(format!("warden-load-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let config = Config {
        db: dir.join("warden.db").display().to_string(),
        token_file: dir.join("token"),
        environments: vec!["env-prod".into()],
        ..Config::default()
    };
    let (state, _) = warden_server::start(&config, Arc::new(SystemClock))
        .await
        .map_err(|e| e.to_string())?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| e.to_string())?;
    let base = format!(
        "http://{}",
        listener.local_addr().map_err(|e| e.to_string())?
    );
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(warden_server::serve(state.clone(), listener, async {
        let _ = stopped.await;
    }));
    let token = std::fs::read_to_string(&config.token_file)
        .map_err(|e| e.to_string())?
        .trim()
        .to_owned();
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(CONNECTIONS)
        .build()
        .map_err(|e| e.to_string())?;
    let target = Arc::new(Target {
        base,
        token,
        client,
    });

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

    let _ = stop.send(());
    let _ = server.await;
    state.store.close().await;
    let _ = std::fs::remove_dir_all(&dir);
    say("");
    say(&format!(
        "batch decisions/s: {:.0}",
        batch.throughput() * BATCH as f64
    ));
    say(&format!(
        "single-decision throughput / trivial-endpoint throughput: {:.2}",
        single.throughput() / trivial.throughput()
    ));
    Ok(())
}

/// Groups with conditional policies, users spread over them; returns the users' emails.
async fn populate(target: &Target) -> Result<Vec<String>, String> {
    let me = target
        .send(reqwest::Method::GET, "/iam/v1/me", None)
        .await?;
    let account = me
        .get("account")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let acc = format!("/iam/v1/accounts/{account}");
    let repo = format!("/iam/v1/repo/account/{account}");
    let groups: Vec<Value> = (0..GROUPS)
        .map(|i| json!({ "name": format!("team-{i}") }))
        .collect();
    let created = target
        .send(
            reqwest::Method::POST,
            &format!("{acc}/groups"),
            Some(&json!(groups)),
        )
        .await?;
    let group_ids: Vec<String> = created
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|g| g.get("uuid").and_then(Value::as_str).map(str::to_owned))
        .collect();
    for (i, group) in group_ids.iter().enumerate() {
        let text = format!(
            "ALLOW storage:logs:read, storage:spans:read WHERE storage:bucket-name startsWith \"team{i}_\";\n\
             ALLOW settings:objects:read WHERE settings:schemaId IN (\"builtin:a{i}\", \"builtin:shared\");\n\
             DENY settings:objects:write WHERE settings:schemaId = \"builtin:locked\";\n\
             ALLOW settings:objects:write;"
        );
        let policy = target
            .send(
                reqwest::Method::POST,
                &format!("{repo}/policies"),
                Some(&json!({ "name": format!("team {i}"), "statementQuery": text })),
            )
            .await?;
        let uuid = policy
            .get("uuid")
            .and_then(Value::as_str)
            .unwrap_or_default();
        target
            .send(
                reqwest::Method::POST,
                &format!("{repo}/bindings/{uuid}/{group}"),
                Some(&json!({})),
            )
            .await?;
    }
    let mut users = Vec::with_capacity(USERS);
    for i in 0..USERS {
        let email = format!("user{i}@example.com");
        target
            .send(
                reqwest::Method::POST,
                &format!("{acc}/users"),
                Some(&json!({ "email": email })),
            )
            .await?;
        // Each user is in its own team's group and in every seventh other one.
        let mine: Vec<&String> = group_ids
            .iter()
            .enumerate()
            .filter(|(g, _)| (g + i) % 7 == 0 || *g == i % GROUPS)
            .map(|(_, id)| id)
            .collect();
        target
            .send(
                reqwest::Method::POST,
                &format!("{acc}/users/{email}"),
                Some(&json!(mine)),
            )
            .await?;
        users.push(email);
    }
    Ok(users)
}

fn decision(users: &[String], i: usize) -> Value {
    let user = users.get(i % users.len().max(1)).map_or("", String::as_str);
    let team = (i / 3) % GROUPS;
    match i % 4 {
        0 => {
            json!({ "principal": user, "permission": "storage:logs:read", "environment": "env-prod", "attributes": { "storage:bucket-name": format!("team{team}_app") } })
        }
        1 => {
            json!({ "principal": user, "permission": "settings:objects:read", "environment": "env-prod", "attributes": { "settings:schemaId": "builtin:shared" } })
        }
        2 => {
            json!({ "principal": user, "permission": "settings:objects:write", "environment": "env-prod", "attributes": { "settings:schemaId": "builtin:locked" } })
        }
        _ => {
            json!({ "principal": user, "permission": "storage:spans:read", "environment": "env-prod" })
        }
    }
}

fn single_bodies(users: &[String]) -> Vec<String> {
    (0..1024).map(|i| decision(users, i).to_string()).collect()
}

fn batch_bodies(users: &[String]) -> Vec<String> {
    (0..16)
        .map(|b| json!({ "requests": (0..BATCH).map(|i| decision(users, b * BATCH + i)).collect::<Vec<_>>() }).to_string())
        .collect()
}

enum Workload {
    Health,
    Single(Vec<String>),
    Batch(Vec<String>),
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
