//! Transcripts for an OPEN socket (§2 rule 2, §3, §4.3): reading, pause/resume,
//! encodings, the write queue and its accounting, `Drain`, write completions, the idle
//! timer's refresh rules, socket options, and accepted (server-side) sockets.

mod socket_support;

use std::time::Duration;

use bytes::Bytes;
use nodenet_core::socket::{Command, ReadyState, SocketEvent};
use nodenet_core::{Endpoint, ErrorCode, SocketOptions};
use socket_support::*;

// ---- reading ------------------------------------------------------------------------

#[test]
fn data_is_delivered_and_counted() {
    let mut h = H::connected();
    h.s.handle_data(b("hello"), h.now);
    assert_eq!(h.evs(), [SocketEvent::Data(b("hello"))]);
    assert_eq!(h.s.bytes_read(), 5);
}

#[test]
fn data_chunks_keep_their_order() {
    let mut h = H::connected();
    for c in ["a", "bc", "def"] {
        h.s.handle_data(b(c), h.now);
    }
    assert_eq!(
        h.evs(),
        [
            SocketEvent::Data(b("a")),
            SocketEvent::Data(b("bc")),
            SocketEvent::Data(b("def"))
        ]
    );
}

#[test]
fn pause_keeps_reading_into_the_buffer_up_to_the_high_water_mark() {
    // Node's pause() only stops the flow: the socket reads on until push() says the
    // buffer holds a high-water mark (16 KiB), then stops.
    let mut h = H::connected();
    h.s.pause();
    assert!(h.cmds().is_empty());
    h.s.handle_data(b("late"), h.now);
    assert!(h.evs().is_empty());
    assert_eq!(h.s.readable_length(), 4);
    assert_eq!(h.s.bytes_read(), 4);
    assert!(h.cmds().is_empty());
    h.s.handle_data(Bytes::from(vec![b'x'; 16 * 1024 - 4]), h.now);
    assert_eq!(h.cmds(), [Command::StopReading]);
    h.s.resume(h.now);
    assert_eq!(h.names(), ["data", "data"]);
    assert_eq!(h.s.readable_length(), 0);
    assert_eq!(h.cmds(), [Command::StartReading]);
}

#[test]
fn pause_twice_stops_nothing_while_the_buffer_is_empty() {
    let mut h = H::connected();
    h.s.pause();
    h.s.pause();
    assert!(h.cmds().is_empty());
}

#[test]
fn a_paused_socket_with_nothing_buffered_still_ends_at_eof() {
    // net's EOF handling calls read(0), which ends an empty stream flowing or not; with
    // allowHalfOpen false the write side then ends too.
    let mut h = H::connected();
    h.s.pause();
    h.s.handle_eof(h.now);
    assert_eq!(h.next_names(1), ["end"]);
    h.tick();
    assert!(h.cmds().contains(&Command::Shutdown));
}

#[test]
fn a_paused_socket_with_data_buffered_ends_after_resume() {
    let mut h = H::connected();
    h.s.pause();
    h.s.handle_data(b("held"), h.now);
    h.s.handle_eof(h.now);
    assert!(h.evs().is_empty());
    h.s.resume(h.now);
    assert_eq!(h.next_names(2), ["data", "end"]);
}

#[test]
fn resume_when_not_paused_does_nothing() {
    let mut h = H::connected();
    h.s.resume(h.now);
    assert!(h.cmds().is_empty());
}

#[test]
fn eof_while_paused_waits_for_resume() {
    let mut h = H::connected();
    h.s.pause();
    h.s.handle_data(b("14-byte-chunk!"), h.now);
    h.s.handle_eof(h.now);
    assert!(h.evs().is_empty(), "an unread socket never ends");
    assert_eq!(h.s.ready_state(), ReadyState::Open);
    h.s.resume(h.now);
    assert_eq!(h.next_names(2), ["data", "end"]);
    assert_eq!(h.s.ready_state(), ReadyState::WriteOnly);
    assert!(!h.cmds().contains(&Command::StartReading));
}

#[test]
fn utf8_encoding_split_sequence() {
    let mut h = H::connected();
    h.s.set_encoding("utf8").unwrap();
    let bytes = "héllo wörld".as_bytes();
    h.s.handle_data(Bytes::copy_from_slice(&bytes[..2]), h.now);
    h.s.handle_data(Bytes::copy_from_slice(&bytes[2..]), h.now);
    let text: String = h
        .evs()
        .into_iter()
        .map(|e| match e {
            SocketEvent::Text(s) => s,
            e => panic!("{e:?}"),
        })
        .collect();
    assert_eq!(text, "héllo wörld");
}

#[test]
fn utf8_incomplete_tail_at_end() {
    let mut h = H::connected();
    h.s.set_encoding("utf-8").unwrap();
    h.s.handle_data(Bytes::from_static(&[b'a', 0xE2, 0x82]), h.now);
    h.s.handle_eof(h.now);
    assert_eq!(
        h.evs(),
        [
            SocketEvent::Text("a".into()),
            SocketEvent::Text("\u{FFFD}".into()),
            SocketEvent::End
        ]
    );
}

#[test]
fn chunk_with_only_a_lead_byte_emits_nothing() {
    let mut h = H::connected();
    h.s.set_encoding("utf8").unwrap();
    h.s.handle_data(Bytes::from_static(&[0xE2]), h.now);
    assert!(h.evs().is_empty());
    h.s.handle_data(Bytes::from_static(&[0x82, 0xAC]), h.now);
    assert_eq!(h.evs(), [SocketEvent::Text("€".into())]);
}

#[test]
fn hex_and_latin1_encodings() {
    let mut h = H::connected();
    h.s.set_encoding("hex").unwrap();
    h.s.handle_data(Bytes::from_static(&[0xde, 0xad]), h.now);
    h.s.set_encoding("latin1").unwrap();
    h.s.handle_data(Bytes::from_static(&[0xe9]), h.now);
    assert_eq!(
        h.evs(),
        [
            SocketEvent::Text("dead".into()),
            SocketEvent::Text("é".into())
        ]
    );
}

#[test]
fn encoding_applies_to_buffered_data_on_resume() {
    let mut h = H::connected();
    h.s.pause();
    h.s.handle_data(b("hi"), h.now);
    h.s.set_encoding("utf8").unwrap();
    h.s.resume(h.now);
    assert_eq!(h.evs(), [SocketEvent::Text("hi".into())]);
}

#[test]
fn read_error_destroys_with_read_errno() {
    let mut h = H::connected();
    h.s.handle_read_error(ErrorCode::ECONNRESET, h.now);
    let evs = h.evs();
    assert_eq!(
        evs.iter().map(name).collect::<Vec<_>>(),
        ["error", "close(true)"]
    );
    let e = error_of(&evs);
    assert_eq!(e.message(), "read ECONNRESET");
    assert_eq!((e.errno(), e.syscall()), (Some(-104), Some("read")));
    assert_eq!(h.cmds(), [Command::Close { reset: false }]);
}

#[test]
fn data_after_eof_is_ignored() {
    let mut h = H::connected_with(SocketOptions {
        allow_half_open: true,
        ..SocketOptions::default()
    });
    h.s.handle_eof(h.now);
    h.evs();
    h.s.handle_data(b("x"), h.now);
    assert!(h.evs().is_empty());
    assert_eq!(h.s.bytes_read(), 0);
}

// ---- writing ------------------------------------------------------------------------

#[test]
fn write_issues_one_write_command_until_drained() {
    let mut h = H::connected();
    assert!(h.write("a").ok);
    assert!(h.write("b").ok);
    assert_eq!(h.cmds(), [Command::Write]);
    assert_eq!(
        h.s.write_chunks().collect::<Vec<_>>(),
        [&b"a"[..], &b"b"[..]]
    );
    h.flush_all();
    assert_eq!(h.names(), ["writeOk", "writeOk"]);
    h.write("c");
    assert_eq!(h.cmds(), [Command::Write]);
}

#[test]
fn partial_writes_keep_the_write_open() {
    let mut h = H::connected();
    let r = h.write("hello");
    h.cmds();
    h.s.handle_written(2, h.now);
    assert!(h.evs().is_empty());
    assert_eq!(h.s.peek_write(), Some(&b"llo"[..]));
    assert_eq!(h.s.writable_length(), 3);
    assert_eq!(h.s.bytes_written(), 5);
    h.s.handle_written(3, h.now);
    assert_eq!(
        h.evs(),
        [SocketEvent::WriteDone {
            id: r.id,
            result: Ok(())
        }]
    );
    assert!(h.cmds().is_empty());
}

#[test]
fn written_more_than_queued_is_clamped() {
    let mut h = H::connected();
    h.write("abc");
    h.s.handle_written(1000, h.now);
    assert_eq!(h.s.bytes_written(), 3);
    assert_eq!(h.names(), ["writeOk"]);
}

#[test]
fn write_ids_are_unique_and_increasing() {
    let mut h = H::connected();
    let a = h.write("a").id;
    let b2 = h.write("b").id;
    assert!(b2 > a);
}

#[test]
fn empty_write_completes_without_io() {
    let mut h = H::connected();
    let r = h.s.write_tracked(Bytes::new(), h.now);
    assert!(r.ok);
    assert_eq!(h.names(), ["writeOk"]);
    assert!(h.cmds().is_empty());
}

#[test]
fn empty_write_behind_data_completes_with_it() {
    let mut h = H::connected();
    h.write("ab");
    h.s.write_tracked(Bytes::new(), h.now);
    h.flush_all();
    assert_eq!(h.names(), ["writeOk", "writeOk"]);
}

#[test]
fn write_returns_false_at_high_water_mark() {
    let mut h = H::connected();
    assert!(h.s.write_tracked(Bytes::from(vec![0; 16383]), h.now).ok);
    assert!(!h.s.write_tracked(Bytes::from(vec![0; 1]), h.now).ok);
    assert!(h.s.writable_need_drain());
}

#[test]
fn drain_only_after_false_and_when_empty() {
    let mut h = H::connected();
    h.s.write_tracked(Bytes::from(vec![0; 20000]), h.now);
    h.s.handle_written(10000, h.now);
    assert!(h.evs().is_empty());
    h.s.handle_written(10000, h.now);
    assert_eq!(h.names(), ["drain", "writeOk"]);
    assert!(!h.s.writable_need_drain());
}

#[test]
fn no_drain_without_backpressure() {
    let mut h = H::connected();
    h.write("small");
    h.flush_all();
    assert_eq!(h.names(), ["writeOk"]);
}

#[test]
fn custom_high_water_mark_applies() {
    let mut h = H::connected_with(SocketOptions {
        high_water_mark: 4,
        ..SocketOptions::default()
    });
    assert!(h.write("abc").ok);
    assert!(!h.write("d").ok);
}

#[test]
fn large_queue_accounting() {
    let mut h = H::connected();
    let mut falses = 0;
    for _ in 0..4 {
        if !h.s.write_tracked(Bytes::from(vec![0; 65536]), h.now).ok {
            falses += 1;
        }
    }
    assert_eq!(falses, 4);
    assert_eq!(h.s.writable_length(), 4 * 65536);
    assert_eq!(h.s.bytes_written(), 4 * 65536);
}

#[test]
fn max_buffered_bytes_rejects_without_destroying() {
    let mut h = H::connected_with(SocketOptions {
        max_buffered_bytes: Some(4),
        ..SocketOptions::default()
    });
    h.write("abcd");
    let r = h.write("e");
    assert!(!r.ok);
    let evs = h.evs();
    assert_eq!(write_results(&evs), [Some("ERR_BUFFER_FULL".into())]);
    assert!(!h.s.destroyed());
    assert_eq!(h.s.writable_length(), 4);
}

#[test]
fn write_error_fails_queue_then_error_and_close() {
    let mut h = H::connected();
    h.write("one");
    h.write("two");
    h.s.handle_write_error(ErrorCode::EPIPE, h.now);
    let evs = h.evs();
    assert_eq!(
        evs.iter().map(name).collect::<Vec<_>>(),
        ["writeErr", "writeErr", "error", "close(true)"]
    );
    let e = error_of(&evs);
    assert_eq!(e.message(), "write EPIPE");
    assert_eq!(e.errno(), Some(-32));
}

#[test]
fn destroy_fails_queued_writes_with_stream_destroyed() {
    let mut h = H::connected();
    h.write("one");
    h.s.destroy(None);
    let evs = h.evs();
    assert_eq!(write_results(&evs), [Some("ERR_STREAM_DESTROYED".into())]);
    assert_eq!(name(evs.last().unwrap()), "close(false)");
}

#[test]
fn destroy_with_error_fails_queued_writes_with_it() {
    let mut h = H::connected();
    h.write("one");
    h.s.destroy(Some(nodenet_core::Error::abort()));
    let evs = h.evs();
    assert_eq!(write_results(&evs), [Some("ABORT_ERR".into())]);
    // node: 'error' on the next tick; the queued write fails when the handle closes,
    // right before 'close'.
    assert_eq!(
        evs.iter().map(name).collect::<Vec<_>>(),
        ["error", "writeErr", "close(true)"]
    );
}

// ---- idle timer -----------------------------------------------------------------------

#[test]
fn timeout_refreshed_by_reads_and_writes() {
    // setTimeout(100), peer writes at 250, client writes at 500, setTimeout(0) at 700 →
    // timeouts at 100, 350, 600 (Node: ~100, ~360, ~610).
    let mut h = H::connected();
    h.s.set_timeout(100, h.now).unwrap();
    let mut fired = Vec::new();
    let step = |h: &mut H, until: u64, fired: &mut Vec<u128>| {
        while let Some(t) = h.s.poll_timeout() {
            if t > h.t0 + Duration::from_millis(until) {
                break;
            }
            h.now = t;
            h.s.handle_timeout(h.now);
            if h.evs().contains(&SocketEvent::Timeout) {
                fired.push(h.ms());
            }
        }
        h.now = h.t0 + Duration::from_millis(until);
    };
    step(&mut h, 250, &mut fired);
    h.s.handle_data(b("x"), h.now);
    step(&mut h, 500, &mut fired);
    h.write("y");
    h.flush_all();
    step(&mut h, 700, &mut fired);
    h.s.set_timeout(0, h.now).unwrap();
    step(&mut h, 2000, &mut fired);
    assert_eq!(fired, [100, 350, 600]);
}

#[test]
fn timeout_not_rearmed_without_activity() {
    let mut h = H::connected();
    h.s.set_timeout(10, h.now).unwrap();
    h.run_timer();
    assert_eq!(h.names(), ["timeout"]);
    assert_eq!(h.s.poll_timeout(), None);
    assert!(!h.run_timer());
}

#[test]
fn set_timeout_zero_disables() {
    let mut h = H::connected();
    h.s.set_timeout(10, h.now).unwrap();
    h.s.set_timeout(0, h.now).unwrap();
    assert_eq!(h.s.poll_timeout(), None);
}

#[test]
fn write_completion_refreshes_timer() {
    let mut h = H::connected();
    h.s.set_timeout(100, h.now).unwrap();
    h.write("abc");
    h.advance(90);
    h.s.handle_written(1, h.now);
    assert_eq!(h.s.poll_timeout(), Some(h.now + Duration::from_millis(100)));
}

#[test]
fn eof_refreshes_timer() {
    let mut h = H::connected_with(SocketOptions {
        allow_half_open: true,
        ..SocketOptions::default()
    });
    h.s.set_timeout(100, h.now).unwrap();
    h.advance(50);
    h.s.handle_eof(h.now);
    assert_eq!(h.names(), ["end"]);
    assert_eq!(h.s.poll_timeout(), Some(h.now + Duration::from_millis(100)));
}

#[test]
fn destroy_clears_the_timer() {
    let mut h = H::connected();
    h.s.set_timeout(100, h.now).unwrap();
    h.s.destroy(None);
    // Due at once only for the pending `close`.
    assert_eq!(h.s.poll_timeout(), Some(h.now));
    assert_eq!(h.names(), ["close(false)"]);
    assert_eq!(h.s.poll_timeout(), None);
}

#[test]
fn sub_millisecond_timeout_is_one_ms() {
    let mut h = H::connected();
    h.s.set_timeout(0.2, h.now).unwrap();
    assert_eq!(h.s.poll_timeout(), Some(h.now + Duration::from_millis(1)));
}

// ---- socket options -------------------------------------------------------------------

#[test]
fn set_no_delay_only_when_changed() {
    let mut h = H::connected();
    h.s.set_no_delay(false);
    assert!(h.cmds().is_empty(), "cached value starts false");
    h.s.set_no_delay(true);
    h.s.set_no_delay(true);
    assert_eq!(h.cmds(), [Command::SetNoDelay(true)]);
    h.s.set_no_delay(false);
    assert_eq!(h.cmds(), [Command::SetNoDelay(false)]);
}

#[test]
fn set_keep_alive_rules() {
    let mut h = H::connected();
    h.s.set_keep_alive(true, 7000);
    h.s.set_keep_alive(true, 7999);
    assert_eq!(
        h.cmds(),
        [Command::SetKeepAlive {
            enable: true,
            initial_delay_secs: 7
        }]
    );
    h.s.set_keep_alive(true, 9000);
    h.s.set_keep_alive(false, 0);
    h.s.set_keep_alive(false, 5000);
    assert_eq!(
        h.cmds(),
        [
            Command::SetKeepAlive {
                enable: true,
                initial_delay_secs: 9
            },
            Command::SetKeepAlive {
                enable: false,
                initial_delay_secs: 0
            }
        ]
    );
}

#[test]
fn keep_alive_negative_delay_is_zero() {
    let mut h = H::connected();
    h.s.set_keep_alive(true, -5000);
    assert_eq!(
        h.cmds(),
        [Command::SetKeepAlive {
            enable: true,
            initial_delay_secs: 0
        }]
    );
}

// ---- accepted sockets -----------------------------------------------------------------

#[test]
fn accepted_socket_starts_open_and_reading() {
    let mut h = H::accepted(SocketOptions::default());
    assert_eq!(h.s.ready_state(), ReadyState::Open);
    assert!(!h.s.pending() && !h.s.connecting());
    assert_eq!(h.cmds(), [Command::StartReading]);
    assert!(h.evs().is_empty(), "no connect event for accepted sockets");
    assert_eq!(h.s.remote_port(), Some(40000));
    assert_eq!(h.s.local_port(), Some(8000));
}

#[test]
fn accepted_socket_with_server_options() {
    let opts = SocketOptions {
        no_delay: true,
        keep_alive: true,
        keep_alive_initial_delay_secs: 3,
        pause_on_connect: true,
        high_water_mark: 1000,
        allow_half_open: true,
        ..SocketOptions::default()
    };
    let mut h = H::accepted(opts);
    assert_eq!(
        h.cmds(),
        [
            Command::SetNoDelay(true),
            Command::SetKeepAlive {
                enable: true,
                initial_delay_secs: 3
            }
        ]
    );
    assert!(h.s.is_paused());
    assert_eq!(h.s.writable_high_water_mark(), 1000);
    assert!(h.s.allow_half_open());
    h.s.set_no_delay(true);
    assert!(h.cmds().is_empty(), "already applied");
}

#[test]
fn accepted_paused_socket_resumes() {
    let mut h = H::accepted(SocketOptions {
        pause_on_connect: true,
        ..SocketOptions::default()
    });
    h.cmds();
    h.s.resume(h.now);
    assert!(h.evs().is_empty());
    assert_eq!(h.cmds(), [Command::StartReading]);
}

#[test]
fn accepted_socket_writes_immediately() {
    let mut h = H::accepted(SocketOptions::default());
    h.cmds();
    h.write("hi");
    assert_eq!(h.cmds(), [Command::Write]);
}

#[test]
fn accepted_pipe_socket() {
    let t0 = std::time::Instant::now();
    let mut s = nodenet_core::Socket::accepted(
        &SocketOptions::default(),
        Endpoint::Pipe("/tmp/s".into()),
        Endpoint::Pipe("".into()),
        t0,
    );
    assert_eq!(s.remote_address(), None);
    assert_eq!(s.address(), None);
    assert!(s.reset_and_destroy().is_err());
}

#[test]
fn accepted_socket_reset_and_destroy() {
    let mut h = H::accepted(SocketOptions::default());
    h.cmds();
    h.s.reset_and_destroy().unwrap();
    assert_eq!(h.cmds(), [Command::Close { reset: true }]);
    assert_eq!(h.names(), ["close(false)"]);
}

#[test]
fn remote_kept_local_cleared_after_close() {
    let mut h = H::connected();
    h.s.handle_data(b("abc"), h.now);
    // Read while open: Node caches the peer name.
    assert_eq!(h.s.remote_port(), Some(80));
    h.s.destroy(None);
    assert_eq!(h.s.remote_address(), Some("127.0.0.1".parse().unwrap()));
    assert_eq!(h.s.local_address(), None);
    assert_eq!(h.s.address(), None);
    assert_eq!(h.s.bytes_read(), 3);
}
