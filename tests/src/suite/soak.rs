//! Soak on loopback: `parallel` client loops run connect / transfer / close cycles for a
//! fixed count, rotating through four endings (graceful `end()`, client
//! `reset_and_destroy()`, server `reset_and_destroy()`, client `destroy()`
//! mid-transfer). After a warm-up the process's descriptors and RSS are measured; after
//! the cycles every descriptor must be back and RSS within a fixed bound (a leak of even
//! 100 bytes per cycle would exceed it in the `#[ignore]`d long variant). Each runtime runs it in a test binary of its own
//! (`soak_<runtime>.rs`), because it counts the process's descriptors and memory.
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use nodenet::{ConnectOptions, ErrorCode, ServerOptions, SocketEvent};
use nodenet_core::ServerEvent;

use super::proc_stats::{open_fds, rss_kib};
use super::support::{accept, connect, loopback_server};
use crate::harness::Settings;
use crate::test_runtime::{next, TestRuntime};

/// Serial (the tests count the process's descriptors and memory), bounded by 300 s.
pub const SETTINGS: Settings = super::RELIABILITY;

/// Bytes each cycle sends (and gets echoed).
const SOAK_PAYLOAD: usize = 16 * 1024;
/// Cycles before the baseline is taken (lazy allocations, thread pools, allocator arenas).
const SOAK_WARM_UP: usize = 400;
/// Allowed RSS growth over the measured cycles.
const SOAK_RSS_BOUND_KIB: u64 = 8 * 1024;

/// 2 000 measured cycles, 8 in parallel: no descriptor and no memory growth.
pub async fn soak_2000_cycles_no_fd_or_memory_growth<R: TestRuntime>() {
    soak_run::<R>(2000, 8).await;
}

/// The long variant: 100 000 measured cycles, 8 in parallel.
pub async fn soak_100000_cycles_no_fd_or_memory_growth<R: TestRuntime>() {
    soak_run::<R>(100_000, 8).await;
}

/// One cycle's client: ending `k % 4`, payload tagged with the ending the server needs
/// to know (`S`: the server resets after echoing everything).
async fn soak_cycle<R: TestRuntime>(port: u16, k: usize) {
    let ending = k % 4;
    let mut payload = vec![b'E'; SOAK_PAYLOAD];
    if ending == 2 {
        payload[0] = b'S';
    }
    for (j, b) in payload.iter_mut().enumerate().skip(1) {
        *b = (j as u8) ^ (k as u8);
    }
    let mut c = connect::<R>(ConnectOptions::tcp(port, "127.0.0.1")).unwrap();
    let mut got = Vec::new();
    let mut events = Vec::new();
    let mut done = false;
    while let Some(ev) = next(&mut c).await {
        match ev {
            SocketEvent::Connect => {
                c.write(payload.clone());
            }
            SocketEvent::Data(d) => {
                got.extend_from_slice(&d);
                if done {
                    continue;
                }
                match ending {
                    0 if got.len() == SOAK_PAYLOAD => {
                        done = true;
                        c.end().unwrap();
                    }
                    1 if got.len() == SOAK_PAYLOAD => {
                        done = true;
                        c.reset_and_destroy().unwrap();
                    }
                    3 => {
                        done = true;
                        c.destroy(None);
                    }
                    _ => {}
                }
            }
            SocketEvent::WriteDone { .. } => {}
            other => events.push(other),
        }
    }
    assert!(
        got.len() <= SOAK_PAYLOAD && got[..] == payload[..got.len()],
        "cycle {k}: echo is not a prefix"
    );
    if ending < 2 {
        assert_eq!(got.len(), SOAK_PAYLOAD, "cycle {k}: echo incomplete");
    }
    match (ending, events.last()) {
        (
            0 | 1 | 3,
            Some(SocketEvent::Close {
                had_error: Some(false),
            }),
        ) => {}
        (2, Some(SocketEvent::Close { .. })) => {
            for e in &events {
                if let SocketEvent::Error(e) = e {
                    assert_eq!(e.code(), ErrorCode::ECONNRESET, "cycle {k}");
                }
            }
        }
        other => panic!("cycle {k} (ending {ending}): {other:?} in {events:?}"),
    }
}

/// Client loops: cycle numbers `start, start + parallel, ...` below `end`, `parallel`
/// loops at once; returns once every loop finished.
async fn run_cycles<R: TestRuntime>(port: u16, parallel: usize, start: usize, end: usize) {
    let mut loops = Vec::new();
    for p in 0..parallel {
        loops.push(<R as TestRuntime>::spawn(async move {
            let mut k = start + p;
            while k < end {
                soak_cycle::<R>(port, k).await;
                k += parallel;
            }
        }));
    }
    for l in loops {
        l.await;
    }
}

/// Wait (at most 30 s) until the server side closed `n` connections.
async fn wait_closed<R: TestRuntime>(closed: &AtomicUsize, n: usize) {
    let t = R::now();
    while closed.load(Ordering::SeqCst) < n {
        assert!(
            R::now().duration_since(t) < Duration::from_secs(30),
            "server connections never closed"
        );
        R::sleep(Duration::from_millis(5)).await;
    }
}

/// `SOAK_WARM_UP` cycles, the baseline, `cycles` more, then the checks.
async fn soak_run<R: TestRuntime>(cycles: usize, parallel: usize) {
    let total = SOAK_WARM_UP + cycles;
    let (mut server, port) = loopback_server::<R>(ServerOptions::default()).await;
    let closed = Arc::new(AtomicUsize::new(0));

    // The server: echo each connection; `S` connections are reset once echoed.
    let closed2 = closed.clone();
    let acceptor = <R as TestRuntime>::spawn(async move {
        for _ in 0..total {
            let mut c = accept(&mut server).await;
            let closed = closed2.clone();
            // Detached (the handle is dropped): the `closed` counter says when it is done.
            drop(<R as TestRuntime>::spawn(async move {
                let mut echoed = 0;
                let mut reset = None;
                while let Some(ev) = next(&mut c).await {
                    if let SocketEvent::Data(d) = ev {
                        if reset.is_none() {
                            reset = Some(d.first() == Some(&b'S'));
                        }
                        echoed += d.len();
                        c.write(d);
                        if reset == Some(true) && echoed == SOAK_PAYLOAD {
                            // Let the echo go out first (the RST would discard it).
                            while c.writable_length() > 0 {
                                match next(&mut c).await {
                                    Some(_) => {}
                                    None => break,
                                }
                            }
                            let _ = c.reset_and_destroy();
                        }
                    }
                }
                drop(c);
                closed.fetch_add(1, Ordering::SeqCst);
            }));
        }
        server
    });

    run_cycles::<R>(port, parallel, 0, SOAK_WARM_UP).await;
    wait_closed::<R>(&closed, SOAK_WARM_UP).await;
    let fds_before = open_fds();
    let rss_before = rss_kib();
    let t0 = R::now();
    run_cycles::<R>(port, parallel, SOAK_WARM_UP, total).await;
    wait_closed::<R>(&closed, total).await;
    let elapsed = R::now().duration_since(t0);
    let mut server = acceptor.await;
    assert_eq!(server.connections(), 0);
    let fds_after = open_fds();
    let rss_after = rss_kib();
    eprintln!(
        "[{}] soak: {cycles} cycles ({parallel} in parallel, 16 KiB each, 4 endings) in {elapsed:.2?}; \
         fds {fds_before} -> {fds_after}; RSS {rss_before} -> {rss_after} KiB",
        R::NAME
    );
    assert!(
        fds_after <= fds_before,
        "descriptors leaked: {fds_before} -> {fds_after}"
    );
    assert!(
        rss_after <= rss_before + SOAK_RSS_BOUND_KIB,
        "RSS grew from {rss_before} to {rss_after} KiB over {cycles} cycles"
    );
    server.close().unwrap();
    assert!(matches!(next(&mut server).await, Some(ServerEvent::Close)));
}

/// Registers the soak tests for runtime `$runtime`.
#[macro_export]
macro_rules! soak_tests {
    ($runtime:ty) => {
        $crate::register_tests!($runtime => soak {
            soak_2000_cycles_no_fd_or_memory_growth,
            #[ignore = "long: 100 000 cycles; run with --release -- --ignored"]
            soak_100000_cycles_no_fd_or_memory_growth,
        });
    };
}
