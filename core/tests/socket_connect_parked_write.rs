//! The write parked while connecting (Node's `_pendingData`): Node writes it from a
//! `'connect'` listener, so when libuv's `try_write` takes it whole its callback runs
//! inside the `connect` emission, before `ready` (test-net-connect-buffer on node
//! v20.20.2: `connect`, write callback with `bytesWritten` 18, `pending` false, then
//! `ready`). `Socket::handle_connected_dispatch` gives the core that synchronous write.

mod socket_support;

use std::cell::Cell;

use nodenet_core::socket::{Command, ConnectOptions, SocketEvent};
use nodenet_core::{ErrorCode, SocketOptions};
use socket_support::*;

/// A client connecting to 127.0.0.1:80, its `Connect` command taken; returns the attempt.
fn connecting(h: &mut H) -> nodenet_core::AttemptId {
    h.s.connect(ConnectOptions::tcp(80, "127.0.0.1"), h.now)
        .unwrap();
    h.tick();
    let a = h.attempt();
    h.evs();
    a
}

#[test]
fn a_parked_write_taken_whole_completes_before_ready() {
    let mut h = H::new(SocketOptions {
        high_water_mark: 0,
        ..SocketOptions::default()
    });
    h.s.connect(ConnectOptions::tcp(80, "127.0.0.1"), h.now)
        .unwrap();
    let first = h.write("L'État, c'est ");
    assert!(!first.ok, "highWaterMark 0: false");
    // end(data) while connecting: the data is buffered behind the parked write.
    let _ = h.s.end_with(b("moi"), h.now);
    h.tick();
    let a = h.attempt();
    h.evs();
    let offered = Cell::new(Vec::new());
    h.s.handle_connected_dispatch(
        a,
        "127.0.0.1:5555".parse().ok(),
        |chunk| {
            offered.set(chunk.to_vec());
            Ok(chunk.len())
        },
        h.now,
    );
    // Only the parked (first) write is offered; end()'s data waits for the Write loop.
    assert_eq!(offered.take(), "L'État, c'est ".as_bytes());
    assert_eq!(
        h.evs(),
        [
            SocketEvent::Connect,
            SocketEvent::WriteDone {
                id: first.id,
                result: Ok(())
            },
            SocketEvent::Ready
        ]
    );
    assert_eq!(h.s.bytes_written(), 18);
    assert!(!h.s.pending());
    assert!(h.cmds().contains(&Command::Write));
    h.flush_all();
    assert!(h.cmds().contains(&Command::Shutdown));
}

#[test]
fn a_due_drain_comes_before_the_callback_and_ready() {
    // Writable's afterWrite: 'drain' (the queue is empty, write() had said false), then
    // the callback.
    let mut h = H::new(SocketOptions {
        high_water_mark: 2,
        ..SocketOptions::default()
    });
    h.s.connect(ConnectOptions::tcp(80, "127.0.0.1"), h.now)
        .unwrap();
    let w = h.write("hello");
    assert!(!w.ok);
    h.tick();
    let a = h.attempt();
    h.evs();
    h.s.handle_connected_dispatch(a, None, |chunk| Ok(chunk.len()), h.now);
    assert_eq!(h.names(), ["connect", "drain", "writeOk", "ready"]);
    assert!(
        h.cmds().iter().all(|c| *c != Command::Write),
        "nothing left"
    );
}

#[test]
fn writes_behind_the_parked_one_complete_on_later_ticks() {
    let mut h = H::client();
    h.s.connect(ConnectOptions::tcp(80, "127.0.0.1"), h.now)
        .unwrap();
    let first = h.write("a");
    let second = h.write("b");
    h.tick();
    let a = h.attempt();
    h.evs();
    h.s.handle_connected_dispatch(a, None, |chunk| Ok(chunk.len()), h.now);
    assert_eq!(h.names(), ["connect", "writeOk", "ready"]);
    h.flush_all();
    assert_eq!(
        h.evs(),
        [SocketEvent::WriteDone {
            id: second.id,
            result: Ok(())
        }]
    );
    assert_ne!(first.id, second.id);
}

#[test]
fn a_partly_taken_parked_write_completes_later() {
    let mut h = H::client();
    let a = connecting(&mut h);
    // (connect() again is not needed: the write goes in while connecting.)
    let w = h.write("hello");
    h.s.handle_connected_dispatch(a, None, |_| Ok(2), h.now);
    assert_eq!(h.names(), ["connect", "ready"]);
    assert_eq!(h.s.write_chunks().next(), Some(&b"llo"[..]));
    h.flush_all();
    assert_eq!(
        h.evs(),
        [SocketEvent::WriteDone {
            id: w.id,
            result: Ok(())
        }]
    );
}

#[test]
fn a_failed_parked_write_destroys_after_connect() {
    let mut h = H::client();
    let a = connecting(&mut h);
    // Node's onwriteError runs inside the connect emission: the parked write's
    // callback and the buffered one's, with the error; then ready; error and close on
    // the ticks after.
    let w = h.write("hello");
    let w2 = h.write("there");
    h.s.handle_connected_dispatch(a, None, |_| Err(ErrorCode::EPIPE), h.now);
    let evs = h.evs();
    let names: Vec<&str> = evs.iter().map(name).collect();
    assert_eq!(
        names,
        [
            "connect",
            "writeErr",
            "writeErr",
            "ready",
            "error",
            "close(true)"
        ]
    );
    assert_eq!(error_of(&evs).message(), "write EPIPE");
    assert!(matches!(&evs[1], SocketEvent::WriteDone { id, .. } if *id == w.id));
    assert!(matches!(&evs[2], SocketEvent::WriteDone { id, .. } if *id == w2.id));
    assert!(h.s.destroyed());
}

#[test]
fn without_dispatch_the_parked_write_waits_for_the_write_loop() {
    let mut h = H::client();
    let a = connecting(&mut h);
    h.write("hello");
    h.s.handle_connected(a, None, h.now);
    assert_eq!(h.names(), ["connect", "ready"]);
    assert!(h.cmds().contains(&Command::Write));
    h.flush_all();
    assert_eq!(h.names(), ["writeOk"]);
}

#[test]
fn nothing_parked_means_nothing_dispatched() {
    let mut h = H::client();
    let a = connecting(&mut h);
    let called = Cell::new(false);
    h.s.handle_connected_dispatch(
        a,
        None,
        |_| {
            called.set(true);
            Ok(0)
        },
        h.now,
    );
    assert!(!called.get());
    assert_eq!(h.names(), ["connect", "ready"]);
}
