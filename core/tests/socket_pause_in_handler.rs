//! `pause()` while handling one `Data` event stops the flow there, as inside a Node
//! `'data'` handler: the chunks queued behind it wait for `resume()`.

use std::time::Instant;

use bytes::Bytes;
use nodenet_core::socket::{Command, ConnectOptions, Socket, SocketEvent};
use nodenet_core::SocketOptions;

fn connected(now: Instant) -> Socket {
    let mut s = Socket::new(SocketOptions::default());
    s.connect(ConnectOptions::tcp(80, "127.0.0.1"), now)
        .unwrap();
    s.handle_timeout(now);
    while let Some(cmd) = s.poll_command() {
        if let Command::Connect { attempt, .. } = cmd {
            s.handle_connected(attempt, "127.0.0.1:5000".parse().ok(), now);
        }
    }
    while s.poll_event().is_some() {}
    while s.poll_command().is_some() {}
    s
}

fn data(ev: Option<SocketEvent>) -> Option<Bytes> {
    match ev {
        Some(SocketEvent::Data(d)) => Some(d),
        _ => None,
    }
}

#[test]
fn pause_in_data_handler_holds_the_queued_chunks() {
    let now = Instant::now();
    let mut s = connected(now);
    s.handle_data(Bytes::from_static(b"one"), now);
    s.handle_data(Bytes::from_static(b"two"), now);
    s.handle_data(Bytes::from_static(b"three"), now);
    assert_eq!(data(s.poll_event()).as_deref(), Some(&b"one"[..]));
    s.pause(); // inside the 'data' handler of "one"
    assert_eq!(s.poll_event(), None, "nothing flows while paused");
    // Reading goes on until the buffer holds a high-water mark, as in Node.
    assert_eq!(s.poll_command(), None);
    assert_eq!(s.readable_length(), 8);
    s.resume(now);
    assert_eq!(data(s.poll_event()).as_deref(), Some(&b"two"[..]));
    assert_eq!(data(s.poll_event()).as_deref(), Some(&b"three"[..]));
    assert_eq!(s.poll_event(), None);
    assert_eq!(s.bytes_read(), 11);
}

#[test]
fn pause_keeps_other_events_and_end_in_place() {
    let now = Instant::now();
    let mut s = connected(now);
    s.handle_data(Bytes::from_static(b"a"), now);
    s.handle_eof(now); // End is queued behind the data: nothing is taken back
    assert_eq!(data(s.poll_event()).as_deref(), Some(&b"a"[..]));
    s.handle_data(Bytes::from_static(b"ignored after EOF"), now);
    s.pause();
    assert_eq!(s.poll_event(), Some(SocketEvent::End));
}
