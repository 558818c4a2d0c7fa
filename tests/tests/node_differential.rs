//! Differential suite, Node side: every scenario of `tests/scenarios/` is run on the real
//! Node v20 through `tests/node/runner.js` and its live trace must equal the recorded
//! `expected`. This proves the runner and the recordings; the nodenet drivers are then
//! compared with the same recordings (plus the documented differences).
use std::sync::Mutex;
use std::time::Instant;

use nodenet_tests::drivers::suite::with_wrong_expectation;
use nodenet_tests::{check, load_dir, scenarios_dir, NodeDriver, ScenarioFile};

/// Scenarios run concurrently (each is one short-lived node process, mostly sleeping).
const PARALLEL: usize = 4;

#[test]
fn node_v20_reproduces_every_recorded_trace() {
    let driver = NodeDriver::new();
    // CI installs node (.ci/run); a missing node is a broken machine, not a skip.
    let version = driver
        .version()
        .unwrap_or_else(|e| panic!("node is required for the differential suite: {e}"));
    assert!(
        version.starts_with("v20."),
        "the recordings are Node v20's; found node {version}"
    );
    let files = load_dir(&scenarios_dir()).expect("scenarios load");
    assert!(files.len() >= 20, "only {} scenarios found", files.len());

    let started = Instant::now();
    let queue = Mutex::new(files.iter().collect::<Vec<&ScenarioFile>>());
    let failures = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..PARALLEL {
            scope.spawn(|| {
                let mut driver = NodeDriver::new();
                loop {
                    let Some(file) = queue.lock().unwrap().pop() else {
                        break;
                    };
                    if let Err(failure) = check(&mut driver, &file.scenario) {
                        failures
                            .lock()
                            .unwrap()
                            .push(format!("{}: {failure}", file.scenario.name));
                    }
                }
            });
        }
    });
    let failures = failures.into_inner().unwrap();
    eprintln!(
        "node differential: {} scenarios on node {version} in {:?}",
        files.len(),
        started.elapsed()
    );
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn a_wrong_recording_is_caught_with_a_readable_diff() {
    let scenario = with_wrong_expectation("connect_refused", "client", "close:true", "close:false");
    let failure = check(&mut NodeDriver::new(), &scenario).expect_err("must differ");
    let text = failure.to_string();
    assert!(text.contains("[client]"), "{text}");
    assert!(text.contains("- close:false"), "{text}");
    assert!(text.contains("+ close:true"), "{text}");
    assert!(text.contains("  error:ECONNREFUSED"), "{text}");
}
