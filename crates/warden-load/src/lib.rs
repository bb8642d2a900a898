//! What the load test (`src/main.rs`) and the instruction-count driver
//! (`examples/decision-cost.rs`) share: an in-process Warden server on a temporary SQLite store,
//! the account they fill it with, and the pre-serialised decision bodies they send — so that the
//! driver measures exactly the requests whose throughput the load test reports.

use std::path::PathBuf;
use std::sync::Arc;

use serde_json::{Value, json};
use warden_client::{Method, Options, Payload};
use warden_server::{AppState, Config, SystemClock};

pub const USERS: usize = 200;
pub const GROUPS: usize = 20;
/// Decisions per batch request.
pub const BATCH: usize = 100;

/// A client of the server under test.
#[derive(Debug)]
pub struct Target {
    pub base: String,
    pub token: String,
    pub client: warden_client::Client,
}

impl Target {
    /// One request of a phase: pre-serialised body, the answer read but not parsed.
    pub async fn hit(&self, path: &str, body: Option<&String>) -> Result<(), String> {
        let (method, payload) = match body {
            Some(body) => (
                Method::POST,
                Payload::Raw {
                    content_type: "application/json",
                    bytes: body.as_bytes(),
                },
            ),
            None => (Method::GET, Payload::None),
        };
        let url = self
            .client
            .url_of(path)
            .map_err(|e| format!("{path}: {e}"))?;
        let answer = self
            .client
            .exchange_raw(method, url, payload)
            .await
            .map_err(|e| format!("{path}: {e}"))?;
        if answer.status.is_success() {
            Ok(())
        } else {
            Err(format!("{path}: {}: {}", answer.status, answer.body))
        }
    }

    pub async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Value, String> {
        let url = self
            .client
            .url_of(path)
            .map_err(|e| format!("{path}: {e}"))?;
        let payload = body.map_or(Payload::None, Payload::Json);
        let answer = self
            .client
            .send::<Value>(method, url, payload)
            .await
            .map_err(|e| format!("{path}: {e}"))?;
        Ok(answer.body)
    }
}

/// A server started in-process on loopback; [`Running::stop`] shuts it down and removes its files.
#[derive(Debug)]
pub struct Running {
    pub state: AppState,
    pub target: Arc<Target>,
    dir: PathBuf,
    stop: tokio::sync::oneshot::Sender<()>,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
}

/// Starts a server on a fresh SQLite file in the temp directory, with `connections` idle
/// keep-alive connections allowed in its client's pool.
pub async fn start(connections: usize) -> Result<Running, String> {
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
    let options = Options {
        idle_connections: Some(connections),
        ..Options::default()
    };
    let client = warden_client::Client::new(&base, &options)
        .map_err(|e| e.to_string())?
        .with_token(Some(&token));
    Ok(Running {
        state,
        target: Arc::new(Target {
            base,
            token,
            client,
        }),
        dir,
        stop,
        server,
    })
}

impl Running {
    pub async fn stop(self) {
        let _ = self.stop.send(());
        let _ = self.server.await;
        self.state.store.close().await;
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Groups with conditional policies, users spread over them; returns the users' emails.
pub async fn populate(target: &Target) -> Result<Vec<String>, String> {
    let me = target.send(Method::GET, "/iam/v1/me", None).await?;
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
        .send(Method::POST, &format!("{acc}/groups"), Some(&json!(groups)))
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
                Method::POST,
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
                Method::POST,
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
                Method::POST,
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
                Method::POST,
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

/// 1,024 bodies for `POST /iam/v1/authorize`.
pub fn single_bodies(users: &[String]) -> Vec<String> {
    (0..1024).map(|i| decision(users, i).to_string()).collect()
}

/// 16 bodies of [`BATCH`] decisions each for `POST /iam/v1/authorize/batch`.
pub fn batch_bodies(users: &[String]) -> Vec<String> {
    (0..16)
        .map(|b| json!({ "requests": (0..BATCH).map(|i| decision(users, b * BATCH + i)).collect::<Vec<_>>() }).to_string())
        .collect()
}
