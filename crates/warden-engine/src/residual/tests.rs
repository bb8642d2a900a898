#![allow(clippy::unwrap_used, clippy::indexing_slicing)] // test code fails loudly

use std::sync::Arc;

use super::*;
use crate::condition::AttributeValue;
use crate::directory::{Binding, BoundaryRecord, Directory, Group, Level, PolicyRecord, Principal};
use crate::{Builtin, Request};

const BUCKET: &str = "storage:bucket-name";
const TABLE: &str = "storage:host.name";
/// 2026-05-04T10:00:00Z, a Monday.
const MONDAY: i64 = 1_777_888_800;

struct World {
    builtin: Builtin,
    directory: Directory,
}

impl World {
    fn new() -> World {
        let mut directory = Directory::new("acc");
        directory.add_environment("env-dev");
        directory.add_environment("env-prod");
        let mut principal = Principal::user("uid-alice", "alice@example.com");
        principal.groups = Arc::new([Arc::from("g")]);
        let mut world = World {
            builtin: Builtin::load(&[]).unwrap(),
            directory,
        };
        world.directory.upsert_group(Group::new("g", "g")).unwrap();
        world.directory.upsert_principal(principal).unwrap();
        world
    }

    fn policy(mut self, id: &str, text: &str) -> Self {
        let record =
            PolicyRecord::parse(id, id, Level::Account, text, &self.builtin.catalogue).unwrap();
        self.directory.upsert_policy(record).unwrap();
        self.bind(id, Level::Account, &[])
    }

    fn bind(mut self, policy: &str, level: Level, boundaries: &[&str]) -> Self {
        let mut binding = Binding::new(level, policy, "g");
        binding.boundaries = boundaries.iter().map(|b| Arc::from(*b)).collect();
        self.directory.add_binding(binding).unwrap();
        self
    }

    fn boundary(mut self, id: &str, text: &str) -> Self {
        let record = BoundaryRecord::parse(id, id, text, &self.builtin.catalogue).unwrap();
        self.directory.upsert_boundary(record).unwrap();
        self
    }

    fn snapshot(&self) -> Snapshot {
        Snapshot::build(
            self.directory.clone(),
            Arc::new(self.builtin.catalogue.clone()),
            1,
        )
    }
}

fn residual_of(snapshot: &Snapshot, permission: &str, known: &Attributes) -> Residual {
    snapshot
        .residual(&ResidualRequest {
            principal: "uid-alice",
            permission,
            environment: Some("env-prod"),
            known,
            time: MONDAY,
        })
        .unwrap()
}

fn json(residual: &Residual) -> String {
    serde_json::to_string(&residual.predicate).unwrap()
}

fn attrs(pairs: &[(&str, &[&str])]) -> Attributes {
    pairs
        .iter()
        .map(|(k, v)| {
            (
                (*k).to_owned(),
                AttributeValue::Many(v.iter().map(|s| (*s).to_owned()).collect()),
            )
        })
        .collect()
}

/// Checks exactness on the given assignments of the free attributes.
fn agrees(snapshot: &Snapshot, permission: &str, known: &Attributes, assignments: &[Attributes]) {
    let residual = residual_of(snapshot, permission, known);
    for assignment in assignments {
        let mut full = known.clone();
        full.extend(assignment.clone());
        let decision = snapshot.decide(&Request {
            principal: "uid-alice",
            permission,
            environment: Some("env-prod"),
            attributes: &full,
            time: MONDAY,
        });
        assert_eq!(
            residual.predicate.evaluate(&full),
            decision.is_allowed(),
            "{} on {full:?}",
            json(&residual)
        );
    }
}

#[test]
fn an_unconditional_allow_is_true_and_nothing_is_false() {
    let world = World::new().policy("p", "ALLOW storage:logs:read;");
    let snapshot = world.snapshot();
    let none = Attributes::new();
    let allowed = residual_of(&snapshot, "storage:logs:read", &none);
    assert_eq!(allowed.decision, ResidualDecision::Allow);
    assert_eq!(json(&allowed), "true");
    let denied = residual_of(&snapshot, "storage:spans:read", &none);
    assert_eq!(denied.decision, ResidualDecision::Deny);
    assert_eq!(json(&denied), "false");
    assert_eq!(denied.refused, None);
    let unknown = snapshot
        .residual(&ResidualRequest {
            principal: "nobody@example.com",
            permission: "storage:logs:read",
            environment: None,
            known: &none,
            time: MONDAY,
        })
        .unwrap();
    assert_eq!(unknown.refused, Some(Reason::UnknownPrincipal));
    assert_eq!(json(&unknown), "false");
}

#[test]
fn in_lists_are_merged_and_deny_wins_with_the_missing_attribute_rule() {
    let world = World::new().policy(
        "p",
        r#"ALLOW storage:logs:read WHERE storage:bucket-name IN ("a", "b");
           ALLOW storage:logs:read WHERE storage:bucket-name = "c";
           DENY storage:logs:read WHERE storage:bucket-name = "b";"#,
    );
    let snapshot = world.snapshot();
    let residual = residual_of(&snapshot, "storage:logs:read", &Attributes::new());
    assert_eq!(residual.decision, ResidualDecision::Conditional);
    // The DENY's `= "b"` excludes `b` from the merged list; with a list-valued attribute the
    // exclusion itself must stay (`["a", "b"]` is denied).
    assert_eq!(
        json(&residual),
        r#"{"all":[{"attribute":"storage:bucket-name","operator":"IN","values":["a","c"]},{"attribute":"storage:bucket-name","operator":"!=","values":["b"]}]}"#
    );
    agrees(
        &snapshot,
        "storage:logs:read",
        &Attributes::new(),
        &[
            attrs(&[]),
            attrs(&[(BUCKET, &[])]),
            attrs(&[(BUCKET, &["a"])]),
            attrs(&[(BUCKET, &["b"])]),
            attrs(&[(BUCKET, &["a", "b"])]),
            attrs(&[(BUCKET, &["c", "x"])]),
        ],
    );
}

#[test]
fn a_deny_on_an_absent_attribute_holds() {
    let world = World::new().policy(
        "p",
        r#"ALLOW storage:logs:read;
           DENY storage:logs:read WHERE storage:host.name = "secret";"#,
    );
    let snapshot = world.snapshot();
    let residual = residual_of(&snapshot, "storage:logs:read", &Attributes::new());
    // Allowed only when the table is given and is not `secret`.
    assert_eq!(
        json(&residual),
        r#"{"all":[{"attribute":"storage:host.name","operator":"!=","values":["secret"]},{"present":"storage:host.name"}]}"#
    );
    assert!(!residual.predicate.evaluate(&attrs(&[])));
    assert!(!residual.predicate.evaluate(&attrs(&[(TABLE, &[])])));
    assert!(residual.predicate.evaluate(&attrs(&[(TABLE, &["logs"])])));
    // Known attributes are decided, not left in the residual.
    let known = attrs(&[(TABLE, &["logs"])]);
    assert_eq!(
        residual_of(&snapshot, "storage:logs:read", &known).decision,
        ResidualDecision::Allow
    );
    let known = attrs(&[(TABLE, &[])]);
    assert_eq!(
        residual_of(&snapshot, "storage:logs:read", &known).decision,
        ResidualDecision::Deny
    );
}

#[test]
fn subsumed_clauses_and_covered_values_are_removed() {
    let world = World::new().policy(
        "p",
        r#"ALLOW storage:logs:read WHERE storage:bucket-name startsWith "team_";
           ALLOW storage:logs:read WHERE storage:bucket-name IN ("team_a", "other");
           ALLOW storage:logs:read WHERE storage:bucket-name = "team_b" AND storage:host.name = "logs";
           ALLOW storage:logs:read WHERE storage:bucket-name MATCH "x*";
           ALLOW storage:logs:read WHERE storage:bucket-name MATCH "x?z";"#,
    );
    let snapshot = world.snapshot();
    let residual = residual_of(&snapshot, "storage:logs:read", &Attributes::new());
    assert_eq!(
        json(&residual),
        r#"{"any":[{"attribute":"storage:bucket-name","operator":"=","values":["other"]},{"attribute":"storage:bucket-name","operator":"startsWith","values":["team_"]},{"attribute":"storage:bucket-name","operator":"MATCH","values":["x*"]}]}"#
    );
}

#[test]
fn time_environment_and_boundaries_are_evaluated() {
    let world = World::new()
        .boundary(
            "zone",
            "storage:bucket-name IN (\"a\")\nstorage:bucket-name = \"b\"",
        )
        .policy(
            "p",
            r#"ALLOW storage:logs:read WHERE global:week-day = "Monday";
               ALLOW storage:spans:read WHERE global:week-day = "Sunday";
               DENY storage:logs:read WHERE global:environmentId = "env-dev";"#,
        );
    let world = {
        let record = PolicyRecord::parse(
            "q",
            "q",
            Level::Account,
            "ALLOW storage:metrics:read;",
            &world.builtin.catalogue,
        )
        .unwrap();
        let mut world = world;
        world.directory.upsert_policy(record).unwrap();
        world.bind("q", Level::Environment("env-prod".into()), &["zone"])
    };
    let snapshot = world.snapshot();
    let none = Attributes::new();
    assert_eq!(
        json(&residual_of(&snapshot, "storage:logs:read", &none)),
        "true"
    );
    assert_eq!(
        json(&residual_of(&snapshot, "storage:spans:read", &none)),
        "false"
    );
    assert_eq!(
        json(&residual_of(&snapshot, "storage:metrics:read", &none)),
        r#"{"attribute":"storage:bucket-name","operator":"IN","values":["a","b"]}"#
    );
}

#[test]
fn a_negated_prefix_and_implication_of_roles() {
    let world = World::new().policy(
        "p",
        r#"ALLOW environment:roles:logviewer;
           DENY environment:roles:viewer WHERE environment:management-zone startsWith "z";"#,
    );
    let snapshot = world.snapshot();
    // An ALLOW of a role grants the viewer; a DENY of the viewer denies every role.
    let residual = residual_of(&snapshot, "environment:roles:viewer", &Attributes::new());
    assert_eq!(
        json(&residual),
        r#"{"all":[{"attribute":"environment:management-zone","operator":"NOT startsWith","values":["z"]},{"present":"environment:management-zone"}]}"#
    );
    let role = residual_of(&snapshot, "environment:roles:logviewer", &Attributes::new());
    assert_eq!(role.predicate, residual.predicate);
}

#[test]
fn the_json_round_trips_and_evaluates_as_the_table_says() {
    let text = r#"{"any":[true,{"not":{"present":"a"}},{"all":[{"attribute":"a","operator":"NOT startsWith","values":["x"]},{"attribute":"a","operator":"NOT IN","values":["p","q"]}]}]}"#;
    let predicate: Predicate = serde_json::from_str(text).unwrap();
    assert_eq!(serde_json::to_string(&predicate).unwrap(), text);
    assert_eq!(predicate.terms(), 10);
    let negated: Predicate =
        serde_json::from_str(r#"{"attribute":"a","operator":"NOT startsWith","values":["x"]}"#)
            .unwrap();
    assert!(negated.evaluate(&attrs(&[])));
    assert!(negated.evaluate(&attrs(&[("a", &["yx"])])));
    assert!(!negated.evaluate(&attrs(&[("a", &["y", "xy"])])));
    let positive: Predicate =
        serde_json::from_str(r#"{"attribute":"a","operator":"MATCH","values":["?b","c*"]}"#)
            .unwrap();
    assert!(!positive.evaluate(&attrs(&[])));
    assert!(positive.evaluate(&attrs(&[("a", &["zz", "ab"])])));
    assert!(!positive.evaluate(&attrs(&[("a", &["abb"])])));
    assert!(
        serde_json::from_str::<Predicate>(r#"{"attribute":"a","operator":"<","values":[]}"#)
            .is_err()
    );
}

#[test]
fn a_residual_beyond_the_limit_is_refused_with_the_fix() {
    let statements: String = (0..30)
        .map(|i| {
            format!(
                "ALLOW storage:logs:read WHERE storage:bucket-name startsWith \"b{i}\" AND storage:host.name = \"t{i}\";\n"
            )
        })
        .collect();
    let world = World::new().policy("p", &statements);
    let snapshot = world.snapshot();
    let error = snapshot
        .residual_within(
            &ResidualRequest {
                principal: "uid-alice",
                permission: "storage:logs:read",
                environment: None,
                known: &Attributes::new(),
                time: MONDAY,
            },
            100,
        )
        .unwrap_err();
    assert_eq!(
        error,
        ResidualError::TooLarge {
            terms: 151,
            limit: 100
        }
    );
    assert_eq!(
        error.to_string(),
        "the residual has 151 terms, more than the limit of 100\nhelp: fix more attributes in the request (`attributes`), or narrow the statements that grant or deny the permission"
    );
    // Fixing the table leaves one clause.
    let known = attrs(&[(TABLE, &["t7"])]);
    assert_eq!(
        json(&residual_of(&snapshot, "storage:logs:read", &known)),
        r#"{"attribute":"storage:bucket-name","operator":"startsWith","values":["b7"]}"#
    );
}
