// Accept under EMFILE, shared by the backends' `tests/emfile.rs` (each its own test
// binary: the test lowers the whole process's descriptor limit, restored before it
// ends). Clients are queued in the listener's backlog, then every free descriptor is
// taken; the server must keep listening, report one `accept EMFILE` per burst, retry
// after pauses (little CPU, few failed accept calls), and serve the queued clients once
// descriptors are free again. Run twice to show the second burst is reported again.

/// Clients queued per burst.
const QUEUED: usize = 3;
/// How long each burst lasts.
const BURST: Duration = Duration::from_millis(1000);

nn_test! {
    fn emfile_reported_once_per_burst_backs_off_and_recovers() {
        use rlimit::Resource;
        use std::io::Read;
        let (soft, hard) = Resource::NOFILE.get().unwrap();
        let (mut server, port) = loopback_server!();
        process_cpu_time(); // opens /proc/self/stat while descriptors are free
        for burst in 1..=2 {
            // Queued before the descriptors run out (the handshake completes in the
            // kernel; only accept(2) needs a new descriptor).
            let clients: Vec<std::net::TcpStream> = (0..QUEUED)
                .map(|_| std::net::TcpStream::connect(("127.0.0.1", port)).unwrap())
                .collect();
            Resource::NOFILE.set(open_fds() as u64 + 8, hard).unwrap();
            let mut filler = Vec::new();
            let exhausted = loop {
                match std::fs::File::open("/dev/null") {
                    Ok(f) => filler.push(f),
                    Err(e) => break e,
                }
            };
            assert_eq!(exhausted.raw_os_error(), Some(24), "EMFILE: {exhausted}");

            let failures_before = server.accept_failures();
            let cpu_before = process_cpu_time();
            let t0 = Instant::now();
            let mut events = Vec::new();
            while let Some(ev) = next_until!(server, t0 + BURST) {
                events.push(ev);
            }
            let wall = t0.elapsed();
            let cpu = process_cpu_time().saturating_sub(cpu_before);
            let failures = server.accept_failures() - failures_before;
            // Free the descriptors before asserting (a failure must not starve the
            // harness).
            drop(filler);
            Resource::NOFILE.set(soft, hard).unwrap();
            eprintln!(
                "[{BACKEND}] burst {burst}: {} event(s), {failures} failed accept calls, \
                 cpu {cpu:?} in {wall:?}",
                events.len()
            );

            assert_eq!(events.len(), 1, "one report per burst: {events:?}");
            match &events[0] {
                Some(ServerEvent::Error(e)) => {
                    assert_eq!(e.code(), ErrorCode::EMFILE);
                    assert_eq!(e.message(), "accept EMFILE");
                    assert_eq!(e.syscall(), Some("accept"));
                }
                other => panic!("expected accept EMFILE, got {other:?}"),
            }
            assert!(server.listening(), "still listening after the burst");
            // Paused retries: 10 ms doubling to 250 ms is about 8 calls per second, not
            // a spin.
            assert!((2..=30).contains(&failures), "{failures} failed accept calls");
            assert!(cpu * 5 < wall, "cpu {cpu:?} during a {wall:?} burst (>= 20%)");

            // Descriptors are free: the queued clients are served, in order.
            let freed = Instant::now();
            let mut conns = Vec::new();
            for _ in 0..QUEUED {
                let mut c = accept!(server);
                c.end_with(format!("served {burst}"));
                conns.push(c);
            }
            eprintln!("[{BACKEND}] burst {burst}: queued clients accepted {:?} after the fds were freed", freed.elapsed());
            for mut client in clients {
                client.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
                let mut got = String::new();
                client.read_to_string(&mut got).unwrap();
                assert_eq!(got, format!("served {burst}"));
            }
            for mut c in conns {
                let (_, ev) = drain!(c);
                assert_eq!(ev.last(), Some(&SocketEvent::Close { had_error: Some(false) }));
            }
            assert_eq!(server.connections(), 0);
        }
        assert!(server.accept_failures() >= 4);
        server.close().unwrap();
        assert!(matches!(next!(server), Some(ServerEvent::Close)));
    }
}
