//! Every disagreement the differential tests found, minimised and kept as a named case, with
//! what was wrong. Each case is decided by the engine, the reference and (where the translation
//! expresses it) Cedar, which must agree, and the expected outcomes are written out.
//!
//! The second half pins readings of the SPEC that docs/decisions.md records ("Decisions"), so
//! that a change of either implementation shows up here by name.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // test code fails loudly

use std::collections::BTreeMap;

use warden_conformance::model::{
    AttrValue, BindingDef, BoundaryDef, Case, Level, Outcome, Param, PolicyDef, PrincipalDef,
    Request, World,
};
use warden_conformance::{check_all, engine, reference};

use Outcome::{Allow, Deny};

/// 2026-05-04T10:00:00Z, a Monday.
const MONDAY_10H: i64 = 1_777_888_800;
const DAY: i64 = 86_400;

/// A world of account policies `p0`, `p1`, … and boundaries `b0`, `b1`, …; one active user
/// `uid-0` in group `g0`.
fn world(policies: &[&str], boundaries: &[&str], bindings: Vec<BindingDef>) -> World {
    World {
        account: "acc-1".to_owned(),
        environments: vec!["env-prod".to_owned(), "env-dev".to_owned()],
        groups: vec!["g0".to_owned(), "g1".to_owned()],
        policies: policies
            .iter()
            .enumerate()
            .map(|(i, text)| PolicyDef {
                id: format!("p{i}"),
                level: Level::Account,
                text: (*text).to_owned(),
            })
            .collect(),
        boundaries: boundaries
            .iter()
            .enumerate()
            .map(|(i, text)| BoundaryDef {
                id: format!("b{i}"),
                text: (*text).to_owned(),
            })
            .collect(),
        bindings,
        principals: vec![PrincipalDef {
            uid: "uid-0".to_owned(),
            email: "alice@example.com".to_owned(),
            handle: None,
            active: true,
            groups: vec!["g0".to_owned()],
        }],
    }
}

fn bind(policy: &str, parameters: &[(&str, Param)], boundaries: &[&str]) -> BindingDef {
    BindingDef {
        group: "g0".to_owned(),
        policy: policy.to_owned(),
        level: Level::Account,
        parameters: parameters
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect(),
        boundaries: boundaries.iter().map(|b| (*b).to_owned()).collect(),
    }
}

fn many(values: &[&str]) -> Param {
    Param::Many(values.iter().map(|v| (*v).to_owned()).collect())
}

fn request(
    permission: &str,
    environment: Option<&str>,
    attributes: &[(&str, &[&str])],
    time: i64,
) -> Request {
    Request {
        principal: "uid-0".to_owned(),
        permission: permission.to_owned(),
        environment: environment.map(str::to_owned),
        attributes: attributes
            .iter()
            .map(|(name, values)| {
                let value = match values {
                    [one] => AttrValue::One((*one).to_owned()),
                    many => AttrValue::Many(many.iter().map(|v| (*v).to_owned()).collect()),
                };
                ((*name).to_owned(), value)
            })
            .collect::<BTreeMap<_, _>>(),
        time,
    }
}

/// The three implementations agree on every request, and decide `expected`.
fn assert_decides(world: World, requests: Vec<(Request, Outcome)>) {
    let (requests, expected): (Vec<Request>, Vec<Outcome>) = requests.into_iter().unzip();
    let case = Case { world, requests };
    check_all(&case).unwrap_or_else(|e| panic!("{e}\n{case:?}"));
    let catalogue = engine::catalogue().unwrap();
    for (request, expected) in case.requests.iter().zip(expected) {
        assert_eq!(
            reference::decide(&case.world, catalogue, request).unwrap(),
            expected,
            "{request:?}"
        );
    }
}

// ---- disagreements found ----------------------------------------------------------------------

/// Found by `engine_agrees_with_reference` (first run). The engine compiled a list parameter
/// filling a whole item of a time condition's list (`global:week-day IN ("${bindParam:days}")`)
/// as an error ("a list where one string is expected"), failed the statement closed and dropped
/// the ALLOW; SPEC §5 expands such an item into the parameter's values, as the engine already
/// did for every other condition. Fixed in `warden_engine::condition` (the time branch of
/// `CompiledCondition::compile` expands whole-placeholder list items).
#[test]
fn week_day_list_parameter_expands_into_list_items() {
    let world = world(
        &[r#"ALLOW storage:logs:read WHERE global:week-day IN ("${bindParam:days}")"#],
        &[],
        vec![bind("p0", &[("days", many(&["Monday", "Tuesday"]))], &[])],
    );
    assert_decides(
        world,
        vec![
            (request("storage:logs:read", None, &[], MONDAY_10H), Allow),
            (
                request("storage:logs:read", None, &[], MONDAY_10H + DAY),
                Allow,
            ),
            (
                request("storage:logs:read", None, &[], MONDAY_10H + 2 * DAY),
                Deny,
            ),
        ],
    );
}

/// Not found by the differential tests: the engine, the reference and the translation to Cedar
/// all kept the DENY statements of the requested permission or of a permission *implying* it,
/// so they agreed on the wrong answer. SPEC §3 step 4 keeps the DENY statements of the
/// permission or of a permission *it implies*: a DENY of one role left the viewer role denied,
/// and a DENY of the viewer role did not deny the roles. Fixed in
/// `warden_engine::compile::PermissionIndex::decides`, the reference's statement filter and the
/// translation's forbid action lists.
#[test]
fn a_deny_reaches_what_implies_its_permission_not_what_it_implies() {
    let viewer = "environment:roles:viewer";
    let settings = "environment:roles:manage-settings";
    let logs = "environment:roles:logviewer";
    let agent = "environment:roles:agent-install";
    let ask = |permission| request(permission, Some("env-prod"), &[], 0);

    // ALLOW of the viewer role, DENY of one role.
    assert_decides(
        world(
            &[
                "ALLOW environment:roles:viewer",
                "DENY environment:roles:manage-settings",
            ],
            &[],
            vec![bind("p0", &[], &[]), bind("p1", &[], &[])],
        ),
        vec![
            (ask(viewer), Allow),
            (ask(settings), Deny),
            (ask(logs), Deny),
        ],
    );
    // ALLOW of roles, DENY of the viewer role: every role is denied.
    assert_decides(
        world(
            &[
                "ALLOW environment:roles:manage-settings, environment:roles:agent-install",
                "DENY environment:roles:viewer",
            ],
            &[],
            vec![bind("p0", &[], &[]), bind("p1", &[], &[])],
        ),
        vec![
            (ask(viewer), Deny),
            (ask(settings), Deny),
            (ask(agent), Deny),
        ],
    );
    // ALLOW of a role alone grants the viewer role; a DENY of another role changes nothing.
    assert_decides(
        world(
            &["ALLOW environment:roles:manage-settings;\nDENY environment:roles:logviewer"],
            &[],
            vec![bind("p0", &[], &[])],
        ),
        vec![
            (ask(viewer), Allow),
            (ask(settings), Allow),
            (ask(logs), Deny),
        ],
    );
    // A conditional DENY of the viewer role denies a role where its condition holds, and where
    // the attribute is missing (which for `agent-install`, supporting no condition, is always).
    let zone = |permission, zone| {
        request(
            permission,
            Some("env-prod"),
            &[("environment:management-zone", &[zone])],
            0,
        )
    };
    assert_decides(
        world(
            &[
                "ALLOW environment:roles:manage-settings, environment:roles:agent-install",
                "DENY environment:roles:viewer WHERE environment:management-zone = \"zone-b\"",
            ],
            &[],
            vec![bind("p0", &[], &[]), bind("p1", &[], &[])],
        ),
        vec![
            (zone(settings, "zone-a"), Allow),
            (zone(settings, "zone-b"), Deny),
            (zone(viewer, "zone-a"), Allow),
            (ask(settings), Deny),
            (ask(agent), Deny),
        ],
    );
}

// ---- readings of the SPEC (docs/decisions.md) ------------------------------------------------

/// `${global:environmentId}` has no value at account level: a condition whose result depends on
/// it is undecided and counts as a missing attribute (ALLOW false, DENY true), but a list that
/// matches on another item decides without it.
#[test]
fn environment_placeholder_at_account_level_is_unknown() {
    let world = world(
        &[
            r#"ALLOW storage:logs:read WHERE storage:bucket-name IN ("shared", "${global:environmentId}")"#,
            r#"DENY storage:logs:read WHERE storage:bucket-name != "${global:environmentId}""#,
        ],
        &[],
        vec![bind("p0", &[], &[])],
    );
    let logs = |env, bucket| {
        request(
            "storage:logs:read",
            env,
            &[("storage:bucket-name", &[bucket])],
            0,
        )
    };
    assert_decides(
        world.clone(),
        vec![
            (logs(None, "shared"), Allow),
            (logs(None, "env-prod"), Deny),
            (logs(Some("env-prod"), "env-prod"), Allow),
            (logs(Some("env-prod"), "env-dev"), Deny),
        ],
    );
    let mut with_deny = world;
    with_deny.bindings.push(bind("p1", &[], &[]));
    assert_decides(
        with_deny,
        vec![
            // The DENY cannot be escaped without an environment to compare with.
            (logs(None, "shared"), Deny),
            (logs(Some("env-prod"), "env-prod"), Allow),
        ],
    );
}

/// A parameter's value fills a MATCH pattern as text, and the pattern is matched after
/// substitution: a `*` in the value is a wildcard. `\*` in the pattern is a literal `*`; a `\`
/// before anything else is itself.
#[test]
fn match_patterns_after_substitution() {
    let world = world(
        &[
            r#"ALLOW storage:logs:read WHERE storage:bucket-name MATCH ("${bindParam:patterns}", "lit\\*", "a\\b")"#,
        ],
        &[],
        vec![bind("p0", &[("patterns", many(&["team-*", "x?z"]))], &[])],
    );
    let logs = |bucket| {
        request(
            "storage:logs:read",
            None,
            &[("storage:bucket-name", &[bucket])],
            0,
        )
    };
    assert_decides(
        world,
        vec![
            (logs("team-a"), Allow),
            (logs("xyz"), Allow),
            (logs("xz"), Deny),
            (logs("lit*"), Allow),
            (logs("lit-x"), Deny),
            (logs("a\\b"), Allow),
            (logs(""), Deny),
        ],
    );
}

/// An `environment:roles:*` grant narrowed by a boundary grants the implied
/// `environment:roles:viewer` under the same boundary.
#[test]
fn boundaries_apply_per_permission_and_carry_over_to_implied_permissions() {
    let world = world(
        &["ALLOW environment:roles:manage-settings, environment:roles:agent-install"],
        &["environment:management-zone = \"zone-a\"\nenvironment:management-zone = \"zone-b\""],
        vec![bind("p0", &[], &["b0"])],
    );
    let zone = |permission, zone| {
        request(
            permission,
            Some("env-prod"),
            &[("environment:management-zone", &[zone])],
            0,
        )
    };
    assert_decides(
        world,
        vec![
            (zone("environment:roles:manage-settings", "zone-b"), Allow),
            (zone("environment:roles:manage-settings", "zone-c"), Deny),
            // agent-install supports no condition: unrestricted under the boundary (SPEC §4.4),
            // and it implies the viewer role.
            (zone("environment:roles:agent-install", "zone-c"), Allow),
            (zone("environment:roles:viewer", "zone-c"), Allow),
        ],
    );
}

/// A boundary condition applies to a permission that supports its name, whatever operators the
/// permission allows for it: `settings:objects:read` allows only `IN`, `=` and `startsWith` on
/// `environment:management-zone`, and a boundary's `!=` on it still narrows it.
#[test]
fn boundary_conditions_apply_by_name_not_by_operator() {
    let world = world(
        &["ALLOW settings:objects:read"],
        &["environment:management-zone != \"zone-x\""],
        vec![bind("p0", &[], &["b0"])],
    );
    let zone = |zone| {
        request(
            "settings:objects:read",
            Some("env-prod"),
            &[("environment:management-zone", &[zone])],
            0,
        )
    };
    assert_decides(
        world,
        vec![
            (zone("zone-x"), Deny),
            (zone("zone-y"), Allow),
            (
                request("settings:objects:read", Some("env-prod"), &[], 0),
                Deny,
            ),
        ],
    );
}

/// A request in an environment the account does not have is matched by no binding, not even
/// an account-level one.
#[test]
fn unknown_environment_matches_no_binding() {
    let world = world(
        &["ALLOW storage:logs:read"],
        &[],
        vec![bind("p0", &[], &[])],
    );
    assert_decides(
        world,
        vec![
            (
                request("storage:logs:read", Some("env-prod"), &[], 0),
                Allow,
            ),
            (request("storage:logs:read", Some("env-gone"), &[], 0), Deny),
            (request("storage:logs:read", None, &[], 0), Allow),
        ],
    );
}
