//! The directory of one account: environments, users and service users, groups, memberships,
//! policies, boundaries and bindings — the source model that snapshots are compiled from.
//!
//! Every change returns the groups whose compiled grants it invalidates, so that a snapshot can be
//! rebuilt incrementally. The directory checks references (a binding names an existing policy,
//! group and boundaries, at a level where the policy may be bound, with exactly the parameters the
//! policy references); the HTTP layer checks permissions and input shapes before calling it.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::Arc;

use serde::Serialize;
use warden_policy::parser::Boundary;
use warden_policy::{Catalogue, Diagnostic, Policy, check_boundary, check_policy};

use crate::cowmap::CowMap;
use crate::params::{ParamValue, check_parameters, policy_parameters};

pub type Id = Arc<str>;

/// Where a policy is defined or a binding applies.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(tag = "levelType", content = "levelId", rename_all = "lowercase")]
pub enum Level {
    Global,
    Account,
    Environment(Id),
}

impl Level {
    pub fn type_name(&self) -> &'static str {
        match self {
            Level::Global => "global",
            Level::Account => "account",
            Level::Environment(_) => "environment",
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Level::Global => f.write_str("global"),
            Level::Account => f.write_str("account"),
            Level::Environment(id) => write!(f, "environment:{id}"),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PrincipalKind {
    User,
    ServiceUser,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub uid: Id,
    pub kind: PrincipalKind,
    /// Normalised (see [`normalise_email`]).
    pub email: Id,
    /// Service users only: `pipeline_automation@service`.
    pub handle: Option<Id>,
    pub name: String,
    pub active: bool,
    /// Uuids of the groups the principal belongs to.
    pub groups: Arc<[Id]>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    pub id: Id,
    pub name: String,
    pub description: String,
}

#[derive(Debug, Clone)]
pub struct PolicyRecord {
    pub id: Id,
    pub name: String,
    pub description: String,
    pub level: Level,
    pub text: Arc<str>,
    pub ast: Arc<Policy>,
}

#[derive(Debug, Clone)]
pub struct BoundaryRecord {
    pub id: Id,
    pub name: String,
    pub text: Arc<str>,
    pub ast: Arc<Boundary>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    /// Account or one environment.
    pub level: Level,
    pub policy: Id,
    pub group: Id,
    pub parameters: BTreeMap<String, ParamValue>,
    pub boundaries: Vec<Id>,
    pub metadata: BTreeMap<String, String>,
}

impl Principal {
    /// An active human user with no groups.
    pub fn user(uid: &str, email: &str) -> Principal {
        Principal {
            uid: uid.into(),
            kind: PrincipalKind::User,
            email: normalise_email(email).into(),
            handle: None,
            name: email.to_owned(),
            active: true,
            groups: Arc::new([]),
        }
    }

    /// An active service user with no groups.
    pub fn service_user(uid: &str, email: &str, handle: &str, name: &str) -> Principal {
        Principal {
            kind: PrincipalKind::ServiceUser,
            handle: Some(handle.into()),
            name: name.to_owned(),
            ..Principal::user(uid, email)
        }
    }
}

impl Group {
    pub fn new(id: &str, name: &str) -> Group {
        Group {
            id: id.into(),
            name: name.to_owned(),
            description: String::new(),
        }
    }
}

impl PolicyRecord {
    /// Parses and validates a policy text; any error diagnostic refuses it.
    pub fn parse(
        id: &str,
        name: &str,
        level: Level,
        text: &str,
        catalogue: &Catalogue,
    ) -> Result<PolicyRecord, Vec<Diagnostic>> {
        let checked = check_policy(text, catalogue);
        if checked.has_errors() {
            return Err(checked.diagnostics);
        }
        Ok(PolicyRecord {
            id: id.into(),
            name: name.to_owned(),
            description: String::new(),
            level,
            text: text.into(),
            ast: Arc::new(checked.ast),
        })
    }
}

impl BoundaryRecord {
    /// Parses and validates a boundary text; any error diagnostic refuses it.
    pub fn parse(
        id: &str,
        name: &str,
        text: &str,
        catalogue: &Catalogue,
    ) -> Result<BoundaryRecord, Vec<Diagnostic>> {
        let checked = check_boundary(text, catalogue);
        if checked.has_errors() {
            return Err(checked.diagnostics);
        }
        Ok(BoundaryRecord {
            id: id.into(),
            name: name.to_owned(),
            text: text.into(),
            ast: Arc::new(checked.ast),
        })
    }
}

impl Binding {
    /// A binding without parameters, boundaries or metadata.
    pub fn new(level: Level, policy: &str, group: &str) -> Binding {
        Binding {
            level,
            policy: policy.into(),
            group: group.into(),
            parameters: BTreeMap::new(),
            boundaries: Vec::new(),
            metadata: BTreeMap::new(),
        }
    }
}

/// A reference that does not resolve, a level mismatch, bad parameters: why a change was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DirectoryError {
    #[error("{kind} `{id}` does not exist")]
    NotFound { kind: &'static str, id: String },
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    Conflict(String),
}

impl DirectoryError {
    fn not_found(kind: &'static str, id: &str) -> Self {
        DirectoryError::NotFound {
            kind,
            id: id.to_owned(),
        }
    }
}

/// The canonical form of an email address: surrounding whitespace removed, ASCII letters
/// lower-cased, every other character kept as written. Idempotent; uniqueness and lookups use it.
///
/// Only ASCII is folded so that no other character can fold into someone else's address: Unicode
/// lower-casing turns the Kelvin sign `K` (U+212A) into `k`, which would make `Kate@…` written
/// with it the same user as `kate@…`. `аlice@…` with a Cyrillic `а` stays a different user from
/// `alice@…`.
pub fn normalise_email(email: &str) -> String {
    email.trim().to_ascii_lowercase()
}

#[derive(Debug, Clone, Default)]
pub struct Directory {
    pub account: Id,
    environments: Arc<BTreeSet<Id>>,
    principals: CowMap<Id, Arc<Principal>>,
    /// Normalised email and handle → uid.
    principal_keys: CowMap<Id, Id>,
    groups: CowMap<Id, Arc<Group>>,
    /// ASCII-lower-cased group name → uuid: names are unique case-insensitively, and a directory
    /// of 100k groups must not scan them all on every change or lookup by name.
    group_names: CowMap<Id, Id>,
    policies: CowMap<Id, Arc<PolicyRecord>>,
    boundaries: CowMap<Id, Arc<BoundaryRecord>>,
    /// Group → its bindings.
    bindings: CowMap<Id, Arc<[Arc<Binding>]>>,
    /// Policy → groups with a binding of it (for recompiling after a policy change).
    policy_groups: CowMap<Id, Arc<BTreeSet<Id>>>,
    /// Boundary → groups with a binding that uses it.
    boundary_groups: CowMap<Id, Arc<BTreeSet<Id>>>,
}

/// The groups whose compiled grants a change invalidated.
pub type Affected = Vec<Id>;

impl Directory {
    pub fn new(account: impl Into<Id>) -> Self {
        Directory {
            account: account.into(),
            ..Directory::default()
        }
    }

    // ---- reads ------------------------------------------------------------------------------------

    pub fn environments(&self) -> &BTreeSet<Id> {
        &self.environments
    }

    pub fn has_environment(&self, id: &str) -> bool {
        self.environments.contains(id)
    }

    pub fn principal(&self, uid: &str) -> Option<&Arc<Principal>> {
        self.principals.get(uid)
    }

    /// Finds a principal by uid, email (any case) or service-user handle.
    pub fn find_principal(&self, key: &str) -> Option<&Arc<Principal>> {
        if let Some(found) = self.principals.get(key) {
            return Some(found);
        }
        let uid = match self.principal_keys.get(key) {
            Some(uid) => uid,
            None => self.principal_keys.get(normalise_email(key).as_str())?,
        };
        self.principals.get(uid.as_ref())
    }

    pub fn principals(&self) -> impl Iterator<Item = &Arc<Principal>> {
        self.principals.values()
    }

    /// The uids of the principals added, removed or changed since `earlier` (an earlier version
    /// of this directory), in no particular order.
    pub fn changed_principals(&self, earlier: &Directory) -> Vec<Id> {
        self.principals
            .changed_keys(&earlier.principals, |a, b| Arc::ptr_eq(a, b) || a == b)
    }

    pub fn principal_count(&self) -> usize {
        self.principals.len()
    }

    pub fn group(&self, id: &str) -> Option<&Arc<Group>> {
        self.groups.get(id)
    }

    pub fn groups(&self) -> impl Iterator<Item = &Arc<Group>> {
        self.groups.values()
    }

    pub fn group_count(&self) -> usize {
        self.groups.len()
    }

    /// Finds a group by uuid or (case-insensitively) by name.
    pub fn find_group(&self, key: &str) -> Option<&Arc<Group>> {
        self.groups.get(key).or_else(|| {
            let id = self.group_names.get(group_name_key(key).as_ref())?;
            self.groups.get(id.as_ref())
        })
    }

    pub fn policy(&self, id: &str) -> Option<&Arc<PolicyRecord>> {
        self.policies.get(id)
    }

    pub fn policies(&self) -> impl Iterator<Item = &Arc<PolicyRecord>> {
        self.policies.values()
    }

    pub fn policy_count(&self) -> usize {
        self.policies.len()
    }

    pub fn boundary(&self, id: &str) -> Option<&Arc<BoundaryRecord>> {
        self.boundaries.get(id)
    }

    pub fn boundaries(&self) -> impl Iterator<Item = &Arc<BoundaryRecord>> {
        self.boundaries.values()
    }

    /// The bindings of one group.
    pub fn bindings_of(&self, group: &str) -> &[Arc<Binding>] {
        self.bindings.get(group).map_or(&[], |bindings| bindings)
    }

    /// Every binding, grouped by group.
    pub fn bindings(&self) -> impl Iterator<Item = &Arc<Binding>> {
        self.bindings.values().flat_map(|bindings| bindings.iter())
    }

    pub fn binding_count(&self) -> usize {
        self.bindings.values().map(|b| b.len()).sum()
    }

    /// Groups with a binding of the policy.
    pub fn groups_bound_to(&self, policy: &str) -> impl Iterator<Item = &Id> {
        self.policy_groups
            .get(policy)
            .into_iter()
            .flat_map(|groups| groups.iter())
    }

    /// Groups with a binding that uses the boundary.
    pub fn groups_using_boundary(&self, boundary: &str) -> impl Iterator<Item = &Id> {
        self.boundary_groups
            .get(boundary)
            .into_iter()
            .flat_map(|groups| groups.iter())
    }

    // ---- environments and principals ----------------------------------------------------------------

    pub fn add_environment(&mut self, id: impl Into<Id>) {
        Arc::make_mut(&mut self.environments).insert(id.into());
    }

    /// Adds or replaces a principal. Its email and handle must not belong to another principal.
    pub fn upsert_principal(
        &mut self,
        mut principal: Principal,
    ) -> Result<Affected, DirectoryError> {
        principal.email = normalise_email(&principal.email).into();
        let keys: Vec<Id> = std::iter::once(principal.email.as_ref())
            .chain(principal.handle.as_deref())
            .map(|key| Id::from(normalise_email(key)))
            .collect();
        for key in &keys {
            if let Some(owner) = self.principal_keys.get(key.as_ref())
                && owner != &principal.uid
            {
                return Err(DirectoryError::Conflict(format!(
                    "`{key}` already belongs to another principal"
                )));
            }
        }
        if let Some(previous) = self.principals.get(principal.uid.as_ref()).cloned() {
            self.principal_keys.remove(previous.email.as_ref());
            if let Some(handle) = &previous.handle {
                self.principal_keys.remove(normalise_email(handle).as_str());
            }
        }
        for key in keys {
            self.principal_keys.insert(key, Arc::clone(&principal.uid));
        }
        self.principals
            .insert(Arc::clone(&principal.uid), Arc::new(principal));
        Ok(Vec::new())
    }

    pub fn remove_principal(&mut self, uid: &str) -> Result<Affected, DirectoryError> {
        let principal = self
            .principals
            .remove(uid)
            .ok_or_else(|| DirectoryError::not_found("principal", uid))?;
        self.principal_keys.remove(principal.email.as_ref());
        if let Some(handle) = &principal.handle {
            self.principal_keys.remove(normalise_email(handle).as_str());
        }
        Ok(Vec::new())
    }

    pub fn set_active(&mut self, uid: &str, active: bool) -> Result<Affected, DirectoryError> {
        let mut principal = (**self
            .principals
            .get(uid)
            .ok_or_else(|| DirectoryError::not_found("principal", uid))?)
        .clone();
        principal.active = active;
        self.principals
            .insert(Arc::clone(&principal.uid), Arc::new(principal));
        Ok(Vec::new())
    }

    /// Replaces the principal's memberships. Every group must exist.
    pub fn set_memberships(
        &mut self,
        uid: &str,
        groups: Vec<Id>,
    ) -> Result<Affected, DirectoryError> {
        let mut principal = (**self
            .principals
            .get(uid)
            .ok_or_else(|| DirectoryError::not_found("principal", uid))?)
        .clone();
        if let Some(missing) = groups
            .iter()
            .find(|g| !self.groups.contains_key(g.as_ref()))
        {
            return Err(DirectoryError::not_found("group", missing));
        }
        let mut unique: Vec<Id> = Vec::with_capacity(groups.len());
        for group in groups {
            if !unique.contains(&group) {
                unique.push(group);
            }
        }
        principal.groups = unique.into();
        self.principals
            .insert(Arc::clone(&principal.uid), Arc::new(principal));
        Ok(Vec::new())
    }

    // ---- groups -----------------------------------------------------------------------------------

    /// Adds or replaces a group. Names are unique case-insensitively.
    pub fn upsert_group(&mut self, group: Group) -> Result<Affected, DirectoryError> {
        let key = group_name_key(&group.name);
        if let Some(other) = self
            .group_names
            .get(key.as_ref())
            .filter(|id| **id != group.id)
            .and_then(|id| self.groups.get(id.as_ref()))
        {
            return Err(DirectoryError::Conflict(format!(
                "a group named `{}` already exists",
                other.name
            )));
        }
        if let Some(previous) = self.groups.get(group.id.as_ref()) {
            let previous = group_name_key(&previous.name);
            self.group_names.remove(previous.as_ref());
        }
        self.group_names.insert(key, Arc::clone(&group.id));
        self.groups.insert(Arc::clone(&group.id), Arc::new(group));
        Ok(Vec::new())
    }

    /// Removes a group with its bindings. Memberships naming it are dropped lazily: a group that
    /// does not exist grants nothing.
    pub fn remove_group(&mut self, id: &str) -> Result<Affected, DirectoryError> {
        let group = self
            .groups
            .remove(id)
            .ok_or_else(|| DirectoryError::not_found("group", id))?;
        self.group_names
            .remove(group_name_key(&group.name).as_ref());
        for binding in self.bindings_of(id).to_vec() {
            self.unindex_binding(&binding);
        }
        self.bindings.remove(id);
        Ok(vec![group.id.clone()])
    }

    // ---- policies and boundaries --------------------------------------------------------------------

    /// Adds or replaces a policy. A bound policy cannot change its set of parameter names, nor
    /// move to a level where one of its bindings would no longer be allowed.
    pub fn upsert_policy(&mut self, policy: PolicyRecord) -> Result<Affected, DirectoryError> {
        if let Some(previous) = self.policies.get(policy.id.as_ref()) {
            let bound = self.groups_bound_to(&policy.id).next().is_some();
            if bound && policy_parameters(&previous.ast) != policy_parameters(&policy.ast) {
                return Err(DirectoryError::Conflict(format!(
                    "policy `{}` is bound, so its parameters cannot change (they are {})",
                    previous.name,
                    describe_names(&policy_parameters(&previous.ast))
                )));
            }
            if bound && previous.level != policy.level {
                return Err(DirectoryError::Conflict(format!(
                    "policy `{}` is bound, so its level cannot change",
                    previous.name
                )));
            }
        }
        let affected = self.groups_bound_to(&policy.id).cloned().collect();
        self.policies
            .insert(Arc::clone(&policy.id), Arc::new(policy));
        Ok(affected)
    }

    /// Removes a policy; with `force`, also its bindings (otherwise a bound policy is a conflict).
    pub fn remove_policy(&mut self, id: &str, force: bool) -> Result<Affected, DirectoryError> {
        if !self.policies.contains_key(id) {
            return Err(DirectoryError::not_found("policy", id));
        }
        let groups: Vec<Id> = self.groups_bound_to(id).cloned().collect();
        if !groups.is_empty() && !force {
            return Err(DirectoryError::Conflict(format!(
                "policy `{id}` is bound to {} group(s)",
                groups.len()
            )));
        }
        for group in &groups {
            self.remove_bindings(group, |binding| binding.policy.as_ref() == id)?;
        }
        self.policies.remove(id);
        self.policy_groups.remove(id);
        Ok(groups)
    }

    pub fn upsert_boundary(
        &mut self,
        boundary: BoundaryRecord,
    ) -> Result<Affected, DirectoryError> {
        if let Some(other) = self
            .boundaries
            .values()
            .find(|b| b.id != boundary.id && b.name.eq_ignore_ascii_case(&boundary.name))
        {
            return Err(DirectoryError::Conflict(format!(
                "a boundary named `{}` already exists",
                other.name
            )));
        }
        let affected = self.groups_using_boundary(&boundary.id).cloned().collect();
        self.boundaries
            .insert(Arc::clone(&boundary.id), Arc::new(boundary));
        Ok(affected)
    }

    /// Removes a boundary that no binding uses.
    pub fn remove_boundary(&mut self, id: &str) -> Result<Affected, DirectoryError> {
        if !self.boundaries.contains_key(id) {
            return Err(DirectoryError::not_found("boundary", id));
        }
        if self.groups_using_boundary(id).next().is_some() {
            return Err(DirectoryError::Conflict(format!(
                "boundary `{id}` is used by bindings"
            )));
        }
        self.boundaries.remove(id);
        Ok(Vec::new())
    }

    // ---- bindings ---------------------------------------------------------------------------------

    /// Checks that a binding could be added: references, level, parameters.
    pub fn check_binding(&self, binding: &Binding) -> Result<(), DirectoryError> {
        let policy = self
            .policies
            .get(binding.policy.as_ref())
            .ok_or_else(|| DirectoryError::not_found("policy", &binding.policy))?;
        if !self.groups.contains_key(binding.group.as_ref()) {
            return Err(DirectoryError::not_found("group", &binding.group));
        }
        for boundary in &binding.boundaries {
            if !self.boundaries.contains_key(boundary.as_ref()) {
                return Err(DirectoryError::not_found("boundary", boundary));
            }
        }
        match &binding.level {
            Level::Global => {
                return Err(DirectoryError::Invalid(
                    "bindings cannot be made at global level".to_owned(),
                ));
            }
            Level::Environment(env) if !self.has_environment(env) => {
                return Err(DirectoryError::not_found("environment", env));
            }
            _ => {}
        }
        let allowed = match (&policy.level, &binding.level) {
            (Level::Global | Level::Account, _) => true,
            (Level::Environment(defined), Level::Environment(bound)) => defined == bound,
            (Level::Environment(_), _) => false,
        };
        if !allowed {
            return Err(DirectoryError::Invalid(format!(
                "policy `{}` is defined at {} and cannot be bound at {}",
                policy.name, policy.level, binding.level
            )));
        }
        check_parameters(&policy.ast, &binding.parameters).map_err(DirectoryError::Invalid)
    }

    /// Adds a binding. An identical binding (same level, policy, group, parameters and metadata)
    /// is replaced, so that re-posting a binding is idempotent.
    pub fn add_binding(&mut self, binding: Binding) -> Result<Affected, DirectoryError> {
        self.check_binding(&binding)?;
        let group = Arc::clone(&binding.group);
        let mut bindings: Vec<Arc<Binding>> = self.bindings_of(&group).to_vec();
        let replaced = bindings
            .iter()
            .position(|b| same_identity(b, &binding))
            .map(|i| bindings.remove(i));
        let binding = Arc::new(binding);
        bindings.push(Arc::clone(&binding));
        self.bindings.insert(Arc::clone(&group), bindings.into());
        if let Some(old) = replaced {
            self.unindex_binding(&old);
        }
        self.index_binding(&binding);
        Ok(vec![group])
    }

    /// Removes the group's bindings that `matches` selects.
    pub fn remove_bindings(
        &mut self,
        group: &str,
        matches: impl Fn(&Binding) -> bool,
    ) -> Result<Affected, DirectoryError> {
        let Some(current) = self.bindings.get(group).cloned() else {
            return Ok(Vec::new());
        };
        let (removed, kept): (Vec<Arc<Binding>>, Vec<Arc<Binding>>) =
            current.iter().cloned().partition(|b| matches(b));
        let Some(first) = removed.first() else {
            return Ok(Vec::new());
        };
        let group_id = Arc::clone(&first.group);
        if kept.is_empty() {
            self.bindings.remove(group);
        } else {
            self.bindings.insert(Arc::clone(&group_id), kept.into());
        }
        for binding in &removed {
            self.unindex_binding(binding);
        }
        Ok(vec![group_id])
    }

    fn index_binding(&mut self, binding: &Binding) {
        add_to_index(&mut self.policy_groups, &binding.policy, &binding.group);
        for boundary in &binding.boundaries {
            add_to_index(&mut self.boundary_groups, boundary, &binding.group);
        }
    }

    /// Drops the reverse-index entries of a binding that is no longer in the group's list, unless
    /// another binding of the group still needs them.
    fn unindex_binding(&mut self, binding: &Binding) {
        let others: Vec<Arc<Binding>> = self.bindings_of(&binding.group).to_vec();
        if !others.iter().any(|b| b.policy == binding.policy) {
            remove_from_index(&mut self.policy_groups, &binding.policy, &binding.group);
        }
        for boundary in &binding.boundaries {
            if !others.iter().any(|b| b.boundaries.contains(boundary)) {
                remove_from_index(&mut self.boundary_groups, boundary, &binding.group);
            }
        }
    }
}

/// The key under which a group's name is unique: two names that are equal ignoring ASCII case
/// (`eq_ignore_ascii_case`) have the same key.
fn group_name_key(name: &str) -> Id {
    name.to_ascii_lowercase().into()
}

/// Binding identity: (level, policy, group, parameters, metadata).
fn same_identity(a: &Binding, b: &Binding) -> bool {
    a.level == b.level
        && a.policy == b.policy
        && a.group == b.group
        && a.parameters == b.parameters
        && a.metadata == b.metadata
}

fn add_to_index(index: &mut CowMap<Id, Arc<BTreeSet<Id>>>, key: &Id, group: &Id) {
    let mut set = index
        .get(key.as_ref())
        .map_or_else(BTreeSet::new, |s| (**s).clone());
    if set.insert(Arc::clone(group)) {
        index.insert(Arc::clone(key), Arc::new(set));
    }
}

fn remove_from_index(index: &mut CowMap<Id, Arc<BTreeSet<Id>>>, key: &Id, group: &Id) {
    let Some(current) = index.get(key.as_ref()) else {
        return;
    };
    let mut set = (**current).clone();
    set.remove(group.as_ref());
    if set.is_empty() {
        index.remove(key.as_ref());
    } else {
        index.insert(Arc::clone(key), Arc::new(set));
    }
}

fn describe_names(names: &BTreeSet<String>) -> String {
    if names.is_empty() {
        "none".to_owned()
    } else {
        names
            .iter()
            .map(|n| format!("`{n}`"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_names_are_unique_ignoring_case_and_follow_renames_and_removals() {
        let mut directory = Directory::new("acc");
        directory
            .upsert_group(Group::new("g1", "Ops Team"))
            .unwrap();
        assert_eq!(directory.find_group("ops team").unwrap().id.as_ref(), "g1");
        assert_eq!(directory.find_group("g1").unwrap().name, "Ops Team");
        assert_eq!(
            directory.upsert_group(Group::new("g2", "OPS TEAM")),
            Err(DirectoryError::Conflict(
                "a group named `Ops Team` already exists".to_owned()
            ))
        );
        // The same group may change the case of its own name, or take another name.
        directory
            .upsert_group(Group::new("g1", "OPS team"))
            .unwrap();
        directory
            .upsert_group(Group::new("g1", "Platform"))
            .unwrap();
        assert!(directory.find_group("ops team").is_none());
        directory
            .upsert_group(Group::new("g2", "Ops Team"))
            .unwrap();
        assert_eq!(directory.find_group("PLATFORM").unwrap().id.as_ref(), "g1");
        directory.remove_group("g1").unwrap();
        assert!(directory.find_group("platform").is_none());
        directory
            .upsert_group(Group::new("g3", "platform"))
            .unwrap();
        assert_eq!(directory.group_count(), 2);
    }

    #[test]
    fn email_normalisation_folds_ascii_only_and_is_idempotent() {
        for raw in [
            " Alice@Example.COM ",
            "\u{0430}lice@example.com",
            "\u{212A}ate@example.com",
            "\u{0130}an@example.com",
            "\u{FF41}lice@example.com",
            "mıke@example.com",
        ] {
            let once = normalise_email(raw);
            assert_eq!(normalise_email(&once), once, "{raw:?}");
        }
        assert_eq!(normalise_email(" Alice@Example.COM "), "alice@example.com");
        // Nothing outside ASCII folds into an ASCII address.
        assert_eq!(normalise_email("\u{212A}ate@x"), "\u{212A}ate@x");
        assert_eq!(normalise_email("\u{0430}lice@x"), "\u{0430}lice@x");
        assert_eq!(normalise_email("mıke@x"), "mıke@x");
    }
}
