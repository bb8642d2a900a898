//! Warden's server: the HTTP API (SPEC §10) around the engine and the store.
//!
//! - [`bootstrap`]: start-up and first-start account creation;
//! - [`state`]: shared state and the write pipeline (validate → commit → publish);
//! - [`auth`], [`authz`]: bearer tokens, self-authorisation, no-escalation;
//! - [`api`]: the routes and their handlers; [`console`]: the administrators' web console;
//! - [`model`], [`records`]: what is stored and the in-memory model derived from it.

pub mod api;
pub mod auth;
pub mod authz;
pub mod bootstrap;
pub mod console;
pub mod error;
pub mod limits;
pub mod model;
pub mod records;
pub mod replay;
pub mod replication;
pub mod secrets;
pub mod state;
pub mod usage;

use std::net::SocketAddr;

pub use bootstrap::{Bootstrapped, Config, StartError, start};
pub use state::{AppState, Clock, ManualClock, SystemClock};

/// Serves the API on `listener` until `shutdown` resolves.
pub async fn serve(
    state: AppState,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = api::router(state.clone()).into_make_service_with_connect_info::<SocketAddr>();
    let served = axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await;
    if let Err(error) = state.flush_usage().await {
        tracing::warn!(%error, "usage counters not flushed at shutdown");
    }
    served
}
