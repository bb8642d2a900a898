//! Who may hold a credential, and with which scopes (SPEC §6–§8): the rules shared by OAuth
//! clients and platform tokens.
//!
//! - A credential belongs to the caller, or to a service user the caller may use
//!   (`iam:service-users:use` with `iam:service-user-email` = its email). Never to another person.
//! - Its scopes are catalogue permissions.
//! - No escalation: the caller must hold everything the credential would carry — its scopes ∩
//!   its owner's permissions — itself, within the token it uses ([`require_within`]).
//! - The same rules apply to every change that widens a credential (a new client secret, a later
//!   expiry, re-enabling a token). Changes that narrow someone else's credential (revoking,
//!   disabling, deleting) are acting for its owner too ([`require_may_manage`]): nobody locks
//!   out a person or a pipeline whose rights they do not hold.

use std::collections::BTreeSet;
use warden_api::scopes::coarse_scope;

use serde_json::json;
use warden_engine::escalation::{Author, holds_unconditionally};
use warden_engine::{Level, PrincipalKind, Snapshot};
use warden_policy::Catalogue;

use warden_api::oauth_clients::{KnownPrincipal, PrincipalRef};

use crate::limits::MAX_SCOPES;
use crate::model::Model;
use crate::records::PrincipalBody;
use crate::service::guard::{attributes, require_acting_as};
use crate::service::{ApiError, ApiResult, Authed, ErrorCode, Scopes};
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
                ErrorCode::Forbidden,
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

/// Checks the scopes against the catalogue: at least one, each a known permission or a Dynatrace
/// coarse scope (replaced by its permissions); duplicates dropped, order kept.
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
    // A Dynatrace coarse scope stands for exactly the permissions it maps to.
    let expanded = scopes.iter().flat_map(|scope| match coarse_scope(scope) {
        Some(coarse) => coarse.permissions.iter().map(|p| (*p).to_owned()).collect(),
        None => vec![scope.clone()],
    });
    let expanded: Vec<String> = expanded.collect();
    for scope in &expanded {
        if catalogue.permission(scope).is_none() {
            let mut details = json!({ "field": field, "scope": scope });
            let message = match catalogue.suggest_permission(scope) {
                Some(near) => {
                    if let Some(object) = details.as_object_mut() {
                        object.insert("suggestion".to_owned(), json!(near));
                    }
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

/// No escalation for a credential of `owner` with `scopes`: its rights are its scopes ∩ the
/// owner's permissions, so the caller — within the token it uses — must hold everything the owner
/// holds of those scopes, at every level and under every condition (SPEC §6). The same for the
/// caller's own credentials: a scoped token cannot make a wider one.
pub fn require_within(
    snapshot: &Snapshot,
    model: &Model,
    authed: &Authed,
    owner: &str,
    scopes: &[String],
) -> ApiResult<()> {
    if let Some(wider) = scopes.iter().find(|s| !authed.caller.scopes.allow(s)) {
        return Err(ApiError::forbidden(
            wider,
            format!(
                "the token you are using does not include `{wider}`, so it cannot make a credential that does"
            ),
        )
        .with_details(json!({ "permission": wider, "rule": "no-escalation" })));
    }
    // A credential for someone else carries its scopes into whatever its owner is given later:
    // its issuer must hold each of them outright, not only what the owner holds today.
    if !authed.system && owner != authed.caller.uid {
        let author = Author {
            principal: &authed.caller.uid,
            scopes: authed.caller.scopes.limit(),
        };
        if let Some(scope) = scopes
            .iter()
            .find(|scope| !holds_unconditionally(snapshot, &author, scope, None))
        {
            return Err(ApiError::forbidden(
                scope,
                format!("this credential would grant `{scope}` at account level, which you do not hold there yourself"),
            )
            .with_details(json!({ "permission": scope, "rule": "no-escalation", "level": "account" })));
        }
    }
    require_acting_as(
        snapshot,
        model,
        authed,
        owner,
        Some(scopes),
        "this credential",
    )
}

/// Changing someone else's credential — disabling, revoking, deleting it as much as widening it —
/// is acting for its owner: a service user the caller may use, or a person whose every
/// permission the credential carries (its scopes, or everything for an unrestricted one) the
/// caller holds. One's own credentials are always one's own to retire.
pub fn require_may_manage(
    state: &AppState,
    snapshot: &Snapshot,
    model: &Model,
    authed: &Authed,
    owner: &str,
    scopes: &Scopes,
) -> ApiResult<()> {
    if authed.system || owner == authed.caller.uid {
        return Ok(());
    }
    if let Some(principal) = model.principals.get(owner)
        && principal.kind == PrincipalKind::ServiceUser
    {
        state.require(
            authed,
            "iam:service-users:use",
            &Level::Account,
            &attributes(&[("iam:service-user-email", &principal.email)]),
        )?;
    }
    require_acting_as(
        snapshot,
        model,
        authed,
        owner,
        scopes.limit(),
        "changing this credential",
    )
}

/// How a credential's owner is shown: uid, email, handle (service users), name and kind.
pub fn owner_dto(model: &Model, uid: &str) -> PrincipalRef {
    let known = model.principals.get(uid).map(|p| KnownPrincipal {
        email: p.email.clone(),
        handle: p.handle.clone(),
        name: p.name.clone(),
        kind: if p.kind == PrincipalKind::ServiceUser {
            "SERVICE_USER"
        } else {
            "USER"
        }
        .to_owned(),
    });
    PrincipalRef {
        uid: uid.to_owned(),
        known,
    }
}
