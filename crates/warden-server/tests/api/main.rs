//! HTTP tests: each starts the real server on a free port (SQLite in a temp dir) and drives it
//! over HTTP. One test binary (integration test binaries are slow to link).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // test code fails loudly

mod common;
mod journey;
mod policies;
mod routes;
mod usage;
mod workflows;
