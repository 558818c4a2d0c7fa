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

/// Huge and tiny numbers print as JavaScript's `String(n)`: `1e+21`, `18446744073709552000`
/// (not the exact integer), `1e-7`; `ERR_OUT_OF_RANGE` groups that text with `_` as Node's
/// `addNumericalSeparator` does (`1e_+21`). Node v20's messages, byte for byte.
#[test]
fn huge_and_tiny_numbers_print_as_node_prints_them() {
    for (port, shown) in [
        (1e21, "1e+21"),
        (-1e300, "-1e+300"),
        (18446744073709551616.0, "18446744073709552000"),
        (1e-7, "1e-7"),
    ] {
        let (_, r) = connect(ConnectOptions::tcp(port, "127.0.0.1"));
        assert_eq!(
            r.unwrap_err().to_string(),
            format!(
                "RangeError [ERR_SOCKET_BAD_PORT]: Port should be >= 0 and < 65536. \
                 Received type number ({shown})."
            )
        );
    }
    for (timeout, shown) in [
        (1e21, "1e_+21"),
        (18446744073709551616.0, "18_446_744_073_709_552_000"),
        (f64::MAX, "1._797_693_134_862_315_7e+_308"),
    ] {
        let mut o = ConnectOptions::tcp(80, "127.0.0.1");
        o.auto_select_family_attempt_timeout = Some(NumberArg(timeout));
        let (_, r) = connect(o);
        assert_eq!(
            r.unwrap_err().message(),
            format!(
                "The value of \"options.autoSelectFamilyAttemptTimeout\" is out of range. \
                 It must be >= 1 && <= 2147483647. Received {shown}"
            )
        );
    }
}
