//! Conformance suite on `nodenet-smol`: every scenario of `tests/scenarios/` on real
//! loopback sockets, compared with Node v20's recording plus the documented differences.
use std::time::Duration;

use nodenet_tests::drivers::smol_backend;
use nodenet_tests::drivers::suite::run_suite;

#[test]
fn every_scenario_matches_node_on_smol() {
    let mut driver = smol_backend::driver();
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
