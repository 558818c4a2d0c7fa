//! The loopback suite: Node's socket and server behaviour over real loopback sockets
//! (127.0.0.1, ::1, Unix sockets in a temporary directory), each test a client and a
//! server side of one scenario. The tests count
//! no process-wide resource, so they run in parallel, each bounded by 20 s.
use std::net::IpAddr;
use std::time::Duration;

use nodenet::{
    BlockList, ConnectOptions, Endpoint, ErrorCode, Family, ListenOptions, LookupAddress,
    LookupOptions, Server, ServerOptions, Socket, SocketEvent, SocketOptions, StdListener,
    StdStream,
};
use nodenet_core::ServerEvent;

use super::support::{
    accept, accept_paused_until_signalled, connect, create_server, drain, echo, first_error,
    join_thread, listening, loopback_server, pattern, read_to_end_on_thread, tcp_port,
    DROPPED_WRITE,
};
use crate::harness::Settings;
use crate::test_runtime::{next, shutdown, TestRuntime};

/// Each test is bounded by 20 s; the tests run in parallel.
pub const SETTINGS: Settings = Settings {
    timeout: Duration::from_secs(20),
    serial: false,
};

/// Only `write_tracked` writes answer with `WriteDone`; plain writes and `end_with` do not.
pub async fn only_tracked_writes_get_write_done<R: TestRuntime>() {
    let (mut server, port) = loopback_server::<R>(ServerOptions::default()).await;
    let h = <R as TestRuntime>::spawn(async move {
        let mut c = accept(&mut server).await;
        let (data, _) = drain(&mut c).await;
        assert_eq!(data, b"plain tracked plain");
        server
    });
    let mut client = connect::<R>(ConnectOptions::tcp(port, "127.0.0.1")).unwrap();
    let mut tracked = None;
    let mut done = Vec::new();
    while let Some(ev) = next(&mut client).await {
        match ev {
            SocketEvent::Connect => {
                assert!(client.write("plain "));
                tracked = Some(client.write_tracked("tracked "));
                assert!(client.end_with("plain"));
            }
            SocketEvent::WriteDone { id, result } => done.push((id, result)),
            _ => {}
        }
    }
    let tracked = tracked.expect("connected");
    assert!(tracked.ok);
    assert_eq!(done, vec![(tracked.id, Ok(()))]);
    let mut server = h.await;
    server.close().unwrap();
}

/// An IPv4 echo: the client's events in Node's order, byte counters, and the server's
/// `Close` after its connection closed.
pub async fn ipv4_echo_data_end_close<R: TestRuntime>() {
    let (mut server, port) = loopback_server::<R>(ServerOptions::default()).await;
    let h = <R as TestRuntime>::spawn(async move {
        let mut c = accept(&mut server).await;
        assert_eq!(
            c.remote_address(),
            Some("127.0.0.1".parse::<IpAddr>().unwrap())
        );
        c.write("hello\r\n");
        echo(&mut c).await;
        server
    });
    let mut client = connect::<R>(ConnectOptions::tcp(port, "127.0.0.1")).unwrap();
    let mut got = Vec::new();
    let mut events = Vec::new();
    while let Some(ev) = next(&mut client).await {
        match ev {
            SocketEvent::Connect => {
                assert!(client.write("ping"));
                events.push(SocketEvent::Connect);
            }
            SocketEvent::Data(d) => {
                got.extend_from_slice(&d);
                if got == b"hello\r\nping" {
                    client.end().unwrap();
                }
            }
            SocketEvent::WriteDone { .. } => panic!("a write without a callback answered"),
            other => events.push(other),
        }
    }
    assert_eq!(got, b"hello\r\nping");
    assert_eq!(
        events,
        vec![
            SocketEvent::ConnectionAttempt {
                address: "127.0.0.1".into(),
                port: Some(port),
                family: Some(4)
            },
            SocketEvent::Connect,
            SocketEvent::Ready,
            SocketEvent::Finish,
            SocketEvent::End,
            SocketEvent::Close {
                had_error: Some(false)
            },
        ]
    );
    assert_eq!(client.bytes_written(), 4);
    assert_eq!(client.bytes_read(), 11);
    let mut server = h.await;
    assert_eq!(server.connections(), 0);
    server.close().unwrap();
    assert!(matches!(next(&mut server).await, Some(ServerEvent::Close)));
    assert!(next(&mut server).await.is_none());
}

/// A server on `::1`: the accepted peer is IPv6 and the data arrives.
pub async fn ipv6_loopback<R: TestRuntime>() {
    let mut server = create_server::<R>(ServerOptions::default());
    server.listen(ListenOptions::port(0).host("::1")).unwrap();
    listening(&mut server).await;
    let port = tcp_port(&server);
    let h = <R as TestRuntime>::spawn(async move {
        let mut c = accept(&mut server).await;
        assert_eq!(c.remote_family(), Some(Family::IPv6));
        assert_eq!(c.local_address(), Some("::1".parse::<IpAddr>().unwrap()));
        c.end_with("v6");
        drain(&mut c).await;
    });
    let mut client = connect::<R>(ConnectOptions::tcp(port, "::1")).unwrap();
    let (data, events) = drain(&mut client).await;
    assert_eq!(data, b"v6");
    assert_eq!(
        events.last(),
        Some(&SocketEvent::Close {
            had_error: Some(false)
        })
    );
    h.await;
}

/// A server on `::` (bound synchronously, like Node) sees an IPv4 client as
/// `::ffff:127.0.0.1`.
pub async fn dual_stack_sees_mapped_ipv4_peer<R: TestRuntime>() {
    let mut server = create_server::<R>(ServerOptions::default());
    server.listen(ListenOptions::port(0)).unwrap();
    // Node binds `::` synchronously: listening and address are known at once.
    assert!(server.listening());
    let Some(Endpoint::Tcp(addr)) = server.address() else {
        panic!()
    };
    assert_eq!(addr.ip().to_string(), "::");
    listening(&mut server).await;
    let h = <R as TestRuntime>::spawn(async move {
        let mut c = accept(&mut server).await;
        let remote = c.remote_address().unwrap().to_string();
        c.end_with(remote.clone());
        drain(&mut c).await;
        remote
    });
    let mut client = connect::<R>(ConnectOptions::tcp(addr.port(), "127.0.0.1")).unwrap();
    let (data, _) = drain(&mut client).await;
    assert_eq!(data, b"::ffff:127.0.0.1");
    assert_eq!(h.await, "::ffff:127.0.0.1");
}

/// A Unix socket server: file modes from `readable_all`/`writable_all`, `EADDRINUSE` in
/// Node's words for a second server, data, and the file unlinked on close.
pub async fn unix_path_modes_unlink_and_eaddrinuse<R: TestRuntime>() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("echo.sock").to_str().unwrap().to_string();
    let mut server = create_server::<R>(ServerOptions::default());
    server
        .listen(
            ListenOptions::path(path.clone())
                .readable_all(true)
                .writable_all(true),
        )
        .unwrap();
    listening(&mut server).await;
    assert_eq!(server.address(), Some(Endpoint::Pipe(path.clone())));
    let mode = R::socket_file_mode(&path).expect("the socket file exists");
    assert_eq!(mode & 0o666, 0o666);

    // A second server on the same file: EADDRINUSE, Node's message.
    let mut second = create_server::<R>(ServerOptions::default());
    second.listen(ListenOptions::path(path.clone())).unwrap();
    match next(&mut second).await {
        Some(ServerEvent::Error(e)) => {
            assert_eq!(e.code(), ErrorCode::EADDRINUSE);
            assert_eq!(
                e.message(),
                format!("listen EADDRINUSE: address already in use {path}")
            );
        }
        other => panic!("expected EADDRINUSE, got {other:?}"),
    }

    let p2 = path.clone();
    let h = <R as TestRuntime>::spawn(async move {
        let mut client = connect::<R>(ConnectOptions::path(p2)).unwrap();
        client.write("over ipc");
        client.end().unwrap();
        drain(&mut client).await
    });
    let mut c = accept(&mut server).await;
    let (data, events) = drain(&mut c).await;
    assert_eq!(data, b"over ipc");
    assert_eq!(
        events.last(),
        Some(&SocketEvent::Close {
            had_error: Some(false)
        })
    );
    let (_, client_events) = h.await;
    assert!(client_events.contains(&SocketEvent::Connect));
    server.close().unwrap();
    assert_eq!(
        R::socket_file_mode(&path),
        None,
        "socket file unlinked on close"
    );
}

/// A Unix socket server on a Linux abstract name.
pub async fn unix_abstract_name<R: TestRuntime>() {
    let name = format!("\0nodenet-{}-{}", R::NAME, std::process::id());
    let mut server = create_server::<R>(ServerOptions::default());
    server.listen(ListenOptions::path(name.clone())).unwrap();
    listening(&mut server).await;
    let n2 = name.clone();
    let h = <R as TestRuntime>::spawn(async move {
        let mut client = connect::<R>(ConnectOptions::path(n2)).unwrap();
        drain(&mut client).await
    });
    let mut c = accept(&mut server).await;
    c.end_with("abstract");
    drain(&mut c).await;
    let (data, _) = h.await;
    assert_eq!(data, b"abstract");
}

/// `ECONNREFUSED` with Node's message, syscall and port, then `Close { had_error: true }`.
pub async fn connect_refused_is_node_shaped<R: TestRuntime>() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let mut client = connect::<R>(ConnectOptions::tcp(port, "127.0.0.1")).unwrap();
    let (_, events) = drain(&mut client).await;
    let err = first_error(&events, "an error event");
    assert_eq!(err.code(), ErrorCode::ECONNREFUSED);
    assert_eq!(
        err.message(),
        format!("connect ECONNREFUSED 127.0.0.1:{port}")
    );
    assert_eq!(err.syscall(), Some("connect"));
    assert_eq!(err.port(), Some(port));
    assert_eq!(
        events.last(),
        Some(&SocketEvent::Close {
            had_error: Some(true)
        })
    );
}

/// A host the system resolver cannot find: `getaddrinfo ENOTFOUND` (or `EAI_AGAIN` without
/// DNS), as Node prints it.
pub async fn system_lookup_failure_is_node_shaped<R: TestRuntime>() {
    let mut client = connect::<R>(ConnectOptions::tcp(80, "nodenet-no-such-host.invalid")).unwrap();
    let (_, events) = drain(&mut client).await;
    let err = first_error(&events, "an error event");
    // ENOTFOUND with a resolver; EAI_AGAIN on a machine without DNS (Node says the same).
    let code = err.code();
    assert!(
        matches!(code, ErrorCode::ENOTFOUND | ErrorCode::EAI_AGAIN),
        "{err:?}"
    );
    assert_eq!(
        err.message(),
        format!("getaddrinfo {code} nodenet-no-such-host.invalid")
    );
    assert_eq!(err.syscall(), Some("getaddrinfo"));
}

/// A custom `lookup` answers the host name and its answer is reported in `Lookup`.
pub async fn custom_lookup_is_used<R: TestRuntime>() {
    let (mut server, port) = loopback_server::<R>(ServerOptions::default()).await;
    let h = <R as TestRuntime>::spawn(async move {
        let mut c = accept(&mut server).await;
        c.end_with("found");
        drain(&mut c).await;
    });
    let mut client = Socket::<R>::new(SocketOptions::default());
    client.set_lookup(|host: &str, _o: LookupOptions| {
        assert_eq!(host, "my.service");
        Ok(vec![LookupAddress::new("127.0.0.1", 4)])
    });
    client
        .connect(ConnectOptions::tcp(port, "my.service"))
        .unwrap();
    let (data, events) = drain(&mut client).await;
    assert_eq!(data, b"found");
    assert!(events.contains(&SocketEvent::Lookup {
        error: None,
        address: Some("127.0.0.1".into()),
        family: Some(4),
        host: "my.service".into(),
    }));
    h.await;
}

/// Happy eyeballs: `::1` is closed, `127.0.0.1` listens, the connection lands on IPv4 and
/// both attempts are recorded.
pub async fn happy_eyeballs_falls_back_to_the_open_family<R: TestRuntime>() {
    // `::1` is closed, `127.0.0.1` listens: the connection lands on IPv4.
    let (mut server, port) = loopback_server::<R>(ServerOptions::default()).await;
    let h = <R as TestRuntime>::spawn(async move {
        let mut c = accept(&mut server).await;
        c.end_with("v4");
        drain(&mut c).await;
    });
    let mut client = Socket::<R>::new(SocketOptions::default());
    client.set_lookup(|_: &str, _o: LookupOptions| {
        Ok(vec![
            LookupAddress::new("::1", 6),
            LookupAddress::new("127.0.0.1", 4),
        ])
    });
    let mut opts = ConnectOptions::tcp(port, "dual.test");
    opts.auto_select_family = Some(true);
    client.connect(opts).unwrap();
    let (data, events) = drain(&mut client).await;
    assert_eq!(data, b"v4");
    assert!(events.iter().any(
        |e| matches!(e, SocketEvent::ConnectionAttemptFailed { address, .. } if address == "::1")
    ));
    assert_eq!(
        client.auto_select_family_attempted_addresses(),
        Some(vec![format!("::1:{port}"), format!("127.0.0.1:{port}")])
    );
    h.await;
}

/// `write` returns false past the high-water mark, and `Drain` comes once the peer read
/// everything.
pub async fn backpressure_and_drain<R: TestRuntime>() {
    // The server starts paused: nothing is read until the client saw write() == false.
    let opts = ServerOptions::new(SocketOptions {
        pause_on_connect: true,
        ..SocketOptions::default()
    });
    let (mut server, port) = loopback_server::<R>(opts).await;
    let (tx, rx) = std::sync::mpsc::channel::<()>();
    // The server reads only once the client hit the high-water mark.
    let h = <R as TestRuntime>::spawn(async move {
        accept_paused_until_signalled(&mut server, rx).await.len()
    });
    let mut client = connect::<R>(ConnectOptions::tcp(port, "127.0.0.1")).unwrap();
    let chunk = vec![7u8; 8 * 1024];
    let mut sent = 0usize;
    let mut saw_drain = false;
    while let Some(ev) = next(&mut client).await {
        match ev {
            SocketEvent::Connect => {
                // Fill the kernel buffers and the core queue past the high-water mark.
                loop {
                    sent += chunk.len();
                    if !client.write(chunk.clone()) {
                        break;
                    }
                    assert!(sent < 512 * 1024 * 1024, "write never returned false");
                }
                // Node counts a partly written write in full until it completes, so
                // what is left in the queue may be below the mark; Drain is owed.
                assert!(client.core().writable_need_drain());
                assert!(client.writable_length() > 0);
                tx.send(()).unwrap();
            }
            SocketEvent::Drain => {
                saw_drain = true;
                assert_eq!(client.writable_length(), 0);
                client.end().unwrap();
            }
            _ => {}
        }
    }
    assert!(saw_drain);
    assert_eq!(h.await, sent);
}

/// More queued chunks than one `sendmsg` takes arrive whole and in order.
pub async fn many_queued_chunks_arrive_whole_and_in_order<R: TestRuntime>() {
    // A big write fills the kernel buffers, so the small writes after it queue in the
    // core: more of them than one `sendmsg` takes (64 iovecs), sent in several.
    let opts = ServerOptions::new(SocketOptions {
        pause_on_connect: true,
        ..SocketOptions::default()
    });
    let (mut server, port) = loopback_server::<R>(opts).await;
    let (tx, rx) = std::sync::mpsc::channel::<()>();
    let h =
        <R as TestRuntime>::spawn(
            async move { accept_paused_until_signalled(&mut server, rx).await },
        );
    let fill = vec![0xAAu8; 8 * 1024 * 1024];
    let small: Vec<Vec<u8>> = (0..300u32)
        .map(|i| {
            let len = 1 + (i as usize * 37) % 1500;
            (0..len).map(|k| (i as usize + k) as u8).collect()
        })
        .collect();
    let mut client = connect::<R>(ConnectOptions::tcp(port, "127.0.0.1")).unwrap();
    while let Some(ev) = next(&mut client).await {
        if let SocketEvent::Connect = ev {
            let _ = client.write(fill.clone());
            for chunk in &small {
                let _ = client.write(chunk.clone());
            }
            assert!(client.writable_length() > 0, "nothing queued in the core");
            client.end().unwrap();
            tx.send(()).unwrap();
        }
    }
    let mut expected = fill;
    for chunk in &small {
        expected.extend_from_slice(chunk);
    }
    let got = h.await;
    assert_eq!(got.len(), expected.len());
    assert!(got == expected, "bytes differ from what was written");
}

/// Keep-alive and no-delay, from the server options and from calls, read back with
/// getsockopt as libuv sets them.
pub async fn keep_alive_and_no_delay_read_back<R: TestRuntime>() {
    let opts = ServerOptions::new(
        SocketOptions {
            no_delay: true,
            keep_alive: true,
            ..SocketOptions::default()
        }
        .keep_alive_initial_delay_ms(7000.0),
    );
    let (mut server, port) = loopback_server::<R>(opts).await;
    let h = <R as TestRuntime>::spawn(async move {
        let mut client = connect::<R>(ConnectOptions::tcp(port, "127.0.0.1")).unwrap();
        while let Some(ev) = next(&mut client).await {
            if ev == SocketEvent::Connect {
                client.set_keep_alive(true, 3000);
                client.set_no_delay(true);
                let (ka, nodelay) = client.keep_alive_settings().unwrap().unwrap();
                assert!(nodelay);
                assert_eq!(
                    (ka.enabled, ka.idle_secs, ka.interval_secs, ka.count),
                    (true, 3, 1, 10)
                );
                client.set_keep_alive(false, 0);
                let (ka, _) = client.keep_alive_settings().unwrap().unwrap();
                assert!(!ka.enabled);
                client.end().unwrap();
            }
        }
    });
    let mut c = accept(&mut server).await;
    // The options are applied at the first poll of the accepted socket.
    let mut checked = false;
    while let Some(ev) = next(&mut c).await {
        if !checked {
            let (ka, nodelay) = c.keep_alive_settings().unwrap().unwrap();
            assert!(nodelay);
            assert_eq!(
                (ka.enabled, ka.idle_secs, ka.interval_secs, ka.count),
                (true, 7, 1, 10)
            );
            checked = true;
        }
        let _ = ev;
    }
    assert!(checked);
    h.await;
}

/// `close()` stops listening but `Close` waits for the open connection, which still works.
pub async fn server_close_waits_for_the_connection<R: TestRuntime>() {
    let (mut server, port) = loopback_server::<R>(ServerOptions::default()).await;
    let h = <R as TestRuntime>::spawn(async move {
        let mut client = connect::<R>(ConnectOptions::tcp(port, "127.0.0.1")).unwrap();
        let mut got = Vec::new();
        while let Some(ev) = next(&mut client).await {
            if let SocketEvent::Data(d) = ev {
                got.extend_from_slice(&d);
                client.end().unwrap();
            }
        }
        got
    });
    let mut c = accept(&mut server).await;
    server.close().unwrap();
    assert!(!server.listening());
    assert_eq!(server.connections(), 1);
    // The connection still works after close().
    c.write("still here");
    let h2 = <R as TestRuntime>::spawn(async move {
        drain(&mut c).await;
    });
    // Close comes only after the connection closed.
    match next(&mut server).await {
        Some(ServerEvent::Close) => {}
        other => panic!("expected Close, got {other:?}"),
    }
    assert_eq!(server.connections(), 0);
    assert_eq!(h.await, b"still here");
    h2.await;
    assert!(next(&mut server).await.is_none());
}

/// `max_connections` drops the connection past the limit with Node's `drop` data, and
/// closes it.
pub async fn max_connections_drops_with_node_data<R: TestRuntime>() {
    let mut server = create_server::<R>(ServerOptions::default());
    server.set_max_connections(Some(1));
    server
        .listen(ListenOptions::port(0).host("127.0.0.1"))
        .unwrap();
    listening(&mut server).await;
    let port = tcp_port(&server);
    let first = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    let kept = accept(&mut server).await;
    let second = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    let second_port = second.local_addr().unwrap().port();
    match next(&mut server).await {
        Some(ServerEvent::Drop(Some(info))) => {
            assert_eq!(info.remote_address, "127.0.0.1");
            assert_eq!(info.remote_port, second_port);
            assert_eq!(info.local_port, port);
            assert_eq!(info.remote_family, Family::IPv4);
        }
        other => panic!("expected Drop, got {other:?}"),
    }
    // The dropped connection is closed by the server.
    use std::io::Read;
    second
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut buf = [0u8; 1];
    assert_eq!((&second).read(&mut buf).unwrap_or(0), 0);
    assert_eq!(server.connections(), 1);
    // The kept connection closes on another task (another thread on a multi-thread
    // runtime) while the server listens: the server is not woken for that, but the count
    // drops at once and the close is fed to the core before the next accept, so the
    // next connection is admitted, not dropped.
    <R as TestRuntime>::spawn(async move { drop(kept) }).await;
    assert_eq!(server.connections(), 0);
    let third = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    let admitted = accept(&mut server).await;
    assert_eq!(server.connections(), 1);
    drop(admitted);
    drop(third);
    drop(first);
}

/// `shutdown(deadline)` ends every connection, waits for the polite one, destroys the
/// stubborn one at the deadline.
pub async fn shutdown_ends_gracefully_then_destroys_at_deadline<R: TestRuntime>() {
    let (mut server, port) = loopback_server::<R>(ServerOptions::default()).await;
    // A polite client: ends when the server ends (allowHalfOpen false).
    let polite = <R as TestRuntime>::spawn(async move {
        let mut c = connect::<R>(ConnectOptions::tcp(port, "127.0.0.1")).unwrap();
        drain(&mut c).await.1
    });
    // A stubborn client: half-open, keeps its side open after the server's end
    // (it only gives up after a second of silence, long after the deadline).
    let stubborn = <R as TestRuntime>::spawn(async move {
        let mut c = Socket::<R>::new(SocketOptions {
            allow_half_open: true,
            ..SocketOptions::default()
        });
        c.connect(ConnectOptions::tcp(port, "127.0.0.1")).unwrap();
        c.set_timeout(1000).unwrap();
        let mut events = Vec::new();
        while let Some(ev) = next(&mut c).await {
            if ev == SocketEvent::Timeout {
                let _ = c.end();
            }
            events.push(ev);
        }
        events
    });
    let mut conns = Vec::new();
    for _ in 0..2 {
        let mut c = accept(&mut server).await;
        conns.push(<R as TestRuntime>::spawn(
            async move { drain(&mut c).await.1 },
        ));
    }
    assert_eq!(server.connections(), 2);
    let t0 = R::now();
    shutdown(&mut server, t0 + Duration::from_millis(300)).await;
    let took = R::now().duration_since(t0);
    assert!(
        took >= Duration::from_millis(250),
        "waited for the deadline: {took:?}"
    );
    assert!(took < Duration::from_secs(5));
    assert_eq!(server.connections(), 0);
    assert!(!server.listening());
    let polite = polite.await;
    assert!(polite.contains(&SocketEvent::End), "{polite:?}");
    let stubborn = stubborn.await;
    assert!(stubborn.contains(&SocketEvent::End), "{stubborn:?}");
    for h in conns {
        let events = h.await;
        assert!(matches!(events.last(), Some(SocketEvent::Close { .. })));
    }
}

/// Adopting a std listener and stream (`from_std`) and handing them back (`into_std`).
pub async fn from_std_and_into_std<R: TestRuntime>() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let mut server = Server::<R>::from_std(listener, ServerOptions::default()).unwrap();
    assert!(server.listening());
    assert_eq!(tcp_port(&server), port);
    listening(&mut server).await;
    let raw = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    let mut client = Socket::<R>::from_std(raw, SocketOptions::default()).unwrap();
    assert_eq!(client.remote_port(), Some(port));
    let mut c = accept(&mut server).await;
    c.write("via adopted listener");
    // Sent at once (like libuv's try-write), although `c` is not being polled.
    assert_eq!(c.writable_length(), 0);
    let mut got = Vec::new();
    while got.len() < 20 {
        match next(&mut client).await {
            Some(SocketEvent::Data(d)) => got.extend_from_slice(&d),
            Some(_) => {}
            None => break,
        }
    }
    assert_eq!(got, b"via adopted listener");
    let Some(StdStream::Tcp(mut raw)) = client.into_std().unwrap() else {
        panic!()
    };
    use std::io::Write;
    raw.set_nonblocking(false).unwrap();
    raw.write_all(b"raw again").unwrap();
    drop(raw);
    let (data, _) = drain(&mut c).await;
    assert_eq!(data, b"raw again");

    // The listener goes back to std and keeps accepting there.
    let Some(StdListener::Tcp(back)) = server.into_std().unwrap() else {
        panic!()
    };
    back.set_nonblocking(false).unwrap();
    let _peer = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    assert!(back.accept().is_ok());
}

/// A 64 KiB write on a fresh connection returns true with nothing queued and no `Drain`, as
/// in Node v20.
pub async fn write_dispatched_at_once_returns_true_like_node<R: TestRuntime>() {
    // Node v20: on a fresh connection `write(Buffer.alloc(65536))` returns true with
    // writableLength 0 (libuv's try-write took it all), and no 'drain' follows.
    let (mut server, port) = loopback_server::<R>(ServerOptions::default()).await;
    let h = <R as TestRuntime>::spawn(async move {
        let mut c = accept(&mut server).await;
        drain(&mut c).await.0.len()
    });
    let mut client = connect::<R>(ConnectOptions::tcp(port, "127.0.0.1")).unwrap();
    let mut events = Vec::new();
    while let Some(ev) = next(&mut client).await {
        if ev == SocketEvent::Connect {
            assert!(client.write(vec![0u8; 64 * 1024]));
            assert_eq!(client.writable_length(), 0);
            client.end().unwrap();
        }
        events.push(ev);
    }
    assert!(!events.contains(&SocketEvent::Drain));
    assert_eq!(h.await, 64 * 1024);
}

/// A block list closes a blocked peer on the server (`Blocked`) and refuses the connect on
/// the client (`ERR_IP_BLOCKED`).
pub async fn block_list_on_server_and_client<R: TestRuntime>() {
    let mut list = BlockList::new();
    list.add_address("127.0.0.1", "ipv4").unwrap();
    let list = std::sync::Arc::new(list);
    let (mut server, port) =
        loopback_server::<R>(ServerOptions::default().block_list(list.clone())).await;
    // Server side: the blocked peer is closed at once, never a Connection.
    let peer = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    match next(&mut server).await {
        Some(ServerEvent::Blocked {
            remote: Endpoint::Tcp(r),
            ..
        }) => {
            assert_eq!(r, peer.local_addr().unwrap());
        }
        other => panic!("expected Blocked, got {other:?}"),
    }
    use std::io::Read;
    peer.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    assert_eq!((&peer).read(&mut [0u8; 1]).unwrap_or(0), 0);
    assert_eq!(server.connections(), 0);
    // Client side: ERR_IP_BLOCKED before any connect(2).
    let mut opts = ConnectOptions::tcp(port, "127.0.0.1");
    opts.block_list = Some((*list).clone());
    let mut client = connect::<R>(opts).unwrap();
    let (_, events) = drain(&mut client).await;
    let err = first_error(&events, "an error event");
    assert_eq!(err.code(), ErrorCode::ERR_IP_BLOCKED);
}

/// The idle timeout fires, then `reset_and_destroy` sends an RST the client reports as
/// `read ECONNRESET`.
pub async fn reset_and_destroy_sends_rst_and_idle_timeout_fires<R: TestRuntime>() {
    let (mut server, port) = loopback_server::<R>(ServerOptions::default()).await;
    let h = <R as TestRuntime>::spawn(async move {
        let mut c = accept(&mut server).await;
        // Idle for 50 ms: Timeout (nothing closes), then reset the connection.
        c.set_timeout(50).unwrap();
        let t0 = R::now();
        loop {
            match next(&mut c).await {
                Some(SocketEvent::Timeout) => break,
                Some(_) => {}
                None => panic!("closed before the timeout"),
            }
        }
        assert!(R::now().duration_since(t0) >= Duration::from_millis(45));
        c.reset_and_destroy().unwrap();
        drain(&mut c).await.1
    });
    let mut client = connect::<R>(ConnectOptions::tcp(port, "127.0.0.1")).unwrap();
    let (_, events) = drain(&mut client).await;
    let err = first_error(&events, "the peer's RST is an error");
    assert_eq!(err.code(), ErrorCode::ECONNRESET);
    assert_eq!(err.message(), "read ECONNRESET");
    assert_eq!(
        events.last(),
        Some(&SocketEvent::Close {
            had_error: Some(true)
        })
    );
    let server_side = h.await;
    assert_eq!(
        server_side.last(),
        Some(&SocketEvent::Close {
            had_error: Some(false)
        })
    );
}

/// `destroy()` then `connect()` starts a fresh lifecycle on the same socket.
pub async fn connect_again_after_destroy<R: TestRuntime>() {
    // Node: `socket.destroy(); socket.connect(...)` starts a fresh lifecycle.
    let (mut server, port) = loopback_server::<R>(ServerOptions::default()).await;
    let h = <R as TestRuntime>::spawn(async move {
        for _ in 0..2 {
            let mut c = accept(&mut server).await;
            c.end_with("hi");
            drain(&mut c).await;
        }
    });
    let mut client = connect::<R>(ConnectOptions::tcp(port, "127.0.0.1")).unwrap();
    loop {
        match next(&mut client).await {
            Some(SocketEvent::Connect) => break,
            Some(_) => {}
            None => panic!("closed before connecting"),
        }
    }
    client.destroy(None);
    client
        .connect(ConnectOptions::tcp(port, "127.0.0.1"))
        .unwrap();
    let (data, events) = drain(&mut client).await;
    // The first lifecycle's Close, then the second one connects and reads.
    let closed = events.iter().position(|e| {
        *e == SocketEvent::Close {
            had_error: Some(false),
        }
    });
    let connected = events.iter().position(|e| *e == SocketEvent::Connect);
    assert!(
        matches!((closed, connected), (Some(a), Some(b)) if a < b),
        "{events:?}"
    );
    assert_eq!(data, b"hi");
    h.await;
}

/// 40 clients at once, each echoed back whole and in order; the server counts them in and
/// out.
pub async fn many_concurrent_echo_clients<R: TestRuntime>() {
    // 40 clients at once, each sends 32 KiB in 4 KiB writes and expects it echoed
    // back whole and in order; the server counts them in and out.
    const CLIENTS: usize = 40;
    const BYTES: usize = 32 * 1024;
    let (mut server, port) = loopback_server::<R>(ServerOptions::default()).await;
    let mut clients = Vec::new();
    for i in 0..CLIENTS {
        clients.push(<R as TestRuntime>::spawn(async move {
            let mut c = connect::<R>(ConnectOptions::tcp(port, "127.0.0.1")).unwrap();
            let payload: Vec<u8> = (0..BYTES).map(|j| (i + j) as u8).collect();
            let mut got = Vec::new();
            while let Some(ev) = next(&mut c).await {
                match ev {
                    SocketEvent::Connect => {
                        for chunk in payload.chunks(4096) {
                            c.write(chunk.to_vec());
                        }
                    }
                    SocketEvent::Data(d) => {
                        got.extend_from_slice(&d);
                        if got.len() == BYTES {
                            c.end().unwrap();
                        }
                    }
                    _ => {}
                }
            }
            got == payload
        }));
    }
    let mut conns = Vec::new();
    for _ in 0..CLIENTS {
        let mut c = accept(&mut server).await;
        conns.push(<R as TestRuntime>::spawn(async move {
            echo(&mut c).await;
        }));
    }
    for h in clients {
        assert!(h.await, "a client got its bytes back wrong");
    }
    for h in conns {
        h.await;
    }
    server.close().unwrap();
    assert!(matches!(next(&mut server).await, Some(ServerEvent::Close)));
    assert_eq!(server.connections(), 0);
}

/// `{host: 'localhost', family: 6, hints: dns.V4MAPPED}` reaches a server listening on
/// every address through `::ffff:127.0.0.1` when the name has only an IPv4 address.
pub async fn family_6_with_v4mapped_reaches_an_ipv4_only_name<R: TestRuntime>() {
    // Node (run here, /etc/hosts with only `127.0.0.1 localhost`): `{host:
    // 'localhost', family: 6, hints: dns.V4MAPPED}` looks up ::ffff:127.0.0.1 and
    // connects to it. A machine whose hosts file also maps ::1 answers that instead.
    let mut server = create_server::<R>(ServerOptions::default());
    server.listen(ListenOptions::port(0)).unwrap();
    let port = tcp_port(&server);
    listening(&mut server).await;
    let h = <R as TestRuntime>::spawn(async move {
        let mut c = accept(&mut server).await;
        c.end_with("mapped");
        drain(&mut c).await;
    });
    let mut opts = ConnectOptions::tcp(port, "localhost");
    opts.family = 6;
    opts.hints = nodenet_core::dns::V4MAPPED;
    let mut client = connect::<R>(opts).unwrap();
    let (data, events) = drain(&mut client).await;
    assert_eq!(data, b"mapped", "{events:?}");
    let looked_up = events.iter().find_map(|e| match e {
        SocketEvent::Lookup {
            address,
            family,
            error: None,
            ..
        } => Some((address.clone(), *family)),
        _ => None,
    });
    let (address, family) = looked_up.expect("a Lookup event");
    assert_eq!(family, Some(6));
    let address = address.unwrap_or_default();
    assert!(
        address == "::ffff:127.0.0.1" || address == "::1",
        "{address}"
    );
    h.await;
}

/// Bytes queued by Node-style `write()` before the socket is dropped are all delivered,
/// in order, then a clean end-of-stream.
pub async fn bytes_written_before_a_drop_are_delivered_then_the_fin<R: TestRuntime>() {
    // Node-style write() queues everything; dropping the socket must not discard
    // the queue: the peer reads all of it, then a clean end-of-stream.
    // The peer reads only after the drop, so most of the bytes are still queued then.
    let (mut server, port) = loopback_server::<R>(ServerOptions::default()).await;
    let (start, started) = std::sync::mpsc::channel();
    let peer = read_to_end_on_thread(port, Some(started));
    let mut c = accept(&mut server).await;
    assert!(
        !c.write(pattern(DROPPED_WRITE)),
        "above the high-water mark"
    );
    assert!(c.writable_length() > 0, "still queued when dropped");
    drop(c);
    start.send(()).unwrap();
    let got = join_thread::<R, _>(peer).await.unwrap();
    assert_eq!(got.len(), DROPPED_WRITE);
    assert!(got == pattern(DROPPED_WRITE), "in order, intact");
}

/// A client written to and dropped before it was ever polled (so before it connected)
/// still connects in the background and delivers its bytes, then the FIN, as Node's
/// `net.connect(port).end(data)` does without a reference kept.
pub async fn a_client_dropped_before_its_first_poll_still_delivers<R: TestRuntime>() {
    let (mut server, port) = loopback_server::<R>(ServerOptions::default()).await;
    let mut client = connect::<R>(ConnectOptions::tcp(port, "127.0.0.1")).unwrap();
    client.write("written before the connect");
    drop(client);
    let mut c = accept(&mut server).await;
    let (data, events) = drain(&mut c).await;
    assert_eq!(data, b"written before the connect", "{events:?}");
    assert!(events.contains(&SocketEvent::End), "{events:?}");
}

/// Registers every loopback test for runtime `$runtime` (one `#[test]` per body above).
#[macro_export]
macro_rules! loopback_tests {
    ($runtime:ty) => {
        $crate::register_tests!($runtime => loopback {
            only_tracked_writes_get_write_done,
            ipv4_echo_data_end_close,
            ipv6_loopback,
            dual_stack_sees_mapped_ipv4_peer,
            unix_path_modes_unlink_and_eaddrinuse,
            unix_abstract_name,
            connect_refused_is_node_shaped,
            system_lookup_failure_is_node_shaped,
            custom_lookup_is_used,
            happy_eyeballs_falls_back_to_the_open_family,
            backpressure_and_drain,
            many_queued_chunks_arrive_whole_and_in_order,
            keep_alive_and_no_delay_read_back,
            server_close_waits_for_the_connection,
            max_connections_drops_with_node_data,
            shutdown_ends_gracefully_then_destroys_at_deadline,
            from_std_and_into_std,
            write_dispatched_at_once_returns_true_like_node,
            block_list_on_server_and_client,
            reset_and_destroy_sends_rst_and_idle_timeout_fires,
            connect_again_after_destroy,
            many_concurrent_echo_clients,
            family_6_with_v4mapped_reaches_an_ipv4_only_name,
            bytes_written_before_a_drop_are_delivered_then_the_fin,
            a_client_dropped_before_its_first_poll_still_delivers,
        });
    };
}
