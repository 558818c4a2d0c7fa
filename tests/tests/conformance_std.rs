//! Conformance suite on `nodenet-std`: every scenario of `tests/scenarios/` on real
//! loopback sockets, compared with Node v20's recording plus the documented differences.
use nodenet_std::StdRuntime;
use nodenet_tests::drivers::suite::{
    assert_documented, assert_suite_passes, with_wrong_expectation,
};
use nodenet_tests::drivers::NetDriver;

#[test]
fn every_scenario_matches_node_on_std() {
    let mut driver = NetDriver::<StdRuntime>::new();
    let report = assert_suite_passes(&mut driver, &[]);
    assert_documented(&report);
}

#[test]
fn a_wrong_expectation_is_caught_with_a_readable_diff() {
    let scenario = with_wrong_expectation(
        "connect_data_end_close",
        "client",
        "data:hello",
        "data:hellO",
    );
    let failure = nodenet_tests::check(&mut NetDriver::<StdRuntime>::new(), &scenario)
        .expect_err("must differ");
    let text = failure.to_string();
    assert!(
        text.contains("- data:hellO") && text.contains("+ data:hello"),
        "{text}"
    );
}
