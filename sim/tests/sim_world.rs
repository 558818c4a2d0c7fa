//! The simulator's kernel model, one behaviour per test, through the user-facing API:
//! backpressure and `Drain` against a paused reader, close with unread data becoming an
//! RST, black holes ended by our timers, refused connects, a broken IPv6 path driving
//! happy eyeballs to IPv4, `EMFILE` on accept (reported once, the queue served later),
//! `shutdown(deadline)`, `maxConnections`, and dual-stack addresses.

use std::time::Duration;

use bytes::Bytes;
use nodenet_core::server::{ListenOptions, ServerEvent, ServerOptions};
use nodenet_core::socket::{ConnectOptions, SocketEvent};
use nodenet_core::{ErrorCode, SocketOptions};
use nodenet_sim::{Faults, ServerId, SocketId, World, WorldEvent};

fn error_code(w: &World, s: SocketId) -> Option<ErrorCode> {
    w.events(s).iter().find_map(|e| match e {
        SocketEvent::Error(e) => Some(e.code()),
        _ => None,
    })
}

fn server(w: &mut World) -> ServerId {
    w.host("10.0.0.1")
        .address("fd00::1")
        .listen(ListenOptions::port(80))
        .unwrap()
}

#[test]
fn backpressure_until_the_paused_peer_reads() {
    let mut w = World::with_faults(1, Faults::calm());
    let srv = server(&mut w);
    let c = w.connect(ConnectOptions::tcp(80, "10.0.0.1")).unwrap();
    let mut conn = None;
    while let Some(ev) = w.next_event(None) {
        if let WorldEvent::Accepted { socket, .. } = ev {
            w.pause(socket);
            conn = Some(socket);
            break;
        }
    }
    let conn = conn.unwrap();
    w.run_until(Duration::from_millis(50));
    // 1 MiB into a 64 KiB kernel buffer toward a paused reader: write says wait...
    let big = Bytes::from(vec![7u8; 1 << 20]);
    assert!(!w.write(c, big).ok);
    w.run_until(Duration::from_secs(1));
    // ...and the kernel takes only what fits.
    assert!(w.socket(c).writable_length() > 900 * 1024);
    assert!(!w.events(c).contains(&SocketEvent::Drain));
    w.resume(conn);
    w.run_until(Duration::from_secs(2));
    assert_eq!(w.socket(c).writable_length(), 0);
    assert!(w.events(c).contains(&SocketEvent::Drain));
    assert_eq!(w.received(conn).len(), 1 << 20);
    w.end(c).unwrap();
    w.close_server(srv).unwrap();
    w.run_until_idle();
    assert!(w.violations().is_empty(), "{:?}", w.violations());
}

#[test]
fn close_with_unread_data_resets_the_peer() {
    let mut w = World::with_faults(2, Faults::none());
    let _srv = server(&mut w);
    let c = w.connect(ConnectOptions::tcp(80, "10.0.0.1")).unwrap();
    let mut conn = None;
    while let Some(ev) = w.next_event(None) {
        if let WorldEvent::Accepted { socket, .. } = ev {
            w.pause(socket);
            conn = Some(socket);
        }
    }
    let conn = conn.unwrap();
    w.write(c, Bytes::from_static(b"never read"));
    w.run_until_idle();
    // The server closes without reading: Linux sends an RST, not a FIN.
    w.destroy(conn, None);
    w.run_until_idle();
    assert_eq!(error_code(&w, c), Some(ErrorCode::ECONNRESET));
    assert!(w
        .trace()
        .iter()
        .any(|l| l.contains("RST") && l.contains("unread data")));
    assert!(w.violations().is_empty(), "{:?}", w.violations());
}

#[test]
fn black_hole_is_ended_by_our_timeout() {
    let mut w = World::new(3);
    w.black_hole("10.0.0.7");
    let _ = w.host("10.0.0.7");
    let c = w.connect(ConnectOptions::tcp(80, "10.0.0.7")).unwrap();
    w.set_timeout(c, 500.0).unwrap();
    while let Some(ev) = w.next_event(None) {
        if ev == WorldEvent::Socket(c, SocketEvent::Timeout) {
            w.destroy(c, None);
        }
    }
    assert_eq!(w.now(), Duration::from_millis(500));
    assert_eq!(
        w.events(c).last(),
        Some(&SocketEvent::Close {
            had_error: Some(false)
        })
    );
    // Without a timer the kernel gives up after 127 s, as Linux does.
    let d = w.connect(ConnectOptions::tcp(80, "10.0.0.7")).unwrap();
    w.run_until_idle();
    assert_eq!(error_code(&w, d), Some(ErrorCode::ETIMEDOUT));
    assert!(w.now() >= Duration::from_secs(127));
}

#[test]
fn refused_and_unknown_names() {
    let mut w = World::new(4);
    let _srv = server(&mut w);
    let a = w.connect(ConnectOptions::tcp(81, "10.0.0.1")).unwrap();
    let b = w.connect(ConnectOptions::tcp(80, "nowhere.test")).unwrap();
    w.run_until_idle();
    assert_eq!(error_code(&w, a), Some(ErrorCode::ECONNREFUSED));
    assert_eq!(error_code(&w, b), Some(ErrorCode::ENOTFOUND));
}

#[test]
fn broken_ipv6_falls_back_to_ipv4_through_happy_eyeballs() {
    let faults = Faults {
        ipv6_broken: true,
        ..Faults::calm()
    };
    let mut w = World::with_faults(5, faults);
    let _srv = server(&mut w);
    w.dns("svc.test", &["fd00::1", "10.0.0.1"]);
    let c = w.connect(ConnectOptions::tcp(80, "svc.test")).unwrap();
    w.run_until(Duration::from_secs(5));
    let attempts: Vec<&str> = w
        .events(c)
        .iter()
        .filter_map(|e| match e {
            SocketEvent::ConnectionAttempt { address, .. } => Some(address.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(attempts, ["fd00::1", "10.0.0.1"]);
    assert!(w.events(c).contains(&SocketEvent::Connect));
    assert_eq!(w.socket(c).remote_address(), "10.0.0.1".parse().ok());
}

#[test]
fn emfile_on_accept_is_reported_once_and_the_queue_is_served_later() {
    let mut w = World::with_faults(6, Faults::none());
    let srv = server(&mut w);
    w.exhaust_descriptors("10.0.0.1", Duration::from_millis(100));
    let clients: Vec<SocketId> = (0..3)
        .map(|_| w.connect(ConnectOptions::tcp(80, "10.0.0.1")).unwrap())
        .collect();
    w.run_until(Duration::from_millis(99));
    assert!(
        w.accepted(srv).is_empty(),
        "nothing accepted while exhausted"
    );
    w.run_until_idle();
    let errors: Vec<String> = w
        .server_events(srv)
        .iter()
        .filter_map(|e| match e {
            ServerEvent::Error(e) => Some(e.message().to_string()),
            _ => None,
        })
        .collect();
    assert_eq!(errors, ["accept EMFILE"], "one report for the burst");
    // Failed at 0, 10, 30 and 70 ms (pauses of 10, 20, 40 ms); the retry at 150 ms works.
    assert_eq!(w.server(srv).accept_failures(), 4);
    assert_eq!(w.accepted(srv).len(), 3, "the queued clients are served");
    for c in clients {
        assert!(w.events(c).contains(&SocketEvent::Connect));
        assert!(!w.events(c).contains(&SocketEvent::End));
    }
    assert!(w.trace().iter().any(|l| l.contains("accept paused")));
    assert!(w.trace().iter().any(|l| l.contains("accept resumed")));
    w.teardown();
    assert!(w.violations().is_empty(), "{:?}", w.violations());
}

#[test]
fn shutdown_ends_connections_and_destroys_the_rest_at_the_deadline() {
    let mut w = World::with_faults(8, Faults::none());
    let srv = server(&mut w);
    // `polite` ends when the server does; `stubborn` (half-open) keeps its side open.
    let polite = w.connect(ConnectOptions::tcp(80, "10.0.0.1")).unwrap();
    let stubborn = w
        .host("10.0.0.100")
        .connect_with(
            SocketOptions {
                allow_half_open: true,
                ..SocketOptions::default()
            },
            ConnectOptions::tcp(80, "10.0.0.1"),
        )
        .unwrap();
    w.run_until(Duration::from_millis(1));
    assert_eq!(w.server(srv).connections(), 2);
    w.shutdown_server(srv, Duration::from_millis(50));
    assert!(!w.server(srv).listening());
    w.run_until(Duration::from_millis(49));
    let accepted = w.accepted(srv);
    let closed = |w: &World, s: SocketId| {
        w.events(s)
            .iter()
            .any(|e| matches!(e, SocketEvent::Close { .. }))
    };
    assert_eq!(
        w.server(srv).connections(),
        1,
        "the polite connection ended"
    );
    assert!(closed(&w, polite) && !closed(&w, stubborn));
    w.run_until_idle();
    assert_eq!(w.server(srv).connections(), 0);
    assert!(accepted.iter().all(|s| closed(&w, *s)));
    assert_eq!(w.server_events(srv).last(), Some(&ServerEvent::Close));
    assert!(w
        .trace()
        .iter()
        .any(|l| l.contains("t=51.000ms kernel: shutdown deadline: destroy connections")));
    w.teardown();
    assert!(w.violations().is_empty(), "{:?}", w.violations());
}

#[test]
fn max_connections_drops_and_dual_stack_maps_ipv4() {
    let mut w = World::with_faults(7, Faults::none());
    let srv = w
        .host("10.0.0.1")
        .address("fd00::1")
        .listen_with(
            ServerOptions::new(SocketOptions::default()),
            ListenOptions::port(80),
        )
        .unwrap();
    w.set_max_connections(srv, Some(1));
    let a = w.connect(ConnectOptions::tcp(80, "10.0.0.1")).unwrap();
    let b = w.connect(ConnectOptions::tcp(80, "fd00::1")).unwrap();
    w.run_until_idle();
    let accepted = w.accepted(srv);
    assert_eq!(accepted.len(), 1);
    assert_eq!(
        w.socket(accepted[0]).remote_address(),
        "::ffff:10.0.0.100".parse().ok()
    );
    assert!(w
        .server_events(srv)
        .iter()
        .any(|e| matches!(e, ServerEvent::Drop(Some(_)))));
    assert!(w.events(a).contains(&SocketEvent::Connect));
    assert!(w.events(b).contains(&SocketEvent::End));
    w.teardown();
    assert!(w.violations().is_empty(), "{:?}", w.violations());
}

#[test]
fn same_seed_same_trace_for_a_user_world() {
    let run = |seed| {
        let mut w = World::new(seed);
        let _srv = server(&mut w);
        let c = w.connect(ConnectOptions::tcp(80, "10.0.0.1")).unwrap();
        w.write(c, Bytes::from(vec![1u8; 100_000]));
        w.end(c).unwrap();
        w.run_until_idle();
        w.teardown();
        (w.trace_hash(), w.trace().to_vec())
    };
    let (h1, t1) = run(11);
    let (h2, t2) = run(11);
    assert_eq!(h1, h2);
    assert_eq!(t1, t2);
    assert_ne!(run(12).0, h1);
}

#[test]
fn ipc_connect_is_refused_with_enoent() {
    // IPC is not modelled: the connect must fail as its docs say, not hang at
    // `ConnectionAttempt`.
    let mut w = World::with_faults(5, Faults::none());
    let c = w
        .connect(ConnectOptions::path("/tmp/nodenet-sim.sock"))
        .unwrap();
    w.run_until_idle();
    let names: Vec<String> = w
        .events(c)
        .iter()
        .map(|e| match e {
            SocketEvent::ConnectionAttempt { address, .. } => format!("attempt {address}"),
            SocketEvent::ConnectionAttemptFailed { error, .. } => {
                format!("attemptFailed {}", error.code())
            }
            SocketEvent::Error(e) => format!("error {}", e.message()),
            SocketEvent::Close { had_error } => format!("close {had_error:?}"),
            other => format!("{other:?}"),
        })
        .collect();
    assert_eq!(
        names,
        [
            "attempt /tmp/nodenet-sim.sock",
            "attemptFailed ENOENT",
            "error connect ENOENT /tmp/nodenet-sim.sock",
            "close Some(true)",
        ]
    );
    assert_eq!(error_code(&w, c), Some(ErrorCode::ENOENT));
}

#[test]
fn reuse_port_shares_the_port_between_two_servers() {
    let mut w = World::with_faults(5, Faults::calm());
    let opts = || ListenOptions::port(80).reuse_port(true);
    let first = w.host("10.0.0.1").listen(opts()).unwrap();
    let second = w.host("10.0.0.1").listen(opts()).unwrap();
    // Without reusePort the port is taken.
    let plain = w.host("10.0.0.1").listen(ListenOptions::port(80)).unwrap();
    let clients: Vec<SocketId> = (0..16)
        .map(|_| w.connect(ConnectOptions::tcp(80, "10.0.0.1")).unwrap())
        .collect();
    w.run_until(Duration::from_secs(1));
    assert!(w
        .server_events(plain)
        .iter()
        .any(|e| matches!(e, ServerEvent::Error(e) if e.code() == ErrorCode::EADDRINUSE)));
    for &c in &clients {
        assert!(w.events(c).contains(&SocketEvent::Connect));
    }
    let (a, b) = (w.accepted(first).len(), w.accepted(second).len());
    assert_eq!(a + b, clients.len());
    assert!(a > 0 && b > 0, "{a} + {b}");
    w.teardown();
    assert!(w.violations().is_empty(), "{:?}", w.violations());
}

#[test]
fn full_backlog_drops_the_syn_until_the_retry() {
    // Zero latency: both SYNs arrive before the server's accept runs, and a backlog of one
    // drops the second, which Linux retransmits a second later.
    let mut w = World::with_faults(6, Faults::none());
    let srv = w
        .host("10.0.0.1")
        .listen(ListenOptions::port(80).backlog(1))
        .unwrap();
    let a = w.connect(ConnectOptions::tcp(80, "10.0.0.1")).unwrap();
    let b = w.connect(ConnectOptions::tcp(80, "10.0.0.1")).unwrap();
    w.run_until(Duration::from_millis(500));
    assert!(w.trace().iter().any(|l| l.contains("backlog full")));
    assert!(w.events(a).contains(&SocketEvent::Connect));
    assert!(!w.events(b).contains(&SocketEvent::Connect));
    w.run_until(Duration::from_secs(2));
    assert!(w.events(b).contains(&SocketEvent::Connect));
    assert_eq!(w.accepted(srv).len(), 2);
    w.teardown();
    assert!(w.violations().is_empty(), "{:?}", w.violations());
}
