//! Static checks of the scenario files: they parse, survive a serde round trip, agree with
//! their own recordings, and cover the list of issue 6.
use nodenet_tests::consistency::problems;
use nodenet_tests::{load_dir, scenarios_dir, DifferenceKind, Scenario, Target};

#[test]
fn every_scenario_is_consistent_with_its_recording() {
    let files = load_dir(&scenarios_dir()).expect("scenarios load");
    let mut all = Vec::new();
    for file in &files {
        for p in problems(file) {
            all.push(format!("{}: {p}", file.path.display()));
        }
    }
    assert!(all.is_empty(), "\n{}", all.join("\n"));
}

#[test]
fn the_model_round_trips_every_file_losslessly() {
    for file in load_dir(&scenarios_dir()).expect("scenarios load") {
        let json = serde_json::to_string(&file.scenario).unwrap();
        let again = Scenario::from_json(&json).unwrap();
        assert_eq!(again, file.scenario, "{}", file.scenario.name);
        // And nothing in the file was ignored: re-serialising the raw file through the
        // model keeps every key it had.
        let raw: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&file.path).unwrap()).unwrap();
        let model: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(raw, model, "{}", file.scenario.name);
    }
}

#[test]
fn unknown_fields_are_rejected() {
    let bad = r#"{"name":"x","description":"","node_test":"test-net-x.js","steps":[{"op":"destroy","actor":"client","bogus":1}],"expected":{}}"#;
    assert!(Scenario::from_json(bad).is_err());
    let bad_op = r#"{"name":"x","description":"","node_test":"test-net-x.js","steps":[{"op":"explode","actor":"client"}],"expected":{}}"#;
    assert!(Scenario::from_json(bad_op).is_err());
}

#[test]
fn at_least_60_scenarios_each_ported_from_a_node_test() {
    let files = load_dir(&scenarios_dir()).expect("scenarios load");
    assert!(files.len() >= 60, "only {} scenarios", files.len());
    // `every_scenario_is_consistent_with_its_recording` checks each name's form; here the
    // suite as a whole: it ports many distinct Node tests, not one test many times.
    let mut tests: Vec<&str> = files
        .iter()
        .map(|f| f.scenario.node_test.as_str())
        .collect();
    tests.sort();
    tests.dedup();
    assert!(
        tests.len() >= 50,
        "only {} distinct Node tests",
        tests.len()
    );
}

#[test]
fn issue_6_list_is_covered() {
    let files = load_dir(&scenarios_dir()).expect("scenarios load");
    let names: Vec<&str> = files.iter().map(|f| f.scenario.name.as_str()).collect();
    for needed in [
        "connect_data_end_close",
        "half_open_true",
        "end_before_connect",
        "destroy_in_connect",
        "destroy_with_error",
        "destroy_soon",
        "reset_and_destroy_client",
        "reset_and_destroy_server",
        "connect_refused",
        "write_backpressure_drain",
        "pause_resume",
        "idle_timeout",
        "server_close_waits",
        "max_connections_drop",
        "eaddrinuse_listen_again",
        "ipc_listen_connect_unlink",
        "happy_eyeballs_ipv6_closed",
        "happy_eyeballs_ipv4_closed",
        "blocklist_server",
        "blocklist_client",
        "keep_alive_no_delay",
    ] {
        assert!(names.contains(&needed), "missing scenario {needed}");
    }
}

#[test]
fn differences_are_documented_not_skipped() {
    let files = load_dir(&scenarios_dir()).expect("scenarios load");
    let kinds = |name: &str| -> Vec<DifferenceKind> {
        let f = files.iter().find(|f| f.scenario.name == name).unwrap();
        f.scenario.differences.iter().map(|d| d.kind).collect()
    };
    assert_eq!(kinds("max_connections_zero"), [DifferenceKind::NewerNode]);
    assert_eq!(kinds("blocklist_server"), [DifferenceKind::NewerNode]);
    assert_eq!(kinds("blocklist_client"), [DifferenceKind::NewerNode]);
    assert_eq!(kinds("keep_alive_no_delay"), [DifferenceKind::RustOnly]);
    // Every difference really changes the expectation.
    for f in &files {
        let s = &f.scenario;
        if !s.differences.is_empty() {
            assert_ne!(
                s.expected_for(Target::Node),
                s.expected_for(Target::Nodenet),
                "{}",
                s.name
            );
        } else {
            assert_eq!(
                s.expected_for(Target::Node),
                s.expected_for(Target::Nodenet)
            );
        }
    }
}
