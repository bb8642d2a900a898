//! The `json_requests` fuzz target's invariants (`warden_server::fuzz_checks`) in the ordinary
//! test suite: on the seed bodies of `fuzz/seeds/json-requests.txt` (what the API tests send) and
//! on generated bodies: random bytes, JSON objects made of each kind's fields in random layouts and
//! spellings, and seed bodies with random edits. The fuzz target runs the same checks for as long
//! as one likes (README, "Fuzzing").

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // test code fails loudly

use std::fs;
use std::path::PathBuf;
use std::sync::LazyLock;

use proptest::prelude::*;
use warden_server::fuzz_checks::{self, KINDS};

/// `(kind, body)` from `fuzz/seeds/json-requests.txt`.
static SEEDS: LazyLock<Vec<(String, String)>> = LazyLock::new(|| {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/seeds/json-requests.txt");
    fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .lines()
        .filter(|line| !line.starts_with('#') && !line.trim().is_empty())
        .map(|line| {
            let (kind, body) = line.split_once(' ').unwrap();
            (kind.to_owned(), body.to_owned())
        })
        .collect()
});

/// Whether the body is accepted.
fn check(kind: &str, body: &[u8]) -> bool {
    match fuzz_checks::json_body(kind, body) {
        Ok(accepted) => accepted,
        Err(broken) => panic!(
            "json_requests invariant broken: {broken}\nkind: {kind}\nbody: {:?}",
            String::from_utf8_lossy(body)
        ),
    }
}

#[test]
fn every_seed_body_is_accepted_and_keeps_the_invariants() {
    for kind in KINDS {
        assert!(
            SEEDS.iter().any(|(k, _)| k == kind),
            "no seed body of kind `{kind}`"
        );
    }
    for (kind, body) in SEEDS.iter() {
        assert!(KINDS.contains(&kind.as_str()), "unknown kind `{kind}`");
        // The seeds are bodies the API accepts: they must decode (else they seed little).
        assert!(
            check(kind, body.as_bytes()),
            "the {kind} seed is refused: {body}"
        );
        // As the fuzz target reads them, and as the body of every other kind.
        let input = format!("{kind}\n{body}");
        fuzz_checks::json_request(input.as_bytes()).unwrap();
        for other in KINDS {
            let _ = check(other, body.as_bytes());
        }
    }
}

#[test]
fn oversize_bodies_are_refused_whatever_they_hold() {
    for body in [
        &br#"{"principal":"a","permission":"a:b:c"}"#[..],
        b"{\"name\":",
        b"\xff",
        b"",
    ] {
        for kind in ["authorize", "policy", "user-groups"] {
            fuzz_checks::oversize_body(kind, body).unwrap();
        }
    }
}

/// The fields of each kind, and some keys no kind has.
fn fields(kind: &str) -> &'static [&'static str] {
    match kind {
        "authorize" => &[
            "principal",
            "token",
            "permission",
            "environment",
            "attributes",
            "time",
            "minRevision",
        ],
        "authorize-batch" => &["requests", "minRevision"],
        "policy" => &["name", "description", "tags", "statementQuery", "category"],
        "binding" => &["parameters", "metadata", "boundaries"],
        "binding-groups" => &["groups", "boundaries"],
        "binding-policies" => &["policyUuids"],
        "boundary" => &["name", "boundaryQuery", "metadata"],
        "catalogue-service" => &[
            "service",
            "conditions",
            "permissions",
            "name",
            "operators",
            "implies",
        ],
        "environment" => &["id", "name"],
        "group" | "groups" => &["name", "description", "federatedAttributeValues"],
        "oauth-client" => &["name", "owner", "scopes"],
        "password" => &["password"],
        "platform-token" => &["name", "scope", "expirationDate", "userUuid", "resource"],
        "platform-token-expiration" => &["expirationDate"],
        "platform-token-status" => &["status"],
        "service-user" => &["name", "description", "owner", "purpose", "type", "id"],
        "service-user-deactivate" => &["reason"],
        "user" => &["email", "name", "surname"],
        "workflow" | "workflow-update" => &[
            "title",
            "environment",
            "isPrivate",
            "workflowType",
            "actor",
            "owner",
            "ownerType",
        ],
        "workflow-task" => &["permission", "attributes"],
        "workflow-consent" => &["environment", "permissions"],
        _ => &["active", "owner", "note", "name", "unknown"],
    }
}

/// A JSON value, built to be written out in a random layout.
#[derive(Debug, Clone)]
enum Json {
    Null,
    Bool(bool),
    /// A number as written: `1`, `-0`, `1.0e2`, …
    Number(String),
    /// A string, and for each character whether to write it as a `\u` escape.
    String(Vec<(char, bool)>),
    Array(Vec<Json>),
    Object(Vec<(String, Json)>),
}

fn string() -> impl Strategy<Value = Json> {
    let text = prop_oneof![
        "[a-z:._@-]{0,12}",
        "\\PC{0,8}",
        prop::sample::select(
            &[
                "env-prod",
                "alice@example.com",
                "storage:logs:read",
                "2026-06-01T00:00:00Z",
                "ALLOW a:b:c;",
                "USER",
                "GROUP",
                "INACTIVE"
            ][..]
        )
        .prop_map(str::to_owned),
    ];
    (text, any::<u64>()).prop_map(|(text, escapes)| {
        Json::String(
            text.chars()
                .enumerate()
                .map(|(i, c)| (c, escapes >> (i % 64) & 1 == 1))
                .collect(),
        )
    })
}

fn number() -> impl Strategy<Value = Json> {
    prop_oneof![
        any::<i64>().prop_map(|n| n.to_string()),
        any::<u64>().prop_map(|n| n.to_string()),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| format!("{f:e}")),
        prop::sample::select(
            &[
                "0",
                "-0",
                "1.0",
                "1e2",
                "1E+2",
                "-1e-400",
                "1e400",
                "18446744073709551616",
                "0.1"
            ][..]
        )
        .prop_map(str::to_owned),
    ]
    .prop_map(Json::Number)
}

fn value(keys: &'static [&'static str]) -> impl Strategy<Value = Json> {
    let leaf = prop_oneof![
        1 => Just(Json::Null),
        1 => any::<bool>().prop_map(Json::Bool),
        2 => number(),
        6 => string(),
    ];
    leaf.prop_recursive(3, 24, 4, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Json::Array),
            prop::collection::vec((prop::sample::select(keys), inner), 0..4).prop_map(|entries| {
                Json::Object(
                    entries
                        .into_iter()
                        .map(|(k, v)| (k.to_owned(), v))
                        .collect(),
                )
            }),
        ]
    })
}

/// A body of `kind`: an object of its fields (a list of them for the kinds that take lists).
fn body(kind: &'static str) -> impl Strategy<Value = Json> {
    let keys = fields(kind);
    let entry = (prop::sample::select(keys), value(keys)).prop_map(|(k, v)| (k.to_owned(), v));
    let object = prop::collection::vec(entry, 0..5).prop_map(Json::Object);
    match kind {
        "groups" => prop::collection::vec(object, 0..3)
            .prop_map(Json::Array)
            .boxed(),
        "user-groups" => prop::collection::vec(string(), 0..4)
            .prop_map(Json::Array)
            .boxed(),
        "authorize-batch" => {
            let request = prop::collection::vec(
                (
                    prop::sample::select(fields("authorize")),
                    value(fields("authorize")),
                )
                    .prop_map(|(k, v)| (k.to_owned(), v)),
                0..4,
            )
            .prop_map(Json::Object);
            prop::collection::vec(request, 0..3)
                .prop_map(|requests| {
                    Json::Object(vec![("requests".to_owned(), Json::Array(requests))])
                })
                .boxed()
        }
        _ => object.boxed(),
    }
}

/// Writes a value out, with whitespace from `spaces` between tokens.
fn write(json: &Json, spaces: &mut impl Iterator<Item = &'static str>, out: &mut String) {
    match json {
        Json::Null => out.push_str("null"),
        Json::Bool(b) => out.push_str(&b.to_string()),
        Json::Number(n) => out.push_str(n),
        Json::String(chars) => write_string(chars, out),
        Json::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(spaces.next().unwrap_or(""));
                write(item, spaces, out);
            }
            out.push(']');
        }
        Json::Object(entries) => {
            out.push('{');
            for (i, (key, value)) in entries.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(spaces.next().unwrap_or(""));
                write_string(&key.chars().map(|c| (c, false)).collect::<Vec<_>>(), out);
                out.push(':');
                out.push_str(spaces.next().unwrap_or(""));
                write(value, spaces, out);
            }
            out.push('}');
        }
    }
}

fn write_string(chars: &[(char, bool)], out: &mut String) {
    out.push('"');
    for &(c, escape) in chars {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if escape || c.is_control() => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

fn kind() -> impl Strategy<Value = &'static str> {
    prop::sample::select(KINDS)
}

fn json_body() -> impl Strategy<Value = (&'static str, String)> {
    (
        kind(),
        prop::collection::vec(
            prop::sample::select(&["", "", " ", "\n", "\t ", "\r\n"][..]),
            64,
        ),
    )
        .prop_flat_map(|(kind, spaces)| (Just(kind), body(kind), Just(spaces)))
        .prop_map(|(kind, body, spaces)| {
            let mut out = String::new();
            let mut spaces = spaces.into_iter().cycle();
            write(&body, &mut spaces, &mut out);
            (kind, out)
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_keep_the_invariants(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        fuzz_checks::json_request(&bytes).unwrap();
    }

    #[test]
    fn json_of_each_kinds_fields_keeps_the_invariants((kind, body) in json_body()) {
        let _ = check(kind, body.as_bytes());
    }

    #[test]
    fn edited_seed_bodies_keep_the_invariants(
        seed in any::<prop::sample::Index>(),
        at in any::<prop::sample::Index>(),
        cut in 0..4usize,
        insert in prop::sample::select(&["", "\"", ",", "}", "]", "{", "[", "null", "1e999", "\\u", "\\ud800", "é", ":", " "][..]),
        other in kind(),
    ) {
        let (kind, body) = seed.get(&SEEDS);
        let mut bytes = body.as_bytes().to_vec();
        let at = at.index(bytes.len() + 1);
        let end = (at + cut).min(bytes.len());
        bytes.splice(at..end, insert.bytes());
        let _ = check(kind, &bytes);
        let _ = check(other, &bytes);
    }
}
