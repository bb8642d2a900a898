//! Replaying stored operations onto the model: how a replica applies the writes another replica
//! committed (the store's change log), one operation at a time, incrementally.
//!
//! Each operation has the same effect here as its SQL in the store, cascades included (deleting
//! a group drops its memberships and bindings; deleting a principal its tokens, clients and
//! consents). The result says which groups to recompile and whether the catalogue changed.

use std::collections::BTreeSet;
use std::sync::Arc;

use warden_engine::{Builtin, Id};
use warden_policy::Catalogue;
use warden_store::Op;

use crate::model::{
    Model, ModelError, binding_record, boundary_record, catalogue_with, group_record,
    install_global_policies, policy_record, principal_record,
};
use crate::records::{
    BindingBody, BoundaryBody, ConsentBody, EnvironmentBody, GroupBody, OAuthClientBody,
    PolicyBody, PrincipalBody, TokenBody, WorkflowBody,
};

/// What a replay changed beyond the bodies.
#[derive(Debug, Default)]
pub struct Replayed {
    /// Groups whose compiled grants must be rebuilt.
    pub affected: Vec<Id>,
    /// The new catalogue, when a custom service was registered.
    pub catalogue: Option<Arc<Catalogue>>,
}

fn parse<T: serde::de::DeserializeOwned>(kind: &str, body: &str) -> Result<T, ModelError> {
    serde_json::from_str(body).map_err(|e| ModelError(format!("{kind}: {e}")))
}

fn invalid(error: impl std::fmt::Display) -> ModelError {
    ModelError(error.to_string())
}

impl Model {
    /// Applies committed operations. An error means the model no longer matches the store; the
    /// caller then reloads everything.
    pub fn apply_ops(&mut self, ops: &[Op], builtin: &Builtin) -> Result<Replayed, ModelError> {
        let mut affected: BTreeSet<Id> = BTreeSet::new();
        let mut catalogue_changed = false;
        for op in ops {
            match op {
                Op::PutMeta { key, value } if key == crate::service::authzen::MAPPING_KEY => {
                    self.authzen =
                        crate::service::authzen::parse_mapping(value).map_err(ModelError)?;
                }
                Op::PutMeta { .. } => {}
                Op::PutEnvironment { body, .. } => {
                    let environment: EnvironmentBody = parse("environment", body)?;
                    self.directory.add_environment(environment.id.as_str());
                    self.environments
                        .insert(environment.id.clone(), environment);
                }
                Op::PutPrincipal { body, .. } => {
                    let principal: PrincipalBody = parse("principal", body)?;
                    let groups = self
                        .directory
                        .principal(&principal.uid)
                        .map(|p| p.groups.to_vec())
                        .unwrap_or_default();
                    self.directory
                        .upsert_principal(principal_record(&principal, groups))
                        .map_err(invalid)?;
                    self.principals.insert(principal.uid.clone(), principal);
                }
                Op::DeletePrincipal { uid } => {
                    if self.directory.principal(uid).is_some() {
                        self.directory.remove_principal(uid).map_err(invalid)?;
                    }
                    self.principals.remove(uid);
                    let tokens: Vec<String> = self
                        .tokens
                        .iter()
                        .filter(|(_, t)| &t.owner_uid == uid)
                        .map(|(id, _)| id.clone())
                        .collect();
                    for id in tokens {
                        self.tokens.remove(&id);
                    }
                    self.oauth_clients.retain(|_, c| &c.owner_uid != uid);
                    self.consents.retain(|(owner, _), _| owner != uid);
                }
                Op::SetMemberships { uid, groups } => {
                    let groups: Vec<Id> = groups.iter().map(|g| Id::from(g.as_str())).collect();
                    self.directory
                        .set_memberships(uid, groups)
                        .map_err(invalid)?;
                }
                Op::AddMembership { uid, group } => {
                    let mut groups = self
                        .directory
                        .principal(uid)
                        .map(|p| p.groups.to_vec())
                        .unwrap_or_default();
                    if !groups.iter().any(|g| **g == **group) {
                        groups.push(Id::from(group.as_str()));
                    }
                    self.directory
                        .set_memberships(uid, groups)
                        .map_err(invalid)?;
                }
                Op::RemoveMembership { uid, group } => {
                    let groups: Vec<Id> = self
                        .directory
                        .principal(uid)
                        .map(|p| {
                            p.groups
                                .iter()
                                .filter(|g| ***g != **group)
                                .cloned()
                                .collect()
                        })
                        .unwrap_or_default();
                    self.directory
                        .set_memberships(uid, groups)
                        .map_err(invalid)?;
                }
                Op::PutGroup { body, .. } => {
                    let group: GroupBody = parse("group", body)?;
                    self.directory
                        .upsert_group(group_record(&group))
                        .map_err(invalid)?;
                    self.groups.insert(group.uuid.clone(), group);
                }
                Op::DeleteGroup { uuid } => {
                    if self.directory.group(uuid).is_some() {
                        affected.extend(self.directory.remove_group(uuid).map_err(invalid)?);
                    }
                    let members: Vec<(Id, Vec<Id>)> = self
                        .directory
                        .principals()
                        .filter(|p| p.groups.iter().any(|g| **g == **uuid))
                        .map(|p| {
                            (
                                Arc::clone(&p.uid),
                                p.groups
                                    .iter()
                                    .filter(|g| ***g != **uuid)
                                    .cloned()
                                    .collect(),
                            )
                        })
                        .collect();
                    for (uid, groups) in members {
                        self.directory
                            .set_memberships(&uid, groups)
                            .map_err(invalid)?;
                    }
                    self.groups.remove(uuid);
                    self.bindings.retain(|_, b| &b.group_uuid != uuid);
                }
                Op::PutPolicy { body, .. } => {
                    let policy: PolicyBody = parse("policy", body)?;
                    affected.extend(
                        self.directory
                            .upsert_policy(policy_record(&policy).map_err(ModelError)?)
                            .map_err(invalid)?,
                    );
                    self.policies.insert(policy.uuid.clone(), policy);
                }
                Op::DeletePolicy { uuid } => {
                    if self.directory.policy(uuid).is_some() {
                        affected.extend(self.directory.remove_policy(uuid, true).map_err(invalid)?);
                    }
                    self.policies.remove(uuid);
                    self.bindings.retain(|_, b| &b.policy_uuid != uuid);
                }
                Op::PutBoundary { body, .. } => {
                    let boundary: BoundaryBody = parse("boundary", body)?;
                    affected.extend(
                        self.directory
                            .upsert_boundary(boundary_record(&boundary).map_err(ModelError)?)
                            .map_err(invalid)?,
                    );
                    self.boundaries.insert(boundary.uuid.clone(), boundary);
                }
                Op::DeleteBoundary { uuid } => {
                    if self.directory.boundary(uuid).is_some() {
                        affected.extend(self.directory.remove_boundary(uuid).map_err(invalid)?);
                    }
                    self.boundaries.remove(uuid);
                }
                Op::PutBinding { key, body, .. } => {
                    let binding: BindingBody = parse("binding", body)?;
                    affected.extend(
                        self.directory
                            .add_binding(binding_record(&binding))
                            .map_err(invalid)?,
                    );
                    self.bindings.insert(key.clone(), binding);
                }
                Op::DeleteBinding { key } => {
                    if let Some(binding) = self.bindings.remove(key) {
                        let record = binding_record(&binding);
                        affected.extend(
                            self.directory
                                .remove_bindings(&binding.group_uuid, |b| *b == record)
                                .map_err(invalid)?,
                        );
                    }
                }
                Op::PutToken { body, .. } => {
                    let token: TokenBody = parse("token", body)?;
                    self.tokens.insert(token.id.clone(), Arc::new(token));
                }
                Op::DeleteToken { id } => {
                    self.tokens.remove(id);
                }
                Op::PutCustomService { name, body } => {
                    self.custom_services.insert(name.clone(), body.clone());
                    catalogue_changed = true;
                }
                Op::PutOAuthClient { body, .. } => {
                    let client: OAuthClientBody = parse("oauth client", body)?;
                    self.oauth_clients.insert(client.client_id.clone(), client);
                }
                Op::DeleteOAuthClient { client_id } => {
                    self.oauth_clients.remove(client_id);
                }
                Op::PutWorkflow { body, .. } => {
                    let workflow: WorkflowBody = parse("workflow", body)?;
                    self.workflows.insert(workflow.id.clone(), workflow);
                }
                Op::DeleteWorkflow { id } => {
                    self.workflows.remove(id);
                }
                Op::PutConsent { body, .. } => {
                    let consent: ConsentBody = parse("consent", body)?;
                    self.consents
                        .insert((consent.uid.clone(), consent.environment.clone()), consent);
                }
                // Sessions live in the store only; every replica reads them there.
                Op::EndSessions { .. } => {}
            }
        }
        let catalogue = if catalogue_changed {
            let catalogue = catalogue_with(builtin, &self.custom_services)?;
            install_global_policies(&mut self.directory, builtin, &catalogue)?;
            Some(Arc::new(catalogue))
        } else {
            None
        };
        Ok(Replayed {
            affected: affected.into_iter().collect(),
            catalogue,
        })
    }
}
