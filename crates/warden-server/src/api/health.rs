//! `GET /health` (liveness), `GET /ready` (the store reachable and the snapshot current) and
//! `GET /metrics` (Prometheus text), and the counters and latency histograms behind them. They
//! answer without a token: they reveal counts and timings, never directory contents.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use warden_api::service::{Health, Ready};

use crate::histogram::Histogram;
use crate::state::AppState;

#[derive(Debug, Default)]
pub struct Metrics {
    requests: [AtomicU64; 5],
    allowed: AtomicU64,
    denied: AtomicU64,
    /// Latency per (method, route template): as many entries as the router has routes.
    routes: RwLock<HashMap<(String, String), Arc<Histogram>>>,
    /// Store transactions of writes, commit included.
    pub store_writes: Histogram,
    /// Snapshot builds and incremental updates made by writes.
    pub snapshot_builds: Histogram,
    /// Bearer tokens refused, by [`crate::auth::TokenProblem`] (invalid, inactive, expired,
    /// owner deactivated).
    token_refusals: [AtomicU64; 4],
    /// Console sign-ins refused: wrong credentials, and refused by the source's failure limit.
    sign_in_failed: AtomicU64,
    sign_in_throttled: AtomicU64,
    /// Connections answered 503 because the server had as many as it accepts.
    connections_refused: AtomicU64,
}

/// Label values of [`Metrics::token_refusals`], in order.
pub const TOKEN_REFUSAL_REASONS: [&str; 4] =
    ["invalid", "inactive", "expired", "owner_deactivated"];

impl Metrics {
    pub fn token_refused(&self, reason: usize) {
        if let Some(counter) = self.token_refusals.get(reason) {
            counter.fetch_add(1, Ordering::Relaxed);
        }
    }

    pub fn connection_refused(&self) {
        self.connections_refused.fetch_add(1, Ordering::Relaxed);
    }

    pub fn sign_in_refused(&self, throttled: bool) {
        let counter = if throttled {
            &self.sign_in_throttled
        } else {
            &self.sign_in_failed
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    fn route(&self, method: &str, route: &str) -> Arc<Histogram> {
        let key = (method.to_owned(), route.to_owned());
        if let Some(found) = self
            .routes
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(&key)
        {
            return Arc::clone(found);
        }
        let mut routes = self
            .routes
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        Arc::clone(routes.entry(key).or_default())
    }

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
    let started = Instant::now();
    let method = request.method().as_str().to_owned();
    // Unrouted requests share one series: their paths are the caller's, not ours.
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("(no route)", MatchedPath::as_str)
        .to_owned();
    let response = next.run(request).await;
    state
        .metrics
        .route(&method, &route)
        .observe(started.elapsed());
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
    render_latencies(&mut out, &state.metrics);
    render_refusals(&mut out, &state);
    let age_ms = state.now_ms() - state.fresh_at.load(Ordering::SeqCst);
    let _ = writeln!(
        out,
        "# HELP warden_store_freshness_seconds Time since this replica last read the store's revision successfully.\n# TYPE warden_store_freshness_seconds gauge\nwarden_store_freshness_seconds {}",
        age_ms.max(0) as f64 / 1000.0
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

fn render_latencies(out: &mut String, metrics: &Metrics) {
    let _ = writeln!(
        out,
        "# HELP warden_http_request_duration_seconds Time to answer, by method and route template.\n# TYPE warden_http_request_duration_seconds histogram"
    );
    let routes: Vec<((String, String), Arc<Histogram>)> = {
        let map = metrics
            .routes
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut routes: Vec<_> = map
            .iter()
            .map(|(k, v)| (k.clone(), Arc::clone(v)))
            .collect();
        routes.sort_by(|a, b| a.0.cmp(&b.0));
        routes
    };
    for ((method, route), histogram) in routes {
        let labels = format!("method=\"{method}\",route=\"{}\"", route.replace('"', "'"));
        histogram.render(out, "warden_http_request_duration_seconds", &labels);
    }
    for (name, help, histogram) in [
        (
            "warden_store_write_seconds",
            "Store transactions of writes, commit included.",
            &metrics.store_writes,
        ),
        (
            "warden_snapshot_build_seconds",
            "Snapshot builds and incremental updates made by writes.",
            &metrics.snapshot_builds,
        ),
    ] {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} histogram");
        histogram.render(out, name, "");
    }
}

fn render_refusals(out: &mut String, state: &AppState) {
    let metrics = &state.metrics;
    let _ = writeln!(
        out,
        "# HELP warden_token_refusals_total Bearer tokens refused, by reason.\n# TYPE warden_token_refusals_total counter"
    );
    for (reason, counter) in TOKEN_REFUSAL_REASONS.iter().zip(&metrics.token_refusals) {
        let _ = writeln!(
            out,
            "warden_token_refusals_total{{reason=\"{reason}\"}} {}",
            counter.load(Ordering::Relaxed)
        );
    }
    let _ = writeln!(
        out,
        "# HELP warden_credential_failures_total Wrong client secrets (OAuth token endpoint) and console sign-ins refused.\n# TYPE warden_credential_failures_total counter"
    );
    let _ = writeln!(
        out,
        "warden_credential_failures_total{{endpoint=\"oauth_token\"}} {}\nwarden_credential_failures_total{{endpoint=\"sign_in\"}} {}",
        state.client_failures.failed(),
        metrics.sign_in_failed.load(Ordering::Relaxed)
    );
    let _ = writeln!(
        out,
        "# HELP warden_rate_limited_total Attempts refused (429) because their source spent its failure budget.\n# TYPE warden_rate_limited_total counter"
    );
    let _ = writeln!(
        out,
        "warden_rate_limited_total{{endpoint=\"oauth_token\"}} {}\nwarden_rate_limited_total{{endpoint=\"sign_in\"}} {}\nwarden_rate_limited_total{{endpoint=\"unauthenticated_rate\"}} {}",
        state.client_failures.refused(),
        metrics.sign_in_throttled.load(Ordering::Relaxed),
        state.unauthenticated_rate.refused()
    );
    let _ = writeln!(
        out,
        "# HELP warden_connections_refused_total Connections answered 503 because the server had as many as it accepts.\n# TYPE warden_connections_refused_total counter\nwarden_connections_refused_total {}",
        metrics.connections_refused.load(Ordering::Relaxed)
    );
}

/// How long `/ready` waits for the store.
const READY_TIMEOUT: Duration = Duration::from_secs(2);

#[utoipa::path(
    get,
    path = "/ready",
    tag = "service",
    operation_id = "ready",
    summary = "Readiness: the store reachable and the snapshot current",
    description = "Ready when the store answers within 2 s and the snapshot serving decisions is \
        at the store's revision, or this replica read the store successfully within the \
        staleness bound (`stale_after_ms`). Load balancers send traffic only to ready replicas. \
        Answers without a token.",
    responses(
        (status = 200, description = "Ready", body = Ready),
        (status = 503, description = "Not ready; `reason` says why", body = Ready),
    ),
    security(()),
)]
pub async fn ready(State(state): State<AppState>) -> (StatusCode, axum::Json<Ready>) {
    let revision = state.snapshot().revision;
    let store = tokio::time::timeout(READY_TIMEOUT, state.store.revision()).await;
    let (store_revision, reason) = match store {
        Err(_) => (None, Some("the store did not answer within 2 s".to_owned())),
        Ok(Err(error)) => (None, Some(format!("the store is unreachable: {error}"))),
        Ok(Ok(current)) => {
            let current = u64::try_from(current).unwrap_or(0);
            let behind = revision < current
                && state.freshness().ok() != Some(crate::replication::Freshness::Fresh);
            let reason = behind.then(|| {
                format!(
                    "the snapshot is at revision {revision}, the store at {current}, and catching up has failed for longer than the staleness bound"
                )
            });
            (Some(current), reason)
        }
    };
    let status = if reason.is_none() {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let body = Ready {
        status: if reason.is_none() {
            "ready"
        } else {
            "not ready"
        }
        .to_owned(),
        revision,
        store_revision,
        reason,
    };
    (status, axum::Json(body))
}
