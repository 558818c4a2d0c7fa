//! Conformance suite on `nodenet-smol`: every scenario of `tests/scenarios/` on real
//! loopback sockets, compared with Node v20's recording plus the documented differences.
use nodenet_smol::SmolRuntime;
use nodenet_tests::drivers::suite::{assert_documented, assert_suite_passes};
use nodenet_tests::drivers::NetDriver;

#[test]
fn every_scenario_matches_node_on_smol() {
    let mut driver = NetDriver::<SmolRuntime>::new();
    let report = assert_suite_passes(&mut driver, &[]);
    assert_documented(&report);
}
