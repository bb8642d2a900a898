//! Traces over OTLP/HTTP: `warden serve --otlp-endpoint` sends a span per request, decision and store
//! transaction to a collector — here a loopback HTTP listener that keeps what it receives.
#![cfg(unix)]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // test code fails loudly

mod support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use support::{Server, http, json_field, temp_dir};

/// A collector: answers every POST with 200 and keeps the bodies.
fn collector() -> (String, Arc<Mutex<Vec<Vec<u8>>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap().to_string();
    let received = Arc::new(Mutex::new(Vec::new()));
    let kept = received.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut writer = stream;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 {
                    break;
                }
                let mut length = 0;
                loop {
                    let mut header = String::new();
                    reader.read_line(&mut header).unwrap();
                    if header == "\r\n" {
                        break;
                    }
                    if let Some((name, value)) = header.split_once(':')
                        && name.eq_ignore_ascii_case("content-length")
                    {
                        length = value.trim().parse().unwrap();
                    }
                }
                let mut body = vec![0u8; length];
                reader.read_exact(&mut body).unwrap();
                kept.lock().unwrap().push(body);
                writer
                    .write_all(
                        b"HTTP/1.1 200 OK\r\ncontent-type: application/x-protobuf\r\ncontent-length: 0\r\n\r\n",
                    )
                    .unwrap();
            }
        }
    });
    (address, received)
}

#[test]
fn requests_decisions_and_store_writes_are_traced_to_the_collector() {
    let (collector, received) = collector();
    let dir = temp_dir("otlp");
    let endpoint = format!("http://{collector}/v1/traces");
    let server = Server::start(&dir, &["--db", "warden.db", "--otlp-endpoint", &endpoint]);
    let token = std::fs::read_to_string(dir.join("admin-token"))
        .unwrap()
        .trim()
        .to_owned();
    let bearer = format!("Bearer {token}");
    let (_, _, me) = http(
        &server.address,
        "GET",
        "/iam/v1/me",
        &[("Authorization", &bearer)],
        "",
    );
    let account = json_field(&me, "account");
    let (status, _, _) = http(
        &server.address,
        "POST",
        &format!("/iam/v1/accounts/{account}/groups"),
        &[
            ("Authorization", &bearer),
            ("Content-Type", "application/json"),
            ("X-Request-Id", "traced-request-1"),
        ],
        r#"[{"name":"traced"}]"#,
    );
    assert_eq!(status, 201);
    let (status, _, _) = http(
        &server.address,
        "POST",
        "/iam/v1/authorize",
        &[
            ("Authorization", &bearer),
            ("Content-Type", "application/json"),
        ],
        r#"{"principal":"admin@warden.local","permission":"iam:users:read"}"#,
    );
    assert_eq!(status, 200);
    server.terminate();

    let bodies = received.lock().unwrap();
    assert!(!bodies.is_empty(), "no traces were exported");
    // OTLP protobuf carries strings as they are: the span names and attributes are readable.
    let all: Vec<u8> = bodies.iter().flatten().copied().collect();
    let text = String::from_utf8_lossy(&all);
    for expected in [
        "warden",
        "request",
        "/iam/v1/accounts/{accountId}/groups",
        "traced-request-1",
        "store.write",
        "group.create",
        "/iam/v1/authorize",
        "decision",
    ] {
        assert!(
            text.contains(expected),
            "`{expected}` not in the exported traces"
        );
    }
    assert!(!text.contains(&token), "a token was exported");
}
