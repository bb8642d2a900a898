//! Cedar's view of a world: the statements the engine compiles, translated to Cedar policies by
//! `warden_bench::translate` (see docs/benchmark.md for the mapping and its restrictions), and the
//! requests asked of `cedar_policy::Authorizer`.
//!
//! What the translation cannot express is skipped, never guessed: a world with a time condition,
//! a `?` pattern or a `${global:…}` placeholder (the translation refuses it), a request that gives
//! several values to an attribute Cedar holds as one string (the translation refuses it), and a
//! request in an environment the account does not have (Cedar's `resource` cannot tell a known
//! environment from an unknown one). Principals the translation does not model are handled here:
//! an inactive principal is left out of the entity store, so it is in no group, as is an unknown
//! one.

use cedar_policy::{Authorizer, Decision, Entities};
use warden_bench::translate::{Translation, translate_account};
use warden_engine::Directory;

use crate::engine;
use crate::model::{Outcome, Request};

/// A world translated to Cedar.
#[derive(Debug)]
pub struct CedarWorld {
    pub translation: Translation,
    entities: Entities,
    directory: Directory,
}

/// Cedar's answer to one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    Decided(Outcome),
    /// Outside what the translation expresses: why.
    Skipped(String),
}

/// Translates a world; `Err` says why it cannot be (the whole world is then skipped).
pub fn translate(directory: &Directory) -> Result<Result<CedarWorld, String>, String> {
    let catalogue = engine::catalogue()?;
    let translation = match translate_account(directory, catalogue) {
        Ok(translation) => translation,
        Err(e) => return Ok(Err(e.to_string())),
    };
    let entities = translation
        .entities(
            directory
                .principals()
                .filter(|p| p.active)
                .map(|p| p.as_ref()),
        )
        .map_err(|e| e.to_string())?;
    Ok(Ok(CedarWorld {
        translation,
        entities,
        directory: directory.clone(),
    }))
}

impl CedarWorld {
    /// Asks Cedar. `Err` when Cedar reports an evaluation error: an erroring Cedar policy is
    /// skipped by Cedar, which would hide a wrong translation, so the translation guards every
    /// context access with `has` and no error may ever occur.
    pub fn decide(&self, request: &Request) -> Result<Answer, String> {
        if let Some(environment) = &request.environment
            && !self.directory.has_environment(environment)
        {
            return Ok(Answer::Skipped(
                "an environment the account does not have".to_owned(),
            ));
        }
        // The principal as the directory resolves it (uid, email or handle); a name nobody
        // answers to stays as it is and is in no group.
        let uid = self
            .directory
            .find_principal(&request.principal)
            .map_or_else(|| request.principal.clone(), |p| p.uid.to_string());
        let attributes = engine::attributes(request);
        let cedar_request = match self.translation.request(
            &uid,
            &request.permission,
            request.environment.as_deref(),
            &attributes,
        ) {
            Ok(cedar_request) => cedar_request,
            Err(e) => return Ok(Answer::Skipped(e.to_string())),
        };
        let response = Authorizer::new().is_authorized(
            &cedar_request,
            &self.translation.policies,
            &self.entities,
        );
        let errors: Vec<String> = response
            .diagnostics()
            .errors()
            .map(ToString::to_string)
            .collect();
        if !errors.is_empty() {
            return Err(format!("Cedar evaluation errors: {errors:?}"));
        }
        Ok(Answer::Decided(if response.decision() == Decision::Allow {
            Outcome::Allow
        } else {
            Outcome::Deny
        }))
    }

    /// The Cedar policies, for failure reports.
    pub fn policies_text(&self) -> String {
        self.translation
            .translated
            .iter()
            .map(|t| format!("// {}: {}\n{}", t.id, t.warden, t.cedar))
            .collect::<Vec<_>>()
            .join("\n")
    }
}
