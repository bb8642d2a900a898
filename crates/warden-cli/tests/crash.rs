//! Crash safety: the real `warden serve` as a child process, acknowledged writes streamed at it
//! from several clients (policies, groups, users, bindings, memberships), SIGKILL at a random
//! moment, a restart on the same store — several rounds, on SQLite and on PostgreSQL.
//!
//! After every kill: the audit chain verifies (`warden audit verify --db …`), every revision has
//! exactly one audit entry (a write is all there or not at all), and after the restart every
//! acknowledged write is there with exactly the state it was acknowledged with, its decisions
//! included. At the end the server that lived through the last writes and a fresh process on the
//! same store answer every read and every decision alike.
//!
//! A failing run prints its seed; `WARDEN_CRASH_SEED=<seed>` replays the same kill moments.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // test code fails loudly
#![allow(clippy::print_stderr)] // the seed of the run, and why PostgreSQL is skipped

use std::hash::{BuildHasher, Hasher};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use warden_client::Method;

const ROUNDS: usize = 3;
const WRITERS: usize = 3;
const POLICY: &str = "ALLOW storage:logs:read WHERE storage:bucket-name = \"${bindParam:bucket}\";";

// ---- the child process --------------------------------------------------------------------------

/// A running `warden serve`.
struct Server {
    child: Child,
    url: String,
    /// Kept open: the child's stdout, so that it can write to it until it is killed.
    _stdout: BufReader<ChildStdout>,
}

impl Server {
    /// Starts `warden serve` on `db` and waits until it listens.
    #[expect(
        clippy::zombie_processes,
        reason = "the child is reaped by `Server::kill`, or here when it stops by itself"
    )]
    fn start(dir: &Path, db: &str, log: &str) -> Server {
        let stderr = std::fs::File::create(dir.join(log)).unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_warden"))
            .args([
                "serve",
                "--db",
                db,
                "--listen",
                "127.0.0.1:0",
                "--environment",
                "env-prod",
            ])
            .arg("--token-file")
            .arg(dir.join("admin-token"))
            .current_dir(dir)
            .env_remove("WARDEN_LISTEN")
            .env_remove("WARDEN_DB")
            .env_remove("WARDEN_READ_TIMEOUT")
            .env("WARDEN_LOG_FILTER", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        loop {
            line.clear();
            if stdout.read_line(&mut line).unwrap() == 0 {
                let status = child.wait().unwrap();
                panic!(
                    "`warden serve` stopped ({status}) before listening:\n{}",
                    std::fs::read_to_string(dir.join(log)).unwrap_or_default()
                );
            }
            if let Some(rest) = line.trim().strip_prefix("Warden listening on ") {
                let url = rest.split(' ').next().unwrap().to_owned();
                return Server {
                    child,
                    url,
                    _stdout: stdout,
                };
            }
        }
    }

    /// SIGKILL to this child (by its pid, through `Child::kill`), and reaps it.
    fn kill(self) {
        drop(self);
    }
}

/// Also when a check fails half-way: no `warden serve` outlives its test.
impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `warden audit verify --db DB`: the chain is intact (exit 0); returns the number of entries.
fn verify_audit(db: &str) -> i64 {
    let output = Command::new(env!("CARGO_BIN_EXE_warden"))
        .args(["audit", "verify", "--db", db, "--format", "json"])
        .env_remove("WARDEN_DB")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "audit verify failed: {stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report["valid"], true, "{report}");
    report["entries"].as_i64().unwrap()
}

// ---- what was acknowledged ----------------------------------------------------------------------

/// One write that got a 2xx, with the state it was acknowledged with.
#[derive(Debug, Clone)]
enum Ack {
    Policy {
        uuid: String,
        name: String,
    },
    Group {
        uuid: String,
        name: String,
        description: String,
    },
    Binding {
        policy: String,
        group: String,
        bucket: String,
    },
    User {
        uid: String,
        email: String,
    },
    Membership {
        email: String,
        group: String,
    },
}

/// A small deterministic generator (xorshift), seeded per run.
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn seed() -> u64 {
    std::env::var("WARDEN_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
            hasher.write_u128(
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap()
                    .as_nanos(),
            );
            hasher.finish() | 1
        })
}

/// The HTTP side: a client with the administrator's token.
#[derive(Clone)]
struct Api {
    client: warden_client::Client,
    account: String,
}

impl Api {
    async fn connect(url: &str, token: &str) -> Api {
        let options = warden_client::Options {
            timeout: Duration::from_secs(20),
            ..warden_client::Options::default()
        };
        let client = warden_client::Client::new(url, &options)
            .unwrap()
            .with_token(Some(token));
        let me = client
            .send::<Value>(
                Method::GET,
                client.url(&["iam", "v1", "me"]),
                warden_client::Payload::None,
            )
            .await
            .unwrap()
            .body;
        let account = me["account"].as_str().unwrap().to_owned();
        Api { client, account }
    }

    /// `Ok((status, body))` for any answer; `Err` when there was none (the server died).
    async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<(u16, Value), String> {
        let url = self.client.url_of(path).map_err(|e| e.to_string())?;
        let payload = body
            .as_ref()
            .map_or(warden_client::Payload::None, warden_client::Payload::Json);
        let answer = self
            .client
            .exchange(method, url, payload)
            .await
            .map_err(|e| e.to_string())?;
        Ok((answer.status.as_u16(), answer.body))
    }

    async fn get(&self, path: &str) -> Value {
        let (status, body) = self.call(Method::GET, path, None).await.unwrap();
        assert_eq!(status, 200, "GET {path}: {body}");
        body
    }

    fn acc(&self) -> String {
        format!("/iam/v1/accounts/{}", self.account)
    }

    fn repo(&self) -> String {
        format!("/iam/v1/repo/account/{}", self.account)
    }
}

/// Writes until the server stops answering; every 2xx is recorded before the next write starts.
/// Any other answer from a live server fails the test.
async fn writer(
    api: Api,
    tag: String,
    acks: Arc<Mutex<Vec<Ack>>>,
    stop: Arc<AtomicBool>,
) -> Result<(), String> {
    let acknowledged = |ack: Ack| acks.lock().unwrap().push(ack);
    let expect = |what: &str, answer: Result<(u16, Value), String>, status: u16| match answer {
        Ok((got, body)) if got == status => Ok(Some(body)),
        Ok((got, body)) => Err(format!("{what}: {got} {body}")),
        // No answer: the server was killed; whether the write happened is unknown.
        Err(_) => Ok(None),
    };
    let name = format!("crash {tag}");
    let answer = api
        .call(
            Method::POST,
            &format!("{}/policies", api.repo()),
            Some(json!({ "name": name, "statementQuery": POLICY })),
        )
        .await;
    let Some(body) = expect("policy", answer, 201)? else {
        return Ok(());
    };
    let policy = body["uuid"].as_str().unwrap().to_owned();
    acknowledged(Ack::Policy {
        uuid: policy.clone(),
        name,
    });
    for n in 0.. {
        if stop.load(Ordering::SeqCst) {
            break;
        }
        let name = format!("{tag}-{n}");
        let description = format!("group {n} of writer {tag}");
        let answer = api
            .call(
                Method::POST,
                &format!("{}/groups", api.acc()),
                Some(json!([{ "name": name, "description": description }])),
            )
            .await;
        let Some(body) = expect("group", answer, 201)? else {
            return Ok(());
        };
        let group = body[0]["uuid"].as_str().unwrap().to_owned();
        acknowledged(Ack::Group {
            uuid: group.clone(),
            name: name.clone(),
            description,
        });

        let bucket = format!("bucket-{name}");
        let answer = api
            .call(
                Method::POST,
                &format!("{}/bindings/{policy}/{group}", api.repo()),
                Some(json!({ "parameters": { "bucket": bucket } })),
            )
            .await;
        if expect("binding", answer, 204)?.is_none() {
            return Ok(());
        }
        acknowledged(Ack::Binding {
            policy: policy.clone(),
            group: group.clone(),
            bucket,
        });

        let email = format!("{name}@crash.example");
        let answer = api
            .call(
                Method::POST,
                &format!("{}/users", api.acc()),
                Some(json!({ "email": email })),
            )
            .await;
        let Some(body) = expect("user", answer, 201)? else {
            return Ok(());
        };
        acknowledged(Ack::User {
            uid: body["uid"].as_str().unwrap().to_owned(),
            email: email.clone(),
        });

        let answer = api
            .call(
                Method::POST,
                &format!("{}/users/{email}", api.acc()),
                Some(json!([group])),
            )
            .await;
        if expect("membership", answer, 201)?.is_none() {
            return Ok(());
        }
        acknowledged(Ack::Membership { email, group });
    }
    Ok(())
}

/// Every acknowledged write is stored with exactly its acknowledged state, and decides so.
async fn check_acknowledged(api: &Api, acks: &[Ack]) {
    let mut allowed: Vec<(String, String)> = Vec::new();
    for ack in acks {
        match ack {
            Ack::Policy { uuid, name } => {
                let policy = api.get(&format!("{}/policies/{uuid}", api.repo())).await;
                assert_eq!(
                    (policy["name"].as_str(), policy["statementQuery"].as_str()),
                    (Some(name.as_str()), Some(POLICY))
                );
            }
            Ack::Group {
                uuid,
                name,
                description,
            } => {
                let group = api.get(&format!("{}/groups/{uuid}", api.acc())).await;
                assert_eq!(
                    (group["name"].as_str(), group["description"].as_str()),
                    (Some(name.as_str()), Some(description.as_str()))
                );
            }
            Ack::Binding {
                policy,
                group,
                bucket,
            } => {
                let bindings = api
                    .get(&format!("{}/bindings/{policy}/{group}", api.repo()))
                    .await;
                assert_eq!(
                    bindings["policyBindings"],
                    json!([{ "policyUuid": policy, "parameters": { "bucket": bucket }, "metadata": {}, "boundaries": [], "groups": [group] }])
                );
            }
            Ack::User { uid, email } => {
                let user = api.get(&format!("{}/users/{email}", api.acc())).await;
                assert_eq!(
                    (user["uid"].as_str(), user["email"].as_str()),
                    (Some(uid.as_str()), Some(email.as_str()))
                );
            }
            Ack::Membership { email, group } => {
                let user = api.get(&format!("{}/users/{email}", api.acc())).await;
                let groups: Vec<&str> = user["groups"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter_map(|g| g["uuid"].as_str())
                    .collect();
                assert_eq!(groups, [group.as_str()], "{email}");
                let bucket = acks.iter().find_map(|a| match a {
                    Ack::Binding {
                        group: g, bucket, ..
                    } if g == group => Some(bucket.clone()),
                    _ => None,
                });
                allowed.push((email.clone(), bucket.unwrap()));
            }
        }
    }
    // Each member of a bound group may read its own bucket, and no other.
    let mut requests = Vec::new();
    for (i, (email, bucket)) in allowed.iter().enumerate() {
        let other = &allowed[(i + 1) % allowed.len()].1;
        requests.push(json!({ "principal": email, "permission": "storage:logs:read", "attributes": { "storage:bucket-name": bucket } }));
        if other != bucket {
            requests.push(json!({ "principal": email, "permission": "storage:logs:read", "attributes": { "storage:bucket-name": other } }));
        }
    }
    if requests.is_empty() {
        return;
    }
    let answers = decisions(api, requests.clone()).await;
    for (request, answer) in requests.iter().zip(answers) {
        let own = allowed.iter().any(|(email, bucket)| {
            request["principal"] == email.as_str()
                && request["attributes"]["storage:bucket-name"] == bucket.as_str()
        });
        assert_eq!(
            answer["decision"],
            if own { "ALLOW" } else { "DENY" },
            "{request}"
        );
    }
}

/// `POST /iam/v1/authorize/batch`, a thousand at a time.
async fn decisions(api: &Api, requests: Vec<Value>) -> Vec<Value> {
    let mut out = Vec::new();
    for chunk in requests.chunks(1_000) {
        let (status, body) = api
            .call(
                Method::POST,
                "/iam/v1/authorize/batch",
                Some(json!({ "requests": chunk })),
            )
            .await
            .unwrap();
        assert_eq!(status, 200, "{body}");
        out.extend(body["results"].as_array().unwrap().iter().cloned());
    }
    out
}

/// Every read the comparison covers, and a decision for every user about every bucket.
async fn observe(api: &Api) -> Value {
    let users = api.get(&format!("{}/users", api.acc())).await;
    let groups = api.get(&format!("{}/groups", api.acc())).await;
    let policies = api.get(&format!("{}/policies", api.repo())).await;
    let bindings = api.get(&format!("{}/bindings", api.repo())).await;
    let emails: Vec<String> = users["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["email"].as_str().unwrap().to_owned())
        .collect();
    let mut memberships = Vec::new();
    for email in &emails {
        let user = api.get(&format!("{}/users/{email}", api.acc())).await;
        memberships.push(json!([email, user["groups"]]));
    }
    let buckets: Vec<String> = emails
        .iter()
        .filter_map(|e| e.strip_suffix("@crash.example"))
        .map(|name| format!("bucket-{name}"))
        .chain(["nope".to_owned()])
        .collect();
    let mut requests = Vec::new();
    for email in &emails {
        for bucket in &buckets {
            requests.push(json!({ "principal": email, "permission": "storage:logs:read", "attributes": { "storage:bucket-name": bucket } }));
        }
        requests.push(json!({ "principal": email, "permission": "iam:users:write" }));
    }
    let decided: Vec<Value> = decisions(api, requests)
        .await
        .into_iter()
        .map(|d| json!([d["decision"], d["reason"], d["revision"]]))
        .collect();
    json!({ "users": users, "groups": groups, "policies": policies, "bindings": bindings, "memberships": memberships, "decisions": decided })
}

// ---- the rounds ---------------------------------------------------------------------------------

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("warden-crash-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Every revision has exactly one audit entry: each write is there whole, with its entry, or not
/// at all.
async fn check_store(db: &str) {
    let store = warden_store::Store::open(db).await.unwrap();
    let revision = store.revision().await.unwrap();
    let entries = store
        .audit(&warden_store::AuditFilter::default())
        .await
        .unwrap();
    let revisions: Vec<i64> = entries.iter().map(|e| e.revision).collect();
    assert_eq!(revisions, (1..=revision).collect::<Vec<_>>());
    store.close().await;
}

fn crash_rounds(name: &str, db: &str, dir: &Path) {
    let seed = seed();
    eprintln!("crash test on {name}: WARDEN_CRASH_SEED={seed}");
    let mut random = Random(seed);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let mut acks: Vec<Ack> = Vec::new();
    let mut token = String::new();
    for round in 0..ROUNDS {
        let started = Instant::now();
        let server = Server::start(dir, db, &format!("server-{round}.log"));
        if token.is_empty() {
            token = std::fs::read_to_string(dir.join("admin-token"))
                .unwrap()
                .trim()
                .to_owned();
        }
        let api = runtime.block_on(Api::connect(&server.url, &token));
        // What the rounds before acknowledged survived their kills.
        runtime.block_on(check_acknowledged(&api, &acks));

        let round_acks = Arc::new(Mutex::new(Vec::new()));
        let writers: Vec<_> = (0..WRITERS)
            .map(|w| {
                runtime.spawn(writer(
                    api.clone(),
                    format!("r{round}w{w}"),
                    Arc::clone(&round_acks),
                    Arc::new(AtomicBool::new(false)),
                ))
            })
            .collect();
        // A random moment once the stream is under way.
        let delay = Duration::from_millis(50 + random.below(600));
        runtime.block_on(async {
            let deadline = Instant::now() + Duration::from_secs(10);
            while round_acks.lock().unwrap().len() < 2 * WRITERS && Instant::now() < deadline {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            tokio::time::sleep(delay).await;
        });
        server.kill();
        for writer in writers {
            runtime.block_on(writer).unwrap().unwrap();
        }
        let round_acks = round_acks.lock().unwrap().clone();
        assert!(
            !round_acks.is_empty(),
            "round {round}: nothing was acknowledged"
        );
        acks.extend(round_acks);

        // The store as the kill left it.
        let entries = verify_audit(db);
        runtime.block_on(check_store(db));
        eprintln!(
            "round {round}: killed after {delay:?} into the stream, {} acknowledged writes so far, {entries} audit entries, {:?}",
            acks.len(),
            started.elapsed()
        );
    }

    // The last restart: everything acknowledged is there; then more writes (and two revocations)
    // on this server, whose snapshot is now built incrementally.
    let server = Server::start(dir, db, "server-last.log");
    let api = runtime.block_on(Api::connect(&server.url, &token));
    runtime.block_on(check_acknowledged(&api, &acks));
    let live = runtime.block_on(async {
        let last = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let stream = tokio::spawn(writer(
            api.clone(),
            "last".to_owned(),
            Arc::clone(&last),
            Arc::clone(&stop),
        ));
        tokio::time::sleep(Duration::from_millis(300)).await;
        // Revoke what two acknowledged chains granted: a binding, and a membership.
        let mut revoked = 0;
        for ack in &acks {
            match ack {
                Ack::Binding { policy, group, .. } if revoked == 0 => {
                    let (status, body) = api
                        .call(
                            Method::DELETE,
                            &format!("{}/bindings/{policy}/{group}", api.repo()),
                            None,
                        )
                        .await
                        .unwrap();
                    assert_eq!(status, 204, "{body}");
                    revoked += 1;
                }
                Ack::Membership { email, group } if revoked == 1 => {
                    let (status, body) = api
                        .call(
                            Method::DELETE,
                            &format!("{}/users/{email}/groups?group-uuid={group}", api.acc()),
                            None,
                        )
                        .await
                        .unwrap();
                    assert_eq!(status, 200, "{body}");
                    revoked += 1;
                }
                _ => {}
            }
        }
        assert_eq!(revoked, 2);
        // Both revocations took effect on this server's snapshot at once.
        let revoked: Vec<(String, String)> = revoked_grants(&acks);
        let requests: Vec<Value> = revoked
            .iter()
            .map(|(email, bucket)| json!({ "principal": email, "permission": "storage:logs:read", "attributes": { "storage:bucket-name": bucket } }))
            .collect();
        for answer in decisions(&api, requests).await {
            assert_eq!(answer["decision"], "DENY", "{answer}");
        }
        // Stopped between two writes: every write sent has been answered.
        stop.store(true, Ordering::SeqCst);
        stream.await.unwrap().unwrap();
        let last = last.lock().unwrap().clone();
        check_acknowledged(&api, &last).await;
        observe(&api).await
    });
    server.kill();
    verify_audit(db);
    runtime.block_on(check_store(db));

    // A fresh process on the same store answers exactly as the one that lived through the writes.
    let fresh = Server::start(dir, db, "server-fresh.log");
    let api = runtime.block_on(Api::connect(&fresh.url, &token));
    let rebuilt = runtime.block_on(observe(&api));
    fresh.kill();
    assert_eq!(
        live["decisions"].as_array().map(Vec::len),
        rebuilt["decisions"].as_array().map(Vec::len)
    );
    assert!(live["decisions"].as_array().unwrap().len() > 100);
    if let Some(difference) = first_difference(&live, &rebuilt, String::new()) {
        panic!("the incremental snapshot and a fresh rebuild differ at {difference}");
    }
}

/// (member, bucket) of the chains whose grant the last phase revoked: the first acknowledged
/// binding's group, and the first acknowledged membership.
fn revoked_grants(acks: &[Ack]) -> Vec<(String, String)> {
    let bucket_of = |group: &str| {
        acks.iter().find_map(|a| match a {
            Ack::Binding {
                group: g, bucket, ..
            } if g == group => Some(bucket.clone()),
            _ => None,
        })
    };
    let member_of = |group: &str| {
        acks.iter().find_map(|a| match a {
            Ack::Membership { email, group: g } if g == group => Some(email.clone()),
            _ => None,
        })
    };
    let mut out = Vec::new();
    if let Some(Ack::Binding { group, bucket, .. }) =
        acks.iter().find(|a| matches!(a, Ack::Binding { .. }))
        && let Some(email) = member_of(group)
    {
        out.push((email, bucket.clone()));
    }
    if let Some(Ack::Membership { email, group }) =
        acks.iter().find(|a| matches!(a, Ack::Membership { .. }))
        && let Some(bucket) = bucket_of(group)
    {
        out.push((email.clone(), bucket));
    }
    out
}

/// Where two JSON values first differ, with both sides there.
fn first_difference(a: &Value, b: &Value, at: String) -> Option<String> {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let keys: std::collections::BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            keys.into_iter().find_map(|key| {
                first_difference(
                    x.get(key).unwrap_or(&Value::Null),
                    y.get(key).unwrap_or(&Value::Null),
                    format!("{at}.{key}"),
                )
            })
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => x
            .iter()
            .zip(y)
            .enumerate()
            .find_map(|(i, (x, y))| first_difference(x, y, format!("{at}[{i}]"))),
        _ if a == b => None,
        _ => Some(format!("{at}: {a} vs {b}")),
    }
}

#[test]
fn acknowledged_writes_survive_sigkill_on_sqlite() {
    let dir = temp_dir("sqlite");
    let db = dir.join("warden.db").display().to_string();
    crash_rounds("SQLite", &db, &dir);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn acknowledged_writes_survive_sigkill_on_postgres() {
    let Ok(admin) = std::env::var("WARDEN_TEST_POSTGRES_URL") else {
        eprintln!("skipped: WARDEN_TEST_POSTGRES_URL is not set (scripts/with-postgres sets it)");
        return;
    };
    let name = format!("warden_crash_{}", std::process::id());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let store = warden_store::Store::open(&admin).await.unwrap();
        store
            .execute_raw(format!("DROP DATABASE IF EXISTS {name}"))
            .await
            .unwrap();
        store
            .execute_raw(format!("CREATE DATABASE {name}"))
            .await
            .unwrap();
        store.close().await;
    });
    let (base, _) = admin.rsplit_once('/').unwrap();
    let db = format!("{base}/{name}");
    let dir = temp_dir("postgres");
    crash_rounds("PostgreSQL", &db, &dir);
    let _ = std::fs::remove_dir_all(&dir);
}
