//! The `testfile_loader` fuzz target's invariants (`warden_engine::fuzz_checks`) in the ordinary
//! test suite: on the seed corpus of `fuzz/seed-corpus.sh` (the example test files and the CLI's
//! fixtures) and on generated files: random text, YAML made of the test files' keys, and seed
//! files with random edits. The fuzz target runs the same check for as long as one likes (README,
//! "Fuzzing").

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
use warden_engine::{Builtin, fuzz_checks};

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

static BUILTIN: LazyLock<Builtin> =
    LazyLock::new(|| Builtin::load(&[]).expect("the built-in content loads"));

/// The seed corpus of the `testfile_loader` target (as `fuzz/seed-corpus.sh` gathers it).
static SEEDS: LazyLock<Vec<String>> = LazyLock::new(|| {
    let root = repository();
    ["examples", "crates/warden-cli/tests/fixtures"]
        .iter()
        .flat_map(|dir| files_in(&root.join(dir), "yaml"))
        .map(|path| fs::read_to_string(path).unwrap())
        .collect()
});

fn check(text: &str) {
    if let Err(broken) = fuzz_checks::testfile(text, &BUILTIN) {
        panic!("testfile_loader invariant broken: {broken}\ninput: {text:?}");
    }
}

#[test]
fn the_seed_corpus_keeps_the_invariants() {
    assert!(SEEDS.len() >= 5, "seeds: {}", SEEDS.len());
    for seed in SEEDS.iter() {
        check(seed);
        // Cut after every line but the first few: each cut leaves a file open in the middle.
        for (index, _) in seed.match_indices('\n').step_by(7) {
            check(&seed[..index]);
        }
    }
}

/// The keys of test files, some of their values, and YAML syntax.
#[rustfmt::skip]
const KEYS: &[&str] = &[
    "services", "environments", "boundaries", "policies", "groups", "users", "service-users",
    "workflows", "cases", "principal", "permission", "permissions", "expect", "environment",
    "attributes", "time", "policy", "parameters", "boundaries", "level", "conditions", "owner",
    "actor", "workflow", "consent", "deactivated", "user", "operators", "attribute", "parameter",
    "shop", "shop:region", "shop:orders:read", "alice@example.com", "ops", "Team Logs", "env-prod",
    "zone-a", "unknown", "",
];

#[rustfmt::skip]
const SCALARS: &[&str] = &[
    "allow", "deny", "ALLOW storage:logs:read;", "ALLOW storage:logs:read WHERE storage:bucket-name = \"a\";",
    "storage:bucket-name startsWith \"team_\";", "|", ">", "|-", "\"quoted\"", "'single'", "~",
    "null", "true", "1", "-1", "1e999", "2026-06-01T00:00:00Z", "2026-13-45T99:99:99Z", "env-prod",
    "env-dev", "account", "environment", "global", "alice@example.com", "bob@example.com", "ops",
    "Team Logs", "storage:logs:read", "settings:objects:read", "iam:policies:write", "=", "IN",
    "${bindParam:x}", "&anchor", "*alias", "!tag", "[", "]", "{", "}", "é", "\u{feff}", "\t", "#",
    "- ", ": ", "---", "...",
];

/// A YAML node made of test-file keys and values.
#[derive(Debug, Clone)]
enum Node {
    Scalar(&'static str),
    List(Vec<Node>),
    Map(Vec<(&'static str, Node)>),
}

fn node() -> impl Strategy<Value = Node> {
    let leaf = prop::sample::select(SCALARS).prop_map(Node::Scalar);
    leaf.prop_recursive(4, 40, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Node::List),
            prop::collection::vec((prop::sample::select(KEYS), inner), 0..6).prop_map(Node::Map),
        ]
    })
}

/// Block style, with flow style for some lists; `indent` spaces before every line.
fn render(node: &Node, indent: usize, flow: bool, out: &mut String) {
    let pad = " ".repeat(indent);
    match node {
        Node::Scalar(scalar) => {
            out.push_str(scalar);
            out.push('\n');
        }
        Node::List(items) if flow => {
            let items: Vec<String> = items
                .iter()
                .map(|item| match item {
                    Node::Scalar(scalar) => (*scalar).to_owned(),
                    _ => "{}".to_owned(),
                })
                .collect();
            out.push_str(&format!("[{}]\n", items.join(", ")));
        }
        Node::List(items) => {
            out.push('\n');
            for item in items {
                out.push_str(&format!("{pad}- "));
                render(item, indent + 2, !flow, out);
            }
        }
        Node::Map(entries) => {
            out.push('\n');
            for (key, value) in entries {
                out.push_str(&format!("{pad}{key}: "));
                render(value, indent + 2, !flow, out);
            }
        }
    }
}

fn yaml_file() -> impl Strategy<Value = String> {
    (
        prop::collection::vec((prop::sample::select(KEYS), node()), 0..6),
        any::<bool>(),
    )
        .prop_map(|(entries, flow)| {
            let mut out = String::new();
            for (key, value) in &entries {
                out.push_str(&format!("{key}: "));
                render(value, 2, flow, &mut out);
            }
            out
        })
}

/// An edit of a file: on a line (at a relative position) or at a character.
#[derive(Debug, Clone)]
enum Edit {
    DeleteLine(f64),
    DuplicateLine(f64),
    Indent(f64, usize),
    Insert(f64, &'static str),
    Delete(f64, usize),
}

fn edits() -> impl Strategy<Value = Vec<Edit>> {
    let at = 0.0..1.0f64;
    let edit = prop_oneof![
        at.clone().prop_map(Edit::DeleteLine),
        at.clone().prop_map(Edit::DuplicateLine),
        (at.clone(), 0..5usize).prop_map(|(at, n)| Edit::Indent(at, n)),
        (at.clone(), prop::sample::select(SCALARS)).prop_map(|(at, s)| Edit::Insert(at, s)),
        (at, 1..10usize).prop_map(|(at, n)| Edit::Delete(at, n)),
    ];
    prop::collection::vec(edit, 1..6)
}

fn apply(text: &str, edits: &[Edit]) -> String {
    let mut text = text.to_owned();
    for edit in edits {
        let mut lines: Vec<String> = text.split('\n').map(str::to_owned).collect();
        let line = |fraction: f64| ((lines.len() as f64 * fraction) as usize).min(lines.len() - 1);
        let mut chars: Vec<char> = text.chars().collect();
        let char_at = |fraction: f64| ((chars.len() as f64 * fraction) as usize).min(chars.len());
        match *edit {
            Edit::DeleteLine(fraction) => {
                let at = line(fraction);
                lines.remove(at);
                text = lines.join("\n");
            }
            Edit::DuplicateLine(fraction) => {
                let at = line(fraction);
                lines.insert(at, lines[at].clone());
                text = lines.join("\n");
            }
            Edit::Indent(fraction, spaces) => {
                let at = line(fraction);
                let trimmed = lines[at].trim_start().to_owned();
                lines[at] = format!("{}{trimmed}", " ".repeat(spaces));
                text = lines.join("\n");
            }
            Edit::Insert(fraction, token) => {
                let at = char_at(fraction);
                chars.splice(at..at, token.chars());
                text = chars.into_iter().collect();
            }
            Edit::Delete(fraction, count) => {
                let at = char_at(fraction);
                let end = (at + count).min(chars.len());
                chars.drain(at..end);
                text = chars.into_iter().collect();
            }
        }
    }
    text
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 500, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_keep_the_invariants(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        check(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn arbitrary_text_keeps_the_invariants(text in "(\\PC|\n|\r|\t){0,200}") {
        check(&text);
    }

    #[test]
    fn yaml_of_test_file_keys_keeps_the_invariants(text in yaml_file()) {
        check(&text);
    }
}

proptest! {
    // Every seed file builds a world and runs its cases: fewer of them, the same time.
    #![proptest_config(ProptestConfig { cases: 150, ..ProptestConfig::default() })]

    #[test]
    fn edited_seeds_keep_the_invariants(seed in any::<prop::sample::Index>(), edits in edits()) {
        let seed: &String = seed.get(&SEEDS);
        check(&apply(seed, &edits));
    }
}
