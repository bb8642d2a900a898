//! What `warden export`, `warden plan` and `warden apply` share: reading an account from a
//! server into a world ([`State`]), the steps that take it to a desired world ([`steps`]), in
//! dependency order, and making one step so through the API ([`State::make`]).
//!
//! What is not the account's own is left out of the world, and never changed: the global
//! policies and the default groups' own bindings (referred to by name), the administrators group
//! Warden creates at its first start (and memberships in it), each service user's own group, and
//! the caller (a plan never deletes the user applying it). Secrets (passwords, tokens, client
//! secrets) are not part of a world at all.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use warden_api::batch::{BatchBinding, BatchWrite};
use warden_api::bindings::{BindingInput, ParameterValue};
use warden_api::boundaries::BoundaryInput;
use warden_api::groups::GroupInput;
use warden_api::paging::{KeyPageQuery, NumberPageQuery};
use warden_api::policies::PolicyInput;
use warden_api::users::UserInput;
use warden_client::Level;
use warden_client::pending::{BindingFilter, EnvironmentInput, ServiceUserInput};
use warden_engine::Builtin;
use warden_engine::testfile::Pos;
use warden_engine::testfile::desired::{
    AuthzenSpec, BindingSpec, GroupSpec, LevelSpec, MemberSpec, NamedText, ParamSpec, WorldFile,
};

use crate::command::client::Client;
use crate::output::CliError;

/// The group Warden creates at its first start, holding every permission.
const ADMINISTRATORS_GROUP: &str = "Warden Administrators";

/// Where a world file names the group Warden keeps for itself, which no plan may change: each
/// as (line, column, message).
pub fn reserved_names(want: &WorldFile) -> Vec<(Pos, String)> {
    let reserved = fold(ADMINISTRATORS_GROUP);
    let mut out = Vec::new();
    for group in &want.groups {
        if fold(&group.name) == reserved {
            out.push((
                group.at,
                format!(
                    "group `{}` is Warden's own and not part of a world file",
                    group.name
                ),
            ));
        }
    }
    for member in want.users.iter().chain(&want.service_users) {
        if member.groups.iter().any(|g| fold(g) == reserved) {
            out.push((
                member.at,
                format!(
                    "`{}` is listed in group `{ADMINISTRATORS_GROUP}`, which is Warden's own and not part of a world file",
                    member.name
                ),
            ));
        }
    }
    out
}

/// Names are matched as the directory matches them: without regard to ASCII case.
fn fold(name: &str) -> String {
    name.to_ascii_lowercase()
}

/// An account as read from a server: its world and the ids behind the names.
pub struct State {
    pub account: String,
    pub world: WorldFile,
    /// Folded name → uuid.
    policies: BTreeMap<String, String>,
    globals: BTreeMap<String, String>,
    boundaries: BTreeMap<String, String>,
    groups: BTreeMap<String, String>,
    /// Folded email, or service-user name → uid.
    users: BTreeMap<String, String>,
    service_users: BTreeMap<String, String>,
    /// Per principal uid: the groups it keeps whatever the world says (the administrators group,
    /// a service user's own group).
    kept: BTreeMap<String, Vec<String>>,
    /// The caller's uid.
    caller: String,
    /// The default groups' own bindings (folded group, folded global policy → the policy's
    /// name): left out of worlds; what a file binds in their place gives way to them again.
    built_in: BTreeMap<(String, String), String>,
}

/// A progress line on standard error, so that standard output stays the result.
pub fn progress(line: &str) {
    #[expect(clippy::print_stderr, reason = "progress of a long command")]
    {
        eprintln!("{line}");
    }
}

impl State {
    /// Reads the account the token belongs to.
    pub fn read(client: &Client, builtin: &Builtin) -> Result<State, CliError> {
        let api = client.typed();
        let me = client.call(api.me())?.body;
        let account = client.account()?.to_owned();
        let level = Level::Account(account.clone());
        progress(&format!("reading account {account}…"));

        let mut world = WorldFile::default();
        let mut state = State {
            account: account.clone(),
            world: WorldFile::default(),
            policies: BTreeMap::new(),
            globals: BTreeMap::new(),
            boundaries: BTreeMap::new(),
            groups: BTreeMap::new(),
            users: BTreeMap::new(),
            service_users: BTreeMap::new(),
            kept: BTreeMap::new(),
            caller: me.uid,
            built_in: builtin
                .groups
                .iter()
                .flat_map(|group| {
                    group.policies.iter().map(|own| {
                        let name = builtin
                            .policy(own)
                            .map_or(own.as_str(), |p| p.name.as_str());
                        ((fold(&group.name), fold(name)), name.to_owned())
                    })
                })
                .collect(),
        };

        let environments = client.call(api.environments(&account))?.body;
        world.environments = environments.items.into_iter().map(|e| e.id).collect();

        let mut policy_names: BTreeMap<String, (String, bool)> = BTreeMap::new();
        for summary in client
            .call(api.policies(&Level::Global, None))?
            .body
            .policies
        {
            state
                .globals
                .insert(fold(&summary.name), summary.uuid.clone());
            policy_names.insert(summary.uuid, (summary.name, true));
        }
        for summary in client.call(api.policies(&level, None))?.body.policies {
            let policy = client.call(api.policy(&level, &summary.uuid))?.body;
            state
                .policies
                .insert(fold(&policy.name), policy.uuid.clone());
            policy_names.insert(policy.uuid.clone(), (policy.name.clone(), false));
            world.policies.push(NamedText {
                name: policy.name,
                text: policy.statement_query,
                at: Pos::START,
            });
        }

        let mut boundary_names = BTreeMap::new();
        let mut page = 1;
        loop {
            let query = NumberPageQuery {
                page: Some(page),
                size: Some(1000),
            };
            let answer = client.call(api.boundaries(&account, &query))?.body;
            let seen = answer.content.len();
            for boundary in answer.content {
                state
                    .boundaries
                    .insert(fold(&boundary.name), boundary.uuid.clone());
                boundary_names.insert(boundary.uuid, boundary.name.clone());
                world.boundaries.push(NamedText {
                    name: boundary.name,
                    text: boundary.boundary_query,
                    at: Pos::START,
                });
            }
            if seen == 0 || page * 1000 >= answer.total_count {
                break;
            }
            page += 1;
        }

        // Service users first: their own groups are not the account's groups.
        let mut service_users = Vec::new();
        let mut next: Option<String> = None;
        loop {
            let query = KeyPageQuery {
                page_size: Some(1000),
                next_page_key: next.clone(),
                page: None,
            };
            let answer = client.call(api.service_users(&account, &query))?.body;
            service_users.extend(answer.results);
            match answer.next_page_key {
                Some(key) if Some(&key) != next.as_ref() => next = Some(key),
                _ => break,
            }
        }
        // A world file names service users by name: two with one name would be ambiguous.
        let mut names = BTreeSet::new();
        for service_user in &service_users {
            if !names.insert(fold(&service_user.name)) {
                return Err(CliError::new(
                    "ambiguous",
                    format!(
                        "two service users are named `{}`, and a world file names service users by name",
                        service_user.name
                    ),
                )
                .with_help("rename one of them with `warden service-user update`")
                .with_exit(1));
            }
        }
        let own_groups: BTreeSet<String> = service_users
            .iter()
            .filter_map(|s| s.group_uuid.clone())
            .collect();

        let defaults: BTreeMap<String, &warden_engine::builtin::DefaultGroup> =
            builtin.groups.iter().map(|g| (fold(&g.name), g)).collect();
        let mut group_names = BTreeMap::new();
        let mut reserved = own_groups.clone();
        let mut specs: BTreeMap<String, GroupSpec> = BTreeMap::new();
        for group in client.call(api.groups(&account))?.body.items {
            if own_groups.contains(&group.uuid) {
                continue;
            }
            if fold(&group.name) == fold(ADMINISTRATORS_GROUP) {
                reserved.insert(group.uuid.clone());
                continue;
            }
            state.groups.insert(fold(&group.name), group.uuid.clone());
            group_names.insert(group.uuid.clone(), group.name.clone());
            specs.insert(
                group.uuid,
                GroupSpec {
                    default: defaults.contains_key(&fold(&group.name)),
                    name: group.name,
                    bindings: Vec::new(),
                    at: Pos::START,
                },
            );
        }

        let mut levels = vec![(LevelSpec::Account, level.clone())];
        for environment in &world.environments {
            levels.push((
                LevelSpec::Environment(environment.clone()),
                Level::Environment(environment.clone()),
            ));
        }
        // Policies defined in an environment have no place in a world file (its policies are
        // the account's): their bindings are left out, and so never changed.
        let mut environment_policies = BTreeSet::new();
        for (_, api_level) in levels.iter().skip(1) {
            for summary in client.call(api.policies(api_level, None))?.body.policies {
                if !policy_names.contains_key(&summary.uuid) {
                    environment_policies.insert(summary.uuid);
                }
            }
        }
        let mut skipped = 0;
        for (spec_level, api_level) in &levels {
            let bindings = client.call(api.bindings(api_level))?.body;
            for binding in bindings.policy_bindings {
                if environment_policies.contains(&binding.policy_uuid) {
                    skipped += binding.groups.len();
                    continue;
                }
                let Some((policy, global)) = policy_names.get(&binding.policy_uuid) else {
                    return Err(CliError::new(
                        "export",
                        format!(
                            "a binding at {} names policy `{}`, which the server does not list",
                            spec_level.written(),
                            binding.policy_uuid
                        ),
                    )
                    .with_help(
                        "retry; if it persists, check the policy with `warden policy get`",
                    ));
                };
                let boundaries: Vec<String> = binding
                    .boundaries
                    .iter()
                    .map(|b| boundary_names.get(b).cloned().unwrap_or_else(|| b.clone()))
                    .collect();
                for group in &binding.groups {
                    let Some(spec) = specs.get_mut(group) else {
                        continue;
                    };
                    spec.bindings.push(BindingSpec {
                        policy: policy.clone(),
                        global: *global,
                        level: spec_level.clone(),
                        parameters: binding
                            .parameters
                            .iter()
                            .map(|(k, v)| (k.clone(), param_spec(v)))
                            .collect(),
                        boundaries: boundaries.clone(),
                        justification: binding.metadata.get("justification").cloned(),
                        at: Pos::START,
                    });
                }
            }
        }
        if skipped > 0 {
            progress(&format!(
                "warning: {} of environment-level policies left out (a world file binds account and global policies); they are not changed",
                if skipped == 1 {
                    "1 binding".to_owned()
                } else {
                    format!("{skipped} bindings")
                }
            ));
        }
        // A default group's own bindings are built in: only what was added to it is the
        // account's.
        for spec in specs.values_mut() {
            if let Some(default) = defaults.get(&fold(&spec.name)) {
                for own in &default.policies {
                    let own = builtin
                        .policy(own)
                        .map_or(own.as_str(), |p| p.name.as_str());
                    if let Some(index) = spec.bindings.iter().position(|b| {
                        b.global
                            && fold(&b.policy) == fold(own)
                            && b.level == LevelSpec::Account
                            && b.parameters.is_empty()
                            && b.boundaries.is_empty()
                    }) {
                        spec.bindings.remove(index);
                    }
                }
            }
        }
        world.groups = specs
            .into_values()
            .filter(|g| !g.default || !g.bindings.is_empty())
            .collect();

        let shown_groups =
            |uid: &str, groups: &[String], kept: &mut BTreeMap<String, Vec<String>>| {
                let mut names = Vec::new();
                for group in groups {
                    match group_names.get(group) {
                        Some(name) => names.push(name.clone()),
                        None if reserved.contains(group) => {
                            kept.entry(uid.to_owned()).or_default().push(group.clone());
                        }
                        None => {}
                    }
                }
                names
            };
        for user in client.call(api.users(&account, Some(false)))?.body.items {
            if user.service_user {
                continue;
            }
            let detail = client.call(api.user(&account, &user.uid))?.body;
            let groups: Vec<String> = detail.groups.iter().map(|g| g.uuid.clone()).collect();
            let names = shown_groups(&user.uid, &groups, &mut state.kept);
            state.users.insert(fold(&user.email), user.uid.clone());
            world.users.push(MemberSpec {
                name: user.email,
                groups: names,
                at: Pos::START,
            });
        }
        for service_user in &service_users {
            let detail = client.call(api.user(&account, &service_user.uid))?.body;
            let groups: Vec<String> = detail.groups.iter().map(|g| g.uuid.clone()).collect();
            let names = shown_groups(&service_user.uid, &groups, &mut state.kept);
            state
                .service_users
                .insert(fold(&service_user.name), service_user.uid.clone());
            world.service_users.push(MemberSpec {
                name: service_user.name.clone(),
                groups: names,
                at: Pos::START,
            });
        }
        // The AuthZEN mapping, when the caller may read it (`iam:catalogue:read`) and it says
        // anything.
        match client.call(api.authzen_mapping(&account)) {
            Ok(answer) => {
                let spec = AuthzenSpec {
                    actions: answer.body.actions,
                    resource_properties: answer.body.resource_properties,
                    subject_properties: answer.body.subject_properties,
                    context_properties: answer.body.context_properties,
                };
                world.authzen = (!spec.is_empty()).then_some(spec);
            }
            Err(_) => progress("warning: the AuthZEN mapping could not be read; it is left out"),
        }
        warden_engine::testfile::desired::sort(&mut world);
        state.world = world;
        Ok(state)
    }

    /// Makes one step so; the ids of what it creates are remembered for the steps after it.
    pub fn make(&mut self, client: &Client, step: &Step) -> Result<(), CliError> {
        let api = client.typed();
        let account = self.account.clone();
        let level = Level::Account(account.clone());
        match step {
            Step::SetAuthzen { mapping, .. } => {
                let body = warden_api::authzen::Mapping {
                    actions: mapping.actions.clone(),
                    resource_properties: mapping.resource_properties.clone(),
                    subject_properties: mapping.subject_properties.clone(),
                    context_properties: mapping.context_properties.clone(),
                };
                client.call(api.put_authzen_mapping(&account, &body))?;
            }
            Step::CreateEnvironment { id } => {
                let input = EnvironmentInput {
                    id: id.clone(),
                    name: None,
                };
                client.call(api.create_environment(&account, &input))?;
            }
            Step::PutBoundary { name, text, .. } => {
                let input = BoundaryInput {
                    name: name.clone(),
                    boundary_query: text.clone(),
                    metadata: BTreeMap::new(),
                };
                match self.boundaries.get(&fold(name)) {
                    Some(uuid) => {
                        client.call(api.put_boundary(&account, uuid, &input))?;
                    }
                    None => {
                        let created = client.call(api.create_boundary(&account, &input))?.body;
                        self.boundaries.insert(fold(name), created.uuid);
                    }
                }
            }
            Step::PutPolicy { name, text, .. } => {
                let input = PolicyInput {
                    name: name.clone(),
                    description: String::new(),
                    tags: Vec::new(),
                    statement_query: text.clone(),
                    category: None,
                };
                match self.policies.get(&fold(name)) {
                    Some(uuid) => {
                        client.call(api.put_policy(&level, uuid, &input))?;
                    }
                    None => {
                        let created = client.call(api.create_policy(&level, &input))?.body;
                        self.policies.insert(fold(name), created.uuid);
                    }
                }
            }
            Step::CreateGroup { name } => {
                let input = GroupInput {
                    name: name.clone(),
                    description: String::new(),
                    federated_attribute_values: Vec::new(),
                };
                let created = client.call(api.create_groups(&account, &[input]))?.body;
                for group in created {
                    self.groups.insert(fold(&group.name), group.uuid);
                }
            }
            Step::Bind {
                group,
                level: at,
                policy,
                global,
                replace,
                bindings,
            } => {
                let group = self.id("group", &self.groups, group)?;
                let policy = if *global {
                    self.id("global policy", &self.globals, policy)?
                } else {
                    self.id("policy", &self.policies, policy)?
                };
                let at = self.level(at);
                for (index, binding) in bindings.iter().enumerate() {
                    let mut boundaries = Vec::new();
                    for name in &binding.boundaries {
                        boundaries.push(self.id("boundary", &self.boundaries, name)?);
                    }
                    let input = BindingInput {
                        parameters: binding
                            .parameters
                            .iter()
                            .map(|(k, v)| (k.clone(), parameter_value(v)))
                            .collect(),
                        metadata: binding
                            .justification
                            .iter()
                            .map(|j| ("justification".to_owned(), j.clone()))
                            .collect(),
                        boundaries,
                    };
                    if *replace && index == 0 {
                        // The old bindings give way to the first new one in one write, so that
                        // a DENY being changed is never absent in between.
                        let filter = BindingFilter {
                            force_multiple: true,
                            ..BindingFilter::default()
                        };
                        client.call(api.rebind(&at, &policy, &group, &filter, &input))?;
                    } else {
                        client.call(api.bind(&at, &policy, &group, &input))?;
                    }
                }
            }
            Step::CreateUser { email, groups } => {
                let input = UserInput {
                    email: email.clone(),
                    name: String::new(),
                    surname: String::new(),
                    uid: String::new(),
                };
                let created = client.call(api.create_user(&account, &input))?.body;
                self.users.insert(fold(email), created.uid.clone());
                if !groups.is_empty() {
                    self.set_groups(client, &created.uid, groups)?;
                }
            }
            Step::CreateServiceUser { name, groups } => {
                let input = ServiceUserInput {
                    name: name.clone(),
                    ..ServiceUserInput::default()
                };
                let created = client.call(api.create_service_user(&account, &input))?.body;
                if let Some(group) = created.group_uuid {
                    self.kept.insert(created.uid.clone(), vec![group]);
                }
                self.service_users.insert(fold(name), created.uid.clone());
                if !groups.is_empty() {
                    self.set_groups(client, &created.uid, groups)?;
                }
            }
            Step::SetGroups {
                service_user,
                name,
                groups,
                ..
            } => {
                let uid = if *service_user {
                    self.id("service user", &self.service_users, name)?
                } else {
                    self.id("user", &self.users, name)?
                };
                self.set_groups(client, &uid, groups)?;
            }
            Step::DeleteUser { service_user, name } => {
                if *service_user {
                    let uid = self.id("service user", &self.service_users, name)?;
                    client.call(api.delete_service_user(&account, &uid))?;
                } else {
                    let uid = self.id("user", &self.users, name)?;
                    client.call(api.delete_user(&account, &uid))?;
                }
            }
            Step::Unbind {
                group,
                level: at,
                policy,
                global,
            } => {
                let group = self.id("group", &self.groups, group)?;
                let policy = if *global {
                    self.id("global policy", &self.globals, policy)?
                } else {
                    self.id("policy", &self.policies, policy)?
                };
                let filter = BindingFilter {
                    force_multiple: true,
                    ..BindingFilter::default()
                };
                client.call(api.unbind(&self.level(at), &policy, Some(&group), &filter))?;
            }
            Step::DeleteGroup { name } => {
                let uuid = self.id("group", &self.groups, name)?;
                client.call(api.delete_group(&account, &uuid))?;
            }
            Step::DeletePolicy { name } => {
                let uuid = self.id("policy", &self.policies, name)?;
                client.call(api.delete_policy(&level, &uuid, false))?;
            }
            Step::DeleteBoundary { name } => {
                let uuid = self.id("boundary", &self.boundaries, name)?;
                client.call(api.delete_boundary(&account, &uuid))?;
            }
        }
        Ok(())
    }

    /// The step as a write of a batch (`apply --atomic`), naming what it touches by name as
    /// the batch resolves it against the state its earlier writes left.
    pub fn batch_write(&self, step: &Step) -> BatchWrite {
        let environment = |level: &LevelSpec| match level {
            LevelSpec::Account => None,
            LevelSpec::Environment(id) => Some(id.clone()),
        };
        match step.clone() {
            Step::SetAuthzen { mapping, .. } => BatchWrite::SetAuthzen {
                mapping: warden_api::authzen::Mapping {
                    actions: mapping.actions,
                    resource_properties: mapping.resource_properties,
                    subject_properties: mapping.subject_properties,
                    context_properties: mapping.context_properties,
                },
            },
            Step::CreateEnvironment { id } => BatchWrite::CreateEnvironment { id, name: None },
            Step::PutBoundary { name, text, .. } => BatchWrite::PutBoundary {
                name,
                boundary_query: text,
            },
            Step::PutPolicy { name, text, .. } => BatchWrite::PutPolicy {
                name,
                statement_query: text,
                description: String::new(),
            },
            Step::CreateGroup { name } => BatchWrite::CreateGroup {
                name,
                description: String::new(),
            },
            Step::Bind {
                group,
                level,
                policy,
                global,
                replace,
                bindings,
            } => BatchWrite::Bind {
                group,
                policy,
                global,
                environment: environment(&level),
                replace,
                bindings: bindings
                    .into_iter()
                    .map(|b| BatchBinding {
                        parameters: b
                            .parameters
                            .iter()
                            .map(|(k, v)| (k.clone(), parameter_value(v)))
                            .collect(),
                        boundaries: b.boundaries,
                        metadata: b
                            .justification
                            .map(|j| ("justification".to_owned(), j))
                            .into_iter()
                            .collect(),
                    })
                    .collect(),
            },
            Step::CreateUser { email, groups } => BatchWrite::CreateUser { email, groups },
            Step::CreateServiceUser { name, groups } => BatchWrite::CreateServiceUser {
                name,
                groups,
                justification: None,
            },
            Step::SetGroups {
                service_user,
                name,
                groups,
                ..
            } => {
                // Memberships a world file cannot name (the administrators group) are kept, by
                // uuid.
                let table = if service_user {
                    &self.service_users
                } else {
                    &self.users
                };
                let mut keys: Vec<String> = table
                    .get(&fold(&name))
                    .and_then(|uid| self.kept.get(uid))
                    .cloned()
                    .unwrap_or_default();
                keys.extend(groups);
                if service_user {
                    BatchWrite::SetServiceUserGroups {
                        name,
                        groups: keys,
                        justification: None,
                    }
                } else {
                    BatchWrite::SetUserGroups {
                        email: name,
                        groups: keys,
                        justification: None,
                    }
                }
            }
            Step::DeleteUser {
                service_user: true,
                name,
            } => BatchWrite::DeleteServiceUser { name },
            Step::DeleteUser { name, .. } => BatchWrite::DeleteUser { email: name },
            Step::Unbind {
                group,
                level,
                policy,
                global,
            } => BatchWrite::Unbind {
                group,
                policy,
                global,
                environment: environment(&level),
            },
            Step::DeleteGroup { name } => BatchWrite::DeleteGroup { name },
            Step::DeletePolicy { name } => BatchWrite::DeletePolicy { name },
            Step::DeleteBoundary { name } => BatchWrite::DeleteBoundary { name },
        }
    }

    /// A principal's groups become `groups`, besides those it keeps.
    fn set_groups(&self, client: &Client, uid: &str, groups: &[String]) -> Result<(), CliError> {
        let mut ids = self.kept.get(uid).cloned().unwrap_or_default();
        for group in groups {
            ids.push(self.id("group", &self.groups, group)?);
        }
        client.call(client.typed().set_user_groups(&self.account, uid, &ids))?;
        Ok(())
    }

    fn level(&self, level: &LevelSpec) -> Level {
        match level {
            LevelSpec::Account => Level::Account(self.account.clone()),
            LevelSpec::Environment(id) => Level::Environment(id.clone()),
        }
    }

    fn id(
        &self,
        kind: &str,
        table: &BTreeMap<String, String>,
        name: &str,
    ) -> Result<String, CliError> {
        table.get(&fold(name)).cloned().ok_or_else(|| {
            CliError::new(
                "plan",
                format!("{kind} `{name}` is not on the server (an earlier step did not create it)"),
            )
            .with_help("run `warden plan` again to see what is left to do")
        })
    }
}

fn param_spec(value: &ParameterValue) -> ParamSpec {
    match value {
        ParameterValue::One(one) => ParamSpec::One(one.clone()),
        ParameterValue::Many(many) => ParamSpec::Many(many.clone()),
    }
}

fn parameter_value(value: &ParamSpec) -> ParameterValue {
    match value {
        ParamSpec::One(one) => ParameterValue::One(one.clone()),
        ParamSpec::Many(many) => ParameterValue::Many(many.clone()),
    }
}

/// The bindings of a (group, level, policy), as a world file writes them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BindingValues {
    pub parameters: BTreeMap<String, ParamSpec>,
    pub boundaries: Vec<String>,
    /// Given with the binding when it is made; not part of what makes two bindings the same.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub justification: Option<String>,
}

/// One write, by names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(
    rename_all = "camelCase",
    rename_all_fields = "camelCase",
    tag = "step"
)]
pub enum Step {
    /// The account's AuthZEN mapping becomes this one (empty: none).
    SetAuthzen {
        mapping: AuthzenSpec,
        update: bool,
    },
    CreateEnvironment {
        id: String,
    },
    /// Create (`update: false`) or change the text of a boundary.
    PutBoundary {
        name: String,
        text: String,
        update: bool,
    },
    PutPolicy {
        name: String,
        text: String,
        update: bool,
    },
    CreateGroup {
        name: String,
    },
    /// The bindings of a policy to a group at a level become `bindings` (`replace`: the ones
    /// there are removed first).
    Bind {
        group: String,
        level: LevelSpec,
        policy: String,
        global: bool,
        replace: bool,
        bindings: Vec<BindingValues>,
    },
    /// A user, then its groups (when it has any).
    CreateUser {
        email: String,
        groups: Vec<String>,
    },
    CreateServiceUser {
        name: String,
        groups: Vec<String>,
    },
    /// A user's (or service user's) groups become `groups`.
    SetGroups {
        service_user: bool,
        name: String,
        groups: Vec<String>,
        before: Vec<String>,
    },
    DeleteUser {
        service_user: bool,
        name: String,
    },
    Unbind {
        group: String,
        level: LevelSpec,
        policy: String,
        global: bool,
    },
    DeleteGroup {
        name: String,
    },
    DeletePolicy {
        name: String,
    },
    DeleteBoundary {
        name: String,
    },
}

impl Step {
    /// `create`, `update` or `delete`.
    pub fn action(&self) -> &'static str {
        match self {
            Step::CreateEnvironment { .. }
            | Step::CreateGroup { .. }
            | Step::CreateUser { .. }
            | Step::CreateServiceUser { .. } => "create",
            Step::SetAuthzen { mapping, .. } if mapping.is_empty() => "delete",
            Step::PutBoundary { update, .. }
            | Step::PutPolicy { update, .. }
            | Step::SetAuthzen { update, .. } => {
                if *update {
                    "update"
                } else {
                    "create"
                }
            }
            Step::Bind { replace, .. } => {
                if *replace {
                    "update"
                } else {
                    "create"
                }
            }
            Step::SetGroups { .. } => "update",
            Step::DeleteUser { .. }
            | Step::Unbind { .. }
            | Step::DeleteGroup { .. }
            | Step::DeletePolicy { .. }
            | Step::DeleteBoundary { .. } => "delete",
        }
    }

    /// One line: `+ policy `Team Logs``, `~ user `a@b`: groups [x] → [y]`, `- group `old``.
    pub fn describe(&self) -> String {
        let sign = match self.action() {
            "create" => "+",
            "update" => "~",
            _ => "-",
        };
        let what = match self {
            Step::SetAuthzen { mapping, .. } => {
                let counts: Vec<String> = mapping
                    .sections()
                    .iter()
                    .filter(|(_, map)| !map.is_empty())
                    .map(|(section, map)| format!("{} {section}", map.len()))
                    .collect();
                if counts.is_empty() {
                    "AuthZEN mapping".to_owned()
                } else {
                    format!("AuthZEN mapping ({})", counts.join(", "))
                }
            }
            Step::CreateEnvironment { id } => format!("environment `{id}`"),
            Step::PutBoundary { name, .. } => format!("boundary `{name}`"),
            Step::PutPolicy { name, .. } => format!("policy `{name}`"),
            Step::CreateGroup { name } => format!("group `{name}`"),
            Step::Bind {
                group,
                level,
                policy,
                bindings,
                ..
            } => {
                let shown: Vec<String> = bindings.iter().map(binding_text).collect();
                format!(
                    "binding of policy `{policy}` to group `{group}` at {}{}",
                    level.written(),
                    if shown.iter().all(String::is_empty) {
                        String::new()
                    } else {
                        format!(" ({})", shown.join("; "))
                    }
                )
            }
            Step::CreateUser { email, groups } => {
                format!("user `{email}` in [{}]", groups.join(", "))
            }
            Step::CreateServiceUser { name, groups } => {
                format!("service user `{name}` in [{}]", groups.join(", "))
            }
            Step::SetGroups {
                service_user,
                name,
                groups,
                before,
            } => format!(
                "groups of {} `{name}`: [{}] → [{}]",
                if *service_user {
                    "service user"
                } else {
                    "user"
                },
                before.join(", "),
                groups.join(", ")
            ),
            Step::DeleteUser { service_user, name } => format!(
                "{} `{name}`",
                if *service_user {
                    "service user"
                } else {
                    "user"
                }
            ),
            Step::Unbind {
                group,
                level,
                policy,
                ..
            } => format!(
                "binding of policy `{policy}` to group `{group}` at {}",
                level.written()
            ),
            Step::DeleteGroup { name } => format!("group `{name}`"),
            Step::DeletePolicy { name } => format!("policy `{name}`"),
            Step::DeleteBoundary { name } => format!("boundary `{name}`"),
        };
        format!("{sign} {what}")
    }
}

fn binding_text(binding: &BindingValues) -> String {
    let mut parts = Vec::new();
    for (name, value) in &binding.parameters {
        let value = match value {
            ParamSpec::One(one) => one.clone(),
            ParamSpec::Many(many) => format!("[{}]", many.join(", ")),
        };
        parts.push(format!("{name}={value}"));
    }
    if !binding.boundaries.is_empty() {
        parts.push(format!("boundaries [{}]", binding.boundaries.join(", ")));
    }
    parts.join(", ")
}

/// (group, level, folded policy) → (policy as written, global, its bindings).
type Triples = BTreeMap<(String, LevelSpec, String), (String, bool, Vec<BindingValues>)>;

fn triples(world: &WorldFile) -> Triples {
    let mut out: Triples = BTreeMap::new();
    for group in &world.groups {
        for binding in &group.bindings {
            let entry = out
                .entry((
                    fold(&group.name),
                    binding.level.clone(),
                    fold(&binding.policy),
                ))
                .or_insert_with(|| (binding.policy.clone(), binding.global, Vec::new()));
            entry.2.push(BindingValues {
                parameters: binding.parameters.clone(),
                boundaries: binding.boundaries.clone(),
                justification: binding.justification.clone(),
            });
        }
    }
    for (_, _, bindings) in out.values_mut() {
        bindings.sort_by_key(BindingValues::key);
    }
    out
}

impl BindingValues {
    /// What makes two bindings the same: boundary names are matched without regard to case.
    fn key(&self) -> (BTreeMap<String, ParamSpec>, Vec<String>) {
        (
            self.parameters.clone(),
            self.boundaries.iter().map(|b| fold(b)).collect(),
        )
    }
}

fn same_bindings(a: &[BindingValues], b: &[BindingValues]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.key() == y.key())
}

/// The steps that take `have` to `want`, in dependency order: environments, boundaries,
/// policies, groups, bindings, users, service users; then, with `prune`, the deletions in the
/// reverse order. Without `prune` nothing is deleted: what the file does not name stays.
pub fn steps(state: &State, want: &WorldFile, prune: bool) -> Vec<Step> {
    let have = &state.world;
    let mut out = Vec::new();
    // The AuthZEN mapping first: the server checks it against the catalogue, so a wrong one is
    // refused before anything else is written. Without `authzen:` the mapping is left alone
    // (with `prune`, emptied).
    let empty = AuthzenSpec::default();
    match (&want.authzen, &have.authzen) {
        (Some(wanted), had) if had.as_ref().unwrap_or(&empty) != wanted => {
            out.push(Step::SetAuthzen {
                mapping: wanted.clone(),
                update: had.is_some(),
            })
        }
        (None, Some(_)) if prune => out.push(Step::SetAuthzen {
            mapping: AuthzenSpec::default(),
            update: true,
        }),
        _ => {}
    }
    let have_environments: BTreeSet<&String> = have.environments.iter().collect();
    for id in &want.environments {
        if !have_environments.contains(id) {
            out.push(Step::CreateEnvironment { id: id.clone() });
        }
    }
    let texts = |list: &[NamedText]| -> BTreeMap<String, String> {
        list.iter()
            .map(|t| (fold(&t.name), t.text.clone()))
            .collect()
    };
    let have_boundaries = texts(&have.boundaries);
    for boundary in &want.boundaries {
        match have_boundaries.get(&fold(&boundary.name)) {
            Some(text) if *text == boundary.text => {}
            found => out.push(Step::PutBoundary {
                name: boundary.name.clone(),
                text: boundary.text.clone(),
                update: found.is_some(),
            }),
        }
    }
    let have_policies = texts(&have.policies);
    for policy in &want.policies {
        match have_policies.get(&fold(&policy.name)) {
            Some(text) if *text == policy.text => {}
            found => out.push(Step::PutPolicy {
                name: policy.name.clone(),
                text: policy.text.clone(),
                update: found.is_some(),
            }),
        }
    }
    for group in &want.groups {
        if !group.default && !state.groups.contains_key(&fold(&group.name)) {
            out.push(Step::CreateGroup {
                name: group.name.clone(),
            });
        }
    }
    let group_names: BTreeMap<String, String> = want
        .groups
        .iter()
        .map(|g| (fold(&g.name), g.name.clone()))
        .collect();
    let have_triples = triples(have);
    let want_triples = triples(want);
    let plain = || BindingValues {
        parameters: BTreeMap::new(),
        boundaries: Vec::new(),
        justification: None,
    };
    for (key, (policy, global, bindings)) in &want_triples {
        let before = have_triples.get(key);
        if before.is_some_and(|(_, _, b)| same_bindings(b, bindings)) {
            continue;
        }
        out.push(Step::Bind {
            group: group_names
                .get(&key.0)
                .cloned()
                .unwrap_or_else(|| key.0.clone()),
            level: key.1.clone(),
            policy: policy.clone(),
            global: *global,
            replace: before.is_some(),
            bindings: bindings.clone(),
        });
    }
    for (service_user, want_list, have_list, ids) in [
        (false, &want.users, &have.users, &state.users),
        (
            true,
            &want.service_users,
            &have.service_users,
            &state.service_users,
        ),
    ] {
        let before: BTreeMap<String, &MemberSpec> =
            have_list.iter().map(|m| (fold(&m.name), m)).collect();
        for member in want_list {
            let existing = before.get(&fold(&member.name));
            if !ids.contains_key(&fold(&member.name)) {
                out.push(if service_user {
                    Step::CreateServiceUser {
                        name: member.name.clone(),
                        groups: member.groups.clone(),
                    }
                } else {
                    Step::CreateUser {
                        email: member.name.clone(),
                        groups: member.groups.clone(),
                    }
                });
                continue;
            }
            let had: Vec<String> = existing.map(|m| m.groups.clone()).unwrap_or_default();
            let same = {
                let a: BTreeSet<String> = had.iter().map(|g| fold(g)).collect();
                let b: BTreeSet<String> = member.groups.iter().map(|g| fold(g)).collect();
                a == b
            };
            if !same {
                out.push(Step::SetGroups {
                    service_user,
                    name: member.name.clone(),
                    groups: member.groups.clone(),
                    before: had,
                });
            }
        }
    }
    if !prune {
        return out;
    }
    for (service_user, want_list, have_list) in [
        (false, &want.users, &have.users),
        (true, &want.service_users, &have.service_users),
    ] {
        let wanted: BTreeSet<String> = want_list.iter().map(|m| fold(&m.name)).collect();
        for member in have_list {
            let uid = if service_user {
                state.service_users.get(&fold(&member.name))
            } else {
                state.users.get(&fold(&member.name))
            };
            // Never the caller: an apply that deleted its own author could not finish.
            if wanted.contains(&fold(&member.name)) || uid == Some(&state.caller) {
                continue;
            }
            out.push(Step::DeleteUser {
                service_user,
                name: member.name.clone(),
            });
        }
    }
    let wanted_groups: BTreeSet<String> = want
        .groups
        .iter()
        .filter(|g| !g.default)
        .map(|g| fold(&g.name))
        .collect();
    let have_group_names: BTreeMap<String, &GroupSpec> =
        have.groups.iter().map(|g| (fold(&g.name), g)).collect();
    for (key, (policy, global, had)) in &have_triples {
        // A group that goes takes its bindings with it.
        let group = have_group_names.get(&key.0);
        let goes = group.is_some_and(|g| !g.default && !wanted_groups.contains(&key.0));
        if want_triples.contains_key(key) || goes {
            continue;
        }
        // A binding the file gave a default group's own policy took the place of the group's
        // own binding (bindings are one per policy, group and parameters): dropping it puts the
        // group's own binding back, in the same write, rather than leaving the group without.
        if let Some(name) = state.built_in.get(&(key.0.clone(), key.2.clone()))
            && key.1 == LevelSpec::Account
        {
            let own = vec![plain()];
            if !same_bindings(had, &own) {
                out.push(Step::Bind {
                    group: group.map_or_else(|| key.0.clone(), |g| g.name.clone()),
                    level: key.1.clone(),
                    policy: name.clone(),
                    global: true,
                    replace: true,
                    bindings: own,
                });
            }
            continue;
        }
        out.push(Step::Unbind {
            group: group.map_or_else(|| key.0.clone(), |g| g.name.clone()),
            level: key.1.clone(),
            policy: policy.clone(),
            global: *global,
        });
    }
    for group in &have.groups {
        if !group.default && !wanted_groups.contains(&fold(&group.name)) {
            out.push(Step::DeleteGroup {
                name: group.name.clone(),
            });
        }
    }
    let wanted_policies: BTreeSet<String> = want.policies.iter().map(|p| fold(&p.name)).collect();
    for policy in &have.policies {
        if !wanted_policies.contains(&fold(&policy.name)) {
            out.push(Step::DeletePolicy {
                name: policy.name.clone(),
            });
        }
    }
    let wanted_boundaries: BTreeSet<String> =
        want.boundaries.iter().map(|b| fold(&b.name)).collect();
    for boundary in &have.boundaries {
        if !wanted_boundaries.contains(&fold(&boundary.name)) {
            out.push(Step::DeleteBoundary {
                name: boundary.name.clone(),
            });
        }
    }
    out
}

/// The world `have` becomes once `steps` are made: what the impact preview compares with.
pub fn simulate(have: &WorldFile, steps: &[Step]) -> WorldFile {
    let mut world = have.clone();
    let same = |a: &str, b: &str| fold(a) == fold(b);
    for step in steps {
        match step {
            Step::CreateEnvironment { id } => world.environments.push(id.clone()),
            Step::PutBoundary { name, text, .. } | Step::PutPolicy { name, text, .. } => {
                let list = if matches!(step, Step::PutBoundary { .. }) {
                    &mut world.boundaries
                } else {
                    &mut world.policies
                };
                list.retain(|t| !same(&t.name, name));
                list.push(NamedText {
                    name: name.clone(),
                    text: text.clone(),
                    at: Pos::START,
                });
            }
            Step::CreateGroup { name } => world.groups.push(GroupSpec {
                name: name.clone(),
                default: false,
                bindings: Vec::new(),
                at: Pos::START,
            }),
            Step::Bind {
                group,
                level,
                policy,
                global,
                bindings,
                ..
            } => {
                if !world.groups.iter().any(|g| same(&g.name, group)) {
                    // A default group gets its first added binding.
                    world.groups.push(GroupSpec {
                        name: group.clone(),
                        default: true,
                        bindings: Vec::new(),
                        at: Pos::START,
                    });
                }
                for spec in world.groups.iter_mut().filter(|g| same(&g.name, group)) {
                    spec.bindings
                        .retain(|b| !(b.level == *level && same(&b.policy, policy)));
                    for binding in bindings {
                        spec.bindings.push(BindingSpec {
                            policy: policy.clone(),
                            global: *global,
                            level: level.clone(),
                            parameters: binding.parameters.clone(),
                            boundaries: binding.boundaries.clone(),
                            justification: binding.justification.clone(),
                            at: Pos::START,
                        });
                    }
                }
            }
            Step::CreateUser {
                email: name,
                groups,
            }
            | Step::CreateServiceUser { name, groups } => {
                let list = if matches!(step, Step::CreateUser { .. }) {
                    &mut world.users
                } else {
                    &mut world.service_users
                };
                list.push(MemberSpec {
                    name: name.clone(),
                    groups: groups.clone(),
                    at: Pos::START,
                });
            }
            Step::SetGroups {
                service_user,
                name,
                groups,
                ..
            } => {
                let list = if *service_user {
                    &mut world.service_users
                } else {
                    &mut world.users
                };
                for member in list.iter_mut().filter(|m| same(&m.name, name)) {
                    member.groups.clone_from(groups);
                }
            }
            Step::DeleteUser { service_user, name } => {
                let list = if *service_user {
                    &mut world.service_users
                } else {
                    &mut world.users
                };
                list.retain(|m| !same(&m.name, name));
            }
            Step::Unbind {
                group,
                level,
                policy,
                ..
            } => {
                for spec in world.groups.iter_mut().filter(|g| same(&g.name, group)) {
                    spec.bindings
                        .retain(|b| !(b.level == *level && same(&b.policy, policy)));
                }
            }
            Step::DeleteGroup { name } => {
                world.groups.retain(|g| !same(&g.name, name));
                for member in world.users.iter_mut().chain(world.service_users.iter_mut()) {
                    member.groups.retain(|g| !same(g, name));
                }
            }
            Step::DeletePolicy { name } => world.policies.retain(|p| !same(&p.name, name)),
            Step::DeleteBoundary { name } => world.boundaries.retain(|b| !same(&b.name, name)),
            Step::SetAuthzen { mapping, .. } => {
                world.authzen = (!mapping.is_empty()).then(|| mapping.clone());
            }
        }
    }
    world
}
