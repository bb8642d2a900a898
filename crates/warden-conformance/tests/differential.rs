//! Differential tests: the engine, the reference evaluator and Cedar decide the same random
//! requests in the same random worlds.
//!
//! `cargo test -p warden-conformance --test differential` runs 10,000 cases per test;
//! `WARDEN_DIFF_CASES=1000000` sets another number (the long mode; see the README's
//! "Correctness" section). Each case is a world and one to eight requests. Run with
//! `-- --nocapture` to see the counts.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // test code fails loudly

use std::sync::Mutex;

use proptest::strategy::Strategy;
use proptest::test_runner::{
    Config, FileFailurePersistence, RngAlgorithm, TestCaseError, TestRunner,
};
use warden_conformance::generate::cases;
use warden_conformance::model::Case;
use warden_conformance::{Tally, check_all, check_reference};

const DEFAULT_CASES: u32 = 10_000;

fn case_count() -> u32 {
    match std::env::var("WARDEN_DIFF_CASES") {
        Ok(text) => text
            .trim()
            .replace('_', "")
            .parse()
            .unwrap_or_else(|_| panic!("WARDEN_DIFF_CASES={text:?} is not a number")),
        Err(_) => DEFAULT_CASES,
    }
}

/// Runs `check` on `count` random cases, split over one thread per core (each its own runner
/// and random seed). A failure is shrunk by proptest, saved to
/// `proptest-regressions/differential.txt` (replayed first on every run) and reported.
fn run(
    name: &str,
    count: u32,
    strategy: impl Strategy<Value = Case> + Sync,
    check: fn(&Case) -> Result<Tally, String>,
) -> (Tally, std::time::Duration) {
    let shards = std::thread::available_parallelism().map_or(1, |n| n.get().min(4));
    let shards = u32::try_from(shards).unwrap();
    let total = Mutex::new(Tally::default());
    let started = std::time::Instant::now();
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
                            "proptest-regressions/differential.txt",
                        ))),
                        // ChaCha is the default; XorShift is several times cheaper in a debug
                        // build.
                        rng_algorithm: RngAlgorithm::XorShift,
                        ..Config::default()
                    };
                    let mut runner = TestRunner::new(config);
                    runner
                        .run(strategy, |case| {
                            let tally = check(&case).map_err(TestCaseError::fail)?;
                            total.lock().unwrap().add(&tally);
                            Ok(())
                        })
                        .map_err(|error| error.to_string())
                })
            })
            .collect();
        for handle in handles {
            if let Err(error) = handle.join().unwrap() {
                panic!("{name}: {error}");
            }
        }
    });
    let tally = total.into_inner().unwrap();
    (tally, started.elapsed())
}

/// The counts of a run, one line.
fn describe(name: &str, tally: &Tally, elapsed: std::time::Duration) -> String {
    format!(
        "{name}: {} cases, {} requests in {elapsed:.1?}: {} allowed ({:.1} %), {} denied ({:.1} %); Cedar compared {}, skipped {} ({:.1} %) {:?}",
        tally.cases,
        tally.requests,
        tally.allowed,
        percent(tally.allowed, tally.requests),
        tally.denied,
        percent(tally.denied, tally.requests),
        tally.cedar_compared,
        tally.skipped(),
        percent(tally.skipped(), tally.requests),
        tally.cedar_skipped,
    )
}

fn percent(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 * 100.0 / whole as f64
    }
}

/// The generator must produce both outcomes, or agreement means little.
fn assert_balanced(tally: &Tally) {
    assert!(tally.requests > 0);
    assert!(
        percent(tally.allowed, tally.requests) >= 10.0,
        "too few ALLOW decisions: {tally:?}"
    );
    assert!(
        percent(tally.denied, tally.requests) >= 10.0,
        "too few DENY decisions: {tally:?}"
    );
}

#[test]
fn engine_agrees_with_reference() {
    // Mostly worlds with every feature, some Cedar-friendly.
    let name = "engine == reference";
    let (tally, elapsed) = run(name, case_count(), cases(0.25), check_reference);
    println!("{}", describe(name, &tally, elapsed));
    assert!(tally.cases >= u64::from(case_count()));
    assert_balanced(&tally);
}

#[test]
fn engine_reference_and_cedar_agree() {
    // Mostly Cedar-friendly worlds; the others are decided by the engine and the reference only.
    let name = "engine == reference == Cedar";
    let (tally, elapsed) = run(name, case_count(), cases(0.8), check_all);
    println!("{}", describe(name, &tally, elapsed));
    assert!(tally.cases >= u64::from(case_count()));
    assert_balanced(&tally);
    assert!(
        tally.skipped() * 2 <= tally.requests,
        "Cedar skipped more than half the requests: {tally:?}"
    );
    assert!(tally.cedar_compared > 0);
}
