//! The no-escalation rule (SPEC §6) as a property of the engine, its check treated as a black box:
//! for random worlds, a random single write and a random author, whenever
//! [`warden_engine::escalation::check_write`] accepts the write, no decision — any principal, any
//! permission the world names or implies, account level and each environment, many attribute
//! assignments and times — goes from DENY to ALLOW unless the author, asked the same before the
//! write, is allowed it (and, with token scopes, the permission is among them).
//!
//! The write is applied with the directory calls a server makes, and the snapshot is updated with
//! the groups they report, as a server does; decisions after the write are taken from a snapshot
//! compiled from scratch, and the two snapshots must agree.
//!
//! The check must not be vacuous either: a full administrator's writes are always accepted, and
//! over a run accepted writes, accepted writes that grant something and refused writes must all be
//! common (the shares are asserted).
//!
//! `cargo test -p warden-conformance --test escalation` runs 3,000 cases;
//! `WARDEN_ESCALATION_CASES=100000` sets another number (the long mode). Run with
//! `-- --nocapture` to see the counts; `WARDEN_ESCALATION_EXAMPLES=1` also prints the refused
//! writes for which neither the probes nor a search of the refused principal, permission and
//! level found a gain beyond the author (candidates for needless refusals, or gains too rare to
//! find).
#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)] // test code fails loudly

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

use proptest::test_runner::{
    Config, FileFailurePersistence, RngAlgorithm, TestCaseError, TestRunner,
};
use warden_conformance::generate::escalation::{ADMIN_POLICY, cases};
use warden_conformance::generate::{ENVIRONMENTS, TIME_BASE};
use warden_conformance::model::{AttrValue, EscalationCase, Probe, Request};
use warden_conformance::{engine, explain};
use warden_engine::Snapshot;
use warden_engine::escalation::{Author, Escalation, Refusal, check_write};

const DEFAULT_CASES: u32 = 3_000;
/// Below this many cases the shares below are only reported.
const SHARES_FROM: u64 = 500;
/// The least shares, in percent of the writes checked, of accepted writes, of accepted writes
/// that some probe shows granting access, and of refused writes. The generator yields about
/// 80 %, 10 % and 20 % (see the counts with `--nocapture`); a checker that refused nearly
/// everything, or nothing, or accepted only writes that grant nothing, fails them.
const MIN_ACCEPTED: f64 = 50.0;
const MIN_GRANTING: f64 = 5.0;
const MIN_REFUSED: f64 = 10.0;
/// Probes on which the incrementally applied snapshot is compared with one compiled from scratch.
const INCREMENTAL_PROBES: usize = 3;

fn case_count() -> u32 {
    match std::env::var("WARDEN_ESCALATION_CASES") {
        Ok(text) => text
            .trim()
            .replace('_', "")
            .parse()
            .unwrap_or_else(|_| panic!("WARDEN_ESCALATION_CASES={text:?} is not a number")),
        Err(_) => DEFAULT_CASES,
    }
}

/// What a run saw.
#[derive(Debug, Default)]
struct Tally {
    cases: u64,
    /// Writes the directory itself refused (a bound policy changing its parameters, …).
    invalid: u64,
    accepted: u64,
    /// Accepted writes for which some probe did gain access.
    accepted_granting: u64,
    refused: u64,
    too_complex: u64,
    /// Refused writes by what the probes found: a gain beyond the author (the refusal is
    /// witnessed); else a gain beyond the author found by a search of the refused (principal,
    /// permission, level); else only gains the author holds, or no gain at all.
    refused_witnessed: u64,
    refused_searched: u64,
    refused_held: u64,
    refused_no_gain: u64,
    /// Writes by a full administrator (all accepted).
    full: u64,
    decisions: u64,
    /// Decisions after the write that allowed.
    allowed: u64,
    /// (accepted, of them granting, refused, invalid) by kind of write, and by kind of author.
    kinds: BTreeMap<&'static str, [u64; 4]>,
    authors: BTreeMap<&'static str, [u64; 4]>,
    /// Refused writes for which neither the probes nor the search found a gain beyond the
    /// author, described.
    unexplained: Vec<String>,
}

impl Tally {
    fn add(&mut self, other: Tally) {
        self.cases += other.cases;
        self.invalid += other.invalid;
        self.accepted += other.accepted;
        self.accepted_granting += other.accepted_granting;
        self.refused += other.refused;
        self.too_complex += other.too_complex;
        self.refused_witnessed += other.refused_witnessed;
        self.refused_searched += other.refused_searched;
        self.refused_held += other.refused_held;
        self.refused_no_gain += other.refused_no_gain;
        self.full += other.full;
        self.decisions += other.decisions;
        self.allowed += other.allowed;
        for (mine, theirs) in [
            (&mut self.kinds, other.kinds),
            (&mut self.authors, other.authors),
        ] {
            for (kind, counts) in theirs {
                let entry = mine.entry(kind).or_default();
                for (total, count) in entry.iter_mut().zip(counts) {
                    *total += count;
                }
            }
        }
        self.unexplained.extend(other.unexplained);
    }

    fn count(&mut self, case: &EscalationCase, outcome: usize) {
        self.kinds.entry(case.kind).or_default()[outcome] += 1;
        self.authors.entry(case.author.kind).or_default()[outcome] += 1;
    }

    fn checked(&self) -> u64 {
        self.accepted + self.refused
    }
}

/// A request that is allowed after the write and was denied before.
struct Gain {
    request: Request,
    /// Whether the author, asked the same before the write, is allowed it (within the scopes).
    held: bool,
}

fn check(case: &EscalationCase) -> Result<Tally, String> {
    let catalogue = engine::catalogue()?;
    let directory = engine::directory(&case.world)?;
    let before = Snapshot::build(directory.clone(), Arc::clone(catalogue), 1);
    let issues = before.issues();
    if !issues.is_empty() {
        return Err(format!("the world does not compile cleanly: {issues:?}"));
    }
    let mut tally = Tally {
        cases: 1,
        ..Tally::default()
    };
    // As a server does: the write's directory calls, then the groups they report recompiled.
    let mut written = directory;
    let Ok(recompiled) = engine::apply(&mut written, &case.write) else {
        tally.count(case, 3);
        tally.invalid += 1;
        return Ok(tally);
    };
    let after = before.apply(written.clone(), &recompiled, 2);
    // What the directory decides once compiled from scratch: the truth the probes compare with.
    let rebuilt = Snapshot::build(written, Arc::clone(catalogue), 2);
    let author = Author {
        principal: &case.author.principal,
        scopes: case.author.scopes.as_deref(),
    };
    let verdict = check_write(&before, &after, &recompiled, &author);
    if case.author.full {
        tally.full += 1;
        if let Err(escalation) = &verdict {
            return Err(format!(
                "a write by a full administrator was refused: {escalation:?}"
            ));
        }
    }
    let (gains, decisions, allowed) = probe(case, &before, &after, &rebuilt, verdict.is_ok())?;
    tally.decisions = decisions;
    tally.allowed = allowed;
    match verdict {
        Ok(()) => {
            tally.count(case, 0);
            tally.accepted += 1;
            if !gains.is_empty() {
                tally.count(case, 1);
                tally.accepted_granting += 1;
            }
            if let Some(gain) = gains.iter().find(|g| !g.held) {
                return Err(escalated(case, &before, &rebuilt, gain));
            }
        }
        Err(escalation) => {
            tally.count(case, 2);
            tally.refused += 1;
            tally.too_complex += u64::from(escalation.refusal == Refusal::TooComplex);
            if gains.iter().any(|g| !g.held) {
                tally.refused_witnessed += 1;
            } else if search(case, &before, &rebuilt, &escalation) {
                tally.refused_searched += 1;
            } else {
                if gains.is_empty() {
                    tally.refused_no_gain += 1;
                } else {
                    tally.refused_held += 1;
                }
                tally
                    .unexplained
                    .push(unexplained(case, &escalation, &gains));
            }
        }
    }
    Ok(tally)
}

/// Asks every principal, for every permission the worlds before and after name or imply, at
/// account level and in each environment, with every probe: the requests that gained access.
/// With `stop_at_beyond`, the first gain the author does not hold ends the search.
fn probe(
    case: &EscalationCase,
    before: &Snapshot,
    after: &Snapshot,
    rebuilt: &Snapshot,
    stop_at_beyond: bool,
) -> Result<(Vec<Gain>, u64, u64), String> {
    let catalogue = before.catalogue();
    let mut principals: BTreeSet<String> = BTreeSet::new();
    let mut named: BTreeSet<String> = BTreeSet::new();
    for snapshot in [before, rebuilt] {
        let directory = snapshot.directory();
        principals.extend(directory.principals().map(|p| p.uid.to_string()));
        for policy in directory.policies() {
            if policy.id.as_ref() == ADMIN_POLICY {
                // It allows every permission alike: a few of them stand for the others.
                let all: Vec<&str> = catalogue.permissions().map(|p| p.name.as_str()).collect();
                let step = (all.len() / 6).max(1);
                named.extend(all.iter().step_by(step).map(|p| (*p).to_owned()));
                continue;
            }
            for statement in &policy.ast.statements {
                named.extend(statement.permissions.iter().map(|p| p.node.clone()));
            }
        }
    }
    let mut permissions = named.clone();
    for name in &named {
        if let Some(permission) = catalogue.permission(name) {
            permissions.extend(permission.implies.iter().cloned());
        }
        permissions.extend(catalogue.implied_by(name).iter().cloned());
    }
    let levels: Vec<Option<&str>> = std::iter::once(None)
        .chain(ENVIRONMENTS.iter().map(|e| Some(*e)))
        .collect();
    let in_scope = |permission: &str| {
        case.author
            .scopes
            .as_ref()
            .is_none_or(|scopes| scopes.iter().any(|s| s == permission))
    };
    let mut gains = Vec::new();
    let mut decisions = 0u64;
    let mut allowed = 0u64;
    for (index, Probe { attributes, time }) in case.probes.iter().enumerate() {
        // The incremental snapshot is compared with the rebuilt one on a few probes only: a
        // group left uncompiled shows on most requests, and each comparison costs a decision.
        let compare = index < INCREMENTAL_PROBES;
        let mut request = Request {
            principal: String::new(),
            permission: String::new(),
            environment: None,
            attributes: attributes.clone(),
            time: *time,
        };
        let engine_attributes = engine::attributes(&request);
        for principal in &principals {
            for permission in &permissions {
                for level in &levels {
                    let ask = |snapshot: &Snapshot, who: &str| {
                        snapshot.decide(&warden_engine::Request {
                            principal: who,
                            permission,
                            environment: *level,
                            attributes: &engine_attributes,
                            time: *time,
                        })
                    };
                    decisions += 1;
                    let now = ask(rebuilt, principal);
                    request.principal.clone_from(principal);
                    request.permission.clone_from(permission);
                    request.environment = level.map(str::to_owned);
                    if compare {
                        let incremental = ask(after, principal);
                        if now != incremental {
                            return Err(format!(
                                "the snapshot applied with the write's recompiled groups decides \
                                 {:?}, the one compiled from scratch {:?}, for {request:?}\n{case:?}",
                                incremental.outcome, now.outcome
                            ));
                        }
                    }
                    if !now.is_allowed() {
                        continue;
                    }
                    allowed += 1;
                    if ask(before, principal).is_allowed() {
                        continue;
                    }
                    let held =
                        in_scope(permission) && ask(before, &case.author.principal).is_allowed();
                    gains.push(Gain {
                        request: request.clone(),
                        held,
                    });
                    if stop_at_beyond && !held {
                        return Ok((gains, decisions, allowed));
                    }
                }
            }
        }
    }
    Ok((gains, decisions, allowed))
}

/// Requests the refused (principal, permission, level) is searched with.
const SEARCH: u32 = 2_000;

/// Whether some request of the refused (principal, permission, level) gains beyond the author:
/// a deterministic search over the case's attribute values (missing, one, lists) and times
/// around the generated span.
fn search(
    case: &EscalationCase,
    before: &Snapshot,
    after: &Snapshot,
    escalation: &Escalation,
) -> bool {
    let environment = match &escalation.level {
        warden_engine::Level::Environment(env) => Some(env.as_ref()),
        _ => None,
    };
    let held_scope = case
        .author
        .scopes
        .as_ref()
        .is_none_or(|scopes| scopes.contains(&escalation.permission));
    let mut rng = XorShift(0x9e37_79b9_7f4a_7c15 ^ (case.probes.len() as u64));
    let no_values = Vec::new();
    let general = case.values.get("").unwrap_or(&no_values);
    for _ in 0..SEARCH {
        let mut attributes = BTreeMap::new();
        for (name, own) in case.values.iter().filter(|(name, _)| !name.is_empty()) {
            let pick = |rng: &mut XorShift| {
                let pool = if rng.below(5) == 0 { general } else { own };
                rng.pick(pool)
            };
            let value = match rng.below(10) {
                0..3 => continue,
                3 => AttrValue::Many(Vec::new()),
                4..7 => AttrValue::One(pick(&mut rng)),
                _ => {
                    let count = 2 + rng.below(2);
                    AttrValue::Many((0..count).map(|_| pick(&mut rng)).collect())
                }
            };
            attributes.insert(name.clone(), value);
        }
        let day = 86_400;
        let span = usize::try_from(10 * day).unwrap();
        let time = TIME_BASE - 2 * day + i64::try_from(rng.below(span)).unwrap();
        let request = Request {
            principal: escalation.principal.to_string(),
            permission: escalation.permission.clone(),
            environment: environment.map(str::to_owned),
            attributes,
            time,
        };
        let engine_attributes = engine::attributes(&request);
        let ask = |snapshot: &Snapshot, who: &str| {
            snapshot
                .decide(&warden_engine::Request {
                    principal: who,
                    permission: &request.permission,
                    environment,
                    attributes: &engine_attributes,
                    time,
                })
                .is_allowed()
        };
        if ask(after, &request.principal)
            && !ask(before, &request.principal)
            && !(held_scope && ask(before, &case.author.principal))
        {
            return true;
        }
    }
    false
}

/// xorshift64*: enough for a reproducible search.
struct XorShift(u64);

impl XorShift {
    fn below(&mut self, bound: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        let value = self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 32;
        usize::try_from(value).unwrap() % bound.max(1)
    }

    fn pick(&mut self, values: &[String]) -> String {
        let index = self.below(values.len());
        values.get(index).cloned().unwrap_or_default()
    }
}

/// The failure report of a write that was accepted and gives `gain` beyond its author.
fn escalated(case: &EscalationCase, before: &Snapshot, after: &Snapshot, gain: &Gain) -> String {
    let request = &gain.request;
    let as_author = Request {
        principal: case.author.principal.clone(),
        ..request.clone()
    };
    format!(
        "check_write accepted a write that grants beyond its author\n\
         {case:?}\n\
         request: {request:?}\n\
         before the write, {}\n\
         after the write, {}\n\
         the author before the write, {}{}",
        explain(before, request),
        explain(after, request),
        explain(before, &as_author),
        if case.author.scopes.is_some() {
            format!("\nthe author's scopes: {:?}", case.author.scopes)
        } else {
            String::new()
        }
    )
}

fn unexplained(case: &EscalationCase, escalation: &Escalation, gains: &[Gain]) -> String {
    let found = if gains.is_empty() {
        "no probe gained access".to_owned()
    } else {
        format!("{} probe(s) gained, all held by the author", gains.len())
    };
    format!("refused ({escalation:?}); {found}\n{case:?}")
}

/// Runs `count` random cases, split over one thread per core (each its own runner and random
/// seed). A failure is shrunk by proptest, saved to `proptest-regressions/escalation.txt`
/// (replayed first on every run) and reported.
fn run(count: u32) -> (Tally, std::time::Duration) {
    let shards = std::thread::available_parallelism().map_or(1, |n| n.get().min(4));
    let shards = u32::try_from(shards).unwrap();
    let total = Mutex::new(Tally::default());
    let started = std::time::Instant::now();
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..shards)
            .map(|shard| {
                let cases_here = count / shards + u32::from(shard < count % shards);
                let total = &total;
                scope.spawn(move || {
                    let config = Config {
                        cases: cases_here,
                        source_file: Some(file!()),
                        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(
                            "proptest-regressions/escalation.txt",
                        ))),
                        // Cheaper than the default ChaCha in a debug build.
                        rng_algorithm: RngAlgorithm::XorShift,
                        ..Config::default()
                    };
                    let mut runner = TestRunner::new(config);
                    runner
                        .run(&cases(), |case| {
                            let tally = check(&case).map_err(TestCaseError::fail)?;
                            total.lock().unwrap().add(tally);
                            Ok(())
                        })
                        .map_err(|error| error.to_string())
                })
            })
            .collect();
        for handle in handles {
            if let Err(error) = handle.join().unwrap() {
                panic!("no escalation: {error}");
            }
        }
    });
    (total.into_inner().unwrap(), started.elapsed())
}

fn percent(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 * 100.0 / whole as f64
    }
}

fn describe(tally: &Tally, elapsed: std::time::Duration) -> String {
    let checked = tally.checked();
    let mut out = format!(
        "no escalation: {} cases in {elapsed:.1?}, {} decisions ({:.1} % allowed after the \
         write); {} writes refused by the directory; of {checked} checked, {} accepted ({:.1} %; {} of them granting something), \
         {} refused ({:.1} %; {} too complex). Refused writes: {} with a gain beyond the author \
         found by the probes, {} by a search of the refused principal, permission and level, {} \
         with gains the author holds only, {} with no gain found. Full administrators: {} \
         writes, all accepted.",
        tally.cases,
        tally.decisions,
        percent(tally.allowed, tally.decisions),
        tally.invalid,
        tally.accepted,
        percent(tally.accepted, checked),
        tally.accepted_granting,
        tally.refused,
        percent(tally.refused, checked),
        tally.too_complex,
        tally.refused_witnessed,
        tally.refused_searched,
        tally.refused_held,
        tally.refused_no_gain,
        tally.full,
    );
    for (title, counts) in [
        ("by kind of write", &tally.kinds),
        ("by kind of author", &tally.authors),
    ] {
        out.push_str(&format!("\n{title}:"));
        for (kind, [accepted, granting, refused, invalid]) in counts {
            out.push_str(&format!(
                "\n  {kind}: {accepted} accepted ({granting} granting), {refused} refused, \
                 {invalid} refused by the directory"
            ));
        }
    }
    out
}

#[test]
fn accepted_writes_give_nobody_more_than_their_author_holds() {
    let count = case_count();
    let (tally, elapsed) = run(count);
    println!("{}", describe(&tally, elapsed));
    if std::env::var_os("WARDEN_ESCALATION_EXAMPLES").is_some() {
        for example in &tally.unexplained {
            println!("\n{example}");
        }
    }
    assert!(tally.cases >= u64::from(count));
    if tally.cases >= SHARES_FROM {
        let checked = tally.checked();
        assert!(
            percent(tally.accepted, checked) >= MIN_ACCEPTED,
            "too few writes accepted: {}",
            describe(&tally, elapsed)
        );
        assert!(
            percent(tally.refused, checked) >= MIN_REFUSED,
            "too few writes refused: {}",
            describe(&tally, elapsed)
        );
        assert!(
            percent(tally.accepted_granting, checked) >= MIN_GRANTING,
            "too few accepted writes grant anything: {}",
            describe(&tally, elapsed)
        );
        assert!(
            tally.refused_witnessed > 0 && tally.full > 0,
            "the generator must produce refusals with a witness and full administrators: {}",
            describe(&tally, elapsed)
        );
    }
}
