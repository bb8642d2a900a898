//! Properties of decisions over random worlds (policies with random conditions, boundaries,
//! groups, bindings at account and environment level) and random requests:
//! - removing attributes from a request never turns DENY into ALLOW;
//! - adding a DENY statement never turns DENY into ALLOW;
//! - `explain` always agrees with `decide`;
//! - an incrementally updated snapshot decides like a full rebuild.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // test code fails loudly

use std::sync::Arc;

use proptest::prelude::*;
use warden_engine::{
    AttributeValue, Attributes, Binding, BoundaryRecord, Builtin, Directory, Group, Level,
    PolicyRecord, Principal, Request, Snapshot,
};

const PERMISSIONS: [&str; 3] = [
    "storage:logs:read",
    "storage:spans:read",
    "storage:metrics:read",
];
const ATTRIBUTES: [&str; 3] = [
    "storage:bucket-name",
    "storage:host.name",
    "storage:dt.security_context",
];
const VALUES: [&str; 3] = ["a", "b", "ab"];
const OPERATORS: [&str; 7] = [
    "=",
    "!=",
    "IN",
    "NOT IN",
    "startsWith",
    "NOT startsWith",
    "MATCH",
];
const ENVIRONMENTS: [Option<&str>; 3] = [None, Some("env-prod"), Some("env-dev")];
const GROUPS: [&str; 3] = ["g0", "g1", "g2"];

fn builtin() -> &'static Builtin {
    static BUILTIN: std::sync::OnceLock<Builtin> = std::sync::OnceLock::new();
    BUILTIN.get_or_init(|| Builtin::load(&[]).unwrap())
}

fn value() -> impl Strategy<Value = String> {
    prop::sample::select(VALUES.to_vec()).prop_map(str::to_owned)
}

fn condition() -> impl Strategy<Value = String> {
    let env = (
        prop::sample::select(vec!["=", "!=", "IN", "NOT IN"]),
        prop::sample::select(vec!["env-prod", "env-dev"]),
    )
        .prop_map(|(op, env)| format_condition("global:environmentId", op, &[env.to_owned()]));
    let attribute = (
        prop::sample::select(ATTRIBUTES.to_vec()),
        prop::sample::select(OPERATORS.to_vec()),
        prop::collection::vec(value(), 1..3),
        prop::bool::ANY,
    )
        .prop_map(|(name, op, mut values, star)| {
            if op == "MATCH" && star {
                values[0].push('*');
            }
            format_condition(name, op, &values)
        });
    prop_oneof![1 => env, 5 => attribute]
}

fn format_condition(name: &str, op: &str, values: &[String]) -> String {
    let quoted: Vec<String> = values.iter().map(|v| format!("\"{v}\"")).collect();
    match op {
        "IN" | "NOT IN" => format!("{name} {op} ({})", quoted.join(", ")),
        "MATCH" if quoted.len() > 1 => format!("{name} {op} ({})", quoted.join(", ")),
        _ => format!("{name} {op} {}", quoted[0]),
    }
}

fn statement() -> impl Strategy<Value = String> {
    (
        prop::bool::weighted(0.3),
        prop::sample::subsequence(PERMISSIONS.to_vec(), 1..3),
        prop::collection::vec(condition(), 0..3),
    )
        .prop_map(|(deny, permissions, conditions)| {
            let effect = if deny { "DENY" } else { "ALLOW" };
            let mut text = format!("{effect} {}", permissions.join(", "));
            if !conditions.is_empty() {
                text.push_str(" WHERE ");
                text.push_str(&conditions.join(" AND "));
            }
            text.push(';');
            text
        })
}

fn policy() -> impl Strategy<Value = String> {
    prop::collection::vec(statement(), 1..4).prop_map(|s| s.join("\n"))
}

#[derive(Debug, Clone)]
struct BindingSpec {
    policy: usize,
    group: usize,
    environment: Option<&'static str>,
    boundaries: Vec<usize>,
}

fn binding(policies: usize) -> impl Strategy<Value = BindingSpec> {
    (
        0..policies,
        0..GROUPS.len(),
        prop::sample::select(ENVIRONMENTS.to_vec()),
        prop::collection::vec(0..2usize, 0..3),
    )
        .prop_map(|(policy, group, environment, mut boundaries)| {
            boundaries.sort_unstable();
            boundaries.dedup();
            BindingSpec {
                policy,
                group,
                environment,
                boundaries,
            }
        })
}

#[derive(Debug, Clone)]
struct World {
    policies: Vec<String>,
    boundaries: Vec<String>,
    bindings: Vec<BindingSpec>,
    memberships: Vec<usize>,
}

fn boundary() -> impl Strategy<Value = String> {
    prop::collection::vec(condition(), 1..3).prop_map(|c| c.join("\n"))
}

fn world() -> impl Strategy<Value = World> {
    (
        prop::collection::vec(policy(), 1..4),
        prop::collection::vec(boundary(), 2..3),
    )
        .prop_flat_map(|(policies, boundaries)| {
            let count = policies.len();
            (
                Just(policies),
                Just(boundaries),
                prop::collection::vec(binding(count), 1..6),
                prop::sample::subsequence((0..GROUPS.len()).collect::<Vec<_>>(), 1..=GROUPS.len()),
            )
                .prop_map(|(policies, boundaries, bindings, memberships)| World {
                    policies,
                    boundaries,
                    bindings,
                    memberships,
                })
        })
}

fn attributes() -> impl Strategy<Value = Attributes> {
    prop::collection::btree_map(
        prop::sample::select(ATTRIBUTES.to_vec()).prop_map(str::to_owned),
        prop::collection::vec(value(), 0..3).prop_map(|values| match values.len() {
            1 => AttributeValue::One(values[0].clone()),
            _ => AttributeValue::Many(values),
        }),
        0..4,
    )
}

const USER: &str = "user@example.com";

fn directory(world: &World, extra_deny: Option<(&str, usize)>) -> Directory {
    let catalogue = &builtin().catalogue;
    let mut directory = Directory::new("acc");
    directory.add_environment("env-prod");
    directory.add_environment("env-dev");
    for group in GROUPS {
        directory.upsert_group(Group::new(group, group)).unwrap();
    }
    for (i, text) in world.policies.iter().enumerate() {
        let record = PolicyRecord::parse(
            &format!("p{i}"),
            &format!("p{i}"),
            Level::Account,
            text,
            catalogue,
        )
        .unwrap_or_else(|d| panic!("{text}: {d:?}"));
        directory.upsert_policy(record).unwrap();
    }
    for (i, text) in world.boundaries.iter().enumerate() {
        let record = BoundaryRecord::parse(&format!("b{i}"), &format!("b{i}"), text, catalogue)
            .unwrap_or_else(|d| panic!("{text}: {d:?}"));
        directory.upsert_boundary(record).unwrap();
    }
    for spec in &world.bindings {
        let level = spec
            .environment
            .map_or(Level::Account, |env| Level::Environment(env.into()));
        let mut binding = Binding::new(level, &format!("p{}", spec.policy), GROUPS[spec.group]);
        binding.boundaries = spec
            .boundaries
            .iter()
            .map(|b| Arc::from(format!("b{b}").as_str()))
            .collect();
        directory.add_binding(binding).unwrap();
    }
    if let Some((text, group)) = extra_deny {
        let record =
            PolicyRecord::parse("extra", "extra", Level::Account, text, catalogue).unwrap();
        directory.upsert_policy(record).unwrap();
        directory
            .add_binding(Binding::new(Level::Account, "extra", GROUPS[group]))
            .unwrap();
    }
    directory
        .upsert_principal(Principal::user("u1", USER))
        .unwrap();
    let groups = world
        .memberships
        .iter()
        .map(|g| Arc::from(GROUPS[*g]))
        .collect();
    directory.set_memberships("u1", groups).unwrap();
    directory
}

fn snapshot(directory: Directory) -> Snapshot {
    Snapshot::build(directory, Arc::new(builtin().catalogue.clone()), 1)
}

fn request<'a>(
    permission: &'a str,
    environment: Option<&'a str>,
    attributes: &'a Attributes,
) -> Request<'a> {
    Request {
        principal: USER,
        permission,
        environment,
        attributes,
        time: 1_777_888_800,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn removing_attributes_never_turns_deny_into_allow(
        world in world(),
        permission in prop::sample::select(PERMISSIONS.to_vec()),
        environment in prop::sample::select(ENVIRONMENTS.to_vec()),
        attributes in attributes(),
        keep in prop::collection::vec(prop::bool::ANY, 4),
    ) {
        let snapshot = snapshot(directory(&world, None));
        let full = snapshot.decide(&request(permission, environment, &attributes));
        let reduced: Attributes = attributes.iter().zip(keep.iter().cycle()).filter(|(_, keep)| **keep).map(|((k, v), _)| (k.clone(), v.clone())).collect();
        let fewer = snapshot.decide(&request(permission, environment, &reduced));
        if !full.is_allowed() {
            prop_assert!(!fewer.is_allowed(), "full request denied ({:?}) but with attributes {:?} only: {:?}", full.reason, reduced, fewer);
        }
        // Dropping one value of a list attribute is also a removal of information.
        for name in attributes.keys() {
            let mut smaller = attributes.clone();
            smaller.remove(name);
            if !full.is_allowed() {
                prop_assert!(!snapshot.decide(&request(permission, environment, &smaller)).is_allowed());
            }
        }
    }

    #[test]
    fn adding_a_deny_never_turns_deny_into_allow(
        world in world(),
        deny in statement().prop_map(|s| s.replacen("ALLOW", "DENY", 1)),
        group in 0..GROUPS.len(),
        permission in prop::sample::select(PERMISSIONS.to_vec()),
        environment in prop::sample::select(ENVIRONMENTS.to_vec()),
        attributes in attributes(),
    ) {
        let request = request(permission, environment, &attributes);
        let before = snapshot(directory(&world, None)).decide(&request);
        let after = snapshot(directory(&world, Some((&deny, group)))).decide(&request);
        if !before.is_allowed() {
            prop_assert!(!after.is_allowed(), "adding `{deny}` to g{group} allowed the request");
        }
    }

    #[test]
    fn explain_agrees_with_decide_and_incremental_equals_full(
        world in world(),
        permission in prop::sample::select(PERMISSIONS.to_vec()),
        environment in prop::sample::select(ENVIRONMENTS.to_vec()),
        attributes in attributes(),
        removed in 0..6usize,
    ) {
        let directory_before = directory(&world, None);
        let full = snapshot(directory_before.clone());
        let request = request(permission, environment, &attributes);
        prop_assert_eq!(full.explain(&request).decision, full.decide(&request));

        // Remove one binding's group bindings incrementally and compare with a rebuild.
        let mut changed = directory_before;
        let group = GROUPS[removed % GROUPS.len()];
        let affected = changed.remove_bindings(group, |b| b.policy.as_ref() == "p0").unwrap();
        let incremental = full.apply(changed.clone(), &affected, 2);
        let rebuilt = snapshot(changed);
        prop_assert_eq!(incremental.decide(&request), rebuilt.decide(&request));
    }
}
