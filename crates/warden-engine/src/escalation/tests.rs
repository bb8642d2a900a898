#![allow(clippy::unwrap_used, clippy::indexing_slicing)] // test code fails loudly

use super::*;
use crate::directory::{Binding, BoundaryRecord, Directory, Group, PolicyRecord};
use crate::{Builtin, ParamValue};

/// A directory, its before-snapshot, and the writes made to it since.
struct World {
    builtin: Builtin,
    directory: Directory,
    recompiled: Vec<Id>,
    before: Option<Snapshot>,
}

impl World {
    fn new() -> World {
        let mut directory = Directory::new("acc");
        directory.add_environment("env-dev");
        directory.add_environment("env-prod");
        World {
            builtin: Builtin::load(&[]).unwrap(),
            directory,
            recompiled: Vec::new(),
            before: None,
        }
    }

    fn note(&mut self, affected: Vec<Id>) {
        if self.before.is_some() {
            self.recompiled.extend(affected);
        }
    }

    fn policy(mut self, id: &str, text: &str) -> Self {
        let record =
            PolicyRecord::parse(id, id, Level::Account, text, &self.builtin.catalogue).unwrap();
        let affected = self.directory.upsert_policy(record).unwrap();
        self.note(affected);
        self
    }

    fn boundary(mut self, id: &str, text: &str) -> Self {
        let record = BoundaryRecord::parse(id, id, text, &self.builtin.catalogue).unwrap();
        let affected = self.directory.upsert_boundary(record).unwrap();
        self.note(affected);
        self
    }

    fn group(mut self, id: &str) -> Self {
        self.directory.upsert_group(Group::new(id, id)).unwrap();
        self
    }

    fn bind(self, group: &str, policy: &str) -> Self {
        self.bind_at(Level::Account, group, policy, &[], &[])
    }

    fn bind_at(
        mut self,
        level: Level,
        group: &str,
        policy: &str,
        params: &[(&str, &str)],
        boundaries: &[&str],
    ) -> Self {
        let mut binding = Binding::new(level, policy, group);
        binding.parameters = params
            .iter()
            .map(|(k, v)| ((*k).to_owned(), ParamValue::One((*v).to_owned())))
            .collect();
        binding.boundaries = boundaries.iter().map(|b| Arc::from(*b)).collect();
        let affected = self.directory.add_binding(binding).unwrap();
        self.note(affected);
        self
    }

    fn unbind(mut self, group: &str, policy: &str) -> Self {
        let affected = self
            .directory
            .remove_bindings(group, |b| b.policy.as_ref() == policy)
            .unwrap();
        self.note(affected);
        self
    }

    fn user(mut self, name: &str, groups: &[&str]) -> Self {
        let uid = format!("uid-{name}");
        if self.directory.principal(&uid).is_none() {
            let principal = Principal::user(&uid, &format!("{name}@example.com"));
            self.directory.upsert_principal(principal).unwrap();
        }
        let groups = groups.iter().map(|g| Arc::from(*g)).collect();
        self.directory.set_memberships(&uid, groups).unwrap();
        self
    }

    fn active(mut self, name: &str, active: bool) -> Self {
        self.directory
            .set_active(&format!("uid-{name}"), active)
            .unwrap();
        self
    }

    fn delete_group(mut self, id: &str) -> Self {
        let affected = self.directory.remove_group(id).unwrap();
        self.note(affected);
        self
    }

    fn snapshot(&self) -> Snapshot {
        Snapshot::build(
            self.directory.clone(),
            Arc::new(self.builtin.catalogue.clone()),
            1,
        )
    }

    /// From here on, changes are the write under test.
    fn write(mut self) -> Self {
        self.before = Some(self.snapshot());
        self
    }

    /// The check of the write for `author` (by name), with optional token scopes.
    fn check_with(&self, author: &str, scopes: Option<&[String]>) -> Result<(), Escalation> {
        let before = self.before.as_ref().unwrap();
        let after = before.apply(self.directory.clone(), &self.recompiled, 2);
        let uid = format!("uid-{author}");
        check_write(
            before,
            &after,
            &self.recompiled,
            &Author {
                principal: &uid,
                scopes,
            },
        )
    }

    fn check(&self, author: &str) -> Result<(), Escalation> {
        self.check_with(author, None)
    }
}

/// `(permission, level, email)` of a refusal.
fn refused(result: Result<(), Escalation>) -> (String, String, String) {
    let escalation = result.expect_err("the write must be refused");
    assert_eq!(escalation.refusal, Refusal::NotHeld);
    (
        escalation.permission,
        escalation.level.to_string(),
        escalation.email.to_string(),
    )
}

fn triple(permission: &str, level: &str, email: &str) -> (String, String, String) {
    (permission.to_owned(), level.to_owned(), email.to_owned())
}

const LOGS: &str = "storage:logs:read";

#[test]
fn granting_what_the_author_holds_is_accepted_and_more_is_refused() {
    let world = || {
        World::new()
            .group("authors")
            .group("team")
            .policy(
                "held",
                r#"ALLOW storage:logs:read WHERE storage:bucket-name startsWith "team_";"#,
            )
            .bind("authors", "held")
            .user("author", &["authors"])
            .user("bob", &["team"])
    };
    let narrower = world()
        .write()
        .policy(
            "p",
            r#"ALLOW storage:logs:read WHERE storage:bucket-name = "team_a";"#,
        )
        .bind("team", "p");
    assert_eq!(narrower.check("author"), Ok(()));

    let pattern = world()
        .write()
        .policy(
            "p",
            r#"ALLOW storage:logs:read WHERE storage:bucket-name MATCH "team_*_x";"#,
        )
        .bind("team", "p");
    assert_eq!(
        pattern.check("author"),
        Ok(()),
        "every match starts with `team_`"
    );

    let other = world()
        .write()
        .policy(
            "p",
            r#"ALLOW storage:logs:read WHERE storage:bucket-name = "ops_a";"#,
        )
        .bind("team", "p");
    assert_eq!(
        refused(other.check("author")),
        triple(LOGS, "account", "bob@example.com")
    );

    let wider = world()
        .write()
        .policy("p", "ALLOW storage:logs:read;")
        .bind("team", "p");
    assert_eq!(
        refused(wider.check("author")),
        triple(LOGS, "account", "bob@example.com")
    );
}

#[test]
fn removing_a_deny_is_a_grant() {
    let world = || {
        World::new()
            .group("authors")
            .group("team")
            .policy("editor", "ALLOW iam:policies:write;")
            .bind("authors", "editor")
            .policy(
                "guarded",
                r#"ALLOW settings:objects:read; DENY settings:objects:read WHERE settings:schemaId = "builtin:alerting.profile";"#,
            )
            .bind("team", "guarded")
            .user("author", &["authors"])
            .user("bob", &["team"])
    };
    // Editing the policy to drop its DENY.
    let edited = world()
        .write()
        .policy("guarded", "ALLOW settings:objects:read;");
    assert_eq!(
        refused(edited.check("author")),
        triple("settings:objects:read", "account", "bob@example.com")
    );
    // Removing the victim from the group that carries the DENY, when another group allows.
    let removed = world()
        .policy("allow", "ALLOW settings:objects:read;")
        .group("plain")
        .bind("plain", "allow")
        .user("bob", &["team", "plain"])
        .write()
        .user("bob", &["plain"]);
    assert_eq!(
        refused(removed.check("author")),
        triple("settings:objects:read", "account", "bob@example.com")
    );
    // Deleting the group (with its bindings) is the same.
    let deleted = world()
        .policy("allow", "ALLOW settings:objects:read;")
        .group("plain")
        .bind("plain", "allow")
        .policy(
            "deny",
            r#"DENY settings:objects:read WHERE settings:schemaId = "builtin:alerting.profile";"#,
        )
        .group("guard")
        .bind("guard", "deny")
        .user("bob", &["guard", "plain"])
        .write()
        .delete_group("guard");
    assert_eq!(
        refused(deleted.check("author")),
        triple("settings:objects:read", "account", "bob@example.com")
    );
    // Unbinding it too.
    let unbound = world()
        .policy("allow", "ALLOW settings:objects:read;")
        .group("plain")
        .bind("plain", "allow")
        .policy(
            "deny",
            r#"DENY settings:objects:read WHERE settings:schemaId = "builtin:alerting.profile";"#,
        )
        .group("guard")
        .bind("guard", "deny")
        .user("bob", &["guard", "plain"])
        .write()
        .unbind("guard", "deny");
    assert_eq!(
        refused(unbound.check("author")),
        triple("settings:objects:read", "account", "bob@example.com")
    );
    // An author who holds the permission, guardrail and all, may remove it.
    let holder = World::new()
        .group("authors")
        .group("team")
        .policy("all", "ALLOW settings:objects:read;")
        .bind("authors", "all")
        .policy(
            "guarded",
            r#"ALLOW settings:objects:read; DENY settings:objects:read WHERE settings:schemaId = "builtin:alerting.profile";"#,
        )
        .bind("team", "guarded")
        .user("author", &["authors"])
        .user("bob", &["team"])
        .write()
        .policy("guarded", "ALLOW settings:objects:read;");
    assert_eq!(holder.check("author"), Ok(()));
    // Removing an ALLOW, or adding a DENY, takes access away: always accepted.
    let narrowing = world().write().policy(
        "guarded",
        r#"DENY settings:objects:read WHERE settings:schemaId = "builtin:alerting.profile";"#,
    );
    assert_eq!(narrowing.check("author"), Ok(()));
}

#[test]
fn a_guardrail_the_author_shares_does_not_stop_a_grant_within_it() {
    let guardrail =
        r#"DENY settings:objects:write WHERE settings:schemaId = "builtin:alerting.profile";"#;
    let world = || {
        World::new()
            .group("authors")
            .group("team")
            .policy("writer", "ALLOW settings:objects:write;")
            .bind("authors", "writer")
            .policy("guardrail", guardrail)
            .bind("authors", "guardrail")
            .user("author", &["authors"])
            .user("bob", &["team"])
    };
    // The team carries the same guardrail: the grant stays within what the author holds.
    let within = world()
        .bind("team", "guardrail")
        .write()
        .policy("p", "ALLOW settings:objects:write;")
        .bind("team", "p");
    assert_eq!(within.check("author"), Ok(()));
    // Without it, bob would gain the alerting schema, which the author may not write.
    let outside = world()
        .write()
        .policy("p", "ALLOW settings:objects:write;")
        .bind("team", "p");
    assert_eq!(
        refused(outside.check("author")),
        triple("settings:objects:write", "account", "bob@example.com")
    );
    // A guardrail that only today's members share does not cover whoever joins the group
    // later: a binding is checked for the group's future members too.
    let shared = world()
        .group("everyone")
        .bind("everyone", "guardrail")
        .user("bob", &["team", "everyone"])
        .write()
        .policy("p", "ALLOW settings:objects:write;")
        .bind("team", "p");
    let escalation = shared.check("author").unwrap_err();
    assert_eq!(escalation.member_of.as_deref(), Some("team"));
    assert_eq!(escalation.permission, "settings:objects:write");
}

#[test]
fn a_group_without_members_is_checked_for_whoever_joins_it() {
    let world = World::new()
        .group("authors")
        .group("empty")
        .policy("bindings", "ALLOW iam:bindings:write;")
        .bind("authors", "bindings")
        .user("author", &["authors"])
        .write()
        .policy("p", "ALLOW settings:objects:write;")
        .bind("empty", "p");
    let escalation = world.check("author").unwrap_err();
    assert_eq!(
        (
            escalation.permission.as_str(),
            escalation.member_of.as_deref(),
            escalation.email.as_ref()
        ),
        ("settings:objects:write", Some("empty"), "empty")
    );
}

#[test]
fn an_account_binding_is_checked_in_every_environment() {
    // The author may read settings at account level but is denied in env-prod.
    let world = World::new()
        .group("authors")
        .group("team")
        .policy("read", "ALLOW settings:objects:read;")
        .bind("authors", "read")
        .policy("no-prod", "DENY settings:objects:read;")
        .bind_at(
            Level::Environment("env-prod".into()),
            "authors",
            "no-prod",
            &[],
            &[],
        )
        .user("author", &["authors"])
        .user("bob", &["team"])
        .write()
        .policy("p", "ALLOW settings:objects:read;")
        .bind("team", "p");
    assert_eq!(
        refused(world.check("author")),
        triple(
            "settings:objects:read",
            "environment:env-prod",
            "bob@example.com"
        )
    );
}

#[test]
fn implied_permissions_are_held_only_without_a_deny_of_what_they_imply() {
    // DENY viewer denies every role: the author holds neither.
    let world = World::new()
        .group("authors")
        .group("team")
        .policy(
            "roles",
            "ALLOW environment:roles:manage-settings, environment:roles:viewer; DENY environment:roles:viewer;",
        )
        .bind("authors", "roles")
        .user("author", &["authors"])
        .user("bob", &["team"])
        .write()
        .policy("p", "ALLOW environment:roles:manage-settings;")
        .bind("team", "p");
    let (permission, level, email) = refused(world.check("author"));
    assert_eq!(
        (level.as_str(), email.as_str()),
        ("account", "bob@example.com")
    );
    assert!(
        [
            "environment:roles:manage-settings",
            "environment:roles:viewer"
        ]
        .contains(&permission.as_str()),
        "{permission}"
    );
    // An ALLOW of a role grants viewer: holding the role is holding viewer.
    let role = World::new()
        .group("authors")
        .group("team")
        .policy("role", "ALLOW environment:roles:manage-settings;")
        .bind("authors", "role")
        .user("author", &["authors"])
        .user("bob", &["team"])
        .write()
        .policy("p", "ALLOW environment:roles:viewer;")
        .bind("team", "p");
    assert_eq!(role.check("author"), Ok(()));
}

#[test]
fn joining_a_group_changes_what_user_group_conditions_give() {
    let world = || {
        World::new()
            .group("authors")
            .group("everyone")
            .group("secret-team")
            .policy("users", "ALLOW iam:users:write;")
            .bind("authors", "users")
            .policy(
                "own",
                r#"ALLOW storage:logs:read WHERE storage:bucket-name IN ("${global:userGroup}");"#,
            )
            .bind("everyone", "own")
    };
    let outsider = world()
        .user("author", &["authors", "everyone"])
        .user("bob", &["everyone"])
        .write()
        .user("bob", &["everyone", "secret-team"]);
    assert_eq!(
        refused(outsider.check("author")),
        triple(LOGS, "account", "bob@example.com")
    );
    // Joining a group yourself is the same gain.
    let yourself = world()
        .user("author", &["authors", "everyone"])
        .write()
        .user("author", &["authors", "everyone", "secret-team"]);
    assert_eq!(
        refused(yourself.check("author")),
        triple(LOGS, "account", "author@example.com")
    );
    // A member of that group already holds what joining it gives.
    let insider = world()
        .user("author", &["authors", "everyone", "secret-team"])
        .user("bob", &["everyone"])
        .write()
        .user("bob", &["everyone", "secret-team"]);
    assert_eq!(insider.check("author"), Ok(()));
}

#[test]
fn reactivating_someone_gives_back_what_they_hold() {
    let world = World::new()
        .group("authors")
        .group("team")
        .policy("p", "ALLOW storage:logs:read;")
        .bind("team", "p")
        .user("author", &["authors"])
        .user("bob", &["team"])
        .active("bob", false)
        .write()
        .active("bob", true);
    assert_eq!(
        refused(world.check("author")),
        triple(LOGS, "account", "bob@example.com")
    );
}

#[test]
fn lifting_a_boundary_is_a_grant() {
    let world = World::new()
        .group("authors")
        .group("team")
        .policy(
            "mine",
            r#"ALLOW storage:logs:read WHERE storage:bucket-name = "a";"#,
        )
        .bind("authors", "mine")
        .boundary("b", r#"storage:bucket-name = "a";"#)
        .policy("p", "ALLOW storage:logs:read;")
        .bind_at(Level::Account, "team", "p", &[], &["b"])
        .user("author", &["authors"])
        .user("bob", &["team"]);
    assert_eq!(world.write().check("author"), Ok(()), "nothing changed");
    let widened = World::new()
        .group("authors")
        .group("team")
        .policy(
            "mine",
            r#"ALLOW storage:logs:read WHERE storage:bucket-name = "a";"#,
        )
        .bind("authors", "mine")
        .boundary("b", r#"storage:bucket-name = "a";"#)
        .policy("p", "ALLOW storage:logs:read;")
        .bind_at(Level::Account, "team", "p", &[], &["b"])
        .user("author", &["authors"])
        .user("bob", &["team"])
        .write()
        .boundary("b", r#"storage:bucket-name IN ("a", "b");"#);
    assert_eq!(
        refused(widened.check("author")),
        triple(LOGS, "account", "bob@example.com")
    );
}

#[test]
fn negated_conditions_follow_list_valued_attributes_exactly() {
    // The author may read any bucket but `secret`. A grant of bucket `a` is not covered: a
    // request may name both `a` and `secret`, which bob would then be allowed and the author not.
    let world = || {
        World::new()
            .group("authors")
            .group("team")
            .policy(
                "mine",
                r#"ALLOW storage:logs:read WHERE storage:bucket-name != "secret";"#,
            )
            .bind("authors", "mine")
            .user("author", &["authors"])
            .user("bob", &["team"])
    };
    let one = world()
        .write()
        .policy(
            "p",
            r#"ALLOW storage:logs:read WHERE storage:bucket-name = "a";"#,
        )
        .bind("team", "p");
    assert_eq!(
        refused(one.check("author")),
        triple(LOGS, "account", "bob@example.com")
    );
    let excluded = world()
        .write()
        .policy(
            "p",
            r#"ALLOW storage:logs:read WHERE storage:bucket-name NOT IN ("secret", "other");"#,
        )
        .bind("team", "p");
    assert_eq!(excluded.check("author"), Ok(()));
}

#[test]
fn time_conditions_are_compared_as_written() {
    let until = r#"ALLOW storage:logs:read WHERE global:date-time < "2030-01-01T00:00:00Z";"#;
    let world = || {
        World::new()
            .group("authors")
            .group("team")
            .policy("mine", until)
            .bind("authors", "mine")
            .user("author", &["authors"])
            .user("bob", &["team"])
    };
    let same = world().write().policy("p", until).bind("team", "p");
    assert_eq!(same.check("author"), Ok(()));
    let forever = world()
        .write()
        .policy("p", "ALLOW storage:logs:read;")
        .bind("team", "p");
    assert_eq!(
        refused(forever.check("author")),
        triple(LOGS, "account", "bob@example.com")
    );
}

#[test]
fn a_tokens_scopes_limit_what_its_author_holds() {
    let world = World::new()
        .group("authors")
        .group("team")
        .policy("all", "ALLOW storage:logs:read, iam:bindings:write;")
        .bind("authors", "all")
        .user("author", &["authors"])
        .user("bob", &["team"])
        .write()
        .policy("p", "ALLOW storage:logs:read;")
        .bind("team", "p");
    assert_eq!(world.check("author"), Ok(()));
    let scoped = ["iam:bindings:write".to_owned()];
    assert_eq!(
        refused(world.check_with("author", Some(&scoped))),
        triple(LOGS, "account", "bob@example.com")
    );
    let empty: [String; 0] = [];
    assert_eq!(
        refused(world.check_with("author", Some(&empty))),
        triple(LOGS, "account", "bob@example.com"),
        "an empty scope list is no scopes"
    );
}

#[test]
fn parameters_and_user_ids_are_compared_as_instantiated() {
    let own = r#"ALLOW storage:logs:read WHERE storage:bucket-name = "${global:userId}";"#;
    // The author holds its own bucket, not bob's: granting bob his own bucket is refused.
    let world = World::new()
        .group("authors")
        .group("team")
        .policy("own", own)
        .bind("authors", "own")
        .user("author", &["authors"])
        .user("bob", &["team"])
        .write()
        .bind("team", "own");
    assert_eq!(
        refused(world.check("author")),
        triple(LOGS, "account", "bob@example.com")
    );
    let param = r#"ALLOW storage:logs:read WHERE storage:bucket-name = "${bindParam:b}";"#;
    let world = World::new()
        .group("authors")
        .group("team")
        .policy("param", param)
        .bind_at(Level::Account, "authors", "param", &[("b", "x")], &[])
        .user("author", &["authors"])
        .user("bob", &["team"])
        .write()
        .bind_at(Level::Account, "team", "param", &[("b", "x")], &[]);
    assert_eq!(world.check("author"), Ok(()));
}

#[test]
fn acting_as_someone_needs_everything_they_hold() {
    let world = World::new()
        .group("authors")
        .group("team")
        .policy("some", "ALLOW storage:logs:read;")
        .bind("authors", "some")
        .policy("more", "ALLOW storage:logs:read, settings:objects:read;")
        .bind("team", "more")
        .user("author", &["authors"])
        .user("bob", &["team"]);
    let snapshot = world.snapshot();
    let author = Author {
        principal: "uid-author",
        scopes: None,
    };
    let refusal = check_acting_as(&snapshot, "bob@example.com", None, &author).unwrap_err();
    assert_eq!(refusal.permission, "settings:objects:read");
    let logs = [LOGS.to_owned()];
    assert_eq!(
        check_acting_as(&snapshot, "bob@example.com", Some(&logs), &author),
        Ok(()),
        "a credential limited to what the author holds"
    );
    let bob = Author {
        principal: "uid-bob",
        scopes: None,
    };
    assert_eq!(
        check_acting_as(&snapshot, "author@example.com", None, &bob),
        Ok(())
    );
}

#[test]
fn the_last_administrator_is_noticed() {
    let iam: Vec<String> = Builtin::load(&[])
        .unwrap()
        .catalogue
        .permissions()
        .filter(|p| p.service == "iam")
        .map(|p| p.name.clone())
        .collect();
    let admin = format!("ALLOW {};", iam.join(", "));
    let world = || {
        World::new()
            .group("admins")
            .policy("admin", &admin)
            .bind("admins", "admin")
            .user("root", &["admins"])
            .user("bob", &[])
    };
    let snapshot = world().snapshot();
    let root = snapshot.directory().principal("uid-root").unwrap();
    assert!(is_administrator(&snapshot, root));
    assert!(!is_administrator(
        &snapshot,
        snapshot.directory().principal("uid-bob").unwrap()
    ));

    let removed = world().write().user("root", &[]);
    let before = removed.before.as_ref().unwrap();
    let after = before.apply(removed.directory.clone(), &removed.recompiled, 2);
    assert!(WriteCheck::new(before, &after, &removed.recompiled).removes_last_administrator());

    let deleted = world().write().delete_group("admins");
    let before = deleted.before.as_ref().unwrap();
    let after = before.apply(deleted.directory.clone(), &deleted.recompiled, 2);
    assert!(WriteCheck::new(before, &after, &deleted.recompiled).removes_last_administrator());

    let another = world().user("bob", &["admins"]).write().user("root", &[]);
    let before = another.before.as_ref().unwrap();
    let after = before.apply(another.directory.clone(), &another.recompiled, 2);
    assert!(!WriteCheck::new(before, &after, &another.recompiled).removes_last_administrator());
}
