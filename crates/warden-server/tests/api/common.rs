//! A real server for HTTP tests: started in-process on a free loopback port, with its SQLite
//! file in a fresh temp directory (or a fresh PostgreSQL database when asked), and a client that
//! speaks to it over HTTP.
#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::Value;
use tokio::sync::oneshot;
use warden_client::{Method, StatusCode};
use warden_server::{AppState, Config, ManualClock};

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// 2026-05-04T10:00:00Z.
pub const START_MS: i64 = 1_777_888_800_000;

pub struct TestServer {
    pub base: String,
    pub token: String,
    pub dir: PathBuf,
    pub config: Config,
    pub state: AppState,
    pub clock: Arc<ManualClock>,
    /// The account, read once at start (the model's lock may be held by a write later).
    account: String,
    /// The API's client, without a token (`with_token` gives one with).
    pub api: warden_client::Client,
    shutdown: Option<oneshot::Sender<()>>,
    handle: Option<tokio::task::JoinHandle<()>>,
}

pub struct Reply {
    pub status: StatusCode,
    pub revision: Option<i64>,
    pub body: Value,
}

impl TestServer {
    pub async fn start() -> TestServer {
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let dir = std::env::temp_dir().join(format!("warden-api-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let config = Config {
            db: dir.join("warden.db").display().to_string(),
            token_file: dir.join("admin-token"),
            environments: vec!["env-prod".into(), "env-dev".into()],
            // Tests move the clock by days; the first start's token must outlive them.
            bootstrap_token_ttl: std::time::Duration::from_secs(400 * 24 * 3600),
            ..Config::default()
        };
        Self::start_with(config, dir).await
    }

    pub async fn start_with(config: Config, dir: PathBuf) -> TestServer {
        let clock = Arc::new(ManualClock::new(START_MS));
        let (state, _) = warden_server::start(&config, clock.clone()).await.unwrap();
        let account = state.model.lock().await.account.clone();
        // A replica joining an existing store has no token file of its own.
        let token = std::fs::read_to_string(&config.token_file)
            .map(|t| t.trim().to_owned())
            .unwrap_or_default();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (tx, rx) = oneshot::channel::<()>();
        let serving = state.clone();
        let handle = tokio::spawn(async move {
            warden_server::serve(serving, listener, async {
                let _ = rx.await;
            })
            .await
            .unwrap();
        });
        TestServer {
            base: base.clone(),
            token,
            dir,
            config,
            state,
            clock,
            account,
            api: warden_client::Client::new(&base, &warden_client::Options::default()).unwrap(),
            shutdown: Some(tx),
            handle: Some(handle),
        }
    }

    /// Stops the server and starts a new one on the same store.
    pub async fn restart(mut self) -> TestServer {
        self.stop().await;
        let token = self.token.clone();
        let mut server = Self::start_with(self.config.clone(), self.dir.clone()).await;
        server.token = token;
        server
    }

    pub async fn stop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(handle) = self.handle.take() {
            let _ = handle.await;
        }
        self.state.store.close().await;
    }

    /// A new, empty PostgreSQL database, when `WARDEN_TEST_POSTGRES_URL` is set.
    pub async fn fresh_postgres() -> Option<String> {
        let url = std::env::var("WARDEN_TEST_POSTGRES_URL").ok()?;
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let name = format!("warden_api_{}_{n}", std::process::id());
        let admin = warden_store::Store::open(&url).await.unwrap();
        admin
            .execute_raw(format!("DROP DATABASE IF EXISTS {name}"))
            .await
            .unwrap();
        admin
            .execute_raw(format!("CREATE DATABASE {name}"))
            .await
            .unwrap();
        admin.close().await;
        let (base, _) = url.rsplit_once('/').unwrap();
        Some(format!("{base}/{name}"))
    }

    /// Another server (a replica) on the same store, with its own clock.
    pub async fn replica(&self, name: &str) -> TestServer {
        let dir = self.dir.join(name);
        std::fs::create_dir_all(&dir).unwrap();
        let config = Config {
            token_file: dir.join("admin-token"),
            ..self.config.clone()
        };
        let mut replica = Self::start_with(config, dir).await;
        replica.token = self.token.clone();
        replica
    }

    pub fn account(&self) -> String {
        self.account.clone()
    }

    pub async fn call_as(
        &self,
        token: Option<&str>,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Reply {
        let client = self.api.with_token(token);
        let payload = body
            .as_ref()
            .map_or(warden_client::Payload::None, warden_client::Payload::Json);
        let answer = client
            .exchange(method, client.url_of(path).unwrap(), payload)
            .await
            .unwrap();
        Reply {
            status: answer.status,
            revision: answer.revision,
            body: answer.body,
        }
    }

    /// A request whose body is sent as it is, with its content type, and `token` (or none); the
    /// answer's body as text, whatever its status.
    pub async fn raw_as(
        &self,
        token: Option<&str>,
        method: Method,
        path: &str,
        content_type: &str,
        body: &[u8],
    ) -> warden_client::Answer<String> {
        let client = self.api.with_token(token);
        let payload = warden_client::Payload::Raw {
            content_type,
            bytes: body,
        };
        client
            .exchange_raw(method, client.url_of(path).unwrap(), payload)
            .await
            .unwrap()
    }

    /// [`TestServer::raw_as`] with the administrator's token.
    pub async fn raw(
        &self,
        method: Method,
        path: &str,
        content_type: &str,
        body: &[u8],
    ) -> warden_client::Answer<String> {
        self.raw_as(Some(&self.token.clone()), method, path, content_type, body)
            .await
    }

    pub async fn call(&self, method: Method, path: &str, body: Option<Value>) -> Reply {
        self.call_as(Some(&self.token.clone()), method, path, body)
            .await
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.call(Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Reply {
        self.call(Method::POST, path, Some(body)).await
    }

    pub async fn put(&self, path: &str, body: Value) -> Reply {
        self.call(Method::PUT, path, Some(body)).await
    }

    pub async fn delete(&self, path: &str) -> Reply {
        self.call(Method::DELETE, path, None).await
    }
}
