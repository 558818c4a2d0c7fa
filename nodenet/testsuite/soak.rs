// Soak on loopback, shared by the backends' `tests/soak.rs`: `PARALLEL` client loops run
// connect / transfer / close cycles for a fixed count, rotating through four endings
// (graceful `end()`, client `reset_and_destroy()`, server `reset_and_destroy()`, client
// `destroy()` mid-transfer). After a warm-up the process's descriptors and RSS are
// measured; after the cycles every descriptor must be back and RSS within a fixed bound
// (a leak of even 100 bytes per cycle would exceed it in the `#[ignore]`d long variant).

/// Bytes each cycle sends (and gets echoed).
const SOAK_PAYLOAD: usize = 16 * 1024;
/// Cycles before the baseline is taken (lazy allocations, thread pools, allocator arenas).
const SOAK_WARM_UP: usize = 400;
/// Allowed RSS growth over the measured cycles.
const SOAK_RSS_BOUND_KIB: u64 = 8 * 1024;

/// One cycle's client: ending `k % 4`, payload tagged with the ending the server needs
/// to know (`S`: the server resets after echoing everything).
macro_rules! soak_cycle {
    ($port:expr, $k:expr) => {{
        let ending = $k % 4;
        let mut payload = vec![b'E'; SOAK_PAYLOAD];
        if ending == 2 {
            payload[0] = b'S';
        }
        for (j, b) in payload.iter_mut().enumerate().skip(1) {
            *b = (j as u8) ^ ($k as u8);
        }
        let mut c = connect(ConnectOptions::tcp($port, "127.0.0.1")).unwrap();
        let mut got = Vec::new();
        let mut events = Vec::new();
        let mut done = false;
        while let Some(ev) = next!(c) {
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
        assert!(got.len() <= SOAK_PAYLOAD && got[..] == payload[..got.len()], "cycle {}: echo is not a prefix", $k);
        if ending < 2 {
            assert_eq!(got.len(), SOAK_PAYLOAD, "cycle {}: echo incomplete", $k);
        }
        match (ending, events.last()) {
            (0 | 1 | 3, Some(SocketEvent::Close { had_error: Some(false) })) => {}
            (2, Some(SocketEvent::Close { .. })) => {
                for e in &events {
                    if let SocketEvent::Error(e) = e {
                        assert_eq!(e.code(), ErrorCode::ECONNRESET, "cycle {}", $k);
                    }
                }
            }
            other => panic!("cycle {} (ending {ending}): {other:?} in {events:?}", $k),
        }
    }};
}

macro_rules! soak_run {
    ($cycles:expr, $parallel:expr) => {{
        let cycles: usize = $cycles;
        let parallel: usize = $parallel;
        let total = SOAK_WARM_UP + cycles;
        let (mut server, port) = loopback_server!();
        let closed = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));

        // The server: echo each connection; `S` connections are reset once echoed.
        let closed2 = closed.clone();
        let acceptor = task!({
            for _ in 0..total {
                let mut c = accept!(server);
                let closed = closed2.clone();
                // Detached: the `closed` counter says when it is done.
                detach!(task!({
                    let mut echoed = 0;
                    let mut reset = None;
                    while let Some(ev) = next!(c) {
                        if let SocketEvent::Data(d) = ev {
                            if reset.is_none() {
                                reset = Some(d.first() == Some(&b'S'));
                            }
                            echoed += d.len();
                            c.write(d);
                            if reset == Some(true) && echoed == SOAK_PAYLOAD {
                                // Let the echo go out first (the RST would discard it).
                                while c.writable_length() > 0 {
                                    match next!(c) {
                                        Some(_) => {}
                                        None => break,
                                    }
                                }
                                let _ = c.reset_and_destroy();
                            }
                        }
                    }
                    drop(c);
                    closed.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                }));
            }
            server
        });

        // Client loops: cycle numbers `start, start + parallel, ...` below `end`.
        macro_rules! run_cycles {
            ($start:expr, $end:expr) => {{
                let mut loops = Vec::new();
                for p in 0..parallel {
                    let (start, end) = ($start + p, $end);
                    loops.push(task!({
                        let mut k = start;
                        while k < end {
                            soak_cycle!(port, k);
                            k += parallel;
                        }
                    }));
                }
                for l in loops {
                    join!(l);
                }
            }};
        }
        macro_rules! wait_closed {
            ($n:expr) => {{
                let t = Instant::now();
                while closed.load(std::sync::atomic::Ordering::SeqCst) < $n {
                    assert!(t.elapsed() < Duration::from_secs(30), "server connections never closed");
                    sleep_ms!(5);
                }
            }};
        }

        run_cycles!(0, SOAK_WARM_UP);
        wait_closed!(SOAK_WARM_UP);
        let fds_before = open_fds();
        let rss_before = rss_kib();
        let t0 = Instant::now();
        run_cycles!(SOAK_WARM_UP, total);
        wait_closed!(total);
        let elapsed = t0.elapsed();
        let mut server = join!(acceptor);
        assert_eq!(server.connections(), 0);
        let fds_after = open_fds();
        let rss_after = rss_kib();
        eprintln!(
            "[{BACKEND}] soak: {cycles} cycles ({parallel} in parallel, 16 KiB each, 4 endings) in {elapsed:.2?}; \
             fds {fds_before} -> {fds_after}; RSS {rss_before} -> {rss_after} KiB"
        );
        assert!(fds_after <= fds_before, "descriptors leaked: {fds_before} -> {fds_after}");
        assert!(
            rss_after <= rss_before + SOAK_RSS_BOUND_KIB,
            "RSS grew from {rss_before} to {rss_after} KiB over {cycles} cycles"
        );
        server.close().unwrap();
        assert!(matches!(next!(server), Some(ServerEvent::Close)));
    }};
}

nn_test! {
    fn soak_2000_cycles_no_fd_or_memory_growth() {
        soak_run!(2000, 8);
    }
}

nn_test! {
    #[ignore = "long: 100 000 cycles; run with --release -- --ignored"]
    fn soak_100000_cycles_no_fd_or_memory_growth() {
        soak_run!(100_000, 8);
    }
}
