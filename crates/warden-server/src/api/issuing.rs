//! Who may hold a credential, and with which scopes (SPEC §6–§8): the rules shared by OAuth
//! clients and platform tokens.
//!
//! - A credential belongs to the caller, or to a service user the caller may use
//!   (`iam:service-users:use` with `iam:service-user-email` = its email). Never to another person.
//! - Its scopes are catalogue permissions.
//! - No escalation: when the owner is not the caller, the caller must hold every scope itself,
//!   unconditionally, at account level. And a caller authenticated with a scoped token cannot
//!   make a credential wider than that token.
//!
//! The same rules apply to every change that widens a credential (a new client secret, a later
//! expiry, re-enabling a token); changes that narrow one (revoking, disabling, deleting) need only
//! `iam:tokens:write`.

use std::collections::BTreeSet;

use serde_json::{Value, json};
use warden_engine::delegation::Granted;
use warden_engine::{Level, PrincipalKind, Snapshot};
use warden_policy::{Catalogue, Effect};

use crate::auth::Authed;
use crate::authz::{attributes, require_holds};
use crate::error::{ApiError, ApiResult};
use crate::limits::MAX_SCOPES;
use crate::model::Model;
use crate::records::PrincipalBody;
use crate::state::AppState;

/// The owner of a new or widened credential: `key` (uid, email or handle) or the caller, after
/// checking that the caller may issue credentials for it.
pub fn resolve_owner(
    state: &AppState,
    authed: &Authed,
    model: &Model,
    key: Option<&str>,
) -> ApiResult<PrincipalBody> {
    let key = key.unwrap_or(&authed.caller.uid);
    let owner = model
        .directory
        .find_principal(key)
        .and_then(|p| model.principals.get(p.uid.as_ref()))
        .ok_or_else(|| ApiError::not_found("user", key))?;
    if owner.uid != authed.caller.uid {
        if owner.kind != PrincipalKind::ServiceUser {
            return Err(ApiError::new(
                axum::http::StatusCode::FORBIDDEN,
                "forbidden",
                format!(
                    "`{}` is another person: credentials can be issued only for yourself or for a service user you may use",
                    owner.email
                ),
            )
            .with_details(json!({ "rule": "own-credentials-only" })));
        }
        state.require(
            authed,
            "iam:service-users:use",
            &Level::Account,
            &attributes(&[("iam:service-user-email", &owner.email)]),
        )?;
    }
    if !owner.active() {
        return Err(ApiError::conflict(format!(
            "`{}` is deactivated; reactivate it before issuing credentials for it",
            owner.email
        )));
    }
    Ok(owner.clone())
}

/// Checks the scopes against the catalogue: at least one, each a known permission; duplicates
/// dropped, order kept.
pub fn check_scopes(
    catalogue: &Catalogue,
    field: &str,
    scopes: &[String],
) -> ApiResult<Vec<String>> {
    if scopes.is_empty() {
        return Err(ApiError::invalid(format!(
            "`{field}` must name at least one permission"
        )));
    }
    if scopes.len() > MAX_SCOPES {
        return Err(crate::limits::limit_reached(
            "permissions in scopes",
            MAX_SCOPES,
        ));
    }
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for scope in scopes {
        if catalogue.permission(scope).is_none() {
            let mut details = json!({ "field": field, "scope": scope });
            let message = match catalogue.suggest_permission(scope) {
                Some(near) => {
                    crate::api::set(&mut details, "suggestion", json!(near));
                    format!("unknown permission `{scope}` in `{field}`; did you mean `{near}`?")
                }
                None => format!(
                    "unknown permission `{scope}` in `{field}`; `GET /iam/v1/catalogue` lists them"
                ),
            };
            return Err(ApiError::invalid(message).with_details(details));
        }
        if seen.insert(scope.as_str()) {
            out.push(scope.clone());
        }
    }
    Ok(out)
}

/// No escalation for a credential of `owner` with `scopes` (see the module header).
pub fn require_within(
    snapshot: &Snapshot,
    authed: &Authed,
    owner: &str,
    scopes: &[String],
) -> ApiResult<()> {
    let caller = &authed.caller;
    if !caller.scopes.is_empty()
        && let Some(wider) = scopes.iter().find(|s| !caller.scopes.contains(s))
    {
        return Err(ApiError::forbidden(
            wider,
            format!(
                "the token you are using does not include `{wider}`, so it cannot make a credential that does"
            ),
        )
        .with_details(json!({ "permission": wider, "rule": "no-escalation" })));
    }
    if owner == caller.uid {
        return Ok(());
    }
    let wanted: Vec<Granted> = scopes
        .iter()
        .map(|permission| Granted {
            permission: permission.clone(),
            effect: Effect::Allow,
            clauses: BTreeSet::new(),
        })
        .collect();
    require_holds(
        snapshot,
        &caller.uid,
        &Level::Account,
        &wanted,
        "this credential",
    )
}

/// How a credential's owner is shown: uid, email, handle (service users), name and kind.
pub fn owner_dto(model: &Model, uid: &str) -> Value {
    match model.principals.get(uid) {
        Some(p) => json!({
            "uid": p.uid,
            "email": p.email,
            "handle": p.handle,
            "name": p.name,
            "type": if p.kind == PrincipalKind::ServiceUser { "SERVICE_USER" } else { "USER" },
        }),
        None => json!({ "uid": uid }),
    }
}
