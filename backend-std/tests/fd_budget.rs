//! Descriptors per connection on the blocking backend: at the usual soft limit of 1,024
//! descriptors, a thread-per-connection server serves at least 900 connections at once
//! (each thread blocked in `next_event`). Its own test binary: it lowers the process's
//! descriptor limit (restored before it ends).
//!
//! The 900 clients are in this process too, but their descriptors are moved above the
//! limit before it is lowered (descriptors already open beyond a limit stay valid), so
//! every descriptor below 1,024 is left to the server.

use nodenet_std::*;

include!("harness/std.rs");
include!("../../nodenet/testsuite/macros.rs");
include!("../../nodenet/testsuite/reliability.rs");
include!("../../nodenet/testsuite/proc_stats.rs");

/// Concurrent connections required at a soft limit of 1,024.
const CONNECTIONS: usize = 900;
/// The soft limit the server runs under.
const LIMIT: u64 = 1024;
/// Where the clients' descriptors are moved.
const CLIENT_FDS_FROM: i32 = 2048;

nn_test! {
    fn nine_hundred_connections_fit_in_1024_descriptors() {
        use rlimit::Resource;
        use std::io::{Read, Write};
        let (soft, hard) = Resource::NOFILE.get().unwrap();
        let needed = CLIENT_FDS_FROM as u64 + CONNECTIONS as u64 + 64;
        if hard < needed {
            eprintln!("[{BACKEND}] skipped: the hard descriptor limit {hard} < {needed}");
            return;
        }
        Resource::NOFILE.set(needed.max(soft), hard).unwrap();
        let mut server = create_server(ServerOptions::default());
        server
            .listen(ListenOptions::port(0).host("127.0.0.1").backlog(CONNECTIONS as u32 + 100))
            .unwrap();
        listening!(server);
        let port = tcp_port!(server);
        // Connected in the kernel's backlog, then moved out of the server's range.
        let clients: Vec<std::net::TcpStream> = (0..CONNECTIONS)
            .map(|_| {
                let c = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
                let high = rustix::io::fcntl_dupfd_cloexec(&c, CLIENT_FDS_FROM).unwrap();
                std::net::TcpStream::from(high)
            })
            .collect();
        let base = open_fds();
        Resource::NOFILE.set(LIMIT, hard).unwrap();

        let mut threads = Vec::new();
        let mut errors = Vec::new();
        let deadline = Instant::now() + Duration::from_secs(60);
        while threads.len() < CONNECTIONS {
            match next_until!(server, deadline) {
                Some(Some(ServerEvent::Connection(mut c))) => {
                    let t = std::thread::Builder::new()
                        .stack_size(64 * 1024)
                        .spawn(move || echo!(c));
                    threads.push(t.expect("thread"));
                }
                Some(Some(ServerEvent::Error(e))) => errors.push(e),
                other => {
                    errors.push(Error::new(ErrorCode::EIO, ErrorClass::Error, format!("{other:?}")));
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
            "[{BACKEND}] fd budget: {echoed} of {CONNECTIONS} connections served at once under \
             a soft limit of {LIMIT}; {per_connection:.2} descriptors per connection \
             ({base} -> {during})"
        );
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(echoed, CONNECTIONS);
        assert!(per_connection < 1.1, "{per_connection} descriptors per connection");
    }
}
