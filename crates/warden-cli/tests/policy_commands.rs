//! `warden policy check|fmt` as a user runs them: real binary, real files, exact output.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // test code fails loudly

use std::path::PathBuf;
use std::process::{Command, Output};

fn warden(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_warden"))
        .args(args)
        .output()
        .expect("run warden")
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("warden-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

const THREE_ERRORS: &str = "\
ALLOW automation:workflow:read;
ALLOW storage:logs:read WHERE storage:bucket-name = \"a\" OR storage:bucket-name = \"b\";
ALLOW iam:service-users:use WHERE iam:service-user-email startsWith \"pipeline\";
";

#[test]
fn check_reports_three_located_errors() {
    let dir = temp_dir("three");
    let file = dir.join("three.policy");
    std::fs::write(&file, THREE_ERRORS).unwrap();
    let output = warden(&["policy", "check", file.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1));
    let text = stdout(&output).replace(file.to_str().unwrap(), "three.policy");
    assert_eq!(
        text,
        "\
error[unknown-permission]: unknown permission `automation:workflow:read`
 --> three.policy:1:7
  |
1 | ALLOW automation:workflow:read;
  |       ^^^^^^^^^^^^^^^^^^^^^^^^ not in the catalogue
  = help: did you mean `automation:workflows:read`?

error[unsupported-or]: `OR` is not supported
 --> three.policy:2:57
  |
2 | ALLOW storage:logs:read WHERE storage:bucket-name = \"a\" OR storage:bucket-name = \"b\";
  |                                                         ^^ conditions can only be joined with `AND`
  = help: write two statements instead, one for each alternative: statements are combined with OR

error[operator-not-allowed]: operator `startsWith` is not allowed for condition `iam:service-user-email`
 --> three.policy:3:58
  |
3 | ALLOW iam:service-users:use WHERE iam:service-user-email startsWith \"pipeline\";
  |                                                          ^^^^^^^^^^ not allowed here
  = help: `iam:service-user-email` allows `=`, `IN`

1 file checked: 0 valid, 1 invalid (3 errors, 0 warnings)
"
    );
}

#[test]
fn check_in_json_gives_positions_and_codes() {
    let dir = temp_dir("json");
    let file = dir.join("three.policy");
    std::fs::write(&file, THREE_ERRORS).unwrap();
    let output = warden(&[
        "--format",
        "json",
        "policy",
        "check",
        file.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(json["valid"], false);
    assert_eq!(json["errors"], 3);
    let diagnostics = json["files"][0]["diagnostics"].as_array().unwrap();
    let summary: Vec<(String, u64, u64, String)> = diagnostics
        .iter()
        .map(|d| {
            (
                d["code"].as_str().unwrap().to_owned(),
                d["start"]["line"].as_u64().unwrap(),
                d["start"]["column"].as_u64().unwrap(),
                d["text"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (
                "unknown-permission".to_owned(),
                1,
                7,
                "automation:workflow:read".to_owned()
            ),
            ("unsupported-or".to_owned(), 2, 57, "OR".to_owned()),
            (
                "operator-not-allowed".to_owned(),
                3,
                58,
                "startsWith".to_owned()
            ),
        ]
    );
}

#[test]
fn warnings_pass_unless_denied() {
    let dir = temp_dir("warn");
    let file = dir.join("deny.policy");
    std::fs::write(&file, "DENY storage:logs:read;\n").unwrap();
    assert_eq!(
        warden(&["policy", "check", file.to_str().unwrap()])
            .status
            .code(),
        Some(0)
    );
    assert_eq!(
        warden(&["policy", "check", "--deny-warnings", file.to_str().unwrap()])
            .status
            .code(),
        Some(1)
    );
}

#[test]
fn custom_services_extend_the_catalogue() {
    let dir = temp_dir("custom");
    let service = dir.join("shop.toml");
    std::fs::write(
        &service,
        "[service]\nname = \"shop\"\n[conditions.\"shop:region\"]\noperators = [\"=\"]\n[[permissions]]\nname = \"shop:orders:read\"\nconditions = [\"shop:region\"]\n",
    )
    .unwrap();
    let file = dir.join("shop.policy");
    std::fs::write(
        &file,
        "ALLOW shop:orders:read WHERE shop:region = \"eu\";\n",
    )
    .unwrap();
    assert_eq!(
        warden(&["policy", "check", file.to_str().unwrap()])
            .status
            .code(),
        Some(1)
    );
    let output = warden(&[
        "policy",
        "check",
        "--catalogue",
        service.to_str().unwrap(),
        file.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
}

#[test]
fn fmt_rewrites_and_check_detects_unformatted_files() {
    let dir = temp_dir("fmt");
    let file = dir.join("messy.policy");
    std::fs::write(
        &file,
        "allow settings:objects:read where settings:schemaId='x' // keep\n",
    )
    .unwrap();
    let path = file.to_str().unwrap();
    assert_eq!(
        warden(&["policy", "fmt", "--check", path]).status.code(),
        Some(1)
    );
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        "allow settings:objects:read where settings:schemaId='x' // keep\n",
        "--check changes nothing"
    );
    assert_eq!(warden(&["policy", "fmt", path]).status.code(), Some(0));
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        "ALLOW settings:objects:read WHERE settings:schemaId = \"x\"; // keep\n"
    );
    assert_eq!(
        warden(&["policy", "fmt", "--check", path]).status.code(),
        Some(0)
    );
}

#[test]
fn fmt_refuses_invalid_syntax_and_leaves_the_file() {
    let dir = temp_dir("fmt-bad");
    let file = dir.join("bad.policy");
    std::fs::write(&file, "ALLOW a:b:c WHERE x:y = 'v' OR x:y = 'w';").unwrap();
    let output = warden(&["policy", "fmt", file.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1));
    assert!(stdout(&output).contains("error[unsupported-or]"));
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        "ALLOW a:b:c WHERE x:y = 'v' OR x:y = 'w';"
    );
}

#[test]
fn unreadable_files_are_usage_errors() {
    let output = warden(&["policy", "check", "/nonexistent/x.policy"]);
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        String::from_utf8(output.stderr).unwrap(),
        "error: cannot read `/nonexistent/x.policy`: No such file or directory (os error 2)\n  help: check the path and its permissions\n"
    );
    let json = warden(&[
        "--format",
        "json",
        "policy",
        "check",
        "/nonexistent/x.policy",
    ]);
    let value: serde_json::Value = serde_json::from_str(&stdout(&json)).unwrap();
    assert_eq!(value["error"]["code"], "io");
}

#[test]
fn check_shows_at_most_a_hundred_diagnostics_and_counts_the_rest() {
    let dir = temp_dir("many");
    let file = dir.join("many.policy");
    let repeated = vec!["storage:logs:read"; 151].join(", ");
    std::fs::write(&file, format!("ALLOW {repeated};\nALLOW x:y:z;\n")).unwrap();
    let output = warden(&["policy", "check", file.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1));
    let text = stdout(&output);
    assert_eq!(text.matches("warning[repeated-permission]").count(), 99);
    assert_eq!(
        text.matches("error[unknown-permission]").count(),
        1,
        "errors first"
    );
    assert!(
        text.contains(
            "note: 51 more diagnostic(s) not shown (0 error(s), 51 warning(s)); at most 100 are shown, errors first\n"
        ),
        "{text}"
    );
    assert!(
        text.ends_with("1 file checked: 0 valid, 1 invalid (1 error, 150 warnings)\n"),
        "{text}"
    );

    let output = warden(&[
        "--format",
        "json",
        "policy",
        "check",
        file.to_str().unwrap(),
    ]);
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let checked = &report["files"][0];
    assert_eq!(checked["diagnostics"].as_array().unwrap().len(), 100);
    assert_eq!(checked["truncated"], 51);
    assert_eq!(
        (checked["errors"].as_u64(), checked["warnings"].as_u64()),
        (Some(1), Some(150))
    );
}
