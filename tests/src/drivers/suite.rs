//! The conformance suite body shared by `tests/tests/conformance_*.rs`: run every scenario
//! on a driver, print one line per scenario (pass, KNOWN divergence with its issue item,
//! FAIL with the diff, or EXCLUDED with its reason), and report the failures; the checks
//! those tests make of a whole run; and the broken scenario their wrong-expectation tests
//! feed a driver.
//!
//! A scenario with a [known divergence](crate::Scenario::known_divergences) on the driver's
//! runtime passes only while the bug is still there exactly as recorded: when nodenet
//! matches Node instead, the scenario fails so that the marker is removed.
use std::time::{Duration, Instant};

use crate::compare::compare;
use crate::driver::ScenarioDriver;
use crate::scenario::{load_dir, scenarios_dir, Scenario, Target};

/// A scenario a driver cannot run, and why (printed by the suite, never silent).
#[derive(Debug, Clone, Copy)]
pub struct Exclusion {
    /// The scenario's name.
    pub scenario: &'static str,
    /// Why it cannot run on this driver.
    pub reason: &'static str,
}

/// What one suite run found.
#[derive(Debug, Default)]
pub struct SuiteReport {
    /// The driver's name.
    pub driver: String,
    /// Scenarios that passed (equal to Node, or to Node with documented deliberate
    /// differences).
    pub passed: Vec<String>,
    /// The passed scenarios whose expectation has deliberate differences from Node.
    pub with_differences: Vec<String>,
    /// Scenarios that reproduced their known divergence, with its issue item.
    pub known: Vec<(String, String)>,
    /// Scenarios with a known divergence that matched Node instead (a stale marker), with
    /// the issue item.
    pub fixed: Vec<(String, String)>,
    /// Scenarios that failed, with the failure text.
    pub failed: Vec<(String, String)>,
    /// Scenarios excluded, with the reason.
    pub excluded: Vec<(String, String)>,
    /// Wall time of the whole run.
    pub elapsed: Duration,
}

impl SuiteReport {
    /// The failures as one readable block (for `assert!`).
    pub fn failure_text(&self) -> String {
        self.failed
            .iter()
            .map(|(name, why)| format!("{name}: {why}"))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// Run every scenario of `tests/scenarios/` on `driver` except the `excluded` ones; print
/// the per-scenario summary on stderr. An exclusion naming no scenario is a failure (a
/// stale list must not hide anything).
pub fn run_suite(driver: &mut dyn ScenarioDriver, excluded: &[Exclusion]) -> SuiteReport {
    let started = Instant::now();
    let files = load_dir(&scenarios_dir()).expect("scenarios load");
    let mut report = SuiteReport::default();
    let name = driver.name().to_owned();
    for x in excluded {
        if !files.iter().any(|f| f.scenario.name == x.scenario) {
            report.failed.push((
                x.scenario.to_owned(),
                "listed as excluded but no such scenario exists".to_owned(),
            ));
        }
    }
    for file in &files {
        let s = &file.scenario;
        if let Some(x) = excluded.iter().find(|x| x.scenario == s.name) {
            eprintln!("[{name}] EXCLUDED {}: {}", s.name, x.reason);
            report.excluded.push((s.name.clone(), x.reason.to_owned()));
            continue;
        }
        let t = Instant::now();
        match judge(driver, s) {
            Verdict::Pass => {
                eprintln!("[{name}] pass     {} ({:?})", s.name, t.elapsed());
                report.passed.push(s.name.clone());
                if driver.target() == Target::Nodenet && !s.differences.is_empty() {
                    report.with_differences.push(s.name.clone());
                }
            }
            Verdict::Known { issue, reason } => {
                eprintln!(
                    "[{name}] KNOWN    {} (issue {issue}: {reason}) ({:?})",
                    s.name,
                    t.elapsed()
                );
                report.known.push((s.name.clone(), issue));
            }
            Verdict::Fixed { issue } => {
                eprintln!(
                    "[{name}] FIXED    {} (known divergence {issue} no longer reproduces: \
                     remove it from the scenario) ({:?})",
                    s.name,
                    t.elapsed()
                );
                report.fixed.push((s.name.clone(), issue));
            }
            Verdict::Fail(why) => {
                eprintln!("[{name}] FAIL     {} ({:?})\n{why}", s.name, t.elapsed());
                report.failed.push((s.name.clone(), why));
            }
        }
    }
    report.driver = name.clone();
    report.elapsed = started.elapsed();
    eprintln!(
        "[{name}] {} passed ({} with deliberate differences), {} known divergences, {} stale \
         divergence markers, {} failed, {} excluded of {} scenarios in {:?}",
        report.passed.len(),
        report.with_differences.len(),
        report.known.len(),
        report.fixed.len(),
        report.failed.len(),
        report.excluded.len(),
        files.len(),
        report.elapsed
    );
    report
}

/// How one scenario went on one driver.
#[derive(Debug)]
pub enum Verdict {
    /// The traces equal the expectation (Node's, with the deliberate differences).
    Pass,
    /// The traces equal the recorded known divergence.
    Known {
        /// The issue item.
        issue: String,
        /// What is wrong.
        reason: String,
    },
    /// The scenario has a known divergence on this runtime but matched Node.
    Fixed {
        /// The issue item of the stale marker.
        issue: String,
    },
    /// Anything else, with the reason (a diff, a driver error).
    Fail(String),
}

/// Run `scenario` once on `driver` and judge the traces: Node is held to its recording;
/// nodenet to Node's recording with the deliberate differences, or — when the scenario
/// has a known divergence — to the divergence recorded (and a run that conforms
/// instead fails, naming the marker to remove).
pub fn judge(driver: &mut dyn ScenarioDriver, scenario: &Scenario) -> Verdict {
    let actual = match driver.run(scenario) {
        Ok(traces) => traces,
        Err(e) => return Verdict::Fail(format!("driver error: {e}")),
    };
    let target = driver.target();
    let known = match target {
        Target::Node => None,
        Target::Nodenet => scenario.known_divergence_on(driver.name()),
    };
    let conforming = compare(&scenario.expected_for(target), &actual);
    match (known, conforming) {
        (Some(known), Ok(())) => Verdict::Fixed {
            issue: known.issue.clone(),
        },
        (None, Ok(())) => Verdict::Pass,
        (Some(known), Err(_)) => match compare(&scenario.expected_on(driver.name()), &actual) {
            Ok(()) => Verdict::Known {
                issue: known.issue.clone(),
                reason: known.reason.clone(),
            },
            Err(diff) => Verdict::Fail(format!(
                "neither Node's traces nor the known divergence (issue {}); against the \
                     known divergence:\n{diff}",
                known.issue
            )),
        },
        (None, Err(diff)) => Verdict::Fail(diff.to_string()),
    }
}

/// The conformance tests' check of a whole run: [`run_suite`], then no failure, no stale
/// known-divergence marker, exactly the `excluded` scenarios excluded, and at least 40
/// equal to Node. How long the run took is printed, never asserted: a loaded CI machine
/// must not turn into a red test.
#[track_caller]
pub fn assert_suite_passes(driver: &mut dyn ScenarioDriver, excluded: &[Exclusion]) -> SuiteReport {
    let report = run_suite(driver, excluded);
    assert!(report.failed.is_empty(), "\n{}", report.failure_text());
    assert!(
        report.fixed.is_empty(),
        "these known divergences no longer reproduce on {}: remove them from the scenarios \
         (and from docs/conformance.md): {:?}",
        report.driver,
        report.fixed
    );
    assert_eq!(report.excluded.len(), excluded.len());
    assert!(
        report.passed.len() >= 40,
        "only {} passed",
        report.passed.len()
    );
    report
}

/// The scenario `name` of `tests/scenarios/` with one entry of `actor`'s expected trace,
/// `entry`, replaced by `wrong`: a driver (or node) must fail it with a readable diff.
#[track_caller]
pub fn with_wrong_expectation(name: &str, actor: &str, entry: &str, wrong: &str) -> Scenario {
    let files = load_dir(&scenarios_dir()).expect("scenarios load");
    let mut scenario = files
        .iter()
        .find(|f| f.scenario.name == name)
        .unwrap_or_else(|| panic!("{name} exists"))
        .scenario
        .clone();
    let trace = scenario.expected.get_mut(actor).unwrap();
    let at = trace.iter().position(|e| e == entry).unwrap();
    trace[at] = wrong.into();
    scenario
}

/// `docs/conformance.md`, whose generated tables hold the measured counts.
pub fn conformance_doc() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/conformance.md")
}

/// The counts a run of `report.driver` measured, as `docs/conformance.md` writes them in
/// its per-runtime table: scenarios run, equal to Node, of which with documented
/// differences, known divergences, failed, excluded.
pub fn documented_row(report: &SuiteReport) -> String {
    let run = report.passed.len() + report.known.len() + report.fixed.len() + report.failed.len();
    format!(
        "| {} | {run} | {} | {} | {} | {} | {} |",
        report.driver,
        report.passed.len(),
        report.with_differences.len(),
        report.known.len(),
        report.failed.len(),
        report.excluded.len()
    )
}

/// The documentation states what this run measured: `docs/conformance.md` has the row
/// [`documented_row`] for the runtime (regenerate the file with
/// `cargo run -p nodenet-tests --bin conformance -- table --write docs/conformance.md`
/// when scenarios, divergences or fixes change the counts).
#[track_caller]
pub fn assert_documented(report: &SuiteReport) {
    let path = conformance_doc();
    let doc = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let row = documented_row(report);
    assert!(
        doc.lines().any(|l| l.trim() == row),
        "{} does not state this run's counts {row:?}; regenerate it with \
         `cargo run -p nodenet-tests --bin conformance -- table --write docs/conformance.md`",
        path.display()
    );
}
