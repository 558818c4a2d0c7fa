//! Descriptors per connection on the blocking runtime: at the usual soft limit of 1,024
//! descriptors, a thread-per-connection server serves at least 900 connections at once
//! (each thread blocked in `next_event`). Its own test binary: it lowers the process's
//! descriptor limit (restored before it ends). std only: the other runtimes hold no
//! thread per connection.
//!
//! The 900 clients are in this process too, but their descriptors are moved above the
//! limit before it is lowered (descriptors already open beyond a limit stay valid), so
//! every descriptor below 1,024 is left to the server.
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use nodenet::{ListenOptions, Runtime, ServerOptions, SocketEvent};
use nodenet_core::ServerEvent;
use nodenet_std::StdRuntime;
use nodenet_tests::harness::run;
use nodenet_tests::suite::proc_stats::open_fds;
use nodenet_tests::suite::support::{create_server, listening, tcp_port};
use nodenet_tests::suite::RELIABILITY;
use nodenet_tests::test_runtime::{next_until, TestRuntime};

/// Concurrent connections required at a soft limit of 1,024.
const CONNECTIONS: usize = 900;
/// The soft limit the server runs under.
const LIMIT: u64 = 1024;
/// Where the clients' descriptors are moved.
const CLIENT_FDS_FROM: i32 = 2048;

#[test]
fn nine_hundred_connections_fit_in_1024_descriptors() {
    run::<StdRuntime, _>(RELIABILITY, || async {
        use rlimit::Resource;
        let (soft, hard) = Resource::NOFILE.get().unwrap();
        let needed = CLIENT_FDS_FROM as u64 + CONNECTIONS as u64 + 64;
        if hard < needed {
            eprintln!(
                "[{}] skipped: the hard descriptor limit {hard} < {needed}",
                StdRuntime::NAME
            );
            return;
        }
        Resource::NOFILE.set(needed.max(soft), hard).unwrap();
        let mut server = create_server::<StdRuntime>(ServerOptions::default());
        server
            .listen(
                ListenOptions::port(0)
                    .host("127.0.0.1")
                    .backlog(CONNECTIONS as u32 + 100),
            )
            .unwrap();
        listening(&mut server).await;
        let port = tcp_port(&server);
        // Connected in the kernel's backlog, then moved out of the server's range.
        let clients: Vec<TcpStream> = (0..CONNECTIONS)
            .map(|_| {
                let c = TcpStream::connect(("127.0.0.1", port)).unwrap();
                let high = rustix::io::fcntl_dupfd_cloexec(&c, CLIENT_FDS_FROM).unwrap();
                TcpStream::from(high)
            })
            .collect();
        let base = open_fds();
        Resource::NOFILE.set(LIMIT, hard).unwrap();

        let mut threads = Vec::new();
        let mut errors = Vec::new();
        let deadline = StdRuntime::now() + Duration::from_secs(60);
        while threads.len() < CONNECTIONS {
            match next_until(&mut server, deadline).await {
                Some(Some(ServerEvent::Connection(mut c))) => {
                    // An echo on a small thread of its own, blocked in `next_event`.
                    let t = std::thread::Builder::new()
                        .stack_size(64 * 1024)
                        .spawn(move || {
                            while let Some(ev) = c.next_event() {
                                if let SocketEvent::Data(d) = ev {
                                    c.write(d);
                                }
                            }
                        });
                    threads.push(t.expect("thread"));
                }
                Some(Some(ServerEvent::Error(e))) => errors.push(e.to_string()),
                other => {
                    errors.push(format!("{other:?}"));
                    break;
                }
            }
        }
        let during = open_fds();
        // Every connection is served, all at once: each client gets its byte back.
        let mut echoed = 0;
        for (i, mut c) in clients.iter().enumerate() {
            c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
            let b = [(i % 251) as u8];
            let mut back = [0u8; 1];
            if c.write_all(&b).is_ok() && c.read_exact(&mut back).is_ok() && back == b {
                echoed += 1;
            }
        }
        drop(clients);
        for t in threads {
            t.join().unwrap();
        }
        Resource::NOFILE.set(soft, hard).unwrap();
        let per_connection = (during - base) as f64 / CONNECTIONS as f64;
        eprintln!(
            "[{}] fd budget: {echoed} of {CONNECTIONS} connections served at once under \
             a soft limit of {LIMIT}; {per_connection:.2} descriptors per connection \
             ({base} -> {during})",
            StdRuntime::NAME
        );
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(echoed, CONNECTIONS);
        assert!(
            per_connection < 1.1,
            "{per_connection} descriptors per connection"
        );
    });
}
