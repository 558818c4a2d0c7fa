//! Conformance suite on `nodenet-smol`: every scenario of `tests/scenarios/` on real
//! loopback sockets, compared with Node v20's recording plus the documented differences.
use nodenet_tests::drivers::smol_backend;
use nodenet_tests::drivers::suite::{assert_documented, assert_suite_passes};

#[test]
fn every_scenario_matches_node_on_smol() {
    let mut driver = smol_backend::driver();
    let report = assert_suite_passes(&mut driver, &[]);
    assert_documented(&report);
}
