//! Several writes made as one (`warden apply --atomic`): each write is the use case it stands
//! for — the same authorisation, validation and planning as the single request — run against a
//! *working copy* of the model and the snapshot, and the batch commits once.
//!
//! Inside a batch, [`AppState::write`] stages instead of committing (the commit pipeline's
//! [`staging`] hook): it plans against the working copy, runs the same guard as any write (no
//! escalation against the state as the batch's earlier writes left it, the last administrator
//! kept), applies the plan to the working copy and keeps its store entry. [`AppState::snapshot`]
//! answers the working snapshot, so the permission checks of later writes see earlier ones: a
//! batch that takes a permission from its author cannot use it afterwards.
//!
//! The batch holds the model lock from start to commit, so no other write of this server
//! interleaves; another replica's write in between makes the store refuse the commit (`Stale`)
//! and nothing is changed. A refusal anywhere drops the working copy: nothing stored, nothing
//! published.

use std::cell::RefCell;
use std::sync::Arc;

use serde_json::json;
use warden_api::batch::MAX_BATCH_WRITES;
use warden_api::batch::{BatchBinding, BatchWrite, WriteBatch, WriteBatchResult, WriteOutcome};
use warden_api::bindings::BindingInput;
use warden_api::boundaries::BoundaryInput;
use warden_api::environments::EnvironmentInput;
use warden_api::groups::GroupInput;
use warden_api::policies::PolicyInput;
use warden_api::service_users::ServiceUserInput;
use warden_api::users::UserInput;
use warden_engine::{PrincipalKind, Snapshot};
use warden_store::Write;

use crate::model::Model;
use crate::records::fold;
use crate::service::bindings::BindingFilter;
use crate::service::commit::stale;
use crate::service::users::Change;
use crate::service::{
    ApiError, ApiResult, Authed, authzen, bindings, boundaries, environments, groups, policies,
    service_users, users,
};
use crate::state::AppState;

tokio::task_local! {
    static BATCH: Working;
}

/// The batch's working copy: the model and snapshot as its writes so far left them, and their
/// store entries.
#[derive(Debug)]
pub struct Working {
    pub model: RefCell<Model>,
    snapshot: RefCell<Arc<Snapshot>>,
    pub writes: RefCell<Vec<Write>>,
    /// The revision the batch started from.
    pub base: u64,
}

impl Working {
    pub fn snapshot(&self) -> Arc<Snapshot> {
        Arc::clone(&self.snapshot.borrow())
    }

    pub fn publish(&self, next: Snapshot) {
        *self.snapshot.borrow_mut() = Arc::new(next);
    }
}

/// Runs `f` on the working copy when the current task is inside a batch.
pub fn staging<R>(f: impl FnOnce(&Working) -> R) -> Option<R> {
    BATCH.try_with(f).ok()
}

/// The working snapshot, when the current task is inside a batch.
pub fn working_snapshot() -> Option<Arc<Snapshot>> {
    staging(Working::snapshot)
}

/// Applies `input.writes` in order as one change, or none of them.
pub async fn apply(
    state: &AppState,
    authed: &Authed,
    account: &str,
    input: WriteBatch,
) -> ApiResult<WriteBatchResult> {
    if input.writes.len() > MAX_BATCH_WRITES {
        return Err(ApiError::invalid(format!(
            "a batch holds at most {MAX_BATCH_WRITES} writes; this one has {}: split it into several batches",
            input.writes.len()
        )));
    }
    if staging(|_| ()).is_some() {
        return Err(ApiError::invalid("a batch cannot hold a batch"));
    }
    state.catch_up().await.map_err(|error| {
        tracing::warn!(%error, "cannot catch up before a batch");
        ApiError::unavailable(
            "the store is unavailable; nothing was changed, retry later",
            5,
        )
    })?;
    let mut model = state.model.lock().await;
    let snapshot = state.snapshot();
    if model.account != account {
        return Err(ApiError::not_found("account", account));
    }
    let working = Working {
        model: RefCell::new(model.clone()),
        snapshot: RefCell::new(Arc::clone(&snapshot)),
        writes: RefCell::new(Vec::new()),
        base: snapshot.revision,
    };
    let writes = input.writes;
    let (working, outcomes) = BATCH
        .scope(working, async {
            let mut outcomes = Vec::with_capacity(writes.len());
            for (index, write) in writes.iter().enumerate() {
                let outcome = one(state, authed, account, write)
                    .await
                    .map_err(|error| refused(error, index, write))?;
                outcomes.push(outcome);
            }
            let working = BATCH.try_with(|w| Working {
                model: RefCell::new(w.model.take()),
                snapshot: RefCell::new(w.snapshot()),
                writes: RefCell::new(w.writes.take()),
                base: w.base,
            });
            working
                .map(|w| (w, outcomes))
                .map_err(|_| ApiError::internal("the batch's working copy is gone"))
        })
        .await?;
    let revision = working.base + 1;
    let entries = working.writes.into_inner();
    if input.dry_run || entries.is_empty() {
        return Ok(WriteBatchResult {
            revision: i64::try_from(if entries.is_empty() {
                working.base
            } else {
                revision
            })
            .unwrap_or(i64::MAX),
            dry_run: input.dry_run,
            writes: outcomes,
        });
    }
    let committed = match state.store.write_all(entries).await {
        Ok(committed) => committed,
        Err(warden_store::StoreError::Stale { current }) => {
            drop(model);
            let _ = state.catch_up().await;
            return Err(stale(current));
        }
        Err(error) => return Err(error.into()),
    };
    // The store gave the revision the working snapshot was built for (its `expected_revision`
    // was the base).
    *model = working.model.into_inner();
    let next = Arc::unwrap_or_clone(working.snapshot.into_inner());
    model.directory = next.directory().clone();
    state.cell.store(next);
    state.tokens.store(Arc::new(model.tokens.clone()));
    Ok(WriteBatchResult {
        revision: committed.revision,
        dry_run: false,
        writes: outcomes,
    })
}

/// The error of the refused write, naming it: which one (`details.write`, from 0) and its kind.
fn refused(mut error: ApiError, index: usize, write: &BatchWrite) -> ApiError {
    error.message = format!(
        "write {index} (`{}`) was refused, so nothing was changed: {}",
        write.kind(),
        error.message
    );
    let mut details = error.details.take().map_or_else(|| json!({}), |d| *d);
    if let Some(object) = details.as_object_mut() {
        object.insert("write".to_owned(), json!(index));
        object.insert("kind".to_owned(), json!(write.kind()));
    } else {
        details = json!({ "write": index, "kind": write.kind(), "details": details });
    }
    error.with_details(details)
}

/// Reads the working model.
fn with_model<R>(f: impl FnOnce(&Model) -> ApiResult<R>) -> ApiResult<R> {
    staging(|w| f(&w.model.borrow()))
        .unwrap_or_else(|| Err(ApiError::internal("a batch write outside a batch")))
}

fn outcome(write: &BatchWrite, id: Option<String>, warnings: Vec<String>) -> WriteOutcome {
    WriteOutcome {
        write: write.kind().to_owned(),
        id,
        warnings,
    }
}

/// One write: its names resolved against the working model, then the use case.
async fn one(
    state: &AppState,
    authed: &Authed,
    account: &str,
    write: &BatchWrite,
) -> ApiResult<WriteOutcome> {
    match write {
        BatchWrite::SetAuthzen { mapping } => {
            authzen::replace_mapping(state, authed, account, mapping.clone()).await?;
            Ok(outcome(write, None, Vec::new()))
        }
        BatchWrite::CreateEnvironment { id, name } => {
            let input = EnvironmentInput {
                id: id.clone(),
                name: name.clone(),
            };
            let (created, _) = environments::create(state, authed, account, input).await?;
            Ok(outcome(write, Some(created.id), Vec::new()))
        }
        BatchWrite::PutBoundary {
            name,
            boundary_query,
        } => {
            let uuid = with_model(|m| Ok(boundary_named(m, name)))?;
            let input = BoundaryInput {
                name: name.clone(),
                boundary_query: boundary_query.clone(),
                metadata: Default::default(),
            };
            let saved = boundaries::save(state, authed, account, uuid, input).await?;
            Ok(outcome(write, Some(saved.boundary.uuid), Vec::new()))
        }
        BatchWrite::PutPolicy {
            name,
            statement_query,
            description,
        } => {
            let uuid = with_model(|m| Ok(policy_named(m, name)))?;
            let input = PolicyInput {
                name: name.clone(),
                description: description.clone(),
                tags: Vec::new(),
                statement_query: statement_query.clone(),
                category: None,
            };
            let saved = policies::save(state, authed, "account", account, uuid, input).await?;
            Ok(outcome(write, Some(saved.policy.uuid), Vec::new()))
        }
        BatchWrite::CreateGroup { name, description } => {
            let input = GroupInput {
                name: name.clone(),
                description: description.clone(),
                federated_attribute_values: Vec::new(),
            };
            let (created, _) = groups::create(state, authed, account, vec![input]).await?;
            Ok(outcome(
                write,
                created.into_iter().next().map(|g| g.uuid),
                Vec::new(),
            ))
        }
        BatchWrite::Bind {
            group,
            policy,
            global,
            environment,
            replace,
            bindings: entries,
        } => {
            let (group, policy, inputs) = with_model(|m| {
                let group = group_named(m, group)?;
                let policy = bindable(m, policy, *global)?;
                let inputs = entries
                    .iter()
                    .map(|b| binding_input(m, b))
                    .collect::<ApiResult<Vec<_>>>()?;
                Ok((group, policy, inputs))
            })?;
            let (level_type, level_id) = level_of(account, environment.as_deref());
            let mut warnings = Vec::new();
            for (index, input) in inputs.into_iter().enumerate() {
                // The old bindings give way to the first new one in one write, so that a DENY
                // being changed is never absent in between.
                let filter = BindingFilter {
                    force_multiple: true,
                    ..BindingFilter::default()
                };
                let replacing = (*replace && index == 0).then_some(&filter);
                let bound = bindings::add(
                    state,
                    authed,
                    level_type,
                    level_id,
                    &policy,
                    vec![(group.clone(), input)],
                    replacing,
                )
                .await?;
                warnings.extend(bound.warnings);
            }
            Ok(outcome(write, None, warnings))
        }
        BatchWrite::Unbind {
            group,
            policy,
            global,
            environment,
        } => {
            let (group, policy) =
                with_model(|m| Ok((group_named(m, group)?, bindable(m, policy, *global)?)))?;
            let (level_type, level_id) = level_of(account, environment.as_deref());
            let filter = BindingFilter {
                force_multiple: true,
                ..BindingFilter::default()
            };
            bindings::delete_where(
                state,
                authed,
                level_type,
                level_id,
                Some(&policy),
                Some(&group),
                &filter,
            )
            .await?;
            Ok(outcome(write, None, Vec::new()))
        }
        BatchWrite::CreateUser { email, groups } => {
            let ids = with_model(|m| group_ids(m, groups))?;
            let input = UserInput {
                email: email.clone(),
                name: String::new(),
                surname: String::new(),
                uid: String::new(),
            };
            let (created, _) = users::create(state, authed, account, input).await?;
            if !ids.is_empty() {
                users::change_memberships(
                    state,
                    authed,
                    account,
                    &created.uid,
                    Change::Replace(ids),
                    None,
                )
                .await?;
            }
            Ok(outcome(write, Some(created.uid), Vec::new()))
        }
        BatchWrite::CreateServiceUser {
            name,
            groups,
            justification,
        } => {
            let ids = with_model(|m| group_ids(m, groups))?;
            let input = ServiceUserInput {
                name: name.clone(),
                ..ServiceUserInput::default()
            };
            let warnings = service_users::name_warnings(state, Some(name));
            let (created, _) = service_users::create(state, authed, account, input).await?;
            if !ids.is_empty() {
                users::change_memberships(
                    state,
                    authed,
                    account,
                    &created.uid,
                    Change::Add(ids),
                    justification.clone(),
                )
                .await?;
            }
            Ok(outcome(write, Some(created.uid), warnings))
        }
        BatchWrite::SetUserGroups {
            email,
            groups,
            justification,
        } => {
            let (uid, ids) = with_model(|m| Ok((user_named(m, email)?, group_ids(m, groups)?)))?;
            users::change_memberships(
                state,
                authed,
                account,
                &uid,
                Change::Replace(ids),
                justification.clone(),
            )
            .await?;
            Ok(outcome(write, Some(uid), Vec::new()))
        }
        BatchWrite::SetServiceUserGroups {
            name,
            groups,
            justification,
        } => {
            let (uid, ids) = with_model(|m| {
                let body = service_user_named(m, name)?;
                let mut keys: Vec<String> = body.group_uuid.iter().cloned().collect();
                keys.extend(groups.iter().cloned());
                Ok((body.uid.clone(), group_ids(m, &keys)?))
            })?;
            users::change_memberships(
                state,
                authed,
                account,
                &uid,
                Change::Replace(ids),
                justification.clone(),
            )
            .await?;
            Ok(outcome(write, Some(uid), Vec::new()))
        }
        BatchWrite::DeleteUser { email } => {
            let uid = with_model(|m| user_named(m, email))?;
            users::delete(state, authed, account, &uid).await?;
            Ok(outcome(write, Some(uid), Vec::new()))
        }
        BatchWrite::DeleteServiceUser { name } => {
            let uid = with_model(|m| Ok(service_user_named(m, name)?.uid.clone()))?;
            service_users::delete(state, authed, account, &uid).await?;
            Ok(outcome(write, Some(uid), Vec::new()))
        }
        BatchWrite::DeleteGroup { name } => {
            let uuid = with_model(|m| group_named(m, name))?;
            groups::delete(state, authed, account, &uuid).await?;
            Ok(outcome(write, Some(uuid), Vec::new()))
        }
        BatchWrite::DeletePolicy { name } => {
            let uuid = with_model(|m| {
                policy_named(m, name).ok_or_else(|| ApiError::not_found("policy", name))
            })?;
            policies::delete(state, authed, "account", account, &uuid, false).await?;
            Ok(outcome(write, Some(uuid), Vec::new()))
        }
        BatchWrite::DeleteBoundary { name } => {
            let uuid = with_model(|m| {
                boundary_named(m, name).ok_or_else(|| ApiError::not_found("boundary", name))
            })?;
            boundaries::delete(state, authed, account, &uuid).await?;
            Ok(outcome(write, Some(uuid), Vec::new()))
        }
    }
}

fn level_of<'a>(account: &'a str, environment: Option<&'a str>) -> (&'static str, &'a str) {
    match environment {
        Some(id) => ("environment", id),
        None => ("account", account),
    }
}

fn group_named(model: &Model, name: &str) -> ApiResult<String> {
    model
        .groups
        .values()
        .find(|g| fold(&g.name) == fold(name))
        .map(|g| g.uuid.clone())
        .ok_or_else(|| ApiError::not_found("group", name))
}

/// Groups of a membership write, each by uuid or name (a uuid lets a caller keep a membership
/// in a group it cannot name, such as a service user's own group), without repeats.
fn group_ids(model: &Model, keys: &[String]) -> ApiResult<Vec<String>> {
    let mut ids: Vec<String> = Vec::new();
    for key in keys {
        let id = if model.groups.contains_key(key) {
            key.clone()
        } else {
            group_named(model, key)?
        };
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    Ok(ids)
}

/// The account policy with this name (environment policies are not named by a batch).
fn policy_named(model: &Model, name: &str) -> Option<String> {
    model
        .policies
        .values()
        .find(|p| p.level_type == "account" && fold(&p.name) == fold(name))
        .map(|p| p.uuid.clone())
}

/// The policy a binding names: a global one by name, or an account policy.
fn bindable(model: &Model, name: &str, global: bool) -> ApiResult<String> {
    if global {
        model
            .directory
            .policies()
            .find(|p| p.level == warden_engine::Level::Global && fold(&p.name) == fold(name))
            .map(|p| p.id.to_string())
            .ok_or_else(|| ApiError::not_found("global policy", name))
    } else {
        policy_named(model, name).ok_or_else(|| ApiError::not_found("policy", name))
    }
}

fn boundary_named(model: &Model, name: &str) -> Option<String> {
    model
        .boundaries
        .values()
        .find(|b| fold(&b.name) == fold(name))
        .map(|b| b.uuid.clone())
}

/// The uid of the person (not a service user) with this email.
fn user_named(model: &Model, email: &str) -> ApiResult<String> {
    let user = users::find(model, email)?;
    if user.kind == PrincipalKind::User {
        Ok(user.uid.clone())
    } else {
        Err(ApiError::not_found("user", email))
    }
}

/// The service user with this name; two of the same name are refused rather than guessed.
fn service_user_named<'a>(
    model: &'a Model,
    name: &str,
) -> ApiResult<&'a crate::records::PrincipalBody> {
    let mut found = model
        .principals
        .values()
        .filter(|p| p.kind == PrincipalKind::ServiceUser && fold(&p.name) == fold(name));
    match (found.next(), found.next()) {
        (Some(one), None) => Ok(one),
        (None, _) => Err(ApiError::not_found("service user", name)),
        (Some(_), Some(_)) => Err(ApiError::conflict(format!(
            "more than one service user is named `{name}`; rename one of them, then apply again"
        ))),
    }
}

fn binding_input(model: &Model, binding: &BatchBinding) -> ApiResult<BindingInput> {
    let boundaries = binding
        .boundaries
        .iter()
        .map(|name| {
            boundary_named(model, name).ok_or_else(|| ApiError::not_found("boundary", name))
        })
        .collect::<ApiResult<Vec<_>>>()?;
    Ok(BindingInput {
        parameters: binding.parameters.clone(),
        metadata: binding.metadata.clone(),
        boundaries,
    })
}
