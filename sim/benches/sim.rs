//! Simulator throughput: simulated socket and server events per second of CPU time.
//!
//! Workload: one echo server, 50 clients on a calm network (latency, chunked reads,
//! short writes), each writing 200 messages of 64 bytes and ending; every byte echoed
//! back; run until idle. Printed for three set-ups: bare (no trace, no checks), with
//! the invariant checker, and with checker plus the hashed trace. Target: ≥ 1 000 000
//! events/s bare.
//!
//! `cargo bench -p nodenet-sim --bench sim`

use std::hint::black_box;
use std::time::{Duration, Instant};

use bytes::Bytes;
use nodenet_core::server::ListenOptions;
use nodenet_sim::{Faults, TraceMode, World, WorldConfig, WorldEvent};
use nodenet_core::socket::{ConnectOptions, SocketEvent};

const CLIENTS: usize = 50;
const MESSAGES: usize = 200;

fn run(seed: u64, trace: TraceMode, check: bool) -> u64 {
    let mut world = World::with_config(WorldConfig {
        seed,
        faults: Faults::calm(),
        trace,
        check,
        keep_events: false,
    });
    let srv = world
        .host("10.0.0.1")
        .listen(ListenOptions::port(80))
        .expect("listen");
    let msg = Bytes::from_static(&[0x5a; 64]);
    let mut clients = Vec::with_capacity(CLIENTS);
    for _ in 0..CLIENTS {
        let c = world
            .connect(ConnectOptions::tcp(80, "10.0.0.1"))
            .expect("connect");
        for _ in 0..MESSAGES {
            world.write(c, msg.clone());
        }
        let _ = world.end(c);
        clients.push(c);
    }
    while let Some(ev) = world.next_event(None) {
        if let WorldEvent::Socket(s, ev) = ev {
            let is_client = clients.contains(&s);
            match ev {
                SocketEvent::Data(d) if !is_client => {
                    world.write(s, d);
                }
                _ => {}
            }
        }
    }
    let _ = world.close_server(srv);
    world.run_until_idle();
    if check {
        assert!(world.violations().is_empty(), "{:?}", world.violations());
    }
    world.events_emitted()
}

/// This thread's CPU time (Linux `schedstat`), so a loaded machine does not inflate the
/// number; wall time elsewhere.
fn thread_cpu() -> Option<Duration> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns: u64 = s.split_whitespace().next()?.parse().ok()?;
    Some(Duration::from_nanos(ns))
}

fn measure(what: &str, trace: TraceMode, check: bool) {
    black_box(run(0, trace, check));
    let start = Instant::now();
    let cpu0 = thread_cpu();
    let mut events = 0u64;
    let mut seed = 1;
    while start.elapsed() < Duration::from_secs(2) {
        events += black_box(run(seed, trace, check));
        seed += 1;
    }
    let spent = match (cpu0, thread_cpu()) {
        (Some(a), Some(b)) => b - a,
        _ => start.elapsed(),
    };
    let rate = events as f64 / spent.as_secs_f64();
    println!(
        "sim {what:<28} {events:>9} events in {:>6.3} s CPU: {:>10.0} events/s ({} worlds)",
        spent.as_secs_f64(),
        rate,
        seed - 1
    );
}

fn main() {
    measure("bare", TraceMode::Off, false);
    measure("invariants checked", TraceMode::Off, true);
    measure("checked + hashed trace", TraceMode::HashOnly, true);
}
