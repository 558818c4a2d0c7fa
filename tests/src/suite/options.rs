//! The options suite (issue 17's "options still missing"): `signal` on sockets and
//! servers (aborted from another thread), `reusePort`, `onread` (`next_event_into`) and
//! `server[Symbol.asyncDispose]` (`close_and_wait`).
//! Loopback only; the tests count no process-wide resource, so they run in parallel, each
//! bounded by 20 s.
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use nodenet::{
    AbortController, AbortSignal, ConnectOptions, Error, ErrorClass, ErrorCode, ListenOptions,
    ReadInto, ServerOptions, Socket, SocketEvent, SocketOptions,
};
use nodenet_core::ServerEvent;

use super::support::{accept, connect, create_server, drain, listening, loopback_server, tcp_port};
use crate::harness::Settings;
use crate::test_runtime::{close_and_wait, next, next_into, next_until, TestRuntime};

/// Each test is bounded by 20 s; the tests run in parallel.
pub const SETTINGS: Settings = Settings {
    timeout: Duration::from_secs(20),
    serial: false,
};

/// Abort `controller` from another thread after `ms` milliseconds.
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
fn assert_abort_error(e: &Error, cause: &str) {
    assert_eq!(e.code(), ErrorCode::ABORT_ERR);
    assert_eq!(e.class(), ErrorClass::AbortError);
    assert_eq!(e.message(), "The operation was aborted");
    assert_eq!(e.cause().map(Error::message), Some(cause));
}

// ---- signal ---------------------------------------------------------------------------

/// Node (test-net-connect-abort-controller.js, preAbort / testConstructor): a signal
/// aborted before the socket is made → 'error' AbortError, then 'close' (no hadError).
pub async fn an_aborted_signal_destroys_the_socket_before_it_connects<R: TestRuntime>() {
    let (mut server, port) = loopback_server::<R>(ServerOptions::default()).await;
    let mut client = Socket::<R>::new(SocketOptions::default());
    client.set_signal(&AbortSignal::aborted_with(None));
    assert!(client.destroyed());
    client
        .connect(ConnectOptions::tcp(port, "127.0.0.1"))
        .unwrap();
    assert!(
        !client.connecting(),
        "a socket its signal destroyed stays destroyed"
    );
    let mut events = Vec::new();
    while let Some(ev) = next(&mut client).await {
        events.push(ev);
    }
    match &events[..] {
        [SocketEvent::Error(e), SocketEvent::Close { had_error: None }] => {
            assert_abort_error(e, "This operation was aborted")
        }
        other => panic!("{other:?}"),
    }
    server.close().unwrap();
    assert!(
        matches!(next(&mut server).await, Some(ServerEvent::Close)),
        "no connection came"
    );
}

/// Node (postAbort): `ac.abort()` right after `net.connect({signal})` → 'error'
/// AbortError, 'close' true, no 'connect'.
pub async fn abort_while_connecting<R: TestRuntime>() {
    let (mut server, port) = loopback_server::<R>(ServerOptions::default()).await;
    let controller = AbortController::new();
    let mut client = Socket::<R>::new(SocketOptions::default());
    client.set_signal(&controller.signal());
    client
        .connect(ConnectOptions::tcp(port, "127.0.0.1"))
        .unwrap();
    controller.abort_with(Error::new(
        ErrorCode::ABORT_ERR,
        ErrorClass::Error,
        "gave up",
    ));
    let mut events = Vec::new();
    while let Some(ev) = next(&mut client).await {
        events.push(ev);
    }
    match &events[..] {
        [SocketEvent::Error(e), SocketEvent::Close {
            had_error: Some(true),
        }] => assert_abort_error(e, "gave up"),
        other => panic!("{other:?}"),
    }
    server.close().unwrap();
    assert!(matches!(next(&mut server).await, Some(ServerEvent::Close)));
}

/// The handle works across threads: a connected socket waiting for data is woken and
/// destroyed by an abort from another thread; the peer sees the connection end.
pub async fn abort_from_another_thread_destroys_a_connected_socket<R: TestRuntime>() {
    let (mut server, port) = loopback_server::<R>(ServerOptions::default()).await;
    let h = <R as TestRuntime>::spawn(async move {
        let mut c = accept(&mut server).await;
        let (_, events) = drain(&mut c).await;
        server.close().unwrap();
        events
    });
    let controller = AbortController::new();
    let mut client = Socket::<R>::new(SocketOptions::default());
    client.set_signal(&controller.signal());
    client
        .connect(ConnectOptions::tcp(port, "127.0.0.1"))
        .unwrap();
    let mut abort = Some(controller);
    let mut events = Vec::new();
    while let Some(ev) = next(&mut client).await {
        if matches!(ev, SocketEvent::Connect) {
            if let Some(c) = abort.take() {
                abort_later(c, 20, None);
            }
        }
        events.push(ev);
    }
    match &events[..] {
        [SocketEvent::ConnectionAttempt { .. }, SocketEvent::Connect, SocketEvent::Ready, SocketEvent::Error(e), SocketEvent::Close {
            had_error: Some(true),
        }] => assert_abort_error(e, "This operation was aborted"),
        other => panic!("{other:?}"),
    }
    assert!(client.destroyed());
    let server_side = h.await;
    assert!(
        matches!(server_side.last(), Some(SocketEvent::Close { .. })),
        "{server_side:?}"
    );
}

/// One signal, many sockets (Node allows sharing): one abort destroys them all.
pub async fn one_abort_destroys_every_socket_sharing_the_signal<R: TestRuntime>() {
    // The kernel completes the connections in the listener's backlog; nobody needs
    // to accept them.
    let (mut server, port) = loopback_server::<R>(ServerOptions::default()).await;
    let controller = AbortController::new();
    let mut tasks = Vec::new();
    for _ in 0..2 {
        let signal = controller.signal();
        tasks.push(<R as TestRuntime>::spawn(async move {
            let mut client = Socket::<R>::new(SocketOptions::default());
            client.set_signal(&signal);
            client
                .connect(ConnectOptions::tcp(port, "127.0.0.1"))
                .unwrap();
            let mut aborted = false;
            while let Some(ev) = next(&mut client).await {
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
        assert!(t.await);
    }
    server.close().unwrap();
}

/// Node: `listen({signal})` then `ac.abort()` with a client connected → the server stops
/// listening at once (a new connect is refused) and 'close' comes once the connection
/// closed.
pub async fn a_signal_closes_a_listening_server_from_another_thread<R: TestRuntime>() {
    let controller = AbortController::new();
    let mut server = create_server::<R>(ServerOptions::default());
    server.set_signal(&controller.signal());
    server
        .listen(ListenOptions::port(0).host("127.0.0.1"))
        .unwrap();
    listening(&mut server).await;
    let port = tcp_port(&server);
    let mut client = connect::<R>(ConnectOptions::tcp(port, "127.0.0.1")).unwrap();
    assert!(matches!(
        next(&mut client).await,
        Some(SocketEvent::ConnectionAttempt { .. })
    ));
    assert!(matches!(
        next(&mut client).await,
        Some(SocketEvent::Connect)
    ));
    let conn = accept(&mut server).await;
    abort_later(controller, 20, None);
    let h = <R as TestRuntime>::spawn(async move {
        let mut events = Vec::new();
        while let Some(ev) = next(&mut server).await {
            events.push(format!("{ev:?}"));
        }
        (server, events)
    });
    // Wait until the listener is gone: a new connection is refused.
    let deadline = R::now() + Duration::from_secs(10);
    loop {
        let mut probe = connect::<R>(ConnectOptions::tcp(port, "127.0.0.1")).unwrap();
        let mut refused = false;
        while let Some(ev) = next(&mut probe).await {
            match ev {
                SocketEvent::Error(e) => refused = e.code() == ErrorCode::ECONNREFUSED,
                SocketEvent::Connect => probe.destroy(None),
                _ => {}
            }
        }
        if refused {
            break;
        }
        assert!(R::now() < deadline, "the server kept listening");
        R::sleep(Duration::from_millis(10)).await;
    }
    // The open connection keeps the server from closing until it closes.
    drop(conn);
    let (server, events) = h.await;
    assert!(!server.listening());
    assert_eq!(
        events.last().map(String::as_str),
        Some("Close"),
        "{events:?}"
    );
    drain(&mut client).await;
}

/// Node: `listen({port: 0, signal})` with an aborted signal: the only event is 'close'.
/// Without a host Node binds at once, so `listening` is true right after listen; with an
/// IP-literal host it looks the literal up first, so `listening` is still false (Node v20,
/// checked with `node`).
pub async fn an_aborted_signal_closes_the_server_right_after_listen<R: TestRuntime>() {
    for (options, listening_at_once) in [
        (ListenOptions::port(0), true),
        (ListenOptions::port(0).host("127.0.0.1"), false),
    ] {
        let mut server = create_server::<R>(ServerOptions::default());
        server.set_signal(&AbortSignal::aborted_with(None));
        server.listen(options).unwrap();
        assert_eq!(server.listening(), listening_at_once);
        assert!(matches!(next(&mut server).await, Some(ServerEvent::Close)));
        assert!(!server.listening());
        assert!(next(&mut server).await.is_none());
    }
}

// ---- reusePort ------------------------------------------------------------------------

/// Node v22.12 (`reusePort: true`): two servers on one port, both accepting; without it
/// the second listen fails with EADDRINUSE.
pub async fn reuse_port_lets_two_servers_accept_on_one_port<R: TestRuntime>() {
    const CLIENTS: usize = 32;
    let mut first = create_server::<R>(ServerOptions::default());
    first
        .listen(ListenOptions::port(0).host("127.0.0.1").reuse_port(true))
        .unwrap();
    listening(&mut first).await;
    let port = tcp_port(&first);

    let mut plain = create_server::<R>(ServerOptions::default());
    plain
        .listen(ListenOptions::port(port).host("127.0.0.1"))
        .unwrap();
    match next(&mut plain).await {
        Some(ServerEvent::Error(e)) => assert_eq!(e.code(), ErrorCode::EADDRINUSE),
        other => panic!("expected EADDRINUSE, got {other:?}"),
    }

    let mut second = create_server::<R>(ServerOptions::default());
    second
        .listen(ListenOptions::port(port).host("127.0.0.1").reuse_port(true))
        .unwrap();
    listening(&mut second).await;
    assert_eq!(tcp_port(&second), port);

    let total = Arc::new(AtomicUsize::new(0));
    let mut loops = Vec::new();
    for mut server in [first, second] {
        let total = total.clone();
        loops.push(<R as TestRuntime>::spawn(async move {
            let mut accepted = 0usize;
            while total.load(Ordering::SeqCst) < CLIENTS {
                let deadline = R::now() + Duration::from_millis(50);
                if let Some(Some(ServerEvent::Connection(c))) =
                    next_until(&mut server, deadline).await
                {
                    drop(c);
                    accepted += 1;
                    total.fetch_add(1, Ordering::SeqCst);
                }
            }
            server.close().unwrap();
            accepted
        }));
    }
    let mut clients = Vec::new();
    for _ in 0..CLIENTS {
        let mut c = connect::<R>(ConnectOptions::tcp(port, "127.0.0.1")).unwrap();
        while let Some(ev) = next(&mut c).await {
            if matches!(ev, SocketEvent::Connect) {
                break;
            }
        }
        clients.push(c);
    }
    let mut counts = Vec::new();
    for l in loops {
        counts.push(l.await);
    }
    assert_eq!(counts.iter().sum::<usize>(), CLIENTS);
    // The kernel spreads connections by their 4-tuple hash: with 32 of them, both
    // listeners get some (all on one has probability 2^-31).
    assert!(counts.iter().all(|&n| n > 0), "{}: {counts:?}", R::NAME);
}

// ---- onread ---------------------------------------------------------------------------

/// Node (test-net-onread-static-buffer.js): every byte comes through the caller's buffer,
/// no 'data', then 'end' and 'close'; `bytesRead` counts them.
pub async fn reads_land_in_the_callers_buffer<R: TestRuntime>() {
    let payload: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
    let expected = payload.clone();
    let (mut server, port) = loopback_server::<R>(ServerOptions::default()).await;
    let h = <R as TestRuntime>::spawn(async move {
        let mut c = accept(&mut server).await;
        c.end_with(payload);
        drain(&mut c).await;
        server.close().unwrap();
    });
    let mut client = connect::<R>(ConnectOptions::tcp(port, "127.0.0.1")).unwrap();
    let mut buf = vec![0u8; 1000];
    let mut got = Vec::new();
    let mut reads = 0;
    let mut events = Vec::new();
    while let Some(ev) = next_into(&mut client, &mut buf).await {
        match ev {
            ReadInto::Read(n) => {
                assert!(n > 0 && n <= buf.len());
                got.extend_from_slice(&buf[..n]);
                reads += 1;
            }
            ReadInto::Event(e) => {
                assert!(
                    !matches!(e, SocketEvent::Data(_) | SocketEvent::Text(_)),
                    "{e:?}"
                );
                events.push(e);
            }
        }
    }
    assert!(
        got == expected,
        "bytes differ ({} of {})",
        got.len(),
        expected.len()
    );
    assert!(reads >= 100, "at most 1000 bytes per read: {reads}");
    assert_eq!(client.bytes_read(), 100_000);
    let tail: Vec<_> = events.iter().rev().take(2).collect();
    assert!(
        matches!(
            tail[..],
            [
                SocketEvent::Close {
                    had_error: Some(false)
                },
                _
            ]
        ),
        "{events:?}"
    );
    assert!(events.contains(&SocketEvent::End));
    h.await;
}

/// Node: returning false from the callback pauses (readStop); `resume()` reads again.
pub async fn pausing_after_a_read_stops_reading_until_resume<R: TestRuntime>() {
    let (mut server, port) = loopback_server::<R>(ServerOptions::default()).await;
    let h = <R as TestRuntime>::spawn(async move {
        let mut c = accept(&mut server).await;
        c.end_with(vec![7u8; 64 * 1024]);
        drain(&mut c).await;
        server.close().unwrap();
    });
    let mut client = connect::<R>(ConnectOptions::tcp(port, "127.0.0.1")).unwrap();
    let mut buf = [0u8; 512];
    let first = loop {
        match next_into(&mut client, &mut buf).await {
            Some(ReadInto::Read(n)) => break n,
            Some(ReadInto::Event(_)) => continue,
            None => panic!("closed before any read"),
        }
    };
    client.pause();
    assert!(client.core().is_paused());
    // Paused: nothing is read, whatever is waiting in the kernel.
    let deadline = R::now() + Duration::from_millis(100);
    assert!(next_until(&mut client, deadline).await.is_none());
    assert_eq!(client.bytes_read(), first as u64);
    client.resume();
    let mut total = first;
    while let Some(ev) = next_into(&mut client, &mut buf).await {
        if let ReadInto::Read(n) = ev {
            assert!(buf[..n].iter().all(|&b| b == 7));
            total += n;
        }
    }
    assert_eq!(total, 64 * 1024);
    h.await;
}

/// libuv answers a read into no room with ENOBUFS: the socket is destroyed with it.
pub async fn an_empty_buffer_fails_with_enobufs<R: TestRuntime>() {
    let (mut server, port) = loopback_server::<R>(ServerOptions::default()).await;
    let h = <R as TestRuntime>::spawn(async move {
        let mut c = accept(&mut server).await;
        c.write("x");
        drain(&mut c).await;
        server.close().unwrap();
    });
    let mut client = connect::<R>(ConnectOptions::tcp(port, "127.0.0.1")).unwrap();
    let mut error = None;
    while let Some(ev) = next_into(&mut client, &mut []).await {
        if let ReadInto::Event(SocketEvent::Error(e)) = ev {
            error = Some(e);
        }
    }
    let e = error.expect("an error");
    assert_eq!(e.code(), ErrorCode::ENOBUFS);
    assert_eq!(e.syscall(), Some("read"));
    h.await;
}

// ---- asyncDispose ---------------------------------------------------------------------

/// Node: `await server[Symbol.asyncDispose]()` closes the server and resolves once the
/// open connection closed.
pub async fn close_and_wait_returns_once_the_connections_closed<R: TestRuntime>() {
    let (mut server, port) = loopback_server::<R>(ServerOptions::default()).await;
    let mut client = connect::<R>(ConnectOptions::tcp(port, "127.0.0.1")).unwrap();
    assert!(matches!(
        next(&mut client).await,
        Some(SocketEvent::ConnectionAttempt { .. })
    ));
    assert!(matches!(
        next(&mut client).await,
        Some(SocketEvent::Connect)
    ));
    let mut conn = accept(&mut server).await;
    let served = <R as TestRuntime>::spawn(async move {
        drain(&mut conn).await;
    });
    let disposer = <R as TestRuntime>::spawn(async move {
        close_and_wait(&mut server).await;
        server
    });
    // The listener goes at once; the dispose waits for the connection.
    let mut refused = false;
    let deadline = R::now() + Duration::from_secs(10);
    while !refused {
        let mut probe = connect::<R>(ConnectOptions::tcp(port, "127.0.0.1")).unwrap();
        while let Some(ev) = next(&mut probe).await {
            match ev {
                SocketEvent::Error(e) => refused = e.code() == ErrorCode::ECONNREFUSED,
                SocketEvent::Connect => probe.destroy(None),
                _ => {}
            }
        }
        assert!(R::now() < deadline, "the server kept listening");
    }
    client.end().unwrap();
    drain(&mut client).await;
    served.await;
    let server = disposer.await;
    assert!(!server.listening());
    assert_eq!(server.connections(), 0);
}

/// Node: asyncDispose on a server that is not listening resolves at once, with no close.
pub async fn close_and_wait_on_a_server_that_never_listened_returns_at_once<R: TestRuntime>() {
    let mut server = create_server::<R>(ServerOptions::default());
    close_and_wait(&mut server).await;
    assert!(!server.listening());
    // No close() was called, so no Close is waiting either: the server can listen.
    server
        .listen(ListenOptions::port(0).host("127.0.0.1"))
        .unwrap();
    listening(&mut server).await;
    close_and_wait(&mut server).await;
    assert!(!server.listening());
    assert!(next(&mut server).await.is_none());
}

/// Registers every options test for runtime `$runtime` (one `#[test]` per body above).
#[macro_export]
macro_rules! options_tests {
    ($runtime:ty) => {
        $crate::register_tests!($runtime => options {
            an_aborted_signal_destroys_the_socket_before_it_connects,
            abort_while_connecting,
            abort_from_another_thread_destroys_a_connected_socket,
            one_abort_destroys_every_socket_sharing_the_signal,
            a_signal_closes_a_listening_server_from_another_thread,
            an_aborted_signal_closes_the_server_right_after_listen,
            reuse_port_lets_two_servers_accept_on_one_port,
            reads_land_in_the_callers_buffer,
            pausing_after_a_read_stops_reading_until_resume,
            an_empty_buffer_fails_with_enobufs,
            close_and_wait_returns_once_the_connections_closed,
            close_and_wait_on_a_server_that_never_listened_returns_at_once,
        });
    };
}
