//! No panic reachable from the public API with any argument: every public constructor,
//! validator, `check`, `parse`, `listen`, `connect`, `set_timeout` and `set_keep_alive` is
//! called with arbitrary strings, doubles (NaN, ±Infinity, -0, 2^32, 1e300, fractions)
//! and huge integers. Where an error comes back its code must be one of Node's codes (for
//! argument validation: an `ERR_*` code).

use std::time::Instant;

use nodenet_core::happy_eyeballs::{attempt_timeout_option, sort_candidates};
use nodenet_core::server::{ListenOptions, Server, ServerOptions};
use nodenet_core::socket::{ConnectOptions, Socket};
use nodenet_core::validate::{
    js_string_to_number, validate_int32, validate_port, validate_timer_duration, validate_uint32,
};
use nodenet_core::{
    is_ip, is_ipv4, is_ipv6, BlockList, Error, ErrorCode, LookupAddress, NumberArg, PortArg,
    SocketAddress, SocketAddressOptions, SocketOptions,
};
use proptest::prelude::*;

fn double() -> impl Strategy<Value = f64> {
    prop_oneof![
        any::<f64>(),
        Just(f64::NAN),
        Just(f64::INFINITY),
        Just(f64::NEG_INFINITY),
        Just(-0.0),
        Just(4_294_967_296.0),
        Just(1e300),
        Just(65536.0),
        Just(2_147_483_648.0),
        -70_000.0..70_000.0f64,
        (-70_000i64..70_000).prop_map(|v| v as f64),
        any::<i64>().prop_map(|v| v as f64),
    ]
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[0-9a-fA-FxX.:%+e -]{0,24}",
        Just(String::new()),
        Just(" ".to_string()),
        Just("0x50".to_string()),
        Just("1e3".to_string()),
        Just("-0".to_string()),
        Just("::ffff:1.2.3.4".to_string()),
        Just("\0abstract".to_string()),
        Just("Infinity".to_string()),
    ]
}

fn port_arg() -> impl Strategy<Value = PortArg> {
    prop_oneof![
        double().prop_map(PortArg::Number),
        text().prop_map(PortArg::String)
    ]
}

/// An error from argument validation: one of Node's `ERR_*` codes.
fn validation_error(e: &Error) {
    assert!(
        e.code().as_str().starts_with("ERR_"),
        "validation error with a non-ERR_ code: {e:?}"
    );
}

/// Any error: a named Node code.
fn node_error(e: &Error) {
    assert!(
        !matches!(e.code(), ErrorCode::Unknown(_)),
        "error without a Node code: {e:?}"
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn validators(n in double(), s in text(), p in port_arg(), min in any::<i32>(), max in any::<i32>()) {
        let _ = js_string_to_number(&s);
        if let Err(e) = validate_port(&p, "Port") { validation_error(&e) }
        if let Err(e) = validate_int32(NumberArg(n), "value", min.into(), max.into()) { validation_error(&e) }
        if let Err(e) = validate_uint32(NumberArg(n), "value", n > 0.0) { validation_error(&e) }
        if let Err(e) = validate_timer_duration(NumberArg(n), "msecs") { validation_error(&e) }
        if let Err(e) = attempt_timeout_option(Some(NumberArg(n))) { validation_error(&e) }
        let _ = SocketOptions::default().keep_alive_initial_delay_ms(n);
        let _ = SocketOptions::default().high_water_mark_signed(n as i64);
        let _ = ConnectOptions::from_arg(p.clone());
        let _ = (is_ip(&s), is_ipv4(&s), is_ipv6(&s));
    }

    #[test]
    fn socket_address(address in text(), family in text(), port in port_arg(), flowlabel in double()) {
        let options = SocketAddressOptions::new()
            .address(address.as_str())
            .family(family.as_str())
            .port(port)
            .flowlabel(flowlabel);
        if let Err(e) = SocketAddress::new(options) { validation_error(&e) }
        let _ = SocketAddress::parse(&address);
    }

    #[test]
    fn block_list(a in text(), b in text(), family in text(), prefix in double(), json in text()) {
        let mut list = BlockList::new();
        for r in [
            list.add_address(a.as_str(), &family),
            list.add_range(a.as_str(), b.as_str(), &family),
            list.add_subnet(a.as_str(), prefix, &family),
        ] {
            if let Err(e) = r { validation_error(&e) }
        }
        for r in [
            list.remove_address(a.as_str(), &family),
            list.remove_subnet(b.as_str(), prefix, &family),
        ] {
            if let Err(e) = r { validation_error(&e) }
        }
        if let Err(e) = list.check(b.as_str(), &family) { validation_error(&e) }
        if let Err(e) = list.from_json(&json) { validation_error(&e) }
        let _ = list.rules();
    }

    #[test]
    fn socket_calls(
        port in port_arg(), host in text(), local in proptest::option::of(text()),
        local_port in proptest::option::of(any::<u16>()), timeout in proptest::option::of(double()),
        attempt in proptest::option::of(double()), delay in proptest::option::of(double()),
        family in any::<u32>(), path in proptest::option::of(text()), msecs in double(),
        keep in any::<bool>(), encoding in text(),
    ) {
        let now = Instant::now();
        let mut s = Socket::new(SocketOptions::default());
        let mut o = ConnectOptions::tcp(port, host);
        o.local_address = local;
        o.local_port = local_port;
        o.timeout = timeout.map(NumberArg);
        o.auto_select_family_attempt_timeout = attempt.map(NumberArg);
        o.keep_alive_initial_delay = delay;
        o.family = family;
        o.path = path;
        if let Err(e) = s.connect(o, now) { validation_error(&e) }
        if let Err(e) = s.set_timeout(NumberArg(msecs), now) { validation_error(&e) }
        s.set_keep_alive(keep, NumberArg(msecs));
        if let Err(e) = s.set_encoding(&encoding) { validation_error(&e) }
        s.handle_timeout(now);
        while s.poll_command().is_some() {}
        while let Some(ev) = s.poll_event() {
            if let nodenet_core::SocketEvent::Error(e) = ev { node_error(&e) }
        }
        s.destroy(None);
    }

    #[test]
    fn listen_calls(
        port in proptest::option::of(port_arg()), host in proptest::option::of(text()),
        path in proptest::option::of(text()), backlog in proptest::option::of(any::<u32>()),
        flags in any::<[bool; 4]>(),
    ) {
        let now = Instant::now();
        let mut server = Server::new(ServerOptions::default());
        let options = ListenOptions { port, host, path, backlog, ..ListenOptions::default() }
            .ipv6_only(flags[0])
            .exclusive(flags[1])
            .readable_all(flags[2])
            .writable_all(flags[3]);
        if let Err(e) = server.listen(options, now) { validation_error(&e) }
        let _ = server.close(now);
    }

    #[test]
    fn lookup_results(entries in proptest::collection::vec((text(), any::<u32>()), 0..6), host in text(), port in any::<u16>()) {
        let list: Vec<LookupAddress> = entries.into_iter().map(|(a, f)| LookupAddress::new(a, f)).collect();
        if let Err(e) = sort_candidates(&list, &host, port) { node_error(&e) }
    }
}
