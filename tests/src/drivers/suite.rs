//! The conformance suite body shared by `tests/tests/conformance_*.rs`: run every scenario
//! on a driver, print one line per scenario (pass, FAIL with the diff, or EXCLUDED with
//! its reason), and report the failures; the checks those tests make of a whole run; and
//! the broken scenario their wrong-expectation tests feed a driver.
use std::time::{Duration, Instant};

use crate::driver::{check, ScenarioDriver};
use crate::scenario::{load_dir, scenarios_dir, Scenario};

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
    /// Scenarios that passed.
    pub passed: Vec<String>,
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
        match check(driver, s) {
            Ok(()) => {
                eprintln!("[{name}] pass     {} ({:?})", s.name, t.elapsed());
                report.passed.push(s.name.clone());
            }
            Err(failure) => {
                eprintln!(
                    "[{name}] FAIL     {} ({:?})\n{failure}",
                    s.name,
                    t.elapsed()
                );
                report.failed.push((s.name.clone(), failure.to_string()));
            }
        }
    }
    report.elapsed = started.elapsed();
    eprintln!(
        "[{name}] {} passed, {} failed, {} excluded of {} scenarios in {:?}",
        report.passed.len(),
        report.failed.len(),
        report.excluded.len(),
        files.len(),
        report.elapsed
    );
    report
}

/// The conformance tests' check of a whole run: [`run_suite`], then no failure, exactly the
/// `excluded` scenarios excluded, and at least 20 passed. How long the run took is
/// printed, never asserted: a loaded CI machine must not turn into a red test.
#[track_caller]
pub fn assert_suite_passes(driver: &mut dyn ScenarioDriver, excluded: &[Exclusion]) {
    let report = run_suite(driver, excluded);
    assert!(report.failed.is_empty(), "\n{}", report.failure_text());
    assert_eq!(report.excluded.len(), excluded.len());
    assert!(
        report.passed.len() >= 20,
        "only {} passed",
        report.passed.len()
    );
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
