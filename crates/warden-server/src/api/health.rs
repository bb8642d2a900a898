//! `GET /health` and `GET /metrics` (Prometheus text), and the request counter behind them. Both
//! answer without a token: they reveal counts, never directory contents.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use warden_api::service::Health;

use crate::state::AppState;

#[derive(Debug, Default)]
pub struct Metrics {
    requests: [AtomicU64; 5],
    allowed: AtomicU64,
    denied: AtomicU64,
}

impl Metrics {
    pub fn decision(&self, allowed: bool) {
        let counter = if allowed { &self.allowed } else { &self.denied };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts a batch's decisions at once: one update of each shared counter per batch rather
    /// than one per decision.
    pub fn decisions(&self, allowed: u64, denied: u64) {
        for (counter, n) in [(&self.allowed, allowed), (&self.denied, denied)] {
            if n > 0 {
                counter.fetch_add(n, Ordering::Relaxed);
            }
        }
    }
}

pub async fn count(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let class = usize::from(response.status().as_u16() / 100)
        .saturating_sub(1)
        .min(4);
    if let Some(counter) = state.metrics.requests.get(class) {
        counter.fetch_add(1, Ordering::Relaxed);
    }
    response
}

#[utoipa::path(
    get,
    path = "/health",
    tag = "service",
    operation_id = "health",
    summary = "Liveness and the snapshot's revision",
    description = "Answers without a token.",
    responses((status = 200, description = "The server is up", body = Health)),
    security(()),
)]
pub async fn health(State(state): State<AppState>) -> axum::Json<Health> {
    let store = match state.store.backend() {
        warden_store::Backend::Sqlite => "sqlite",
        warden_store::Backend::Postgres => "postgres",
    };
    axum::Json(Health {
        status: "ok".to_owned(),
        revision: state.snapshot().revision,
        store: store.to_owned(),
    })
}

#[utoipa::path(
    get,
    path = "/metrics",
    tag = "service",
    operation_id = "metrics",
    summary = "Prometheus metrics",
    description = "Counts of requests, decisions and the directory, in Prometheus' text format. \
        Answers without a token.",
    responses((status = 200, description = "The metrics", body = String,
        content_type = "text/plain")),
    security(()),
)]
pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    let snapshot = state.snapshot();
    let directory = snapshot.directory();
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# HELP warden_http_requests_total HTTP requests answered, by status class."
    );
    let _ = writeln!(out, "# TYPE warden_http_requests_total counter");
    for (i, counter) in state.metrics.requests.iter().enumerate() {
        let _ = writeln!(
            out,
            "warden_http_requests_total{{class=\"{}xx\"}} {}",
            i + 1,
            counter.load(Ordering::Relaxed)
        );
    }
    let _ = writeln!(
        out,
        "# HELP warden_decisions_total Decisions made, by outcome."
    );
    let _ = writeln!(out, "# TYPE warden_decisions_total counter");
    let _ = writeln!(
        out,
        "warden_decisions_total{{outcome=\"allow\"}} {}",
        state.metrics.allowed.load(Ordering::Relaxed)
    );
    let _ = writeln!(
        out,
        "warden_decisions_total{{outcome=\"deny\"}} {}",
        state.metrics.denied.load(Ordering::Relaxed)
    );
    let gauges = [
        (
            "warden_snapshot_revision",
            "Store revision of the snapshot serving decisions.",
            snapshot.revision as usize,
        ),
        (
            "warden_principals",
            "Users and service users.",
            directory.principal_count(),
        ),
        ("warden_groups", "Groups.", directory.group_count()),
        (
            "warden_policies",
            "Policies, global ones included.",
            directory.policy_count(),
        ),
        (
            "warden_bindings",
            "Policy bindings.",
            directory.binding_count(),
        ),
    ];
    for (name, help, value) in gauges {
        let _ = writeln!(
            out,
            "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {value}"
        );
    }
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], out)
}
