//! Levels as requests name them (`{levelType}/{levelId}`), checked against the account, and new
//! ids.

use warden_engine::Level;

use crate::model::Model;
use crate::service::error::{ApiError, ApiResult};

/// The level of a `/repo/{lt}/{lid}` path, checked against the account.
pub fn level(model: &Model, level_type: &str, level_id: &str) -> ApiResult<Level> {
    match level_type {
        "global" if level_id == "global" => Ok(Level::Global),
        "global" => Err(ApiError::invalid("the global level's id is `global`")),
        "account" if level_id == model.account => Ok(Level::Account),
        "account" => Err(ApiError::not_found("account", level_id)),
        "environment" if model.environments.contains_key(level_id) => {
            Ok(Level::Environment(level_id.into()))
        }
        "environment" => Err(ApiError::not_found("environment", level_id)),
        other => Err(ApiError::invalid(format!(
            "unknown level type `{other}`; use `global`, `account` or `environment`"
        ))),
    }
}

/// `(levelType, levelId)` for responses.
pub fn level_parts(model: &Model, level: &Level) -> (&'static str, String) {
    match level {
        Level::Global => ("global", "global".to_owned()),
        Level::Account => ("account", model.account.clone()),
        Level::Environment(env) => ("environment", env.to_string()),
    }
}

/// Rejects writes at the global level, which is read-only.
pub fn writable(level: &Level, what: &str) -> ApiResult<()> {
    if *level == Level::Global {
        return Err(ApiError::invalid(format!(
            "the global level is read-only: you can't {what} there"
        )));
    }
    Ok(())
}

/// A new random uuid.
pub fn new_uuid() -> String {
    uuid::Uuid::new_v4().to_string()
}
