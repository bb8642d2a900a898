//! Warden's server: the HTTP API (SPEC §10) around the engine and the store.
//!
//! - [`bootstrap`]: start-up and first-start account creation; [`recovery`]: an administrator
//!   restored by the operator when none is left;
//! - [`state`]: shared state (store, model, snapshot, clock);
//! - [`service`]: every use case that changes Warden, the write pipeline (plan → check the
//!   effect: no escalation, an administrator kept → commit → publish) and self-authorisation;
//!   no HTTP types;
//! - [`auth`]: bearer tokens;
//! - [`hashing`]: the bounded pool every argon2id computation runs in; [`throttle`]: failure
//!   limits per source;
//! - [`intake`]: what every request's body goes through first (size limit, read deadline);
//! - [`api`]: the routes and their handlers; [`console`]: the administrators' web console;
//! - [`model`], [`records`]: what is stored and the in-memory model derived from it.

pub mod access_log;
pub mod api;
pub mod app;
pub mod auth;
pub mod bootstrap;
pub mod console;
pub mod error;
pub mod extract;
#[doc(hidden)]
pub mod fuzz_checks;
pub mod hashing;
pub mod histogram;
pub mod intake;
pub mod last_use;
pub mod limits;
pub mod model;
pub mod rate;
pub mod records;
pub mod replay;
pub mod replication;
pub mod samples;
pub mod secrets;
pub mod service;
pub use service::recovery;
pub mod state;
pub mod throttle;
pub mod tls;
pub mod usage;

use std::net::SocketAddr;
use std::time::Duration;

use tower::ServiceExt as _;

pub use bootstrap::{Bootstrapped, Config, StartError, start};
pub use state::{AppState, Clock, ManualClock, SystemClock};

/// Serves the API over plain HTTP on `listener` until `shutdown` resolves, then lets the
/// requests in flight finish.
///
/// Connections speak HTTP/1.1. A client has [`Config::read_timeout`] to send a request's headers
/// (counted from the connection's start or the previous response, so an idle keep-alive
/// connection is closed after it too) and as long again for its body ([`intake`]): a slow client
/// cannot hold a connection, or a task, for ever.
pub async fn serve(
    state: AppState,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_with(state, listener, None, shutdown).await
}

/// [`serve`] over TLS: the handshake must finish within [`Config::read_timeout`]; HTTP/2 when the
/// client offers it (ALPN), HTTP/1.1 otherwise. Requests are marked as HTTPS
/// (`X-Forwarded-Proto: https`, replacing what the client sent), so the console's cookies are
/// `Secure` with the `__Host-` prefix.
pub async fn serve_tls(
    state: AppState,
    listener: tokio::net::TcpListener,
    tls: std::sync::Arc<tls::Tls>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_with(state, listener, Some(tls), shutdown).await
}

async fn serve_with(
    state: AppState,
    listener: tokio::net::TcpListener,
    tls: Option<std::sync::Arc<tls::Tls>>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = app::router(state.clone());
    let read_timeout = state.read_timeout;
    // Connections beyond the cap are answered at once and closed, never queued.
    let slots = std::sync::Arc::new(tokio::sync::Semaphore::new(state.max_connections));
    // Connections hold a receiver each; a send asks them to finish, and `closed` waits for them.
    let (closing, open) = tokio::sync::watch::channel(());
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut shutdown => break,
        };
        let (stream, remote) = match accepted {
            Ok(accepted) => accepted,
            Err(error) => {
                // Out of file descriptors, or a connection gone before it was accepted: keep
                // serving the others, without spinning.
                tracing::warn!(%error, "cannot accept a connection");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let Ok(slot) = std::sync::Arc::clone(&slots).try_acquire_owned() else {
            state.metrics.connection_refused();
            tokio::spawn(refuse_connection(stream, tls.is_some()));
            continue;
        };
        let connection = Connection {
            app: app.clone(),
            remote,
            read_timeout,
            open: open.clone(),
        };
        let acceptor = tls.as_ref().map(|tls| tls.acceptor());
        tokio::spawn(async move {
            let _slot = slot;
            let Some(acceptor) = acceptor else {
                return connection.serve(stream, false, false).await;
            };
            let handshake = tokio::time::timeout(read_timeout, acceptor.accept(stream)).await;
            let Ok(Ok(stream)) = handshake else {
                return;
            };
            let h2 = stream.get_ref().1.alpn_protocol() == Some(b"h2");
            connection.serve(stream, true, h2).await;
        });
    }
    drop(listener);
    drop(open);
    let _ = closing.send(());
    closing.closed().await;
    if let Err(error) = state.flush_usage_at_shutdown().await {
        tracing::warn!(%error, "usage counters not flushed at shutdown");
    }
    Ok(())
}

/// Answers a connection over the cap: `503` with `Retry-After` on plain HTTP (a TLS client gets
/// the connection closed), within a second, then closes it.
async fn refuse_connection(mut stream: tokio::net::TcpStream, tls: bool) {
    use tokio::io::AsyncWriteExt as _;
    if !tls {
        let body = r#"{"error":{"code":503,"errorCode":"unavailable","message":"the server has as many connections as it accepts; retry in a second"}}"#;
        let answer = format!(
            "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\nretry-after: 1\r\nconnection: close\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        );
        let _ =
            tokio::time::timeout(Duration::from_secs(1), stream.write_all(answer.as_bytes())).await;
    }
    let _ = stream.shutdown().await;
}

/// One accepted connection and what serving it needs.
struct Connection {
    app: axum::Router,
    remote: SocketAddr,
    read_timeout: Duration,
    open: tokio::sync::watch::Receiver<()>,
}

impl Connection {
    async fn serve<S>(mut self, stream: S, https: bool, h2: bool)
    where
        S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    {
        let (app, remote) = (self.app, self.remote);
        let service = hyper::service::service_fn(
            move |mut request: hyper::Request<hyper::body::Incoming>| {
                request
                    .extensions_mut()
                    .insert(axum::extract::ConnectInfo::<SocketAddr>(remote));
                if https {
                    request.headers_mut().insert(
                        "x-forwarded-proto",
                        axum::http::HeaderValue::from_static("https"),
                    );
                }
                app.clone().oneshot(request)
            },
        );
        let io = hyper_util::rt::TokioIo::new(stream);
        if h2 {
            let mut builder =
                hyper::server::conn::http2::Builder::new(hyper_util::rt::TokioExecutor::new());
            builder
                .timer(hyper_util::rt::TokioTimer::new())
                .keep_alive_interval(Some(self.read_timeout))
                .keep_alive_timeout(self.read_timeout);
            let connection = builder.serve_connection(io, service);
            let mut connection = std::pin::pin!(connection);
            tokio::select! {
                _ = connection.as_mut() => return,
                _ = self.open.changed() => {}
            }
            connection.as_mut().graceful_shutdown();
            let _ = connection.await;
        } else {
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder
                .timer(hyper_util::rt::TokioTimer::new())
                .header_read_timeout(self.read_timeout);
            let connection = builder.serve_connection(io, service);
            let mut connection = std::pin::pin!(connection);
            tokio::select! {
                _ = connection.as_mut() => return,
                _ = self.open.changed() => {}
            }
            connection.as_mut().graceful_shutdown();
            let _ = connection.await;
        }
    }
}
