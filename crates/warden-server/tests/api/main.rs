//! HTTP tests: each starts the real server on a free port (SQLite in a temp dir) and drives it
//! over HTTP. One test binary (integration test binaries are slow to link).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // test code fails loudly

mod authzen;
mod batch;
mod bounds;
mod common;
mod console_writes;
mod credentials;
mod decisions;
mod dynatrace;
mod elevation;
mod errors;
mod flood;
mod guardrails;
mod hostile;
mod journey;
mod last_use;
mod leaks;
mod nulls;
mod oauth;
mod oauth_rights;
mod operations;
mod policies;
mod records;
mod replicas;
mod residuals;
mod review;
mod routes;
mod service_users;
mod sessions;
mod suggestions;
mod tokens;
mod typed;
mod typed_client;
mod usage;
mod workflows;
