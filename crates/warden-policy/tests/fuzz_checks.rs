//! The fuzz targets' invariants (`warden_policy::fuzz_checks`) in the ordinary test suite: on the
//! seed corpus of `fuzz/seed-corpus.sh` (the repository's policies, golden cases and boundaries)
//! and on a few thousand generated texts: random text, soups of policy tokens, and seed texts with
//! random edits. The fuzz targets run the same checks for as long as one likes (README, "Fuzzing").

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // test code fails loudly

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use proptest::prelude::*;
use warden_policy::Catalogue;
use warden_policy::fuzz_checks;

fn repository() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
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

static CATALOGUE: LazyLock<Catalogue> = LazyLock::new(|| {
    let files: Vec<(String, String)> = files_in(&repository().join("data/catalogue"), "toml")
        .into_iter()
        .map(|path| {
            let text = fs::read_to_string(&path).unwrap();
            (path.display().to_string(), text)
        })
        .collect();
    Catalogue::from_toml_files(files.iter().map(|(o, t)| (o.as_str(), t.as_str()))).unwrap()
});

/// The seed corpus of the `policy_parser` target (as `fuzz/seed-corpus.sh` gathers it).
static POLICY_SEEDS: LazyLock<Vec<String>> = LazyLock::new(|| {
    let root = repository();
    [
        "data/policies",
        "data/policies/raw-seed",
        "crates/warden-policy/tests/golden/accepted",
        "crates/warden-policy/tests/golden/rejected",
    ]
    .iter()
    .flat_map(|dir| files_in(&root.join(dir), "policy"))
    .map(|path| fs::read_to_string(path).unwrap())
    .collect()
});

/// The seed corpus of the `boundary_parser` target.
static BOUNDARY_SEEDS: LazyLock<Vec<String>> = LazyLock::new(|| {
    files_in(
        &repository().join("crates/warden-policy/tests/golden/boundaries"),
        "boundary",
    )
    .into_iter()
    .map(|path| fs::read_to_string(path).unwrap())
    .collect()
});

fn check_policy(text: &str) {
    if let Err(broken) = fuzz_checks::policy(text, &CATALOGUE) {
        panic!("policy_parser invariant broken: {broken}\ninput: {text:?}");
    }
}

fn check_boundary(text: &str) {
    if let Err(broken) = fuzz_checks::boundary(text, &CATALOGUE) {
        panic!("boundary_parser invariant broken: {broken}\ninput: {text:?}");
    }
}

#[test]
fn the_policy_seed_corpus_keeps_the_invariants() {
    assert!(POLICY_SEEDS.len() > 40, "seeds: {}", POLICY_SEEDS.len());
    for seed in POLICY_SEEDS.iter() {
        check_policy(seed);
        // Every seed also as a boundary, and cut in the middle of a character-aligned place.
        check_boundary(seed);
        let mut middle = seed.len() / 2;
        while !seed.is_char_boundary(middle) {
            middle -= 1;
        }
        check_policy(&seed[..middle]);
    }
}

#[test]
fn the_boundary_seed_corpus_keeps_the_invariants() {
    assert!(!BOUNDARY_SEEDS.is_empty());
    for seed in BOUNDARY_SEEDS.iter() {
        check_boundary(seed);
        check_policy(seed);
    }
}

/// Pieces of the policy and boundary syntax, valid and broken, for token soups and edits.
#[rustfmt::skip]
const TOKENS: &[&str] = &[
    "ALLOW", "allow", "DENY", "deny", "WHERE", "where", "AND", "and", "OR", "NOT", "not", "IN",
    "NOT IN", "startsWith", "NOT startsWith", "MATCH", "=", "!=", "<", ">", "<=", "==", ",", ";",
    "(", ")", "\"", "'", "\\", "\\\"", "\\$", "${", "}", "${bindParam:team}", "${bindParam:}",
    "${global:userId}", "${global:userGroup}", "${global:environmentId}", "${global:nope}",
    "//", "// note\n", "/*", "\n", "\r\n", "\r", " ", "\t", "null", "NULL",
    "settings:objects:read", "storage:logs:read", "storage:*", "iam:policies:write", "a:b:c",
    "a:b", "a::c", "storage:bucket-name", "storage:k8s.namespace.name", "settings:schemaId",
    "global:date-time", "global:environmentId", "environment:management-zone", "iam-param:x",
    "\"builtin:x\"", "'zone-a'", "\"2026-12-31T23:59:59+01:00\"", "\"\"", "''", "0", "-1",
    "é", "\u{feff}", "\u{0}", "\u{1F600}", "ÿ", "\u{2028}",
];

/// Text from tokens, mostly separated by spaces.
fn token_soup() -> impl Strategy<Value = String> {
    prop::collection::vec(
        (
            prop::sample::select(TOKENS),
            prop::sample::select(&[" ", " ", " ", "", "\n"][..]),
        ),
        0..40,
    )
    .prop_map(|tokens| {
        tokens
            .into_iter()
            .flat_map(|(token, separator)| [token, separator])
            .collect()
    })
}

/// An edit of a text at a relative position: insert a token, delete some characters, or cut.
#[derive(Debug, Clone)]
enum Edit {
    Insert(f64, &'static str),
    Delete(f64, usize),
    Truncate(f64),
}

fn edits() -> impl Strategy<Value = Vec<Edit>> {
    let edit = prop_oneof![
        4 => (0.0..1.0f64, prop::sample::select(TOKENS)).prop_map(|(at, t)| Edit::Insert(at, t)),
        3 => (0.0..1.0f64, 1..12usize).prop_map(|(at, n)| Edit::Delete(at, n)),
        1 => (0.0..1.0f64).prop_map(Edit::Truncate),
    ];
    prop::collection::vec(edit, 1..6)
}

fn apply(text: &str, edits: &[Edit]) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    for edit in edits {
        let at = |fraction: f64| ((chars.len() as f64) * fraction) as usize;
        match *edit {
            Edit::Insert(fraction, token) => {
                let at = at(fraction).min(chars.len());
                chars.splice(at..at, token.chars());
            }
            Edit::Delete(fraction, count) => {
                let at = at(fraction).min(chars.len());
                let end = (at + count).min(chars.len());
                chars.drain(at..end);
            }
            Edit::Truncate(fraction) => {
                let at = at(fraction).min(chars.len());
                chars.truncate(at);
            }
        }
    }
    chars.into_iter().collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 600, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_keep_the_invariants(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        let text = String::from_utf8_lossy(&bytes);
        check_policy(&text);
        check_boundary(&text);
    }

    #[test]
    fn arbitrary_text_keeps_the_invariants(text in "\\PC{0,200}") {
        check_policy(&text);
        check_boundary(&text);
    }

    #[test]
    fn token_soups_keep_the_invariants(text in token_soup()) {
        check_policy(&text);
        check_boundary(&text);
    }
}

proptest! {
    // The seeds are whole policies of up to 4 KB: fewer cases, the same time.
    #![proptest_config(ProptestConfig { cases: 150, ..ProptestConfig::default() })]

    #[test]
    fn edited_seeds_keep_the_invariants(
        seed in any::<prop::sample::Index>(),
        edits in edits(),
    ) {
        let policy = seed.get(&POLICY_SEEDS);
        check_policy(&apply(policy, &edits));
        let boundary = seed.get(&BOUNDARY_SEEDS);
        check_boundary(&apply(boundary, &edits));
    }
}
