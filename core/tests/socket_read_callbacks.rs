//! Every libuv read callback is its own `MakeCallback` in Node: once the `'data'` (or
//! `'end'`, `'error'`) handlers of one read returned, the nextTick queue runs — write
//! callbacks, `'drain'`, `'finish'`, the ticks of `end()`/`destroy()` — before the next
//! read's callback, even when libuv read twice in one `uv__read` loop. nodenet's driver
//! reports such reads back to back (the immediate second read after a connection's first
//! partial read), so the second one must wait for the first one's ticks.
//!
//! node (v20, loopback, 200 KiB arriving at once, read in 64 KiB reads; each `'data'`
//! handler writes 32 KiB with a callback, the kernel takes it at once, and queues a
//! `process.nextTick`): `data 65536, write->true, wcb, tick, data 65536, write->true,
//! wcb, tick, data 64512, ..., data 9216, write->true, wcb, tick, end, close`.

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

#[test]
fn drain_of_a_write_made_in_the_first_data_handler_precedes_the_second_data() {
    let mut h = H::connected();
    h.s.handle_data(b("one"), h.now);
    h.s.handle_data(b("two"), h.now);
    assert_eq!(h.next_names(1), ["data"]);
    assert!(!write_partly_then_rest(&mut h, 32 * 1024, 1000));
    assert_eq!(h.next_names(3), ["drain", "writeOk", "data"]);
    assert!(!write_partly_then_rest(&mut h, 32 * 1024, 1000));
    assert_eq!(h.names(), ["drain", "writeOk"]);
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

/// `end()` in the first handler: `finish` (its tick, the FIN taken at once) before the
/// second read's `data`.
#[test]
fn finish_of_end_in_the_first_data_handler_precedes_the_second_data() {
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
    assert_eq!(h.names(), ["finish", "data"]);
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
