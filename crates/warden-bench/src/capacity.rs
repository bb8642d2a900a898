//! `warden-bench capacity`: what a snapshot costs — resident memory per user, per group and per
//! binding, the time of a full compile, and the time of an incremental update — measured by
//! building the (c) account step by step and reading the process's resident set in between.

use std::io::Write;
use std::sync::Arc;
use std::time::Instant;

use warden_engine::{Binding, Builtin, Level, Snapshot};

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
    say(
        out,
        format!("  total resident: {:.0} MiB", mib(after_compile)),
    )?;
    Ok(())
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}
