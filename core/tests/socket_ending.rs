//! Transcripts for the ending states (§1.3 READ_ENDED / WRITE_ENDED / DESTROYED, §2
//! rules 3–8, 10, 14–16, 18, 20): the peer's FIN with and without `allow_half_open`,
//! the automatic end, `end()`, `Finish`, `destroy_soon`, `reset_and_destroy`, errors.

mod socket_support;

use nodenet_core::socket::{Command, ReadyState, SocketEvent};
use nodenet_core::{Error, ErrorCode, SocketOptions};
use socket_support::*;

fn half_open() -> SocketOptions {
    SocketOptions {
        allow_half_open: true,
        ..SocketOptions::default()
    }
}

// ---- peer FIN, allowHalfOpen false ----------------------------------------------------

#[test]
fn peer_data_then_fin_full_sequence() {
    let mut h = H::connected();
    h.s.handle_data(b("hello"), h.now);
    h.s.handle_eof(h.now);
    // Inside the `end` handler:
    assert_eq!(h.next_names(2), ["data", "end"]);
    assert_eq!(h.s.ready_state(), ReadyState::WriteOnly);
    assert!(h.s.writable() && !h.s.readable() && !h.s.writable_ended());
    // The automatic end() is a tick away.
    assert!(h.cmds().is_empty());
    assert_eq!(h.s.poll_timeout(), Some(h.now));
    h.tick();
    assert_eq!(h.cmds(), [Command::Shutdown]);
    assert!(h.s.writable_ended());
    h.s.handle_shutdown(Ok(()), h.now);
    assert_eq!(h.names(), ["finish", "close(false)"]);
    assert_eq!(h.cmds(), [Command::Close { reset: false }]);
}

#[test]
fn write_inside_end_handler_succeeds() {
    let mut h = H::connected();
    h.s.handle_eof(h.now);
    assert_eq!(h.next_names(1), ["end"]);
    let r = h.write("reply");
    assert!(r.ok);
    assert_eq!(h.cmds(), [Command::Write]);
    h.flush_all();
    assert_eq!(h.names(), ["writeOk"]);
    assert_eq!(
        h.cmds(),
        [Command::Shutdown],
        "auto end ran before the completion"
    );
}

#[test]
fn two_writes_in_end_handler_succeed() {
    let mut h = H::connected();
    h.s.handle_eof(h.now);
    assert_eq!(h.next_names(1), ["end"]);
    assert!(h.write("a").ok);
    assert!(h.write("b").ok);
    h.tick();
    h.flush_all();
    assert_eq!(h.names(), ["writeOk", "writeOk"]);
}

#[test]
fn write_after_auto_end_is_epipe() {
    let mut h = H::connected();
    h.s.handle_eof(h.now);
    h.evs();
    h.tick();
    let r = h.write("late");
    assert!(!r.ok);
    let evs = h.evs();
    assert_eq!(
        evs.iter().map(name).collect::<Vec<_>>(),
        ["writeErr", "error", "close(true)"]
    );
    let e = error_of(&evs);
    assert_eq!(e.message(), "This socket has been ended by the other party");
    assert_eq!(
        (e.code(), e.errno(), e.syscall()),
        (ErrorCode::EPIPE, Some(-32), None)
    );
}

#[test]
fn end_waits_for_buffered_data_while_paused() {
    let mut h = H::connected();
    h.s.pause();
    h.s.handle_data(b("abc"), h.now);
    h.s.handle_eof(h.now);
    h.tick();
    assert!(h.evs().is_empty());
    assert!(h.cmds().iter().all(|c| *c == Command::StopReading));
    h.s.resume(h.now);
    assert_eq!(h.names(), ["data", "end"]);
    h.tick();
    assert_eq!(h.cmds(), [Command::Shutdown]);
}

#[test]
fn auto_end_flushes_queued_writes_first() {
    let mut h = H::connected();
    h.write("pending");
    h.cmds();
    h.s.handle_eof(h.now);
    h.tick();
    assert!(h.cmds().is_empty(), "FIN waits for the queue");
    h.flush_all();
    assert_eq!(h.cmds(), [Command::Shutdown]);
}

#[test]
fn auto_end_skipped_when_already_ended() {
    let mut h = H::connected();
    h.s.end(h.now).unwrap();
    assert_eq!(h.cmds(), [Command::Shutdown]);
    h.s.handle_eof(h.now);
    h.tick();
    assert!(h.cmds().is_empty());
    assert_eq!(h.names(), ["end"]);
    h.s.handle_shutdown(Ok(()), h.now);
    assert_eq!(h.names(), ["finish", "close(false)"]);
}

#[test]
fn eof_after_finish_closes() {
    let mut h = H::connected();
    h.s.end(h.now).unwrap();
    h.s.handle_shutdown(Ok(()), h.now);
    assert_eq!(h.names(), ["finish"]);
    assert_eq!(h.s.ready_state(), ReadyState::ReadOnly);
    h.s.handle_data(b("after"), h.now);
    h.s.handle_eof(h.now);
    assert_eq!(h.names(), ["data", "end", "close(false)"]);
}

#[test]
fn second_eof_is_ignored() {
    let mut h = H::connected_with(half_open());
    h.s.handle_eof(h.now);
    h.s.handle_eof(h.now);
    assert_eq!(h.names(), ["end"]);
}

// ---- peer FIN, allowHalfOpen true -----------------------------------------------------

#[test]
fn half_open_stays_write_only() {
    let mut h = H::connected_with(half_open());
    h.s.handle_data(b("hello"), h.now);
    h.s.handle_eof(h.now);
    assert_eq!(h.names(), ["data", "end"]);
    h.tick();
    assert!(h.cmds().is_empty(), "no automatic end");
    assert_eq!(h.s.ready_state(), ReadyState::WriteOnly);
    h.advance(20);
    assert!(h.write("late").ok);
    h.flush_all();
    assert_eq!(h.names(), ["writeOk"]);
    h.s.end(h.now).unwrap();
    let c = h.cmds();
    assert!(c.contains(&Command::Shutdown));
    h.s.handle_shutdown(Ok(()), h.now);
    assert_eq!(h.names(), ["finish", "close(false)"]);
}

#[test]
fn half_open_write_after_end_is_write_after_end() {
    let mut h = H::connected_with(half_open());
    h.s.handle_eof(h.now);
    h.s.end(h.now).unwrap();
    h.evs();
    h.write("x");
    let e = error_of(&h.evs());
    assert_eq!(e.code(), ErrorCode::ERR_STREAM_WRITE_AFTER_END);
}

// ---- local end() ----------------------------------------------------------------------

#[test]
fn end_makes_socket_read_only_at_once() {
    let mut h = H::connected();
    h.s.end(h.now).unwrap();
    assert_eq!(h.s.ready_state(), ReadyState::ReadOnly);
    assert!(!h.s.writable() && h.s.writable_ended());
    assert!(!h.s.writable_finished());
}

#[test]
fn end_with_data_in_connect_handler() {
    let mut h = H::connected();
    h.s.end_tracked_with(b("x"), h.now);
    assert_eq!(h.s.ready_state(), ReadyState::ReadOnly);
    assert_eq!(h.cmds(), [Command::Write]);
    h.flush_all();
    assert_eq!(h.cmds(), [Command::Shutdown]);
    h.s.handle_shutdown(Ok(()), h.now);
    assert_eq!(h.names(), ["writeOk", "finish"]);
    assert!(h.s.writable_finished());
    h.s.handle_eof(h.now);
    assert_eq!(h.names(), ["end", "close(false)"]);
}

#[test]
fn repeated_end_is_harmless() {
    let mut h = H::connected();
    h.s.end(h.now).unwrap();
    h.s.end(h.now).unwrap();
    assert_eq!(h.cmds(), [Command::Shutdown]);
}

#[test]
fn end_after_finish_is_already_finished() {
    let mut h = H::connected();
    h.s.end(h.now).unwrap();
    h.s.handle_shutdown(Ok(()), h.now);
    // Until `finish` was emitted (a tick later) Node queues the callback instead.
    assert!(h.s.end(h.now).is_ok());
    assert_eq!(h.names(), ["finish"]);
    let e = h.s.end(h.now).unwrap_err();
    assert_eq!(e.code(), ErrorCode::ERR_STREAM_ALREADY_FINISHED);
    assert_eq!(e.message(), "Cannot call end after a stream was finished");
}

#[test]
fn write_after_end_destroys_with_error() {
    let mut h = H::connected();
    h.s.end(h.now).unwrap();
    let r = h.write("x");
    assert!(!r.ok);
    let evs = h.evs();
    assert_eq!(
        evs.iter().map(name).collect::<Vec<_>>(),
        ["writeErr", "error", "close(true)"]
    );
    assert_eq!(error_of(&evs).message(), "write after end");
    assert_eq!(
        write_results(&evs),
        [Some("ERR_STREAM_WRITE_AFTER_END".into())]
    );
}

#[test]
fn no_drain_while_ending() {
    let mut h = H::connected();
    h.s.write_tracked(bytes::Bytes::from(vec![0; 20000]), h.now);
    h.s.end(h.now).unwrap();
    h.flush_all();
    assert_eq!(h.names(), ["writeOk"]);
}

#[test]
fn stale_shutdown_is_ignored() {
    let mut h = H::connected();
    h.s.handle_shutdown(Ok(()), h.now);
    assert!(h.evs().is_empty());
}

// ---- destroy_soon ---------------------------------------------------------------------

#[test]
fn destroy_soon_flushes_then_closes_without_peer_fin() {
    let mut h = H::connected();
    h.write("data1");
    h.s.destroy_soon(h.now);
    h.cmds();
    h.flush_all();
    assert_eq!(h.cmds(), [Command::Shutdown]);
    h.s.handle_shutdown(Ok(()), h.now);
    assert_eq!(h.names(), ["writeOk", "finish", "close(false)"]);
}

#[test]
fn destroy_soon_after_finish_destroys_now() {
    let mut h = H::connected();
    h.s.end(h.now).unwrap();
    h.s.handle_shutdown(Ok(()), h.now);
    h.evs();
    h.s.destroy_soon(h.now);
    assert_eq!(h.names(), ["close(false)"]);
}

// ---- destroy --------------------------------------------------------------------------

#[test]
fn destroy_in_connect_handler_still_emits_ready() {
    let mut h = H::client();
    let a = h.connect_to(nodenet_core::ConnectOptions::tcp(80, "127.0.0.1"));
    h.s.handle_connected(a, None, h.now);
    assert_eq!(
        h.s.poll_event().map(|e| name(&e)),
        Some("connectionAttempt")
    );
    assert_eq!(h.s.poll_event(), Some(SocketEvent::Connect));
    h.s.destroy(None);
    assert!(h.s.destroyed());
    assert_eq!(h.names(), ["ready", "close(false)"]);
}

#[test]
fn destroy_with_error_in_connect_handler() {
    let mut h = H::connected();
    h.s.destroy(Some(Error::new(
        ErrorCode::Unknown(-1),
        nodenet_core::ErrorClass::Error,
        "EBOOM",
    )));
    let evs = h.evs();
    assert_eq!(
        evs.iter().map(name).collect::<Vec<_>>(),
        ["error", "close(true)"]
    );
    assert_eq!(error_of(&evs).message(), "EBOOM");
}

#[test]
fn destroy_properties() {
    let mut h = H::connected();
    h.s.destroy(None);
    assert_eq!(h.s.ready_state(), ReadyState::Closed);
    assert!(h.s.destroyed() && !h.s.connecting() && h.s.pending());
}

#[test]
fn destroy_emits_no_end_or_finish() {
    let mut h = H::connected();
    h.write("x");
    h.s.end(h.now).unwrap();
    h.s.destroy(None);
    let names = h.names();
    assert!(!names.contains(&"end") && !names.contains(&"finish"));
    assert_eq!(*names.last().unwrap(), "close(false)");
}

#[test]
fn nothing_after_close() {
    let mut h = H::connected();
    h.s.destroy(None);
    h.evs();
    assert_eq!(h.cmds(), [Command::Close { reset: false }]);
    h.s.handle_data(b("x"), h.now);
    h.s.handle_eof(h.now);
    h.s.handle_written(10, h.now);
    h.s.handle_shutdown(Ok(()), h.now);
    h.s.handle_read_error(ErrorCode::ECONNRESET, h.now);
    h.s.handle_write_error(ErrorCode::EPIPE, h.now);
    h.s.set_timeout(1, h.now).unwrap();
    h.run_timer();
    h.s.pause();
    h.s.resume(h.now);
    assert!(h.evs().is_empty());
    assert!(h.cmds().is_empty());
}

#[test]
fn peer_reset_while_idle() {
    let mut h = H::connected();
    h.s.handle_read_error(ErrorCode::ECONNRESET, h.now);
    assert_eq!(h.names(), ["error", "close(true)"]);
}

#[test]
fn half_open_peer_reset_then_writes() {
    let mut h = H::connected_with(half_open());
    assert!(h.write("first").ok);
    h.flush_all();
    h.write("second");
    h.s.handle_write_error(ErrorCode::EPIPE, h.now);
    let evs = h.evs();
    assert_eq!(
        evs.iter().map(name).collect::<Vec<_>>(),
        ["writeOk", "writeErr", "error", "close(true)"]
    );
    assert_eq!(error_of(&evs).message(), "write EPIPE");
}

// ---- reset_and_destroy ----------------------------------------------------------------

#[test]
fn reset_and_destroy_when_connected() {
    let mut h = H::connected();
    h.s.reset_and_destroy().unwrap();
    assert_eq!(h.cmds(), [Command::Close { reset: true }]);
    assert_eq!(h.names(), ["close(false)"]);
}

/// `end()` then `resetAndDestroy()` while the FIN is in flight: libuv refuses the reset
/// (`uv_tcp_close_reset` → `EINVAL` while the shutdown request is pending) and Node emits
/// `'error'` `reset EINVAL` at once; no RST goes out (the FIN stands). Node never emits
/// `'close'` then (the handle leaks); nodenet closes normally and does.
/// node (v20, loopback): `error EINVAL "Error: reset EINVAL" syscall reset`, then end's
/// callback with `ERR_STREAM_DESTROYED`, no `close`.
#[test]
fn reset_and_destroy_while_the_fin_is_in_flight_is_refused_then_closes() {
    let mut h = H::connected();
    h.s.end(h.now).unwrap();
    assert_eq!(h.cmds(), [Command::Shutdown]);
    h.s.handle_shutdown(Ok(()), h.now); // the backend sent the FIN at once
    h.s.reset_and_destroy().unwrap();
    assert!(h.s.destroyed());
    assert_eq!(h.cmds(), [Command::Close { reset: false }]);
    let evs = h.evs();
    let err = error_of(&evs);
    assert_eq!(err.code(), ErrorCode::EINVAL);
    assert_eq!(err.syscall(), Some("reset"));
    assert_eq!(err.to_string(), "Error: reset EINVAL");
    assert_eq!(
        evs.iter().map(name).collect::<Vec<_>>(),
        ["error", "close(false)"]
    );
    // The stream was destroyed, not errored: end() now reports a destroyed stream.
    assert_eq!(
        h.s.end(h.now).unwrap_err().code(),
        ErrorCode::ERR_STREAM_DESTROYED
    );
}

/// Once `Finish` was delivered the shutdown request is over and the reset goes through.
#[test]
fn reset_and_destroy_after_finish_resets() {
    let mut h = H::connected();
    h.s.end(h.now).unwrap();
    h.cmds();
    h.s.handle_shutdown(Ok(()), h.now);
    assert_eq!(h.names(), ["finish"]);
    h.s.reset_and_destroy().unwrap();
    assert_eq!(h.cmds(), [Command::Close { reset: true }]);
    assert_eq!(h.names(), ["close(false)"]);
}

/// `end()` with writes still queued has not asked for the FIN yet: the reset is allowed.
#[test]
fn reset_and_destroy_while_ending_with_queued_writes_resets() {
    let mut h = H::connected();
    h.write("x");
    h.s.end(h.now).unwrap();
    h.s.reset_and_destroy().unwrap();
    let cmds = h.cmds();
    assert!(!cmds.contains(&Command::Shutdown));
    assert_eq!(cmds.last(), Some(&Command::Close { reset: true }));
    let evs = h.evs();
    assert!(!evs.iter().any(|e| matches!(e, SocketEvent::Error(_))));
}

#[test]
fn reset_and_destroy_fails_queued_writes() {
    let mut h = H::connected();
    h.write("x");
    h.s.reset_and_destroy().unwrap();
    let evs = h.evs();
    assert_eq!(write_results(&evs), [Some("ERR_STREAM_DESTROYED".into())]);
}

#[test]
fn a_read_error_fails_the_queued_writes_after_the_error_event() {
    // Node (test-net-stream.js): a reset read while writes wait destroys the socket with
    // the read's error: 'error' (a tick), then the handle's close settles the writes
    // (nodenet fails the one in flight too, where Node reports it as successful: the
    // README's deliberate difference), then 'close'.
    let mut h = H::connected();
    h.write("first");
    h.write("second");
    h.s.handle_read_error(ErrorCode::ECONNRESET, h.now);
    let evs = h.evs();
    assert_eq!(
        evs.iter().map(name).collect::<Vec<_>>(),
        ["error", "writeErr", "writeErr", "close(true)"]
    );
    assert_eq!(
        write_results(&evs),
        [Some("ECONNRESET".into()), Some("ECONNRESET".into())]
    );
}

// ---- lifecycle invariants on common paths ----------------------------------------------

#[test]
fn close_is_last_and_single_on_graceful_path() {
    let mut h = H::connected();
    h.s.handle_eof(h.now);
    h.tick();
    h.s.handle_shutdown(Ok(()), h.now);
    h.s.destroy(None);
    let names = h.names();
    assert_eq!(names.iter().filter(|n| n.starts_with("close")).count(), 1);
    assert!(names.last().unwrap().starts_with("close"));
}

#[test]
fn auto_end_tick_after_destroy_does_nothing() {
    let mut h = H::connected();
    h.s.handle_eof(h.now);
    h.s.destroy(None);
    h.evs();
    h.cmds();
    h.tick();
    assert!(h.cmds().is_empty());
    assert_eq!(h.s.poll_timeout(), None);
}

/// Found by the proptest: data buffered while paused must not be delivered by a
/// `resume` after `Close`.
#[test]
fn regression_resume_after_destroy_delivers_nothing() {
    let mut h = H::connected();
    h.s.pause();
    h.s.handle_data(b("aaaa"), h.now);
    h.s.destroy(None);
    assert_eq!(h.names(), ["close(false)"]);
    h.s.resume(h.now);
    assert!(h.evs().is_empty());
    assert_eq!(h.s.readable_length(), 0);
}

#[test]
fn a_failed_shutdown_status_is_ignored_as_node_does() {
    let mut h = H::connected();
    h.s.end(h.now).unwrap();
    assert_eq!(h.cmds(), [Command::Shutdown]);
    h.s.handle_shutdown(Err(ErrorCode::ENOTCONN), h.now);
    assert_eq!(h.names(), ["finish"]);
    assert!(h.s.writable_finished());
}
