//! Every libuv read callback is its own `MakeCallback` in Node: once the `'data'` (or
//! `'end'`, `'error'`) handlers of one read returned, the nextTick queue runs — write
//! callbacks, `'drain'`, `'finish'`, the ticks of `end()`/`destroy()` — before the next
//! read's callback, even when libuv read twice in one `uv__read` loop. nodenet's driver
//! reports such reads back to back (the immediate second read after a connection's first
//! partial read), so the second one must wait for the first one's ticks.
//!
//! What libuv itself completes later (the rest of a write the kernel did not take inside
//! `write()`, the FIN) comes after the reads of the current readiness instead, even when
//! the backend completed it inside the user's handler.
//!
//! node (v20, loopback, 200 KiB arriving at once, read in 64 KiB reads, three in one
//! `uv__read` loop; each `'data'` handler queues a `process.nextTick` and a `setImmediate`
//! and writes 1 KiB with a callback, which the kernel takes at once): `data 65536,
//! write->true, tick, wcb, data 65536, write->true, tick, wcb, data 64512, write->true,
//! tick, wcb, immediate, immediate, immediate, data 9216, ...`.

mod socket_support;

use nodenet_core::socket::SocketEvent;
use nodenet_core::ErrorCode;
use socket_support::*;

/// A write of `len` bytes of which the kernel takes `first` inside `write()`, the rest
/// in the driver's immediate retry (still inside the user's call).
fn write_partly_then_rest(h: &mut H, len: usize, first: usize) -> bool {
    let data = bytes::Bytes::from(vec![7u8; len]);
    let r = h.s.write_tracked_dispatch(data, |_| Ok(first), h.now);
    h.flush_all();
    r.ok
}

/// A write the kernel does not take whole inside `write()` completes asynchronously in
/// Node (libuv's `uv_write`, whose callback comes after the reads of the current
/// readiness), so its `Drain` and callback come after the read already made, not
/// before: one `Drain` for the two writes that returned `false`.
/// node (a 4 MiB write in the first of three reads made in one `uv__read` loop): `data,
/// write->false, tick, data, tick, data, tick, ..., wcb` (the write callback last).
#[test]
fn drain_of_a_write_completed_behind_a_waiting_read_follows_that_read() {
    let mut h = H::connected();
    h.s.handle_data(b("one"), h.now);
    h.s.handle_data(b("two"), h.now);
    assert_eq!(h.next_names(1), ["data"]);
    assert!(!write_partly_then_rest(&mut h, 32 * 1024, 1000));
    assert_eq!(h.next_names(1), ["data"]);
    assert!(!write_partly_then_rest(&mut h, 32 * 1024, 1000));
    assert_eq!(h.names(), ["drain", "writeOk", "writeOk"]);
    assert_eq!(h.s.writable_length(), 0);
    assert!(!h.s.writable_need_drain());
}

/// A write made while such a completion waits is not tried at once (for Node the
/// earlier write is still in flight): the callbacks come in write order.
#[test]
fn callbacks_stay_in_write_order_behind_a_waiting_completion() {
    let mut h = H::connected();
    h.s.handle_data(b("one"), h.now);
    h.s.handle_data(b("two"), h.now);
    assert_eq!(h.next_names(1), ["data"]);
    let first = bytes::Bytes::from(vec![7u8; 32 * 1024]);
    let w1 = h.s.write_tracked_dispatch(first, |_| Ok(1000), h.now);
    h.flush_all();
    assert_eq!(h.next_names(1), ["data"]);
    let mut tried = false;
    let w2 = h.s.write_tracked_dispatch(
        b("small"),
        |c| {
            tried = true;
            Ok(c.len())
        },
        h.now,
    );
    assert!(!tried, "queued behind the write in flight");
    h.flush_all();
    let evs = h.evs();
    let ids: Vec<_> = evs
        .iter()
        .filter_map(|e| match e {
            SocketEvent::WriteDone { id, result: Ok(()) } => Some(*id),
            _ => None,
        })
        .collect();
    assert_eq!(ids, [w1.id, w2.id]);
    assert_eq!(evs.first(), Some(&SocketEvent::Drain));
}

/// The write made in the second `'data'` handler while the first write's completion
/// waits behind that read: Node's Writable still counts the first write in
/// `state.length` (its `afterWrite` has not run), so even a small write returns `false`
/// and is owed a `'drain'`, which comes once, first, when the first write's completion
/// runs (the small one goes out from there at once, its callback follows).
/// node (v20, loopback: an 8 MiB write partly taken, then `x` arrives and the `'data'`
/// handler writes `y`): `write(big)->false, data x, write(y)->false (needDrain true),
/// drain, cb big, cb y`.
#[test]
fn small_write_behind_a_waiting_completion_counts_the_earlier_write() {
    let mut h = H::connected();
    h.s.handle_data(b("one"), h.now);
    h.s.handle_data(b("two"), h.now);
    assert_eq!(h.next_names(1), ["data"]);
    let big = bytes::Bytes::from(vec![7u8; 32 * 1024]);
    let w1 = h.s.write_tracked_dispatch(big, |_| Ok(1000), h.now);
    assert!(!w1.ok);
    h.flush_all(); // the rest goes out inside the handler: its completion waits
    assert_eq!(h.next_names(1), ["data"]);
    let w2 = h.s.write_tracked_dispatch(b("y"), |c| Ok(c.len()), h.now);
    assert!(!w2.ok, "the first write is still in Node's state.length");
    assert!(h.s.writable_need_drain());
    h.flush_all();
    let evs = h.evs();
    assert_eq!(
        evs,
        [
            SocketEvent::Drain,
            SocketEvent::WriteDone {
                id: w1.id,
                result: Ok(())
            },
            SocketEvent::WriteDone {
                id: w2.id,
                result: Ok(())
            },
        ]
    );
    assert!(!h.s.writable_need_drain());
    // Once the completion ran, the same small write returns true again.
    assert!(
        h.s.write_tracked_dispatch(b("z"), |c| Ok(c.len()), h.now)
            .ok
    );
}

/// Node adds the lengths: a 10 KiB write whose completion waits plus a new 8 KiB one
/// reach the 16 KiB highWaterMark (each alone stays below it); 10 KiB plus 5 KiB do not.
/// Writes without a callback count alike.
#[test]
fn waiting_completion_and_new_write_add_up_to_the_high_water_mark() {
    for (second, ok) in [(8 * 1024, false), (5 * 1024, true)] {
        let mut h = H::connected();
        h.s.handle_data(b("one"), h.now);
        h.s.handle_data(b("two"), h.now);
        assert_eq!(h.next_names(1), ["data"]);
        let first = bytes::Bytes::from(vec![7u8; 10 * 1024]);
        assert!(h.s.write_dispatch(first, |_| Ok(1000), h.now));
        h.flush_all();
        assert_eq!(h.s.writable_length(), 0, "the bytes left at once");
        assert_eq!(h.next_names(1), ["data"]);
        let data = bytes::Bytes::from(vec![8u8; second]);
        assert_eq!(h.s.write_dispatch(data, |c| Ok(c.len()), h.now), ok);
        h.flush_all();
        let names = h.names();
        assert_eq!(names, if ok { vec![] } else { vec!["drain"] });
    }
}

/// With no read waiting, such a completion is a tick after the handler, as before.
#[test]
fn drain_of_a_write_completed_in_the_last_data_handler_is_a_tick() {
    let mut h = H::connected();
    h.s.handle_data(b("one"), h.now);
    assert_eq!(h.next_names(1), ["data"]);
    assert!(!write_partly_then_rest(&mut h, 32 * 1024, 1000));
    assert_eq!(h.names(), ["drain", "writeOk"]);
}

/// A destroy before the waiting read ran: the read never happens, the write whose
/// completion waited behind it did complete (its callback succeeds, before `close`).
#[test]
fn destroy_keeps_the_completion_that_waited_behind_a_read() {
    let mut h = H::connected();
    h.s.handle_data(b("one"), h.now);
    h.s.handle_data(b("two"), h.now);
    assert_eq!(h.next_names(1), ["data"]);
    assert!(!write_partly_then_rest(&mut h, 32 * 1024, 1000));
    h.s.destroy(None);
    assert_eq!(h.names(), ["writeOk", "close(false)"]);
    assert_eq!(h.s.bytes_read(), 3);
    assert_eq!(h.s.bytes_received(), 6);
}

#[test]
fn write_callback_of_the_first_data_handler_precedes_the_second_data() {
    let mut h = H::connected();
    h.s.handle_data(b("one"), h.now);
    h.s.handle_data(b("two"), h.now);
    assert_eq!(h.next_names(1), ["data"]);
    let r =
        h.s.write_tracked_dispatch(b("pong"), |c| Ok(c.len()), h.now);
    assert!(r.ok);
    assert_eq!(h.next_names(2), ["writeOk", "data"]);
    assert_eq!(h.names(), Vec::<&str>::new());
    assert_eq!(h.s.bytes_read(), 6);
}

/// node: data, write cb, end (the EOF is the next read callback).
#[test]
fn write_callback_of_the_data_handler_precedes_end_read_right_after() {
    let mut h = H::connected();
    h.s.handle_data(b("last"), h.now);
    h.s.handle_eof(h.now);
    assert_eq!(h.next_names(1), ["data"]);
    let r =
        h.s.write_tracked_dispatch(b("pong"), |c| Ok(c.len()), h.now);
    assert!(r.ok);
    assert_eq!(h.next_names(2), ["writeOk", "end"]);
}

/// The reset read after the bytes is the next read callback: the `'data'` handler still
/// writes on an open socket (in Node the socket is not destroyed yet).
#[test]
fn reset_read_right_after_data_is_heard_after_the_data_handler_ran() {
    let mut h = H::connected();
    h.s.handle_data(b("bytes"), h.now);
    h.s.handle_read_error(ErrorCode::ECONNRESET, h.now);
    assert_eq!(h.next_names(1), ["data"]);
    assert!(!h.s.destroyed());
    let r =
        h.s.write_tracked_dispatch(b("pong"), |c| Ok(c.len()), h.now);
    assert!(r.ok);
    assert_eq!(h.names(), ["writeOk", "error", "close(true)"]);
}

/// `end()` in the first handler: the FIN completes asynchronously in Node (libuv's
/// shutdown callback, after the reads of the current readiness), so `finish` follows
/// the read already made.
/// node (`end()` in the first of three reads made in one `uv__read` loop): `data, tick,
/// data, tick, data, tick, end cb, finish, immediate, ...`.
#[test]
fn finish_of_end_in_the_first_data_handler_follows_the_waiting_read() {
    let mut h = H::connected();
    h.s.handle_data(b("one"), h.now);
    h.s.handle_data(b("two"), h.now);
    assert_eq!(h.next_names(1), ["data"]);
    h.s.end(h.now).unwrap();
    for cmd in h.cmds() {
        if cmd == nodenet_core::socket::Command::Shutdown {
            h.s.handle_shutdown(Ok(()), h.now);
        }
    }
    assert_eq!(h.names(), ["data", "finish"]);
}

/// `destroy()` in the first handler: the second read never happened in Node (the
/// handle closed inside the read loop), so its bytes are not delivered.
#[test]
fn destroy_in_the_first_data_handler_drops_the_read_behind_it() {
    let mut h = H::connected();
    h.s.handle_data(b("one"), h.now);
    h.s.handle_data(b("two"), h.now);
    h.s.handle_eof(h.now);
    assert_eq!(h.next_names(1), ["data"]);
    h.s.destroy(None);
    assert_eq!(h.names(), ["close(false)"]);
}

/// `pause()` in the first handler: the second read is buffered, delivered on `resume()`.
#[test]
fn pause_in_the_first_data_handler_buffers_the_read_behind_it() {
    let mut h = H::connected();
    h.s.handle_data(b("one"), h.now);
    h.s.handle_data(b("two"), h.now);
    assert_eq!(h.next_names(1), ["data"]);
    h.s.pause();
    assert_eq!(h.names(), Vec::<&str>::new());
    assert_eq!(h.s.readable_length(), 3);
    h.s.resume(h.now);
    let evs = h.evs();
    assert_eq!(evs, [SocketEvent::Data(b("two"))]);
}
