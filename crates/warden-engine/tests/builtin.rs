//! The built-in content loads, and the catalogue holds every entry of seed 001 exactly.
//!
//! `fixtures/seed-001.txt` is the seed document as given; `fixtures/seed-001-services.txt` lists
//! the heading line that opens each service section, the Warden service it maps to, and how many
//! prose lines follow the heading. The seed is parsed here independently of the data files, so a
//! permission, condition, description or operator that the catalogue lost or changed fails.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // test code fails loudly

use warden_engine::Builtin;
use warden_policy::{Catalogue, Operator, OperatorSet};

const SEED: &str = include_str!("fixtures/seed-001.txt");
const SERVICES: &str = include_str!("fixtures/seed-001-services.txt");

#[derive(Debug)]
struct SeedCondition {
    name: String,
    description: String,
    operators: OperatorSet,
}

#[derive(Debug)]
struct SeedPermission {
    description: String,
    conditions: Vec<SeedCondition>,
}

#[derive(Debug)]
struct SeedService {
    heading: String,
    service: String,
    permissions: Vec<SeedPermission>,
}

fn is_condition_name(line: &str) -> bool {
    line.split_once(':').is_some_and(|(prefix, attribute)| {
        !prefix.is_empty()
            && prefix
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            && !attribute.is_empty()
            && attribute
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || ".-_".contains(c))
    })
}

/// The operator glued to the end of a description line ("…project.IN"), longest spelling first.
fn glued_operator(line: &str) -> Option<(&str, Operator)> {
    let mut spellings: Vec<Operator> = Operator::ALL.to_vec();
    spellings.sort_by_key(|op| std::cmp::Reverse(op.as_str().len()));
    spellings
        .into_iter()
        .find_map(|op| line.strip_suffix(op.as_str()).map(|rest| (rest, op)))
}

fn parse_seed() -> Vec<SeedService> {
    let headings: Vec<(String, String, usize)> = SERVICES
        .lines()
        .map(|line| {
            let mut columns = line.split('\t');
            let heading = columns.next().unwrap().to_owned();
            let service = columns.next().unwrap().to_owned();
            let skip = columns.next().map_or(0, |n| n.parse().unwrap());
            (heading, service, skip)
        })
        .collect();
    let lines: Vec<&str> = SEED.lines().map(str::trim).collect();
    let mut services = Vec::new();
    let mut i = lines
        .iter()
        .position(|line| *line == headings[0].0)
        .expect("first heading");
    for (index, (heading, service, skip)) in headings.iter().enumerate() {
        assert_eq!(
            lines[i], heading,
            "sections must appear in the listed order"
        );
        let next_heading = headings.get(index + 1).map(|h| h.0.as_str());
        i += 1 + skip;
        let mut permissions: Vec<SeedPermission> = Vec::new();
        while i < lines.len() && Some(lines[i]) != next_heading {
            let line = lines[i];
            if !is_condition_name(line) {
                permissions.push(SeedPermission {
                    description: line.to_owned(),
                    conditions: Vec::new(),
                });
                i += 1;
                continue;
            }
            // A condition: name, "- description" (possibly continued) ending in a glued operator,
            // then one ",operator" line per further operator.
            let name = line.to_owned();
            i += 1;
            let mut description = lines[i]
                .strip_prefix("- ")
                .expect("description line")
                .to_owned();
            let mut operators = OperatorSet::EMPTY;
            loop {
                if let Some((rest, op)) = glued_operator(&description) {
                    description = rest.to_owned();
                    operators.insert(op);
                    break;
                }
                i += 1;
                description.push_str(lines[i]);
            }
            i += 1;
            while let Some(op) = lines
                .get(i)
                .and_then(|l| l.strip_prefix(','))
                .and_then(Operator::from_name)
            {
                operators.insert(op);
                i += 1;
            }
            permissions
                .last_mut()
                .expect("a condition follows a permission")
                .conditions
                .push(SeedCondition {
                    name,
                    description,
                    operators,
                });
        }
        services.push(SeedService {
            heading: heading.clone(),
            service: service.clone(),
            permissions,
        });
    }
    services
}

fn builtin() -> Builtin {
    Builtin::load(&[]).unwrap_or_else(|errors| panic!("built-in data is invalid: {errors:#?}"))
}

#[test]
fn every_seed_001_entry_is_in_the_catalogue_with_exactly_its_operators() {
    let catalogue: Catalogue = builtin().catalogue;
    let services = parse_seed();
    assert_eq!(services.len(), 17);
    let mut checked = 0;
    for seed in &services {
        let service = catalogue
            .service(&seed.service)
            .unwrap_or_else(|| panic!("service `{}` missing", seed.service));
        assert_eq!(service.title, seed.heading, "title of `{}`", seed.service);
        for seed_permission in &seed.permissions {
            let matching: Vec<_> = service
                .permissions
                .iter()
                .filter_map(|name| catalogue.permission(name))
                .filter(|p| p.description == seed_permission.description)
                .collect();
            assert_eq!(
                matching.len(),
                1,
                "`{}`: permission `{}`",
                seed.service,
                seed_permission.description
            );
            let permission = matching[0];
            let names: Vec<&str> = permission
                .conditions
                .iter()
                .map(|c| c.name.as_str())
                .collect();
            let seed_names: Vec<&str> = seed_permission
                .conditions
                .iter()
                .map(|c| c.name.as_str())
                .collect();
            assert_eq!(names, seed_names, "conditions of `{}`", permission.name);
            for (ours, theirs) in permission
                .conditions
                .iter()
                .zip(&seed_permission.conditions)
            {
                assert_eq!(
                    ours.description, theirs.description,
                    "`{}` on `{}`",
                    ours.name, permission.name
                );
                assert_eq!(
                    ours.operators.describe(),
                    theirs.operators.describe(),
                    "operators of `{}` on `{}`",
                    ours.name,
                    permission.name
                );
            }
            checked += 1;
        }
    }
    assert_eq!(checked, 80, "seed 001 describes 80 permissions");
}

#[test]
fn the_seed_parser_reads_multi_line_descriptions() {
    let services = parse_seed();
    let iam = services.iter().find(|s| s.service == "iam").unwrap();
    let effective = iam
        .permissions
        .iter()
        .find(|p| p.description == "Grants permission to read effective permissions")
        .unwrap();
    assert_eq!(effective.conditions[0].name, "iam-param:entity-type");
    assert_eq!(
        effective.conditions[0].description,
        "Entity type in the query parameters. Allowed values: group, user."
    );
    assert_eq!(effective.conditions[0].operators.describe(), "`=`");
    assert_eq!(effective.conditions[1].operators.describe(), "`=`, `IN`");
}

#[test]
fn global_conditions_and_implies() {
    let catalogue = builtin().catalogue;
    let operators = |name: &str| {
        catalogue
            .global_condition(name)
            .unwrap()
            .operators
            .describe()
    };
    assert_eq!(
        operators("global:environmentId"),
        "`=`, `!=`, `IN`, `NOT IN`"
    );
    assert_eq!(operators("global:date"), "`=`, `<`, `>`");
    assert_eq!(operators("global:date-time"), "`<`, `>`");
    assert_eq!(operators("global:time-of-day"), "`<`, `>`");
    assert_eq!(operators("global:week-day"), "`=`, `!=`, `IN`");
    let implying = catalogue.implied_by("environment:roles:viewer");
    assert_eq!(implying.len(), 9, "{implying:?}");
    assert!(implying.iter().all(|p| p.starts_with("environment:roles:")));
    assert!(
        catalogue
            .implied_by("environment:roles:logviewer")
            .is_empty()
    );
}

#[test]
fn warden_own_permissions_of_spec_section_6() {
    let catalogue = builtin().catalogue;
    for name in [
        "iam:policies:read",
        "iam:policies:write",
        "iam:bindings:read",
        "iam:bindings:write",
        "iam:boundaries:read",
        "iam:boundaries:write",
        "iam:effective-permissions:read",
        "iam:limits:read",
        "iam:service-users:use",
        "iam:users:read",
        "iam:users:write",
        "iam:groups:read",
        "iam:groups:write",
        "iam:service-users:read",
        "iam:service-users:write",
        "iam:tokens:read",
        "iam:tokens:write",
        "iam:audit:read",
    ] {
        assert!(catalogue.permission(name).is_some(), "{name}");
    }
    let bindings = catalogue.permission("iam:bindings:write").unwrap();
    let names: Vec<&str> = bindings
        .conditions
        .iter()
        .map(|c| c.name.as_str())
        .collect();
    assert_eq!(names, ["iam:policyUuid", "iam:levelType", "iam:boundGroup"]);
}

#[test]
fn global_policies_and_default_groups() {
    let builtin = builtin();
    assert!(builtin.policies.len() >= 38);
    for short in [
        "Read Logs",
        "read logs",
        "All Grail data read access",
        "Read User Sessions",
    ] {
        assert!(builtin.policy(short).is_some(), "{short}");
    }
    let sessions = builtin.policy("Read User Sessions").unwrap();
    assert_eq!(
        sessions.text.trim(),
        "ALLOW storage:buckets:read WHERE storage:table-name = \"user.sessions\";\nALLOW storage:user.sessions:read;"
    );
    let groups: Vec<(&str, usize)> = builtin
        .groups
        .iter()
        .map(|g| (g.name.as_str(), g.policies.len()))
        .collect();
    assert_eq!(
        groups,
        [
            ("Environment Users", 7),
            ("Environment Professionals", 7),
            ("Environment Admins", 3),
            ("Account Admins", 1),
            ("Account viewers", 1)
        ]
    );
    // The account-management policies: every iam:* permission, and the read-only ones.
    let admin = builtin.policy("Account Admin").unwrap();
    let viewer = builtin.policy("Account Viewer").unwrap();
    let granted = |policy: &warden_engine::GlobalPolicy| -> Vec<String> {
        let mut names: Vec<String> = policy
            .policy
            .statements
            .iter()
            .flat_map(|s| s.permissions.iter().map(|p| p.node.clone()))
            .collect();
        names.sort();
        names
    };
    let mut iam: Vec<String> = builtin
        .catalogue
        .permissions()
        .filter(|p| p.service == "iam")
        .map(|p| p.name.clone())
        .collect();
    iam.sort();
    assert_eq!(granted(admin), iam);
    let reads: Vec<String> = iam
        .iter()
        .filter(|p| p.ends_with(":read"))
        .cloned()
        .collect();
    assert_eq!(granted(viewer), reads);
}

#[test]
fn legacy_policies_are_found_by_id_and_only_they() {
    let builtin = builtin();
    let legacy = builtin
        .legacy("environment-role-access-environment")
        .expect("a legacy policy by id");
    assert_eq!(legacy.name, "Environment role - Access environment");
    assert!(legacy.is_legacy());
    assert!(builtin.legacy("settings-writer").is_some());
    // A default policy, an account-management policy, and the data-access policy that seed 002
    // also lists as legacy: bindable.
    for id in [
        "standard-user",
        "account-admin",
        "data-processing-and-storage",
    ] {
        assert!(
            builtin.policies.iter().any(|p| p.id() == id),
            "`{id}` is a global policy"
        );
        assert!(builtin.legacy(id).is_none(), "{id}");
    }
    // Ids, not names; unknown ids.
    assert!(
        builtin
            .legacy("Environment role - Access environment")
            .is_none()
    );
    assert!(builtin.legacy("no-such-policy").is_none());
    assert!(builtin.legacy("").is_none());
    let count = builtin.policies.iter().filter(|p| p.is_legacy()).count();
    assert_eq!(count, 22, "the legacy policies of seed 002");
    // No default group binds a legacy policy: its bindings are made in every new account.
    for group in &builtin.groups {
        for name in &group.policies {
            let policy = builtin.policy(name).unwrap();
            assert!(builtin.legacy(&policy.id()).is_none(), "{}", group.name);
        }
    }
}
