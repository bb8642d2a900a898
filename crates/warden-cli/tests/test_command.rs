//! `warden test` as a user runs it: the real binary on the policy test files of
//! `tests/fixtures/`, with exact output and exit codes.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // test code fails loudly

use std::process::{Command, Output};

/// Runs `warden` in the crate directory, so that fixture paths print as `tests/fixtures/…`.
fn warden(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_warden"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(args)
        .output()
        .expect("run warden")
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).unwrap()
}

#[test]
fn a_passing_file_exits_zero() {
    let output = warden(&["test", "tests/fixtures/passing.yaml"]);
    assert_eq!(
        stdout(&output),
        "\
tests/fixtures/passing.yaml: 2 cases
ok   alice@example.com storage:logs:read in env-prod with storage:bucket-name=\"ops_app\"
ok   alice@example.com storage:logs:read in env-prod with storage:bucket-name=\"dev_app\"
2 passed, 0 failed
"
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
}

#[test]
fn a_failing_case_exits_one_with_its_explanation() {
    let output = warden(&["test", "tests/fixtures/failing.yaml"]);
    assert_eq!(
        stdout(&output),
        "\
tests/fixtures/failing.yaml: 3 cases
ok   alice@example.com storage:logs:read in env-prod with storage:bucket-name=\"ops_app\"
FAIL alice@example.com storage:logs:read in env-prod with storage:bucket-name=\"dev_app\": expected allow, got deny
    at tests/fixtures/failing.yaml:22:5
    denied: no statement granting `storage:logs:read` applies; closest is `ALLOW storage:logs:read WHERE storage:bucket-name startsWith \"ops_\";` of policy `Team Logs`, where `storage:bucket-name startsWith \"ops_\"` fails: seen \"dev_app\" but required startsWith \"ops_\"
    near miss: `ALLOW storage:logs:read WHERE storage:bucket-name startsWith \"ops_\";` of policy `Team Logs`, group `ops`, bound at account: `storage:bucket-name startsWith \"ops_\"` fails: seen \"dev_app\" but required startsWith \"ops_\"
FAIL alice@example.com storage:logs:read in env-prod with storage:bucket-name=\"audit_logs\": expected allow, got deny
    at tests/fixtures/failing.yaml:27:5
    denied by `DENY storage:logs:read WHERE storage:bucket-name = \"audit_logs\";` of policy `No Audit Logs`, bound to group `ops` at environment level; a DENY wins over every ALLOW
    deciding: `DENY storage:logs:read WHERE storage:bucket-name = \"audit_logs\";` of policy `No Audit Logs`, group `ops`, bound at environment:env-prod
1 passed, 2 failed
"
    );
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
}

#[test]
fn a_bad_file_reports_every_located_error_and_runs_no_case() {
    let output = warden(&["test", "tests/fixtures/bad.yaml"]);
    assert_eq!(
        stdout(&output),
        "\
tests/fixtures/bad.yaml:5:39: error: policy `Team Logs`: `OR` is not supported
  help: write two statements instead, one for each alternative: statements are combined with OR
tests/fixtures/bad.yaml:8:15: error: unknown policy `Team Log`
  help: did you mean `Team Logs`?
tests/fixtures/bad.yaml:10:23: error: unknown group `opps`
  help: did you mean `ops`?
tests/fixtures/bad.yaml:15:16: error: unknown principal `bob@example.com`
  help: define it under `users:` (by email) or `service_users:` (by name)
tests/fixtures/bad.yaml: 4 errors; no case ran
0 passed, 0 failed; 1 file has errors and did not run
"
    );
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
}

#[test]
fn a_bad_file_does_not_stop_the_others_but_decides_the_exit_code() {
    let output = warden(&[
        "test",
        "tests/fixtures/passing.yaml",
        "tests/fixtures/bad.yaml",
        "tests/fixtures/failing.yaml",
    ]);
    let text = stdout(&output);
    assert!(text.starts_with("tests/fixtures/passing.yaml: 2 cases\nok   "));
    assert!(text.contains("tests/fixtures/bad.yaml: 4 errors; no case ran\n"));
    assert!(text.ends_with("3 passed, 2 failed; 1 file has errors and did not run\n"));
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn json_gives_the_same_information_in_one_document() {
    let output = warden(&["--format", "json", "test", "tests/fixtures/failing.yaml"]);
    assert_eq!(output.status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(json["ok"], false);
    assert_eq!(json["passed"], 1);
    assert_eq!(json["failed"], 2);
    assert_eq!(json["invalidFiles"], 0);
    let file = &json["files"][0];
    assert_eq!(file["file"], "tests/fixtures/failing.yaml");
    let cases = file["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 3);
    assert_eq!(cases[0]["passed"], true);
    assert!(cases[0].get("explanation").is_none());
    assert_eq!(cases[1]["index"], 2);
    assert_eq!(cases[1]["line"], 22);
    assert_eq!(cases[1]["expected"], "ALLOW");
    assert_eq!(cases[1]["actual"], "DENY");
    assert_eq!(
        cases[1]["explanation"]["nearest"][0]["failed"]["why"],
        "seen \"dev_app\" but required startsWith \"ops_\""
    );
    assert_eq!(
        cases[2]["explanation"]["deciding"][0]["policy"]["name"],
        "No Audit Logs"
    );

    let output = warden(&["--format", "json", "test", "tests/fixtures/bad.yaml"]);
    assert_eq!(output.status.code(), Some(2));
    let json: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(json["invalidFiles"], 1);
    let errors = json["files"][0]["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 4);
    assert_eq!(errors[2]["line"], 10);
    assert_eq!(errors[2]["column"], 23);
    assert_eq!(errors[2]["message"], "unknown group `opps`");
    assert_eq!(errors[2]["help"], "did you mean `ops`?");
    assert!(json["files"][0]["cases"].as_array().unwrap().is_empty());
}

#[test]
fn an_unreadable_file_is_a_usage_error() {
    let output = warden(&["test", "tests/fixtures/missing.yaml"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stdout(&output).is_empty());
    assert!(
        stderr(&output).starts_with("error: cannot read `tests/fixtures/missing.yaml`: "),
        "{}",
        stderr(&output)
    );
}
