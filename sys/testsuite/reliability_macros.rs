// Helper macros of the reliability suites (`emfile.rs`, `soak.rs`, `flood.rs`,
// `load.rs`), the same as the loopback suite's (`loopback.rs`), which cannot be included
// without its tests. Each backend's harness (`tests/harness/*.rs`) defines `nn_test!`,
// `next!`, `next_until!`, `task!`, `join!`, `detach!` and `sleep_ms!` first.
//
// The suites count the process's descriptors and memory, so the tests of one binary must
// not overlap: each holds the harness's binary-wide lock (`SERIAL`), and is bounded by
// `TEST_TIMEOUT`.

/// The bound on each test (the harness's `nn_test!` fails a test that takes longer).
const TEST_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(300);
/// Whether the tests of this binary hold the harness's binary-wide lock.
const SERIAL: bool = true;

#[allow(unused_imports)]
use std::net::{IpAddr, SocketAddr};
#[allow(unused_imports)]
use std::time::{Duration, Instant};

#[allow(unused_macros)]
macro_rules! tcp_port {
    ($server:expr) => {
        match $server.address() {
            Some(Endpoint::Tcp(a)) => a.port(),
            other => panic!("not a TCP server: {other:?}"),
        }
    };
}

/// Wait for `Listening` (it must come first).
#[allow(unused_macros)]
macro_rules! listening {
    ($server:expr) => {
        match next!($server) {
            Some(ServerEvent::Listening) => {}
            other => panic!("expected Listening, got {other:?}"),
        }
    };
}

/// The next accepted connection.
#[allow(unused_macros)]
macro_rules! accept {
    ($server:expr) => {
        loop {
            match next!($server) {
                Some(ServerEvent::Connection(c)) => break c,
                Some(ServerEvent::Listening) => continue,
                other => panic!("expected Connection, got {other:?}"),
            }
        }
    };
}

/// Drive a socket to its end: (bytes received, events without WriteDone/Data).
#[allow(unused_macros)]
macro_rules! drain {
    ($sock:expr) => {{
        let mut data = Vec::new();
        let mut events = Vec::new();
        while let Some(ev) = next!($sock) {
            match ev {
                SocketEvent::Data(d) => data.extend_from_slice(&d),
                SocketEvent::WriteDone { .. } => {}
                other => events.push(other),
            }
        }
        (data, events)
    }};
}
