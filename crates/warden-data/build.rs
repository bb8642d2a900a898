//! Embeds every file of `data/catalogue/*.toml` and `data/policies/*.policy` by name, so adding a
//! data file needs no code change.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::{env, fs};

fn main() {
    let manifest = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap_or_default());
    let data = manifest.join("../../data");
    let mut out = String::new();
    embed(&mut out, "CATALOGUE_FILES", &data.join("catalogue"), "toml");
    embed(&mut out, "POLICY_FILES", &data.join("policies"), "policy");
    embed(
        &mut out,
        "RAW_SEED_POLICY_FILES",
        &data.join("policies/raw-seed"),
        "policy",
    );
    let target = PathBuf::from(env::var("OUT_DIR").unwrap_or_default()).join("files.rs");
    if let Err(error) = fs::write(&target, out) {
        println!("cargo::error=cannot write {}: {error}", target.display());
    }
    println!("cargo::rerun-if-changed={}", data.display());
}

fn embed(out: &mut String, name: &str, dir: &Path, extension: &str) {
    println!("cargo::rerun-if-changed={}", dir.display());
    let mut files: Vec<PathBuf> = fs::read_dir(dir)
        .map(|entries| entries.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    files.retain(|path| path.extension().is_some_and(|e| e == extension));
    files.sort();
    let _ = writeln!(out, "pub static {name}: &[(&str, &str)] = &[");
    for path in files {
        let file_name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        let absolute = fs::canonicalize(&path).unwrap_or(path.clone());
        let _ = writeln!(
            out,
            "    ({file_name:?}, include_str!({:?})),",
            absolute.display().to_string()
        );
    }
    let _ = writeln!(out, "];");
}
