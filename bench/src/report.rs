//! The results of a run: per-repetition raw numbers, medians, ratios against raw tokio and
//! Node, the one printed table, and the JSON written beside it.

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::latency::LatencySummary;
use crate::machine::MachineInfo;
use crate::servers::ServerImpl;
use crate::stats::{median, median_interval, ratio};
use crate::targets;

/// Coverage of the interval reported around every paired ratio.
pub const INTERVAL_CONFIDENCE: f64 = 0.9;
use crate::workload::Workload;

/// One repetition of one workload against one server, as measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rep {
    /// Operations completed (bytes echoed, round trips, or connections).
    pub ops: u64,
    /// Wall time of the run, seconds.
    pub elapsed_secs: f64,
    /// Server CPU time (user + system) consumed during the run, seconds.
    pub server_cpu_secs: f64,
    /// The load generator's CPU time during the run, seconds: on loopback the kernel
    /// bills part of each side's TCP work to whichever process is sending, so this is
    /// where the server's share went when it changes (absent in older reports).
    #[serde(default)]
    pub client_cpu_secs: Option<f64>,
    /// Server resident memory before the run, bytes.
    pub rss_before_bytes: u64,
    /// Server resident memory after the run, bytes.
    pub rss_after_bytes: u64,
    /// Failed operations or connections.
    pub errors: u64,
    /// The first failure's message.
    pub first_error: Option<String>,
    /// Round-trip latency, for ping-pong.
    pub latency: Option<LatencySummary>,
}

/// The median figures of one server on one workload.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Figures {
    /// The workload's main figure: GB/s, round trips/s, connections/s, or KiB per idle
    /// connection.
    pub value: f64,
    /// Unit of [`Figures::value`].
    pub value_unit: &'static str,
    /// Whether a larger [`Figures::value`] is better (false for memory).
    pub higher_is_better: bool,
    /// Server CPU microseconds per KiB, round trip or connection.
    pub server_cpu_us: Option<f64>,
    /// Unit of [`Figures::server_cpu_us`].
    pub server_cpu_unit: Option<&'static str>,
    /// Load-generator CPU microseconds per operation (same unit as the server's).
    pub client_cpu_us: Option<f64>,
    /// Median round trip, microseconds.
    pub p50_us: Option<f64>,
    /// 99th-percentile round trip, microseconds.
    pub p99_us: Option<f64>,
}

impl Figures {
    /// Medians over `reps` of `workload` (each figure's median taken on its own).
    pub fn from_reps(workload: Workload, reps: &[Rep]) -> Option<Figures> {
        let per_rep = |f: &dyn Fn(&Rep) -> Option<f64>| -> Option<f64> {
            let v: Vec<f64> = reps.iter().filter_map(f).collect();
            median(&v)
        };
        let rate = |r: &Rep| (r.elapsed_secs > 0.0).then(|| r.ops as f64 / r.elapsed_secs);
        let cpu_per = |r: &Rep, per: f64| (per > 0.0).then(|| r.server_cpu_secs * 1e6 / per);
        let client_per = |r: &Rep, per: f64| {
            r.client_cpu_secs
                .filter(|_| per > 0.0)
                .map(|c| c * 1e6 / per)
        };
        let p50 = per_rep(&|r| r.latency.map(|l| l.p50_us));
        let p99 = per_rep(&|r| r.latency.map(|l| l.p99_us));
        let f = match workload {
            Workload::Throughput { .. } => Figures {
                value: per_rep(&|r| rate(r).map(|b| b / 1e9))?,
                value_unit: "GB/s",
                higher_is_better: true,
                server_cpu_us: per_rep(&|r| cpu_per(r, r.ops as f64 / 1024.0)),
                server_cpu_unit: Some("µs/KiB"),
                client_cpu_us: per_rep(&|r| client_per(r, r.ops as f64 / 1024.0)),
                p50_us: None,
                p99_us: None,
            },
            Workload::PingPong { .. } => Figures {
                value: per_rep(&rate)?,
                value_unit: "rt/s",
                higher_is_better: true,
                server_cpu_us: per_rep(&|r| cpu_per(r, r.ops as f64)),
                server_cpu_unit: Some("µs/rt"),
                client_cpu_us: per_rep(&|r| client_per(r, r.ops as f64)),
                p50_us: p50,
                p99_us: p99,
            },
            Workload::ConnectRate { .. } => Figures {
                value: per_rep(&rate)?,
                value_unit: "conn/s",
                higher_is_better: true,
                server_cpu_us: per_rep(&|r| cpu_per(r, r.ops as f64)),
                server_cpu_unit: Some("µs/conn"),
                client_cpu_us: per_rep(&|r| client_per(r, r.ops as f64)),
                p50_us: None,
                p99_us: None,
            },
            Workload::IdleMemory { .. } => Figures {
                value: per_rep(&|r| {
                    let delta = r.rss_after_bytes as f64 - r.rss_before_bytes as f64;
                    (r.ops > 0).then(|| delta / r.ops as f64 / 1024.0)
                })?,
                value_unit: "KiB/conn",
                higher_is_better: false,
                server_cpu_us: None,
                server_cpu_unit: None,
                client_cpu_us: None,
                p50_us: None,
                p99_us: None,
            },
        };
        Some(f)
    }
}

/// A server's figures divided by another server's on the same workload (`None` when that
/// server or figure is missing).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Ratios {
    /// Main figure ratio (rate, or memory for idle connections).
    pub value: Option<f64>,
    /// Server CPU per operation ratio.
    pub server_cpu: Option<f64>,
    /// p99 latency ratio.
    pub p99: Option<f64>,
    /// Where the median of the per-round ratios lies with at least
    /// [`INTERVAL_CONFIDENCE`] (see [`median_interval`]); present only for paired ratios
    /// with enough rounds.
    pub intervals: RatioIntervals,
}

/// Confidence intervals `(low, high)` of the figures of a [`Ratios`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct RatioIntervals {
    /// Interval of [`Ratios::value`].
    pub value: Option<(f64, f64)>,
    /// Interval of [`Ratios::server_cpu`].
    pub server_cpu: Option<(f64, f64)>,
    /// Interval of [`Ratios::p99`].
    pub p99: Option<(f64, f64)>,
}

impl Ratios {
    /// `of / against`, figure by figure.
    pub fn between(of: &Figures, against: Option<&Figures>) -> Ratios {
        let Some(b) = against else {
            return Ratios::default();
        };
        Ratios {
            value: ratio(of.value, Some(b.value)),
            server_cpu: of.server_cpu_us.and_then(|v| ratio(v, b.server_cpu_us)),
            p99: of.p99_us.and_then(|v| ratio(v, b.p99_us)),
            intervals: RatioIntervals::default(),
        }
    }
}

impl Ratios {
    /// `of / against` as the median of the per-round ratios: repetition `i` of every
    /// server ran in the same round, back to back (see the harness), so dividing within a
    /// round cancels the machine's drift between rounds. Falls back to the ratio of the
    /// medians when the two servers do not have the same number of repetitions (one
    /// failed).
    pub fn paired(of: &Entry, against: Option<&Entry>) -> Ratios {
        let Some(b) = against else {
            return Ratios::default();
        };
        if of.reps.len() != b.reps.len() || of.reps.is_empty() {
            return Ratios::between(&of.figures, Some(&b.figures));
        }
        let rounds: Vec<Ratios> = of
            .reps
            .iter()
            .zip(&b.reps)
            .filter_map(|(x, y)| {
                let fx = Figures::from_reps(of.workload, std::slice::from_ref(x))?;
                let fy = Figures::from_reps(b.workload, std::slice::from_ref(y))?;
                Some(Ratios::between(&fx, Some(&fy)))
            })
            .collect();
        let per_round = |pick: fn(&Ratios) -> Option<f64>| -> Vec<f64> {
            rounds.iter().filter_map(pick).collect()
        };
        let (value, server_cpu, p99) = (
            per_round(|r| r.value),
            per_round(|r| r.server_cpu),
            per_round(|r| r.p99),
        );
        let interval = |v: &[f64]| median_interval(v, INTERVAL_CONFIDENCE);
        Ratios {
            value: median(&value),
            server_cpu: median(&server_cpu),
            p99: median(&p99),
            intervals: RatioIntervals {
                value: interval(&value),
                server_cpu: interval(&server_cpu),
                p99: interval(&p99),
            },
        }
    }
}

/// One server on one workload: its repetitions, medians and ratios.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Entry {
    /// The server implementation.
    #[serde(rename = "impl")]
    pub imp: ServerImpl,
    /// The workload.
    pub workload: Workload,
    /// Medians over the repetitions.
    pub figures: Figures,
    /// Ratios against raw tokio in the same run.
    pub vs_raw_tokio: Ratios,
    /// Ratios against Node in the same run.
    pub vs_node: Ratios,
    /// Every repetition as measured.
    pub reps: Vec<Rep>,
}

/// The settings a run used.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunSettings {
    /// Seconds per timed workload repetition.
    pub duration_secs: f64,
    /// Rounds of each timed workload (the median is reported).
    pub reps: usize,
    /// Repetitions of the idle-memory measurement (absent from reports saved before it
    /// was counted apart).
    #[serde(default)]
    pub idle_reps: usize,
    /// The CPU the servers were pinned to (the load generator had the others); `None`
    /// when nothing was pinned.
    pub server_cpu: Option<usize>,
    /// Worker threads of the tokio servers' runtime (`NODENET_BENCH_TOKIO_WORKERS`); 0 for
    /// the current-thread scheduler (the default, and what reports saved before this
    /// field was recorded used).
    #[serde(default)]
    pub tokio_workers: usize,
    /// Implementations requested.
    pub impls: Vec<ServerImpl>,
    /// Workloads run.
    pub workloads: Vec<Workload>,
}

/// Everything one run produced.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// Where it ran.
    pub machine: MachineInfo,
    /// How it ran.
    pub settings: RunSettings,
    /// One entry per (server, workload) that produced numbers.
    pub entries: Vec<Entry>,
    /// Servers or workloads that could not be measured, with the reason.
    pub failures: Vec<String>,
    /// The project's performance targets as this run decides them.
    pub targets: Vec<crate::targets::Check>,
}

impl Report {
    /// Builds entries from raw repetitions and fills in the ratios against raw tokio and
    /// Node measured in the same run.
    pub fn new(
        machine: MachineInfo,
        settings: RunSettings,
        measured: Vec<(ServerImpl, Workload, Vec<Rep>)>,
        mut failures: Vec<String>,
    ) -> Report {
        let mut entries = Vec::new();
        for (imp, workload, reps) in measured {
            match Figures::from_reps(workload, &reps) {
                Some(figures) => entries.push(Entry {
                    imp,
                    workload,
                    figures,
                    vs_raw_tokio: Ratios::default(),
                    vs_node: Ratios::default(),
                    reps,
                }),
                None => failures.push(format!("{imp} {workload}: no usable repetition")),
            }
        }
        let find = |imp: ServerImpl, w: Workload, entries: &[Entry]| {
            entries
                .iter()
                .find(|e| e.imp == imp && e.workload == w)
                .cloned()
        };
        let baselines: Vec<(Option<Entry>, Option<Entry>)> = entries
            .iter()
            .map(|e| {
                (
                    find(ServerImpl::BASELINE, e.workload, &entries),
                    find(ServerImpl::Node, e.workload, &entries),
                )
            })
            .collect();
        for (e, (tokio, node)) in entries.iter_mut().zip(baselines) {
            e.vs_raw_tokio = Ratios::paired(e, tokio.as_ref());
            e.vs_node = Ratios::paired(e, node.as_ref());
        }
        let mut report = Report {
            machine,
            settings,
            entries,
            failures,
            targets: Vec::new(),
        };
        let idle_connections = report
            .settings
            .workloads
            .iter()
            .find_map(|w| match w {
                Workload::IdleMemory { connections } => Some(*connections),
                _ => None,
            })
            .unwrap_or(10_000);
        let multi_thread = report.settings.tokio_workers > 0;
        report.targets =
            targets::check(&report, &targets::standard(idle_connections, multi_thread));
        report
    }

    /// The entry for `imp` on `workload`, if measured.
    pub fn entry(&self, imp: ServerImpl, workload: Workload) -> Option<&Entry> {
        self.entries
            .iter()
            .find(|e| e.imp == imp && e.workload == workload)
    }

    /// The one table: absolute medians and ratios, grouped by workload.
    pub fn table(&self) -> String {
        let header = [
            "workload",
            "impl",
            "value",
            "server CPU",
            "p50 µs",
            "p99 µs",
            "×tokio",
            "×node",
            "cpu×tokio",
            "cpu×node",
            "p99×tokio",
        ];
        let mut rows: Vec<Vec<String>> = Vec::new();
        for w in &self.settings.workloads {
            for e in self.entries.iter().filter(|e| e.workload == *w) {
                let f = &e.figures;
                let errs: u64 = e.reps.iter().map(|r| r.errors).sum();
                rows.push(vec![
                    w.to_string(),
                    e.imp.to_string(),
                    format!(
                        "{}{}",
                        format_value(f.value, f.value_unit),
                        if errs > 0 { " !" } else { "" }
                    ),
                    match (f.server_cpu_us, f.server_cpu_unit) {
                        (Some(v), Some(u)) => format!("{} {u}", sig3(v)),
                        _ => "-".to_owned(),
                    },
                    opt(f.p50_us, sig3),
                    opt(f.p99_us, sig3),
                    opt(e.vs_raw_tokio.value, |r| format!("{r:.2}")),
                    opt(e.vs_node.value, |r| format!("{r:.2}")),
                    opt(e.vs_raw_tokio.server_cpu, |r| format!("{r:.2}")),
                    opt(e.vs_node.server_cpu, |r| format!("{r:.2}")),
                    opt(e.vs_raw_tokio.p99, |r| format!("{r:.2}")),
                ]);
            }
        }
        let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
        for row in &rows {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.chars().count());
            }
        }
        let mut out = String::new();
        let line = |cells: &[String], out: &mut String| {
            let mut s = String::new();
            for (i, (cell, w)) in cells.iter().zip(&widths).enumerate() {
                let pad = w.saturating_sub(cell.chars().count());
                if i < 2 {
                    s.push_str(cell);
                    s.push_str(&" ".repeat(pad));
                } else {
                    s.push_str(&" ".repeat(pad));
                    s.push_str(cell);
                }
                s.push_str("  ");
            }
            out.push_str(s.trim_end());
            out.push('\n');
        };
        line(&header.map(str::to_owned), &mut out);
        let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
        line(&rule, &mut out);
        for row in &rows {
            line(row, &mut out);
        }
        let m = &self.machine;
        let idle = match self.settings.idle_reps {
            0 => String::new(),
            n => format!(" ({n} idle-memory repetition(s))"),
        };
        let _ = writeln!(
            out,
            "\nmedian of {} round(s) x {:.1} s{idle}; ratios are medians of per-round ratios \
             to raw-tokio's and node's in this run (for KiB/conn and CPU, lower is better); ! = some operations failed (see JSON)",
            self.settings.reps, self.settings.duration_secs
        );
        let load = |l: Option<f64>| l.map_or_else(|| "?".to_owned(), |l| format!("{l:.2}"));
        let _ = writeln!(
            out,
            "machine: {} CPUs, {}, Linux {}, node {}; load average {} at start, {} at end",
            m.nproc,
            m.cpu_model,
            m.kernel,
            m.node_version.as_deref().unwrap_or("absent"),
            load(m.load_at_start),
            load(m.load_at_end),
        );
        match self.settings.server_cpu {
            Some(cpu) => {
                let _ = writeln!(
                    out,
                    "placement: every server pinned to CPU {cpu}, the load generator to the other CPUs"
                );
            }
            None => {
                let _ = writeln!(out, "placement: none (the scheduler's)");
            }
        }
        let _ = match self.settings.tokio_workers {
            0 => writeln!(out, "tokio servers: current-thread scheduler"),
            n => writeln!(out, "tokio servers: multi-thread scheduler, {n} workers"),
        };
        // The same failure in every repetition is one line with its count.
        for same in self.failures.chunk_by(|a, b| a == b) {
            match same {
                [f] => _ = writeln!(out, "not measured: {f}"),
                [f, ..] => _ = writeln!(out, "not measured ({}×): {f}", same.len()),
                [] => {}
            }
        }
        if !self.targets.is_empty() {
            let _ = writeln!(
                out,
                "\ntargets: median of the per-round ratios [interval holding the true median with \
                 ≥ {:.0}% confidence]; met or missed only when the whole interval is",
                INTERVAL_CONFIDENCE * 100.0
            );
            out.push_str(&targets::render(&self.targets));
        }
        out
    }
}

fn opt(v: Option<f64>, f: impl Fn(f64) -> String) -> String {
    v.map_or_else(|| "-".to_owned(), f)
}

/// A value with its unit, rates in thousands shown with a `k`.
fn format_value(v: f64, unit: &str) -> String {
    match unit {
        "rt/s" | "conn/s" if v >= 10_000.0 => format!("{:.1}k {unit}", v / 1000.0),
        _ => format!("{} {unit}", sig3(v)),
    }
}

/// Three significant digits, without exponent notation.
fn sig3(v: f64) -> String {
    let a = v.abs();
    if a >= 100.0 {
        format!("{v:.0}")
    } else if a >= 10.0 {
        format!("{v:.1}")
    } else if a >= 1.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.3}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{machine, rep, settings};

    #[test]
    fn throughput_figures_are_medians_in_gb_and_us_per_kib() {
        let w = Workload::Throughput { connections: 1 };
        // 1 GB/s, 2 GB/s, 3 GB/s; CPU 1 µs/KiB in the median run.
        let reps = [
            rep(1_000_000_000, 1.0, 0.5),
            rep(3_000_000_000, 1.0, 3.0),
            rep(2_048_000_000, 1.024, 2.0),
        ];
        let f = Figures::from_reps(w, &reps).unwrap();
        assert!((f.value - 2.0).abs() < 1e-9, "{}", f.value);
        let cpu = f.server_cpu_us.unwrap();
        // Per-rep CPU µs/KiB: 0.512, 1.024, 1.0 → median 1.0.
        assert!((cpu - 1.0).abs() < 1e-9, "{cpu}");
    }

    #[test]
    fn idle_memory_is_rss_delta_per_connection() {
        let mut r = rep(1000, 0.0, 0.0);
        r.rss_before_bytes = 10 << 20;
        r.rss_after_bytes = (10 << 20) + 2048 * 1000;
        let f = Figures::from_reps(Workload::IdleMemory { connections: 1000 }, &[r]).unwrap();
        assert_eq!(f.value, 2.0);
        assert!(!f.higher_is_better);
    }

    #[test]
    fn ratios_are_taken_within_each_round_so_drift_between_rounds_cancels() {
        let w = Workload::PingPong { connections: 1 };
        // Round by round, the machine's speed drifts (100k, 50k, 80k round trips/s for
        // the baseline); the other server is 0.9, 1.2 and 0.5 of the baseline in the same
        // rounds. Dividing within rounds gives the median 0.9; dividing the medians would
        // mix rounds (60k / 80k = 0.75).
        let base: Vec<Rep> = [100_000, 50_000, 80_000]
            .into_iter()
            .map(|ops| rep(ops, 1.0, 1.0))
            .collect();
        let other: Vec<Rep> = [90_000, 60_000, 40_000]
            .into_iter()
            .map(|ops| rep(ops, 1.0, 1.0))
            .collect();
        let settings = RunSettings {
            idle_reps: 3,
            ..settings(
                3,
                vec![ServerImpl::RawTokio, ServerImpl::NodenetTokio],
                vec![w],
            )
        };
        let report = Report::new(
            machine(),
            settings,
            vec![
                (ServerImpl::RawTokio, w, base),
                (ServerImpl::NodenetTokio, w, other),
            ],
            vec![],
        );
        let e = report.entry(ServerImpl::NodenetTokio, w).unwrap();
        let value = e.vs_raw_tokio.value.unwrap();
        assert!((value - 0.9).abs() < 1e-9, "{value}");
        // CPU per operation is CPU / ops: 1/90k against 1/100k in round 1, and so on.
        let cpu = e.vs_raw_tokio.server_cpu.unwrap();
        assert!((cpu - 1.0 / 0.9).abs() < 1e-9, "{cpu}");
    }

    #[test]
    fn ratios_are_against_tokio_and_node_of_the_same_workload() {
        let w = Workload::PingPong { connections: 64 };
        let mut fast = rep(200_000, 1.0, 1.0);
        fast.latency = Some(LatencySummary {
            p50_us: 100.0,
            p99_us: 200.0,
            max_us: 300.0,
            count: 200_000,
        });
        let mut slow = rep(100_000, 1.0, 1.0);
        slow.latency = Some(LatencySummary {
            p50_us: 300.0,
            p99_us: 500.0,
            max_us: 900.0,
            count: 100_000,
        });
        // No idle workload ran, so the harness records no idle repetitions.
        let settings = settings(1, vec![ServerImpl::RawTokio, ServerImpl::Node], vec![w]);
        let report = Report::new(
            machine(),
            settings,
            vec![
                (ServerImpl::RawTokio, w, vec![fast]),
                (ServerImpl::Node, w, vec![slow]),
            ],
            vec![],
        );
        let node = report.entry(ServerImpl::Node, w).unwrap();
        assert_eq!(node.vs_raw_tokio.value, Some(0.5));
        assert_eq!(node.vs_raw_tokio.server_cpu, Some(2.0));
        assert_eq!(node.vs_raw_tokio.p99, Some(2.5));
        assert_eq!(node.vs_node.value, Some(1.0));
        let tokio = report.entry(ServerImpl::RawTokio, w).unwrap();
        assert_eq!(tokio.vs_node.value, Some(2.0));
        let table = report.table();
        assert!(table.contains("ping-pong c=64"));
        assert!(table.contains("200.0k rt/s"), "{table}");
        assert!(table.contains("0.50"), "{table}");
        assert!(
            table.contains("load average 0.50 at start, ? at end"),
            "{table}"
        );
        assert!(
            table.contains("median of 1 round(s) x 1.0 s; ratios"),
            "{table}"
        );
        let json = serde_json::to_value(&report).unwrap();
        assert_eq!(json["entries"][1]["impl"], "node");
        assert_eq!(json["entries"][1]["workload"]["kind"], "ping-pong");
    }

    #[test]
    fn repeated_failures_print_once_with_their_count() {
        let settings = RunSettings {
            idle_reps: 3,
            ..settings(1, vec![], vec![])
        };
        let reset = "nodenet-std idle mem c=10000: reset".to_owned();
        let failures = vec![reset.clone(), reset.clone(), reset, "other".to_owned()];
        let table = Report::new(machine(), settings, vec![], failures).table();
        assert!(table.contains("(3 idle-memory repetition(s))"), "{table}");
        assert!(
            table.contains("tokio servers: current-thread scheduler"),
            "{table}"
        );
        assert!(
            table.contains(
                "not measured (3×): nodenet-std idle mem c=10000: reset\nnot measured: other"
            ),
            "{table}"
        );
    }

    #[test]
    fn no_reps_means_failure_not_entry() {
        let w = Workload::ConnectRate { workers: 16 };
        let settings = RunSettings {
            idle_reps: 1,
            ..settings(1, vec![ServerImpl::RawTokio], vec![w])
        };
        let report = Report::new(
            machine(),
            settings,
            vec![(ServerImpl::RawTokio, w, vec![])],
            vec![],
        );
        assert!(report.entries.is_empty());
        assert_eq!(report.failures.len(), 1);
        assert!(report
            .table()
            .contains("not measured: raw-tokio connect w=16"));
    }
}
