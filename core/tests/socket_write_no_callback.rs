//! `Socket::write_no_callback_with`: Node's `socket.write(data)` without a callback. The
//! queueing, return value, `Drain`, errors and close are those of a write with a callback;
//! only the `WriteDone` completions are missing (Node calls no callback it was not given).

mod socket_support;

use bytes::Bytes;
use nodenet_core::socket::{Command, SocketEvent};
use nodenet_core::{ErrorCode, SocketOptions, WriteId};
use socket_support::*;

fn would_block(_: &Bytes) -> Result<usize, ErrorCode> {
    Ok(0)
}

fn no_write_done(evs: &[SocketEvent]) -> bool {
    !evs.iter()
        .any(|e| matches!(e, SocketEvent::WriteDone { .. }))
}

#[test]
fn dispatched_write_completes_silently() {
    let mut h = H::connected();
    assert!(h.s.write_dispatch(b("ping"), |c| Ok(c.len()), h.now));
    assert_eq!(h.s.bytes_written(), 4);
    assert_eq!(h.s.writable_length(), 0);
    assert!(h.evs().is_empty(), "no WriteDone, nothing else");
    assert!(h.cmds().is_empty());
}

#[test]
fn queued_write_keeps_backpressure_and_drain() {
    let mut h = H::connected();
    let big = Bytes::from(vec![7u8; 20_000]);
    assert!(!h.s.write_dispatch(big, would_block, h.now));
    assert!(h.s.writable_need_drain());
    assert_eq!(h.cmds(), [Command::Write]);
    h.s.handle_written(20_000, h.now);
    assert_eq!(h.evs(), [SocketEvent::Drain]);
}

#[test]
fn mixed_writes_answer_only_the_ones_with_a_callback_in_order() {
    let mut h = H::connected();
    assert!(h.s.write_dispatch(b("a"), would_block, h.now));
    let second = h.s.write_tracked(b("b"), h.now);
    assert!(h.s.write_dispatch(b("c"), would_block, h.now));
    let fourth = h.s.write_tracked(b("d"), h.now);
    assert_ne!(second.id, WriteId::NO_CALLBACK);
    assert_eq!(
        h.s.write_chunks().collect::<Vec<_>>(),
        [b"a", b"b", b"c", b"d"]
    );
    h.s.handle_written(4, h.now);
    assert_eq!(
        h.evs(),
        [
            SocketEvent::WriteDone {
                id: second.id,
                result: Ok(())
            },
            SocketEvent::WriteDone {
                id: fourth.id,
                result: Ok(())
            },
        ]
    );
}

#[test]
fn write_after_end_still_errors_and_closes() {
    let mut h = H::connected();
    h.s.end(h.now).unwrap();
    let _ = h.evs();
    assert!(!h.s.write_dispatch(b("late"), would_block, h.now));
    let evs = h.evs();
    assert!(no_write_done(&evs), "{evs:?}");
    assert_eq!(error_of(&evs).code(), ErrorCode::ERR_STREAM_WRITE_AFTER_END);
    assert!(matches!(evs.last(), Some(SocketEvent::Close { .. })));
}

#[test]
fn destroy_with_queued_writes_reports_none_of_them() {
    let mut h = H::connected();
    assert!(h.s.write_dispatch(b("queued"), would_block, h.now));
    h.s.destroy(None);
    let evs = h.evs();
    assert!(no_write_done(&evs), "{evs:?}");
    assert!(matches!(evs.last(), Some(SocketEvent::Close { .. })));
}

#[test]
fn write_on_a_socket_that_never_connected_destroys_it_without_a_completion() {
    let mut h = H::new(SocketOptions::default());
    assert!(!h.s.write_dispatch(b("x"), would_block, h.now));
    h.tick();
    let evs = h.evs();
    assert!(no_write_done(&evs), "{evs:?}");
    assert_eq!(error_of(&evs).code(), ErrorCode::ERR_SOCKET_CLOSED);
}

#[test]
fn write_after_destroy_is_only_false() {
    let mut h = H::connected();
    h.s.destroy(None);
    let _ = h.evs();
    assert!(!h.s.write_dispatch(b("x"), would_block, h.now));
    assert!(h.evs().is_empty());
}

#[test]
fn over_the_buffer_cap_is_refused_without_a_completion() {
    let mut h = H::connected_with(SocketOptions {
        max_buffered_bytes: Some(4),
        ..SocketOptions::default()
    });
    assert!(!h.s.write_dispatch(b("too long"), would_block, h.now));
    assert_eq!(h.s.writable_length(), 0);
    assert!(h.evs().is_empty());
}
