#![allow(clippy::unwrap_used, clippy::indexing_slicing)] // test code fails loudly

use std::sync::Arc;

use super::*;
use crate::directory::{Binding, BoundaryRecord, Directory, Group, PolicyRecord, Principal};
use crate::{Builtin, ParamValue};

/// 2026-05-04T10:00:00Z, a Monday.
const NOW: i64 = 1_777_888_800;

struct World {
    builtin: Builtin,
    directory: Directory,
}

impl World {
    fn new() -> World {
        let mut directory = Directory::new("acc");
        directory.add_environment("env-dev");
        directory.add_environment("env-prod");
        World {
            builtin: Builtin::load(&[]).unwrap(),
            directory,
        }
    }

    fn policy_record(&self, id: &str, text: &str) -> PolicyRecord {
        PolicyRecord::parse(id, id, Level::Account, text, &self.builtin.catalogue).unwrap()
    }

    fn policy(mut self, id: &str, text: &str) -> Self {
        let record = self.policy_record(id, text);
        self.directory.upsert_policy(record).unwrap();
        self
    }

    fn boundary(mut self, id: &str, text: &str) -> Self {
        let record = BoundaryRecord::parse(id, id, text, &self.builtin.catalogue).unwrap();
        self.directory.upsert_boundary(record).unwrap();
        self
    }

    fn group(mut self, id: &str) -> Self {
        self.directory.upsert_group(Group::new(id, id)).unwrap();
        self
    }

    fn bind(mut self, binding: Binding) -> Self {
        self.directory.add_binding(binding).unwrap();
        self
    }

    fn user(mut self, name: &str, groups: &[&str], active: bool) -> Self {
        let uid = format!("uid-{name}");
        let mut principal = Principal::user(&uid, &format!("{name}@example.com"));
        principal.active = active;
        self.directory.upsert_principal(principal).unwrap();
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
}

/// `(email, permission, level, kind)` of each change, in the order given.
fn rows(impact: &Impact) -> Vec<(String, String, String, ChangeKind)> {
    impact
        .changes
        .iter()
        .map(|c| {
            (
                c.email.clone(),
                c.permission.clone(),
                c.level.to_string(),
                c.kind,
            )
        })
        .collect()
}

fn row(
    email: &str,
    permission: &str,
    level: &str,
    kind: ChangeKind,
) -> (String, String, String, ChangeKind) {
    (
        email.to_owned(),
        permission.to_owned(),
        level.to_owned(),
        kind,
    )
}

fn preview(world: &World, draft: Directory, affected: &[Id], limit: usize) -> Impact {
    let before = world.snapshot();
    let after = before.apply(draft, affected, 2);
    impact(&before, &after, affected, NOW, limit)
}

#[test]
fn a_policy_change_lists_gains_and_losses_of_every_active_member_at_every_level() {
    let world = World::new()
        .policy("logs", "ALLOW storage:logs:read;")
        .group("ops")
        .group("other")
        .bind(Binding::new(Level::Account, "logs", "ops"))
        .user("alice", &["ops"], true)
        .user("bob", &["ops"], false)
        .user("carol", &["other"], true);
    let mut draft = world.directory.clone();
    let changed = world.policy_record(
        "logs",
        "ALLOW storage:logs:read WHERE storage:bucket-name startsWith \"ops_\"; ALLOW storage:buckets:read;",
    );
    let affected = draft.upsert_policy(changed).unwrap();
    let impact = preview(&world, draft, &affected, 1000);
    use ChangeKind::{Gains, Loses};
    assert_eq!(
        rows(&impact),
        vec![
            row(
                "alice@example.com",
                "storage:buckets:read",
                "account",
                Gains
            ),
            row("alice@example.com", "storage:logs:read", "account", Loses),
            row(
                "alice@example.com",
                "storage:buckets:read",
                "environment:env-dev",
                Gains
            ),
            row(
                "alice@example.com",
                "storage:logs:read",
                "environment:env-dev",
                Loses
            ),
            row(
                "alice@example.com",
                "storage:buckets:read",
                "environment:env-prod",
                Gains
            ),
            row(
                "alice@example.com",
                "storage:logs:read",
                "environment:env-prod",
                Loses
            ),
        ],
        "bob is deactivated (DENY before and after), carol is not in the group"
    );
    assert_eq!(impact.affected_principals, 1);
    assert_eq!(impact.total_changes, 6);
    assert!(!impact.truncated);
    assert_eq!(impact.changes[1].before, Outcome::Allow);
    assert_eq!(impact.changes[1].after, Outcome::Deny);
}

#[test]
fn an_environment_binding_changes_only_that_environment_and_implied_permissions_count() {
    let world = World::new()
        .policy("settings", "ALLOW environment:roles:manage-settings;")
        .group("devs")
        .user("dora", &["devs"], true);
    let mut draft = world.directory.clone();
    let affected = draft
        .add_binding(Binding::new(
            Level::Environment("env-prod".into()),
            "settings",
            "devs",
        ))
        .unwrap();
    let impact = preview(&world, draft, &affected, 1000);
    assert_eq!(
        rows(&impact),
        vec![
            row(
                "dora@example.com",
                "environment:roles:manage-settings",
                "environment:env-prod",
                ChangeKind::Gains
            ),
            row(
                "dora@example.com",
                "environment:roles:viewer",
                "environment:env-prod",
                ChangeKind::Gains
            ),
        ]
    );
}

#[test]
fn a_changed_condition_is_reported_as_conditions_change_and_an_unchanged_text_as_nothing() {
    let world = World::new()
        .policy(
            "team",
            "ALLOW storage:logs:read WHERE storage:bucket-name = \"${bindParam:team}\";",
        )
        .group("ops")
        .bind(Binding {
            parameters: [("team".to_owned(), ParamValue::One("ops".into()))].into(),
            ..Binding::new(Level::Account, "team", "ops")
        })
        .user("alice", &["ops"], true);
    let mut draft = world.directory.clone();
    let changed = world.policy_record(
        "team",
        "ALLOW storage:logs:read WHERE storage:bucket-name IN (\"${bindParam:team}\", \"shared\");",
    );
    let affected = draft.upsert_policy(changed).unwrap();
    let impact = preview(&world, draft, &affected, 1000);
    assert_eq!(impact.total_changes, 3);
    assert!(
        impact
            .changes
            .iter()
            .all(|c| c.kind == ChangeKind::ConditionsChange
                && c.before == Outcome::Deny
                && c.after == Outcome::Deny
                && c.permission == "storage:logs:read")
    );

    let mut same = world.directory.clone();
    let text = world.directory.policy("team").unwrap().text.to_string();
    let affected = same
        .upsert_policy(world.policy_record("team", &text))
        .unwrap();
    assert_eq!(preview(&world, same, &affected, 1000), Impact::default());
}

#[test]
fn removing_a_binding_and_adding_a_deny_are_losses() {
    let world = World::new()
        .policy("read", "ALLOW settings:objects:read;")
        .group("ops")
        .bind(Binding::new(Level::Account, "read", "ops"))
        .user("alice", &["ops"], true);
    let mut removed = world.directory.clone();
    let affected = removed.remove_bindings("ops", |_| true).unwrap();
    let impact = preview(&world, removed, &affected, 1000);
    assert_eq!(impact.total_changes, 3);
    assert!(impact.changes.iter().all(|c| c.kind == ChangeKind::Loses));

    let mut denied = world.directory.clone();
    let affected = denied
        .upsert_policy(world.policy_record(
            "read",
            "ALLOW settings:objects:read;\nDENY settings:objects:read WHERE settings:schemaId = \"builtin:x\";",
        ))
        .unwrap();
    let impact = preview(&world, denied, &affected, 1000);
    // A conditional DENY applies to a request without the attribute: access is lost.
    assert_eq!(impact.total_changes, 3);
    assert!(impact.changes.iter().all(|c| c.kind == ChangeKind::Loses));
}

#[test]
fn a_deny_of_viewer_in_another_group_takes_every_role_and_a_deny_of_a_role_only_that_role() {
    let world = World::new()
        .policy("settings", "ALLOW environment:roles:manage-settings;")
        .policy("no-viewer", "DENY environment:roles:viewer;")
        .policy("no-settings", "DENY environment:roles:manage-settings;")
        .group("ops")
        .group("locked")
        .bind(Binding::new(
            Level::Environment("env-prod".into()),
            "settings",
            "ops",
        ))
        .user("alice", &["ops", "locked"], true);
    let lost = |policy: &str| {
        let mut draft = world.directory.clone();
        let affected = draft
            .add_binding(Binding::new(
                Level::Environment("env-prod".into()),
                policy,
                "locked",
            ))
            .unwrap();
        rows(&preview(&world, draft, &affected, 1000))
    };
    let loses = |permission: &str| {
        row(
            "alice@example.com",
            permission,
            "environment:env-prod",
            ChangeKind::Loses,
        )
    };
    // The changed group names only the viewer role; the role implying it is lost too.
    assert_eq!(
        lost("no-viewer"),
        vec![
            loses("environment:roles:manage-settings"),
            loses("environment:roles:viewer")
        ]
    );
    assert_eq!(
        lost("no-settings"),
        vec![loses("environment:roles:manage-settings")]
    );
}

#[test]
fn a_boundary_change_narrows_the_bindings_that_use_it() {
    let world = World::new()
        .policy("read", "ALLOW settings:objects:read;")
        .boundary("zone", "environment:management-zone IN (\"a\");")
        .group("ops")
        .bind(Binding {
            boundaries: vec!["zone".into()],
            ..Binding::new(Level::Account, "read", "ops")
        })
        .user("alice", &["ops"], true);
    let mut draft = world.directory.clone();
    let record = BoundaryRecord::parse(
        "zone",
        "zone",
        "environment:management-zone IN (\"a\", \"b\");",
        &world.builtin.catalogue,
    )
    .unwrap();
    let affected = draft.upsert_boundary(record).unwrap();
    let impact = preview(&world, draft, &affected, 1000);
    assert_eq!(impact.total_changes, 3);
    assert!(
        impact
            .changes
            .iter()
            .all(|c| c.kind == ChangeKind::ConditionsChange)
    );
}

#[test]
fn the_list_is_bounded_and_counts_everyone() {
    let mut world = World::new()
        .policy("read", "ALLOW settings:objects:read;")
        .group("ops");
    for name in ["u1", "u2", "u3"] {
        world = world.user(name, &["ops"], true);
    }
    let mut draft = world.directory.clone();
    let affected = draft
        .add_binding(Binding::new(
            Level::Environment("env-dev".into()),
            "read",
            "ops",
        ))
        .unwrap();
    let impact = preview(&world, draft, &affected, 2);
    assert_eq!(impact.affected_principals, 3);
    assert_eq!(impact.total_changes, 3);
    assert!(impact.truncated);
    assert_eq!(
        rows(&impact),
        vec![
            row(
                "u1@example.com",
                "settings:objects:read",
                "environment:env-dev",
                ChangeKind::Gains
            ),
            row(
                "u2@example.com",
                "settings:objects:read",
                "environment:env-dev",
                ChangeKind::Gains
            ),
        ]
    );
}
