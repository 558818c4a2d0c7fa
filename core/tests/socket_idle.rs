//! Transcripts for a socket that has no handle yet (`new Socket()`, §1.2/§1.3 IDLE) and
//! for argument validation that happens before any IO.

mod socket_support;

use nodenet_core::socket::{ConnectOptions, Encoding, ReadyState, Socket};
use nodenet_core::{ErrorCode, SocketOptions};
use socket_support::*;

#[test]
fn fresh_socket_properties_match_node() {
    let s = Socket::new(SocketOptions::default());
    assert_eq!(s.ready_state(), ReadyState::Open);
    assert_eq!(s.ready_state().as_str(), "open");
    assert!(!s.connecting());
    assert!(s.pending());
    assert!(!s.destroyed());
    assert!(s.readable() && s.writable());
    assert_eq!((s.bytes_written(), s.bytes_read()), (0, 0));
    assert_eq!(s.remote_address(), None);
    assert_eq!(s.timeout(), None);
    assert!(!s.allow_half_open());
    assert_eq!(s.writable_high_water_mark(), 16384);
    assert_eq!(s.address(), None);
    assert_eq!(s.auto_select_family_attempted_addresses(), None);
    assert_eq!(s.handle_kind(), None);
}

#[test]
fn fresh_socket_has_no_outputs() {
    let mut h = H::client();
    assert!(h.cmds().is_empty());
    assert!(h.evs().is_empty());
    assert_eq!(h.s.poll_timeout(), None);
}

#[test]
fn allow_half_open_option_is_kept() {
    let s = Socket::new(SocketOptions {
        allow_half_open: true,
        ..SocketOptions::default()
    });
    assert!(s.allow_half_open());
}

#[test]
fn custom_high_water_mark() {
    let s = Socket::new(SocketOptions {
        high_water_mark: 1000,
        ..SocketOptions::default()
    });
    assert_eq!(s.writable_high_water_mark(), 1000);
}

#[test]
fn destroy_without_handle_closes_with_no_argument() {
    let mut h = H::client();
    h.s.destroy(None);
    assert_eq!(h.names(), ["close()"]);
    assert!(h.cmds().is_empty(), "no handle: nothing to close");
    assert!(h.s.destroyed());
    assert_eq!(h.s.ready_state(), ReadyState::Closed);
}

#[test]
fn destroy_with_error_without_handle() {
    let mut h = H::client();
    h.s.destroy(Some(nodenet_core::Error::socket_closed()));
    let evs = h.evs();
    assert_eq!(
        evs.iter().map(name).collect::<Vec<_>>(),
        ["error", "close()"]
    );
    assert_eq!(error_of(&evs).code(), ErrorCode::ERR_SOCKET_CLOSED);
}

#[test]
fn second_destroy_is_a_no_op() {
    let mut h = H::client();
    h.s.destroy(None);
    h.evs();
    h.s.destroy(Some(nodenet_core::Error::socket_closed()));
    assert!(h.evs().is_empty());
}

#[test]
fn destroyed_socket_is_pending_and_closed() {
    let mut h = H::client();
    h.s.destroy(None);
    assert!(h.s.pending());
    assert!(!h.s.connecting());
    assert!(!h.s.readable() && !h.s.writable());
}

#[test]
fn write_on_never_connected_socket_fails_next_tick() {
    let mut h = H::client();
    let r = h.write("abc");
    assert!(!r.ok);
    // Synchronously: errored, not destroyed yet → readOnly (Node confirmed).
    assert_eq!(h.s.ready_state(), ReadyState::ReadOnly);
    assert_eq!(h.s.poll_timeout(), Some(h.now), "a tick is due");
    let evs = h.evs();
    assert_eq!(
        evs.iter().map(name).collect::<Vec<_>>(),
        ["writeErr", "error", "close()"]
    );
    assert_eq!(write_results(&evs), [Some("ERR_SOCKET_CLOSED".into())]);
    assert_eq!(error_of(&evs).message(), "Socket is closed");
}

#[test]
fn two_writes_on_never_connected_socket_one_error() {
    let mut h = H::client();
    h.write("a");
    h.write("b");
    h.tick();
    assert_eq!(h.names(), ["writeErr", "writeErr", "error", "close()"]);
}

#[test]
fn write_then_destroy_before_tick_still_reports_the_write() {
    let mut h = H::client();
    h.write("a");
    h.s.destroy(None);
    assert_eq!(h.names(), ["writeErr", "close()"]);
    h.tick();
    assert!(h.evs().is_empty());
}

#[test]
fn end_on_never_connected_socket_never_finishes() {
    let mut h = H::client();
    h.s.end(h.now).unwrap();
    assert_eq!(h.s.ready_state(), ReadyState::ReadOnly);
    assert!(h.s.writable_ended());
    h.tick();
    assert!(h.evs().is_empty());
    assert!(h.cmds().is_empty());
    assert_eq!(h.s.poll_timeout(), None);
}

#[test]
fn write_after_end_on_idle_socket() {
    let mut h = H::client();
    h.s.end(h.now).unwrap();
    let r = h.write("x");
    assert!(!r.ok);
    let evs = h.evs();
    assert_eq!(
        evs.iter().map(name).collect::<Vec<_>>(),
        ["writeErr", "error", "close()"]
    );
    assert_eq!(error_of(&evs).message(), "write after end");
}

#[test]
fn write_after_destroy_has_no_error_event() {
    let mut h = H::client();
    h.s.destroy(None);
    h.evs();
    let r = h.write("x");
    assert!(!r.ok);
    let evs = h.evs();
    assert_eq!(write_results(&evs), [Some("ERR_STREAM_DESTROYED".into())]);
    assert_eq!(evs.len(), 1);
}

#[test]
fn end_after_destroy_with_error_reports_stream_destroyed() {
    let mut h = H::client();
    h.s.destroy(Some(nodenet_core::Error::abort()));
    let e = h.s.end(h.now).unwrap_err();
    assert_eq!(e.message(), "Cannot call end after a stream was destroyed");
}

#[test]
fn reset_and_destroy_without_handle() {
    let mut h = H::client();
    h.s.reset_and_destroy().unwrap();
    let evs = h.evs();
    assert_eq!(
        evs.iter().map(name).collect::<Vec<_>>(),
        ["error", "close()"]
    );
    assert_eq!(error_of(&evs).message(), "Socket is closed");
}

#[test]
fn reset_and_destroy_after_destroy_is_silent() {
    let mut h = H::client();
    h.s.destroy(None);
    h.evs();
    h.s.reset_and_destroy().unwrap();
    assert!(h.evs().is_empty());
}

#[test]
fn set_timeout_stores_value() {
    let mut h = H::client();
    h.s.set_timeout(100, h.now).unwrap();
    assert_eq!(h.s.timeout(), Some(100.0));
    h.s.set_timeout(0, h.now).unwrap();
    assert_eq!(h.s.timeout(), Some(0.0));
}

#[test]
fn set_timeout_rejects_negative() {
    let mut h = H::client();
    let e = h.s.set_timeout(-1, h.now).unwrap_err();
    assert_eq!(e.code(), ErrorCode::ERR_OUT_OF_RANGE);
    assert_eq!(
        e.message(),
        "The value of \"msecs\" is out of range. It must be a non-negative finite number. Received -1"
    );
    assert_eq!(h.s.timeout(), Some(-1.0), "stored before validation");
}

#[test]
fn set_timeout_rejects_infinity_and_nan() {
    let mut h = H::client();
    assert!(h.s.set_timeout(f64::INFINITY, h.now).is_err());
    let e = h.s.set_timeout(f64::NAN, h.now).unwrap_err();
    assert!(e.message().ends_with("Received NaN"));
}

#[test]
fn set_timeout_on_destroyed_socket_is_a_no_op() {
    let mut h = H::client();
    h.s.destroy(None);
    h.s.set_timeout(-5, h.now).unwrap();
    assert_eq!(h.s.timeout(), None);
    assert_eq!(h.names(), ["close()"]);
    assert_eq!(h.s.poll_timeout(), None);
}

#[test]
fn timeout_fires_on_idle_unconnected_socket() {
    let mut h = H::client();
    h.s.set_timeout(50, h.now).unwrap();
    assert!(h.run_timer());
    assert_eq!(h.ms(), 50);
    assert_eq!(h.names(), ["timeout"]);
    assert_eq!(h.s.poll_timeout(), None, "fires once per idle period");
}

#[test]
fn no_delay_and_keep_alive_are_stored_without_handle() {
    let mut h = H::client();
    h.s.set_no_delay(true);
    h.s.set_keep_alive(true, 5000);
    assert!(h.cmds().is_empty());
}

#[test]
fn set_encoding_unknown() {
    let mut h = H::client();
    let e = h.s.set_encoding("bogus").unwrap_err();
    assert_eq!(e.code(), ErrorCode::ERR_UNKNOWN_ENCODING);
    assert_eq!(e.message(), "Unknown encoding: bogus");
}

#[test]
fn set_encoding_accepts_every_node_encoding() {
    let mut h = H::client();
    assert_eq!(h.s.readable_encoding(), None);
    for (name, normalized) in [
        ("base64", "base64"),
        ("Base64URL", "base64url"),
        ("UCS-2", "utf16le"),
        ("binary", "latin1"),
        ("ASCII", "ascii"),
        ("hex", "hex"),
        ("utf-8", "utf8"),
    ] {
        h.s.set_encoding(name).unwrap();
        assert_eq!(
            h.s.readable_encoding().map(Encoding::as_str),
            Some(normalized)
        );
    }
    assert_eq!(Encoding::parse("binary").unwrap(), Encoding::Latin1);
}

#[test]
fn pause_and_resume_before_connect() {
    let mut h = H::client();
    h.s.pause();
    assert!(h.s.is_paused());
    h.s.resume(h.now);
    assert!(!h.s.is_paused());
    assert!(h.cmds().is_empty());
    assert!(h.evs().is_empty());
}

// ---- connect() argument validation (§4 vectors) -----------------------------------

#[test]
fn connect_without_port_or_path_is_missing_args() {
    for opts in [
        ConnectOptions::default(),
        ConnectOptions {
            host: Some("x".into()),
            ..Default::default()
        },
    ] {
        let mut h = H::client();
        let e = h.s.connect(opts, h.now).unwrap_err();
        assert_eq!(e.code(), ErrorCode::ERR_MISSING_ARGS);
        assert_eq!(
            e.message(),
            "The \"options\" or \"port\" or \"path\" argument must be specified"
        );
        assert!(!h.s.connecting(), "thrown before connecting is set");
    }
}

fn bad_port(arg: nodenet_core::PortArg) -> String {
    let mut h = H::client();
    let e =
        h.s.connect(ConnectOptions::from_arg(arg), h.now)
            .unwrap_err();
    assert_eq!(e.code(), ErrorCode::ERR_SOCKET_BAD_PORT);
    e.message().to_string()
}

#[test]
fn connect_negative_port() {
    assert_eq!(
        bad_port((-1).into()),
        "Port should be >= 0 and < 65536. Received type number (-1)."
    );
}

#[test]
fn connect_port_65536() {
    assert!(bad_port(65536.into()).ends_with("Received type number (65536)."));
}

#[test]
fn connect_fractional_port() {
    assert!(bad_port(1.5.into()).ends_with("Received type number (1.5)."));
}

#[test]
fn connect_nan_port() {
    assert!(bad_port(f64::NAN.into()).ends_with("Received type number (NaN)."));
}

#[test]
fn connect_blank_string_ports() {
    assert!(bad_port(" ".into()).ends_with("Received type string (' ')."));
    assert!(bad_port("".into()).ends_with("Received type string ('')."));
}

#[test]
fn connect_port_80x() {
    let mut h = H::client();
    let e = h.s.connect(ConnectOptions::port("80x"), h.now).unwrap_err();
    assert_eq!(e.code(), ErrorCode::ERR_SOCKET_BAD_PORT);
}

#[test]
fn bad_port_leaves_socket_connecting_like_node() {
    let mut h = H::client();
    let _ = h.s.connect(ConnectOptions::port(-1), h.now);
    assert!(h.s.connecting());
    assert_eq!(h.s.ready_state(), ReadyState::Opening);
}

#[test]
fn string_args_that_are_not_numbers_are_paths() {
    assert_eq!(ConnectOptions::from_arg("abc").path.as_deref(), Some("abc"));
    assert_eq!(ConnectOptions::from_arg("-1").path.as_deref(), Some("-1"));
    assert_eq!(
        ConnectOptions::from_arg("/tmp/x").path.as_deref(),
        Some("/tmp/x")
    );
    assert!(ConnectOptions::from_arg("8080").path.is_none());
    assert!(ConnectOptions::from_arg("0x50").path.is_none());
    assert!(ConnectOptions::from_arg(" ").path.is_none());
}

#[test]
fn invalid_local_address() {
    let mut h = H::client();
    let opts = ConnectOptions {
        local_address: Some("abc".into()),
        ..ConnectOptions::port(80)
    };
    let e = h.s.connect(opts, h.now).unwrap_err();
    assert_eq!(e.code(), ErrorCode::ERR_INVALID_IP_ADDRESS);
    assert_eq!(e.message(), "Invalid IP address: abc");
}

#[test]
fn local_address_checked_before_port() {
    let mut h = H::client();
    let opts = ConnectOptions {
        local_address: Some("abc".into()),
        ..ConnectOptions::port(-1)
    };
    let e = h.s.connect(opts, h.now).unwrap_err();
    assert_eq!(e.code(), ErrorCode::ERR_INVALID_IP_ADDRESS);
}

#[test]
fn attempt_timeout_zero_is_out_of_range() {
    let mut h = H::client();
    let opts = ConnectOptions {
        auto_select_family_attempt_timeout: Some(0.into()),
        ..ConnectOptions::port(80)
    };
    let e = h.s.connect(opts, h.now).unwrap_err();
    assert_eq!(e.code(), ErrorCode::ERR_OUT_OF_RANGE);
    assert!(e.message().contains(">= 1 && <= 2147483647. Received 0"));
}

#[test]
fn attempt_timeout_fractional_is_out_of_range() {
    let mut h = H::client();
    let opts = ConnectOptions {
        auto_select_family_attempt_timeout: Some(1.5.into()),
        ..ConnectOptions::port(80)
    };
    let e = h.s.connect(opts, h.now).unwrap_err();
    assert!(e.message().contains("an integer"));
}

#[test]
fn connect_timeout_option_is_validated_first() {
    let mut h = H::client();
    let opts = ConnectOptions {
        timeout: Some((-5).into()),
        ..ConnectOptions::port(80)
    };
    let e = h.s.connect(opts, h.now).unwrap_err();
    assert_eq!(e.code(), ErrorCode::ERR_OUT_OF_RANGE);
    assert!(!h.s.connecting());
}
