//! What Warden writes by itself at start-up, before any caller exists: the account on the first
//! start (SPEC §6: the default groups bound to their global policies, "Warden Administrators"
//! bound to the administrator policy, an administrator in Account Admins and Warden
//! Administrators, and its token, written to a file only its owner can read), and the
//! environments the configuration names. Each is one store transaction with its audit entry,
//! made as the system: there is nobody to authorise yet, and nothing existing to escalate over.

use serde_json::json;
use warden_engine::builtin::ADMINISTRATOR_POLICY_ID;
use warden_engine::{Builtin, PrincipalKind};
use warden_store::{Op, Store, Write};

use crate::auth::{new_token, random_bytes};
use crate::bootstrap::{ADMINISTRATORS_GROUP, Bootstrapped, Config, StartError, write_secret_file};
use crate::records::{BindingBody, EnvironmentBody, GroupBody, PrincipalBody, TokenBody};
use crate::service::levels::new_uuid;

/// Creates the account in an empty store; `None` when another replica did it first.
pub async fn create_account(
    store: &Store,
    builtin: &Builtin,
    config: &Config,
    now: i64,
) -> Result<Option<Bootstrapped>, StartError> {
    let account = new_uuid();
    let key = random_bytes(32).map_err(|e| StartError::Other(e.message))?;
    let key_hex: String = key.iter().map(|b| format!("{b:02x}")).collect();
    let mut ops = vec![
        Op::PutMeta {
            key: "account".into(),
            value: account.clone(),
        },
        Op::PutMeta {
            key: "token_key".into(),
            value: key_hex,
        },
    ];
    for id in &config.environments {
        check_environment_id(id)?;
        ops.push(
            EnvironmentBody {
                id: id.clone(),
                name: id.clone(),
                created_at: now,
            }
            .op(),
        );
    }
    let group = |name: &str, description: &str| GroupBody {
        uuid: new_uuid(),
        name: name.to_owned(),
        description: description.to_owned(),
        federated_attribute_values: Vec::new(),
        owner: "LOCAL".to_owned(),
        created_at: now,
        updated_at: now,
    };
    let bind = |group: &GroupBody, policy: String| BindingBody {
        level_type: "account".into(),
        level_id: account.clone(),
        policy_uuid: policy,
        group_uuid: group.uuid.clone(),
        parameters: Default::default(),
        metadata: Default::default(),
        boundaries: Vec::new(),
        created_at: now,
    };
    let mut admin_groups = Vec::new();
    for default in &builtin.groups {
        let body = group(&default.name, &default.description);
        for name in &default.policies {
            let policy = builtin
                .policy(name)
                .ok_or_else(|| StartError::Builtin(format!("no global policy `{name}`")))?;
            ops.push(bind(&body, policy.id()).op());
        }
        if default.name == "Account Admins" {
            admin_groups.push(body.uuid.clone());
        }
        ops.push(body.op());
    }
    let administrators = group(
        ADMINISTRATORS_GROUP,
        "Holds every permission of the catalogue. Created at the first start.",
    );
    ops.push(bind(&administrators, ADMINISTRATOR_POLICY_ID.to_owned()).op());
    admin_groups.push(administrators.uuid.clone());
    ops.push(administrators.op());

    let admin = PrincipalBody {
        uid: new_uuid(),
        kind: PrincipalKind::User,
        email: warden_engine::directory::normalise_email(&config.admin_email),
        handle: None,
        name: "Administrator".to_owned(),
        surname: String::new(),
        description: "Created at the first start.".to_owned(),
        owner: None,
        purpose: String::new(),
        group_uuid: None,
        deactivation: None,
        created_at: now,
        created_by: "bootstrap".to_owned(),
        last_reviewed_at: None,
        last_used_at: None,
        password_hash: None,
    };
    ops.push(admin.op());
    ops.push(Op::SetMemberships {
        uid: admin.uid.clone(),
        groups: admin_groups,
    });
    let (id, token, hash) = new_token("pt", &key).map_err(|e| StartError::Other(e.message))?;
    let ttl_ms = i64::try_from(config.bootstrap_token_ttl.as_millis()).unwrap_or(i64::MAX);
    let expires_at = now.saturating_add(ttl_ms);
    let token_body = TokenBody {
        id,
        kind: "platform".into(),
        owner_uid: admin.uid.clone(),
        name: "bootstrap administrator token".into(),
        secret_hash: hash,
        scopes: Vec::new(),
        unrestricted: Some(true),
        status: "ACTIVE".into(),
        expires_at: Some(expires_at),
        created_at: now,
        created_by: "bootstrap".into(),
        last_used_at: None,
        client_id: None,
    };
    ops.push(token_body.op());

    // The file first: if the commit fails it is removed, and no token exists without its file.
    write_secret_file(&config.token_file, &token)?;
    let write = Write {
        actor: "bootstrap".into(),
        action: "account.bootstrap".into(),
        target: format!("account/{account}"),
        before: None,
        after: Some(
            json!({ "account": account, "admin": admin.email, "token": token_body.id }).to_string(),
        ),
        request_id: new_uuid(),
        at: now,
        ops,
        // Only into an empty store: replicas starting together create one account, not two.
        expected_revision: Some(0),
    };
    match store.write(write).await {
        Ok(_) => {}
        Err(warden_store::StoreError::Stale { .. }) => {
            let _ = std::fs::remove_file(&config.token_file);
            return Ok(None);
        }
        Err(error) => {
            let _ = std::fs::remove_file(&config.token_file);
            return Err(error.into());
        }
    }
    Ok(Some(Bootstrapped {
        account,
        admin_email: admin.email,
        token_file: config.token_file.clone(),
        token_expires_at: expires_at,
    }))
}

fn check_environment_id(id: &str) -> Result<(), StartError> {
    let valid = !id.is_empty()
        && id.len() <= 64
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if valid {
        Ok(())
    } else {
        Err(StartError::Other(format!(
            "environment id `{id}` must be 1–64 characters of letters, digits, `-` and `_`"
        )))
    }
}

/// Creates the environments of the configuration that the store does not have yet.
pub async fn ensure_environments(
    store: &Store,
    config: &Config,
    now: i64,
) -> Result<(), StartError> {
    let loaded = store.load().await?;
    let existing: Vec<EnvironmentBody> = loaded
        .environments
        .iter()
        .filter_map(|b| serde_json::from_str(b).ok())
        .collect();
    let missing: Vec<&String> = config
        .environments
        .iter()
        .filter(|e| !existing.iter().any(|x| &x.id == *e))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    for id in &missing {
        check_environment_id(id)?;
    }
    let ops = missing
        .iter()
        .map(|id| {
            EnvironmentBody {
                id: (*id).clone(),
                name: (*id).clone(),
                created_at: now,
            }
            .op()
        })
        .collect();
    let write = Write {
        actor: "configuration".into(),
        action: "environment.create".into(),
        target: format!(
            "environments/{}",
            missing
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(",")
        ),
        before: None,
        after: None,
        request_id: new_uuid(),
        at: now,
        ops,
        expected_revision: None,
    };
    store.write(write).await?;
    Ok(())
}
