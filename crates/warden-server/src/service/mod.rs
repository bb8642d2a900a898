//! The service layer: every use case that changes Warden, with no transport in sight.
//!
//! A use case takes an actor ([`Authed`]) and a typed input, and returns a typed output or an
//! [`ApiError`]. It authorises (`iam:*` permissions through Warden's own engine, [`guard`]),
//! validates, plans its change and commits it through [`AppState::write`](crate::state::AppState),
//! which checks the change's effect — no escalation, an administrator always kept — for every
//! use case alike ([`commit`]). The HTTP handlers, the console and start-up only translate to
//! and from these calls; nothing else writes.
//!
//! This layer does not own reading requests or rendering answers (`crate::api`,
//! `crate::console`), the store (`warden_store`) or decisions (`warden_engine`).

pub mod access_tokens;
pub mod actor;
pub mod audit;
pub mod authzen;
pub mod batch;
pub mod bindings;
pub mod boundaries;
pub mod catalogue;
pub mod commit;
pub mod decision_input;
pub mod decisions;
pub mod effective;
pub mod elevation;
pub mod environments;
pub mod error;
pub mod first_start;
pub mod group_permissions;
pub mod groups;
pub mod guard;
pub mod history;
pub mod issuing;
pub mod levels;
pub mod naming;
pub mod oauth;
pub mod oauth_clients;
pub mod passwords;
pub mod platform_tokens;
pub mod policies;
pub mod recovery;
pub mod residuals;
pub mod review;
pub mod service_users;
pub mod sessions;
pub mod suggestions;
pub mod users;
pub mod workflows;

pub use actor::{Authed, Caller, RequestContext, Scopes};
pub use commit::Plan;
pub use error::{ApiError, ApiResult, ErrorCode};

#[cfg(test)]
mod tests {
    /// The layer stays transport-free: no file of it names the HTTP stack.
    #[test]
    fn no_use_case_knows_http() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/service");
        let mut checked = 0;
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                // Spelled in parts, so that this file does not name them either.
                let words = [
                    concat!("ax", "um"),
                    concat!("hy", "per"),
                    concat!("http", "::"),
                    concat!("Status", "Code"),
                    concat!("Header", "Map"),
                ];
                for word in words {
                    assert!(!text.contains(word), "{} names `{word}`", path.display());
                }
                checked += 1;
            }
        }
        assert!(checked >= 20, "only {checked} files checked");
    }
}
