//! Console passwords: an administrator sets a user's password.
//!
//! - Needs `iam:users:write`, from a caller without token scopes: a password signs in with every
//!   permission of its user, so a scoped token could otherwise mint itself a wider credential.
//! - Setting another person's password is acting as them (SPEC §6): the caller must hold
//!   everything that person holds, at every level and under every condition, and admin mode for
//!   the workflows they own privately or run ([`require_acting_as`]).
//! - ASVS 5.0 6.2: 12 to 128 characters (Unicode scalar values), any characters, verified exactly
//!   as given (no truncation, no case folding, no trimming). Stored only as an argon2id PHC
//!   string (default parameters: m = 19456 KiB, t = 2, p = 1; ASVS appendix C).
//! - Service users never sign in with a password: 400.
//!
//! The audit entry records that a password was set, never the password or its hash. Console
//! sessions signed in with the previous password end at their next request.

use serde_json::json;
use warden_engine::PrincipalKind;

use crate::model::Model;
use crate::service::groups::account;
use crate::service::guard::{attributes, require_acting_as};
use crate::service::users::find;
use crate::service::{ApiError, ApiResult, Authed, ErrorCode, Plan, Scopes};
use crate::state::AppState;

/// Fewest characters of a password.
pub const MIN_PASSWORD_CHARS: usize = 12;
/// Most characters of a password.
pub const MAX_PASSWORD_CHARS: usize = 128;

pub use warden_api::users::PasswordInput;

/// The length rule, with a message that says what is allowed.
pub fn check_password(password: &str) -> ApiResult<()> {
    let length = password.chars().count();
    if length < MIN_PASSWORD_CHARS {
        return Err(ApiError::invalid(format!(
            "the password has {length} characters; at least {MIN_PASSWORD_CHARS} are needed (a passphrase of a few words is easiest)"
        ))
        .with_details(json!({ "field": "password", "min": MIN_PASSWORD_CHARS })));
    }
    if length > MAX_PASSWORD_CHARS {
        return Err(ApiError::invalid(format!(
            "the password has {length} characters; at most {MAX_PASSWORD_CHARS} are allowed"
        ))
        .with_details(json!({ "field": "password", "max": MAX_PASSWORD_CHARS })));
    }
    Ok(())
}

/// Sets the console password of the user `key` (uid or email); returns the revision.
pub async fn set_password(
    state: &AppState,
    authed: &Authed,
    acc: &str,
    key: &str,
    input: PasswordInput,
) -> ApiResult<i64> {
    check_password(&input.password)?;
    // Permissions first, so that a caller without them cannot make the server hash.
    {
        let model = state.model.lock().await;
        let level = account(&model, acc)?;
        state.require(authed, "iam:users:write", &level, &attributes(&[]))?;
    }
    // In the bounded argon2id pool: 503 with `Retry-After` when its queue is full.
    let hash = state.hashing.hash(input.password).await?;
    let ((), revision) = state
        .write(authed, |model, snapshot| {
            let level = account(model, acc)?;
            state.require(authed, "iam:users:write", &level, &attributes(&[]))?;
            if authed.caller.scopes != Scopes::All {
                return Err(ApiError::new(
                    ErrorCode::Forbidden,
                    "a password gives every permission of its user: set it with an unscoped token or from a console session, not with a scoped token",
                )
                .with_details(json!({ "permission": "iam:users:write", "rule": "unscoped-caller-only" })));
            }
            let body = find(model, key)?.clone();
            if body.kind == PrincipalKind::ServiceUser {
                return Err(ApiError::invalid(
                    "service users never sign in with a password; give them an OAuth client or a platform token",
                ));
            }
            if body.uid != authed.caller.uid {
                require_acting_as(
                    snapshot,
                    model,
                    authed,
                    &body.uid,
                    None,
                    "setting this password",
                )?;
            }
            let had = body.password_hash.is_some();
            let changed = crate::records::PrincipalBody {
                password_hash: Some(hash),
                ..body
            };
            let mut plan = Plan::new("user.password", format!("user/{}", changed.uid), ());
            plan.before = Some(json!({ "passwordSet": had }));
            plan.after = Some(json!({ "passwordSet": true }));
            plan.ops = vec![changed.op()];
            plan.apply = Box::new(move |model: &mut Model| {
                model.principals.insert(changed.uid.clone(), changed);
            });
            Ok(plan)
        })
        .await?;
    Ok(revision)
}
