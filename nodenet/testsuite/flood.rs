// Access control under a connection flood, and Unix socket file modes, shared by the
// backends' `tests/flood.rs`. Bursts of raw std clients hit a server with a block list
// and `max_connections`; every accepted connection has exactly one outcome (Node's
// order: the `max_connections` check comes before the block list), the count never
// passes the maximum, every refused client is closed, and no descriptor is left behind.

/// Clients per burst.
const FLOOD: usize = 100;
/// The server's `max_connections`.
const FLOOD_MAX: usize = 50;

/// A blocking std client connected from `source` (a loopback address of its own).
fn flood_client(source: &str, port: u16) -> std::net::TcpStream {
    let s = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    let from: SocketAddr = format!("{source}:0").parse().unwrap();
    s.bind(&from.into()).unwrap();
    let to: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    s.connect(&to.into()).unwrap();
    s.into()
}

/// The peer closed this client (FIN or RST), within 5 s.
fn closed_by_server(c: &std::net::TcpStream) -> bool {
    use std::io::Read;
    c.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    match (&*c).read(&mut [0u8; 16]) {
        Ok(0) => true,
        Ok(_) => false,
        Err(e) => e.kind() == std::io::ErrorKind::ConnectionReset,
    }
}

/// (connections, drops, blocks) counted while collecting `n` outcomes; admitted
/// sockets are pushed to `$held`; `connections()` is checked after every event.
macro_rules! outcomes {
    ($server:expr, $n:expr, $held:expr) => {{
        let (mut conns, mut drops, mut blocks) = (0usize, 0usize, 0usize);
        let deadline = Instant::now() + Duration::from_secs(10);
        while conns + drops + blocks < $n {
            match next_until!($server, deadline) {
                Some(Some(ServerEvent::Connection(c))) => {
                    conns += 1;
                    $held.push(c);
                }
                Some(Some(ServerEvent::Drop(Some(info)))) => {
                    assert_eq!(info.local_port, tcp_port!($server));
                    drops += 1;
                }
                Some(Some(ServerEvent::Blocked { remote: Endpoint::Tcp(r), .. })) => {
                    assert_eq!(r.ip().to_string(), "127.0.0.2");
                    blocks += 1;
                }
                Some(other) => panic!("unexpected server event {other:?}"),
                None => panic!("only {} of {} outcomes", conns + drops + blocks, $n),
            }
            assert!($server.connections() <= FLOOD_MAX, "connections() = {}", $server.connections());
        }
        // Nothing more arrives: one outcome per connection.
        assert!(next_until!($server, Instant::now() + Duration::from_millis(100)).is_none());
        (conns, drops, blocks)
    }};
}

nn_test! {
    fn block_list_and_max_connections_hold_under_a_flood() {
        let fds_before = open_fds();
        let mut list = BlockList::new();
        list.add_address("127.0.0.2", "ipv4").unwrap();
        let mut server = create_server(ServerOptions::default().block_list(std::sync::Arc::new(list)));
        server.set_max_connections(Some(FLOOD_MAX as u32));
        server.listen(ListenOptions::port(0).host("127.0.0.1")).unwrap();
        listening!(server);
        let port = tcp_port!(server);
        let mut held = Vec::new();

        // A: blocked peers, below the maximum: every one Blocked.
        let blocked: Vec<_> = (0..FLOOD).map(|_| flood_client("127.0.0.2", port)).collect();
        assert_eq!(outcomes!(server, FLOOD, held), (0, 0, FLOOD));
        // B: allowed peers: admitted up to the maximum, the rest dropped.
        let allowed: Vec<_> = (0..FLOOD).map(|_| flood_client("127.0.0.1", port)).collect();
        assert_eq!(outcomes!(server, FLOOD, held), (FLOOD_MAX, FLOOD - FLOOD_MAX, 0));
        assert_eq!(server.connections(), FLOOD_MAX);
        // C: blocked peers at the maximum: Node checks maxConnections first, so Drop.
        let late: Vec<_> = (0..FLOOD).map(|_| flood_client("127.0.0.2", port)).collect();
        assert_eq!(outcomes!(server, FLOOD, held), (0, FLOOD, 0));
        eprintln!(
            "[{BACKEND}] flood: {} clients: {} Blocked, {} Connection, {} Drop; connections() <= {FLOOD_MAX} throughout",
            3 * FLOOD, FLOOD, FLOOD_MAX, 2 * FLOOD - FLOOD_MAX
        );

        // Every refused client was closed by the server; the admitted ones were not.
        for c in blocked.iter().chain(&late) {
            assert!(closed_by_server(c), "a refused client is still open");
        }
        // Exactly the dropped half of the allowed clients is closed; the admitted half
        // stays open (a non-blocking read would block).
        for c in &allowed {
            c.set_nonblocking(true).unwrap();
        }
        let t = Instant::now();
        let shut = loop {
            let shut = allowed
                .iter()
                .filter(|c| match std::io::Read::read(&mut &**c, &mut [0u8; 1]) {
                    Ok(0) => true,
                    Err(e) => e.kind() == std::io::ErrorKind::ConnectionReset,
                    Ok(_) => panic!("data from the server"),
                })
                .count();
            if shut >= FLOOD - FLOOD_MAX || t.elapsed() > Duration::from_secs(5) {
                break shut;
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        assert_eq!(shut, FLOOD - FLOOD_MAX, "exactly the dropped allowed clients were closed");

        // Release everything: the count goes back to 0 and no descriptor is left.
        drop(held);
        drop((blocked, allowed, late));
        let t = Instant::now();
        while server.connections() > 0 {
            assert!(t.elapsed() < Duration::from_secs(5), "connections() stuck at {}", server.connections());
            let _ = next_until!(server, Instant::now() + Duration::from_millis(10));
        }
        server.close().unwrap();
        assert!(matches!(next!(server), Some(ServerEvent::Close)));
        drop(server);
        let fds_after = open_fds();
        assert!(fds_after <= fds_before, "descriptors leaked: {fds_before} -> {fds_after}");
    }
}

nn_test! {
    fn unix_socket_modes_follow_readable_all_and_writable_all() {
        use std::os::unix::fs::PermissionsExt;
        // libuv's uv_pipe_chmod: mode |= 0o444 (readable) / 0o222 (writable), on top of
        // what bind(2) created (0o777 & !umask); checked against node v20.
        let status = std::fs::read_to_string("/proc/self/status").unwrap();
        let umask = status
            .lines()
            .find_map(|l| l.strip_prefix("Umask:"))
            .map(|v| u32::from_str_radix(v.trim(), 8).unwrap())
            .unwrap();
        let fds_before = open_fds();
        let dir = tempfile::tempdir().unwrap();
        for (readable, writable) in [(false, false), (true, false), (false, true), (true, true)] {
            let path = dir.path().join(format!("m-{readable}-{writable}.sock")).to_str().unwrap().to_string();
            let mut server = create_server(ServerOptions::default());
            server
                .listen(ListenOptions::path(path.clone()).readable_all(readable).writable_all(writable))
                .unwrap();
            listening!(server);
            let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            let mut expected = 0o777 & !umask;
            if readable {
                expected |= 0o444;
            }
            if writable {
                expected |= 0o222;
            }
            assert_eq!(mode, expected, "mode {mode:o} for readable_all={readable} writable_all={writable}");
            if readable && writable {
                // What the issue asks for, under the usual umask 022.
                assert_eq!(mode | (umask & 0o022), 0o777);
            }
            // It serves, then closing unlinks the file.
            let client = std::os::unix::net::UnixStream::connect(&path).unwrap();
            let c = accept!(server);
            drop(c);
            drop(client);
            server.close().unwrap();
            assert!(!std::path::Path::new(&path).exists(), "socket file unlinked on close");
            assert!(matches!(next!(server), Some(ServerEvent::Close)));
        }
        eprintln!("[{BACKEND}] unix modes: umask {umask:03o}: both flags give {:03o}", (0o777 & !umask) | 0o666);
        drop(dir);
        assert!(open_fds() <= fds_before);
    }
}
