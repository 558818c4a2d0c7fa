//! Core overhead of one full client lifecycle with no IO: connect to an IP literal,
//! 1 000 writes of 64 bytes (each written by the fake backend and completed), `end`,
//! FIN, the peer's EOF, `Close`. Prints the mean CPU time per cycle; the target is
//! < 50 µs.

use std::hint::black_box;
use std::time::{Duration, Instant};

use bytes::Bytes;
use nodenet_core::socket::{Command, ConnectOptions, Socket, SocketEvent};
use nodenet_core::SocketOptions;

fn cycle(payload: &Bytes, now: Instant) -> usize {
    let mut s = Socket::new(SocketOptions::default());
    let mut events = 0usize;
    s.connect(ConnectOptions::tcp(80, "127.0.0.1"), now)
        .expect("valid options");
    s.handle_timeout(now); // Node's next tick: start the connect
    while let Some(cmd) = s.poll_command() {
        if let Command::Connect { attempt, .. } = cmd {
            s.handle_connected(attempt, None, now);
        }
    }
    for _ in 0..1000 {
        s.write_tracked(payload.clone(), now);
        while s.poll_command().is_some() {}
        let n: usize = s.write_chunks().map(<[u8]>::len).sum();
        s.handle_written(n, now);
        while let Some(e) = s.poll_event() {
            events += black_box(matches!(e, SocketEvent::WriteDone { .. })) as usize;
        }
    }
    let _ = s.end(now);
    while let Some(cmd) = s.poll_command() {
        if cmd == Command::Shutdown {
            s.handle_shutdown(Ok(()), now);
        }
    }
    s.handle_eof(now);
    while s.poll_command().is_some() {}
    while let Some(e) = s.poll_event() {
        events += black_box(matches!(e, SocketEvent::Close { .. })) as usize;
    }
    events
}

/// This thread's CPU time (Linux `schedstat`, nanoseconds), so a loaded machine does not
/// inflate the number; `None` elsewhere.
fn thread_cpu() -> Option<Duration> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns: u64 = s.split_whitespace().next()?.parse().ok()?;
    Some(Duration::from_nanos(ns))
}

fn main() {
    static PAYLOAD: [u8; 64] = [0x5a; 64];
    // `'static` payload: cloning and dropping it is free, so this is the core alone.
    measure("static payload (core alone)", &Bytes::from_static(&PAYLOAD));
    // Refcounted payload: adds the two atomic refcount updates per write that any
    // shared `Bytes` costs (the user's buffer, not core logic).
    measure("shared payload", &Bytes::from(vec![0x5a; 64]));
}

fn measure(what: &str, payload: &Bytes) {
    let now = Instant::now();
    // Warm up, then measure for about a second of wall time.
    for _ in 0..200 {
        black_box(cycle(payload, now));
    }
    let mut iters = 0u32;
    let start = Instant::now();
    let cpu0 = thread_cpu();
    while start.elapsed() < Duration::from_secs(1) {
        assert_eq!(black_box(cycle(payload, now)), 1001);
        iters += 1;
    }
    let wall = start.elapsed() / iters;
    let (label, per) = match (cpu0, thread_cpu()) {
        (Some(a), Some(b)) => ("CPU", (b - a) / iters),
        _ => ("wall", wall),
    };
    println!(
        "socket, {what}: connect + 1000 writes + end + close = {:.1} µs {label} per cycle \
         (wall {:.1} µs, {iters} cycles, target < 50 µs CPU)",
        per.as_secs_f64() * 1e6,
        wall.as_secs_f64() * 1e6
    );
}
