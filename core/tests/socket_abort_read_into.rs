//! Transcripts for the socket's `signal` (`Socket::abort`, Node's `ABORT_ERR` semantics
//! as Node v20 shows them) and for reads into the caller's buffer (`handle_read_into`,
//! Node's `onread`).

mod socket_support;

use nodenet_core::socket::{Command, ConnectOptions, SocketEvent};
use nodenet_core::{Error, ErrorClass, ErrorCode};
use socket_support::*;

fn reason(msg: &str) -> Error {
    Error::new(ErrorCode::ABORT_ERR, ErrorClass::Error, msg)
}

/// The one `AbortError` of `evs`, checked against Node's shape.
fn abort_error(evs: &[SocketEvent]) -> Error {
    let e = error_of(evs);
    assert_eq!(e.code(), ErrorCode::ABORT_ERR);
    assert_eq!(e.class(), ErrorClass::AbortError);
    assert_eq!(e.message(), "The operation was aborted");
    e
}

// Node: `const s = net.connect({port, host: '127.0.0.1', signal}); ac.abort()` →
// destroyed at once, 'error' AbortError, 'close' true, no connectionAttempt.
#[test]
fn abort_while_connecting_to_a_literal() {
    let mut h = H::client();
    h.s.connect(ConnectOptions::tcp(80, "127.0.0.1"), h.now)
        .unwrap();
    h.s.abort(Error::abort_reason());
    assert!(h.s.destroyed());
    assert!(!h.s.connecting());
    let evs = h.evs();
    assert_eq!(
        evs.iter().map(name).collect::<Vec<_>>(),
        ["error", "close(true)"]
    );
    let e = abort_error(&evs);
    assert_eq!(
        e.cause().map(Error::message),
        Some("This operation was aborted")
    );
    // The deferred connect never starts.
    h.tick();
    assert!(!h
        .cmds()
        .iter()
        .any(|c| matches!(c, Command::Connect { .. })));
}

// Node: abort while `localhost` is looked up → 'error' AbortError (cause = reason),
// 'close' true; the lookup's answer is ignored.
#[test]
fn abort_during_lookup_keeps_the_reason_as_cause() {
    let mut h = H::client();
    h.s.connect(ConnectOptions::tcp(80, "localhost"), h.now)
        .unwrap();
    let id = h.resolve_id();
    h.s.abort(reason("why"));
    let evs = h.evs();
    assert_eq!(
        evs.iter().map(name).collect::<Vec<_>>(),
        ["error", "close(true)"]
    );
    assert_eq!(abort_error(&evs).cause().map(Error::message), Some("why"));
    assert_eq!(h.cmds(), [Command::Close { reset: false }]);
    h.resolved(id, &[("127.0.0.1", 4)]);
    assert!(h.evs().is_empty());
    assert!(h.cmds().is_empty());
}

// Node: `ac.abort()` inside the 'connect' handler: 'ready' (already scheduled) still
// comes, then 'error' AbortError and 'close' true.
#[test]
fn abort_after_connect_keeps_queued_events_first() {
    let mut h = H::client();
    let a = h.connect_to(ConnectOptions::tcp(80, "127.0.0.1"));
    h.s.handle_connected(a, "127.0.0.1:50000".parse().ok(), h.now);
    assert_eq!(
        h.s.poll_event(),
        Some(SocketEvent::ConnectionAttempt {
            address: "127.0.0.1".into(),
            port: Some(80),
            family: Some(4),
        })
    );
    assert_eq!(h.s.poll_event(), Some(SocketEvent::Connect));
    h.s.abort(Error::abort_reason());
    let evs = h.evs();
    assert_eq!(
        evs.iter().map(name).collect::<Vec<_>>(),
        ["ready", "error", "close(true)"]
    );
    assert!(h.cmds().contains(&Command::Close { reset: false }));
}

// Node: `new net.Socket({ signal })` with an aborted signal → 'error' then a 'close'
// without `hadError` (no handle). nodenet then refuses to connect the socket (Node v20
// connects it anyway, after having reported it closed).
#[test]
fn abort_before_connect_closes_without_a_handle_and_blocks_connect() {
    let mut h = H::client();
    h.s.abort(Error::abort_reason());
    assert!(h.s.aborted());
    assert_eq!(
        h.names(),
        ["error", "close()"],
        "Close without hadError, as Node's 'close' with no argument"
    );
    h.s.connect(ConnectOptions::tcp(80, "127.0.0.1"), h.now)
        .unwrap();
    h.tick();
    assert!(h.cmds().is_empty());
    assert!(h.evs().is_empty());
    assert!(h.s.destroyed());
    assert_eq!(h.s.poll_timeout(), None);
}

#[test]
fn abort_is_ignored_once_destroyed_and_fires_once() {
    let mut h = H::connected();
    h.s.destroy(None);
    h.s.abort(Error::abort_reason());
    assert_eq!(h.names(), ["close(false)"]);
    assert!(!h.s.aborted());
    let mut h = H::connected();
    h.s.abort(Error::abort_reason());
    h.s.abort(Error::abort_reason());
    assert_eq!(h.names(), ["error", "close(true)"]);
}

// Writes queued when the signal fires fail with the AbortError (Node's destroy(err)
// hands err to pending write callbacks).
#[test]
fn abort_fails_queued_writes_with_the_abort_error() {
    let mut h = H::client();
    h.s.connect(ConnectOptions::tcp(80, "127.0.0.1"), h.now)
        .unwrap();
    h.write("queued while connecting");
    h.s.abort(Error::abort_reason());
    let evs = h.evs();
    assert!(write_results(&evs).iter().all(|r| r.is_some()));
    // As Node for writes queued while connecting: 'close' first, then their callbacks.
    assert!(evs.iter().any(|e| name(e) == "close(true)"));
    assert_eq!(evs.last().map(name), Some("writeErr"));
}

// ---- onread -------------------------------------------------------------------------

#[test]
fn reads_into_the_callers_buffer_count_but_emit_no_data() {
    let mut h = H::connected();
    assert!(h.s.handle_read_into(1000, h.now));
    assert!(h.s.handle_read_into(24, h.now));
    assert_eq!(h.s.bytes_read(), 1024);
    assert!(h.evs().is_empty());
    // `pause()` is the callback's `return false`: reading stops...
    h.s.pause();
    assert_eq!(h.cmds(), [Command::StopReading]);
    // ...and `resume()` starts it again.
    h.s.resume(h.now);
    // Node resumes on the next tick: the read starts once the socket is polled.
    assert!(h.evs().is_empty());
    assert_eq!(h.cmds(), [Command::StartReading]);
    h.s.handle_eof(h.now);
    assert_eq!(h.names(), ["end"]);
    assert!(!h.s.handle_read_into(1, h.now));
    assert_eq!(h.s.bytes_read(), 1024);
}

#[test]
fn reads_into_the_buffer_refresh_the_idle_timer() {
    let mut h = H::connected();
    h.s.set_timeout(100.0, h.now).unwrap();
    h.advance(80);
    assert!(h.s.handle_read_into(10, h.now));
    h.advance(80);
    h.tick();
    assert!(h.evs().is_empty(), "the read refreshed the timer");
    h.advance(20);
    h.tick();
    assert_eq!(h.names(), ["timeout"]);
}

#[test]
fn reads_after_destroy_are_dropped() {
    let mut h = H::connected();
    h.s.destroy(None);
    h.evs();
    assert!(!h.s.handle_read_into(10, h.now));
    assert_eq!(h.s.bytes_read(), 0);
    assert!(!H::client().s.handle_read_into(10, h.now));
}
