//! Self-authorisation: every endpoint asks Warden's own engine whether the caller holds the
//! endpoint's `iam:*` permission, with conditions taken from the request (SPEC §6); and the
//! no-escalation rule for everything that grants.

use std::collections::BTreeMap;

use warden_engine::delegation::{Granted, binding_grants, first_not_held};
use warden_engine::{AttributeValue, Attributes, Binding, Directory, Level, Request, Snapshot};

use crate::auth::Authed;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// Request attributes for a permission check: `(name, value)` pairs.
pub fn attributes(pairs: &[(&str, &str)]) -> Attributes {
    pairs
        .iter()
        .map(|(name, value)| ((*name).to_owned(), AttributeValue::One((*value).to_owned())))
        .collect()
}

impl AppState {
    /// Refuses with 403, naming the permission, unless the caller's token and the caller hold it.
    pub fn require(
        &self,
        authed: &Authed,
        permission: &str,
        level: &Level,
        attributes: &Attributes,
    ) -> ApiResult<()> {
        let caller = &authed.caller;
        if !caller.scopes.is_empty() && !caller.scopes.iter().any(|s| s == permission) {
            return Err(ApiError::forbidden(
                permission,
                format!("the token's scopes do not include `{permission}`"),
            ));
        }
        let environment = match level {
            Level::Environment(env) => Some(env.as_ref()),
            _ => None,
        };
        let snapshot = self.snapshot();
        let request = Request {
            principal: &caller.uid,
            permission,
            environment,
            attributes,
            time: authed.context.now_ms.div_euclid(1000),
        };
        let allowed = snapshot.decide(&request).is_allowed();
        self.usage
            .record(&caller.uid, permission, allowed, authed.context.now_ms);
        if allowed {
            Ok(())
        } else {
            Err(ApiError::forbidden(
                permission,
                format!("permission `{permission}` is required for this request"),
            ))
        }
    }
}

fn environment_of(level: &Level) -> Option<&str> {
    match level {
        Level::Environment(env) => Some(env),
        _ => None,
    }
}

/// 403 unless the caller holds everything `wanted` grants at `level`.
pub fn require_holds(
    snapshot: &Snapshot,
    caller: &str,
    level: &Level,
    wanted: &[Granted],
    what: &str,
) -> ApiResult<()> {
    let held = snapshot.held(caller, environment_of(level));
    match first_not_held(&held, wanted, snapshot.catalogue()) {
        None => Ok(()),
        Some(permission) => Err(ApiError::forbidden(
            permission,
            format!("{what} would grant `{permission}` at {level} level, which you do not hold there yourself"),
        )
        .with_details(serde_json::json!({ "permission": permission, "rule": "no-escalation", "level": level.to_string() }))),
    }
}

/// The no-escalation check for a binding against a (possibly draft) directory.
pub fn require_can_bind(
    snapshot: &Snapshot,
    caller: &str,
    directory: &Directory,
    binding: &Binding,
) -> ApiResult<()> {
    let wanted = binding_grants(directory, snapshot.catalogue(), binding)?;
    require_holds(snapshot, caller, &binding.level, &wanted, "this binding")
}

/// The check for adding a principal to a group: the caller must hold what every binding of the
/// group grants, at that binding's level.
pub fn require_can_join(
    snapshot: &Snapshot,
    caller: &str,
    directory: &Directory,
    group: &str,
) -> ApiResult<()> {
    let mut by_level: BTreeMap<Level, Vec<Granted>> = BTreeMap::new();
    for binding in directory.bindings_of(group) {
        let grants = binding_grants(directory, snapshot.catalogue(), binding)?;
        by_level
            .entry(binding.level.clone())
            .or_default()
            .extend(grants);
    }
    for (level, wanted) in &by_level {
        require_holds(
            snapshot,
            caller,
            level,
            wanted,
            "adding a member to this group",
        )?;
    }
    Ok(())
}

/// The check for changing a policy or boundary that bindings use: every affected binding,
/// compiled against the draft directory, must be within what the caller holds.
pub fn require_can_rebind<'a>(
    snapshot: &Snapshot,
    caller: &str,
    draft: &Directory,
    bindings: impl Iterator<Item = &'a Binding>,
    what: &str,
) -> ApiResult<()> {
    for binding in bindings {
        let wanted = binding_grants(draft, snapshot.catalogue(), binding)?;
        require_holds(snapshot, caller, &binding.level, &wanted, what)?;
    }
    Ok(())
}
