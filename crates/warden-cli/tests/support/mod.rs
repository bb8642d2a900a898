//! What the tests of the real `warden` binary share: a temporary directory, the command with a
//! clean environment, a running `warden serve`, and plain HTTP/1.1 requests to it.
#![allow(dead_code)] // each test file uses part of it

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use serde_json::Value;

pub fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("warden-config-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// `warden` in `dir`, with no `WARDEN_…` variable of the caller's environment.
pub fn warden(dir: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_warden"));
    command.current_dir(dir).stdin(Stdio::null());
    for (name, _) in std::env::vars() {
        if name.starts_with("WARDEN_") {
            command.env_remove(name);
        }
    }
    command
}

pub fn run(command: &mut Command) -> Output {
    command.output().unwrap()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// A running `warden serve`, killed and reaped when dropped.
pub struct Server {
    child: Child,
    pub address: String,
}

impl Server {
    #[expect(
        clippy::zombie_processes,
        reason = "the child is reaped on drop, or here when it stops by itself"
    )]
    pub fn start(dir: &Path, args: &[&str]) -> Server {
        let log = std::fs::File::create(dir.join("serve.log")).unwrap();
        let mut child = warden(dir)
            .args([
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--token-file",
                "admin-token",
            ])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        loop {
            line.clear();
            if stdout.read_line(&mut line).unwrap() == 0 {
                let status = child.wait().unwrap();
                panic!(
                    "`warden serve` stopped ({status}):\n{}",
                    std::fs::read_to_string(dir.join("serve.log")).unwrap_or_default()
                );
            }
            if let Some(rest) = line.trim().strip_prefix("Warden listening on ") {
                let url = rest.split(' ').next().unwrap();
                let address = url.split_once("://").unwrap().1.to_owned();
                // The rest of standard output is not read: it is drained in the background.
                std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
                return Server { child, address };
            }
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Asks the server to stop (SIGTERM) and waits until it has: requests in flight finish and
    /// everything buffered is written out.
    pub fn terminate(mut self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let _ = self.child.wait();
    }

    pub fn stop(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One HTTP/1.1 request on its own connection: the status, the headers (lower-case names) and
/// the body.
pub fn http(
    address: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, Vec<(String, String)>, String) {
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    request.push_str(body);
    stream.write_all(request.as_bytes()).unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    let (head, body) = answer.split_once("\r\n\r\n").unwrap();
    let mut lines = head.lines();
    let status = lines.next().unwrap()[9..12].parse().unwrap();
    let headers = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.to_ascii_lowercase(), value.trim().to_owned()))
        .collect();
    (status, headers, body.to_owned())
}

pub fn json_field(body: &str, field: &str) -> String {
    let value: Value = serde_json::from_str(body).unwrap_or(Value::Null);
    value[field].as_str().unwrap_or_default().to_owned()
}
