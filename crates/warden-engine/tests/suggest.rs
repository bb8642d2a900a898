//! Least-privilege suggestions over random observed requests: the suggested policy passes the
//! policy check, allows every observed request when it is the principal's only grant, and grants
//! no permission that was not used; plus golden texts for the operator fallbacks.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // test code fails loudly

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use proptest::prelude::*;
use warden_engine::suggest::{AttributeUse, Observed, suggest};
use warden_engine::{
    AttributeValue, Attributes, Binding, Builtin, Directory, Group, Level, PolicyRecord, Principal,
    Request, Snapshot,
};
use warden_policy::catalogue::Catalogue;

const PERMISSIONS: [&str; 5] = [
    "storage:logs:read",
    "storage:spans:read",
    "storage:buckets:read",
    "iam:effective-permissions:read",
    "storage:metrics:read",
];
const ATTRIBUTES: [&str; 5] = [
    "storage:bucket-name",
    "storage:table-name",
    "storage:host.name",
    "iam-param:entity-type",
    "iam-param:entity-id",
];
const VALUES: [&str; 8] = ["a", "ab", "abc", "b", "q\"x", "s\\t", "${u}", "é"];
const ENVIRONMENTS: [Option<&str>; 3] = [None, Some("env-a"), Some("env-b")];

fn builtin() -> &'static Builtin {
    static BUILTIN: std::sync::OnceLock<Builtin> = std::sync::OnceLock::new();
    BUILTIN.get_or_init(|| Builtin::load(&[]).unwrap())
}

fn catalogue() -> &'static Catalogue {
    &builtin().catalogue
}

/// One observed request: permission, environment, attributes.
type Asked = (usize, usize, Vec<(usize, Vec<String>)>);

fn asked() -> impl Strategy<Value = Asked> {
    let value = prop_oneof![
        prop::sample::select(VALUES.to_vec()).prop_map(str::to_owned),
        // Many values with a common prefix, so that lists go over the bound.
        (0..40u32).prop_map(|n| format!("pre-{n}")),
    ];
    (
        0..PERMISSIONS.len(),
        0..ENVIRONMENTS.len(),
        prop::collection::vec(
            (0..ATTRIBUTES.len(), prop::collection::vec(value, 0..3)),
            0..4,
        ),
    )
}

fn attributes(request: &Asked) -> Attributes {
    let mut out = Attributes::new();
    for (name, values) in &request.2 {
        out.insert(
            ATTRIBUTES[*name].to_owned(),
            AttributeValue::Many(values.clone()),
        );
    }
    out
}

/// What the server's sample says about `requests` (every value kept).
fn observe(requests: &[Asked]) -> BTreeMap<String, Observed> {
    let mut used: BTreeMap<String, Observed> = BTreeMap::new();
    let mut count: BTreeMap<&str, usize> = BTreeMap::new();
    let mut carried: BTreeMap<(&str, &str), usize> = BTreeMap::new();
    for request in requests {
        let permission = PERMISSIONS[request.0];
        *count.entry(permission).or_default() += 1;
        let observed = used.entry(permission.to_owned()).or_default();
        observed
            .environments
            .insert(ENVIRONMENTS[request.1].unwrap_or("").to_owned());
        for (name, value) in attributes(request) {
            if value.values().is_empty() {
                continue;
            }
            let name = ATTRIBUTES.iter().find(|a| **a == name).unwrap();
            *carried.entry((permission, name)).or_default() += 1;
            observed
                .attributes
                .entry((*name).to_owned())
                .or_default()
                .values
                .extend(value.values().iter().cloned());
        }
    }
    for (permission, observed) in &mut used {
        let spec = catalogue().permission(permission).unwrap();
        for condition in &spec.conditions {
            let seen = carried
                .get(&(permission.as_str(), condition.name.as_str()))
                .copied()
                .unwrap_or(0);
            if seen < count[permission.as_str()] {
                observed
                    .attributes
                    .entry(condition.name.clone())
                    .or_insert_with(AttributeUse::default)
                    .absent = true;
            }
        }
    }
    used
}

/// A world where `text` is the only policy of the only group of `u1`.
fn world(text: &str) -> Snapshot {
    let mut directory = Directory::new("acc");
    directory.add_environment("env-a");
    directory.add_environment("env-b");
    directory.upsert_group(Group::new("g", "g")).unwrap();
    let policy = PolicyRecord::parse("p", "p", Level::Account, text, catalogue()).unwrap();
    directory.upsert_policy(policy).unwrap();
    directory
        .add_binding(Binding::new(Level::Account, "p", "g"))
        .unwrap();
    directory
        .upsert_principal(Principal::user("u1", "u1@example.com"))
        .unwrap();
    directory
        .set_memberships("u1", vec![Arc::from("g")])
        .unwrap();
    Snapshot::build(directory, Arc::new(catalogue().clone()), 1)
}

fn decide(
    snapshot: &Snapshot,
    permission: &str,
    environment: Option<&str>,
    attributes: &Attributes,
) -> bool {
    snapshot
        .decide(&Request {
            principal: "u1",
            permission,
            environment,
            attributes,
            time: 1_777_888_800,
        })
        .is_allowed()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    #[test]
    fn a_suggestion_passes_the_check_allows_every_observed_request_and_nothing_unused(
        requests in prop::collection::vec(asked(), 1..30),
    ) {
        let used = observe(&requests);
        let suggestion = suggest(&used, catalogue(), "header").unwrap();
        let checked = warden_policy::check_policy(&suggestion.text, catalogue());
        prop_assert!(!checked.has_errors(), "{}\n{:?}", suggestion.text, checked.diagnostics);
        let expected: BTreeSet<String> = used.keys().cloned().collect();
        prop_assert_eq!(
            suggestion.permissions.iter().cloned().collect::<BTreeSet<_>>(),
            expected.clone()
        );
        let snapshot = world(&suggestion.text);
        for request in &requests {
            prop_assert!(
                decide(&snapshot, PERMISSIONS[request.0], ENVIRONMENTS[request.1], &attributes(request)),
                "{:?} under\n{}", request, suggestion.text
            );
        }
        for permission in PERMISSIONS.iter().filter(|p| !expected.contains(**p)) {
            for environment in ENVIRONMENTS {
                prop_assert!(!decide(&snapshot, permission, environment, &Attributes::new()));
            }
        }
    }
}

#[test]
fn operators_fall_back_to_what_the_condition_allows() {
    let mut used = BTreeMap::new();
    let mut observed = Observed::default();
    observed.environments.insert("env-a".to_owned());
    observed.environments.insert("env-b".to_owned());
    let one = |values: &[&str]| AttributeUse {
        values: values.iter().map(|v| (*v).to_owned()).collect(),
        absent: false,
        capped: false,
    };
    // `iam-param:entity-type` takes `=` only: one value is `=`, two are not restricted.
    observed
        .attributes
        .insert("iam-param:entity-type".to_owned(), one(&["user", "group"]));
    observed
        .attributes
        .insert("iam-param:entity-id".to_owned(), one(&["u-1"]));
    used.insert(
        "iam:effective-permissions:read".to_owned(),
        observed.clone(),
    );
    // Twenty-one values with no common prefix stay a list.
    let mut logs = Observed::default();
    logs.environments.insert(String::new());
    let values: Vec<String> = (0..21)
        .map(|i| format!("{}x", char::from(b'a' + i)))
        .collect();
    let refs: Vec<&str> = values.iter().map(String::as_str).collect();
    logs.attributes
        .insert("storage:bucket-name".to_owned(), one(&refs));
    // A line break cannot be written in a policy string.
    logs.attributes
        .insert("storage:host.name".to_owned(), one(&["a\nb"]));
    used.insert("storage:logs:read".to_owned(), logs);
    let suggestion = suggest(&used, catalogue(), "two\nlines").unwrap();
    let list = values
        .iter()
        .map(|v| format!("\"{v}\""))
        .collect::<Vec<_>>()
        .join(", ");
    assert_eq!(
        suggestion.text,
        format!(
            "// two
// lines
// iam:effective-permissions:read, `iam-param:entity-type`: 2 values used, and the condition takes no list; not restricted
ALLOW iam:effective-permissions:read WHERE iam-param:entity-id IN (\"u-1\") AND global:environmentId IN (\"env-a\", \"env-b\");
// storage:logs:read, `storage:host.name`: a value holds a line break, which a policy string cannot; not restricted
ALLOW storage:logs:read WHERE storage:bucket-name IN ({list});
"
        )
    );
    let checked = warden_policy::check_policy(&suggestion.text, catalogue());
    assert!(!checked.has_errors(), "{:?}", checked.diagnostics);

    observed
        .attributes
        .insert("iam-param:entity-type".to_owned(), one(&["user"]));
    let single = BTreeMap::from([("iam:effective-permissions:read".to_owned(), observed)]);
    assert_eq!(
        suggest(&single, catalogue(), "h").unwrap().text,
        "// h
ALLOW iam:effective-permissions:read WHERE iam-param:entity-type = \"user\" AND iam-param:entity-id IN (\"u-1\") AND global:environmentId IN (\"env-a\", \"env-b\");
"
    );
}

#[test]
fn a_statement_stays_within_the_size_a_policy_allows() {
    // Every condition of the permission with 100 values of 250 bytes and no common prefix: far
    // more than a statement may hold.
    let spec = catalogue().permission("storage:logs:read").unwrap();
    let mut observed = Observed::default();
    observed.environments.insert("env-a".to_owned());
    for condition in &spec.conditions {
        let values = (0..100)
            .map(|i: u8| format!("{}{i:03}{}", char::from(b'a' + i % 26), "v".repeat(246)))
            .collect::<BTreeSet<_>>();
        observed.attributes.insert(
            condition.name.clone(),
            AttributeUse {
                values,
                absent: false,
                capped: false,
            },
        );
    }
    let used = BTreeMap::from([("storage:logs:read".to_owned(), observed)]);
    let suggestion = suggest(&used, catalogue(), "big").unwrap();
    let checked = warden_policy::check_policy(&suggestion.text, catalogue());
    assert!(!checked.has_errors(), "{:?}", checked.diagnostics);
    let statement = suggestion.text.lines().last().unwrap();
    assert!(statement.len() <= 32 * 1024 + 100, "{}", statement.len());
    assert!(
        suggestion
            .text
            .contains("// storage:logs:read, `storage:bucket-name`: its 100 values make the policy longer than it may be; not restricted\n"),
        "{}",
        suggestion.text.lines().filter(|l| l.starts_with("//")).collect::<Vec<_>>().join("\n")
    );
    // Still allows every observed combination: a request with the first value of each.
    let snapshot = world(&suggestion.text);
    let mut attributes = Attributes::new();
    for condition in &spec.conditions {
        attributes.insert(
            condition.name.clone(),
            AttributeValue::One(format!("a000{}", "v".repeat(246))),
        );
    }
    assert!(decide(
        &snapshot,
        "storage:logs:read",
        Some("env-a"),
        &attributes
    ));
}

#[test]
fn more_statements_than_a_policy_holds_are_refused() {
    let used: BTreeMap<String, Observed> = catalogue()
        .permissions()
        .take(101)
        .enumerate()
        .map(|(i, permission)| {
            let mut observed = Observed::default();
            observed.environments.insert(format!("env-{i}"));
            (permission.name.clone(), observed)
        })
        .collect();
    assert_eq!(used.len(), 101);
    let refused = suggest(&used, catalogue(), "h").unwrap_err();
    assert_eq!(
        refused.to_string(),
        "the observed use needs 101 statements, more than the 100 a policy may hold"
    );
    // With 100 it fits.
    let fewer: BTreeMap<String, Observed> = used.into_iter().take(100).collect();
    let suggestion = suggest(&fewer, catalogue(), "h").unwrap();
    assert!(!warden_policy::check_policy(&suggestion.text, catalogue()).has_errors());
}
