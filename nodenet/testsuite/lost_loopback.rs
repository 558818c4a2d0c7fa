// Tests from the nothing-lost work (issue 18) still in the old dialect, awaiting their
// port to tests/src/suite (see its guide).

const TEST_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(20);
const SERIAL: bool = false;
const _: &str = BACKEND;
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
