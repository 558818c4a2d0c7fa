//! Conformance suite on `nodenet-tokio`: every scenario of `tests/scenarios/` on real
//! loopback sockets, compared with Node v20's recording plus the documented differences.
use nodenet_tests::drivers::suite::{assert_documented, assert_suite_passes};
use nodenet_tests::drivers::NetDriver;
use nodenet_tokio::TokioRuntime;

#[test]
fn every_scenario_matches_node_on_tokio() {
    let mut driver = NetDriver::<TokioRuntime>::new();
    let report = assert_suite_passes(&mut driver, &[]);
    assert_documented(&report);
}
