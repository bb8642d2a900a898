//! Exactness of residuals (`warden_engine::residual`): in random worlds (the differential
//! generators), for random requests with some of their attributes fixed, the residual evaluated
//! on random assignments of the other attributes (values, lists, empty lists, absent) agrees with
//! the engine's decision on the request with that assignment added.
//!
//! `cargo test -p warden-conformance --test residual` runs 10,000 cases;
//! `WARDEN_RESIDUAL_CASES=1000000` sets another number (the long run recorded in
//! `docs/residuals.md`). Run with `-- --nocapture` to see the counts.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // test code fails loudly

use std::collections::BTreeSet;
use std::sync::Mutex;

use proptest::prelude::*;
use proptest::test_runner::{
    Config, FileFailurePersistence, RngAlgorithm, TestCaseError, TestRunner,
};
use warden_conformance::engine;
use warden_conformance::generate::cases;
use warden_conformance::model::Case;
use warden_engine::residual::{Predicate, ResidualDecision, ResidualRequest, attributes_of};
use warden_engine::{AttributeValue, Attributes, Request, Snapshot};

const DEFAULT_CASES: u32 = 10_000;
/// Assignments of the free attributes tried per request.
const ASSIGNMENTS: usize = 8;
/// Names an assignment may give beyond those of the case (every condition attribute of the
/// generated worlds, and one no condition reads).
const NAMES: [&str; 6] = [
    "storage:bucket-name",
    "storage:dt.security_context",
    "environment:management-zone",
    "storage:host.name",
    "storage:table-name",
    "storage:k8s.cluster.name",
];

fn case_count() -> u32 {
    match std::env::var("WARDEN_RESIDUAL_CASES") {
        Ok(text) => text
            .trim()
            .replace('_', "")
            .parse()
            .unwrap_or_else(|_| panic!("WARDEN_RESIDUAL_CASES={text:?} is not a number")),
        Err(_) => DEFAULT_CASES,
    }
}

/// A small deterministic generator for the choices made inside one case.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % u64::try_from(n.max(1)).unwrap()).unwrap()
    }

    fn pick<'a>(&mut self, items: &'a [String]) -> Option<&'a String> {
        let at = self.below(items.len());
        items.get(at)
    }
}

#[derive(Debug, Default, Clone, Copy)]
struct Counts {
    requests: u64,
    checks: u64,
    allow: u64,
    deny: u64,
    conditional: u64,
}

impl Counts {
    fn add(&mut self, other: Counts) {
        self.requests += other.requests;
        self.checks += other.checks;
        self.allow += other.allow;
        self.deny += other.deny;
        self.conditional += other.conditional;
    }
}

fn to_engine(value: &warden_conformance::model::AttrValue) -> AttributeValue {
    match value {
        warden_conformance::model::AttrValue::One(one) => AttributeValue::One(one.clone()),
        warden_conformance::model::AttrValue::Many(many) => AttributeValue::Many(many.clone()),
    }
}

/// Values worth assigning: every value of the case's requests and of the residual, and
/// strings just beside them (longer, shorter, empty).
fn pool(case: &Case, predicate: &Predicate) -> Vec<String> {
    let mut values: BTreeSet<String> = BTreeSet::new();
    for request in &case.requests {
        for value in request.attributes.values() {
            values.extend(value.values().iter().cloned());
        }
    }
    let text = serde_json::to_value(predicate).unwrap();
    collect_strings(&text, &mut values);
    let near: Vec<String> = values
        .iter()
        .flat_map(|v| {
            let mut shorter = v.clone();
            shorter.pop();
            [format!("{v}x"), format!("{v}a"), shorter]
        })
        .collect();
    values.extend(near);
    values.insert(String::new());
    values.into_iter().collect()
}

fn collect_strings(value: &serde_json::Value, out: &mut BTreeSet<String>) {
    match value {
        serde_json::Value::String(text) => {
            out.insert(text.clone());
        }
        serde_json::Value::Array(items) => items.iter().for_each(|v| collect_strings(v, out)),
        serde_json::Value::Object(fields) => fields.values().for_each(|v| collect_strings(v, out)),
        _ => {}
    }
}

fn check(case: &Case, seed: u64) -> Result<Counts, String> {
    let mut counts = Counts::default();
    if case.requests.is_empty() {
        return Ok(counts);
    }
    let snapshot: Snapshot = engine::snapshot(&case.world)?;
    let mut rng = Rng(seed | 1);
    for request in &case.requests {
        counts.requests += 1;
        // Fix a random part of the request's attributes.
        let mut known = Attributes::new();
        let mut free_given = Attributes::new();
        for (name, value) in &request.attributes {
            if rng.below(2) == 0 {
                known.insert(name.clone(), to_engine(value));
            } else {
                free_given.insert(name.clone(), to_engine(value));
            }
        }
        let residual = snapshot
            .residual(&ResidualRequest {
                principal: &request.principal,
                permission: &request.permission,
                environment: request.environment.as_deref(),
                known: &known,
                time: request.time,
            })
            .map_err(|e| format!("residual refused {request:?}: {e}"))?;
        match residual.decision {
            ResidualDecision::Allow => counts.allow += 1,
            ResidualDecision::Deny => counts.deny += 1,
            ResidualDecision::Conditional => counts.conditional += 1,
        }
        let constant = match &residual.predicate {
            Predicate::Constant(value) => Some(*value),
            _ => None,
        };
        let expected_decision = match constant {
            Some(true) => ResidualDecision::Allow,
            Some(false) => ResidualDecision::Deny,
            None => ResidualDecision::Conditional,
        };
        if residual.decision != expected_decision {
            return Err(format!(
                "decision {:?} for {:?}",
                residual.decision, residual.predicate
            ));
        }
        let mentioned = attributes_of(&residual.predicate);
        if let Some(fixed) = mentioned.iter().find(|name| known.contains_key(*name)) {
            return Err(format!("the residual tests the fixed attribute `{fixed}`"));
        }
        let values = pool(case, &residual.predicate);
        let mut names: BTreeSet<String> = NAMES.iter().map(|n| (*n).to_owned()).collect();
        names.extend(mentioned);
        names.extend(free_given.keys().cloned());
        for key in known.keys() {
            names.remove(key);
        }
        let names: Vec<String> = names.into_iter().collect();
        let mut assignments = vec![free_given];
        for _ in 1..ASSIGNMENTS {
            let mut assignment = Attributes::new();
            for name in &names {
                let value = match rng.below(6) {
                    0 | 1 => continue,
                    2 => AttributeValue::Many(Vec::new()),
                    3 => AttributeValue::One(rng.pick(&values).cloned().unwrap_or_default()),
                    _ => AttributeValue::Many(
                        (0..1 + rng.below(3))
                            .filter_map(|_| rng.pick(&values).cloned())
                            .collect(),
                    ),
                };
                assignment.insert(name.clone(), value);
            }
            assignments.push(assignment);
        }
        for assignment in assignments {
            let mut full = known.clone();
            full.extend(assignment);
            let decision = snapshot.decide(&Request {
                principal: &request.principal,
                permission: &request.permission,
                environment: request.environment.as_deref(),
                attributes: &full,
                time: request.time,
            });
            counts.checks += 1;
            if residual.predicate.evaluate(&full) != decision.is_allowed() {
                return Err(format!(
                    "the residual {} says {}, the engine {decision:?}\nfixed: {known:?}\nrequest attributes: {full:?}",
                    serde_json::to_string(&residual.predicate).unwrap(),
                    !decision.is_allowed(),
                ));
            }
            if let Some(value) = constant
                && value != decision.is_allowed()
            {
                return Err("a constant residual disagrees".to_owned());
            }
        }
    }
    Ok(counts)
}

#[test]
fn residuals_agree_with_decisions() {
    let count = case_count();
    let shards = std::thread::available_parallelism().map_or(1, |n| n.get().min(4));
    let shards = u32::try_from(shards).unwrap();
    let total = Mutex::new(Counts::default());
    let started = std::time::Instant::now();
    let strategy = (cases(0.25), any::<u64>());
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..shards)
            .map(|shard| {
                let cases = count / shards + u32::from(shard < count % shards);
                let (strategy, total) = (&strategy, &total);
                scope.spawn(move || {
                    let config = Config {
                        cases,
                        source_file: Some(file!()),
                        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(
                            "proptest-regressions/residual.txt",
                        ))),
                        rng_algorithm: RngAlgorithm::XorShift,
                        ..Config::default()
                    };
                    TestRunner::new(config)
                        .run(strategy, |(case, seed)| {
                            let counts = check(&case, seed).map_err(TestCaseError::fail)?;
                            total.lock().unwrap().add(counts);
                            Ok(())
                        })
                        .map_err(|error| error.to_string())
                })
            })
            .collect();
        for handle in handles {
            if let Err(error) = handle.join().unwrap() {
                panic!("residual exactness: {error}");
            }
        }
    });
    let counts = total.into_inner().unwrap();
    println!(
        "residual exactness: {count} cases, {} requests, {} checks in {:.1?}: {} ALLOW, {} DENY, {} CONDITIONAL",
        counts.requests,
        counts.checks,
        started.elapsed(),
        counts.allow,
        counts.deny,
        counts.conditional
    );
    // Agreement means little unless conditional residuals are common (about 9 % of requests
    // are; many name unknown principals or permissions, or fix every attribute).
    assert!(counts.conditional * 20 >= counts.requests, "{counts:?}");
    assert!(counts.allow > 0 && counts.deny > 0, "{counts:?}");
}
