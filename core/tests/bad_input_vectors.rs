//! Validation vectors of `docs/node-semantics.md` (§4, §6) that no other test file covers; the rest are
//! listed, with the file that covers them, in `docs/reliability.md` ("Bad input").

use std::time::Instant;

use nodenet_core::socket::{Command, ConnectOptions, Socket};
use nodenet_core::{ErrorCode, NumberArg, PortArg, SocketOptions};

fn connect(o: ConnectOptions) -> (Socket, Result<(), nodenet_core::Error>) {
    let mut s = Socket::new(SocketOptions::default());
    let r = s.connect(o, Instant::now());
    (s, r)
}

fn resolved_host(s: &mut Socket) -> Option<String> {
    std::iter::from_fn(|| s.poll_command()).find_map(|c| match c {
        Command::Resolve { host, .. } => Some(host),
        _ => None,
    })
}

/// §4.2 validatePort: `+port !== (+port >>> 0)` rejects 2^32 (it wraps to 0 in `>>> 0`).
#[test]
fn connect_port_two_to_the_32_is_bad_port() {
    let (_, r) = connect(ConnectOptions::tcp(4_294_967_296.0, "127.0.0.1"));
    let e = r.unwrap_err();
    assert_eq!(e.code(), ErrorCode::ERR_SOCKET_BAD_PORT);
    assert_eq!(
        e.message(),
        "Port should be >= 0 and < 65536. Received type number (4294967296)."
    );
}

/// §4 vectors: `{port:'1e3'}` → 1000, `{port:'-0'}` / `{port:-0}` → 0.
#[test]
fn connect_port_strings_convert_like_number() {
    for (port, want) in [
        (PortArg::from("1e3"), 1000),
        (PortArg::from("-0"), 0),
        (PortArg::Number(-0.0), 0),
    ] {
        let mut s = Socket::new(SocketOptions::default());
        let now = Instant::now();
        s.connect(ConnectOptions::tcp(port.clone(), "127.0.0.1"), now)
            .unwrap();
        s.handle_timeout(now);
        let got = std::iter::from_fn(|| s.poll_command()).find_map(|c| match c {
            Command::Connect {
                endpoint: nodenet_core::Endpoint::Tcp(a),
                ..
            } => Some(a.port()),
            _ => None,
        });
        assert_eq!(got, Some(want), "{port:?}");
    }
}

/// §4 vector: `connect({path:''})` is not a pipe: TCP to `localhost`, port 0.
#[test]
fn connect_empty_path_is_tcp_to_localhost() {
    let (mut s, r) = connect(ConnectOptions::path(""));
    r.unwrap();
    assert_eq!(resolved_host(&mut s).as_deref(), Some("localhost"));
}

/// §4 vector: `connect({port:80, host:''})` looks up `localhost`.
#[test]
fn connect_empty_host_looks_up_localhost() {
    let (mut s, r) = connect(ConnectOptions::tcp(80, ""));
    r.unwrap();
    assert_eq!(resolved_host(&mut s).as_deref(), Some("localhost"));
}

/// getTimerDuration: `-0 < 0` is false in JS, so `setTimeout(-0)` is accepted (and
/// disables the timer); `-Number.MIN_VALUE` is not.
#[test]
fn set_timeout_negative_zero_is_accepted() {
    let now = Instant::now();
    let mut s = Socket::new(SocketOptions::default());
    s.set_timeout(NumberArg(-0.0), now).unwrap();
    assert_eq!(s.poll_timeout(), None);
    let e = s
        .set_timeout(NumberArg(-f64::MIN_POSITIVE), now)
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::ERR_OUT_OF_RANGE);
}

/// §6 vectors: `createServer({highWaterMark:-5})` → 16384; `keepAliveInitialDelay:1500`
/// → 1 s.
#[test]
fn server_option_normalisation() {
    assert_eq!(
        SocketOptions::default()
            .high_water_mark_signed(-5)
            .high_water_mark,
        16384
    );
    assert_eq!(
        SocketOptions::default()
            .keep_alive_initial_delay_ms(1500.0)
            .keep_alive_initial_delay_secs,
        1
    );
    assert_eq!(
        SocketOptions::default()
            .keep_alive_initial_delay_ms(-1.0)
            .keep_alive_initial_delay_secs,
        0
    );
}
