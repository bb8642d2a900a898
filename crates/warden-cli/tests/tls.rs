//! Warden serving HTTPS itself: a self-signed certificate, HTTP/2 and HTTP/1.1 by ALPN, the
//! console's cookies `Secure` with the `__Host-` prefix, and a new certificate taken on SIGHUP
//! while a connection made before keeps working.
#![cfg(unix)]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // test code fails loudly

mod support;

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;
use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName};
use tokio_rustls::rustls::{ClientConfig, RootCertStore};

use support::{Server, run, temp_dir, warden};

/// A new self-signed certificate for `localhost` written to `cert.pem` and `key.pem`; its DER.
fn new_certificate(dir: &Path) -> CertificateDer<'static> {
    let issued = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    std::fs::write(dir.join("cert.pem"), issued.cert.pem()).unwrap();
    std::fs::write(dir.join("key.pem"), issued.signing_key.serialize_pem()).unwrap();
    issued.cert.der().clone()
}

/// A TLS connection trusting exactly `trusted`, offering `alpn`.
async fn connect(
    address: &str,
    trusted: &[&CertificateDer<'static>],
    alpn: &[&[u8]],
) -> TlsStream<tokio::net::TcpStream> {
    let mut roots = RootCertStore::empty();
    for certificate in trusted {
        roots.add((*certificate).clone()).unwrap();
    }
    let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    let mut config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    let tcp = tokio::net::TcpStream::connect(address).await.unwrap();
    TlsConnector::from(Arc::new(config))
        .connect(ServerName::try_from("localhost").unwrap(), tcp)
        .await
        .unwrap()
}

/// One HTTP/1.1 request on a kept-alive connection: the status line and head, and the body.
async fn http1(stream: &mut TlsStream<tokio::net::TcpStream>, path: &str) -> (String, String) {
    let request = format!("GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut received = Vec::new();
    let mut buffer = [0u8; 4096];
    loop {
        let n = stream.read(&mut buffer).await.unwrap();
        assert!(n > 0, "the connection closed");
        received.extend_from_slice(&buffer[..n]);
        let text = String::from_utf8_lossy(&received).into_owned();
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let length: usize = head
                .lines()
                .find_map(|line| {
                    let (name, value) = line.split_once(':')?;
                    name.eq_ignore_ascii_case("content-length")
                        .then(|| value.trim().parse().unwrap())
                })
                .unwrap_or(0);
            if body.len() >= length {
                return (head.to_owned(), body.to_owned());
            }
        }
    }
}

fn peer(stream: &TlsStream<tokio::net::TcpStream>) -> CertificateDer<'static> {
    stream.get_ref().1.peer_certificates().unwrap()[0]
        .clone()
        .into_owned()
}

#[test]
fn https_with_http2_host_cookies_and_a_certificate_reloaded_on_sighup() {
    let dir = temp_dir("tls");
    let first = new_certificate(&dir);
    let server = Server::start(
        &dir,
        &[
            "--db",
            "warden.db",
            "--tls-cert",
            "cert.pem",
            "--tls-key",
            "key.pem",
        ],
    );
    let address = server.address.clone();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        // HTTP/2 when offered: a real request over it.
        let h2 = connect(&address, &[&first], &[b"h2", b"http/1.1"]).await;
        assert_eq!(h2.get_ref().1.alpn_protocol(), Some(&b"h2"[..]));
        let (mut sender, connection) = hyper::client::conn::http2::handshake(
            hyper_util::rt::TokioExecutor::new(),
            hyper_util::rt::TokioIo::new(h2),
        )
        .await
        .unwrap();
        tokio::spawn(connection);
        let request = hyper::Request::get("https://localhost/health")
            .body(Empty::<Bytes>::new())
            .unwrap();
        let answer = sender.send_request(request).await.unwrap();
        assert_eq!(answer.status(), 200);
        assert_eq!(answer.version(), hyper::Version::HTTP_2);
        let body = answer.into_body().collect().await.unwrap().to_bytes();
        assert!(String::from_utf8_lossy(&body).contains("\"status\":\"ok\""));

        // HTTP/1.1 otherwise; the console's sign-in cookie is a `__Host-` cookie.
        let mut kept = connect(&address, &[&first], &[b"http/1.1"]).await;
        assert_eq!(kept.get_ref().1.alpn_protocol(), Some(&b"http/1.1"[..]));
        let (head, _) = http1(&mut kept, "/console/sign-in").await;
        assert!(head.starts_with("HTTP/1.1 200"), "{head}");
        let cookie = head
            .lines()
            .find(|line| line.to_ascii_lowercase().starts_with("set-cookie:"))
            .unwrap();
        assert!(cookie.contains("__Host-warden_sign_in="), "{cookie}");
        assert!(
            cookie.contains("Path=/;") && cookie.contains("Secure"),
            "{cookie}"
        );

        // A new certificate, then SIGHUP: new connections get it, the kept one goes on.
        let second = new_certificate(&dir);
        let hup = std::process::Command::new("kill")
            .args(["-HUP", &server.pid().to_string()])
            .status()
            .unwrap();
        assert!(hup.success());
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let fresh = connect(&address, &[&first, &second], &[b"http/1.1"]).await;
            if peer(&fresh) == second {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "the certificate was not reloaded"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let (head, body) = http1(&mut kept, "/health").await;
        assert!(head.starts_with("HTTP/1.1 200"), "{head}");
        assert!(body.contains("\"status\":\"ok\""));
        assert_eq!(peer(&kept), first);

        // A broken certificate file is not taken: the one in use stays.
        std::fs::write(dir.join("cert.pem"), "not a certificate").unwrap();
        std::process::Command::new("kill")
            .args(["-HUP", &server.pid().to_string()])
            .status()
            .unwrap();
        tokio::time::sleep(Duration::from_millis(300)).await;
        let after = connect(&address, &[&first, &second], &[b"http/1.1"]).await;
        assert_eq!(peer(&after), second);
    });
    server.stop();
}

#[test]
fn a_certificate_without_its_key_or_an_unreadable_one_is_refused_at_start() {
    let dir = temp_dir("tls-invalid");
    new_certificate(&dir);
    let output = run(warden(&dir).args([
        "serve",
        "--format",
        "json",
        "--db",
        "warden.db",
        "--tls-cert",
        "cert.pem",
    ]));
    assert_eq!(output.status.code(), Some(2));
    let error: serde_json::Value = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|_| serde_json::from_slice(&output.stderr).unwrap());
    assert_eq!(
        error["error"]["message"],
        "setting `tls_cert` from the flag `--tls-cert`: a certificate without `tls_key`"
    );
    let output = run(warden(&dir).args([
        "serve",
        "--format",
        "json",
        "--db",
        "warden.db",
        "--tls-cert",
        "missing.pem",
        "--tls-key",
        "key.pem",
    ]));
    assert_eq!(output.status.code(), Some(2));
    let error: serde_json::Value = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|_| serde_json::from_slice(&output.stderr).unwrap());
    assert!(
        error["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("cannot read the certificate chain `missing.pem`:"),
        "{error}"
    );
    assert!(!dir.join("warden.db").exists());
}
