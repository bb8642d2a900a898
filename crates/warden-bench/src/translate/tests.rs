//! The translation decides like Warden on the rules of SPEC §3–§5 that it covers.

use std::collections::BTreeMap;
use std::sync::Arc;

use cedar_policy::{Authorizer, Decision};
use warden_engine::{
    AttributeValue, Attributes, Binding, BoundaryRecord, Builtin, Directory, Group, Level,
    ParamValue, PolicyRecord, Principal, Request, Snapshot,
};

use super::*;

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
        World { builtin, directory }
    }

    fn policy(&mut self, id: &str, text: &str) -> &mut Self {
        let record = PolicyRecord::parse(id, id, Level::Account, text, &self.builtin.catalogue)
            .unwrap_or_else(|d| panic!("{id}: {d:?}"));
        self.directory.upsert_policy(record).unwrap();
        self
    }

    fn boundary(&mut self, id: &str, text: &str) -> &mut Self {
        let record = BoundaryRecord::parse(id, id, text, &self.builtin.catalogue).unwrap();
        self.directory.upsert_boundary(record).unwrap();
        self
    }

    fn bind(&mut self, binding: Binding) -> &mut Self {
        let group = binding.group.to_string();
        if self.directory.group(&group).is_none() {
            self.directory
                .upsert_group(Group::new(&group, &group))
                .unwrap();
        }
        self.directory.add_binding(binding).unwrap();
        self
    }

    fn user(&mut self, groups: &[&str]) -> Principal {
        self.directory
            .upsert_principal(Principal::user("uid-alice", "alice@example.com"))
            .unwrap();
        let groups = groups.iter().map(|g| Arc::from(*g)).collect();
        self.directory.set_memberships("uid-alice", groups).unwrap();
        (**self.directory.principal("uid-alice").unwrap()).clone()
    }

    /// Decides with both engines and asserts they agree; returns the decision.
    fn decide(
        &self,
        principal: &Principal,
        permission: &str,
        environment: Option<&str>,
        attributes: &[(&str, &[&str])],
    ) -> bool {
        let attributes: Attributes = attributes
            .iter()
            .map(|(name, values)| {
                let value = match values {
                    [one] => AttributeValue::One((*one).to_owned()),
                    many => AttributeValue::Many(many.iter().map(|v| (*v).to_owned()).collect()),
                };
                ((*name).to_owned(), value)
            })
            .collect::<BTreeMap<_, _>>();
        let catalogue = Arc::new(self.builtin.catalogue.clone());
        let snapshot = Snapshot::build(self.directory.clone(), Arc::clone(&catalogue), 1);
        let warden = snapshot
            .decide(&Request {
                principal: &principal.uid,
                permission,
                environment,
                attributes: &attributes,
                time: 0,
            })
            .is_allowed();
        let translation = translate_account(&self.directory, &catalogue).unwrap();
        let request = translation
            .request(&principal.uid, permission, environment, &attributes)
            .unwrap();
        let entities = translation.entities([principal]).unwrap();
        let response = Authorizer::new().is_authorized(&request, &translation.policies, &entities);
        let errors: Vec<String> = response
            .diagnostics()
            .errors()
            .map(|e| e.to_string())
            .collect();
        assert!(errors.is_empty(), "Cedar errors: {errors:?}");
        let texts: Vec<&str> = translation
            .translated
            .iter()
            .map(|t| t.cedar.as_str())
            .collect();
        assert_eq!(
            warden,
            response.decision() == Decision::Allow,
            "{permission} {environment:?} {attributes:?}\n{}",
            texts.join("\n")
        );
        warden
    }
}

#[test]
fn missing_attributes_close_allows_and_open_denies() {
    let mut world = World::new();
    world
        .policy(
            "p",
            "ALLOW settings:objects:read WHERE settings:schemaGroup IN (\"group:a\", \"group:b\");\nDENY settings:objects:read WHERE settings:schemaId != \"builtin:public\";",
        )
        .bind(Binding::new(Level::Account, "p", "g"));
    let alice = world.user(&["g"]);
    let read = "settings:objects:read";
    let group = "settings:schemaGroup";
    let schema = "settings:schemaId";
    assert!(world.decide(
        &alice,
        read,
        None,
        &[(group, &["group:b"]), (schema, &["builtin:public"])]
    ));
    assert!(!world.decide(&alice, read, None, &[(group, &["group:b"])]));
    assert!(!world.decide(&alice, read, None, &[(group, &["group:b"]), (schema, &[])]));
    assert!(!world.decide(&alice, read, None, &[(schema, &["builtin:public"])]));
    assert!(!world.decide(
        &alice,
        read,
        None,
        &[(group, &["group:c"]), (schema, &["builtin:public"])]
    ));
}

#[test]
fn lists_mean_some_value_and_no_value() {
    let mut world = World::new();
    world
        .policy(
            "p",
            "ALLOW storage:logs:read WHERE storage:dt.security_context = \"team-a\";\nDENY storage:logs:read WHERE storage:host.name NOT IN (\"h1\", \"h2\");",
        )
        .bind(Binding::new(Level::Account, "p", "g"));
    let alice = world.user(&["g"]);
    let logs = "storage:logs:read";
    let ctx = "storage:dt.security_context";
    let host = "storage:host.name";
    assert!(world.decide(
        &alice,
        logs,
        None,
        &[(ctx, &["x", "team-a"]), (host, &["h2"])]
    ));
    assert!(!world.decide(&alice, logs, None, &[(ctx, &["x", "y"]), (host, &["h2"])]));
    assert!(
        world.decide(
            &alice,
            logs,
            None,
            &[(ctx, &["team-a"]), (host, &["h1", "h3"])]
        ),
        "h1 is in the list, so NOT IN is false and the DENY does not apply"
    );
    assert!(!world.decide(&alice, logs, None, &[(ctx, &["team-a"]), (host, &["h3"])]));
}

#[test]
fn prefixes_and_patterns_on_single_valued_attributes() {
    let mut world = World::new();
    world
        .policy(
            "p",
            "ALLOW storage:logs:read WHERE storage:bucket-name startsWith \"a*b_\";\nALLOW storage:events:read WHERE storage:bucket-name MATCH (\"team_*_logs\", \"lit\\\\*eral\");\nDENY storage:events:read WHERE storage:bucket-name NOT startsWith \"team_\" AND storage:bucket-name != \"lit*eral\";",
        )
        .bind(Binding::new(Level::Account, "p", "g"));
    let alice = world.user(&["g"]);
    let bucket = "storage:bucket-name";
    let logs = "storage:logs:read";
    let events = "storage:events:read";
    assert!(world.decide(&alice, logs, None, &[(bucket, &["a*b_x"])]));
    assert!(
        !world.decide(&alice, logs, None, &[(bucket, &["axb_x"])]),
        "`*` in a prefix is literal"
    );
    assert!(world.decide(&alice, events, None, &[(bucket, &["team_ops_logs"])]));
    assert!(!world.decide(&alice, events, None, &[(bucket, &["team_ops_spans"])]));
    assert!(world.decide(&alice, events, None, &[(bucket, &["lit*eral"])]));
    assert!(
        !world.decide(&alice, events, None, &[(bucket, &["litXeral"])]),
        "an escaped `*` in a pattern is literal"
    );
    assert!(!world.decide(&alice, events, None, &[]));
    let translation = translate_account(&world.directory, &world.builtin.catalogue).unwrap();
    assert!(translation.single_valued().contains(bucket));
    let many = [(
        bucket.to_owned(),
        AttributeValue::Many(vec!["a".into(), "b".into()]),
    )];
    assert!(
        translation
            .request(&alice.uid, logs, None, &many.into_iter().collect())
            .is_err(),
        "a list for a single-valued attribute is refused, not misread"
    );
}

#[test]
fn environments_levels_and_implied_permissions() {
    let mut world = World::new();
    world
        .policy("roles", "ALLOW environment:roles:manage-settings WHERE environment:management-zone = \"zone-a\";")
        .policy("write", "ALLOW settings:objects:write;\nDENY settings:objects:write WHERE global:environmentId != \"env-dev\";")
        .bind(Binding::new(Level::Account, "roles", "g"))
        .bind(Binding::new(Level::Environment("env-prod".into()), "write", "g"))
        .bind(Binding::new(Level::Environment("env-dev".into()), "write", "g"));
    let alice = world.user(&["g"]);
    let zone = "environment:management-zone";
    let viewer = "environment:roles:viewer";
    assert!(world.decide(&alice, viewer, Some("env-dev"), &[(zone, &["zone-a"])]));
    assert!(!world.decide(&alice, viewer, Some("env-dev"), &[(zone, &["zone-b"])]));
    assert!(!world.decide(
        &alice,
        "environment:roles:logviewer",
        None,
        &[(zone, &["zone-a"])]
    ));
    assert!(!world.decide(&alice, "settings:objects:write", Some("env-prod"), &[]));
    assert!(world.decide(&alice, "settings:objects:write", Some("env-dev"), &[]));
    assert!(!world.decide(&alice, "settings:objects:write", None, &[]));
}

#[test]
fn a_deny_of_viewer_forbids_every_role_and_a_deny_of_a_role_only_that_role() {
    let viewer = "environment:roles:viewer";
    let settings = "environment:roles:manage-settings";
    let logs = "environment:roles:logviewer";

    let mut world = World::new();
    world
        .policy(
            "p",
            "ALLOW environment:roles:viewer;\nDENY environment:roles:manage-settings;",
        )
        .bind(Binding::new(Level::Account, "p", "g"));
    let alice = world.user(&["g"]);
    assert!(world.decide(&alice, viewer, Some("env-prod"), &[]));
    assert!(!world.decide(&alice, settings, Some("env-prod"), &[]));
    let translation = translate_account(&world.directory, &world.builtin.catalogue).unwrap();
    let forbid = translation
        .translated
        .iter()
        .find(|t| t.effect == Effect::Deny)
        .unwrap();
    assert_eq!(
        forbid.actions,
        [settings],
        "a DENY of a role reaches no other"
    );

    let mut world = World::new();
    world
        .policy("p", "ALLOW environment:roles:manage-settings, environment:roles:logviewer;\nDENY environment:roles:viewer;")
        .bind(Binding::new(Level::Account, "p", "g"));
    let alice = world.user(&["g"]);
    for permission in [viewer, settings, logs] {
        assert!(
            !world.decide(&alice, permission, Some("env-prod"), &[]),
            "{permission}"
        );
    }
    let translation = translate_account(&world.directory, &world.builtin.catalogue).unwrap();
    let forbid = translation
        .translated
        .iter()
        .find(|t| t.effect == Effect::Deny)
        .unwrap();
    assert_eq!(
        forbid.actions.len(),
        10,
        "viewer and every role implying it"
    );
    let permit = translation
        .translated
        .iter()
        .find(|t| t.effect == Effect::Allow)
        .unwrap();
    assert_eq!(permit.actions, [logs, settings, viewer]);
}

#[test]
fn boundaries_and_parameters_are_translated_as_compiled() {
    let mut world = World::new();
    world
        .policy(
            "team",
            "ALLOW storage:logs:read, storage:entities:read WHERE storage:dt.security_context IN (\"${bindParam:contexts}\");\nDENY storage:logs:read WHERE storage:k8s.namespace.name = \"${bindParam:ns}\";",
        )
        .boundary("hosts", "storage:host.name = \"h1\"\nstorage:host.name = \"h2\"")
        .boundary("prod", "global:environmentId = \"env-prod\"");
    let mut binding = Binding::new(Level::Account, "team", "g");
    binding.parameters.insert(
        "contexts".into(),
        ParamValue::Many(vec!["c1".into(), "c2".into()]),
    );
    binding
        .parameters
        .insert("ns".into(), ParamValue::One("secret".into()));
    binding.boundaries = vec!["hosts".into(), "prod".into()];
    world.bind(binding);
    let alice = world.user(&["g"]);
    let logs = "storage:logs:read";
    let ctx = "storage:dt.security_context";
    let host = "storage:host.name";
    let ns = "storage:k8s.namespace.name";
    assert!(world.decide(
        &alice,
        logs,
        Some("env-dev"),
        &[(ctx, &["c2"]), (host, &["h2"]), (ns, &["public"])]
    ));
    assert!(world.decide(
        &alice,
        logs,
        Some("env-prod"),
        &[(ctx, &["c1"]), (host, &["h9"]), (ns, &["public"])]
    ));
    assert!(!world.decide(
        &alice,
        logs,
        Some("env-dev"),
        &[(ctx, &["c1"]), (host, &["h9"]), (ns, &["public"])]
    ));
    assert!(!world.decide(
        &alice,
        logs,
        Some("env-prod"),
        &[(ctx, &["c1"]), (host, &["h1"]), (ns, &["secret"])]
    ));
    assert!(!world.decide(&alice, logs, Some("env-prod"), &[(ctx, &["c1"])]));
    assert!(
        world.decide(&alice, "storage:entities:read", None, &[(ctx, &["c1"])]),
        "entities:read is unrestricted under the host boundary"
    );
}

#[test]
fn the_policy_text_reads_like_the_statement() {
    let mut world = World::new();
    world
        .policy(
            "p",
            "DENY settings:objects:read, settings:objects:write WHERE settings:schemaId IN (\"a\\\"b\", \"c\");",
        )
        .bind(Binding::new(Level::Environment("env-prod".into()), "p", "g"));
    let translation = translate_account(&world.directory, &world.builtin.catalogue).unwrap();
    let [only] = translation.translated.as_slice() else {
        panic!("one policy expected: {:?}", translation.translated);
    };
    assert_eq!(
        only.cedar,
        "forbid (\n  principal in Group::\"g\",\n  action in [Action::\"settings:objects:read\", Action::\"settings:objects:write\"],\n  resource == Environment::\"env-prod\"\n) when {\n  (!(context has \"settings:schemaId\") || context[\"settings:schemaId\"].containsAny([\"a\\\"b\", \"c\"]))\n};"
    );
    assert_eq!(
        only.warden,
        "DENY settings:objects:read, settings:objects:write WHERE settings:schemaId IN (\"a\\\"b\", \"c\");"
    );
}

#[test]
fn untranslatable_statements_are_errors() {
    let mut world = World::new();
    world
        .policy(
            "p",
            "ALLOW settings:objects:read WHERE global:week-day = \"Monday\";",
        )
        .bind(Binding::new(Level::Account, "p", "g"));
    let error = translate_account(&world.directory, &world.builtin.catalogue).unwrap_err();
    assert!(error.0.contains("time conditions"), "{error}");
    let mut world = World::new();
    world
        .policy(
            "p",
            "ALLOW settings:objects:read WHERE settings:scope = \"user-${global:userId}\";",
        )
        .bind(Binding::new(Level::Account, "p", "g"));
    let error = translate_account(&world.directory, &world.builtin.catalogue).unwrap_err();
    assert!(error.0.contains("placeholder"), "{error}");
}
