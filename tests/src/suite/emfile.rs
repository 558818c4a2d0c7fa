//! Accept under `EMFILE`: clients are queued in the listener's backlog, then every free
//! descriptor is taken; the server must keep listening, report one `accept EMFILE` per
//! burst, retry after pauses (little CPU, few failed accept calls), and serve the queued
//! clients once descriptors are free again. Run twice to show the second burst is
//! reported again. Each runtime runs it in a test
//! binary of its own (`emfile_<runtime>.rs`), because it lowers the whole process's
//! descriptor limit (restored before it ends).
use std::time::{Duration, Instant};

use nodenet::{ErrorCode, ServerOptions, SocketEvent};
use nodenet_core::ServerEvent;

use super::proc_stats::{open_fds, process_cpu_time};
use super::support::{accept, drain, loopback_server};
use crate::harness::Settings;
use crate::test_runtime::{next, next_until, TestRuntime};

/// Serial (the test counts and limits the process's descriptors), bounded by 300 s.
pub const SETTINGS: Settings = super::RELIABILITY;

/// Clients queued per burst.
const QUEUED: usize = 3;
/// How long each burst lasts.
const BURST: Duration = Duration::from_millis(1000);

/// Two `EMFILE` bursts: one report each, paused retries, the queued clients served after.
pub async fn emfile_reported_once_per_burst_backs_off_and_recovers<R: TestRuntime>() {
    use rlimit::Resource;
    use std::io::Read;
    let name = R::NAME;
    let (soft, hard) = Resource::NOFILE.get().unwrap();
    let (mut server, port) = loopback_server::<R>(ServerOptions::default()).await;
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
        while let Some(ev) = next_until(&mut server, t0 + BURST).await {
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
            "[{name}] burst {burst}: {} event(s), {failures} failed accept calls, \
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
        assert!(
            (2..=30).contains(&failures),
            "{failures} failed accept calls"
        );
        assert!(
            cpu * 5 < wall,
            "cpu {cpu:?} during a {wall:?} burst (>= 20%)"
        );

        // Descriptors are free: the queued clients are served, in order.
        let freed = Instant::now();
        let mut conns = Vec::new();
        for _ in 0..QUEUED {
            let mut c = accept(&mut server).await;
            c.end_with(format!("served {burst}"));
            conns.push(c);
        }
        eprintln!(
            "[{name}] burst {burst}: queued clients accepted {:?} after the fds were freed",
            freed.elapsed()
        );
        for mut client in clients {
            client
                .set_read_timeout(Some(Duration::from_secs(5)))
                .unwrap();
            let mut got = String::new();
            client.read_to_string(&mut got).unwrap();
            assert_eq!(got, format!("served {burst}"));
        }
        for mut c in conns {
            let (_, ev) = drain(&mut c).await;
            assert_eq!(
                ev.last(),
                Some(&SocketEvent::Close {
                    had_error: Some(false)
                })
            );
        }
        assert_eq!(server.connections(), 0);
    }
    assert!(server.accept_failures() >= 4);
    server.close().unwrap();
    assert!(matches!(next(&mut server).await, Some(ServerEvent::Close)));
}

/// Registers the `EMFILE` test for runtime `$runtime`.
#[macro_export]
macro_rules! emfile_tests {
    ($runtime:ty) => {
        $crate::register_tests!($runtime => emfile {
            emfile_reported_once_per_burst_backs_off_and_recovers,
        });
    };
}
