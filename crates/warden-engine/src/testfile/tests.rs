//! Tests of policy test files: worlds, cases, every kind of located problem, and no panic on any
//! input.

use std::sync::OnceLock;

use super::*;
use crate::snapshot::{Outcome, Reason};
use crate::workflow::RefusedBy;

/// 2026-05-04T10:00:00Z, a Monday.
const NOW: i64 = 1_777_888_800;

fn builtin() -> &'static Builtin {
    static BUILTIN: OnceLock<Builtin> = OnceLock::new();
    BUILTIN.get_or_init(|| Builtin::load(&[]).unwrap())
}

fn run(source: &str) -> FileReport {
    run_with(builtin(), "t.yaml", source, NOW)
}

/// `line:column: message` (+ ` — help`) of every error.
fn errors(source: &str) -> Vec<String> {
    let report = run(source);
    assert!(report.cases.is_empty(), "no case runs in an invalid file");
    report.errors.iter().map(render).collect()
}

fn render(problem: &Problem) -> String {
    match &problem.help {
        Some(help) => format!(
            "{}:{}: {} — {help}",
            problem.line, problem.column, problem.message
        ),
        None => format!("{}:{}: {}", problem.line, problem.column, problem.message),
    }
}

/// Every case passes; returns the descriptions.
fn passing(source: &str) -> Vec<String> {
    let report = run(source);
    let problems: Vec<String> = report.errors.iter().map(render).collect();
    assert!(problems.is_empty(), "{problems:#?}");
    for case in &report.cases {
        assert!(
            case.passed,
            "case {} ({}) failed: {:#?}",
            case.index, case.description, case.explanation
        );
    }
    report.cases.iter().map(|c| c.description.clone()).collect()
}

const SPEC_EXAMPLE: &str = r#"
services:
  shop:
    conditions:
      shop:region: [ "=", "!=", "IN", "NOT IN", "startsWith", "NOT startsWith", "MATCH" ]
      shop:team: [ "=", "IN" ]
    permissions:
      shop:orders:read: [ shop:region, shop:team ]
      shop:orders:write: [ shop:region ]
environments: [env-prod, env-dev]
boundaries:
  zone-a: |
    environment:management-zone IN ("zone-a");
policies:
  Team Logs: |
    ALLOW storage:logs:read WHERE storage:bucket-name startsWith "${bindParam:team}_";
  Shop EU: |
    ALLOW shop:orders:read WHERE shop:region IN ("${bindParam:regions}");
groups:
  ops:
    - policy: Team Logs
      level: account
      parameters: { team: ops }
    - policy: Standard User
      level: environment:env-dev
    - policy: shop eu
      parameters: { regions: [eu-west, eu-north] }
users:
  alice@example.com: [ops]
  bob@example.com: [ops]
service_users:
  Pipeline Automation: [Environment Users]
deactivated: [bob@example.com]
cases:
  - principal: alice@example.com
    permission: storage:logs:read
    environment: env-prod
    attributes: { storage:bucket-name: ops_app }
    time: 2026-05-04T10:00:00Z
    expect: allow
  - principal: alice@example.com
    permission: storage:logs:read
    environment: env-prod
    attributes: { storage:bucket-name: dev_app }
    expect: deny
  - principal: Alice@Example.com
    permission: automation:workflows:read
    environment: env-dev
    expect: allow
  - principal: alice@example.com
    permission: automation:workflows:read
    environment: env-prod
    expect: deny
  - principal: alice@example.com
    permission: shop:orders:read
    attributes: { shop:region: [us-east, eu-north] }
    expect: allow
  - principal: bob@example.com
    permission: storage:logs:read
    attributes: { storage:bucket-name: ops_app }
    expect: deny
  - principal: Pipeline Automation
    permission: storage:logs:read
    environment: env-prod
    expect: allow
  - principal: pipeline_automation@service
    permission: automation:workflows:write
    environment: env-prod
    expect: deny
"#;

#[test]
fn the_spec_example_runs_and_describes_each_case() {
    assert_eq!(
        passing(SPEC_EXAMPLE),
        [
            "alice@example.com storage:logs:read in env-prod with storage:bucket-name=\"ops_app\" at 2026-05-04T10:00:00Z",
            "alice@example.com storage:logs:read in env-prod with storage:bucket-name=\"dev_app\"",
            "Alice@Example.com automation:workflows:read in env-dev",
            "alice@example.com automation:workflows:read in env-prod",
            "alice@example.com shop:orders:read at account level with shop:region=(\"us-east\", \"eu-north\")",
            "bob@example.com storage:logs:read at account level with storage:bucket-name=\"ops_app\"",
            "Pipeline Automation storage:logs:read in env-prod",
            "pipeline_automation@service automation:workflows:write in env-prod",
        ]
    );
}

#[test]
fn a_failing_case_is_explained() {
    let report = run(&SPEC_EXAMPLE.replace(
        "attributes: { storage:bucket-name: dev_app }\n    expect: deny",
        "attributes: { storage:bucket-name: dev_app }\n    expect: allow",
    ));
    assert!(report.is_valid());
    assert_eq!((report.passed(), report.failed()), (7, 1));
    let failed = report.cases.iter().find(|c| !c.passed).unwrap();
    assert_eq!(failed.index, 2);
    assert_eq!((failed.line, failed.column), (41, 5));
    assert_eq!(failed.expected, Outcome::Allow);
    assert_eq!(failed.actual, Outcome::Deny);
    let explanation = failed.explanation.as_ref().unwrap();
    assert_eq!(
        explanation.summary,
        "denied: no statement granting `storage:logs:read` applies; closest is \
         `ALLOW storage:logs:read WHERE storage:bucket-name startsWith \"ops_\";` of policy \
         `Team Logs`, where `storage:bucket-name startsWith \"ops_\"` fails: seen \"dev_app\" but \
         required startsWith \"ops_\""
    );
    assert_eq!(explanation.nearest.len(), 1);
    assert!(
        report
            .cases
            .iter()
            .filter(|c| c.passed)
            .all(|c| c.explanation.is_none())
    );
}

#[test]
fn service_users_get_stable_handles_uids_and_emails() {
    let source = "
service_users:
  Pipeline Automation: [Environment Users]
  Pipeline_Automation: [Environment Users]
  Zoë: []
cases:
  - principal: pipeline_automation_2@service
    permission: storage:logs:read
    expect: allow
  - principal: zo@service
    permission: storage:logs:read
    expect: deny
  - principal: 00000000-0000-4000-9000-000000000001@service.warden.local
    permission: storage:logs:read
    expect: allow
";
    assert_eq!(passing(source).len(), 3);
    assert_eq!(service_user_uid(2), "00000000-0000-4000-9000-000000000002");
    assert_eq!(user_uid(1), "00000000-0000-4000-8000-000000000001");
}

#[test]
fn names_are_matched_without_case_and_may_not_differ_only_in_case() {
    let source = "
policies:
  Team reader: ALLOW settings:objects:read;
groups:
  Readers:
    - policy: TEAM READER
    - policy: admin user
      level: account
users:
  alice@example.com: [readers, environment users]
cases:
  - principal: alice@example.com
    permission: settings:objects:read
    expect: allow
  - principal: alice@example.com
    permission: settings:objects:write
    expect: allow
";
    assert_eq!(passing(source).len(), 2);
    let twice = source.replace(
        "  Team reader: ALLOW settings:objects:read;\n",
        "  Team reader: ALLOW settings:objects:read;\n  Team Reader: ALLOW settings:objects:write;\n",
    );
    assert_eq!(
        errors(&twice),
        [
            "4:3: policy `Team Reader` is already defined as `Team reader` at line 3: names are matched without regard to case — rename or remove one of them"
        ]
    );
    let builtin_name = source.replace("Team reader:", "pro USER:");
    assert_eq!(
        errors(&builtin_name),
        [
            "3:3: policy `pro USER` has the name of the built-in policy `Pro User` — choose another name; built-in policies can be bound without being defined",
            "6:15: unknown policy `TEAM READER` — define it under `policies:` or bind a built-in policy by its name"
        ]
    );
    let groups = source.replace("  Readers:\n", "  readers: []\n  Readers:\n");
    assert_eq!(
        errors(&groups),
        [
            "6:3: group `Readers` is already defined as `readers` at line 5: names are matched without regard to case — rename or remove one of them"
        ]
    );
}

#[test]
fn default_groups_named_in_groups_get_extra_bindings() {
    let source = "
environments: [env-dev]
groups:
  environment users:
    - policy: Settings Writer
      level: environment:env-dev
users:
  alice@example.com: [Environment Users]
cases:
  - principal: alice@example.com
    permission: settings:objects:write
    environment: env-dev
    expect: allow
  - principal: alice@example.com
    permission: settings:objects:write
    expect: deny
  - principal: alice@example.com
    permission: storage:logs:read
    expect: allow
";
    assert_eq!(passing(source).len(), 3);
}

const BAD_REFERENCES: &str = "
environments: [env-prod]
boundaries:
  zone-a: |
    environment:management-zone IN (\"zone-a\");
policies:
  Team Logs: |
    ALLOW storage:logs:read;
groups:
  ops:
    - policy: Team Log
      level: environment:env-prd
      boundaries: [zone-b]
users:
  alice@example.com: [opps]
deactivated: [carol@example.com]
cases:
  - principal: alise@example.com
    permission: storage:log:read
    environment: env-prd
    expect: allow
  - principal: alice@example.com
    permission: storage:buckets:read
    attributes: { storage:table-nme: logs, global:environmentId: env-prod }
    time: yesterday
    expect: maybe
";

#[test]
fn every_unknown_name_is_reported_with_its_location_and_a_suggestion() {
    assert_eq!(
        errors(BAD_REFERENCES),
        [
            "11:15: unknown policy `Team Log` — did you mean `Team Logs`?",
            "12:14: unknown environment `env-prd` — did you mean `env-prod`?",
            "13:20: unknown boundary `zone-b` — did you mean `zone-a`?",
            "15:23: unknown group `opps` — did you mean `ops`?",
            "16:15: unknown principal `carol@example.com` — define it under `users:` (by email) or `service_users:` (by name)",
            "18:16: unknown principal `alise@example.com` — did you mean `alice@example.com`?",
            "19:17: unknown permission `storage:log:read` — did you mean `storage:logs:read`?",
            "20:18: unknown environment `env-prd` — did you mean `env-prod`?",
            "24:19: permission `storage:buckets:read` has no condition `storage:table-nme` — did you mean `storage:table-name`?",
            "24:44: `global:environmentId` is not a request attribute — global conditions are evaluated from the case's `environment` and `time`",
            "25:11: `time`: `yesterday` is not a valid date and time — write an RFC 3339 date and time, such as `2026-05-04T10:00:00Z`",
            "26:13: `expect` must be `allow` or `deny`, not `maybe` — write `expect: allow` or `expect: deny`",
        ]
    );
}

#[test]
fn policy_and_boundary_diagnostics_point_into_the_yaml_file() {
    let source = "
boundaries:
  zones: |
    environment:management-zone IN (\"a\") AND storage:bucket-name = \"x\"
policies:
  Broken: |
    ALLOW storage:logs:read;
    ALLOW automation:workflow:read;
    ALLOW storage:logs:read WHERE storage:bucket-name = \"a\" OR storage:bucket-name = \"b\";
  Folded: >
    ALLOW a:b:c
    WHERE q
  One line: \"ALLOW storage:logs:reed\"
cases:
  - principal: nobody@example.com
    permission: storage:logs:read
    expect: deny
";
    assert_eq!(
        errors(source),
        [
            "4:42: boundary `zones`: `AND` is not allowed in a boundary — put each condition on its own line: conditions with different names are combined with AND, the same name with OR",
            "8:11: policy `Broken`: unknown permission `automation:workflow:read` — did you mean `automation:workflows:read`?",
            "9:61: policy `Broken`: `OR` is not supported — write two statements instead, one for each alternative: statements are combined with OR",
            // A folded block cannot be mapped line by line: the position in the text is named.
            "11:5: policy `Folded`: `q` is not a condition name (at 1:19 of the text) — conditions have the form `service:attribute`, e.g. `storage:bucket-name`",
            "13:20: policy `One line`: unknown permission `storage:logs:reed` — did you mean `storage:logs:read`?",
            "15:16: unknown principal `nobody@example.com` — define it under `users:` (by email) or `service_users:` (by name)",
        ]
    );
}

#[test]
fn bind_parameters_and_levels_are_checked() {
    let source = "
policies:
  Team Logs: |
    ALLOW storage:logs:read WHERE storage:bucket-name startsWith \"${bindParam:team}_\";
groups:
  ops:
    - policy: Team Logs
    - policy: Team Logs
      parameters: { team: [a, b] }
    - policy: Standard User
      level: everywhere
users:
  alice@example.com: [ops]
cases:
  - principal: alice@example.com
    permission: storage:logs:read
    expect: deny
";
    assert_eq!(
        errors(source),
        [
            "7:7: binding of policy `Team Logs` to group `ops`: missing parameter `team`: the policy references it",
            "8:7: binding of policy `Team Logs` to group `ops`: parameter `team` is a list, but condition `storage:bucket-name` uses it where one string is expected; give one string",
            "11:14: `everywhere` is not a binding level — write `account` or `environment:<id>`, such as `environment:env-prod`",
        ]
    );
}

#[test]
fn unknown_keys_and_wrong_shapes_are_located() {
    let source = "
users:
  alice@example.com: { group: ops }
polices: {}
cases:
  - principal: alice@example.com
    permision: storage:logs:read
    expect: allow
  - just a string
  - principal: alice@example.com
    permission: storage:logs:read
    attributes: { storage:bucket-name: ~, storage:table-name: {} }
    expect: allow
  - ~
";
    assert_eq!(
        errors(source),
        [
            "3:24: the groups of user `alice@example.com` must be a string or a list of strings, not a mapping",
            "4:1: unknown key `polices` in a test file — did you mean `policies`? the keys of a test file are `services`, `environments`, `boundaries`, `policies`, `groups`, `users`, `service_users`, `deactivated`, `workflows`, `consent`, `cases`, `authzen`",
            "6:5: case 1 has no `permission` — add `permission: storage:logs:read`",
            "7:5: unknown key `permision` in a case — did you mean `permission`? the keys of a case are `principal`, `workflow`, `permission`, `environment`, `attributes`, `time`, `expect`",
            "9:5: a case must be a mapping, not a string",
            "12:40: attribute `storage:bucket-name` needs a value",
            "12:63: attribute `storage:table-name` must be a string or a list of strings, not a mapping",
            "14:5: a case must be a mapping, not nothing",
        ]
    );
    assert_eq!(
        errors("users: {}\n"),
        [
            "1:1: the file has no `cases:` — add a `cases:` list of requests with the decision each must get"
        ]
    );
    assert_eq!(
        errors("cases: []\n"),
        [
            "1:8: `cases` is empty — add at least one case; a test file that tests nothing would always pass"
        ]
    );
}

#[test]
fn yaml_level_problems_are_located() {
    let cases = [
        ("a: [1\nb: 2\n", "2:2: invalid YAML: "),
        ("- a\n", "1:1: a test file is a YAML mapping"),
        (
            "a: &x 1\nb: *x\n",
            "1:7: YAML anchors and aliases are not supported",
        ),
        ("a: !!str 1\n", "1:10: YAML tags are not supported"),
        (
            "cases: []\ncases: []\n",
            "2:1: key `cases` appears twice in this mapping (first at line 1)",
        ),
        (
            "cases: []\n---\ncases: []\n",
            "2:1: a test file holds one YAML document",
        ),
        (
            "---\ncases: x\n...\n",
            "3:1: a test file holds one YAML document, but `...`",
        ),
    ];
    for (source, expected) in cases {
        let found = errors(source);
        assert_eq!(found.len(), 1, "{source:?}: {found:#?}");
        assert!(found[0].starts_with(expected), "{source:?}: {found:#?}");
    }
    let deep = format!("a:\n  {}x\n", "- ".repeat(60));
    assert!(errors(&deep)[0].starts_with("2:1: line 2 is nested or indented too deeply"));
    // One leading `---` is fine.
    assert!(errors("---\ncases: x\n")[0].starts_with("2:8: `cases` must be a list"));
}

#[test]
fn custom_service_problems_are_located() {
    let source = "
services:
  shop:
    conditions:
      shop:region: [\"=\", \"LIKE\"]
      shop:team: [\"=\"]
    permissions:
      shop:orders:read: [shop:regoin]
  Bad_Name:
    permissions:
      other:x:read: []
cases:
  - principal: alice@example.com
    permission: shop:orders:read
    expect: deny
";
    assert_eq!(
        errors(source),
        [
            "8:26: permission `shop:orders:read` lists condition `shop:regoin`, which service `shop` does not define — did you mean `shop:region`?",
            "9:3: service `Bad_Name`: `Bad_Name` is not a service name; use `a-z`, `0-9` and `-`",
            "13:16: unknown principal `alice@example.com` — define it under `users:` (by email) or `service_users:` (by name)",
        ]
    );
    let operators = source.replace("[shop:regoin]", "[shop:region]").replace(
        "  Bad_Name:\n    permissions:\n      other:x:read: []\n",
        "",
    );
    assert_eq!(
        errors(&operators)[0],
        "5:7: service `shop`: unknown operator `LIKE`; the operators are =, !=, <, >, IN, NOT IN, startsWith, NOT startsWith, MATCH"
    );
}

#[test]
fn boundaries_narrow_allow_statements_and_warn_when_they_do_not_apply() {
    let source = "
environments: [env-prod]
boundaries:
  prod only: |
    global:environmentId = \"env-prod\"
  zone-a: |
    environment:management-zone IN (\"zone-a\")
groups:
  ops:
    - policy: Read Logs
      boundaries: [prod only]
    - policy: Settings Writer
      boundaries: [zone-a]
users:
  alice@example.com: [ops]
cases:
  - principal: alice@example.com
    permission: storage:logs:read
    environment: env-prod
    expect: allow
  - principal: alice@example.com
    permission: storage:logs:read
    expect: deny
";
    let report = run(source);
    assert!(report.is_valid(), "{:#?}", report.errors);
    assert!(report.cases.iter().all(|c| c.passed));
    let warnings: Vec<String> = report.warnings.iter().map(render).collect();
    assert!(
        warnings.iter().any(|w| w.starts_with(
            "13:7: boundary `zone-a` leaves `settings:schemas:read` of policy `Settings Writer` unrestricted"
        )),
        "{warnings:#?}"
    );
}

const WORKFLOWS: &str = r#"
environments: [env-prod, env-dev]
policies:
  Settings X: |
    ALLOW settings:objects:write WHERE settings:schemaId = "builtin:x";
    ALLOW settings:objects:read;
groups:
  settings-x:
    - policy: Settings X
      level: environment:env-prod
users:
  bob@example.com: [settings-x]
  carol@example.com: [settings-x]
service_users:
  Pipeline Automation: [settings-x]
  Old Job: [settings-x]
deactivated: [Old Job]
workflows:
  Settings sync:
    owner: bob@example.com
    actor: Pipeline Automation
    environment: env-prod
  Cleanup:
    owner: bob@example.com
    environment: env-prod
  Report:
    owner: Settings-X
    actor: carol@example.com
    environment: env-prod
  Legacy:
    owner: bob@example.com
    actor: old_job@service
    environment: env-prod
consent:
  bob@example.com:
    env-prod: [settings:objects:write]
    env-dev: [settings:objects:read]
cases:
  - workflow: Settings sync
    permission: settings:objects:write
    attributes: { settings:schemaId: builtin:x }
    expect: allow
  - workflow: settings SYNC
    permission: settings:objects:write
    attributes: { settings:schemaId: builtin:y }
    expect: deny
  - workflow: Cleanup
    permission: settings:objects:write
    attributes: { settings:schemaId: builtin:x }
    expect: allow
  - workflow: Cleanup
    permission: settings:objects:read
    expect: deny
  - workflow: Report
    permission: settings:objects:read
    expect: deny
  - workflow: Legacy
    permission: settings:objects:read
    expect: deny
  - principal: bob@example.com
    permission: settings:objects:read
    environment: env-prod
    expect: allow
"#;

#[test]
fn tasks_of_workflows_run_as_their_actor_with_its_consent() {
    assert_eq!(
        passing(WORKFLOWS),
        [
            "workflow Settings sync as Pipeline Automation: settings:objects:write in env-prod with settings:schemaId=\"builtin:x\"",
            "workflow Settings sync as Pipeline Automation: settings:objects:write in env-prod with settings:schemaId=\"builtin:y\"",
            "workflow Cleanup as bob@example.com: settings:objects:write in env-prod with settings:schemaId=\"builtin:x\"",
            "workflow Cleanup as bob@example.com: settings:objects:read in env-prod",
            "workflow Report as carol@example.com: settings:objects:read in env-prod",
            "workflow Legacy as old_job@service: settings:objects:read in env-prod",
            "bob@example.com settings:objects:read in env-prod",
        ]
    );
    let report = run(WORKFLOWS);
    let refused: Vec<Option<RefusedBy>> = report.cases.iter().map(|c| c.refused_by).collect();
    assert_eq!(
        refused,
        [
            None,
            Some(RefusedBy::ActorPermissions),
            None,
            Some(RefusedBy::Consent),
            Some(RefusedBy::Consent),
            Some(RefusedBy::ActorPermissions),
            None,
        ]
    );
}

/// `summary` and the deciding statements of each failed case.
fn failures(source: &str) -> Vec<String> {
    let report = run(source);
    assert!(report.is_valid(), "{:#?}", report.errors);
    report
        .cases
        .iter()
        .filter(|c| !c.passed)
        .flat_map(|c| {
            let explanation = c.explanation.as_ref().unwrap();
            std::iter::once(format!("{}: {}", c.index, explanation.summary)).chain(
                explanation
                    .deciding
                    .iter()
                    .map(|d| format!("  deciding: {}", d.statement)),
            )
        })
        .collect()
}

#[test]
fn a_failing_task_names_the_side_that_refused() {
    // Every deny expected allow (`ALLOW`: any case), and Cleanup's allowed write expected deny.
    let flipped = WORKFLOWS.replace("    expect: deny\n", "    expect: ALLOW\n");
    let flipped = flipped.replace(
        "  - workflow: Cleanup\n    permission: settings:objects:write\n    attributes: { settings:schemaId: builtin:x }\n    expect: allow\n",
        "  - workflow: Cleanup\n    permission: settings:objects:write\n    attributes: { settings:schemaId: builtin:x }\n    expect: deny\n",
    );
    assert_eq!(
        failures(&flipped),
        [
            "2: refused by the actor's permissions: denied: no statement granting `settings:objects:write` applies; closest is `ALLOW settings:objects:write WHERE settings:schemaId = \"builtin:x\";` of policy `Settings X`, where `settings:schemaId = \"builtin:x\"` fails: seen \"builtin:y\" but required = \"builtin:x\"",
            "3: allowed: allowed by `ALLOW settings:objects:write WHERE settings:schemaId = \"builtin:x\";` of policy `Settings X`, bound to group `settings-x` at environment level",
            "  deciding: ALLOW settings:objects:write WHERE settings:schemaId = \"builtin:x\";",
            "4: refused by consent: the actor may `settings:objects:read` but did not consent to the automation engine using it in `env-prod`",
            "5: refused by consent: the actor may `settings:objects:read` but did not consent to the automation engine using it in `env-prod`",
            "6: refused by the actor's permissions: denied: principal `old_job@service` is deactivated",
        ]
    );
    let report = run(&flipped);
    let failed = report.cases.iter().find(|c| c.index == 4).unwrap();
    let explanation = failed.explanation.as_ref().unwrap();
    assert_eq!(
        (explanation.decision.outcome, explanation.decision.reason),
        (Outcome::Deny, Reason::NoConsent)
    );
    assert_eq!(failed.refused_by, Some(RefusedBy::Consent));
}

#[test]
fn unknown_workflows_actors_owners_and_consent_are_located() {
    let source = "
environments: [env-prod]
groups:
  ops: []
  Pipeline Automation: []
users:
  bob@example.com: [ops]
service_users:
  Pipeline Automation: []
  Deployer: []
workflows:
  Nightly:
    owner: bob@example.com
    actor: pipeline automaton
    environment: env-prd
  By group:
    owner: ops
    environment: env-prod
  Nobody's:
    environment: env-prod
  Twice:
    owner: Pipeline Automation
    actor: bob@example.com
    environment: env-prod
  Lost:
    owner: opz
    actor: bob@example.com
  nightly:
    actor: bob@example.com
    environment: env-prod
consent:
  bob@example.com:
    env-prod: [settings:object:write]
    env-dev: [settings:objects:read]
  deployer@service:
    env-prod: [settings:objects:read]
  BOB@example.com:
    env-prod: []
  alice@example.com: {}
cases:
  - workflow: Nightly
    permission: settings:objects:read
    expect: deny
  - workflow: Nighty
    permission: settings:objects:read
    expect: deny
  - workflow: By group
    principal: bob@example.com
    environment: env-prod
    permission: settings:objects:read
    expect: deny
  - workflow: ~
    permission: settings:objects:read
    expect: deny
";
    assert_eq!(
        errors(source),
        [
            "14:12: unknown principal `pipeline automaton` — did you mean `Pipeline Automation`?",
            "15:18: unknown environment `env-prd` — did you mean `env-prod`?",
            "16:3: workflow `By group` has no `actor` — add `actor:` with the user or service user its tasks run as: a group cannot be an actor",
            "19:3: workflow `Nobody's` has no `actor` — add `actor:` (a user's email, or a service user's name or handle), or an `owner:` who is its actor",
            "22:12: owner `Pipeline Automation` names both the principal `Pipeline Automation` and the group `Pipeline Automation` — rename the group or the service user: an owner must name one of them",
            "26:5: workflow `Lost` has no `environment` — add `environment: env-prod`: the environment its tasks run in",
            "26:12: unknown owner `opz` — did you mean `ops`?",
            "28:3: workflow `nightly` is already defined as `Nightly` at line 12: names are matched without regard to case — rename or remove one of them",
            "33:16: unknown permission `settings:object:write` — did you mean `settings:objects:write`?",
            "34:5: unknown environment `env-dev` — the file defines `env-prod`",
            "35:3: `deployer@service` is a service user, and service users need no consent — remove it: a task that runs as a service user may do what the service user may do",
            "37:3: the consent of `BOB@example.com` is given twice (first at line 32) — emails are matched without regard to case; merge the two",
            "39:3: unknown principal `alice@example.com` — define it under `users:` (by email) or `service_users:` (by name)",
            "44:15: unknown workflow `Nighty` — did you mean `Nightly`?",
            "48:5: case 3 has both `workflow` and `principal` — remove `principal`: a task of a workflow runs as the workflow's actor, in the workflow's environment",
            "49:5: case 3 has both `workflow` and `environment` — remove `environment`: a task of a workflow runs as the workflow's actor, in the workflow's environment",
            "52:15: `workflow` needs a value",
        ]
    );
}

/// A small deterministic generator, so that the no-panic test needs no dependency.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }

    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next()).unwrap() % n.max(1)
    }
}

#[test]
fn no_input_makes_it_panic() {
    let seeds = [SPEC_EXAMPLE, BAD_REFERENCES, WORKFLOWS];
    // Every prefix of a valid and of an invalid file.
    for seed in seeds {
        for end in (0..seed.len()).filter(|&i| seed.is_char_boundary(i)) {
            let _ = run(&seed[..end]);
        }
    }
    // Random edits with YAML's special characters.
    let specials = [
        "- ",
        ": ",
        "[",
        "]",
        "{",
        "}",
        "\"",
        "'",
        "|",
        ">",
        "&a",
        "*a",
        "!",
        "#",
        "\n",
        "  ",
        "---\n",
        "?",
        ",",
        "\t",
        "é",
        "${bindParam:x}",
        "~",
    ];
    let mut rng = Lcg(7);
    for _ in 0..400 {
        let seed = seeds[rng.below(seeds.len())];
        let mut text = seed.to_owned();
        for _ in 0..1 + rng.below(4) {
            let mut at = rng.below(text.len());
            while !text.is_char_boundary(at) {
                at -= 1;
            }
            let special = specials[rng.below(specials.len())];
            if rng.below(2) == 0 {
                text.insert_str(at, special);
            } else {
                let mut end = (at + 1 + rng.below(8)).min(text.len());
                while !text.is_char_boundary(end) {
                    end -= 1;
                }
                text.replace_range(at..end, special);
            }
        }
        let _ = run(&text);
    }
    for hostile in [
        String::new(),
        "\u{feff}".to_owned(),
        "[".repeat(300),
        "{".repeat(300),
        format!("a: {}", "[".repeat(254)),
        "- ".repeat(20_000),
        format!("cases:\n{}", " ".repeat(200) + "x"),
        "\0\0\0".to_owned(),
        // As deep as the guard lets through: block nesting up to its column, then flow nesting up
        // to the parser's own limit.
        format!("a:\n {}{}", "- ".repeat(49), "[".repeat(250)),
        (0..=99)
            .map(|i| format!("{}k:\n", " ".repeat(i)))
            .collect::<String>()
            + &" ".repeat(100)
            + &"[".repeat(250),
    ] {
        let _ = run(&hostile);
    }
}

#[test]
fn a_parameter_that_would_add_a_wildcard_to_a_match_pattern_is_a_file_error() {
    let source = "
policies:
  Team Logs: |
    ALLOW storage:logs:read WHERE storage:bucket-name MATCH (\"${bindParam:team}_*\");
groups:
  ops:
    - policy: Team Logs
      parameters: { team: \"*\" }
users:
  alice@example.com: [ops]
cases:
  - principal: alice@example.com
    permission: storage:logs:read
    attributes: { storage:bucket-name: payments_app }
    expect: deny
";
    assert_eq!(
        errors(source),
        [
            "7:7: binding of policy `Team Logs` to group `ops`: parameter `team` fills a MATCH pattern of `storage:bucket-name`, where `*` and `?` are wildcards: its value `*` must not contain `*`, `?` or `\\`; write wildcards into the policy"
        ]
    );
}

#[test]
fn a_file_may_bind_legacy_policies_because_it_describes_existing_assignments() {
    let source = r#"
environments: [env-prod]
policies:
  No monitoring settings: |
    DENY environment:roles:manage-settings;
groups:
  legacy:
    - policy: Environment role - Access environment
      level: environment:env-prod
    - policy: settings writer
    - policy: No monitoring settings
users:
  alice@example.com: [legacy]
cases:
  - principal: alice@example.com
    permission: environment:roles:viewer
    environment: env-prod
    expect: allow
  - principal: alice@example.com
    permission: environment:roles:manage-settings
    environment: env-prod
    expect: deny
  - principal: alice@example.com
    permission: settings:objects:write
    environment: env-prod
    expect: allow
"#;
    for name in ["Environment role - Access environment", "Settings Writer"] {
        let policy = builtin().policy(name).unwrap();
        assert!(builtin().legacy(&policy.id()).is_some(), "{name} is legacy");
    }
    let report = run(source);
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert!(report.warnings.is_empty(), "{:?}", report.warnings);
    assert_eq!((report.passed(), report.failed()), (3, 0));
    // Decided by the statements of the bindings, legacy ones included.
    let flipped = run(&source.replace("expect: deny", "expect: allow"));
    let failed = flipped.cases.iter().find(|c| !c.passed).unwrap();
    let explanation = failed.explanation.as_ref().unwrap();
    assert_eq!(
        explanation.summary,
        "denied by `DENY environment:roles:manage-settings;` of policy `No monitoring settings`, \
         bound to group `legacy` at account level; a DENY wins over every ALLOW"
    );
}
