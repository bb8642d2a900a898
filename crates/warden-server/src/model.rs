//! The server's authoritative in-memory model: the bodies of every stored object and the engine's
//! directory derived from them. Only the write pipeline changes it, after the store committed.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use warden_engine::builtin::{
    ADMINISTRATOR_POLICY_ID, ADMINISTRATOR_POLICY_NAME, administrator_policy_text,
};
use warden_engine::cowmap::CowMap;
use warden_engine::{
    Binding, BoundaryRecord, Builtin, Directory, Group, Id, Level, PolicyRecord, Principal,
};
use warden_policy::{Catalogue, ServiceFile, parse_boundary, parse_policy};
use warden_store::Loaded;

use crate::records::{
    BindingBody, BoundaryBody, ConsentBody, EnvironmentBody, GroupBody, OAuthClientBody,
    PolicyBody, PrincipalBody, TokenBody, WorkflowBody, level_of,
};

#[derive(Debug, Clone, Default)]
pub struct Model {
    pub account: String,
    pub directory: Directory,
    pub environments: BTreeMap<String, EnvironmentBody>,
    pub principals: HashMap<String, PrincipalBody>,
    pub groups: HashMap<String, GroupBody>,
    /// Account- and environment-level policies (global ones are built in).
    pub policies: HashMap<String, PolicyBody>,
    pub boundaries: HashMap<String, BoundaryBody>,
    /// By binding key.
    pub bindings: BTreeMap<String, BindingBody>,
    pub tokens: CowMap<String, Arc<TokenBody>>,
    /// Custom service definitions, by service name (JSON of a `ServiceFile`).
    pub custom_services: BTreeMap<String, String>,
    /// OAuth clients by client id.
    pub oauth_clients: HashMap<String, OAuthClientBody>,
    pub workflows: HashMap<String, WorkflowBody>,
    /// By (user uid, environment).
    pub consents: HashMap<(String, String), ConsentBody>,
    /// The account's AuthZEN vocabulary (a meta entry of the store).
    pub authzen: warden_api::authzen::Mapping,
}

/// A stored object that cannot be read back: the server refuses to start rather than guess.
#[derive(Debug, Clone, thiserror::Error)]
#[error("stored data is invalid: {0}")]
pub struct ModelError(pub String);

fn parse<T: serde::de::DeserializeOwned>(kind: &str, body: &str) -> Result<T, ModelError> {
    serde_json::from_str(body).map_err(|e| ModelError(format!("{kind}: {e}")))
}

/// The catalogue: built-in services plus the custom ones stored.
pub fn catalogue_with(
    builtin: &Builtin,
    custom: &BTreeMap<String, String>,
) -> Result<Catalogue, ModelError> {
    let mut catalogue = builtin.catalogue.clone();
    for (name, body) in custom {
        let file: ServiceFile = parse("custom service", body)?;
        catalogue
            .add_custom_service(&format!("custom service `{name}`"), file)
            .map_err(|errors| {
                ModelError(
                    errors
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join("; "),
                )
            })?;
    }
    Ok(catalogue)
}

impl Model {
    pub fn from_loaded(
        loaded: &Loaded,
        builtin: &Builtin,
        catalogue: &Catalogue,
    ) -> Result<Model, ModelError> {
        let account = loaded.meta.get("account").cloned().unwrap_or_default();
        let mut model = Model {
            account: account.clone(),
            directory: Directory::new(account.as_str()),
            ..Model::default()
        };
        install_global_policies(&mut model.directory, builtin, catalogue)?;
        if let Some(body) = loaded.meta.get(crate::service::authzen::MAPPING_KEY) {
            model.authzen = crate::service::authzen::parse_mapping(body).map_err(ModelError)?;
        }
        for body in &loaded.custom_services {
            let file: ServiceFile = parse("custom service", body)?;
            model
                .custom_services
                .insert(file.service.name.clone(), body.clone());
        }
        for body in &loaded.environments {
            let environment: EnvironmentBody = parse("environment", body)?;
            model.directory.add_environment(environment.id.as_str());
            model
                .environments
                .insert(environment.id.clone(), environment);
        }
        for body in &loaded.groups {
            let group: GroupBody = parse("group", body)?;
            model
                .directory
                .upsert_group(group_record(&group))
                .map_err(|e| ModelError(e.to_string()))?;
            model.groups.insert(group.uuid.clone(), group);
        }
        let mut memberships: HashMap<&str, Vec<Id>> = HashMap::new();
        for (uid, group) in &loaded.memberships {
            memberships
                .entry(uid.as_str())
                .or_default()
                .push(Id::from(group.as_str()));
        }
        for body in &loaded.principals {
            let principal: PrincipalBody = parse("principal", body)?;
            let groups = memberships
                .remove(principal.uid.as_str())
                .unwrap_or_default();
            model
                .directory
                .upsert_principal(principal_record(&principal, groups))
                .map_err(|e| ModelError(e.to_string()))?;
            model.principals.insert(principal.uid.clone(), principal);
        }
        for body in &loaded.policies {
            let policy: PolicyBody = parse("policy", body)?;
            let record = policy_record(&policy).map_err(ModelError)?;
            model
                .directory
                .upsert_policy(record)
                .map_err(|e| ModelError(e.to_string()))?;
            model.policies.insert(policy.uuid.clone(), policy);
        }
        for body in &loaded.boundaries {
            let boundary: BoundaryBody = parse("boundary", body)?;
            model
                .directory
                .upsert_boundary(boundary_record(&boundary).map_err(ModelError)?)
                .map_err(|e| ModelError(e.to_string()))?;
            model.boundaries.insert(boundary.uuid.clone(), boundary);
        }
        for body in &loaded.bindings {
            let binding: BindingBody = parse("binding", body)?;
            model
                .directory
                .add_binding(binding_record(&binding))
                .map_err(|e| ModelError(format!("binding: {e}")))?;
            model.bindings.insert(binding.key(), binding);
        }
        for body in &loaded.workflows {
            let workflow: WorkflowBody = parse("workflow", body)?;
            model.workflows.insert(workflow.id.clone(), workflow);
        }
        for body in &loaded.consents {
            let consent: ConsentBody = parse("consent", body)?;
            model
                .consents
                .insert((consent.uid.clone(), consent.environment.clone()), consent);
        }
        for body in &loaded.oauth_clients {
            let client: OAuthClientBody = parse("oauth client", body)?;
            model.oauth_clients.insert(client.client_id.clone(), client);
        }
        for body in &loaded.tokens {
            let token: TokenBody = parse("token", body)?;
            model.tokens.insert(token.id.clone(), Arc::new(token));
        }
        Ok(model)
    }

    /// Everything the model holds, in a canonical order: two models with equal fingerprints
    /// answer every read and every decision alike (tests compare a writer and a replica).
    pub fn fingerprint(&self) -> serde_json::Value {
        fn sorted<T: serde::Serialize>(items: impl Iterator<Item = T>) -> Vec<serde_json::Value> {
            let mut out: Vec<serde_json::Value> = items.map(|i| serde_json::json!(i)).collect();
            out.sort_by_key(|v| v.to_string());
            out
        }
        let memberships = sorted(self.directory.principals().map(|p| {
            let mut groups: Vec<String> = p.groups.iter().map(|g| g.to_string()).collect();
            groups.sort();
            (p.uid.to_string(), p.active, groups)
        }));
        let directory_bindings = sorted(self.directory.bindings().map(|b| {
            (
                b.level.to_string(),
                b.policy.to_string(),
                b.group.to_string(),
                serde_json::json!(b.parameters),
                b.boundaries
                    .iter()
                    .map(|x| x.to_string())
                    .collect::<Vec<_>>(),
            )
        }));
        serde_json::json!({
            "account": self.account,
            "authzen": self.authzen,
            "environments": sorted(self.environments.values()),
            "principals": sorted(self.principals.values()),
            "groups": sorted(self.groups.values()),
            "policies": sorted(self.policies.values()),
            "boundaries": sorted(self.boundaries.values()),
            "bindings": sorted(self.bindings.values()),
            "tokens": sorted(self.tokens.values().map(|t| t.as_ref().clone())),
            "customServices": sorted(self.custom_services.values()),
            "oauthClients": sorted(self.oauth_clients.values()),
            "workflows": sorted(self.workflows.values()),
            "consents": sorted(self.consents.values()),
            "memberships": memberships,
            "directoryBindings": directory_bindings,
            "directoryPolicies": sorted(self.directory.policies().map(|p| (p.id.to_string(), p.text.to_string()))),
        })
    }

    /// The body of a group or `None`.
    pub fn group_by_name(&self, name: &str) -> Option<&GroupBody> {
        let folded = crate::records::fold(name);
        self.groups
            .values()
            .find(|g| crate::records::fold(&g.name) == folded)
    }
}

/// Global policies: the built-in ones, and the administrator policy derived from the catalogue.
pub fn install_global_policies(
    directory: &mut Directory,
    builtin: &Builtin,
    catalogue: &Catalogue,
) -> Result<(), ModelError> {
    for policy in &builtin.policies {
        let record = PolicyRecord {
            id: policy.id().into(),
            name: policy.name.clone(),
            description: policy.description.clone(),
            level: Level::Global,
            text: policy.text.into(),
            ast: Arc::new(policy.policy.clone()),
        };
        directory
            .upsert_policy(record)
            .map_err(|e| ModelError(e.to_string()))?;
    }
    let text = administrator_policy_text(catalogue);
    let ast = parse_policy(&text)
        .ok()
        .map_err(|_| ModelError("the administrator policy does not parse".to_owned()))?;
    let record = PolicyRecord {
        id: ADMINISTRATOR_POLICY_ID.into(),
        name: ADMINISTRATOR_POLICY_NAME.to_owned(),
        description: "Every permission of the catalogue. Held by the bootstrap administrator."
            .to_owned(),
        level: Level::Global,
        text: text.into(),
        ast: Arc::new(ast),
    };
    directory
        .upsert_policy(record)
        .map_err(|e| ModelError(e.to_string()))?;
    Ok(())
}

pub fn group_record(body: &GroupBody) -> Group {
    Group {
        id: body.uuid.as_str().into(),
        name: body.name.clone(),
        description: body.description.clone(),
    }
}

pub fn principal_record(body: &PrincipalBody, groups: Vec<Id>) -> Principal {
    Principal {
        uid: body.uid.as_str().into(),
        kind: body.kind,
        email: body.email.as_str().into(),
        handle: body.handle.as_deref().map(Id::from),
        name: body.name.clone(),
        active: body.active(),
        groups: groups.into(),
    }
}

/// Parses a stored policy (syntax only: it was validated when it was saved).
pub fn policy_record(body: &PolicyBody) -> Result<PolicyRecord, String> {
    let ast = parse_policy(&body.statement_query)
        .ok()
        .map_err(|_| format!("policy `{}` ({}) does not parse", body.name, body.uuid))?;
    Ok(PolicyRecord {
        id: body.uuid.as_str().into(),
        name: body.name.clone(),
        description: body.description.clone(),
        level: level_of(&body.level_type, &body.level_id),
        text: body.statement_query.as_str().into(),
        ast: Arc::new(ast),
    })
}

pub fn boundary_record(body: &BoundaryBody) -> Result<BoundaryRecord, String> {
    let ast = parse_boundary(&body.boundary_query)
        .ok()
        .map_err(|_| format!("boundary `{}` ({}) does not parse", body.name, body.uuid))?;
    Ok(BoundaryRecord {
        id: body.uuid.as_str().into(),
        name: body.name.clone(),
        text: body.boundary_query.as_str().into(),
        ast: Arc::new(ast),
    })
}

pub fn binding_record(body: &BindingBody) -> Binding {
    Binding {
        level: body.level(),
        policy: body.policy_uuid.as_str().into(),
        group: body.group_uuid.as_str().into(),
        parameters: body.parameters.clone(),
        boundaries: body
            .boundaries
            .iter()
            .map(|b| Id::from(b.as_str()))
            .collect(),
        metadata: body.metadata.clone(),
    }
}
