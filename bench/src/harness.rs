//! The orchestrator: start every implementation's server as a separate process, run each
//! timed workload against them in rounds (one repetition of every implementation per
//! round) while sampling each server's CPU time and memory, stop them, measure idle
//! memory, and assemble the [`Report`].
//!
//! Timed workloads share one server process per implementation; the idle-memory
//! measurement gets a fresh server per repetition, so memory the allocator kept from the
//! throughput runs cannot hide the cost of idle connections.

use std::io;
use std::path::PathBuf;
use std::time::Duration;

use crate::affinity::Placement;
use crate::machine::{raise_nofile_limit, MachineInfo};
use crate::process::ServerProcess;
use crate::report::{Rep, Report, RunSettings};
use crate::servers::ServerImpl;
use crate::workload::{idle, LoadOutcome, Workload};

/// Pause before the closing sample, so the server's work for the connections just closed
/// (FIN handling, task teardown) is billed to the run that caused it.
const SETTLE: Duration = Duration::from_millis(100);

/// File descriptors kept free beside the idle connections (runtime, listener, pipes).
const FD_HEADROOM: u64 = 256;

/// What to run.
#[derive(Debug, Clone)]
pub struct RunConfig {
    /// Implementations, in table order (put raw tokio first).
    pub impls: Vec<ServerImpl>,
    /// Workloads, in table order.
    pub workloads: Vec<Workload>,
    /// Length of one timed repetition.
    pub duration: Duration,
    /// Rounds of every timed workload; the median is reported.
    pub reps: usize,
    /// Repetitions of the idle-memory measurement (a fresh server each; its figure
    /// varies little, and each repetition opens every idle connection anew).
    pub idle_reps: usize,
    /// Pin the servers to one CPU and the load generator to the others
    /// ([`Placement`]) when the machine has two or more.
    pub pin: bool,
    /// The `nodenet-bench` binary, which serves the Rust implementations.
    pub self_exe: PathBuf,
}

impl RunConfig {
    /// The full suite (12 rounds of 1 s) or the quick one (3 of 1 s), with 3 idle-memory
    /// repetitions of 10 000 connections.
    ///
    /// Twelve short rounds rather than five long ones: on this kind of shared machine a
    /// server's CPU per KiB wanders ±20% from one half second to the next, so a ratio's
    /// precision comes from the number of rounds, and the median's interval
    /// ([`crate::stats::median_interval`]) can drop the extreme rounds only from about
    /// ten on.
    pub fn standard(quick: bool, impls: Vec<ServerImpl>, self_exe: PathBuf) -> RunConfig {
        RunConfig {
            impls,
            workloads: Workload::standard(10_000),
            duration: Duration::from_secs(1),
            reps: if quick { 3 } else { 12 },
            idle_reps: 3,
            pin: true,
            self_exe,
        }
    }
}

/// Runs `config` and returns the report; `progress` receives one line per step.
///
/// A server that fails to start or a workload that fails is recorded in
/// [`Report::failures`] and the run goes on.
///
/// # Errors
/// Fails only when the load generator's runtime cannot be built or, with `pin`, when
/// the CPU masks cannot be read or set.
pub fn run(config: &RunConfig, progress: &mut dyn FnMut(&str)) -> io::Result<Report> {
    // Read before pinning narrows what this process may see.
    let mut machine = MachineInfo::detect();
    // Before the runtime exists, so its worker threads inherit the client's CPUs.
    let placement = if config.pin {
        Placement::split()?
    } else {
        None
    };
    if let Some(p) = &placement {
        p.pin_client()?;
    }
    let placement = placement.as_ref();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let mut failures = Vec::new();
    let workloads = fit_idle_connections(&config.workloads, &mut failures);
    let timed: Vec<Workload> = workloads
        .iter()
        .copied()
        .filter(|w| !w.is_idle_memory())
        .collect();
    // Every server is up for the whole timed part and the repetitions go round-robin over
    // the implementations (rep 1 of each, then rep 2 of each, ...): on a shared machine
    // whose speed drifts over minutes, each round meets every implementation in the same
    // conditions, so the ratios compare like with like. Odd rounds go in reverse order,
    // so no implementation always runs right after the same neighbour.
    let mut servers = Vec::new();
    if !timed.is_empty() {
        for &imp in &config.impls {
            match ServerProcess::start_on(imp, &config.self_exe, placement) {
                Ok(server) => servers.push((imp, server)),
                Err(e) => failures.push(format!("{imp}: {e}")),
            }
        }
    }
    // reps[workload][server]
    let mut timed_reps: Vec<Vec<Vec<Rep>>> = vec![vec![Vec::new(); servers.len()]; timed.len()];
    for (wi, &w) in timed.iter().enumerate() {
        for i in 0..config.reps {
            for si in round_order(servers.len(), i) {
                let Some((imp, server)) = servers.get(si) else {
                    continue;
                };
                progress(&format!("{imp}: {w} (run {}/{})", i + 1, config.reps));
                match timed_rep(&runtime, server, w, config.duration) {
                    Ok(rep) => {
                        if let Some(slot) = timed_reps.get_mut(wi).and_then(|r| r.get_mut(si)) {
                            slot.push(rep);
                        }
                    }
                    Err(e) => failures.push(format!("{imp} {w}: {e}")),
                }
            }
        }
    }
    let mut measured = Vec::new();
    for (si, (imp, server)) in servers.into_iter().enumerate() {
        let _ = server.stop();
        for (wi, &w) in timed.iter().enumerate() {
            let reps = timed_reps
                .get_mut(wi)
                .and_then(|r| r.get_mut(si))
                .map(std::mem::take)
                .unwrap_or_default();
            measured.push((imp, w, reps));
        }
    }
    for &imp in &config.impls {
        for &w in &workloads {
            let Workload::IdleMemory { connections } = w else {
                continue;
            };
            let mut reps = Vec::new();
            for i in 0..config.idle_reps {
                progress(&format!("{imp}: {w} (run {}/{})", i + 1, config.idle_reps));
                match idle_rep(&runtime, imp, config, placement, connections) {
                    Ok(rep) => reps.push(rep),
                    Err(e) => failures.push(format!("{imp} {w}: {e}")),
                }
            }
            measured.push((imp, w, reps));
        }
    }
    let settings = RunSettings {
        duration_secs: config.duration.as_secs_f64(),
        reps: config.reps,
        // Only repetitions that ran count, so a pool of runs without the idle workload says none.
        idle_reps: if workloads.iter().any(|w| w.is_idle_memory()) {
            config.idle_reps
        } else {
            0
        },
        server_cpu: placement.map(|p| p.server_cpu),
        // The servers are this program's children: they read the same variable.
        tokio_workers: crate::servers::tokio_workers(
            std::env::var(crate::servers::TOKIO_WORKERS_ENV)
                .ok()
                .as_deref(),
        ),
        impls: config.impls.clone(),
        workloads,
    };
    machine.load_at_end = crate::machine::load_average();
    Ok(Report::new(machine, settings, measured, failures))
}

/// The order in which round `round` visits `n` servers: forward in even rounds, backward
/// in odd ones.
fn round_order(n: usize, round: usize) -> impl Iterator<Item = usize> {
    let forward = round.is_multiple_of(2);
    (0..n).map(move |k| if forward { k } else { n - 1 - k })
}

/// Raises the open-file limit for the idle-connection workloads (the servers inherit it)
/// and shrinks their connection count if the limit cannot cover it, saying so.
fn fit_idle_connections(workloads: &[Workload], failures: &mut Vec<String>) -> Vec<Workload> {
    let wanted = workloads
        .iter()
        .filter_map(|w| match w {
            Workload::IdleMemory { connections } => Some(*connections as u64),
            _ => None,
        })
        .max()
        .unwrap_or(0);
    // The connect-rate and 64-connection workloads need far fewer descriptors.
    let needed = wanted.max(1024) + FD_HEADROOM;
    let soft = match raise_nofile_limit(needed) {
        Ok(soft) => soft,
        Err(e) => {
            failures.push(format!("cannot raise RLIMIT_NOFILE: {e}"));
            rlimit::Resource::NOFILE.get().map_or(1024, |(s, _)| s)
        }
    };
    let usable = usize::try_from(soft.saturating_sub(FD_HEADROOM)).unwrap_or(usize::MAX);
    workloads
        .iter()
        .map(|w| match *w {
            Workload::IdleMemory { connections } if connections > usable => {
                failures.push(format!(
                    "idle connections reduced from {connections} to {usable}: RLIMIT_NOFILE is {soft}"
                ));
                Workload::IdleMemory {
                    connections: usable,
                }
            }
            other => other,
        })
        .collect()
}

/// One timed repetition with server samples around it.
fn timed_rep(
    runtime: &tokio::runtime::Runtime,
    server: &ServerProcess,
    w: Workload,
    duration: Duration,
) -> io::Result<Rep> {
    let own = || crate::proc_stat::process_cpu_clock(std::process::id());
    let before = server.sample()?;
    let client_before = own();
    let outcome = runtime.block_on(w.run_timed(server.addr(), duration))?;
    let client_after = own();
    std::thread::sleep(SETTLE);
    let after = server.sample()?;
    let mut rep = to_rep(&outcome, &before, &after);
    rep.client_cpu_secs = client_before
        .zip(client_after)
        .map(|(b, a)| a.saturating_sub(b).as_secs_f64());
    Ok(rep)
}

/// One idle-memory repetition on a fresh server.
fn idle_rep(
    runtime: &tokio::runtime::Runtime,
    imp: ServerImpl,
    config: &RunConfig,
    placement: Option<&Placement>,
    connections: usize,
) -> io::Result<Rep> {
    let server = ServerProcess::start_on(imp, &config.self_exe, placement)?;
    std::thread::sleep(SETTLE);
    let before = server.sample()?;
    let started = std::time::Instant::now();
    let held = runtime.block_on(idle::open(server.addr(), connections))?;
    let elapsed = started.elapsed();
    // Let the server finish whatever it does after the last echo before reading RSS.
    std::thread::sleep(SETTLE * 2);
    let after = server.sample()?;
    let outcome = LoadOutcome {
        ops: held.len() as u64,
        elapsed,
        ..LoadOutcome::default()
    };
    // Close the client side inside the runtime that owns the sockets' registrations.
    runtime.block_on(async move { drop(held) });
    server.stop()?;
    Ok(to_rep(&outcome, &before, &after))
}

fn to_rep(
    outcome: &LoadOutcome,
    before: &crate::proc_stat::ProcSample,
    after: &crate::proc_stat::ProcSample,
) -> Rep {
    Rep {
        ops: outcome.ops,
        elapsed_secs: outcome.elapsed.as_secs_f64(),
        server_cpu_secs: after.cpu_since(before).as_secs_f64(),
        client_cpu_secs: None,
        rss_before_bytes: before.rss_bytes,
        rss_after_bytes: after.rss_bytes,
        errors: outcome.errors,
        first_error: outcome.first_error.clone(),
        latency: outcome.latency,
    }
}

#[cfg(test)]
mod tests {
    use super::round_order;

    #[test]
    fn rounds_alternate_direction() {
        assert_eq!(round_order(3, 0).collect::<Vec<_>>(), [0, 1, 2]);
        assert_eq!(round_order(3, 1).collect::<Vec<_>>(), [2, 1, 0]);
        assert_eq!(round_order(3, 4).collect::<Vec<_>>(), [0, 1, 2]);
        assert_eq!(round_order(0, 1).count(), 0);
    }
}
