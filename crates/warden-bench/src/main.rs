//! `warden-bench`: Warden's decision engine against the `cedar-policy` crate, on the same policies
//! (translated by [`warden_bench::translate`]) and the same requests, plus a million-user account
//! for Warden alone. See docs/benchmark.md.
//!
//! ```sh
//! cargo run --release -p warden-bench            # all workloads
//! cargo run --release -p warden-bench -- a c     # some of them
//! ```
//!
//! Before timing, every request of (a) and (b) is decided by both engines; any disagreement (or
//! any Cedar evaluation error) stops the run with the request, Warden's explanation and the Cedar
//! policies involved. The last line of the output is the (a) ratio.

mod capacity;
mod measure;
mod rng;
mod workloads;

use std::collections::BTreeSet;
use std::io::{StdoutLock, Write};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use cedar_policy::{Authorizer, Decision as CedarDecision, Entities, Request as CedarRequest};
use warden_bench::translate::{self, Translation};
use warden_engine::residual::{ResidualDecision, ResidualRequest};
use warden_engine::{Builtin, Directory, Principal, Snapshot};
use warden_policy::Catalogue;

use measure::{Plan, Stats, bytes, duration, measure, peak_memory, rate};
use rng::Rng;
use workloads::{Question, Sizes};

const SEED: u64 = 0x5EED_2026_0504;

/// (b) and (c) sizes (the brief of the benchmark).
const B_SIZES: Sizes = Sizes {
    policies: 1_000,
    groups: 10_000,
    parameterised: 3,
    with_boundaries: 5,
    at_environment: 20,
};
pub(crate) const C_SIZES: Sizes = Sizes {
    policies: 10_000,
    groups: 100_000,
    parameterised: 3,
    with_boundaries: 5,
    at_environment: 10,
};
/// (b) requests: each is decided by Cedar once for the agreement check (milliseconds each).
const B_REQUESTS: usize = 1024;
pub(crate) const C_BINDINGS: usize = 300_000;
pub(crate) const C_USERS: usize = 1_000_000;
/// (c) warm: 1,024 requests from this many random users; cold: this many requests, each from
/// another random user.
const C_WARM_USERS: usize = 64;
const C_COLD_REQUESTS: usize = 65_536;

/// Residuals: microseconds each, so smaller batches than decisions.
const RESIDUAL_PLAN: Plan = Plan {
    batch: 16,
    samples: 5_000,
    budget: Duration::from_secs(5),
    min_samples: 500,
};

/// Targets.
const TARGET_A_RATIO: f64 = 30.0;
const TARGET_B_RATIO: f64 = 300.0;
const TARGET_C_VS_A: f64 = 2.0;
const TARGET_C_COMPILE: Duration = Duration::from_secs(10);
const TARGET_C_MEMORY: u64 = 2 * 1024 * 1024 * 1024;

macro_rules! say {
    ($out:expr, $($arg:tt)*) => {
        writeln!($out, $($arg)*).map_err(|e| format!("writing the report: {e}"))?
    };
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            let _ = writeln!(std::io::stderr().lock(), "warden-bench: {message}");
            ExitCode::FAILURE
        }
    }
}

#[derive(Debug, Default)]
struct Summary {
    a: Option<Compared>,
    b: Option<Compared>,
    c: Option<Large>,
}

#[derive(Debug, Clone, Copy)]
struct Compared {
    warden: Stats,
    cedar: Stats,
    /// Warden's residuals (`Snapshot::residual`) of the same requests with every attribute left
    /// free: what a data service asks once to filter its records.
    residual: Stats,
}

impl Compared {
    fn ratio(&self) -> f64 {
        self.cedar.p50 / self.warden.p50
    }
}

#[derive(Debug, Clone, Copy)]
struct Large {
    /// Requests from a few users, cycled (comparable with (a)).
    warden: Stats,
    /// Every request from another of 65,536 random users.
    cold: Stats,
    compile: Duration,
    peak: Option<u64>,
}

fn run() -> Result<(), String> {
    let mut selected: BTreeSet<String> = BTreeSet::new();
    for arg in std::env::args().skip(1) {
        match arg.as_str() {
            "a" | "b" | "c" => {
                selected.insert(arg);
            }
            "capacity" => {
                let stdout = std::io::stdout();
                return capacity::run(&mut stdout.lock());
            }
            "-h" | "--help" => {
                let stdout = std::io::stdout();
                let mut out = stdout.lock();
                say!(
                    out,
                    "usage: warden-bench [a] [b] [c]   (default: all three workloads; see docs/benchmark.md)"
                );
                return Ok(());
            }
            other => return Err(format!("unknown argument `{other}`; expected a, b or c")),
        }
    }
    if selected.is_empty() {
        selected.extend(["a", "b", "c"].map(str::to_owned));
    }
    let started = Instant::now();
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    say!(
        out,
        "warden-bench: Warden decisions against cedar-policy {} (default-features off), same policies and requests",
        "4.14"
    );
    say!(out, "machine: {}", machine());
    say!(out, "seed: {SEED:#x}");

    let builtin = Builtin::load(&[]).map_err(|errors| {
        let messages: Vec<String> = errors.iter().map(ToString::to_string).collect();
        format!("built-in content: {}", messages.join("; "))
    })?;
    let catalogue = Arc::new(builtin.catalogue.clone());
    let mut summary = Summary::default();

    if selected.contains("a") {
        say!(out, "");
        say!(
            out,
            "== (a) default groups: one principal in the 5 default groups, every global policy bound"
        );
        let (directory, principal) = workloads::default_groups_world(&builtin)?;
        let mut rng = Rng::new(SEED ^ 0xA);
        let compared = compare(
            &mut out,
            directory,
            &catalogue,
            &principal,
            |directory, single| {
                workloads::questions_for(
                    &mut rng, &catalogue, directory, &principal, 1024, 75, single,
                )
            },
            Plans {
                warden: Plan {
                    batch: 64,
                    samples: 20_000,
                    budget: Duration::from_secs(8),
                    min_samples: 1_000,
                },
                cedar: Plan {
                    batch: 64,
                    samples: 2_000,
                    budget: Duration::from_secs(10),
                    min_samples: 200,
                },
                residual: RESIDUAL_PLAN,
            },
        )?;
        report_ratio(&mut out, &compared, TARGET_A_RATIO)?;
        summary.a = Some(compared);
    }

    if selected.contains("b") {
        say!(out, "");
        say!(
            out,
            "== (b) large account: {} account policies, {} groups, principal in 5 groups with one binding each",
            B_SIZES.policies,
            B_SIZES.groups
        );
        let mut rng = Rng::new(SEED ^ 0xB);
        let (directory, principal) = workloads::account_world(&builtin, &mut rng, B_SIZES)?;
        say!(
            out,
            "account: {} policies ({} global), {} groups, {} bindings",
            directory.policy_count(),
            builtin.policies.len(),
            directory.group_count(),
            directory.binding_count()
        );
        let compared = compare(
            &mut out,
            directory,
            &catalogue,
            &principal,
            |directory, single| {
                workloads::questions_for(
                    &mut rng, &catalogue, directory, &principal, B_REQUESTS, 75, single,
                )
            },
            Plans {
                warden: Plan {
                    batch: 64,
                    samples: 20_000,
                    budget: Duration::from_secs(8),
                    min_samples: 1_000,
                },
                // A Cedar decision takes milliseconds here: smaller batches, fewer samples.
                cedar: Plan {
                    batch: 8,
                    samples: 400,
                    budget: Duration::from_secs(20),
                    min_samples: 100,
                },
                residual: RESIDUAL_PLAN,
            },
        )?;
        report_ratio(&mut out, &compared, TARGET_B_RATIO)?;
        summary.b = Some(compared);
    }

    if selected.contains("c") {
        say!(out, "");
        say!(
            out,
            "== (c) very large account, Warden alone: {} users, {} groups, {} policies, {} bindings",
            C_USERS,
            C_SIZES.groups,
            C_SIZES.policies,
            C_BINDINGS
        );
        summary.c = Some(large(&mut out, &builtin, &catalogue)?);
    }

    say!(out, "");
    say!(out, "== summary");
    let verdict = |met: bool| if met { "met" } else { "MISSED" };
    if let Some(a) = &summary.a {
        say!(
            out,
            "(a) p50 per decision: Warden {}, Cedar {}; ratio {:.1}x (target >= {TARGET_A_RATIO}x: {})",
            duration(a.warden.p50),
            duration(a.cedar.p50),
            a.ratio(),
            verdict(a.ratio() >= TARGET_A_RATIO)
        );
        say!(
            out,
            "(a) p50 per residual (every attribute free): Warden {}",
            duration(a.residual.p50)
        );
    }
    if let Some(b) = &summary.b {
        say!(
            out,
            "(b) p50 per decision: Warden {}, Cedar {}; ratio {:.1}x (target >= {TARGET_B_RATIO}x: {})",
            duration(b.warden.p50),
            duration(b.cedar.p50),
            b.ratio(),
            verdict(b.ratio() >= TARGET_B_RATIO)
        );
        say!(
            out,
            "(b) p50 per residual (every attribute free): Warden {}",
            duration(b.residual.p50)
        );
    }
    if let Some(c) = &summary.c {
        if let Some(a) = &summary.a {
            let factor = c.warden.p50 / a.warden.p50;
            let cold = c.cold.p50 / a.warden.p50;
            say!(
                out,
                "(c) p50 per decision, warm: Warden {} = {factor:.2}x the (a) p50 (target <= {TARGET_C_VS_A}x: {})",
                duration(c.warden.p50),
                verdict(factor <= TARGET_C_VS_A)
            );
            say!(
                out,
                "(c) p50 per decision, cold: Warden {} = {cold:.2}x the (a) p50 (target <= {TARGET_C_VS_A}x: {})",
                duration(c.cold.p50),
                verdict(cold <= TARGET_C_VS_A)
            );
        } else {
            say!(
                out,
                "(c) p50 per decision: Warden {} warm, {} cold",
                duration(c.warden.p50),
                duration(c.cold.p50)
            );
        }
        say!(
            out,
            "(c) snapshot compile {:.2} s (target < {} s: {}); peak memory {} (target < {}: {})",
            c.compile.as_secs_f64(),
            TARGET_C_COMPILE.as_secs(),
            verdict(c.compile < TARGET_C_COMPILE),
            c.peak.map_or_else(|| "unknown".to_owned(), bytes),
            bytes(TARGET_C_MEMORY),
            verdict(c.peak.is_some_and(|p| p < TARGET_C_MEMORY))
        );
    }
    say!(
        out,
        "total run time {:.1} s",
        started.elapsed().as_secs_f64()
    );
    if let Some(a) = &summary.a {
        say!(out, "(a) cedar/warden p50 ratio: {:.1}x", a.ratio());
    }
    Ok(())
}

struct Plans {
    warden: Plan,
    cedar: Plan,
    residual: Plan,
}

/// Builds both engines on one world, checks that they agree on every request, then times both on
/// the same request sequence.
fn compare(
    out: &mut StdoutLock<'_>,
    directory: Directory,
    catalogue: &Arc<Catalogue>,
    principal: &Principal,
    questions: impl FnOnce(&Directory, &BTreeSet<String>) -> Vec<Question>,
    plans: Plans,
) -> Result<Compared, String> {
    let start = Instant::now();
    let snapshot = Snapshot::build(directory, Arc::clone(catalogue), 1);
    let compile = start.elapsed();
    let issues = snapshot.issues();
    if !issues.is_empty() {
        return Err(format!(
            "the snapshot has compile issues (the workload is wrong): {issues:?}"
        ));
    }
    let start = Instant::now();
    let translation = translate::translate_account(snapshot.directory(), catalogue)
        .map_err(|e| format!("translating to Cedar: {e}"))?;
    let translated = start.elapsed();
    let effects = translate::effect_counts(&translation);
    say!(
        out,
        "principal {} in {} groups; Warden snapshot compiled in {}",
        principal.uid,
        principal.groups.len(),
        duration(compile.as_nanos() as f64)
    );
    say!(
        out,
        "Cedar policy set: {} policies ({} permit, {} forbid), translated and parsed in {}; single-valued attributes: {:?}",
        translation.len(),
        effects.get("permit").copied().unwrap_or(0),
        effects.get("forbid").copied().unwrap_or(0),
        duration(translated.as_nanos() as f64),
        translation.single_valued()
    );

    let questions = questions(snapshot.directory(), translation.single_valued());
    let entities = translation
        .entities([principal])
        .map_err(|e| e.to_string())?;
    let cedar_requests: Vec<CedarRequest> = questions
        .iter()
        .map(|q| {
            translation.request(
                &q.principal,
                &q.permission,
                q.environment.as_deref(),
                &q.attributes,
            )
        })
        .collect::<Result<_, _>>()
        .map_err(|e| e.to_string())?;
    let requests: Vec<warden_engine::Request<'_>> =
        questions.iter().map(Question::request).collect();

    let allowed = agree(
        &snapshot,
        &translation,
        &entities,
        principal,
        &questions,
        &cedar_requests,
    )?;
    say!(
        out,
        "agreement: Warden and Cedar agree on {}/{} requests ({} allowed, {} denied); no Cedar evaluation errors",
        questions.len(),
        questions.len(),
        allowed,
        questions.len() - allowed
    );

    let warden = measure(requests.len(), plans.warden, |i| {
        requests
            .get(i)
            .is_some_and(|r| snapshot.decide(r).is_allowed())
    });
    let authorizer = Authorizer::new();
    let cedar = measure(cedar_requests.len(), plans.cedar, |i| {
        cedar_requests.get(i).is_some_and(|r| {
            authorizer
                .is_authorized(r, &translation.policies, &entities)
                .decision()
                == CedarDecision::Allow
        })
    });
    // Residuals of the same requests with no attribute fixed: the question a data service asks
    // once per query. Computed once first to count their kinds and check none is refused.
    let empty = warden_engine::Attributes::new();
    let residual_requests: Vec<ResidualRequest<'_>> = questions
        .iter()
        .map(|q| ResidualRequest {
            principal: &q.principal,
            permission: &q.permission,
            environment: q.environment.as_deref(),
            known: &empty,
            time: workloads::TIME,
        })
        .collect();
    let mut kinds = [0usize; 3];
    for request in &residual_requests {
        let residual = snapshot
            .residual(request)
            .map_err(|e| format!("residual of {request:?}: {e}"))?;
        let kind = match residual.decision {
            ResidualDecision::Allow => 0,
            ResidualDecision::Deny => 1,
            ResidualDecision::Conditional => 2,
        };
        if let Some(count) = kinds.get_mut(kind) {
            *count += 1;
        }
    }
    let [allow, deny, conditional] = kinds;
    say!(
        out,
        "residuals of the same requests, every attribute free: {allow} ALLOW, {deny} DENY, {conditional} CONDITIONAL"
    );
    let residual = measure(residual_requests.len(), plans.residual, |i| {
        residual_requests
            .get(i)
            .and_then(|r| snapshot.residual(r).ok())
            .is_some_and(|r| r.decision != ResidualDecision::Deny)
    });
    table(
        out,
        &[
            ("warden", &warden),
            ("cedar", &cedar),
            ("warden residual", &residual),
        ],
    )?;
    say!(
        out,
        "peak memory so far (VmHWM): {}",
        peak_memory().map_or_else(|| "unknown".to_owned(), bytes)
    );
    Ok(Compared {
        warden,
        cedar,
        residual,
    })
}

fn report_ratio(out: &mut StdoutLock<'_>, compared: &Compared, target: f64) -> Result<(), String> {
    let ratio = compared.ratio();
    say!(
        out,
        "cedar/warden: p50 {:.1}x, p99 {:.1}x (target p50 >= {target}x: {})",
        ratio,
        compared.cedar.p99 / compared.warden.p99,
        if ratio >= target { "met" } else { "MISSED" }
    );
    Ok(())
}

fn table(out: &mut StdoutLock<'_>, rows: &[(&str, &Stats)]) -> Result<(), String> {
    say!(
        out,
        "  {:<14} {:>14} {:>14} {:>13} {:>16}",
        "engine",
        "p50/decision",
        "p99/decision",
        "decisions/s",
        "samples x batch"
    );
    for (name, stats) in rows {
        say!(
            out,
            "  {:<14} {:>14} {:>14} {:>13} {:>16}",
            name,
            duration(stats.p50),
            duration(stats.p99),
            rate(stats.per_second),
            format!("{} x {}", stats.samples, stats.batch)
        );
    }
    Ok(())
}

/// Decides every request with both engines; returns how many were allowed, or a loud report of
/// the first disagreement.
fn agree(
    snapshot: &Snapshot,
    translation: &Translation,
    entities: &Entities,
    principal: &Principal,
    questions: &[Question],
    cedar_requests: &[CedarRequest],
) -> Result<usize, String> {
    let authorizer = Authorizer::new();
    let mut allowed = 0;
    for (question, cedar_request) in questions.iter().zip(cedar_requests) {
        let request = question.request();
        let warden = snapshot.decide(&request);
        let response = authorizer.is_authorized(cedar_request, &translation.policies, entities);
        let cedar_allows = response.decision() == CedarDecision::Allow;
        let errors: Vec<String> = response
            .diagnostics()
            .errors()
            .map(ToString::to_string)
            .collect();
        if warden.is_allowed() == cedar_allows && errors.is_empty() {
            allowed += usize::from(cedar_allows);
            continue;
        }
        let mut report = String::from("Warden and Cedar disagree\n");
        report.push_str(&format!("request: {}\n", question.describe()));
        let explanation = snapshot.explain(&request);
        report.push_str(&format!(
            "Warden: {:?} ({:?}): {}\n",
            warden.outcome, warden.reason, explanation.summary
        ));
        for deciding in &explanation.deciding {
            report.push_str(&format!(
                "  deciding: {} (policy `{}`, group `{}`, {})\n",
                deciding.statement, deciding.policy.name, deciding.group.name, deciding.level
            ));
        }
        for near in &explanation.nearest {
            report.push_str(&format!(
                "  nearest: {} (policy `{}`, group `{}`): {}\n",
                near.statement.statement,
                near.statement.policy.name,
                near.statement.group.name,
                near.failed.why
            ));
        }
        report.push_str(&format!(
            "Cedar: {:?}; errors: {errors:?}\n",
            response.decision()
        ));
        for id in response.diagnostics().reason() {
            let id = id.to_string();
            match translation.source(&id) {
                Some(source) => report.push_str(&format!(
                    "  determining Cedar policy {id} (from `{}`):\n{}\n",
                    source.warden, source.cedar
                )),
                None => report.push_str(&format!("  determining Cedar policy {id}\n")),
            }
        }
        report.push_str("Cedar policies of the principal's groups naming the permission:\n");
        for involved in translation
            .involved(principal, &question.permission)
            .take(20)
        {
            report.push_str(&format!(
                "  {} (from `{}`):\n{}\n",
                involved.id, involved.warden, involved.cedar
            ));
        }
        return Err(report);
    }
    Ok(allowed)
}

/// (c): build, compile, decide.
fn large(
    out: &mut StdoutLock<'_>,
    builtin: &Builtin,
    catalogue: &Arc<Catalogue>,
) -> Result<Large, String> {
    let mut rng = Rng::new(SEED ^ 0xC);
    let start = Instant::now();
    let directory = workloads::large_world(builtin, &mut rng, C_SIZES, C_BINDINGS, C_USERS)?;
    let built = start.elapsed();
    say!(
        out,
        "directory: {} principals, {} groups, {} policies, {} bindings; built in {:.2} s",
        directory.principal_count(),
        directory.group_count(),
        directory.policy_count(),
        directory.binding_count(),
        built.as_secs_f64()
    );
    say!(
        out,
        "memory before compiling: resident {}, peak {}",
        resident().map_or_else(|| "unknown".to_owned(), bytes),
        peak_memory().map_or_else(|| "unknown".to_owned(), bytes)
    );
    let start = Instant::now();
    let snapshot = Snapshot::build(directory, Arc::clone(catalogue), 1);
    let compile = start.elapsed();
    let issues = snapshot.issues();
    if !issues.is_empty() {
        return Err(format!(
            "the snapshot has {} compile issues (the workload is wrong), first: {:?}",
            issues.len(),
            issues.first()
        ));
    }
    let peak = peak_memory();
    say!(
        out,
        "Snapshot::build: {:.2} s; resident after {}, peak {}",
        compile.as_secs_f64(),
        resident().map_or_else(|| "unknown".to_owned(), bytes),
        peak.map_or_else(|| "unknown".to_owned(), bytes)
    );
    // Like (a): 1,024 requests from a few principals, cycled, so the working set stays in cache.
    let few = workloads::random_users(&mut rng, snapshot.directory(), C_USERS, C_WARM_USERS);
    let warm = workloads::questions_large(&mut rng, catalogue, snapshot.directory(), &few, 1024);
    // Every request from another random user: nearly every memory access misses the caches.
    let many = workloads::random_users(&mut rng, snapshot.directory(), C_USERS, C_COLD_REQUESTS);
    let cold = workloads::questions_large(
        &mut rng,
        catalogue,
        snapshot.directory(),
        &many,
        C_COLD_REQUESTS,
    );
    let mut rows = Vec::new();
    for (name, questions) in [("warm", &warm), ("cold", &cold)] {
        let requests: Vec<warden_engine::Request<'_>> =
            questions.iter().map(Question::request).collect();
        let allowed = requests
            .iter()
            .filter(|r| snapshot.decide(r).is_allowed())
            .count();
        say!(
            out,
            "{name}: {} requests from {} random users ({} allowed, {} denied)",
            requests.len(),
            if name == "warm" {
                few.len()
            } else {
                many.len()
            },
            allowed,
            requests.len() - allowed
        );
        let stats = measure(
            requests.len(),
            Plan {
                batch: 64,
                samples: 10_000,
                budget: Duration::from_secs(6),
                min_samples: 1_000,
            },
            |i| {
                requests
                    .get(i)
                    .is_some_and(|r| snapshot.decide(r).is_allowed())
            },
        );
        rows.push((name, stats));
    }
    let [(_, warden), (_, cold)] = rows.as_slice() else {
        return Err("two measurements expected".to_owned());
    };
    let (warden, cold) = (*warden, *cold);
    table(out, &[("warden (warm)", &warden), ("warden (cold)", &cold)])?;
    let peak_now = peak_memory();
    say!(
        out,
        "peak memory so far (VmHWM): {}",
        peak_now.map_or_else(|| "unknown".to_owned(), bytes)
    );
    Ok(Large {
        warden,
        cold,
        compile,
        peak: peak_now.or(peak),
    })
}

fn resident() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    measure::kilobytes(&status, "VmRSS:")
}

/// Cores, CPU model and memory, from the standard library and /proc.
fn machine() -> String {
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|text| {
            text.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".to_owned());
    let memory = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|text| measure::kilobytes(&text, "MemTotal:"))
        .map_or_else(|| "unknown memory".to_owned(), bytes);
    format!("{cores} cores, {model}, {memory}")
}
