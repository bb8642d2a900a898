//! `warden-bench capacity`: what a snapshot costs — resident memory per user, per group and per
//! binding, the time of a full compile, and the times of incremental updates (a binding, a user, a
//! membership, a policy bound to many groups) — measured by
//! building the (c) account step by step and reading the process's resident set in between.

use std::io::Write;
use std::sync::Arc;
use std::time::Instant;

use warden_engine::directory::{Affected, Directory};
use warden_engine::{Binding, Builtin, Id, Level, Principal, Snapshot};

use crate::rng::Rng;
use crate::workloads::{add_users, bind_groups, generated_account};
use crate::{C_BINDINGS, C_SIZES, C_USERS};

/// Resident set size in bytes (Linux), or 0 where unknown.
fn resident() -> u64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| {
            s.split_whitespace()
                .nth(1)
                .and_then(|pages| pages.parse::<u64>().ok())
        })
        .map_or(0, |pages| pages * 4096)
}

fn per(bytes: u64, count: usize) -> String {
    format!("{:.0} B", bytes as f64 / count.max(1) as f64)
}

pub fn run(out: &mut impl Write) -> Result<(), String> {
    let say =
        |out: &mut dyn Write, line: String| writeln!(out, "{line}").map_err(|e| e.to_string());
    let builtin = Builtin::load(&[]).map_err(|e| format!("{e:?}"))?;
    let mut rng = Rng::new(0x5eed_ca9a);
    let start = resident();
    let mut account = generated_account(&builtin, &mut rng, "acc-capacity", C_SIZES)?;
    let after_account = resident();
    bind_groups(&mut account, &mut rng, C_SIZES, C_BINDINGS)?;
    let after_bindings = resident();
    add_users(&mut account, &builtin, &mut rng, C_USERS)?;
    let after_users = resident();
    let directory = account.directory.clone();
    let catalogue = Arc::new(builtin.catalogue.clone());
    let began = Instant::now();
    let snapshot = Snapshot::build(directory.clone(), Arc::clone(&catalogue), 1);
    let compile = began.elapsed();
    let after_compile = resident();

    // An incremental update: one more binding for one group.
    let group = account.groups.first().cloned().ok_or("no group")?;
    let policy = account
        .policies
        .iter()
        .find(|(_, parameterised)| !parameterised)
        .map(|(id, _)| id.clone())
        .ok_or("no policy")?;
    let mut changed = directory.clone();
    let began = Instant::now();
    let affected = changed
        .add_binding(Binding::new(Level::Account, &policy, &group))
        .map_err(|e| e.to_string())?;
    let next = snapshot.apply(changed, &affected, 2);
    let incremental = began.elapsed();
    drop(next);
    let writes = write_times(&snapshot, &account.groups)?;

    let groups = C_SIZES.groups;
    say(
        out,
        "capacity of a snapshot (the (c) account, built step by step; resident memory deltas)"
            .into(),
    )?;
    say(
        out,
        format!(
            "  {groups} groups and {} policies (directory):   {:>7.1} MiB, {} per group",
            C_SIZES.policies,
            mib(after_account - start),
            per(after_account - start, groups)
        ),
    )?;
    say(
        out,
        format!(
            "  {C_BINDINGS} bindings (directory):            {:>7.1} MiB, {} per binding",
            mib(after_bindings - after_account),
            per(after_bindings - after_account, C_BINDINGS)
        ),
    )?;
    say(
        out,
        format!(
            "  {C_USERS} users in 1–5 groups (directory):  {:>7.1} MiB, {} per user",
            mib(after_users - after_bindings),
            per(after_users - after_bindings, C_USERS)
        ),
    )?;
    say(
        out,
        format!(
            "  compiled grants (snapshot):               {:>7.1} MiB, {} per binding",
            mib(after_compile - after_users),
            per(after_compile - after_users, C_BINDINGS)
        ),
    )?;
    say(
        out,
        format!(
            "  full compile: {:.2} s; incremental update of one group: {:.3} ms",
            compile.as_secs_f64(),
            incremental.as_secs_f64() * 1000.0
        ),
    )?;
    for (what, median, worst) in writes {
        say(
            out,
            format!("  {what}: median {median:.1} µs, worst {worst:.1} µs (of {WRITE_RUNS})"),
        )?;
    }
    say(
        out,
        format!("  total resident: {:.0} MiB", mib(after_compile)),
    )?;
    Ok(())
}

/// How many times each write is timed.
const WRITE_RUNS: usize = 21;

/// The median and worst time (µs) of `write` applied to a copy of `snapshot`'s directory and
/// turned into the next snapshot, as the server's write path does, over [`WRITE_RUNS`] runs.
fn timed(
    snapshot: &Snapshot,
    write: &dyn Fn(&mut Directory, usize) -> Result<Affected, String>,
) -> Result<(f64, f64), String> {
    let mut times = Vec::with_capacity(WRITE_RUNS);
    for run in 0..WRITE_RUNS {
        let mut changed = snapshot.directory().clone();
        let began = Instant::now();
        let affected = write(&mut changed, run)?;
        let next = snapshot.apply(changed, &affected, 2);
        times.push(began.elapsed().as_secs_f64() * 1e6);
        drop(next);
    }
    times.sort_by(f64::total_cmp);
    let median = times.get(WRITE_RUNS / 2).copied().unwrap_or_default();
    let worst = times.last().copied().unwrap_or_default();
    Ok((median, worst))
}

/// The writes of issue-sized accounts, timed on the (c) snapshot: a new user, a membership, and
/// a policy bound to many groups saved again.
fn write_times(snapshot: &Snapshot, groups: &[Id]) -> Result<Vec<(String, f64, f64)>, String> {
    let error = |e: warden_engine::directory::DirectoryError| e.to_string();
    let group = groups.first().cloned().ok_or("no group")?;
    let directory = snapshot.directory();
    let member = directory
        .principals()
        .next()
        .map(|p| (Arc::clone(&p.uid), p.groups.to_vec()))
        .ok_or("no user")?;
    // The policy bound to the number of groups nearest 30.
    let (policy, bound) = directory
        .policies()
        .map(|p| (Arc::clone(p), directory.groups_bound_to(&p.id).count()))
        .min_by_key(|(_, count)| count.abs_diff(30))
        .ok_or("no policy")?;
    let mut out = Vec::new();
    let (median, worst) = timed(snapshot, &|d, run| {
        d.upsert_principal(Principal::user(
            &format!("new-{run}"),
            &format!("new-{run}@bench.example"),
        ))
        .map_err(error)
    })?;
    out.push(("adding a user".to_owned(), median, worst));
    let (median, worst) = timed(snapshot, &|d, _| {
        let mut groups = member.1.clone();
        groups.push(Arc::clone(&group));
        d.set_memberships(&member.0, groups).map_err(error)
    })?;
    out.push(("adding a membership".to_owned(), median, worst));
    let (median, worst) = timed(snapshot, &|d, _| {
        d.upsert_policy((*policy).clone()).map_err(error)
    })?;
    out.push((
        format!("saving again a policy bound to {bound} groups"),
        median,
        worst,
    ));
    Ok(out)
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}
