//! Replays the checked-in corpora of the state-machine fuzz targets (`socket_ops`,
//! `server_ops`, `planner_ops` in `fuzz/corpus/<target>/`) through the same check the
//! target runs (`nodenet_fuzz_checks`), so stable `cargo test` covers what the
//! fuzzers found without nightly or cargo-fuzz. A few thousand pseudo-random inputs per
//! target (fixed seed) add cheap coverage on every run.

use std::fs;
use std::path::PathBuf;

use nodenet_fuzz_checks::{check_planner_ops, check_server_ops, check_socket_ops};

fn replay(target: &str, check: fn(&[u8])) -> usize {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/corpus")
        .join(target);
    let entries = fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    let mut count = 0;
    for entry in entries {
        let path = entry.expect("corpus entry").path();
        let data = fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        check(&data);
        count += 1;
    }
    assert!(count > 0, "empty corpus for {target}");
    count
}

/// xorshift64*: deterministic bytes without a dependency.
fn random_inputs(seed: u64, count: usize, check: fn(&[u8])) {
    let mut state = seed;
    let mut next = move || {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        state.wrapping_mul(0x2545_f491_4f6c_dd1d)
    };
    for _ in 0..count {
        let len = (next() % 512) as usize;
        let data: Vec<u8> = (0..len).map(|_| next() as u8).collect();
        check(&data);
    }
}

#[test]
fn socket_ops_corpus() {
    replay("socket_ops", check_socket_ops);
}

#[test]
fn server_ops_corpus() {
    replay("server_ops", check_server_ops);
}

#[test]
fn planner_ops_corpus() {
    replay("planner_ops", check_planner_ops);
}

#[test]
fn socket_ops_random_inputs() {
    random_inputs(0x5eed_0001, 3000, check_socket_ops);
}

#[test]
fn server_ops_random_inputs() {
    random_inputs(0x5eed_0002, 3000, check_server_ops);
}

#[test]
fn planner_ops_random_inputs() {
    random_inputs(0x5eed_0003, 3000, check_planner_ops);
}

// ---- regressions found by the state-machine fuzzers ------------------------------------

/// socket_ops found: on a connected socket, a `connect()` that throws (bad port) leaves
/// `connecting` true (as in Node), and a second `connect()` then issued a fresh `Connect`
/// command instead of failing. Node v20 (checked by running it on an accepted socket):
/// `connectionAttempt ::1`, `error` `connect EISCONN ::1:<port> - Local (127.0.0.1:<port>)`,
/// `close(true)`.
#[test]
fn regression_connect_after_throwing_connect_on_open_socket_is_eisconn() {
    use std::time::Instant;

    use nodenet_core::socket::{Command, ConnectOptions, Socket, SocketEvent};
    use nodenet_core::{Endpoint, ErrorCode, SocketOptions};

    let now = Instant::now();
    let mut s = Socket::accepted(
        &SocketOptions::default(),
        Endpoint::Tcp(([127, 0, 0, 1], 8000).into()),
        Endpoint::Tcp(([127, 0, 0, 1], 50000).into()),
        now,
    );
    while s.poll_command().is_some() {}
    let err = s
        .connect(ConnectOptions::tcp(1e300, "127.0.0.1"), now)
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::ERR_SOCKET_BAD_PORT);
    assert!(s.connecting());
    s.connect(ConnectOptions::tcp(443, "::1"), now).unwrap();
    s.handle_timeout(now);
    let commands: Vec<Command> = std::iter::from_fn(|| s.poll_command()).collect();
    assert_eq!(commands, [Command::Close { reset: false }]);
    let events: Vec<SocketEvent> = std::iter::from_fn(|| s.poll_event()).collect();
    match events.as_slice() {
        [SocketEvent::ConnectionAttempt { address, .. }, SocketEvent::Error(e), SocketEvent::Close {
            had_error: Some(true),
        }] => {
            assert_eq!(address, "::1");
            assert_eq!(e.code(), ErrorCode::EISCONN);
            assert_eq!(
                e.message(),
                "connect EISCONN ::1:443 - Local (127.0.0.1:8000)",
                "{e:?}"
            );
        }
        other => panic!("{other:?}"),
    }
}

/// socket_ops found (artifact kept as `fuzz/corpus/socket_ops/regression-eisconn-pipe`):
/// on a connected IPC socket, `connect({port, host})` queues its EISCONN failure and
/// leaves `connecting` true; a `connect(path)` before that tick ran issued a second
/// `Connect` command (and `connectionAttempt` after `connect`). Now every connect on a
/// connected handle fails with EISCONN: one `Error`, one `Close`, no new attempt.
#[test]
fn regression_connect_on_connected_pipe_while_failing_is_eisconn() {
    use std::time::Instant;

    use nodenet_core::socket::{Command, ConnectOptions, Socket, SocketEvent};
    use nodenet_core::{Endpoint, ErrorCode, SocketOptions};

    let now = Instant::now();
    let mut s = Socket::accepted(
        &SocketOptions::default(),
        Endpoint::Pipe("/tmp/srv.sock".into()),
        Endpoint::Pipe(String::new()),
        now,
    );
    while s.poll_command().is_some() {}
    s.connect(ConnectOptions::tcp(80, "127.0.0.1"), now)
        .unwrap();
    s.connect(ConnectOptions::path("/tmp/other.sock"), now)
        .unwrap();
    s.handle_timeout(now);
    let commands: Vec<Command> = std::iter::from_fn(|| s.poll_command()).collect();
    assert_eq!(commands, [Command::Close { reset: false }]);
    let events: Vec<SocketEvent> = std::iter::from_fn(|| s.poll_event()).collect();
    match events.as_slice() {
        // The first (TCP) connect's attempt, then the refusal.
        [SocketEvent::ConnectionAttempt { .. }, SocketEvent::Error(e), SocketEvent::Close {
            had_error: Some(true),
        }] => assert_eq!(e.code(), ErrorCode::EISCONN),
        other => panic!("{other:?}"),
    }

    let artifact = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/corpus/socket_ops/regression-eisconn-pipe");
    check_socket_ops(&fs::read(artifact).expect("regression artifact"));
}

/// socket_ops found (issue 18 item 7; artifact kept as
/// `fuzz/corpus/socket_ops/regression-abort-of-answered-attempt`): `connect()` to a name
/// with several addresses starts the first happy-eyeballs attempt; a second `connect()`
/// while connecting queues Node's EALREADY destroy for the next tick; then the attempt's
/// success arrives. The pending tick runs first (as Node's `process.nextTick` runs before
/// any IO callback) and destroys the socket — which emitted `Abort` for the very attempt
/// whose answer was being delivered, breaking the contract that only outstanding
/// attempts are aborted. Now an answered attempt is no longer outstanding: the destroy
/// closes it with the socket's `Close`, and the events are what Node v20 (run here:
/// `destroy(EALREADY error)` on the tick after the first `connectionAttempt` of a
/// two-address lookup) emits: `error` (EALREADY), `connectionAttemptFailed ::1`
/// (`ECANCELED`), `close` (`hadError` true); no `connect`. (For a host name Node's second
/// `connect()` looks the name up again instead, so which of the lookup and the first
/// attempt's success wins is a race there; the core keeps the literal-host behaviour,
/// EALREADY on the next tick.)
#[test]
fn regression_success_of_an_attempt_after_a_deferred_ealready_destroy_aborts_nothing() {
    use std::time::Instant;

    use nodenet_core::socket::{Command, ConnectOptions, Socket, SocketEvent};
    use nodenet_core::{ErrorCode, LookupAddress, SocketOptions};
    use nodenet_fuzz_checks::socket_ops::{
        run_socket_ops, ConnectKind, ResolveAnswer, SocketConfig, SocketOp,
    };

    let now = Instant::now();
    let mut s = Socket::new(SocketOptions::default());
    s.connect(ConnectOptions::tcp(80, "multi.test"), now)
        .unwrap();
    let Some(Command::Resolve { id, .. }) = s.poll_command() else {
        panic!("a Resolve")
    };
    let both = vec![
        LookupAddress::new("::1", 6),
        LookupAddress::new("127.0.0.1", 4),
    ];
    s.handle_resolved(id, Ok(both), now);
    let first = std::iter::from_fn(|| s.poll_command())
        .find_map(|c| match c {
            Command::Connect { attempt, .. } => Some(attempt),
            _ => None,
        })
        .expect("the first attempt");
    while s.poll_event().is_some() {}
    // Connecting again: EALREADY on the next tick.
    s.connect(ConnectOptions::tcp(80, "multi.test"), now)
        .unwrap();
    // The answer is reported before the user's next poll ran the tick (a completion no
    // longer runs pending ticks): the answered attempt is never aborted, the socket
    // connects, and the tick's EALREADY destroy closes it once.
    s.handle_connected(first, Some(([0u16; 8], 50000).into()), now);
    let (commands, events) = drain(&mut s);
    assert!(
        !commands
            .iter()
            .any(|c| matches!(c, Command::Abort { attempt } if *attempt == first)),
        "{commands:?}"
    );
    assert_eq!(
        commands,
        [Command::StartReading, Command::Close { reset: false }]
    );
    match events.as_slice() {
        [SocketEvent::Connect, SocketEvent::Ready, SocketEvent::Error(e), SocketEvent::Close {
            had_error: Some(true),
        }] => assert_eq!(e.code(), ErrorCode::EALREADY),
        other => panic!("{other:?}"),
    }

    // Node's order (its nextTick runs before any IO callback, as the driver polls the
    // core before the IO): the tick's destroy cancels the outstanding attempt, and its
    // late success is ignored. Node v20's events exactly.
    let mut s = Socket::new(SocketOptions::default());
    s.connect(ConnectOptions::tcp(80, "multi.test"), now)
        .unwrap();
    let Some(Command::Resolve { id, .. }) = s.poll_command() else {
        panic!("a Resolve")
    };
    s.handle_resolved(
        id,
        Ok(vec![
            LookupAddress::new("::1", 6),
            LookupAddress::new("127.0.0.1", 4),
        ]),
        now,
    );
    let first = std::iter::from_fn(|| s.poll_command())
        .find_map(|c| match c {
            Command::Connect { attempt, .. } => Some(attempt),
            _ => None,
        })
        .expect("the first attempt");
    while s.poll_event().is_some() {}
    s.connect(ConnectOptions::tcp(80, "multi.test"), now)
        .unwrap();
    let (commands, events) = drain(&mut s);
    assert!(
        commands.contains(&Command::Close { reset: false }),
        "{commands:?}"
    );
    s.handle_connected(first, Some(([0u16; 8], 50000).into()), now);
    assert_eq!(
        drain(&mut s),
        (vec![], vec![]),
        "a late answer changes nothing"
    );
    match events.as_slice() {
        [SocketEvent::Error(e), SocketEvent::ConnectionAttemptFailed {
            address,
            error: cancelled,
            ..
        }, SocketEvent::Close {
            had_error: Some(true),
        }] => {
            assert_eq!(address, "::1");
            assert_eq!(cancelled.code(), ErrorCode::ECANCELED);
            assert_eq!(e.code(), ErrorCode::EALREADY);
        }
        other => panic!("{other:?}"),
    }

    // The same sequence through the fuzz target's runner and its checks.
    let ops = [
        SocketOp::Connect(ConnectKind::Host),
        SocketOp::Resolve(ResolveAnswer::Many(2)),
        SocketOp::Connect(ConnectKind::Host),
        SocketOp::ConnectOk(0),
    ];
    let config = SocketConfig {
        allow_half_open: false,
        accepted: false,
        pause_on_connect: false,
        high_water_mark: 16,
        max_buffered: None,
    };
    run_socket_ops(&config, &ops);
    // The same input as fuzzer bytes (the form the crash took), kept in the corpus.
    let artifact = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/corpus/socket_ops/regression-abort-of-answered-attempt");
    check_socket_ops(&fs::read(artifact).expect("regression artifact"));
}

/// Every command and event a socket has, draining both until both are empty (running a
/// tick can queue IO, and `Close` waits for its command to be taken).
fn drain(
    s: &mut nodenet_core::socket::Socket,
) -> (
    Vec<nodenet_core::socket::Command>,
    Vec<nodenet_core::socket::SocketEvent>,
) {
    let (mut commands, mut events) = (Vec::new(), Vec::new());
    loop {
        let before = commands.len() + events.len();
        commands.extend(std::iter::from_fn(|| s.poll_command()));
        events.extend(std::iter::from_fn(|| s.poll_event()));
        if commands.len() + events.len() == before {
            return (commands, events);
        }
    }
}
