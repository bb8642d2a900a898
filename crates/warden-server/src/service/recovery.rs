//! Restoring an administrator when none is left (SPEC §6): what `warden admin recover` does, run by
//! the operator on the store itself, with or without a server running on it.
//!
//! The recovery is one write through the server's write pipeline, built on the store the way
//! start-up builds it: revision, change-log entry and audit entry (actor `operator`, action
//! `admin.recover`) commit together, so the audit chain still verifies and running servers and
//! replicas pick the change up like any other write. It is idempotent: it ensures that the user
//! exists and is active, that the group "Warden Administrators" exists and is bound at account
//! level, without boundaries, to the administrator policy (every permission of the catalogue, so
//! every `iam:*` permission), and that the user is a member; what is already so is left alone.
//! Every run mints a new platform token for the user, written to a file only its owner can read.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Serialize;
use serde_json::json;
use warden_engine::builtin::ADMINISTRATOR_POLICY_ID;
use warden_engine::{Attributes, Id, PrincipalKind, Request};
use warden_store::Op;

use crate::auth::new_token;
use crate::bootstrap::{
    ADMINISTRATORS_GROUP, Config, StartError, build_state, create_secret_file, load_builtin,
};
use crate::error::{ApiError, ApiResult};
use crate::model::{Model, binding_record, group_record, principal_record};
use crate::records::{BindingBody, GroupBody, PrincipalBody, TokenBody};
use crate::service::levels::new_uuid;
use crate::service::users::{check_email, user_summary};
use crate::service::{Authed, Plan};
use crate::state::{AppState, Clock};

/// The actor the audit log names for the recovery.
pub const OPERATOR: &str = "operator";
/// The action of the recovery's audit entry.
pub const ACTION: &str = "admin.recover";

/// What the operator asked for.
#[derive(Debug, Clone)]
pub struct Recovery {
    /// The user to make an administrator.
    pub email: String,
    /// Where the new token is written.
    pub token_file: PathBuf,
    /// Replace `token_file` when it exists.
    pub force: bool,
}

/// What happened to the user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum UserChange {
    Created,
    Reactivated,
    Unchanged,
}

/// What the recovery did.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Recovered {
    pub account: String,
    pub email: String,
    pub uid: String,
    pub user: UserChange,
    pub group_uuid: String,
    pub group_name: String,
    pub group_created: bool,
    /// The binding to the administrator policy was missing (or had boundaries) and was written.
    pub binding_restored: bool,
    pub membership_added: bool,
    pub token_id: String,
    pub token_file: PathBuf,
    /// The revision the recovery produced.
    pub revision: i64,
    /// `iam:*` permissions the user is still denied at account level afterwards: a DENY
    /// statement of another of its groups wins over the administrator policy.
    pub still_denied: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum RecoverError {
    #[error("{0}")]
    Start(#[from] StartError),
    #[error("the store has no account yet")]
    NoAccount,
    #[error("the token file `{0}` already exists")]
    TokenFileExists(PathBuf),
    #[error("cannot write the token file `{path}`: {error}")]
    TokenFile { path: PathBuf, error: String },
    /// The store's content does not allow the recovery (the email is a service user's, …).
    #[error("{0}")]
    Refused(String),
    #[error("{0}")]
    Failed(String),
}

impl From<warden_store::StoreError> for RecoverError {
    fn from(error: warden_store::StoreError) -> Self {
        RecoverError::Start(StartError::Store(error))
    }
}

impl From<ApiError> for RecoverError {
    fn from(error: ApiError) -> Self {
        if !matches!(
            error.code,
            crate::service::ErrorCode::Internal | crate::service::ErrorCode::Unavailable
        ) {
            RecoverError::Refused(error.message)
        } else {
            RecoverError::Failed(error.message)
        }
    }
}

/// Opens the store of `config.db`, restores an administrator and closes the store.
pub async fn recover(
    config: &Config,
    recovery: &Recovery,
    clock: Arc<dyn Clock>,
) -> Result<Recovered, RecoverError> {
    // Checked before the store is touched, so that a refusal changes nothing; `create_new`
    // below closes the race with a file created meanwhile.
    if !recovery.force && std::fs::symlink_metadata(&recovery.token_file).is_ok() {
        return Err(RecoverError::TokenFileExists(recovery.token_file.clone()));
    }
    let store = warden_store::Store::open(&config.db).await?;
    if store.meta("account").await?.is_none() {
        store.close().await;
        return Err(RecoverError::NoAccount);
    }
    let builtin = load_builtin(config)?;
    let state = build_state(store, builtin, config, clock).await?;
    let result = recover_on(&state, recovery).await;
    state.store.close().await;
    result
}

/// How long a recovered administrator token lives: 24 hours.
pub const RECOVERED_TOKEN_TTL_MS: i64 = 24 * 3600 * 1000;

/// The recovery on a state built from the store.
pub async fn recover_on(state: &AppState, recovery: &Recovery) -> Result<Recovered, RecoverError> {
    let email = check_email(&recovery.email, &state.domain)?;
    let (token_id, token, secret_hash) = new_token("pt", &state.token_key)?;
    let file = PendingFile::create(&recovery.token_file, recovery.force, &token)?;
    let now = state.now_ms();
    let operator = Authed::system(OPERATOR, new_uuid(), now);
    let token = TokenBody {
        id: token_id,
        kind: "platform".into(),
        owner_uid: String::new(),
        name: "recovered administrator token".into(),
        secret_hash,
        scopes: Vec::new(),
        unrestricted: Some(true),
        status: "ACTIVE".into(),
        // Like the first start's: enough to mend the account and make lasting credentials.
        expires_at: Some(now.saturating_add(RECOVERED_TOKEN_TTL_MS)),
        created_at: now,
        created_by: OPERATOR.into(),
        last_used_at: None,
        client_id: None,
    };
    let written = state
        .write(&operator, |model, _| plan(model, &email, token, now))
        .await;
    let (mut recovered, revision) = match written {
        Ok(written) => written,
        Err(error) => {
            file.discard();
            return Err(error.into());
        }
    };
    recovered.token_file = file.keep()?;
    recovered.revision = revision;
    recovered.still_denied = still_denied(state, &recovered.uid, now);
    Ok(recovered)
}

/// The write: only what is missing, plus the new token.
fn plan(model: &Model, email: &str, token: TokenBody, now: i64) -> ApiResult<Plan<Recovered>> {
    let existing = model
        .directory
        .find_principal(email)
        .and_then(|p| model.principals.get(p.uid.as_ref()));
    let (principal, user) = match existing {
        Some(body) if body.kind == PrincipalKind::ServiceUser => {
            return Err(ApiError::invalid(format!(
                "`{email}` is a service user; an administrator must be a user who can sign in"
            )));
        }
        Some(body) if !body.active() => (
            PrincipalBody {
                deactivation: None,
                ..body.clone()
            },
            UserChange::Reactivated,
        ),
        Some(body) => (body.clone(), UserChange::Unchanged),
        None => (
            PrincipalBody {
                uid: new_uuid(),
                kind: PrincipalKind::User,
                email: email.to_owned(),
                handle: None,
                name: email.to_owned(),
                surname: String::new(),
                description: "Created by `warden admin recover`.".to_owned(),
                owner: None,
                purpose: String::new(),
                group_uuid: None,
                deactivation: None,
                created_at: now,
                created_by: OPERATOR.to_owned(),
                last_reviewed_at: None,
                last_used_at: None,
                password_hash: None,
            },
            UserChange::Created,
        ),
    };
    let (group, group_created) = match model.group_by_name(ADMINISTRATORS_GROUP) {
        Some(group) => (group.clone(), false),
        None => (
            GroupBody {
                uuid: new_uuid(),
                name: ADMINISTRATORS_GROUP.to_owned(),
                description: "Holds every permission of the catalogue. Recreated by `warden \
                              admin recover`."
                    .to_owned(),
                federated_attribute_values: Vec::new(),
                owner: "LOCAL".to_owned(),
                created_at: now,
                updated_at: now,
            },
            true,
        ),
    };
    let mut binding = BindingBody {
        level_type: "account".into(),
        level_id: model.account.clone(),
        policy_uuid: ADMINISTRATOR_POLICY_ID.to_owned(),
        group_uuid: group.uuid.clone(),
        parameters: Default::default(),
        metadata: Default::default(),
        boundaries: Vec::new(),
        created_at: now,
    };
    // A binding of the same identity with boundaries is narrowed: it is replaced by one without.
    let binding_restored = match model.bindings.get(&binding.key()) {
        Some(current) if current.boundaries.is_empty() => false,
        Some(current) => {
            binding.created_at = current.created_at;
            true
        }
        None => true,
    };
    let groups: Vec<Id> = model
        .directory
        .principal(&principal.uid)
        .map(|p| p.groups.to_vec())
        .unwrap_or_default();
    let membership_added = !groups.iter().any(|g| **g == *group.uuid);

    let mut directory = model.directory.clone();
    let mut affected = Vec::new();
    let mut ops = Vec::new();
    if group_created {
        affected.extend(directory.upsert_group(group_record(&group))?);
        ops.push(group.op());
    }
    if binding_restored {
        affected.extend(directory.add_binding(binding_record(&binding))?);
        ops.push(binding.op());
    }
    if user != UserChange::Unchanged {
        directory.upsert_principal(principal_record(&principal, groups.clone()))?;
        ops.push(principal.op());
    }
    if membership_added {
        let mut joined = groups;
        joined.push(Id::from(group.uuid.as_str()));
        directory.set_memberships(&principal.uid, joined)?;
        ops.push(Op::AddMembership {
            uid: principal.uid.clone(),
            group: group.uuid.clone(),
        });
    }
    let token = TokenBody {
        owner_uid: principal.uid.clone(),
        ..token
    };
    ops.push(token.op());

    let recovered = Recovered {
        account: model.account.clone(),
        email: principal.email.clone(),
        uid: principal.uid.clone(),
        user,
        group_uuid: group.uuid.clone(),
        group_name: group.name.clone(),
        group_created,
        binding_restored,
        membership_added,
        token_id: token.id.clone(),
        token_file: PathBuf::new(),
        revision: 0,
        still_denied: Vec::new(),
    };
    let mut plan = Plan::new(ACTION, format!("user/{}", principal.uid), recovered);
    plan.before = Some(json!({
        "user": existing.map(user_summary),
        "group": (!group_created).then(|| group.uuid.clone()),
        "bound": !binding_restored,
        "member": !membership_added,
    }));
    plan.after = Some(json!({
        "user": user_summary(&principal),
        "userChange": user,
        "group": { "uuid": group.uuid, "name": group.name, "created": group_created },
        "bindingRestored": binding_restored,
        "membershipAdded": membership_added,
        "token": token.id,
    }));
    plan.ops = ops;
    plan.directory = Some((directory, affected));
    plan.apply = Box::new(move |model: &mut Model| {
        if binding_restored {
            model.bindings.insert(binding.key(), binding);
        }
        model.groups.insert(group.uuid.clone(), group);
        model.principals.insert(principal.uid.clone(), principal);
        model.tokens.insert(token.id.clone(), Arc::new(token));
    });
    Ok(plan)
}

/// The `iam:*` permissions of the catalogue that `uid` is denied at account level.
fn still_denied(state: &AppState, uid: &str, now_ms: i64) -> Vec<String> {
    let snapshot = state.snapshot();
    let attributes = Attributes::new();
    snapshot
        .catalogue()
        .permissions()
        .filter(|p| p.name.starts_with("iam:"))
        .filter(|p| {
            !snapshot
                .decide(&Request {
                    principal: uid,
                    permission: &p.name,
                    environment: None,
                    attributes: &attributes,
                    time: now_ms.div_euclid(1000),
                })
                .is_allowed()
        })
        .map(|p| p.name.clone())
        .collect()
}

/// The token file, written before the commit so that no token exists without its file: kept
/// after the commit, removed when the commit fails. With `force` the token goes to a temporary
/// file beside the target first, so that a failed recovery leaves an existing file as it was.
struct PendingFile {
    target: PathBuf,
    temporary: Option<PathBuf>,
}

impl PendingFile {
    fn create(target: &Path, force: bool, secret: &str) -> Result<PendingFile, RecoverError> {
        let error = |e: std::io::Error| {
            if e.kind() == std::io::ErrorKind::AlreadyExists && !force {
                RecoverError::TokenFileExists(target.to_path_buf())
            } else {
                RecoverError::TokenFile {
                    path: target.to_path_buf(),
                    error: e.to_string(),
                }
            }
        };
        if !force {
            create_secret_file(target, secret).map_err(error)?;
            return Ok(PendingFile {
                target: target.to_path_buf(),
                temporary: None,
            });
        }
        let name = target
            .file_name()
            .map_or_else(|| "token".into(), |n| n.to_string_lossy().into_owned());
        let temporary = target.with_file_name(format!(".{name}.{}.tmp", new_uuid()));
        create_secret_file(&temporary, secret).map_err(error)?;
        Ok(PendingFile {
            target: target.to_path_buf(),
            temporary: Some(temporary),
        })
    }

    fn keep(self) -> Result<PathBuf, RecoverError> {
        if let Some(temporary) = &self.temporary {
            std::fs::rename(temporary, &self.target).map_err(|e| RecoverError::TokenFile {
                path: self.target.clone(),
                error: format!(
                    "{e}; the recovery is committed and its token is in `{}`",
                    temporary.display()
                ),
            })?;
        }
        Ok(self.target)
    }

    fn discard(self) {
        let _ = std::fs::remove_file(self.temporary.as_ref().unwrap_or(&self.target));
    }
}
