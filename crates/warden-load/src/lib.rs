//! What the load test (`src/main.rs`) and the instruction-count driver
//! (`examples/decision-cost.rs`) share: an in-process Warden server on a temporary SQLite store,
//! the account they fill it with, and the pre-serialised decision bodies they send — so that the
//! driver measures exactly the requests whose throughput the load test reports.

use std::path::PathBuf;
use std::sync::Arc;

use std::collections::BTreeMap;

use warden_api::bindings::BindingInput;
use warden_api::decisions::{AttributeValue, BatchRequest, DecisionRequest};
use warden_api::groups::GroupInput;
use warden_api::policies::PolicyInput;
use warden_api::users::UserInput;
use warden_client::{ClientError, Level, Method, Options, Payload};
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
    let api = &target.client;
    let failed = |what: &str| {
        let what = what.to_owned();
        move |e: ClientError| format!("{what}: {e}")
    };
    let account = api.me().await.map_err(failed("who am I"))?.body.account;
    let level = Level::Account(account.clone());
    // AuthZEN callers name the attributes as properties of the resource.
    let mapping = warden_api::authzen::Mapping {
        resource_properties: BTreeMap::from([
            ("bucket".to_owned(), "storage:bucket-name".to_owned()),
            ("schema".to_owned(), "settings:schemaId".to_owned()),
        ]),
        ..warden_api::authzen::Mapping::default()
    };
    api.put_authzen_mapping(&account, &mapping)
        .await
        .map_err(failed("map AuthZEN properties"))?;
    let groups: Vec<GroupInput> = (0..GROUPS)
        .map(|i| GroupInput {
            name: format!("team-{i}"),
            description: String::new(),
            federated_attribute_values: Vec::new(),
        })
        .collect();
    let created = api
        .create_groups(&account, &groups)
        .await
        .map_err(failed("create the groups"))?;
    let group_ids: Vec<String> = created.body.into_iter().map(|g| g.uuid).collect();
    for (i, group) in group_ids.iter().enumerate() {
        let text = format!(
            "ALLOW storage:logs:read, storage:spans:read WHERE storage:bucket-name startsWith \"team{i}_\";\n\
             ALLOW settings:objects:read WHERE settings:schemaId IN (\"builtin:a{i}\", \"builtin:shared\");\n\
             DENY settings:objects:write WHERE settings:schemaId = \"builtin:locked\";\n\
             ALLOW settings:objects:write;"
        );
        let policy = PolicyInput {
            name: format!("team {i}"),
            description: String::new(),
            tags: Vec::new(),
            statement_query: text,
            category: None,
        };
        let uuid = api
            .create_policy(&level, &policy)
            .await
            .map_err(failed("create a policy"))?
            .body
            .uuid;
        api.bind(&level, &uuid, group, &BindingInput::default())
            .await
            .map_err(failed("bind a policy"))?;
    }
    let mut users = Vec::with_capacity(USERS);
    for i in 0..USERS {
        let email = format!("user{i}@example.com");
        let user = UserInput {
            email: email.clone(),
            name: String::new(),
            surname: String::new(),
            uid: String::new(),
        };
        api.create_user(&account, &user)
            .await
            .map_err(failed("create a user"))?;
        // Each user is in its own team's group and in every seventh other one.
        let mine: Vec<String> = group_ids
            .iter()
            .enumerate()
            .filter(|(g, _)| (g + i) % 7 == 0 || *g == i % GROUPS)
            .map(|(_, id)| id.clone())
            .collect();
        api.add_user_to_groups(&account, &email, &mine)
            .await
            .map_err(failed("add a user to groups"))?;
        users.push(email);
    }
    Ok(users)
}

fn decision(users: &[String], i: usize) -> DecisionRequest {
    let user = users.get(i % users.len().max(1)).cloned();
    let team = (i / 3) % GROUPS;
    let one =
        |name: &str, value: String| BTreeMap::from([(name.to_owned(), AttributeValue::One(value))]);
    let (permission, attributes) = match i % 4 {
        0 => (
            "storage:logs:read",
            one("storage:bucket-name", format!("team{team}_app")),
        ),
        1 => (
            "settings:objects:read",
            one("settings:schemaId", "builtin:shared".to_owned()),
        ),
        2 => (
            "settings:objects:write",
            one("settings:schemaId", "builtin:locked".to_owned()),
        ),
        _ => ("storage:spans:read", BTreeMap::new()),
    };
    DecisionRequest {
        principal: user,
        permission: permission.to_owned(),
        environment: Some("env-prod".to_owned()),
        attributes,
        token: None,
        time: None,
        min_revision: None,
    }
}

/// A body as JSON text (the types here always serialise).
fn json_text<T: serde::Serialize>(body: &T) -> String {
    serde_json::to_string(body).unwrap_or_default()
}

/// 1,024 bodies for `POST /iam/v1/authorize`.
pub fn single_bodies(users: &[String]) -> Vec<String> {
    (0..1024).map(|i| json_text(&decision(users, i))).collect()
}

/// 1,024 bodies for `POST /access/v1/evaluation`: the same decisions as [`single_bodies`], in
/// AuthZEN's words (the permission as the action, the attributes as mapped resource properties).
pub fn evaluation_bodies(users: &[String]) -> Vec<String> {
    (0..1024)
        .map(|i| {
            let request = decision(users, i);
            let properties = request
                .attributes
                .iter()
                .map(|(name, value)| {
                    let property = if name == "storage:bucket-name" {
                        "bucket"
                    } else {
                        "schema"
                    };
                    (property.to_owned(), serde_json::json!(value))
                })
                .collect();
            json_text(&warden_api::authzen::EvaluationRequest {
                subject: warden_api::authzen::Subject {
                    kind: "user".to_owned(),
                    id: request.principal.unwrap_or_default(),
                    properties: None,
                },
                action: warden_api::authzen::Action {
                    name: request.permission,
                    properties: None,
                },
                resource: warden_api::authzen::Resource {
                    kind: "record".to_owned(),
                    id: format!("r{i}"),
                    properties: Some(properties),
                },
                context: Some(BTreeMap::from([(
                    "environment".to_owned(),
                    serde_json::json!("env-prod"),
                )])),
            })
        })
        .collect()
}

/// 16 bodies of [`BATCH`] decisions each for `POST /iam/v1/authorize/batch`.
pub fn batch_bodies(users: &[String]) -> Vec<String> {
    (0..16)
        .map(|b| {
            json_text(&BatchRequest {
                requests: (0..BATCH).map(|i| decision(users, b * BATCH + i)).collect(),
                min_revision: None,
            })
        })
        .collect()
}
