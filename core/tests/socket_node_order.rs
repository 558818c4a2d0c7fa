//! Node v20's event order where its stream machinery defers work (`process.nextTick`,
//! `errorOrDestroy`, the handle's close callback), issue 17 items 1–5, 7–9. Each test
//! drives the socket as nodenet's driver does (the backend may finish a write or the FIN
//! inside the user's call) and states the trace `node` printed for the same steps on
//! loopback; `next_names` stops inside a handler, `names` drains like a driver.

mod socket_support;

use nodenet_core::socket::{Command, ConnectOptions, ReadyState, SocketEvent};
use nodenet_core::{Error, ErrorCode};
use socket_support::*;

/// What nodenet's driver does after `end()`: run the commands at once, answering the FIN.
fn run_commands_like_the_driver(h: &mut H) {
    for cmd in h.cmds() {
        match cmd {
            Command::Write => h.flush_all(),
            Command::Shutdown => h.s.handle_shutdown(Ok(()), h.now),
            _ => {}
        }
    }
}

/// Item 1, Node's test-net-write-after-end-nt.js: the client `end()`s, the server ends
/// too; a write from the `'end'` handler.
/// node: prefinish, finish, end [destroyed false, writableEnded true, writableFinished
/// true], write() → false (destroyed true), write cb EPIPE 'This socket has been ended
/// by the other party', error EPIPE, close(true).
#[test]
fn write_in_end_handler_after_own_end_is_epipe_then_error_then_close_true() {
    let mut h = H::connected();
    h.s.end(h.now).unwrap();
    run_commands_like_the_driver(&mut h);
    assert_eq!(h.names(), ["finish"]);
    h.s.handle_eof(h.now);
    assert_eq!(h.next_names(1), ["end"]);
    // Inside the 'end' handler the socket is not destroyed yet.
    assert!(!h.s.destroyed());
    assert!(h.s.writable_ended() && h.s.writable_finished());
    let r = h.write("hello");
    assert!(!r.ok);
    assert!(h.s.destroyed());
    let evs = h.evs();
    assert_eq!(
        evs.iter().map(name).collect::<Vec<_>>(),
        ["writeErr", "error", "close(true)"]
    );
    assert_eq!(write_results(&evs), [Some("EPIPE".into())]);
    let e = error_of(&evs);
    assert_eq!(
        (e.code(), e.message()),
        (
            ErrorCode::EPIPE,
            "This socket has been ended by the other party"
        )
    );
}

/// Item 2: `end(data)` then `write()` on a connected socket.
/// node: write() → false, write cb ERR_STREAM_WRITE_AFTER_END, end cb
/// ERR_STREAM_WRITE_AFTER_END, error ERR_STREAM_WRITE_AFTER_END, close(true); no finish.
#[test]
fn write_after_end_with_data_fails_and_finish_never_comes() {
    let mut h = H::connected();
    let first =
        h.s.write_tracked_dispatch(b("data"), |chunk| Ok(chunk.len()), h.now);
    assert!(h.s.end(h.now).is_ok());
    // The backend sends the FIN at once, still inside the user's code.
    run_commands_like_the_driver(&mut h);
    let r = h.write("x");
    assert!(!r.ok);
    let evs = h.evs();
    assert_eq!(
        evs.iter().map(name).collect::<Vec<_>>(),
        ["writeOk", "writeErr", "error", "close(true)"]
    );
    assert_eq!(
        evs[0],
        SocketEvent::WriteDone {
            id: first.id,
            result: Ok(())
        }
    );
    assert_eq!(
        write_results(&evs)[1].as_deref(),
        Some("ERR_STREAM_WRITE_AFTER_END")
    );
    assert_eq!(error_of(&evs).message(), "write after end");
    assert!(!h.s.writable_finished());
}

/// Item 3: `write('data1'); destroySoon()`.
/// node: right after: destroyed false, readyState readOnly, writable false,
/// writableEnded true, writableFinished false; write cb null; (a 'finish' listener added
/// before destroySoon: destroyed false, readOnly); prefinish, finish, close(false).
#[test]
fn destroy_soon_is_not_destroyed_until_finish_was_handled() {
    let mut h = H::connected();
    h.write("data1");
    h.s.destroy_soon(h.now);
    assert!(!h.s.destroyed());
    assert_eq!(h.s.ready_state(), ReadyState::ReadOnly);
    assert!(!h.s.writable() && h.s.writable_ended() && !h.s.writable_finished());
    // The backend writes and sends the FIN at once.
    run_commands_like_the_driver(&mut h);
    run_commands_like_the_driver(&mut h);
    assert!(!h.s.destroyed(), "still not destroyed before 'finish'");
    assert_eq!(h.next_names(2), ["writeOk", "finish"]);
    assert!(!h.s.destroyed());
    assert_eq!(h.s.ready_state(), ReadyState::ReadOnly);
    assert_eq!(h.names(), ["close(false)"]);
    assert!(h.s.destroyed());
    assert_eq!(h.s.ready_state(), ReadyState::Closed);
}

/// Item 4: `destroy(); write('x', cb)`.
/// node: write() → false, write cb ERR_STREAM_DESTROYED 'Cannot call write after a
/// stream was destroyed', close(false); no error.
#[test]
fn write_after_destroy_calls_back_before_close() {
    let mut h = H::connected();
    h.s.destroy(None);
    let r = h.write("x");
    assert!(!r.ok);
    let evs = h.evs();
    assert_eq!(
        evs.iter().map(name).collect::<Vec<_>>(),
        ["writeErr", "close(false)"]
    );
    assert_eq!(write_results(&evs), [Some("ERR_STREAM_DESTROYED".into())]);
}

/// Item 5, Node's test-net-write-cb-on-destroy-before-connect.js: a write while
/// connecting, then `destroy()`.
/// node: close(false), then write cb ERR_SOCKET_CLOSED_BEFORE_CONNECTION 'Socket closed
/// before the connection was established' (the callback is a 'close' listener added by
/// the write, after the user's).
#[test]
fn write_queued_while_connecting_then_destroy_closes_first() {
    let mut h = H::client();
    h.s.connect(ConnectOptions::tcp(80, "127.0.0.1"), h.now)
        .unwrap();
    h.write("foo");
    h.s.destroy(None);
    let evs = h.evs();
    assert_eq!(
        evs.iter().map(name).collect::<Vec<_>>(),
        ["close(false)", "writeErr"]
    );
    let SocketEvent::WriteDone { result: Err(e), .. } = &evs[1] else {
        panic!("{evs:?}")
    };
    assert_eq!(
        e.to_string(),
        "Error [ERR_SOCKET_CLOSED_BEFORE_CONNECTION]: Socket closed before the connection was established"
    );
}

/// Item 5, with an error: node (close listener added first): error boom, close(true),
/// write cb ERR_SOCKET_CLOSED_BEFORE_CONNECTION, then the buffered writes with the
/// stream's error.
#[test]
fn writes_queued_while_connecting_then_destroy_with_error() {
    let mut h = H::client();
    h.s.connect(ConnectOptions::tcp(80, "127.0.0.1"), h.now)
        .unwrap();
    h.write("a");
    h.write("b");
    h.s.destroy(Some(Error::abort()));
    let evs = h.evs();
    assert_eq!(
        evs.iter().map(name).collect::<Vec<_>>(),
        ["error", "close(true)", "writeErr", "writeErr"]
    );
    assert_eq!(
        write_results(&evs),
        [
            Some("ERR_SOCKET_CLOSED_BEFORE_CONNECTION".into()),
            Some("ABORT_ERR".into())
        ]
    );
}

/// Connected, writes in flight and buffered, then `destroy(err)`.
/// node: error boom, (user nextTick, setImmediate), the writes' callbacks as the handle
/// closes, close(true). (Node reports the write in flight as successful, `cb(null)`;
/// nodenet fails it too: it was cancelled, not written.)
#[test]
fn queued_writes_fail_as_the_handle_closes_after_the_error() {
    let mut h = H::connected();
    h.write("big");
    h.write("b");
    h.s.destroy(Some(Error::abort()));
    let evs = h.evs();
    assert_eq!(
        evs.iter().map(name).collect::<Vec<_>>(),
        ["error", "writeErr", "writeErr", "close(true)"]
    );
}

/// Item 7: `remoteAddress` read for the first time in `'close'` is undefined; read while
/// open it is cached.
/// node: a socket read before: 'close' → 127.0.0.1 <port> IPv4; never read before:
/// undefined (also right after destroy()); localAddress undefined in both.
#[test]
fn remote_address_is_cached_only_when_read_while_open() {
    let mut never = H::connected();
    never.s.destroy(None);
    assert_eq!(never.names(), ["close(false)"]);
    assert_eq!(never.s.remote_address(), None);
    assert_eq!(never.s.remote_port(), None);
    assert_eq!(never.s.remote_family(), None);
    assert_eq!(never.s.local_address(), None);

    let mut read = H::connected();
    assert_eq!(read.s.remote_port(), Some(80));
    read.s.destroy(None);
    assert_eq!(read.names(), ["close(false)"]);
    assert_eq!(read.s.remote_address(), "127.0.0.1".parse().ok());
    assert_eq!(read.s.remote_port(), Some(80));
    assert_eq!(read.s.local_address(), None);

    // While connecting (again) there is no peer until the cache or a connect says so.
    let mut again = H::connected();
    again.s.destroy(None);
    again.evs();
    again
        .s
        .connect(ConnectOptions::tcp(81, "127.0.0.1"), again.now)
        .unwrap();
    assert_eq!(again.s.remote_address(), None);
}

/// Item 8: `end()` after `destroy()`.
/// node: end() returns the socket, writableEnded true, the callback is never called, no
/// event but close(false). After destroy(err): end's callback gets ERR_STREAM_DESTROYED
/// 'Cannot call end after a stream was destroyed' (after 'error', before 'close').
#[test]
fn end_after_destroy_is_a_silent_no_op() {
    let mut h = H::connected();
    h.s.destroy(None);
    assert_eq!(h.s.end(h.now), Ok(()));
    assert!(h.s.writable_ended());
    assert_eq!(h.names(), ["close(false)"]);
    assert_eq!(h.cmds(), [Command::Close { reset: false }]);

    let mut h = H::connected();
    h.s.destroy(Some(Error::abort()));
    let e = h.s.end(h.now).unwrap_err();
    assert_eq!(e.code(), ErrorCode::ERR_STREAM_DESTROYED);
    assert_eq!(e.message(), "Cannot call end after a stream was destroyed");
    assert!(!h.s.writable_ended());
}

/// Item 9: `connect()` on a connected socket is refused with EISCONN (see
/// `Socket::connect` for why this is deliberately not Node's first-retry quirk). The shape
/// is Node's for a connect the kernel refuses (node, on an accepted socket):
/// connectionAttempt ::1 P 6, error 'connect EISCONN ::1:P - Local (127.0.0.1:L)',
/// close(true).
#[test]
fn connect_on_a_connected_socket_is_eisconn_with_the_local_address() {
    let mut h = H::connected();
    h.s.connect(ConnectOptions::tcp(443, "::1"), h.now).unwrap();
    assert!(h.s.connecting());
    let evs = h.evs();
    assert_eq!(
        evs.iter().map(name).collect::<Vec<_>>(),
        ["connectionAttempt", "error", "close(true)"]
    );
    assert_eq!(
        error_of(&evs).message(),
        "connect EISCONN ::1:443 - Local (127.0.0.1:50000)"
    );
    assert!(h
        .cmds()
        .iter()
        .all(|c| !matches!(c, Command::Connect { .. })));
}

/// A completion the backend reports inside the user's call (here: part of a write the
/// kernel took at once) runs no tick: two writes in the `'end'` handler both succeed,
/// as in Node (spec §2.1: the automatic end() runs on a later tick).
#[test]
fn completion_inside_an_end_handler_does_not_run_the_automatic_end() {
    let mut h = H::connected();
    h.s.handle_eof(h.now);
    assert_eq!(h.next_names(1), ["end"]);
    assert!(h.write("first").ok);
    h.s.handle_written(2, h.now);
    assert!(h.write("second").ok);
    h.flush_all();
    assert_eq!(h.names(), ["writeOk", "writeOk"]);
    assert_eq!(h.cmds(), [Command::Write, Command::Shutdown]);
}
