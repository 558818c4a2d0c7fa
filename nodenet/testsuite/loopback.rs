// The loopback suite shared by the three backends: each backend's `tests/loopback.rs`
// `include!`s its harness (`tests/harness/<backend>.rs`: `nn_test!` (test attribute +
// timeout), `next!` (`.next_event()` with or without `.await`), `spawn!`/`join!` (a task
// or a thread), `sleep_ms!` and `shutdown!`), then `macros.rs`, then this file, so every
// scenario is written once and runs on std, smol and tokio. Every test is bounded by
// `TEST_TIMEOUT`; the tests do not count process-wide resources, so they run in parallel
// (`SERIAL` is false).

/// The bound on each test (the harness's `nn_test!` fails a test that takes longer).
const TEST_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(20);
/// Whether the tests of this binary hold the harness's binary-wide lock.
const SERIAL: bool = false;

nn_test! {
    fn only_tracked_writes_get_write_done() {
        let (mut server, port) = loopback_server!();
        let h = spawn!({
            let mut c = accept!(server);
            let (data, _) = drain!(c);
            assert_eq!(data, b"plain tracked plain");
            server
        });
        let mut client = connect(ConnectOptions::tcp(port, "127.0.0.1")).unwrap();
        let mut tracked = None;
        let mut done = Vec::new();
        while let Some(ev) = next!(client) {
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
        let mut server = join!(h);
        server.close().unwrap();
    }
}

nn_test! {
    fn ipv4_echo_data_end_close() {
        let (mut server, port) = loopback_server!();
        let h = spawn!({
            let mut c = accept!(server);
            assert_eq!(c.remote_address(), Some("127.0.0.1".parse::<IpAddr>().unwrap()));
            c.write("hello\r\n");
            echo!(c);
            server
        });
        let mut client = connect(ConnectOptions::tcp(port, "127.0.0.1")).unwrap();
        let mut got = Vec::new();
        let mut events = Vec::new();
        while let Some(ev) = next!(client) {
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
                SocketEvent::ConnectionAttempt { address: "127.0.0.1".into(), port: Some(port), family: Some(4) },
                SocketEvent::Connect,
                SocketEvent::Ready,
                SocketEvent::Finish,
                SocketEvent::End,
                SocketEvent::Close { had_error: Some(false) },
            ]
        );
        assert_eq!(client.bytes_written(), 4);
        assert_eq!(client.bytes_read(), 11);
        let mut server = join!(h);
        assert_eq!(server.connections(), 0);
        server.close().unwrap();
        assert!(matches!(next!(server), Some(ServerEvent::Close)));
        assert!(next!(server).is_none());
    }
}

nn_test! {
    fn ipv6_loopback() {
        let mut server = create_server(ServerOptions::default());
        server.listen(ListenOptions::port(0).host("::1")).unwrap();
        listening!(server);
        let port = tcp_port!(server);
        let h = spawn!({
            let mut c = accept!(server);
            assert_eq!(c.remote_family(), Some(Family::IPv6));
            assert_eq!(c.local_address(), Some("::1".parse::<IpAddr>().unwrap()));
            c.end_with("v6");
            drain!(c);
        });
        let mut client = connect(ConnectOptions::tcp(port, "::1")).unwrap();
        let (data, events) = drain!(client);
        assert_eq!(data, b"v6");
        assert_eq!(events.last(), Some(&SocketEvent::Close { had_error: Some(false) }));
        join!(h);
    }
}

nn_test! {
    fn dual_stack_sees_mapped_ipv4_peer() {
        let mut server = create_server(ServerOptions::default());
        server.listen(ListenOptions::port(0)).unwrap();
        // Node binds `::` synchronously: listening and address are known at once.
        assert!(server.listening());
        let Some(Endpoint::Tcp(addr)) = server.address() else { panic!() };
        assert_eq!(addr.ip().to_string(), "::");
        listening!(server);
        let h = spawn!({
            let mut c = accept!(server);
            let remote = c.remote_address().unwrap().to_string();
            c.end_with(remote.clone());
            drain!(c);
            remote
        });
        let mut client = connect(ConnectOptions::tcp(addr.port(), "127.0.0.1")).unwrap();
        let (data, _) = drain!(client);
        assert_eq!(data, b"::ffff:127.0.0.1");
        assert_eq!(join!(h), "::ffff:127.0.0.1");
    }
}

nn_test! {
    fn family_6_with_v4mapped_reaches_an_ipv4_only_name() {
        // Node (run here, /etc/hosts with only `127.0.0.1 localhost`): `{host:
        // 'localhost', family: 6, hints: dns.V4MAPPED}` looks up ::ffff:127.0.0.1 and
        // connects to it. A machine whose hosts file also maps ::1 answers that instead.
        let mut server = create_server(ServerOptions::default());
        server.listen(ListenOptions::port(0)).unwrap();
        let port = tcp_port!(server);
        listening!(server);
        let h = spawn!({
            let mut c = accept!(server);
            c.end_with("mapped");
            drain!(c);
        });
        let mut opts = ConnectOptions::tcp(port, "localhost");
        opts.family = 6;
        opts.hints = nodenet_core::dns::V4MAPPED;
        let mut client = connect(opts).unwrap();
        let (data, events) = drain!(client);
        assert_eq!(data, b"mapped", "{events:?}");
        let looked_up = events.iter().find_map(|e| match e {
            SocketEvent::Lookup { address, family, error: None, .. } => Some((address.clone(), *family)),
            _ => None,
        });
        let (address, family) = looked_up.expect("a Lookup event");
        assert_eq!(family, Some(6));
        let address = address.unwrap_or_default();
        assert!(address == "::ffff:127.0.0.1" || address == "::1", "{address}");
        join!(h);
    }
}

nn_test! {
    fn unix_path_modes_unlink_and_eaddrinuse() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("echo.sock").to_str().unwrap().to_string();
        let mut server = create_server(ServerOptions::default());
        server
            .listen(ListenOptions::path(path.clone()).readable_all(true).writable_all(true))
            .unwrap();
        listening!(server);
        assert_eq!(server.address(), Some(Endpoint::Pipe(path.clone())));
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o666, 0o666);

        // A second server on the same file: EADDRINUSE, Node's message.
        let mut second = create_server(ServerOptions::default());
        second.listen(ListenOptions::path(path.clone())).unwrap();
        match next!(second) {
            Some(ServerEvent::Error(e)) => {
                assert_eq!(e.code(), ErrorCode::EADDRINUSE);
                assert_eq!(e.message(), format!("listen EADDRINUSE: address already in use {path}"));
            }
            other => panic!("expected EADDRINUSE, got {other:?}"),
        }

        let p2 = path.clone();
        let h = spawn!({
            let mut client = connect(ConnectOptions::path(p2)).unwrap();
            client.write("over ipc");
            client.end().unwrap();
            drain!(client)
        });
        let mut c = accept!(server);
        let (data, events) = drain!(c);
        assert_eq!(data, b"over ipc");
        assert_eq!(events.last(), Some(&SocketEvent::Close { had_error: Some(false) }));
        let (_, client_events) = join!(h);
        assert!(client_events.contains(&SocketEvent::Connect));
        server.close().unwrap();
        assert!(!std::path::Path::new(&path).exists(), "socket file unlinked on close");
    }
}

nn_test! {
    fn unix_abstract_name() {
        let name = format!("\0nodenet-{}-{}", BACKEND, std::process::id());
        let mut server = create_server(ServerOptions::default());
        server.listen(ListenOptions::path(name.clone())).unwrap();
        listening!(server);
        let n2 = name.clone();
        let h = spawn!({
            let mut client = connect(ConnectOptions::path(n2)).unwrap();
            drain!(client)
        });
        let mut c = accept!(server);
        c.end_with("abstract");
        drain!(c);
        let (data, _) = join!(h);
        assert_eq!(data, b"abstract");
    }
}

nn_test! {
    fn connect_refused_is_node_shaped() {
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let mut client = connect(ConnectOptions::tcp(port, "127.0.0.1")).unwrap();
        let (_, events) = drain!(client);
        let err = events
            .iter()
            .find_map(|e| match e {
                SocketEvent::Error(e) => Some(e.clone()),
                _ => None,
            })
            .expect("an error event");
        assert_eq!(err.code(), ErrorCode::ECONNREFUSED);
        assert_eq!(err.message(), format!("connect ECONNREFUSED 127.0.0.1:{port}"));
        assert_eq!(err.syscall(), Some("connect"));
        assert_eq!(err.port(), Some(port));
        assert_eq!(events.last(), Some(&SocketEvent::Close { had_error: Some(true) }));
    }
}

nn_test! {
    fn system_lookup_failure_is_node_shaped() {
        let mut client = connect(ConnectOptions::tcp(80, "nodenet-no-such-host.invalid")).unwrap();
        let (_, events) = drain!(client);
        let err = events
            .iter()
            .find_map(|e| match e {
                SocketEvent::Error(e) => Some(e.clone()),
                _ => None,
            })
            .expect("an error event");
        // ENOTFOUND with a resolver; EAI_AGAIN on a machine without DNS (Node says the same).
        let code = err.code();
        assert!(matches!(code, ErrorCode::ENOTFOUND | ErrorCode::EAI_AGAIN), "{err:?}");
        assert_eq!(err.message(), format!("getaddrinfo {code} nodenet-no-such-host.invalid"));
        assert_eq!(err.syscall(), Some("getaddrinfo"));
    }
}

nn_test! {
    fn custom_lookup_is_used() {
        let (mut server, port) = loopback_server!();
        let h = spawn!({
            let mut c = accept!(server);
            c.end_with("found");
            drain!(c);
        });
        let mut client = Socket::new(SocketOptions::default());
        client.set_lookup(|host: &str, _o: LookupOptions| {
            assert_eq!(host, "my.service");
            Ok(vec![LookupAddress::new("127.0.0.1", 4)])
        });
        client.connect(ConnectOptions::tcp(port, "my.service")).unwrap();
        let (data, events) = drain!(client);
        assert_eq!(data, b"found");
        assert!(events.contains(&SocketEvent::Lookup {
            error: None,
            address: Some("127.0.0.1".into()),
            family: Some(4),
            host: "my.service".into(),
        }));
        join!(h);
    }
}

nn_test! {
    fn happy_eyeballs_falls_back_to_the_open_family() {
        // `::1` is closed, `127.0.0.1` listens: the connection lands on IPv4.
        let (mut server, port) = loopback_server!();
        let h = spawn!({
            let mut c = accept!(server);
            c.end_with("v4");
            drain!(c);
        });
        let mut client = Socket::new(SocketOptions::default());
        client.set_lookup(|_: &str, _o: LookupOptions| {
            Ok(vec![LookupAddress::new("::1", 6), LookupAddress::new("127.0.0.1", 4)])
        });
        let mut opts = ConnectOptions::tcp(port, "dual.test");
        opts.auto_select_family = Some(true);
        client.connect(opts).unwrap();
        let (data, events) = drain!(client);
        assert_eq!(data, b"v4");
        assert!(events.iter().any(|e| matches!(e, SocketEvent::ConnectionAttemptFailed { address, .. } if address == "::1")));
        assert_eq!(
            client.auto_select_family_attempted_addresses(),
            Some(vec![format!("::1:{port}"), format!("127.0.0.1:{port}")])
        );
        join!(h);
    }
}

nn_test! {
    fn backpressure_and_drain() {
        // The server starts paused: nothing is read until the client saw write() == false.
        let opts = ServerOptions::new(SocketOptions { pause_on_connect: true, ..SocketOptions::default() });
        let (mut server, port) = loopback_server!(opts);
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        // The server reads only once the client hit the high-water mark.
        let h = spawn!({ accept_paused_until_signalled!(server, rx).len() });
        let mut client = connect(ConnectOptions::tcp(port, "127.0.0.1")).unwrap();
        let chunk = vec![7u8; 8 * 1024];
        let mut sent = 0usize;
        let mut saw_drain = false;
        while let Some(ev) = next!(client) {
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
        assert_eq!(join!(h), sent);
    }
}

nn_test! {
    fn many_queued_chunks_arrive_whole_and_in_order() {
        // A big write fills the kernel buffers, so the small writes after it queue in the
        // core: more of them than one `sendmsg` takes (64 iovecs), sent in several.
        let opts = ServerOptions::new(SocketOptions { pause_on_connect: true, ..SocketOptions::default() });
        let (mut server, port) = loopback_server!(opts);
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        let h = spawn!({ accept_paused_until_signalled!(server, rx) });
        let fill = vec![0xAAu8; 8 * 1024 * 1024];
        let small: Vec<Vec<u8>> = (0..300u32)
            .map(|i| {
                let len = 1 + (i as usize * 37) % 1500;
                (0..len).map(|k| (i as usize + k) as u8).collect()
            })
            .collect();
        let mut client = connect(ConnectOptions::tcp(port, "127.0.0.1")).unwrap();
        while let Some(ev) = next!(client) {
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
        let got = join!(h);
        assert_eq!(got.len(), expected.len());
        assert!(got == expected, "bytes differ from what was written");
    }
}

nn_test! {
    fn keep_alive_and_no_delay_read_back() {
        let opts = ServerOptions::new(
            SocketOptions { no_delay: true, keep_alive: true, ..SocketOptions::default() }
                .keep_alive_initial_delay_ms(7000.0),
        );
        let (mut server, port) = loopback_server!(opts);
        let h = spawn!({
            let mut client = connect(ConnectOptions::tcp(port, "127.0.0.1")).unwrap();
            while let Some(ev) = next!(client) {
                if ev == SocketEvent::Connect {
                    client.set_keep_alive(true, 3000);
                    client.set_no_delay(true);
                    let (ka, nodelay) = client.keep_alive_settings().unwrap().unwrap();
                    assert!(nodelay);
                    assert_eq!((ka.enabled, ka.idle_secs, ka.interval_secs, ka.count), (true, 3, 1, 10));
                    client.set_keep_alive(false, 0);
                    let (ka, _) = client.keep_alive_settings().unwrap().unwrap();
                    assert!(!ka.enabled);
                    client.end().unwrap();
                }
            }
        });
        let mut c = accept!(server);
        // The options are applied at the first poll of the accepted socket.
        let mut checked = false;
        while let Some(ev) = next!(c) {
            if !checked {
                let (ka, nodelay) = c.keep_alive_settings().unwrap().unwrap();
                assert!(nodelay);
                assert_eq!((ka.enabled, ka.idle_secs, ka.interval_secs, ka.count), (true, 7, 1, 10));
                checked = true;
            }
            let _ = ev;
        }
        assert!(checked);
        join!(h);
    }
}

nn_test! {
    fn server_close_waits_for_the_connection() {
        let (mut server, port) = loopback_server!();
        let h = spawn!({
            let mut client = connect(ConnectOptions::tcp(port, "127.0.0.1")).unwrap();
            let mut got = Vec::new();
            while let Some(ev) = next!(client) {
                if let SocketEvent::Data(d) = ev {
                    got.extend_from_slice(&d);
                    client.end().unwrap();
                }
            }
            got
        });
        let mut c = accept!(server);
        server.close().unwrap();
        assert!(!server.listening());
        assert_eq!(server.connections(), 1);
        // The connection still works after close().
        c.write("still here");
        let h2 = spawn!({
            drain!(c);
        });
        // Close comes only after the connection closed.
        match next!(server) {
            Some(ServerEvent::Close) => {}
            other => panic!("expected Close, got {other:?}"),
        }
        assert_eq!(server.connections(), 0);
        assert_eq!(join!(h), b"still here");
        join!(h2);
        assert!(next!(server).is_none());
    }
}

nn_test! {
    fn max_connections_drops_with_node_data() {
        let mut server = create_server(ServerOptions::default());
        server.set_max_connections(Some(1));
        server.listen(ListenOptions::port(0).host("127.0.0.1")).unwrap();
        listening!(server);
        let port = tcp_port!(server);
        let first = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        let kept = accept!(server);
        let second = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        let second_port = second.local_addr().unwrap().port();
        match next!(server) {
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
        second.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut buf = [0u8; 1];
        assert_eq!((&second).read(&mut buf).unwrap_or(0), 0);
        assert_eq!(server.connections(), 1);
        drop(kept);
        drop(first);
    }
}

nn_test! {
    fn shutdown_ends_gracefully_then_destroys_at_deadline() {
        let (mut server, port) = loopback_server!();
        // A polite client: ends when the server ends (allowHalfOpen false).
        let polite = spawn!({
            let mut c = connect(ConnectOptions::tcp(port, "127.0.0.1")).unwrap();
            drain!(c).1
        });
        // A stubborn client: half-open, keeps its side open after the server's end
        // (it only gives up after a second of silence, long after the deadline).
        let stubborn = spawn!({
            let mut c = Socket::new(SocketOptions { allow_half_open: true, ..SocketOptions::default() });
            c.connect(ConnectOptions::tcp(port, "127.0.0.1")).unwrap();
            c.set_timeout(1000).unwrap();
            let mut events = Vec::new();
            while let Some(ev) = next!(c) {
                if ev == SocketEvent::Timeout {
                    let _ = c.end();
                }
                events.push(ev);
            }
            events
        });
        let mut conns = Vec::new();
        for _ in 0..2 {
            let mut c = accept!(server);
            conns.push(spawn!({
                drain!(c).1
            }));
        }
        assert_eq!(server.connections(), 2);
        let t0 = Instant::now();
        shutdown!(server, t0 + Duration::from_millis(300));
        let took = t0.elapsed();
        assert!(took >= Duration::from_millis(250), "waited for the deadline: {took:?}");
        assert!(took < Duration::from_secs(5));
        assert_eq!(server.connections(), 0);
        assert!(!server.listening());
        let polite = join!(polite);
        assert!(polite.contains(&SocketEvent::End), "{polite:?}");
        let stubborn = join!(stubborn);
        assert!(stubborn.contains(&SocketEvent::End), "{stubborn:?}");
        for h in conns {
            let events = join!(h);
            assert!(matches!(events.last(), Some(SocketEvent::Close { .. })));
        }
    }
}

nn_test! {
    fn from_std_and_into_std() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let mut server = Server::from_std(listener, ServerOptions::default()).unwrap();
        assert!(server.listening());
        assert_eq!(tcp_port!(server), port);
        listening!(server);
        let raw = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        let mut client = Socket::from_std(raw, SocketOptions::default()).unwrap();
        assert_eq!(client.remote_port(), Some(port));
        let mut c = accept!(server);
        c.write("via adopted listener");
        // Sent at once (like libuv's try-write), although `c` is not being polled.
        assert_eq!(c.writable_length(), 0);
        let mut got = Vec::new();
        while got.len() < 20 {
            match next!(client) {
                Some(SocketEvent::Data(d)) => got.extend_from_slice(&d),
                Some(_) => {}
                None => break,
            }
        }
        assert_eq!(got, b"via adopted listener");
        let Some(StdStream::Tcp(mut raw)) = client.into_std().unwrap() else { panic!() };
        use std::io::Write;
        raw.set_nonblocking(false).unwrap();
        raw.write_all(b"raw again").unwrap();
        drop(raw);
        let (data, _) = drain!(c);
        assert_eq!(data, b"raw again");

        // The listener goes back to std and keeps accepting there.
        let Some(StdListener::Tcp(back)) = server.into_std().unwrap() else { panic!() };
        back.set_nonblocking(false).unwrap();
        let _peer = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        assert!(back.accept().is_ok());
    }
}

nn_test! {
    fn write_dispatched_at_once_returns_true_like_node() {
        // Node v20: on a fresh connection `write(Buffer.alloc(65536))` returns true with
        // writableLength 0 (libuv's try-write took it all), and no 'drain' follows.
        let (mut server, port) = loopback_server!();
        let h = spawn!({
            let mut c = accept!(server);
            drain!(c).0.len()
        });
        let mut client = connect(ConnectOptions::tcp(port, "127.0.0.1")).unwrap();
        let mut events = Vec::new();
        while let Some(ev) = next!(client) {
            if ev == SocketEvent::Connect {
                assert!(client.write(vec![0u8; 64 * 1024]));
                assert_eq!(client.writable_length(), 0);
                client.end().unwrap();
            }
            events.push(ev);
        }
        assert!(!events.contains(&SocketEvent::Drain));
        assert_eq!(join!(h), 64 * 1024);
    }
}

nn_test! {
    fn block_list_on_server_and_client() {
        let mut list = BlockList::new();
        list.add_address("127.0.0.1", "ipv4").unwrap();
        let list = std::sync::Arc::new(list);
        let (mut server, port) = loopback_server!(ServerOptions::default().block_list(list.clone()));
        // Server side: the blocked peer is closed at once, never a Connection.
        let peer = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        match next!(server) {
            Some(ServerEvent::Blocked { remote: Endpoint::Tcp(r), .. }) => {
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
        let mut client = connect(opts).unwrap();
        let (_, events) = drain!(client);
        let err = events
            .iter()
            .find_map(|e| match e {
                SocketEvent::Error(e) => Some(e.clone()),
                _ => None,
            })
            .expect("an error event");
        assert_eq!(err.code(), ErrorCode::ERR_IP_BLOCKED);
    }
}

nn_test! {
    fn reset_and_destroy_sends_rst_and_idle_timeout_fires() {
        let (mut server, port) = loopback_server!();
        let h = spawn!({
            let mut c = accept!(server);
            // Idle for 50 ms: Timeout (nothing closes), then reset the connection.
            c.set_timeout(50).unwrap();
            let t0 = Instant::now();
            loop {
                match next!(c) {
                    Some(SocketEvent::Timeout) => break,
                    Some(_) => {}
                    None => panic!("closed before the timeout"),
                }
            }
            assert!(t0.elapsed() >= Duration::from_millis(45));
            c.reset_and_destroy().unwrap();
            drain!(c).1
        });
        let mut client = connect(ConnectOptions::tcp(port, "127.0.0.1")).unwrap();
        let (_, events) = drain!(client);
        let err = events
            .iter()
            .find_map(|e| match e {
                SocketEvent::Error(e) => Some(e.clone()),
                _ => None,
            })
            .expect("the peer's RST is an error");
        assert_eq!(err.code(), ErrorCode::ECONNRESET);
        assert_eq!(err.message(), "read ECONNRESET");
        assert_eq!(events.last(), Some(&SocketEvent::Close { had_error: Some(true) }));
        let server_side = join!(h);
        assert_eq!(server_side.last(), Some(&SocketEvent::Close { had_error: Some(false) }));
    }
}

nn_test! {
    fn connect_again_after_destroy() {
        // Node: `socket.destroy(); socket.connect(...)` starts a fresh lifecycle.
        let (mut server, port) = loopback_server!();
        let h = spawn!({
            for _ in 0..2 {
                let mut c = accept!(server);
                c.end_with("hi");
                drain!(c);
            }
        });
        let mut client = connect(ConnectOptions::tcp(port, "127.0.0.1")).unwrap();
        loop {
            match next!(client) {
                Some(SocketEvent::Connect) => break,
                Some(_) => {}
                None => panic!("closed before connecting"),
            }
        }
        client.destroy(None);
        client.connect(ConnectOptions::tcp(port, "127.0.0.1")).unwrap();
        let (data, events) = drain!(client);
        // The first lifecycle's Close, then the second one connects and reads.
        let closed = events.iter().position(|e| *e == SocketEvent::Close { had_error: Some(false) });
        let connected = events.iter().position(|e| *e == SocketEvent::Connect);
        assert!(matches!((closed, connected), (Some(a), Some(b)) if a < b), "{events:?}");
        assert_eq!(data, b"hi");
        join!(h);
    }
}

nn_test! {
    fn many_concurrent_echo_clients() {
        // 40 clients at once, each sends 32 KiB in 4 KiB writes and expects it echoed
        // back whole and in order; the server counts them in and out.
        const CLIENTS: usize = 40;
        const BYTES: usize = 32 * 1024;
        let (mut server, port) = loopback_server!();
        let mut clients = Vec::new();
        for i in 0..CLIENTS {
            clients.push(spawn!({
                let mut c = connect(ConnectOptions::tcp(port, "127.0.0.1")).unwrap();
                let payload: Vec<u8> = (0..BYTES).map(|j| (i + j) as u8).collect();
                let mut got = Vec::new();
                while let Some(ev) = next!(c) {
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
            let mut c = accept!(server);
            conns.push(spawn!({
                echo!(c);
            }));
        }
        for h in clients {
            assert!(join!(h), "a client got its bytes back wrong");
        }
        for h in conns {
            join!(h);
        }
        server.close().unwrap();
        assert!(matches!(next!(server), Some(ServerEvent::Close)));
        assert_eq!(server.connections(), 0);
    }
}

/// Bytes the drop tests write: large enough that most of it is still in the user-space
/// queue when the writer drops the socket.
const DROPPED_WRITE: usize = 8 * 1024 * 1024;

/// `n` bytes of a pattern that shows truncation and reordering.
#[allow(dead_code)]
fn pattern(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i % 251) as u8).collect()
}

/// A raw client on its own thread that reads everything until end-of-stream (bounded:
/// 15 s without a byte fails), starting when `start` says so (at once without one): the
/// bytes, or the error and how many came before it.
#[allow(dead_code)]
fn read_to_end_on_thread(
    port: u16,
    start: Option<std::sync::mpsc::Receiver<()>>,
) -> std::thread::JoinHandle<std::result::Result<Vec<u8>, String>> {
    let c = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    std::thread::spawn(move || {
        use std::io::Read;
        if let Some(start) = start {
            let _ = start.recv_timeout(Duration::from_secs(15));
        }
        let mut c = c;
        c.set_read_timeout(Some(Duration::from_secs(15))).unwrap();
        let mut got = Vec::new();
        match c.read_to_end(&mut got) {
            Ok(_) => Ok(got),
            Err(e) => Err(format!("{e} after {} bytes", got.len())),
        }
    })
}

nn_test! {
    fn bytes_written_before_a_drop_are_delivered_then_the_fin() {
        // Node-style write() queues everything; dropping the socket must not discard
        // the queue: the peer reads all of it, then a clean end-of-stream.
        // The peer reads only after the drop, so most of the bytes are still queued then.
        let (mut server, port) = loopback_server!();
        let (start, started) = std::sync::mpsc::channel();
        let peer = read_to_end_on_thread(port, Some(started));
        let mut c = accept!(server);
        assert!(!c.write(pattern(DROPPED_WRITE)), "above the high-water mark");
        assert!(c.writable_length() > 0, "still queued when dropped");
        drop(c);
        start.send(()).unwrap();
        let got = peer.join().unwrap().unwrap();
        assert_eq!(got.len(), DROPPED_WRITE);
        assert!(got == pattern(DROPPED_WRITE), "in order, intact");
    }
}
