//! `SocketOptions::max_buffered_bytes` (beyond Node, opt-in): with a peer that never reads
//! (the backend hands nothing back, so no write is ever acknowledged) the write queue stops
//! at the cap; each write that would pass it fails alone with `ERR_BUFFER_FULL` in its
//! `WriteDone`, returns `false`, and the socket stays open; `Drain` follows once the peer
//! catches up, so Node's `if (!write()) await drain` loop works unchanged.

use std::time::Instant;

use bytes::Bytes;
use nodenet_core::socket::{Command, ConnectOptions, Socket, SocketEvent};
use nodenet_core::{ErrorClass, ErrorCode, SocketOptions};

const CAP: usize = 1000;

fn connected(max: Option<usize>) -> (Socket, Instant) {
    let now = Instant::now();
    let mut s = Socket::new(SocketOptions {
        max_buffered_bytes: max,
        ..SocketOptions::default()
    });
    s.connect(ConnectOptions::tcp(80, "127.0.0.1"), now)
        .unwrap();
    s.handle_timeout(now);
    let attempt = std::iter::from_fn(|| s.poll_command())
        .find_map(|c| match c {
            Command::Connect { attempt, .. } => Some(attempt),
            _ => None,
        })
        .expect("connect command");
    s.handle_connected(attempt, "127.0.0.1:5000".parse().ok(), now);
    while s.poll_command().is_some() {}
    while s.poll_event().is_some() {}
    (s, now)
}

fn events(s: &mut Socket) -> Vec<SocketEvent> {
    std::iter::from_fn(|| s.poll_event()).collect()
}

#[test]
fn writes_past_the_cap_fail_with_buffer_full_and_the_queue_does_not_grow() {
    let (mut s, now) = connected(Some(CAP));
    let chunk = Bytes::from(vec![7u8; 300]);
    let mut accepted = 0;
    let mut refused = 0;
    // A peer that never reads: nothing is ever acknowledged with handle_written.
    for _ in 0..10_000 {
        let r = s.write_tracked(chunk.clone(), now);
        assert!(s.writable_length() <= CAP, "queue grew past the cap");
        match events(&mut s).as_slice() {
            [] => {
                accepted += 1;
                assert!(r.ok, "below the 16 KiB high-water mark");
            }
            [SocketEvent::WriteDone { id, result: Err(e) }] => {
                refused += 1;
                assert_eq!(*id, r.id);
                assert!(!r.ok);
                assert_eq!(e.code(), ErrorCode::ERR_BUFFER_FULL);
                assert_eq!(e.class(), ErrorClass::RangeError);
                assert_eq!(
                    e.message(),
                    "Write would exceed the socket's max_buffered_bytes (1000)"
                );
            }
            other => panic!("unexpected events {other:?}"),
        }
    }
    assert_eq!(accepted, 3);
    assert_eq!(refused, 10_000 - 3);
    assert_eq!(s.writable_length(), 900);
    // The socket is still open and usable: a write that fits exactly is queued.
    assert!(s.writable() && !s.destroyed());
    assert!(s.write_tracked(Bytes::from(vec![1u8; 100]), now).ok);
    assert_eq!(s.writable_length(), CAP);
    assert!(!s.write_tracked(Bytes::from_static(b"x"), now).ok);
    assert_eq!(s.writable_length(), CAP);
    // One Write command (for the first chunk) was all that was asked of the backend.
    assert_eq!(s.poll_command(), Some(Command::Write));
    assert_eq!(s.poll_command(), None);
}

#[test]
fn a_refused_write_is_followed_by_drain_once_the_peer_catches_up() {
    let (mut s, now) = connected(Some(CAP));
    assert!(s.write_tracked(Bytes::from(vec![1u8; 800]), now).ok);
    let refused = s.write_tracked(Bytes::from(vec![2u8; 800]), now);
    assert!(!refused.ok);
    let _ = events(&mut s);
    // The peer reads everything that was queued.
    let queued: usize = s.write_chunks().map(<[u8]>::len).sum();
    assert_eq!(queued, 800);
    s.handle_written(queued, now);
    let evs = events(&mut s);
    assert_eq!(evs.first(), Some(&SocketEvent::Drain), "{evs:?}");
    assert!(matches!(
        evs.get(1),
        Some(SocketEvent::WriteDone { result: Ok(()), .. })
    ));
    // After Drain the retried write fits.
    assert!(s.write_tracked(Bytes::from(vec![2u8; 800]), now).ok);
}

#[test]
fn a_chunk_larger_than_the_cap_is_refused_even_on_an_empty_queue() {
    let (mut s, now) = connected(Some(CAP));
    let r = s.write_tracked(Bytes::from(vec![0u8; CAP + 1]), now);
    assert!(!r.ok);
    assert_eq!(s.writable_length(), 0);
    match events(&mut s).as_slice() {
        [SocketEvent::WriteDone { result: Err(e), .. }] => {
            assert_eq!(e.code(), ErrorCode::ERR_BUFFER_FULL)
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(s.poll_command(), None, "nothing to write");
}

#[test]
fn without_the_option_the_queue_is_unbounded_like_node() {
    let (mut s, now) = connected(None);
    for _ in 0..100 {
        s.write_tracked(Bytes::from(vec![0u8; 1000]), now);
    }
    assert_eq!(s.writable_length(), 100_000);
    assert!(!events(&mut s)
        .iter()
        .any(|e| matches!(e, SocketEvent::WriteDone { result: Err(_), .. })));
}

#[test]
fn the_cap_also_bounds_writes_queued_while_connecting() {
    let now = Instant::now();
    let mut s = Socket::new(SocketOptions {
        max_buffered_bytes: Some(CAP),
        ..SocketOptions::default()
    });
    s.connect(ConnectOptions::tcp(80, "127.0.0.1"), now)
        .unwrap();
    for _ in 0..10 {
        s.write_tracked(Bytes::from(vec![0u8; 400]), now);
    }
    assert_eq!(s.writable_length(), 800);
}
