// The options suite shared by the three backends (issue 17's "options still missing"):
// `signal` on sockets and servers (aborted from another thread), `reusePort`, `onread`
// (`next_event_into`) and `server[Symbol.asyncDispose]` (`close_and_wait`). Each
// backend's `tests/options.rs` includes its harness, `macros.rs`, defines `next_into!`
// and `close_and_wait!` (`.await` or not), then this file. Loopback only; every test is
// bounded by `TEST_TIMEOUT`.

/// The bound on each test (the harness's `nn_test!` fails a test that takes longer).
const TEST_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(20);
/// Whether the tests of this binary hold the harness's binary-wide lock.
const SERIAL: bool = false;

/// Abort `controller` from another thread after `ms` milliseconds.
#[allow(dead_code)]
fn abort_later(controller: AbortController, ms: u64, reason: Option<Error>) {
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(ms));
        match reason {
            Some(r) => controller.abort_with(r),
            None => controller.abort(),
        }
    });
}

/// The AbortError Node destroys with, checked field by field.
#[allow(dead_code)]
fn assert_abort_error(e: &Error, cause: &str) {
    assert_eq!(e.code(), ErrorCode::ABORT_ERR);
    assert_eq!(e.class(), ErrorClass::AbortError);
    assert_eq!(e.message(), "The operation was aborted");
    assert_eq!(e.cause().map(Error::message), Some(cause));
}

// ---- signal ---------------------------------------------------------------------------

// Node (test-net-connect-abort-controller.js, preAbort / testConstructor): a signal
// aborted before the socket is made → 'error' AbortError, then 'close' (no hadError).
nn_test! {
    fn an_aborted_signal_destroys_the_socket_before_it_connects() {
        let (mut server, port) = loopback_server!();
        let mut client = Socket::new(SocketOptions::default());
        client.set_signal(&AbortSignal::aborted_with(None));
        assert!(client.destroyed());
        client.connect(ConnectOptions::tcp(port, "127.0.0.1")).unwrap();
        assert!(!client.connecting(), "a socket its signal destroyed stays destroyed");
        let mut events = Vec::new();
        while let Some(ev) = next!(client) {
            events.push(ev);
        }
        match &events[..] {
            [SocketEvent::Error(e), SocketEvent::Close { had_error: None }] => {
                assert_abort_error(e, "This operation was aborted")
            }
            other => panic!("{other:?}"),
        }
        server.close().unwrap();
        assert!(matches!(next!(server), Some(ServerEvent::Close)), "no connection came");
    }
}

// Node (postAbort): `ac.abort()` right after `net.connect({signal})` → 'error'
// AbortError, 'close' true, no 'connect'.
nn_test! {
    fn abort_while_connecting() {
        let (mut server, port) = loopback_server!();
        let controller = AbortController::new();
        let mut client = Socket::new(SocketOptions::default());
        client.set_signal(&controller.signal());
        client.connect(ConnectOptions::tcp(port, "127.0.0.1")).unwrap();
        controller.abort_with(Error::new(ErrorCode::ABORT_ERR, ErrorClass::Error, "gave up"));
        let mut events = Vec::new();
        while let Some(ev) = next!(client) {
            events.push(ev);
        }
        match &events[..] {
            [SocketEvent::Error(e), SocketEvent::Close { had_error: Some(true) }] => {
                assert_abort_error(e, "gave up")
            }
            other => panic!("{other:?}"),
        }
        server.close().unwrap();
        assert!(matches!(next!(server), Some(ServerEvent::Close)));
    }
}

// The handle works across threads: a connected socket waiting for data is woken and
// destroyed by an abort from another thread; the peer sees the connection end.
nn_test! {
    fn abort_from_another_thread_destroys_a_connected_socket() {
        let (mut server, port) = loopback_server!();
        let h = spawn!({
            let mut c = accept!(server);
            let (_, events) = drain!(c);
            server.close().unwrap();
            events
        });
        let controller = AbortController::new();
        let mut client = Socket::new(SocketOptions::default());
        client.set_signal(&controller.signal());
        client.connect(ConnectOptions::tcp(port, "127.0.0.1")).unwrap();
        let mut abort = Some(controller);
        let mut events = Vec::new();
        while let Some(ev) = next!(client) {
            if matches!(ev, SocketEvent::Connect) {
                if let Some(c) = abort.take() {
                    abort_later(c, 20, None);
                }
            }
            events.push(ev);
        }
        match &events[..] {
            [SocketEvent::ConnectionAttempt { .. }, SocketEvent::Connect, SocketEvent::Ready, SocketEvent::Error(e), SocketEvent::Close { had_error: Some(true) }] => {
                assert_abort_error(e, "This operation was aborted")
            }
            other => panic!("{other:?}"),
        }
        assert!(client.destroyed());
        let server_side = join!(h);
        assert!(matches!(server_side.last(), Some(SocketEvent::Close { .. })), "{server_side:?}");
    }
}

// One signal, many sockets (Node allows sharing): one abort destroys them all.
nn_test! {
    fn one_abort_destroys_every_socket_sharing_the_signal() {
        // The kernel completes the connections in the listener's backlog; nobody needs
        // to accept them.
        let (mut server, port) = loopback_server!();
        let controller = AbortController::new();
        let mut tasks = Vec::new();
        for _ in 0..2 {
            let signal = controller.signal();
            tasks.push(spawn!({
                let mut client = Socket::new(SocketOptions::default());
                client.set_signal(&signal);
                client.connect(ConnectOptions::tcp(port, "127.0.0.1")).unwrap();
                let mut aborted = false;
                while let Some(ev) = next!(client) {
                    if let SocketEvent::Error(e) = ev {
                        aborted = e.code() == ErrorCode::ABORT_ERR;
                    }
                }
                aborted
            }));
        }
        // Connecting or connected when it comes, each is destroyed with the AbortError.
        abort_later(controller, 50, None);
        for t in tasks {
            assert!(join!(t));
        }
        server.close().unwrap();
    }
}

// Node: `listen({signal})` then `ac.abort()` with a client connected → the server stops
// listening at once (a new connect is refused) and 'close' comes once the connection
// closed.
nn_test! {
    fn a_signal_closes_a_listening_server_from_another_thread() {
        let controller = AbortController::new();
        let mut server = create_server(ServerOptions::default());
        server.set_signal(&controller.signal());
        server.listen(ListenOptions::port(0).host("127.0.0.1")).unwrap();
        listening!(server);
        let port = tcp_port!(server);
        let mut client = connect(ConnectOptions::tcp(port, "127.0.0.1")).unwrap();
        assert!(matches!(next!(client), Some(SocketEvent::ConnectionAttempt { .. })));
        assert!(matches!(next!(client), Some(SocketEvent::Connect)));
        let conn = accept!(server);
        abort_later(controller, 20, None);
        let h = spawn!({
            let mut events = Vec::new();
            while let Some(ev) = next!(server) {
                events.push(format!("{ev:?}"));
            }
            (server, events)
        });
        // Wait until the listener is gone: a new connection is refused.
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let mut probe = connect(ConnectOptions::tcp(port, "127.0.0.1")).unwrap();
            let mut refused = false;
            while let Some(ev) = next!(probe) {
                match ev {
                    SocketEvent::Error(e) => refused = e.code() == ErrorCode::ECONNREFUSED,
                    SocketEvent::Connect => probe.destroy(None),
                    _ => {}
                }
            }
            if refused {
                break;
            }
            assert!(Instant::now() < deadline, "the server kept listening");
            sleep_ms!(10);
        }
        // The open connection keeps the server from closing until it closes.
        drop(conn);
        let (server, events) = join!(h);
        assert!(!server.listening());
        assert_eq!(events.last().map(String::as_str), Some("Close"), "{events:?}");
        drain!(client);
    }
}

// Node: `listen({port: 0, signal})` with an aborted signal: `listening` is true right
// after listen, and the only event is 'close'.
nn_test! {
    fn an_aborted_signal_closes_the_server_right_after_listen() {
        let mut server = create_server(ServerOptions::default());
        server.set_signal(&AbortSignal::aborted_with(None));
        server.listen(ListenOptions::port(0).host("127.0.0.1")).unwrap();
        assert!(server.listening());
        assert!(matches!(next!(server), Some(ServerEvent::Close)));
        assert!(!server.listening());
        assert!(next!(server).is_none());
    }
}

// ---- reusePort ------------------------------------------------------------------------

// Node v22.12 (`reusePort: true`): two servers on one port, both accepting; without it
// the second listen fails with EADDRINUSE.
nn_test! {
    fn reuse_port_lets_two_servers_accept_on_one_port() {
        const CLIENTS: usize = 32;
        let mut first = create_server(ServerOptions::default());
        first
            .listen(ListenOptions::port(0).host("127.0.0.1").reuse_port(true))
            .unwrap();
        listening!(first);
        let port = tcp_port!(first);

        let mut plain = create_server(ServerOptions::default());
        plain.listen(ListenOptions::port(port).host("127.0.0.1")).unwrap();
        match next!(plain) {
            Some(ServerEvent::Error(e)) => assert_eq!(e.code(), ErrorCode::EADDRINUSE),
            other => panic!("expected EADDRINUSE, got {other:?}"),
        }

        let mut second = create_server(ServerOptions::default());
        second
            .listen(ListenOptions::port(port).host("127.0.0.1").reuse_port(true))
            .unwrap();
        listening!(second);
        assert_eq!(tcp_port!(second), port);

        let total = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let mut loops = Vec::new();
        for mut server in [first, second] {
            let total = total.clone();
            loops.push(spawn!({
                let mut accepted = 0usize;
                while total.load(std::sync::atomic::Ordering::SeqCst) < CLIENTS {
                    let deadline = Instant::now() + Duration::from_millis(50);
                    if let Some(Some(ServerEvent::Connection(c))) = next_until!(server, deadline) {
                        drop(c);
                        accepted += 1;
                        total.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    }
                }
                server.close().unwrap();
                accepted
            }));
        }
        let mut clients = Vec::new();
        for _ in 0..CLIENTS {
            let mut c = connect(ConnectOptions::tcp(port, "127.0.0.1")).unwrap();
            while let Some(ev) = next!(c) {
                if matches!(ev, SocketEvent::Connect) {
                    break;
                }
            }
            clients.push(c);
        }
        let mut counts = Vec::new();
        for l in loops {
            counts.push(join!(l));
        }
        assert_eq!(counts.iter().sum::<usize>(), CLIENTS);
        // The kernel spreads connections by their 4-tuple hash: with 32 of them, both
        // listeners get some (all on one has probability 2^-31).
        assert!(counts.iter().all(|&n| n > 0), "{BACKEND}: {counts:?}");
    }
}

// ---- onread ---------------------------------------------------------------------------

// Node (test-net-onread-static-buffer.js): every byte comes through the caller's buffer,
// no 'data', then 'end' and 'close'; `bytesRead` counts them.
nn_test! {
    fn reads_land_in_the_callers_buffer() {
        let payload: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
        let expected = payload.clone();
        let (mut server, port) = loopback_server!();
        let h = spawn!({
            let mut c = accept!(server);
            c.end_with(payload);
            drain!(c);
            server.close().unwrap();
        });
        let mut client = connect(ConnectOptions::tcp(port, "127.0.0.1")).unwrap();
        let mut buf = vec![0u8; 1000];
        let mut got = Vec::new();
        let mut reads = 0;
        let mut events = Vec::new();
        while let Some(ev) = next_into!(client, &mut buf) {
            match ev {
                ReadInto::Read(n) => {
                    assert!(n > 0 && n <= buf.len());
                    got.extend_from_slice(&buf[..n]);
                    reads += 1;
                }
                ReadInto::Event(e) => {
                    assert!(!matches!(e, SocketEvent::Data(_) | SocketEvent::Text(_)), "{e:?}");
                    events.push(e);
                }
            }
        }
        assert!(got == expected, "bytes differ ({} of {})", got.len(), expected.len());
        assert!(reads >= 100, "at most 1000 bytes per read: {reads}");
        assert_eq!(client.bytes_read(), 100_000);
        let tail: Vec<_> = events.iter().rev().take(2).collect();
        assert!(matches!(tail[..], [SocketEvent::Close { had_error: Some(false) }, _]), "{events:?}");
        assert!(events.contains(&SocketEvent::End));
        join!(h);
    }
}

// Node: returning false from the callback pauses (readStop); `resume()` reads again.
nn_test! {
    fn pausing_after_a_read_stops_reading_until_resume() {
        let (mut server, port) = loopback_server!();
        let h = spawn!({
            let mut c = accept!(server);
            c.end_with(vec![7u8; 64 * 1024]);
            drain!(c);
            server.close().unwrap();
        });
        let mut client = connect(ConnectOptions::tcp(port, "127.0.0.1")).unwrap();
        let mut buf = [0u8; 512];
        let first = loop {
            match next_into!(client, &mut buf) {
                Some(ReadInto::Read(n)) => break n,
                Some(ReadInto::Event(_)) => continue,
                None => panic!("closed before any read"),
            }
        };
        client.pause();
        assert!(client.core().is_paused());
        // Paused: nothing is read, whatever is waiting in the kernel.
        let deadline = Instant::now() + Duration::from_millis(100);
        assert!(next_until!(client, deadline).is_none());
        assert_eq!(client.bytes_read(), first as u64);
        client.resume();
        let mut total = first;
        while let Some(ev) = next_into!(client, &mut buf) {
            if let ReadInto::Read(n) = ev {
                assert!(buf[..n].iter().all(|&b| b == 7));
                total += n;
            }
        }
        assert_eq!(total, 64 * 1024);
        join!(h);
    }
}

// libuv answers a read into no room with ENOBUFS: the socket is destroyed with it.
nn_test! {
    fn an_empty_buffer_fails_with_enobufs() {
        let (mut server, port) = loopback_server!();
        let h = spawn!({
            let mut c = accept!(server);
            c.write("x");
            drain!(c);
            server.close().unwrap();
        });
        let mut client = connect(ConnectOptions::tcp(port, "127.0.0.1")).unwrap();
        let mut error = None;
        while let Some(ev) = next_into!(client, &mut []) {
            if let ReadInto::Event(SocketEvent::Error(e)) = ev {
                error = Some(e);
            }
        }
        let e = error.expect("an error");
        assert_eq!(e.code(), ErrorCode::ENOBUFS);
        assert_eq!(e.syscall(), Some("read"));
        join!(h);
    }
}

// ---- asyncDispose ---------------------------------------------------------------------

// Node: `await server[Symbol.asyncDispose]()` closes the server and resolves once the
// open connection closed.
nn_test! {
    fn close_and_wait_returns_once_the_connections_closed() {
        let (mut server, port) = loopback_server!();
        let mut client = connect(ConnectOptions::tcp(port, "127.0.0.1")).unwrap();
        assert!(matches!(next!(client), Some(SocketEvent::ConnectionAttempt { .. })));
        assert!(matches!(next!(client), Some(SocketEvent::Connect)));
        let mut conn = accept!(server);
        let served = spawn!({
            drain!(conn);
        });
        let disposer = spawn!({
            close_and_wait!(server);
            server
        });
        // The listener goes at once; the dispose waits for the connection.
        let mut refused = false;
        let deadline = Instant::now() + Duration::from_secs(10);
        while !refused {
            let mut probe = connect(ConnectOptions::tcp(port, "127.0.0.1")).unwrap();
            while let Some(ev) = next!(probe) {
                match ev {
                    SocketEvent::Error(e) => refused = e.code() == ErrorCode::ECONNREFUSED,
                    SocketEvent::Connect => probe.destroy(None),
                    _ => {}
                }
            }
            assert!(Instant::now() < deadline, "the server kept listening");
        }
        client.end().unwrap();
        drain!(client);
        join!(served);
        let server = join!(disposer);
        assert!(!server.listening());
        assert_eq!(server.connections(), 0);
    }
}

// Node: asyncDispose on a server that is not listening resolves at once, with no close.
nn_test! {
    fn close_and_wait_on_a_server_that_never_listened_returns_at_once() {
        let mut server = create_server(ServerOptions::default());
        close_and_wait!(server);
        assert!(!server.listening());
        // No close() was called, so no Close is waiting either: the server can listen.
        server.listen(ListenOptions::port(0).host("127.0.0.1")).unwrap();
        listening!(server);
        close_and_wait!(server);
        assert!(!server.listening());
        assert!(next!(server).is_none());
    }
}
