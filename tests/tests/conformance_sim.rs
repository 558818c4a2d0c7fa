//! Conformance suite on the simulation runtime: every scenario through the same generic
//! driver as tokio, smol and std, with `nodenet::Socket<SimRuntime>` — the real nodenet
//! driver over the simulated kernel — in virtual time, compared with Node v20's
//! recording plus the documented differences; the scenarios it cannot model are listed
//! (and printed) as exclusions.
use nodenet_sim::Faults;
use nodenet_tests::drivers::sim_backend::{driver, driver_with_faults, SIM_EXCLUSIONS};
use nodenet_tests::drivers::suite::{
    assert_documented, assert_suite_passes, run_suite, with_wrong_expectation,
};

#[test]
fn every_modelled_scenario_matches_node_on_the_simulation_runtime() {
    let report = assert_suite_passes(&mut driver(1), SIM_EXCLUSIONS);
    assert_documented(&report);
}

#[test]
fn traces_do_not_depend_on_latency_chunking_or_short_writes() {
    // Faults::calm: random latency, read chunk sizes and short writes, from the seed.
    // The setEncoding scenarios record the decoded text of each read, which depends on
    // how the reads are chunked (on a loopback a small write arrives in one read), the
    // autoselectfamily_* scenarios end their accepted socket while the request is still
    // arriving, so with latency `finish` can fall between two chunks of it, and
    // destroy_reader_big_write destroys its client at the first data, when latency
    // decides whether more is unread (an RST for the writer) or still in flight (a FIN),
    // in data_then_reset_together latency decides whether the reset comes with the
    // last bytes or after them, ipc_ping_pong destroys its client at its first data, so
    // a chunked read leaves the rest of PONG unread and the close resets the server's
    // socket (Linux's unix_release_sock), and in destroy_paused_reader and
    // onread_reset_while_writing the reset crosses a loopback with latency as a segment
    // (as across a network, not inside close() as on Linux's loopback), so the peer's
    // writes complete before it is read, and in reset_and_destroy_ending latency decides
    // whether the server's socket hears the client's reset before or after its own FIN
    // fails (ECONNRESET or EPIPE): their outcome is printed, not judged.
    for seed in [2, 3, 4] {
        let report = run_suite(
            &mut driver_with_faults(seed, Faults::calm()),
            SIM_EXCLUSIONS,
        );
        let failed: Vec<String> = report
            .failed
            .iter()
            .filter(|(name, _)| {
                !name.starts_with("set_encoding")
                    && !name.starts_with("autoselectfamily_")
                    && name != "destroy_reader_big_write"
                    && name != "data_then_reset_together"
                    && name != "ipc_ping_pong"
                    && name != "destroy_paused_reader"
                    && name != "onread_reset_while_writing"
                    && name != "reset_and_destroy_ending"
            })
            .map(|(name, why)| format!("{name}: {why}"))
            .collect();
        assert!(failed.is_empty(), "seed {seed}:\n{}", failed.join("\n"));
        assert!(
            report.fixed.is_empty(),
            "seed {seed}: stale markers {:?}",
            report.fixed
        );
    }
}

#[test]
fn a_wrong_expectation_is_caught_with_a_readable_diff() {
    let scenario = with_wrong_expectation("connect_refused", "client", "close:true", "close:false");
    let failure = nodenet_tests::check(&mut driver(1), &scenario).expect_err("must differ");
    let text = failure.to_string();
    assert!(
        text.contains("- close:false") && text.contains("+ close:true"),
        "{text}"
    );
}

#[test]
fn an_excluded_scenario_does_not_pass_when_run_anyway() {
    let files = nodenet_tests::load_dir(&nodenet_tests::scenarios_dir()).unwrap();
    let excluded = files
        .iter()
        .find(|f| f.scenario.name == "lookup_localhost")
        .unwrap();
    assert!(nodenet_tests::check(&mut driver(1), &excluded.scenario).is_err());
}
