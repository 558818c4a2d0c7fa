//! Pooling the rounds of several saved runs (`run --json`) into one report.
//!
//! One run's intervals are only as narrow as its rounds allow; on a noisy machine a 5%
//! target may need more rounds than one run should take. Every round of a run pairs the
//! implementations under the same conditions, so the rounds of several runs on the same
//! machine can be put side by side and the per-round ratios, their medians, intervals
//! and the targets' verdicts computed over all of them.
//!
//! Pairing is kept: a run contributes a workload's repetitions only from implementations
//! that completed every round of it (a failed repetition would shift the rounds after
//! it); where that leaves two implementations with different counts, their ratio falls
//! back to the ratio of the medians, as in a single run.

use std::io;

use serde::Deserialize;

use crate::machine::MachineInfo;
use crate::report::{Rep, Report, RunSettings};
use crate::servers::ServerImpl;
use crate::targets::{self, Check};
use crate::workload::Workload;

/// The parts of a saved report that pooling reads.
#[derive(Debug, Deserialize)]
struct SavedRun {
    machine: MachineInfo,
    settings: RunSettings,
    entries: Vec<SavedEntry>,
    #[serde(default)]
    failures: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct SavedEntry {
    #[serde(rename = "impl")]
    imp: ServerImpl,
    workload: Workload,
    reps: Vec<Rep>,
}

/// Several runs' rounds as one report, and what each run said on its own.
#[derive(Debug, Clone)]
pub struct Pooled {
    /// The pooled report: the machine and durations of the first run, the rounds of all.
    pub report: Report,
    /// Each run's own target checks, in the order the runs were given, so the spread
    /// between runs can be set beside the pooled interval
    /// ([`targets::render_across_runs`]).
    pub runs: Vec<Vec<Check>>,
}

impl Pooled {
    /// The pooled table and targets, then every target across the runs.
    pub fn table(&self) -> String {
        let mut out = self.report.table();
        let across = targets::render_across_runs(&self.report.targets, &self.runs);
        if !across.is_empty() {
            out.push_str(
                "\nacross runs: each run's median, then the median of those medians [interval \
                 counting runs, not rounds]\n",
            );
            out.push_str(&across);
        }
        out
    }
}

/// Pools the JSON reports in `runs` (their text, in order) into one report: the machine
/// and durations of the first, the rounds of all.
///
/// # Errors
/// `InvalidData` when there is no run or one does not parse as a report.
pub fn pool(runs: &[String]) -> io::Result<Pooled> {
    let mut parsed = Vec::new();
    for (i, text) in runs.iter().enumerate() {
        let run: SavedRun = serde_json::from_str(text).map_err(|e| {
            io::Error::new(io::ErrorKind::InvalidData, format!("report {}: {e}", i + 1))
        })?;
        parsed.push(run);
    }
    let Some(first) = parsed.first() else {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "no report to pool",
        ));
    };
    if let Some(other) = parsed
        .iter()
        .find(|r| r.settings.tokio_workers != first.settings.tokio_workers)
    {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "the runs' tokio servers used different schedulers ({} and {} workers; 0 is \
                 current-thread): pool runs of one scheduler",
                first.settings.tokio_workers, other.settings.tokio_workers
            ),
        ));
    }
    let machine = first.machine.clone();
    let mut settings = RunSettings {
        duration_secs: first.settings.duration_secs,
        reps: 0,
        idle_reps: 0,
        server_cpu: first.settings.server_cpu,
        tokio_workers: first.settings.tokio_workers,
        impls: Vec::new(),
        workloads: Vec::new(),
    };
    let mut measured: Vec<(ServerImpl, Workload, Vec<Rep>)> = Vec::new();
    let mut failures = Vec::new();
    let mut per_run = Vec::new();
    for (i, run) in parsed.into_iter().enumerate() {
        let own: Vec<_> = run
            .entries
            .iter()
            .map(|e| (e.imp, e.workload, e.reps.clone()))
            .collect();
        let alone = Report::new(run.machine.clone(), run.settings.clone(), own, Vec::new());
        per_run.push(alone.targets);
        settings.reps += run.settings.reps;
        // Reports written before the harness recorded 0 without an idle workload still say 3.
        if run.settings.workloads.iter().any(|w| w.is_idle_memory()) {
            settings.idle_reps += run.settings.idle_reps;
        }
        for imp in &run.settings.impls {
            if !settings.impls.contains(imp) {
                settings.impls.push(*imp);
            }
        }
        for w in &run.settings.workloads {
            if !settings.workloads.contains(w) {
                settings.workloads.push(*w);
            }
        }
        failures.extend(run.failures.iter().map(|f| format!("run {}: {f}", i + 1)));
        for e in run.entries {
            let complete = e.workload.is_idle_memory() || e.reps.len() == run.settings.reps;
            if !complete {
                failures.push(format!(
                    "run {}: {} {} left out ({} of {} rounds)",
                    i + 1,
                    e.imp,
                    e.workload,
                    e.reps.len(),
                    run.settings.reps
                ));
                continue;
            }
            match measured
                .iter_mut()
                .find(|(imp, w, _)| *imp == e.imp && *w == e.workload)
            {
                Some((_, _, reps)) => reps.extend(e.reps),
                None => measured.push((e.imp, e.workload, e.reps)),
            }
        }
    }
    Ok(Pooled {
        report: Report::new(machine, settings, measured, failures),
        runs: per_run,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::report_with_cpu_ratios;

    /// A saved throughput c=1 run where nodenet-tokio used `cpu[i]` times raw tokio's
    /// CPU in round `i`.
    fn saved(cpu: &[f64]) -> String {
        serde_json::to_string(&report_with_cpu_ratios(cpu)).expect("serialises")
    }

    #[test]
    fn pooled_rounds_narrow_the_interval() {
        let a = saved(&[0.9, 1.0, 1.1, 1.02, 1.01]);
        let b = saved(&[0.98, 1.03, 1.2, 1.0, 1.01]);
        let one = pool(std::slice::from_ref(&a)).expect("pools").report;
        let both = pool(&[a, b]).expect("pools").report;
        assert_eq!(both.settings.reps, 10);
        let cpu = |r: &Report| {
            let w = Workload::Throughput { connections: 1 };
            let e = r.entry(ServerImpl::NodenetTokio, w).expect("entry");
            assert_eq!(e.reps.len(), r.settings.reps);
            e.vs_raw_tokio.intervals.server_cpu.expect("interval")
        };
        // One run: all five rounds (0.90 to 1.10). Both: k = 2 of 10 (0.98 to 1.10).
        assert_eq!(cpu(&one), (0.9, 1.1));
        let (lo, hi) = cpu(&both);
        assert!(
            (lo - 0.98).abs() < 1e-9 && (hi - 1.1).abs() < 1e-9,
            "{lo} {hi}"
        );
    }

    #[test]
    fn runs_of_different_tokio_schedulers_are_not_pooled() {
        let mut multi = report_with_cpu_ratios(&[1.0; 3]);
        multi.settings.tokio_workers = 2;
        let multi = serde_json::to_string(&multi).expect("serialises");
        let pooled = pool(&[multi.clone(), multi.clone()]).expect("pools");
        assert!(pooled
            .table()
            .contains("tokio servers: multi-thread scheduler, 2 workers"));
        let err = pool(&[saved(&[1.0; 3]), multi]).expect_err("mixed schedulers");
        assert!(err.to_string().contains("0 and 2 workers"), "{err}");
    }

    #[test]
    fn idle_repetitions_count_only_from_runs_with_the_idle_workload() {
        // Older harnesses recorded their idle setting even when no idle workload ran.
        let mut old = report_with_cpu_ratios(&[1.0; 3]);
        old.settings.idle_reps = 3;
        let old = serde_json::to_string(&old).expect("serialises");
        let pooled = pool(&[old.clone(), old]).expect("pools");
        assert_eq!(pooled.report.settings.idle_reps, 0);
        assert!(!pooled.table().contains("idle-memory repetition"));
    }

    #[test]
    fn runs_that_disagree_show_beside_the_pooled_interval() {
        // Each run is tight around its own level; the levels differ by 20%.
        let runs: Vec<String> = [0.9, 1.1, 0.95, 1.05, 1.0]
            .iter()
            .map(|level| saved(&[level - 0.01, *level, level + 0.01, *level, *level]))
            .collect();
        let pooled = pool(&runs).expect("pools");
        assert_eq!(pooled.runs.len(), 5);
        let text = pooled.table();
        let line = text
            .lines()
            .find(|l| l.contains("throughput c=1 cpu×tokio ≤ 1.05: runs"))
            .unwrap_or_else(|| panic!("no across-runs line in\n{text}"));
        // Five runs: their medians in the order given, and the full range as the interval.
        assert!(
            line.contains("runs 0.900 1.100 0.950 1.050 1.000 -> 1.000 [0.900, 1.100] undecided"),
            "{line}"
        );
        // Counted by rounds, the interval is narrower than the runs' spread.
        let pooled_check = pooled
            .report
            .targets
            .iter()
            .find(|c| c.target.figure == targets::Figure::ServerCpu)
            .expect("cpu target");
        let (lo, hi) = pooled_check.interval.expect("interval");
        assert!(hi - lo < 0.2, "{lo} {hi}");
    }

    #[test]
    fn incomplete_entries_are_left_out_and_bad_input_is_an_error() {
        let mut v: serde_json::Value = serde_json::from_str(&saved(&[1.0; 5])).expect("json");
        if let Some(reps) = v["entries"][1]["reps"].as_array_mut() {
            reps.pop();
        }
        let pooled = pool(&[v.to_string()]).expect("pools").report;
        let w = Workload::Throughput { connections: 1 };
        assert!(pooled.entry(ServerImpl::NodenetTokio, w).is_none());
        assert!(
            pooled.failures.iter().any(|f| f.contains("4 of 5 rounds")),
            "{:?}",
            pooled.failures
        );
        assert!(pool(&[]).is_err());
        assert!(pool(&["{}".to_owned()]).is_err());
    }
}
