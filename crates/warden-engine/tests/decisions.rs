//! The decision rules of SPEC §3–§5, one test per rule, each able to fail on that rule alone.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // test code fails loudly

use std::collections::BTreeMap;
use std::sync::Arc;

use warden_engine::{
    AttributeSource, AttributeValue, AttributeValues, Attributes, Binding, BoundaryRecord, Builtin,
    Decision, Directory, Level, Outcome, ParamValue, PolicyRecord, Principal, Reason, Request,
    Snapshot,
};

/// 2026-05-04T10:00:00Z, a Monday.
const MONDAY_10H: i64 = 1_777_888_800;

struct World {
    builtin: Builtin,
    directory: Directory,
}

impl World {
    fn new() -> World {
        let builtin = Builtin::load(&[]).unwrap();
        let mut directory = Directory::new("acc-1");
        directory.add_environment("env-prod");
        directory.add_environment("env-dev");
        builtin
            .install(&mut directory, |name| {
                name.to_lowercase().replace(' ', "-").into()
            })
            .unwrap();
        World { builtin, directory }
    }

    fn policy(&mut self, id: &str, text: &str) -> &mut Self {
        let record = PolicyRecord::parse(id, id, Level::Account, text, &self.builtin.catalogue)
            .unwrap_or_else(|d| panic!("{id}: {d:?}"));
        self.directory.upsert_policy(record).unwrap();
        self
    }

    fn boundary(&mut self, id: &str, text: &str) -> &mut Self {
        let record = BoundaryRecord::parse(id, id, text, &self.builtin.catalogue)
            .unwrap_or_else(|d| panic!("{id}: {d:?}"));
        self.directory.upsert_boundary(record).unwrap();
        self
    }

    fn group(&mut self, id: &str) -> &mut Self {
        self.directory
            .upsert_group(warden_engine::Group::new(id, id))
            .unwrap();
        self
    }

    fn bind(&mut self, level: Level, policy: &str, group: &str) -> &mut Self {
        self.bind_with(Binding::new(level, policy, group))
    }

    fn bind_with(&mut self, binding: Binding) -> &mut Self {
        self.directory.add_binding(binding).unwrap();
        self
    }

    fn user(&mut self, email: &str, groups: &[&str]) -> &mut Self {
        let uid = format!("uid-{email}");
        self.directory
            .upsert_principal(Principal::user(&uid, email))
            .unwrap();
        let groups = groups.iter().map(|g| Arc::from(*g)).collect();
        self.directory.set_memberships(&uid, groups).unwrap();
        self
    }

    fn snapshot(&self) -> Snapshot {
        Snapshot::build(
            self.directory.clone(),
            Arc::new(self.builtin.catalogue.clone()),
            1,
        )
    }

    fn decide(
        &self,
        principal: &str,
        permission: &str,
        environment: Option<&str>,
        attributes: &[(&str, &str)],
    ) -> Decision {
        let attributes = attrs(attributes);
        let request = Request {
            principal,
            permission,
            environment,
            attributes: &attributes,
            time: MONDAY_10H,
        };
        let snapshot = self.snapshot();
        let decision = snapshot.decide(&request);
        let explained = snapshot.explain(&request);
        assert_eq!(explained.decision, decision, "explain agrees with decide");
        let found = snapshot.directory().find_principal(principal);
        assert_eq!(
            snapshot.decide_found(found, &request),
            decision,
            "decide_found agrees with decide"
        );
        let borrowed = Borrowed(
            attributes
                .iter()
                .map(|(name, value)| {
                    let values = value.values().iter().map(String::as_str).collect();
                    (name.as_str(), values)
                })
                .collect(),
        );
        let request = Request {
            attributes: &borrowed,
            ..request
        };
        assert_eq!(snapshot.decide(&request), decision, "borrowed attributes");
        assert_eq!(
            format!("{:?}", snapshot.explain(&request)),
            format!("{explained:?}"),
            "borrowed attributes explained"
        );
        decision
    }

    fn allowed(
        &self,
        principal: &str,
        permission: &str,
        environment: Option<&str>,
        attributes: &[(&str, &str)],
    ) -> bool {
        self.decide(principal, permission, environment, attributes)
            .is_allowed()
    }
}

fn attrs(pairs: &[(&str, &str)]) -> Attributes {
    let mut out: Attributes = BTreeMap::new();
    for (name, value) in pairs {
        match out.get_mut(*name) {
            Some(AttributeValue::One(first)) => {
                let first = first.clone();
                out.insert(
                    (*name).to_owned(),
                    AttributeValue::Many(vec![first, (*value).to_owned()]),
                );
            }
            Some(AttributeValue::Many(values)) => values.push((*value).to_owned()),
            None => {
                out.insert((*name).to_owned(), AttributeValue::One((*value).to_owned()));
            }
        }
    }
    out
}

const ALICE: &str = "alice@example.com";

/// Attributes as borrowed text, as a server that decodes requests itself gives them.
#[derive(Debug)]
struct Borrowed<'a>(Vec<(&'a str, Vec<&'a str>)>);

impl AttributeSource for Borrowed<'_> {
    fn attribute(&self, name: &str) -> Option<AttributeValues<'_>> {
        self.0
            .iter()
            .find(|(given, _)| *given == name)
            .map(|(_, values)| AttributeValues::Borrowed(values))
    }
}

#[test]
fn default_deny_without_statements() {
    let mut world = World::new();
    world.group("ops").user(ALICE, &["ops"]);
    assert_eq!(
        world.decide(ALICE, "storage:logs:read", None, &[]),
        Decision::deny(Reason::NoMatchingAllow)
    );
}

#[test]
fn deny_wins_over_allow_whatever_the_order() {
    let mut world = World::new();
    world
        .policy("allow", "ALLOW settings:objects:read;")
        .policy(
            "deny",
            "DENY settings:objects:read WHERE settings:schemaId = \"builtin:secret\";",
        )
        .group("a")
        .group("b")
        .bind(Level::Account, "allow", "a")
        .bind(Level::Account, "deny", "b");
    for groups in [["a", "b"], ["b", "a"]] {
        world.user(ALICE, &groups);
        assert!(world.allowed(
            ALICE,
            "settings:objects:read",
            None,
            &[("settings:schemaId", "builtin:other")]
        ));
        assert_eq!(
            world.decide(
                ALICE,
                "settings:objects:read",
                None,
                &[("settings:schemaId", "builtin:secret")]
            ),
            Decision::deny(Reason::DeniedByStatement)
        );
    }
}

#[test]
fn account_bindings_apply_everywhere_environment_bindings_only_there() {
    let mut world = World::new();
    world
        .policy("read", "ALLOW settings:objects:read;")
        .policy("write", "ALLOW settings:objects:write;")
        .group("g")
        .bind(Level::Account, "read", "g")
        .bind(Level::Environment("env-prod".into()), "write", "g")
        .user(ALICE, &["g"]);
    assert!(world.allowed(ALICE, "settings:objects:read", None, &[]));
    assert!(world.allowed(ALICE, "settings:objects:read", Some("env-dev"), &[]));
    assert!(world.allowed(ALICE, "settings:objects:write", Some("env-prod"), &[]));
    assert!(!world.allowed(ALICE, "settings:objects:write", Some("env-dev"), &[]));
    assert!(!world.allowed(ALICE, "settings:objects:write", None, &[]));
    assert_eq!(
        world.decide(ALICE, "settings:objects:read", Some("env-nope"), &[]),
        Decision::deny(Reason::UnknownEnvironment)
    );
}

#[test]
fn missing_attributes_make_allow_false_and_deny_true() {
    let mut world = World::new();
    world
        .policy("p", "ALLOW storage:logs:read WHERE storage:bucket-name = \"ops\";\nALLOW settings:objects:read;\nDENY settings:objects:read WHERE settings:schemaId != \"builtin:public\";")
        .group("g")
        .bind(Level::Account, "p", "g")
        .user(ALICE, &["g"]);
    assert!(world.allowed(
        ALICE,
        "storage:logs:read",
        None,
        &[("storage:bucket-name", "ops")]
    ));
    assert!(
        !world.allowed(ALICE, "storage:logs:read", None, &[]),
        "missing: the ALLOW condition is false"
    );
    assert!(world.allowed(
        ALICE,
        "settings:objects:read",
        None,
        &[("settings:schemaId", "builtin:public")]
    ));
    assert_eq!(
        world.decide(ALICE, "settings:objects:read", None, &[]),
        Decision::deny(Reason::DeniedByStatement),
        "missing: the DENY condition is true, even with a negated operator"
    );
}

#[test]
fn list_attributes_any_and_none() {
    let mut world = World::new();
    world
        .policy("p", "ALLOW storage:logs:read WHERE storage:dt.security_context IN (\"team-a\");\nDENY storage:logs:read WHERE storage:dt.security_context = \"secret\";")
        .group("g")
        .bind(Level::Account, "p", "g")
        .user(ALICE, &["g"]);
    let ctx = "storage:dt.security_context";
    assert!(world.allowed(
        ALICE,
        "storage:logs:read",
        None,
        &[(ctx, "team-b"), (ctx, "team-a")]
    ));
    assert!(!world.allowed(
        ALICE,
        "storage:logs:read",
        None,
        &[(ctx, "team-a"), (ctx, "secret")]
    ));
}

#[test]
fn implied_environment_roles_viewer() {
    let mut world = World::new();
    world
        .policy("settings", "ALLOW environment:roles:manage-settings;")
        .policy("logs", "ALLOW environment:roles:logviewer;")
        .group("g")
        .group("h")
        .bind(Level::Account, "settings", "g")
        .bind(Level::Account, "logs", "h")
        .user(ALICE, &["g"])
        .user("bob@example.com", &["h"]);
    assert!(world.allowed(ALICE, "environment:roles:viewer", Some("env-prod"), &[]));
    assert!(
        !world.allowed(ALICE, "environment:roles:logviewer", Some("env-prod"), &[]),
        "implication runs one way"
    );
    assert!(world.allowed(
        "bob@example.com",
        "environment:roles:viewer",
        Some("env-prod"),
        &[]
    ));
}

#[test]
fn implied_permission_respects_the_implying_statement_conditions() {
    let mut world = World::new();
    world
        .policy("p", "ALLOW environment:roles:manage-settings WHERE environment:management-zone = \"zone-a\";")
        .group("g")
        .bind(Level::Account, "p", "g")
        .user(ALICE, &["g"]);
    assert!(world.allowed(
        ALICE,
        "environment:roles:viewer",
        None,
        &[("environment:management-zone", "zone-a")]
    ));
    assert!(!world.allowed(
        ALICE,
        "environment:roles:viewer",
        None,
        &[("environment:management-zone", "zone-b")]
    ));
}

// ---- implication with DENY (SPEC §3 step 4) -------------------------------------------------------

const VIEWER: &str = "environment:roles:viewer";
const MANAGE_SETTINGS: &str = "environment:roles:manage-settings";

impl World {
    /// The explanation of an unconditional request in `env-prod`, after checking that it agrees
    /// with the decision.
    fn explained(&self, principal: &str, permission: &str) -> warden_engine::Explanation {
        let decision = self.decide(principal, permission, Some("env-prod"), &[]);
        let attributes = Attributes::new();
        let explanation = self.snapshot().explain(&Request {
            principal,
            permission,
            environment: Some("env-prod"),
            attributes: &attributes,
            time: MONDAY_10H,
        });
        assert_eq!(explanation.decision, decision);
        explanation
    }
}

/// `(statement, policy name)` of each deciding statement.
fn deciding(explanation: &warden_engine::Explanation) -> Vec<(String, String)> {
    explanation
        .deciding
        .iter()
        .map(|s| (s.statement.clone(), s.policy.name.clone()))
        .collect()
}

fn cited(statement: &str, policy: &str) -> (String, String) {
    (statement.to_owned(), policy.to_owned())
}

#[test]
fn a_deny_of_one_role_leaves_the_viewer_role_allowed() {
    let mut world = World::new();
    world
        .policy("no-settings", "DENY environment:roles:manage-settings;")
        .group("g")
        // The global policy "Environment role - Access environment": ALLOW of the viewer role.
        .bind(Level::Account, "environment-role-access-environment", "g")
        .bind(Level::Account, "no-settings", "g")
        .user(ALICE, &["g"]);

    let viewer = world.explained(ALICE, VIEWER);
    assert_eq!(viewer.decision.reason, Reason::Allowed);
    assert_eq!(
        deciding(&viewer),
        [cited(
            "ALLOW environment:roles:viewer;",
            "Environment role - Access environment"
        )]
    );
    assert!(
        viewer.summary.starts_with(
            "allowed by `ALLOW environment:roles:viewer;` of policy `Environment role - Access environment`"
        ),
        "{}",
        viewer.summary
    );

    let settings = world.explained(ALICE, MANAGE_SETTINGS);
    assert_eq!(settings.decision.reason, Reason::DeniedByStatement);
    assert_eq!(
        deciding(&settings),
        [cited(
            "DENY environment:roles:manage-settings;",
            "no-settings"
        )]
    );
    assert!(
        settings.summary.starts_with(
            "denied by `DENY environment:roles:manage-settings;` of policy `no-settings`"
        ),
        "{}",
        settings.summary
    );
}

#[test]
fn a_deny_of_the_viewer_role_denies_every_role() {
    let mut world = World::new();
    world
        .policy("no-viewer", "DENY environment:roles:viewer;")
        .group("g")
        // The global policy "Environment role - Change monitoring settings".
        .bind(
            Level::Account,
            "environment-role-change-monitoring-settings",
            "g",
        )
        .bind(Level::Account, "no-viewer", "g")
        .user(ALICE, &["g"]);
    for permission in [VIEWER, MANAGE_SETTINGS] {
        let explanation = world.explained(ALICE, permission);
        assert_eq!(
            explanation.decision.reason,
            Reason::DeniedByStatement,
            "{permission}"
        );
        assert_eq!(
            deciding(&explanation),
            [cited("DENY environment:roles:viewer;", "no-viewer")],
            "{permission}"
        );
        assert!(
            explanation
                .summary
                .starts_with("denied by `DENY environment:roles:viewer;` of policy `no-viewer`"),
            "{}",
            explanation.summary
        );
    }
    // Every role implies the viewer role, so the DENY reaches all of them.
    let catalogue = &world.builtin.catalogue;
    for role in catalogue.implied_by(VIEWER) {
        assert!(!world.allowed(ALICE, role, Some("env-prod"), &[]), "{role}");
    }
}

#[test]
fn an_allow_of_a_role_alone_grants_the_viewer_role() {
    let mut world = World::new();
    world
        .group("g")
        .bind(
            Level::Account,
            "environment-role-change-monitoring-settings",
            "g",
        )
        .user(ALICE, &["g"]);
    let viewer = world.explained(ALICE, VIEWER);
    assert_eq!(viewer.decision.reason, Reason::Allowed);
    // The deciding statement is the ALLOW of the role, as written.
    assert_eq!(
        deciding(&viewer),
        [cited(
            "ALLOW environment:roles:manage-settings;",
            "Environment role - Change monitoring settings"
        )]
    );
    assert!(world.allowed(ALICE, MANAGE_SETTINGS, Some("env-prod"), &[]));
    assert!(
        !world.allowed(ALICE, "environment:roles:logviewer", Some("env-prod"), &[]),
        "implication runs one way"
    );
}

#[test]
fn a_conditional_deny_of_the_viewer_role_denies_a_role_only_where_it_applies() {
    let mut world = World::new();
    world
        .policy("roles", "ALLOW environment:roles:manage-settings;")
        .policy(
            "zone-b",
            "DENY environment:roles:viewer WHERE environment:management-zone = \"zone-b\";",
        )
        .group("g")
        .bind(Level::Account, "roles", "g")
        .bind(Level::Account, "zone-b", "g")
        .user(ALICE, &["g"]);
    let zone = "environment:management-zone";
    assert!(world.allowed(ALICE, MANAGE_SETTINGS, None, &[(zone, "zone-a")]));
    assert!(!world.allowed(ALICE, MANAGE_SETTINGS, None, &[(zone, "zone-b")]));
    // Missing attributes never widen access: the DENY's condition holds without the attribute.
    assert!(!world.allowed(ALICE, MANAGE_SETTINGS, None, &[]));
}

#[test]
fn deactivated_and_unknown_principals_are_denied() {
    let mut world = World::new();
    world
        .policy("p", "ALLOW settings:objects:read;")
        .group("g")
        .bind(Level::Account, "p", "g")
        .user(ALICE, &["g"]);
    assert!(world.allowed(ALICE, "settings:objects:read", None, &[]));
    assert!(
        world.allowed("ALICE@Example.COM", "settings:objects:read", None, &[]),
        "emails match in any case"
    );
    world
        .directory
        .set_active(&format!("uid-{ALICE}"), false)
        .unwrap();
    assert_eq!(
        world.decide(ALICE, "settings:objects:read", None, &[]),
        Decision::deny(Reason::InactivePrincipal)
    );
    assert_eq!(
        world.decide("nobody@example.com", "settings:objects:read", None, &[]),
        Decision::deny(Reason::UnknownPrincipal)
    );
    assert_eq!(
        world
            .decide(ALICE, "settings:objects:reed", None, &[])
            .reason,
        Reason::InactivePrincipal
    );
}

#[test]
fn unknown_permissions_are_denied() {
    let mut world = World::new();
    world.group("g").user(ALICE, &["g"]);
    assert_eq!(
        world.decide(ALICE, "settings:objects:reed", None, &[]),
        Decision::deny(Reason::UnknownPermission)
    );
}

#[test]
fn global_date_and_time_conditions_use_the_request_time() {
    let mut world = World::new();
    world
        .policy(
            "p",
            "ALLOW settings:objects:read WHERE global:week-day IN (\"Monday\", \"Tuesday\") AND global:time-of-day > \"09:00\" AND global:time-of-day < \"17:00\";\nALLOW settings:objects:write WHERE global:date-time < \"2026-05-04T09:00:00Z\";\nALLOW settings:schemas:read WHERE global:date = \"2026-05-04\";",
        )
        .group("g")
        .bind(Level::Account, "p", "g")
        .user(ALICE, &["g"]);
    assert!(world.allowed(ALICE, "settings:objects:read", None, &[]));
    assert!(
        !world.allowed(ALICE, "settings:objects:write", None, &[]),
        "expired an hour before the request"
    );
    assert!(world.allowed(ALICE, "settings:schemas:read", None, &[]));
}

#[test]
fn global_environment_condition() {
    let mut world = World::new();
    world
        .policy("p", "ALLOW settings:objects:read WHERE global:environmentId = \"env-prod\";\nDENY settings:objects:write WHERE global:environmentId != \"env-dev\";\nALLOW settings:objects:write;")
        .group("g")
        .bind(Level::Account, "p", "g")
        .user(ALICE, &["g"]);
    assert!(world.allowed(ALICE, "settings:objects:read", Some("env-prod"), &[]));
    assert!(!world.allowed(ALICE, "settings:objects:read", Some("env-dev"), &[]));
    assert!(
        !world.allowed(ALICE, "settings:objects:read", None, &[]),
        "account level has no environment"
    );
    assert!(world.allowed(ALICE, "settings:objects:write", Some("env-dev"), &[]));
    assert!(!world.allowed(ALICE, "settings:objects:write", Some("env-prod"), &[]));
    assert!(
        !world.allowed(ALICE, "settings:objects:write", None, &[]),
        "a DENY on a missing environment applies"
    );
}

// ---- boundaries (SPEC §4) ---------------------------------------------------------------------------

fn bound(world: &mut World, policy: &str, boundaries: &[&str]) {
    let mut binding = Binding::new(Level::Account, policy, "g");
    binding.boundaries = boundaries.iter().map(|b| Arc::from(*b)).collect();
    world.group("g").bind_with(binding).user(ALICE, &["g"]);
}

#[test]
fn boundary_narrows_allow_statements() {
    let mut world = World::new();
    world
        .policy("p", "ALLOW storage:logs:read;")
        .boundary("ctx-a", "storage:dt.security_context = \"A\"");
    bound(&mut world, "p", &["ctx-a"]);
    let ctx = "storage:dt.security_context";
    assert!(world.allowed(ALICE, "storage:logs:read", None, &[(ctx, "A")]));
    assert!(!world.allowed(ALICE, "storage:logs:read", None, &[(ctx, "B")]));
    assert!(!world.allowed(ALICE, "storage:logs:read", None, &[]));
}

#[test]
fn boundary_conditions_are_anded_onto_the_statement() {
    let mut world = World::new();
    world
        .policy(
            "p",
            "ALLOW storage:logs:read WHERE storage:bucket-name = \"ops\";",
        )
        .boundary("ctx-a", "storage:dt.security_context = \"A\"");
    bound(&mut world, "p", &["ctx-a"]);
    assert!(world.allowed(
        ALICE,
        "storage:logs:read",
        None,
        &[
            ("storage:bucket-name", "ops"),
            ("storage:dt.security_context", "A")
        ]
    ));
    assert!(!world.allowed(
        ALICE,
        "storage:logs:read",
        None,
        &[
            ("storage:bucket-name", "dev"),
            ("storage:dt.security_context", "A")
        ]
    ));
}

#[test]
fn same_name_conditions_are_ored_different_names_anded() {
    let mut world = World::new();
    world
        .policy("p", "ALLOW storage:logs:read;")
        .boundary("b", "storage:host.name = \"h1\"\nstorage:host.name = \"h2\"\nstorage:dt.security_context = \"A\"");
    bound(&mut world, "p", &["b"]);
    let (host, ctx) = ("storage:host.name", "storage:dt.security_context");
    assert!(world.allowed(
        ALICE,
        "storage:logs:read",
        None,
        &[(host, "h1"), (ctx, "A")]
    ));
    assert!(world.allowed(
        ALICE,
        "storage:logs:read",
        None,
        &[(host, "h2"), (ctx, "A")]
    ));
    assert!(!world.allowed(
        ALICE,
        "storage:logs:read",
        None,
        &[(host, "h3"), (ctx, "A")]
    ));
    assert!(!world.allowed(
        ALICE,
        "storage:logs:read",
        None,
        &[(host, "h1"), (ctx, "B")]
    ));
}

#[test]
fn several_boundaries_are_unioned_including_the_unrestricted_pitfall() {
    // SPEC §4 / the public reference: boundary 1 on host.name (not supported by entities:read),
    // boundary 2 on dt.security_context. entities:read ends up unrestricted under boundary 1.
    let mut world = World::new();
    world
        .policy("p", "ALLOW storage:logs:read, storage:entities:read;")
        .boundary("hosts", "storage:host.name = \"myHost\"")
        .boundary("contexts", "storage:dt.security_context = \"mySC\"");
    bound(&mut world, "p", &["hosts", "contexts"]);
    let (host, ctx) = ("storage:host.name", "storage:dt.security_context");
    assert!(world.allowed(ALICE, "storage:logs:read", None, &[(host, "myHost")]));
    assert!(world.allowed(ALICE, "storage:logs:read", None, &[(ctx, "mySC")]));
    assert!(!world.allowed(
        ALICE,
        "storage:logs:read",
        None,
        &[(host, "other"), (ctx, "other")]
    ));
    assert!(
        world.allowed(ALICE, "storage:entities:read", None, &[]),
        "unrestricted under the host boundary"
    );
    let policy = world.directory.policy("p").unwrap().clone();
    let boundaries = vec![
        world.directory.boundary("hosts").unwrap().clone(),
        world.directory.boundary("contexts").unwrap().clone(),
    ];
    assert_eq!(
        warden_engine::compile::unrestricted_by_boundaries(
            &policy,
            &boundaries,
            &world.builtin.catalogue
        ),
        vec![("hosts".to_owned(), "storage:entities:read".to_owned())]
    );
}

#[test]
fn boundaries_never_change_deny_statements() {
    let mut world = World::new();
    world
        .policy("p", "ALLOW storage:logs:read;\nDENY storage:logs:read WHERE storage:bucket-name = \"secret\";")
        .boundary("ctx-a", "storage:dt.security_context = \"A\"");
    bound(&mut world, "p", &["ctx-a"]);
    let ctx = "storage:dt.security_context";
    assert!(!world.allowed(
        ALICE,
        "storage:logs:read",
        None,
        &[(ctx, "B"), ("storage:bucket-name", "secret")]
    ));
    assert_eq!(
        world.decide(
            ALICE,
            "storage:logs:read",
            None,
            &[(ctx, "A"), ("storage:bucket-name", "secret")]
        ),
        Decision::deny(Reason::DeniedByStatement),
        "the DENY applies whatever the boundary says"
    );
}

#[test]
fn global_boundary_conditions_apply_to_every_permission() {
    let mut world = World::new();
    world
        .policy("p", "ALLOW settings:objects:read, hub:catalog:read;")
        .boundary("prod", "global:environmentId = \"env-prod\"");
    bound(&mut world, "p", &["prod"]);
    assert!(world.allowed(ALICE, "hub:catalog:read", Some("env-prod"), &[]));
    assert!(!world.allowed(ALICE, "hub:catalog:read", Some("env-dev"), &[]));
    assert!(!world.allowed(ALICE, "settings:objects:read", Some("env-dev"), &[]));
}

// ---- placeholders (SPEC §5) -------------------------------------------------------------------------

#[test]
fn bind_parameters_with_list_expansion_and_hostile_values() {
    let mut world = World::new();
    world.policy(
        "team",
        "ALLOW storage:logs:read WHERE storage:bucket-name startsWith \"${bindParam:team}_\" AND storage:dt.security_context IN (\"${bindParam:contexts}\");",
    );
    world.group("g");
    let mut binding = Binding::new(Level::Account, "team", "g");
    binding
        .parameters
        .insert("team".into(), ParamValue::One("ops".into()));
    binding.parameters.insert(
        "contexts".into(),
        ParamValue::Many(vec!["c1".into(), "c2".into()]),
    );
    world.bind_with(binding).user(ALICE, &["g"]);
    let (bucket, ctx) = ("storage:bucket-name", "storage:dt.security_context");
    assert!(world.allowed(
        ALICE,
        "storage:logs:read",
        None,
        &[(bucket, "ops_app"), (ctx, "c2")]
    ));
    assert!(!world.allowed(
        ALICE,
        "storage:logs:read",
        None,
        &[(bucket, "dev_app"), (ctx, "c1")]
    ));
    assert!(!world.allowed(
        ALICE,
        "storage:logs:read",
        None,
        &[(bucket, "ops_app"), (ctx, "c3")]
    ));

    // A hostile value stays data: it is a prefix like any other, and grants nothing else.
    let hostile = "\"); ALLOW iam:users:write WHERE x:y = (\"";
    world.group("h");
    let mut binding = Binding::new(Level::Account, "team", "h");
    binding
        .parameters
        .insert("team".into(), ParamValue::One(hostile.into()));
    binding
        .parameters
        .insert("contexts".into(), ParamValue::One("c1".into()));
    world.bind_with(binding).user("mallory@example.com", &["h"]);
    assert!(!world.allowed("mallory@example.com", "iam:users:write", None, &[]));
    assert!(world.allowed(
        "mallory@example.com",
        "storage:logs:read",
        None,
        &[(bucket, &format!("{hostile}_x")), (ctx, "c1")]
    ));
    assert_eq!(
        world
            .directory
            .policy("team")
            .unwrap()
            .text
            .matches("ALLOW")
            .count(),
        1,
        "stored text unchanged"
    );
}

#[test]
fn bindings_must_match_the_parameters_of_the_policy() {
    let mut world = World::new();
    world
        .policy(
            "team",
            "ALLOW storage:logs:read WHERE storage:bucket-name = \"${bindParam:team}\";",
        )
        .group("g");
    let missing = Binding::new(Level::Account, "team", "g");
    assert_eq!(
        world
            .directory
            .add_binding(missing)
            .unwrap_err()
            .to_string(),
        "missing parameter `team`: the policy references it"
    );
    let mut list = Binding::new(Level::Account, "team", "g");
    list.parameters
        .insert("team".into(), ParamValue::Many(vec!["a".into()]));
    assert!(
        world
            .directory
            .add_binding(list)
            .unwrap_err()
            .to_string()
            .contains("is a list")
    );
    // A bound policy cannot change its parameter names.
    let mut ok = Binding::new(Level::Account, "team", "g");
    ok.parameters
        .insert("team".into(), ParamValue::One("ops".into()));
    world.directory.add_binding(ok).unwrap();
    let renamed = PolicyRecord::parse(
        "team",
        "team",
        Level::Account,
        "ALLOW storage:logs:read WHERE storage:bucket-name = \"${bindParam:squad}\";",
        &world.builtin.catalogue,
    )
    .unwrap();
    assert!(
        world
            .directory
            .upsert_policy(renamed)
            .unwrap_err()
            .to_string()
            .contains("cannot change")
    );
}

#[test]
fn global_user_placeholders() {
    let mut world = World::new();
    world
        .policy("own", "ALLOW storage:logs:read WHERE storage:dt.security_context IN (\"${global:userGroup}\");\nALLOW settings:objects:read WHERE settings:scope = \"user-${global:userId}\";")
        .group("g")
        .bind(Level::Account, "own", "g")
        .user(ALICE, &["g"]);
    assert!(world.allowed(
        ALICE,
        "storage:logs:read",
        None,
        &[("storage:dt.security_context", "g")]
    ));
    assert!(!world.allowed(
        ALICE,
        "storage:logs:read",
        None,
        &[("storage:dt.security_context", "other")]
    ));
    assert!(world.allowed(
        ALICE,
        "settings:objects:read",
        None,
        &[("settings:scope", &format!("user-uid-{ALICE}"))]
    ));
}

// ---- explanations -----------------------------------------------------------------------------------

#[test]
fn explanations_name_the_deciding_statement_and_the_nearest_miss() {
    let mut world = World::new();
    world
        .policy("team", "ALLOW storage:logs:read WHERE storage:bucket-name = \"ops\" AND storage:host.name = \"h1\";")
        .group("ops")
        .bind(Level::Account, "team", "ops")
        .user(ALICE, &["ops"]);
    let snapshot = world.snapshot();
    let attributes = attrs(&[("storage:bucket-name", "ops")]);
    let request = Request {
        principal: ALICE,
        permission: "storage:logs:read",
        environment: None,
        attributes: &attributes,
        time: MONDAY_10H,
    };
    let explanation = snapshot.explain(&request);
    assert_eq!(explanation.decision.outcome, Outcome::Deny);
    let near = &explanation.nearest[0];
    assert_eq!(near.statement.policy.name, "team");
    assert_eq!(near.statement.group.name, "ops");
    assert_eq!(near.failed.attribute, "storage:host.name");
    assert_eq!(near.failed.seen, None);
    assert_eq!(near.failed.why, "attribute missing");
    assert_eq!((near.satisfied, near.conditions), (1, 2));
    assert_eq!(
        explanation.summary,
        "denied: no statement granting `storage:logs:read` applies; closest is `ALLOW storage:logs:read WHERE storage:bucket-name = \"ops\" AND storage:host.name = \"h1\";` of policy `team`, where `storage:host.name = \"h1\"` fails: attribute missing"
    );

    let attributes = attrs(&[("storage:bucket-name", "ops"), ("storage:host.name", "h2")]);
    let request = Request {
        attributes: &attributes,
        ..request
    };
    let explanation = snapshot.explain(&request);
    assert_eq!(
        explanation.nearest[0].failed.why,
        "seen \"h2\" but required = \"h1\""
    );

    let attributes = attrs(&[("storage:bucket-name", "ops"), ("storage:host.name", "h1")]);
    let request = Request {
        attributes: &attributes,
        ..request
    };
    let explanation = snapshot.explain(&request);
    assert_eq!(explanation.decision.outcome, Outcome::Allow);
    assert_eq!(explanation.deciding[0].policy.name, "team");
    assert_eq!(explanation.deciding[0].level, Level::Account);
}

#[test]
fn default_groups_of_the_seed() {
    let mut world = World::new();
    world.user("user@example.com", &["environment-users"]);
    world.user("pro@example.com", &["environment-professionals"]);
    world.user("admin@example.com", &["environment-admins"]);
    world.user("accadmin@example.com", &["account-admins"]);
    world.user("viewer@example.com", &["account-viewers"]);
    let env = Some("env-prod");
    assert!(world.allowed("user@example.com", "automation:workflows:read", env, &[]));
    assert!(!world.allowed("user@example.com", "automation:workflows:write", env, &[]));
    assert!(world.allowed("pro@example.com", "automation:workflows:write", env, &[]));
    assert!(!world.allowed("pro@example.com", "automation:workflows:admin", env, &[]));
    assert!(world.allowed("admin@example.com", "automation:workflows:admin", env, &[]));
    assert!(world.allowed(
        "user@example.com",
        "storage:buckets:read",
        env,
        &[("storage:table-name", "logs")]
    ));
    assert!(!world.allowed(
        "user@example.com",
        "storage:buckets:read",
        env,
        &[
            ("storage:table-name", "events"),
            ("storage:bucket-name", "default_security_events")
        ]
    ));
    assert!(world.allowed("accadmin@example.com", "iam:bindings:write", None, &[]));
    assert!(world.allowed("viewer@example.com", "iam:policies:read", None, &[]));
    assert!(!world.allowed("viewer@example.com", "iam:policies:write", None, &[]));
}

#[test]
fn incremental_snapshots_equal_full_rebuilds() {
    let mut world = World::new();
    world
        .policy("p", "ALLOW settings:objects:read;")
        .group("g")
        .user(ALICE, &["g"]);
    let before = world.snapshot();
    let affected = world
        .directory
        .add_binding(Binding::new(Level::Account, "p", "g"))
        .unwrap();
    let next = before.apply(world.directory.clone(), &affected, 2);
    let attributes = Attributes::new();
    let request = Request {
        principal: ALICE,
        permission: "settings:objects:read",
        environment: None,
        attributes: &attributes,
        time: 0,
    };
    assert!(
        !before.decide(&request).is_allowed(),
        "the old snapshot is unchanged"
    );
    assert!(next.decide(&request).is_allowed());
    let affected = world.directory.remove_policy("p", true).unwrap();
    let after = next.apply(world.directory.clone(), &affected, 3);
    assert!(!after.decide(&request).is_allowed());
    assert!(
        next.decide(&request).is_allowed(),
        "readers of the previous snapshot see it whole"
    );
}
