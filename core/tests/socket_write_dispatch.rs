//! `Socket::write_with` (§3.1): Node computes `write()`'s return value after libuv's
//! synchronous dispatch attempt, so a write the kernel takes whole returns `true` at any
//! size, while a partly dispatched write still counts in full. Checked against node
//! v20.20.2 on loopback: `write(16 KiB)` → true, writableLength 0; `write(100 KB)` → true;
//! `write(64 MiB)` into a paused peer → false, writableLength 67108864.

mod socket_support;

use std::cell::Cell;

use bytes::Bytes;
use nodenet_core::socket::{Command, ConnectOptions, SocketEvent};
use nodenet_core::{ErrorCode, SocketOptions};
use socket_support::*;

fn zeros(n: usize) -> Bytes {
    Bytes::from(vec![0u8; n])
}

#[test]
fn fully_dispatched_16k_write_returns_true_without_drain() {
    let mut h = H::connected();
    let seen = Cell::new(0);
    let r = h.s.write_tracked_dispatch(
        zeros(16384),
        |c| {
            seen.set(c.len());
            Ok(c.len())
        },
        h.now,
    );
    assert_eq!(seen.get(), 16384, "the whole chunk is offered");
    assert!(r.ok, "Node returns true");
    assert!(!h.s.writable_need_drain());
    assert_eq!(h.s.writable_length(), 0);
    assert_eq!(h.s.bytes_written(), 16384);
    assert_eq!(
        h.evs(),
        [SocketEvent::WriteDone {
            id: r.id,
            result: Ok(())
        }]
    );
    assert!(h.cmds().is_empty(), "nothing left for the Write loop");
    assert!(h.s.write_chunks().next().is_none());
    // Nothing more happens: no Drain.
    h.s.handle_written(0, h.now);
    assert!(h.evs().is_empty());
}

#[test]
fn plain_write_of_16k_returns_false_then_drains() {
    // The backend that cannot dispatch synchronously: the pre-dispatch answer.
    let mut h = H::connected();
    let r = h.s.write_tracked(zeros(16384), h.now);
    assert!(!r.ok);
    assert!(h.s.writable_need_drain());
    assert_eq!(h.cmds(), [Command::Write]);
    h.flush_all();
    assert_eq!(h.names(), ["drain", "writeOk"]);
}

#[test]
fn would_block_dispatch_gives_the_queued_answer_and_drain() {
    let mut h = H::connected();
    let r = h.s.write_tracked_dispatch(zeros(16384), |_| Ok(0), h.now);
    assert!(!r.ok);
    assert_eq!(h.cmds(), [Command::Write]);
    assert!(h.evs().is_empty());
    h.flush_all();
    assert_eq!(h.names(), ["drain", "writeOk"]);
}

#[test]
fn partly_dispatched_write_counts_in_full_and_drains_when_done() {
    let mut h = H::connected();
    let r =
        h.s.write_tracked_dispatch(zeros(20000), |_| Ok(5000), h.now);
    assert!(!r.ok, "20000 >= 16384 until the whole write completes");
    assert!(h.s.writable_need_drain());
    assert_eq!(h.s.writable_length(), 15000);
    assert_eq!(h.s.bytes_written(), 20000);
    assert_eq!(
        h.cmds(),
        [Command::Write],
        "the rest goes through the Write loop"
    );
    assert_eq!(h.s.write_chunks().map(|c| c.len()).sum::<usize>(), 15000);
    assert!(h.evs().is_empty());
    h.s.handle_written(10000, h.now);
    assert!(h.evs().is_empty());
    h.s.handle_written(5000, h.now);
    assert_eq!(
        h.evs(),
        [
            SocketEvent::Drain,
            SocketEvent::WriteDone {
                id: r.id,
                result: Ok(())
            }
        ]
    );
}

#[test]
fn small_partly_dispatched_write_returns_true_and_never_drains() {
    let mut h = H::connected();
    let r = h.s.write_tracked_dispatch(zeros(100), |_| Ok(40), h.now);
    assert!(r.ok);
    h.cmds();
    h.flush_all();
    assert_eq!(h.names(), ["writeOk"]);
}

#[test]
fn a_write_in_flight_is_not_overtaken() {
    // Node dispatches only when no earlier write is in flight; later chunks queue.
    let mut h = H::connected();
    let first =
        h.s.write_tracked_dispatch(zeros(12000), |_| Ok(6000), h.now);
    assert!(first.ok, "12000 < 16384");
    let called = Cell::new(false);
    let second = h.s.write_tracked_dispatch(
        zeros(5000),
        |c| {
            called.set(true);
            Ok(c.len())
        },
        h.now,
    );
    assert!(!called.get(), "no dispatch behind a pending write");
    // Node's state.length: 12000 (in flight, counted in full) + 5000 >= 16384.
    assert!(!second.ok);
    // The same rule applies to the plain write.
    let third = h.write("x");
    assert!(!third.ok);
    h.cmds();
    h.flush_all();
    assert_eq!(h.names(), ["drain", "writeOk", "writeOk", "writeOk"]);
}

#[test]
fn no_dispatch_while_connecting() {
    let mut h = H::client();
    h.s.connect(ConnectOptions::tcp(80, "127.0.0.1"), h.now)
        .unwrap();
    let called = Cell::new(false);
    let r = h.s.write_tracked_dispatch(
        zeros(10),
        |c| {
            called.set(true);
            Ok(c.len())
        },
        h.now,
    );
    assert!(r.ok);
    assert!(!called.get());
    h.tick();
    let a = h.attempt();
    h.s.handle_connected(a, None, h.now);
    assert!(h.cmds().contains(&Command::Write), "flushed after connect");
}

#[test]
fn dispatch_error_destroys_like_a_write_error() {
    let mut h = H::connected();
    let r =
        h.s.write_tracked_dispatch(zeros(10), |_| Err(ErrorCode::EPIPE), h.now);
    assert!(!r.ok);
    let evs = h.evs();
    assert_eq!(
        evs.iter().map(name).collect::<Vec<_>>(),
        ["writeErr", "error", "close(true)"]
    );
    assert_eq!(error_of(&evs).message(), "write EPIPE");
    assert_eq!(h.cmds(), [Command::Close { reset: false }]);
}

#[test]
fn empty_write_completes_without_dispatch() {
    let mut h = H::connected();
    let called = Cell::new(false);
    let r = h.s.write_tracked_dispatch(
        Bytes::new(),
        |_| {
            called.set(true);
            Ok(0)
        },
        h.now,
    );
    assert!(r.ok);
    assert!(!called.get());
    assert_eq!(h.names(), ["writeOk"]);
}

#[test]
fn end_after_a_dispatched_write_shuts_down_at_once() {
    let mut h = H::connected();
    h.s.write_tracked_dispatch(zeros(10), |c| Ok(c.len()), h.now);
    h.s.end(h.now).unwrap();
    assert_eq!(h.cmds(), [Command::Shutdown]);
}

#[test]
fn custom_high_water_mark_is_respected() {
    let mut h = H::connected_with(SocketOptions {
        high_water_mark: 100,
        ..SocketOptions::default()
    });
    assert!(
        h.s.write_tracked_dispatch(zeros(1000), |c| Ok(c.len()), h.now)
            .ok
    );
    assert!(
        !h.s.write_tracked_dispatch(zeros(1000), |_| Ok(999), h.now)
            .ok
    );
}

#[test]
fn a_send_that_takes_nothing_is_epipe_and_results_map_to_the_inputs() {
    let mut h = H::connected();
    let r = h.s.write_tracked(Bytes::from_static(b"abcdef"), h.now);
    assert!(r.ok);
    h.cmds();
    h.evs();
    // Part of it went out, then a send took nothing of what is left.
    h.s.handle_send_result(Ok(2), h.now);
    assert_eq!(h.s.writable_length(), 4);
    assert!(h.evs().is_empty());
    h.s.handle_send_result(Ok(0), h.now);
    let evs = h.evs();
    let errors: Vec<&str> = evs
        .iter()
        .filter_map(|e| match e {
            SocketEvent::Error(e) => Some(e.message()),
            _ => None,
        })
        .collect();
    assert_eq!(errors, ["write EPIPE"]);
    assert_eq!(evs.last().map(name), Some("close(true)"));
    // With nothing queued, a 0-byte result is no error; an error result is one.
    let mut h = H::connected();
    h.s.handle_send_result(Ok(0), h.now);
    assert!(h.evs().is_empty());
    h.s.handle_send_result(Err(ErrorCode::ECONNRESET), h.now);
    assert!(h
        .evs()
        .iter()
        .any(|e| matches!(e, SocketEvent::Error(e) if e.message() == "write ECONNRESET")));
}
