// Settings of the reliability suites (`emfile.rs`, `soak.rs`, `flood.rs`, `load.rs`).
// Each backend's test binary includes its harness (`tests/harness/*.rs`: `nn_test!`,
// `next!`, `next_until!`, `task!`, `join!`, `detach!`, `sleep_ms!`), then `macros.rs`,
// then this file, then the suite.
//
// The suites count the process's descriptors and memory, so the tests of one binary must
// not overlap: each holds the harness's binary-wide lock (`SERIAL`), and is bounded by
// `TEST_TIMEOUT`.

/// The bound on each test (the harness's `nn_test!` fails a test that takes longer).
const TEST_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(300);
/// Whether the tests of this binary hold the harness's binary-wide lock.
const SERIAL: bool = true;
