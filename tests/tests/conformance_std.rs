//! Conformance suite on `nodenet-std`: every scenario of `tests/scenarios/` on real
//! loopback sockets, compared with Node v20's recording plus the documented differences.
use nodenet_tests::drivers::std_backend;
use nodenet_tests::drivers::suite::{
    assert_documented, assert_suite_passes, with_wrong_expectation,
};

#[test]
fn every_scenario_matches_node_on_std() {
    let mut driver = std_backend::driver();
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
    let failure =
        nodenet_tests::check(&mut std_backend::driver(), &scenario).expect_err("must differ");
    let text = failure.to_string();
    assert!(
        text.contains("- data:hellO") && text.contains("+ data:hello"),
        "{text}"
    );
}
