//! Conformance suite on `nodenet-tokio`: every scenario of `tests/scenarios/` on real
//! loopback sockets, compared with Node v20's recording plus the documented differences.
use std::time::Duration;

use nodenet_tests::drivers::suite::run_suite;
use nodenet_tests::drivers::tokio_backend;

#[test]
fn every_scenario_matches_node_on_tokio() {
    let mut driver = tokio_backend::driver().expect("tokio runtime");
    let report = run_suite(&mut driver, &[]);
    assert!(report.failed.is_empty(), "\n{}", report.failure_text());
    assert!(
        report.passed.len() >= 20,
        "only {} passed",
        report.passed.len()
    );
    assert!(
        report.elapsed < Duration::from_secs(20),
        "took {:?}",
        report.elapsed
    );
}
