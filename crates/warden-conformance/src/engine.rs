//! The engine's view of a world: a [`Directory`] built through its public API (every policy and
//! boundary validated, every binding checked) and a compiled [`Snapshot`]; and a [`Write`] applied
//! to such a directory as the API applies it.

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

use warden_engine::directory::Affected;
use warden_engine::{
    AttributeValue, Attributes, Binding, BoundaryRecord, Builtin, Directory, Group, Id, ParamValue,
    PolicyRecord, Principal, Request, Snapshot,
};
use warden_policy::Catalogue;

use crate::model::{self, Level, Outcome, Param, World, Write};

/// The built-in content (catalogue and global policies), loaded once.
pub fn builtin() -> Result<&'static Builtin, String> {
    static BUILTIN: OnceLock<Result<Builtin, String>> = OnceLock::new();
    BUILTIN
        .get_or_init(|| Builtin::load(&[]).map_err(|e| format!("built-in content: {e:?}")))
        .as_ref()
        .map_err(Clone::clone)
}

/// The catalogue every world is checked and decided against.
pub fn catalogue() -> Result<&'static Arc<Catalogue>, String> {
    static CATALOGUE: OnceLock<Result<Arc<Catalogue>, String>> = OnceLock::new();
    CATALOGUE
        .get_or_init(|| builtin().map(|b| Arc::new(b.catalogue.clone())))
        .as_ref()
        .map_err(Clone::clone)
}

fn level(level: &Level) -> warden_engine::Level {
    match level {
        Level::Global => warden_engine::Level::Global,
        Level::Account => warden_engine::Level::Account,
        Level::Environment(env) => warden_engine::Level::Environment(env.as_str().into()),
    }
}

/// Builds the directory of a world. Any refusal (a text with an error diagnostic, a binding the
/// directory rejects) is an error: generated worlds must be valid.
pub fn directory(world: &World) -> Result<Directory, String> {
    let mut directory = Directory::new(world.account.as_str());
    for environment in &world.environments {
        directory.add_environment(environment.as_str());
    }
    for group in &world.groups {
        directory
            .upsert_group(Group::new(group, group))
            .map_err(|e| e.to_string())?;
    }
    for policy in &world.policies {
        directory
            .upsert_policy(policy_record(policy)?)
            .map_err(|e| e.to_string())?;
    }
    for boundary in &world.boundaries {
        directory
            .upsert_boundary(boundary_record(boundary)?)
            .map_err(|e| e.to_string())?;
    }
    for binding in &world.bindings {
        directory
            .add_binding(engine_binding(binding))
            .map_err(|e| format!("binding {binding:?}: {e}"))?;
    }
    for principal in &world.principals {
        add_principal(&mut directory, principal)?;
    }
    Ok(directory)
}

fn policy_record(policy: &model::PolicyDef) -> Result<PolicyRecord, String> {
    PolicyRecord::parse(
        &policy.id,
        &policy.id,
        level(&policy.level),
        &policy.text,
        catalogue()?,
    )
    .map_err(|d| format!("policy {}: {d:?}\n{}", policy.id, policy.text))
}

fn boundary_record(boundary: &model::BoundaryDef) -> Result<BoundaryRecord, String> {
    BoundaryRecord::parse(&boundary.id, &boundary.id, &boundary.text, catalogue()?)
        .map_err(|d| format!("boundary {}: {d:?}\n{}", boundary.id, boundary.text))
}

fn engine_binding(binding: &model::BindingDef) -> Binding {
    let mut engine_binding = Binding::new(level(&binding.level), &binding.policy, &binding.group);
    engine_binding.parameters = binding
        .parameters
        .iter()
        .map(|(name, value)| {
            let value = match value {
                Param::One(one) => ParamValue::One(one.clone()),
                Param::Many(many) => ParamValue::Many(many.clone()),
            };
            (name.clone(), value)
        })
        .collect::<BTreeMap<_, _>>();
    engine_binding.boundaries = binding
        .boundaries
        .iter()
        .map(|b| Id::from(b.as_str()))
        .collect();
    engine_binding
}

/// Adds a principal, then its memberships; the groups whose grants that changed.
fn add_principal(
    directory: &mut Directory,
    principal: &model::PrincipalDef,
) -> Result<Affected, String> {
    let mut record = match &principal.handle {
        Some(handle) => Principal::service_user(&principal.uid, &principal.email, handle, handle),
        None => Principal::user(&principal.uid, &principal.email),
    };
    record.active = principal.active;
    let mut affected = directory
        .upsert_principal(record)
        .map_err(|e| e.to_string())?;
    let groups = principal
        .groups
        .iter()
        .map(|g| Id::from(g.as_str()))
        .collect();
    affected.extend(
        directory
            .set_memberships(&principal.uid, groups)
            .map_err(|e| e.to_string())?,
    );
    Ok(affected)
}

/// Applies one write with the [`Directory`] calls an API handler makes for it, and returns the
/// groups those calls report as recompiled (their [`Affected`], together). `Err` when the
/// directory refuses the write (a bound policy changing its parameters, a boundary in use, …):
/// then nothing is written.
pub fn apply(directory: &mut Directory, write: &Write) -> Result<Affected, String> {
    let refused = |e: warden_engine::DirectoryError| e.to_string();
    match write {
        Write::PutPolicy(policy) => directory
            .upsert_policy(policy_record(policy)?)
            .map_err(refused),
        Write::DeletePolicy(id) => directory.remove_policy(id, true).map_err(refused),
        Write::Bind(binding) => directory
            .add_binding(engine_binding(binding))
            .map_err(refused),
        Write::Unbind(binding) => {
            let target = engine_binding(binding);
            directory
                .remove_bindings(&binding.group, |b| {
                    b.level == target.level
                        && b.policy == target.policy
                        && b.parameters == target.parameters
                })
                .map_err(refused)
        }
        Write::PutBoundary(boundary) => directory
            .upsert_boundary(boundary_record(boundary)?)
            .map_err(refused),
        Write::DeleteBoundary(id) => directory.remove_boundary(id).map_err(refused),
        Write::SetGroups { uid, groups } => directory
            .set_memberships(uid, groups.iter().map(|g| Id::from(g.as_str())).collect())
            .map_err(refused),
        Write::DeleteGroup(id) => directory.remove_group(id).map_err(refused),
        Write::SetActive { uid, active } => directory.set_active(uid, *active).map_err(refused),
        Write::CreatePrincipal(principal) => add_principal(directory, principal),
    }
}

/// Builds and compiles a world.
pub fn snapshot(world: &World) -> Result<Snapshot, String> {
    let directory = directory(world)?;
    Ok(Snapshot::build(directory, Arc::clone(catalogue()?), 1))
}

/// The engine's attributes for a request.
pub fn attributes(request: &model::Request) -> Attributes {
    request
        .attributes
        .iter()
        .map(|(name, value)| {
            let value = match value {
                model::AttrValue::One(one) => AttributeValue::One(one.clone()),
                model::AttrValue::Many(many) => AttributeValue::Many(many.clone()),
            };
            (name.clone(), value)
        })
        .collect()
}

/// Decides with [`Snapshot::decide`], and checks that [`Snapshot::explain`] agrees.
pub fn decide(snapshot: &Snapshot, request: &model::Request) -> Result<Outcome, String> {
    let attributes = attributes(request);
    let engine_request = Request {
        principal: &request.principal,
        permission: &request.permission,
        environment: request.environment.as_deref(),
        attributes: &attributes,
        time: request.time,
    };
    let decision = snapshot.decide(&engine_request);
    let explained = snapshot.explain(&engine_request);
    if explained.decision != decision {
        return Err(format!(
            "explain ({:?}) disagrees with decide ({decision:?})",
            explained.decision
        ));
    }
    Ok(if decision.is_allowed() {
        Outcome::Allow
    } else {
        Outcome::Deny
    })
}
