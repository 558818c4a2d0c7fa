// The helper macros every backend suite shares (`tcp_port!`, `listening!`,
// `loopback_server!`, `accept!`, `drain!`, `accept_paused_until_signalled!`, `echo!`),
// written once over the harness's `next!` and `sleep_ms!`. Each backend's test binary
// `include!`s its harness (`tests/harness/<backend>.rs`), then this file, then the suite.

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

/// Wait for `Listening` (skipping nothing else: it must come first).
#[allow(unused_macros)]
macro_rules! listening {
    ($server:expr) => {
        match next!($server) {
            Some(ServerEvent::Listening) => {}
            other => panic!("expected Listening, got {other:?}"),
        }
    };
}

/// A TCP server on 127.0.0.1 with a port the kernel picks, past its `Listening`:
/// `(server, port)`. With an argument, the server is created with those `ServerOptions`.
#[allow(unused_macros)]
macro_rules! loopback_server {
    () => {
        loopback_server!(ServerOptions::default())
    };
    ($options:expr) => {{
        let mut server = create_server($options);
        server
            .listen(ListenOptions::port(0).host("127.0.0.1"))
            .unwrap();
        listening!(server);
        let port = tcp_port!(server);
        (server, port)
    }};
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

/// Accept on a `pause_on_connect` server, leave the connection unread until `rx` signals
/// (at most 5 s), then resume and drain it: the bytes received. The wait polls rather than
/// blocks because in the async suites both sides share one executor.
#[allow(unused_macros)]
macro_rules! accept_paused_until_signalled {
    ($server:expr, $rx:expr) => {{
        let mut c = accept!($server);
        let t0 = Instant::now();
        while $rx.try_recv().is_err() && t0.elapsed() < Duration::from_secs(5) {
            sleep_ms!(5);
        }
        c.resume();
        drain!(c).0
    }};
}

/// Echo everything back until the peer ends (the `socket.pipe(socket)` of Node's demo).
#[allow(unused_macros)]
macro_rules! echo {
    ($sock:expr) => {{
        while let Some(ev) = next!($sock) {
            if let SocketEvent::Data(d) = ev {
                $sock.write(d);
            }
        }
    }};
}
