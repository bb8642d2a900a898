//! Policy test files (SPEC §11): a YAML file describes a world (custom services, environments,
//! boundaries, policies, groups with bindings, users, service users, workflows and consent) on top
//! of the built-in content, and cases that state the decision a request, or a task of a workflow,
//! must get.
//!
//! Pure: the file name, its text and the current time come in as parameters, a [`FileReport`]
//! comes out; nothing here reads files or clocks, and no input makes it panic. A file with any
//! problem (bad YAML, an unknown key, a name that resolves to nothing, a policy that does not
//! validate) runs no case; its report lists every problem with its line:column in the file.
//!
//! - [`yaml`]: loading and reading YAML nodes with their locations;
//! - [`model`]: the file's shape; [`world`]: the catalogue and directory it describes, with
//!   [`services`], [`bindings`], [`principals`] and [`workflows`];
//! - [`cases`]: resolving and deciding the cases; [`locate`]: positions inside policy texts;
//! - [`report`]: what a run produces;
//! - [`desired`]: the same file read as an account's desired state (`warden plan|apply`).

mod bindings;
mod cases;
pub mod desired;
mod locate;
mod model;
mod names;
mod principals;
pub mod report;
mod services;
mod workflows;
mod world;
mod yaml;

#[cfg(test)]
mod tests;

use std::sync::Arc;

pub use report::{CaseReport, FileReport, Pos, Problem};
pub use world::{ACCOUNT, SERVICE_DOMAIN, service_user_uid, user_uid};

use crate::builtin::Builtin;
use crate::snapshot::Snapshot;

/// Runs a test file against the built-in content. `now` (seconds since the epoch, UTC) is the
/// time of cases that give none.
pub fn run(file: &str, source: &str, now: i64) -> FileReport {
    match Builtin::load(&[]) {
        Ok(builtin) => run_with(&builtin, file, source, now),
        Err(errors) => {
            let messages: Vec<String> = errors.iter().map(ToString::to_string).collect();
            let problem = Problem::new(
                Pos::START,
                format!("the built-in content is invalid: {}", messages.join("; ")),
            );
            FileReport::invalid(file, vec![problem], Vec::new())
        }
    }
}

/// Runs a test file against already loaded built-in content (for running many files).
pub fn run_with(builtin: &Builtin, file: &str, source: &str, now: i64) -> FileReport {
    report(builtin, file, source, now).inside(source)
}

fn report(builtin: &Builtin, file: &str, source: &str, now: i64) -> FileReport {
    let root = match yaml::load(source) {
        Ok(root) => root,
        Err(problem) => return FileReport::invalid(file, vec![problem], Vec::new()),
    };
    let mut reader = yaml::Reader::default();
    let Some(model) = model::read(&root, &mut reader, model::Cases::Required) else {
        return FileReport::invalid(file, reader.problems, Vec::new());
    };
    let mut errors = reader.problems;
    let mut warnings = Vec::new();
    let world = world::build(builtin, &model, source, &mut errors, &mut warnings);
    let cases = cases::resolve(&model, &world, now, &mut errors);
    warnings.sort_by_key(Problem::pos);
    if !errors.is_empty() {
        return FileReport::invalid(file, errors, warnings);
    }
    let group_pos = world.group_pos;
    let snapshot = Snapshot::build(world.directory, Arc::new(world.catalogue), 1);
    for issue in snapshot.issues() {
        let at = group_pos.get(&issue.group).copied().unwrap_or(Pos::START);
        warnings.push(Problem::new(at, issue.message));
    }
    FileReport {
        file: file.to_owned(),
        errors: Vec::new(),
        warnings,
        cases: cases::run(&snapshot, &cases),
    }
}
