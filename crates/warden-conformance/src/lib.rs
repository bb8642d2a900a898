//! Differential and property testing of Warden's decision engine (SPEC §3–§6).
//!
//! Three implementations decide the same random requests in the same random worlds:
//! - the engine: [`warden_engine::Snapshot::decide`] on a compiled snapshot ([`engine`]);
//! - the [`reference`] evaluator: the SPEC read literally, straight from the AST, for tests only;
//! - the `cedar-policy` crate on the engine's compiled statements translated to Cedar
//!   ([`cedar`], by `warden_bench::translate`), on what that translation can express.
//!
//! Worlds and requests come from [`generate`]; `tests/differential.rs` runs them, and
//! `tests/regressions.rs` keeps every disagreement found as a named case.
//!
//! `tests/escalation.rs` checks the no-escalation rule (SPEC §6) the same way: random writes by
//! random authors to random worlds ([`generate::escalation`], applied with [`engine::apply`]),
//! and every decision the engine's check lets change compared with what the author holds.

pub mod cedar;
pub mod engine;
pub mod generate;
pub mod model;
pub mod reference;

use std::collections::BTreeMap;

use model::{Case, Outcome, Request};

/// What one case (or many) produced.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tally {
    pub cases: u64,
    pub requests: u64,
    pub allowed: u64,
    pub denied: u64,
    /// Requests Cedar decided too.
    pub cedar_compared: u64,
    /// Requests outside what the translation to Cedar expresses, by reason.
    pub cedar_skipped: BTreeMap<String, u64>,
}

impl Tally {
    pub fn add(&mut self, other: &Tally) {
        self.cases += other.cases;
        self.requests += other.requests;
        self.allowed += other.allowed;
        self.denied += other.denied;
        self.cedar_compared += other.cedar_compared;
        for (reason, count) in &other.cedar_skipped {
            *self.cedar_skipped.entry(reason.clone()).or_default() += count;
        }
    }

    pub fn skipped(&self) -> u64 {
        self.cedar_skipped.values().sum()
    }

    fn count(&mut self, outcome: Outcome) {
        self.requests += 1;
        match outcome {
            Outcome::Allow => self.allowed += 1,
            Outcome::Deny => self.denied += 1,
        }
    }
}

/// Decides every request of a case with the engine and the reference; `Err` describes the
/// first disagreement (or anything that should not happen: an invalid world, a compile issue,
/// a reference error, `explain` disagreeing with `decide`).
pub fn check_reference(case: &Case) -> Result<Tally, String> {
    check(case, false)
}

/// As [`check_reference`], and Cedar too on the requests the translation expresses.
pub fn check_all(case: &Case) -> Result<Tally, String> {
    check(case, true)
}

fn check(case: &Case, with_cedar: bool) -> Result<Tally, String> {
    let catalogue = engine::catalogue()?;
    let directory = engine::directory(&case.world)?;
    let translated = if with_cedar {
        Some(cedar::translate(&directory)?)
    } else {
        None
    };
    let snapshot = warden_engine::Snapshot::build(directory, std::sync::Arc::clone(catalogue), 1);
    let issues = snapshot.issues();
    if !issues.is_empty() {
        return Err(format!(
            "the engine failed valid statements closed: {issues:?}"
        ));
    }
    let mut tally = Tally {
        cases: 1,
        ..Tally::default()
    };
    for request in &case.requests {
        let engine = engine::decide(&snapshot, request)?;
        let reference = reference::decide(&case.world, catalogue, request)
            .map_err(|e| format!("the reference refused {request:?}: {e}"))?;
        if engine != reference {
            return Err(format!(
                "engine {engine:?}, reference {reference:?} for {request:?}\n{}",
                explain(&snapshot, request)
            ));
        }
        tally.count(engine);
        match &translated {
            None => {}
            Some(Err(reason)) => skip(&mut tally, reason),
            Some(Ok(cedar)) => match cedar.decide(request)? {
                cedar::Answer::Skipped(reason) => skip(&mut tally, &reason),
                cedar::Answer::Decided(answer) => {
                    tally.cedar_compared += 1;
                    if answer != engine {
                        return Err(format!(
                            "engine and reference {engine:?}, Cedar {answer:?} for {request:?}\n{}\nCedar policies:\n{}",
                            explain(&snapshot, request),
                            cedar.policies_text()
                        ));
                    }
                }
            },
        }
    }
    Ok(tally)
}

/// Skip reasons are counted by their kind, not their details.
fn skip(tally: &mut Tally, reason: &str) {
    let kind = if reason.contains("time") {
        "time condition"
    } else if reason.contains('?') && reason.contains("MATCH") {
        "`?` in a MATCH pattern"
    } else if reason.contains("placeholder") {
        "`${global:…}` placeholder"
    } else if reason.contains("startsWith/MATCH") {
        "several values for a single-valued attribute"
    } else if reason.contains("environment the account does not have") {
        "unknown environment"
    } else {
        reason
    };
    *tally.cedar_skipped.entry(kind.to_owned()).or_default() += 1;
}

/// The engine's explanation, for failure reports.
pub fn explain(snapshot: &warden_engine::Snapshot, request: &Request) -> String {
    let attributes = engine::attributes(request);
    let explanation = snapshot.explain(&warden_engine::Request {
        principal: &request.principal,
        permission: &request.permission,
        environment: request.environment.as_deref(),
        attributes: &attributes,
        time: request.time,
    });
    let mut out = format!("engine: {}", explanation.summary);
    for report in &explanation.deciding {
        out.push_str(&format!(
            "\n  deciding: {} (policy {}, group {}, {}{})",
            report.statement,
            report.policy.id,
            report.group.id,
            report.level,
            report
                .boundary
                .as_ref()
                .map_or_else(String::new, |b| format!(", boundary {}", b.id))
        ));
    }
    for miss in &explanation.nearest {
        out.push_str(&format!(
            "\n  nearest: {} (policy {}, group {}): {}",
            miss.statement.statement,
            miss.statement.policy.id,
            miss.statement.group.id,
            miss.failed.why
        ));
    }
    out
}
