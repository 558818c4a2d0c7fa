// The hostile-traffic suite, shared by the backends' `tests/hostile.rs` (one test binary
// per backend: the tests count the process's descriptors and memory, and one lowers the
// descriptor limit, so they hold the harness's binary-wide lock). Loopback only, bounded
// in count and time. The light variants run in `cargo test --workspace`; the heavy ones
// are `#[ignore]`d and run with
//
//     cargo test --release -p nodenet-tokio -p nodenet-smol -p nodenet-std \
//         --test hostile -- --ignored --nocapture --test-threads 1
//
// Figures print as `[backend] hostile <test>: ...` lines (docs/hostile.md records a run).
//
// Bodies are plain code over the harness's macros (`nn_test!`, `next!`, `next_until!`,
// `task!`, `join!`, `detach!`, `sleep_ms!`) so one body runs on every runtime.

/// Connections that send bytes and reset while waiting in the accept queue.
const QUEUE_RESETS: usize = 20;

/// A raw client that connects, sends `bytes` and resets (`SO_LINGER` 0, then close): on
/// loopback the bytes and the RST are in the server's queue when this returns.
#[allow(dead_code)]
fn send_and_reset(port: u16, bytes: &[u8]) {
    use std::io::Write;
    let mut c = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    c.write_all(bytes).unwrap();
    socket2::SockRef::from(&c)
        .set_linger(Some(Duration::ZERO))
        .unwrap();
}

nn_test! {
    fn resets_in_the_accept_queue_are_delivered_with_their_bytes() {
        // Node delivers each: 'data' with the bytes, 'end', a clean 'close', no 'error'
        // (libuv reads the data, sees the hang-up with a partial read and ends there).
        let (mut server, port) = loopback_server!();
        for i in 0..QUEUE_RESETS {
            send_and_reset(port, format!("hello {i}").as_bytes());
        }
        let mut delivered = 0;
        let deadline = Instant::now() + Duration::from_secs(10);
        for i in 0..QUEUE_RESETS {
            let mut c = match next_until!(server, deadline) {
                Some(Some(ServerEvent::Connection(c))) => c,
                other => panic!("{delivered} of {QUEUE_RESETS} delivered, then {other:?}"),
            };
            let (data, events) = drain!(c);
            assert_eq!(String::from_utf8_lossy(&data), format!("hello {i}"), "{events:?}");
            assert!(
                events.iter().all(|e| !matches!(e, SocketEvent::Error(_))),
                "no error, as in Node: {events:?}"
            );
            assert!(events.contains(&SocketEvent::End), "{events:?}");
            assert_eq!(events.last(), Some(&SocketEvent::Close { had_error: Some(false) }));
            delivered += 1;
        }
        eprintln!("[{BACKEND}] hostile accept-queue resets: {delivered} of {QUEUE_RESETS} delivered");
        assert_eq!(server.connections(), 0);
        server.close().unwrap();
        assert!(matches!(next!(server), Some(ServerEvent::Close)));
    }
}
