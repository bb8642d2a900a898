//! Golden files for the parser, validator and formatter.
//!
//! Every accepted policy (the global policies in `data/policies/` and the cases in
//! `golden/accepted/`) must have no error; its golden file holds the formatted text and the
//! rendered warnings. Every rejected policy (the raw seed texts in `data/policies/raw-seed/` and
//! the cases in `golden/rejected/`) must have an error; its golden file holds every rendered
//! diagnostic. Run with `WARDEN_BLESS=1` to rewrite the golden files after an intended change,
//! then review the diff.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // test code fails loudly

use std::fs;
use std::path::{Path, PathBuf};

use warden_policy::diagnostic::render;
use warden_policy::format::format_policy_ast;
use warden_policy::{Catalogue, check_boundary, check_policy, format_boundary};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn data() -> PathBuf {
    root().join("../../data")
}

fn catalogue() -> Catalogue {
    let files: Vec<(String, String)> = files_in(&data().join("catalogue"), "toml")
        .into_iter()
        .map(|path| {
            (
                path.display().to_string(),
                fs::read_to_string(&path).unwrap(),
            )
        })
        .collect();
    Catalogue::from_toml_files(
        files
            .iter()
            .map(|(origin, text)| (origin.as_str(), text.as_str())),
    )
    .unwrap()
}

fn files_in(dir: &Path, extension: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == extension))
        .collect();
    files.sort();
    files
}

/// Compares `actual` with the golden file, or rewrites it under `WARDEN_BLESS=1`.
fn golden(path: &Path, actual: &str, failures: &mut Vec<String>) {
    if std::env::var_os("WARDEN_BLESS").is_some() {
        fs::write(path, actual).unwrap();
        return;
    }
    match fs::read_to_string(path) {
        Ok(expected) if expected == actual => {}
        Ok(expected) => failures.push(format!(
            "{} differs.\n--- expected\n{expected}\n--- actual\n{actual}",
            path.display()
        )),
        Err(_) => failures.push(format!(
            "{} is missing; run with WARDEN_BLESS=1 to create it",
            path.display()
        )),
    }
}

fn name(path: &Path) -> String {
    path.file_name().unwrap().to_string_lossy().into_owned()
}

fn out_path(dir: &Path, source: &Path) -> PathBuf {
    dir.join(source.with_extension("out").file_name().unwrap())
}

#[test]
fn accepted_policies() {
    let catalogue = catalogue();
    let golden_dir = root().join("tests/golden/accepted");
    let cases = files_in(&data().join("policies"), "policy")
        .into_iter()
        .map(|path| (path.clone(), golden_dir.join("global")))
        .chain(
            files_in(&golden_dir, "policy")
                .into_iter()
                .map(|path| (path, golden_dir.clone())),
        );
    let mut failures = Vec::new();
    let mut count = 0;
    for (path, out_dir) in cases {
        count += 1;
        let source = fs::read_to_string(&path).unwrap();
        let checked = check_policy(&source, &catalogue);
        if checked.has_errors() {
            failures.push(format!(
                "{} has errors:\n{}",
                path.display(),
                render(&checked.diagnostics, &source, &name(&path))
            ));
            continue;
        }
        let formatted = format_policy_ast(&checked.ast, &source);
        let warnings = render(&checked.diagnostics, &source, &name(&path));
        golden(
            &out_path(&out_dir, &path),
            &format!("{formatted}-- warnings --\n{warnings}"),
            &mut failures,
        );
    }
    assert!(count >= 40, "only {count} accepted policies found");
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn rejected_policies() {
    let catalogue = catalogue();
    let golden_dir = root().join("tests/golden/rejected");
    let cases = files_in(&data().join("policies/raw-seed"), "policy")
        .into_iter()
        .map(|path| (path, golden_dir.join("seed")))
        .chain(
            files_in(&golden_dir, "policy")
                .into_iter()
                .map(|path| (path, golden_dir.clone())),
        );
    let mut failures = Vec::new();
    for (path, out_dir) in cases {
        let source = fs::read_to_string(&path).unwrap();
        let checked = check_policy(&source, &catalogue);
        if !checked.has_errors() {
            failures.push(format!(
                "{} was accepted but must be rejected",
                path.display()
            ));
            continue;
        }
        golden(
            &out_path(&out_dir, &path),
            &render(&checked.diagnostics, &source, &name(&path)),
            &mut failures,
        );
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn boundaries() {
    let catalogue = catalogue();
    let dir = root().join("tests/golden/boundaries");
    let mut failures = Vec::new();
    for path in files_in(&dir, "boundary") {
        let source = fs::read_to_string(&path).unwrap();
        let checked = check_boundary(&source, &catalogue);
        let mut actual = render(&checked.diagnostics, &source, &name(&path));
        if !checked.has_errors() {
            actual = format!(
                "{}-- diagnostics --\n{actual}",
                format_boundary(&source).unwrap()
            );
        }
        golden(&out_path(&dir, &path), &actual, &mut failures);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
