//! The simulated kernel's behaviours, one per test, seen by real nodenet programs on the
//! simulation runtime: backpressure and `Drain` against a paused reader, close with
//! unread data becoming an RST, black holes ended by our timer, refused connects and
//! unknown names, a broken IPv6 path driving happy eyeballs to IPv4, `EMFILE` on accept
//! (reported once per burst, the queue served later), `shutdown(deadline)`,
//! `maxConnections` with dual-stack addresses, IPC connects, `reusePort`, a full
//! backlog, and loopback addresses. (Partitions, holds, crashes, DNS fallback, the
//! trace and determinism are in sim_runtime.rs.)

use std::cell::{Cell, RefCell};
use std::net::{IpAddr, Ipv4Addr};
use std::rc::Rc;
use std::time::Duration;

use nodenet_core::{
    ConnectOptions, Endpoint, ErrorCode, ListenOptions, ServerOptions, SocketEvent, SocketOptions,
};
use nodenet_sim::runtime::{self, connect, create_server, ServerEvent, Sim, SimConfig, Socket};
use nodenet_sim::{Faults, TraceMode};

fn error_code(events: &[SocketEvent]) -> Option<ErrorCode> {
    events.iter().find_map(|e| match e {
        SocketEvent::Error(e) => Some(e.code()),
        _ => None,
    })
}

/// Every event until the socket is done.
async fn events(socket: &mut Socket) -> Vec<SocketEvent> {
    let mut out = Vec::new();
    while let Some(ev) = socket.next_event().await {
        out.push(ev);
    }
    out
}

/// Wait for `Connect` (false when the socket closed first).
async fn connected(socket: &mut Socket) -> bool {
    while let Some(ev) = socket.next_event().await {
        if ev == SocketEvent::Connect {
            return true;
        }
    }
    false
}

fn full_trace(seed: u64, faults: Faults) -> Sim {
    Sim::with_config(SimConfig::new(seed).faults(faults).trace(TraceMode::Full))
}

#[test]
fn backpressure_until_the_paused_peer_reads() {
    let mut sim = Sim::with_faults(1, Faults::calm());
    let received = Rc::new(Cell::new(0usize));
    let r = Rc::clone(&received);
    sim.host("server", move || {
        let received = Rc::clone(&r);
        async move {
            let mut server = create_server(ServerOptions::default());
            server.listen(ListenOptions::port(80))?;
            while let Some(ev) = server.next_event().await {
                if let ServerEvent::Connection(mut conn) = ev {
                    conn.pause();
                    let received = Rc::clone(&received);
                    runtime::spawn(async move {
                        let _ = runtime::timeout(Duration::from_secs(1), async {
                            while conn.next_event().await.is_some() {}
                        })
                        .await;
                        conn.resume();
                        while let Some(ev) = conn.next_event().await {
                            if let SocketEvent::Data(d) = ev {
                                received.set(received.get() + d.len());
                            }
                        }
                    });
                }
            }
            Ok(())
        }
    });
    sim.client("client", async {
        let mut socket = connect(ConnectOptions::tcp(80, "server"))?;
        assert!(connected(&mut socket).await);
        // 1 MiB into a 64 KiB kernel buffer toward a paused reader: write says wait...
        assert!(!socket.write(vec![7u8; 1 << 20]));
        let r = runtime::timeout(Duration::from_millis(800), async {
            while let Some(ev) = socket.next_event().await {
                assert_ne!(ev, SocketEvent::Drain, "drained while the reader is paused");
            }
        })
        .await;
        assert!(r.is_err(), "the socket closed");
        // ...and only what fits is taken: the kernel buffers of both ends, plus what the
        // paused reader reads on into its own buffer until that holds a high-water mark
        // (one 64 KiB read, as Node's paused socket does).
        assert!(socket.writable_length() > 1024 * 1024 - 4 * 64 * 1024);
        // The reader resumes: everything is taken and `Drain` comes.
        while let Some(ev) = socket.next_event().await {
            if ev == SocketEvent::Drain {
                break;
            }
        }
        assert_eq!(socket.writable_length(), 0);
        socket.end()?;
        events(&mut socket).await;
        Ok(())
    });
    sim.run().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(received.get(), 1 << 20);
}

#[test]
fn close_with_unread_data_resets_the_peer() {
    let mut sim = full_trace(2, Faults::none());
    sim.host("server", || async {
        let mut server = create_server(ServerOptions::default());
        server.listen(ListenOptions::port(80))?;
        while let Some(ev) = server.next_event().await {
            if let ServerEvent::Connection(mut conn) = ev {
                conn.pause();
                runtime::sleep(Duration::from_millis(100)).await;
                // Closed without reading: Linux sends an RST, not a FIN.
                conn.destroy(None);
            }
        }
        Ok(())
    });
    sim.client("client", async {
        let mut socket = connect(ConnectOptions::tcp(80, "server"))?;
        socket.write("never read");
        let evs = events(&mut socket).await;
        assert_eq!(error_code(&evs), Some(ErrorCode::ECONNRESET), "{evs:?}");
        Ok(())
    });
    sim.run().unwrap_or_else(|e| panic!("{e}"));
    assert!(sim
        .trace()
        .iter()
        .any(|l| l.contains("RST") && l.contains("unread data")));
}

#[test]
fn a_black_hole_is_ended_by_our_timeout() {
    let mut sim = Sim::new(3);
    sim.client("client", async {
        // No host has 10.0.0.77: the SYN is never answered.
        let t0 = runtime::now();
        let mut socket = connect(ConnectOptions::tcp(80, "10.0.0.77"))?;
        socket.set_timeout(500)?;
        let mut evs = Vec::new();
        while let Some(ev) = socket.next_event().await {
            if ev == SocketEvent::Timeout {
                assert_eq!(runtime::now() - t0, Duration::from_millis(500));
                socket.destroy(None);
            }
            evs.push(ev);
        }
        assert_eq!(
            evs.last(),
            Some(&SocketEvent::Close {
                had_error: Some(false)
            })
        );
        // Without a timer the kernel gives up after 127 s, as Linux does.
        let t0 = runtime::now();
        let mut socket = connect(ConnectOptions::tcp(80, "10.0.0.77"))?;
        let evs = events(&mut socket).await;
        assert_eq!(error_code(&evs), Some(ErrorCode::ETIMEDOUT));
        assert!(runtime::now() - t0 >= Duration::from_secs(127));
        Ok(())
    });
    sim.run().unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn refused_and_unknown_names() {
    let mut sim = Sim::new(4);
    sim.host("server", || async {
        let mut server = create_server(ServerOptions::default());
        server.listen(ListenOptions::port(80))?;
        while server.next_event().await.is_some() {}
        Ok(())
    });
    sim.client("client", async {
        let mut a = connect(ConnectOptions::tcp(81, "server"))?;
        assert_eq!(
            error_code(&events(&mut a).await),
            Some(ErrorCode::ECONNREFUSED)
        );
        let mut b = connect(ConnectOptions::tcp(80, "nowhere.test"))?;
        assert_eq!(
            error_code(&events(&mut b).await),
            Some(ErrorCode::ENOTFOUND)
        );
        Ok(())
    });
    sim.run().unwrap_or_else(|e| panic!("{e}"));
}

/// A server on host `server` (10.0.0.1, fd00::1) that accepts and reads until the end.
fn sink_server(sim: &mut Sim, options: ServerOptions, max: Option<u32>) {
    sim.host("server", move || {
        let options = options.clone();
        async move {
            let mut server = create_server(options);
            server.set_max_connections(max);
            server.listen(ListenOptions::port(80))?;
            while let Some(ev) = server.next_event().await {
                if let ServerEvent::Connection(mut conn) = ev {
                    runtime::spawn(async move { while conn.next_event().await.is_some() {} });
                }
            }
            Ok(())
        }
    });
}

#[test]
fn broken_ipv6_falls_back_to_ipv4_through_happy_eyeballs() {
    let faults = Faults {
        ipv6_broken: true,
        ..Faults::calm()
    };
    let mut sim = Sim::with_faults(5, faults);
    sink_server(&mut sim, ServerOptions::default(), None);
    sim.dns("svc.test", &["fd00::1", "10.0.0.1"]);
    sim.client("client", async {
        let mut socket = connect(ConnectOptions::tcp(80, "svc.test"))?;
        let mut attempts = Vec::new();
        while let Some(ev) = socket.next_event().await {
            match ev {
                SocketEvent::ConnectionAttempt { address, .. } => attempts.push(address),
                SocketEvent::Connect => break,
                _ => {}
            }
        }
        assert_eq!(attempts, ["fd00::1", "10.0.0.1"]);
        assert_eq!(socket.remote_address(), "10.0.0.1".parse().ok());
        socket.end()?;
        events(&mut socket).await;
        Ok(())
    });
    sim.run().unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn emfile_on_accept_is_reported_once_per_burst_and_the_queue_is_served_later() {
    let faults = Faults {
        accept_emfile: 700,
        ..Faults::none()
    };
    let mut sim = Sim::with_faults(6, faults);
    let log = Rc::new(RefCell::new((0usize, 0usize, 0u64)));
    let l = Rc::clone(&log);
    sim.host("server", move || {
        let log = Rc::clone(&l);
        async move {
            let mut server = create_server(ServerOptions::default());
            server.listen(ListenOptions::port(80))?;
            while let Some(ev) = server.next_event().await {
                match ev {
                    ServerEvent::Connection(mut conn) => {
                        log.borrow_mut().0 += 1;
                        runtime::spawn(async move { while conn.next_event().await.is_some() {} });
                    }
                    ServerEvent::Error(e) => {
                        assert_eq!(e.code(), ErrorCode::EMFILE);
                        log.borrow_mut().1 += 1;
                    }
                    _ => {}
                }
                log.borrow_mut().2 = server.accept_failures();
            }
            Ok(())
        }
    });
    for i in 0..3 {
        sim.client(&format!("client{i}"), async {
            let mut socket = connect(ConnectOptions::tcp(80, "server"))?;
            assert!(connected(&mut socket).await);
            socket.end()?;
            let evs = events(&mut socket).await;
            assert_eq!(error_code(&evs), None, "{evs:?}");
            Ok(())
        });
    }
    sim.run().unwrap_or_else(|e| panic!("{e}"));
    let (accepted, reported, failures) = *log.borrow();
    assert_eq!(accepted, 3, "the queued clients are served");
    assert!(reported >= 1, "EMFILE reported");
    assert!(
        failures > reported as u64,
        "one report per burst of failures: {reported} reports, {failures} failures"
    );
}

#[test]
fn shutdown_ends_connections_and_destroys_the_rest_at_the_deadline() {
    let mut sim = Sim::with_faults(8, Faults::none());
    // (what, virtual time) in order.
    let log: Rc<RefCell<Vec<(String, Duration)>>> = Rc::default();
    let l = Rc::clone(&log);
    sim.host("server", move || {
        let log = Rc::clone(&l);
        async move {
            let mut server = create_server(ServerOptions::default());
            server.listen(ListenOptions::port(80))?;
            let t0 = runtime::now();
            let mut accepted = 0;
            while let Some(ev) = server.next_event().await {
                if let ServerEvent::Connection(mut conn) = ev {
                    accepted += 1;
                    let log = Rc::clone(&log);
                    runtime::spawn(async move {
                        while conn.next_event().await.is_some() {}
                        let port = conn.remote_port().unwrap_or(0);
                        log.borrow_mut()
                            .push((format!("closed {port}"), runtime::now() - t0));
                    });
                    if accepted == 2 {
                        break;
                    }
                }
            }
            runtime::sleep(Duration::from_millis(10)).await;
            let start = runtime::now();
            log.borrow_mut().push(("shutdown".into(), start - t0));
            server.shutdown(start + Duration::from_millis(50)).await;
            assert!(!server.listening());
            assert_eq!(server.connections(), 0);
            log.borrow_mut()
                .push(("shut down".into(), runtime::now() - t0));
            while let Some(ev) = server.next_event().await {
                if matches!(ev, ServerEvent::Close) {
                    log.borrow_mut().push(("Close".into(), runtime::now() - t0));
                }
            }
            Ok(())
        }
    });
    // `polite` ends when the server does; `stubborn` (half-open) keeps its side open.
    sim.client("polite", async {
        let mut socket = connect(ConnectOptions::tcp(80, "server"))?;
        events(&mut socket).await;
        Ok(())
    });
    sim.client("stubborn", async {
        let mut socket = Socket::new(SocketOptions {
            allow_half_open: true,
            ..SocketOptions::default()
        });
        socket.connect(ConnectOptions::tcp(80, "server"))?;
        while let Some(ev) = socket.next_event().await {
            if ev == SocketEvent::End {
                // Its side stays open past the server's deadline.
                runtime::sleep(Duration::from_millis(200)).await;
                socket.end()?;
            }
        }
        Ok(())
    });
    sim.run().unwrap_or_else(|e| panic!("{e}"));
    let log = log.borrow();
    let what: Vec<&str> = log.iter().map(|(w, _)| w.as_str()).collect();
    assert_eq!(what.len(), 4, "{log:?}");
    assert_eq!(what[0], "shutdown");
    let start = log[0].1;
    // The polite connection closed soon after the server's end; the stubborn one at
    // the deadline; then the server closed.
    assert!(log[1].0.starts_with("closed") && log[1].1 < start + Duration::from_millis(5));
    assert!(log[2].0.starts_with("closed") && log[2].1 == start + Duration::from_millis(50));
    assert_eq!(what[3], "shut down", "{log:?}");
    assert_eq!(
        log[3].1, log[2].1,
        "shutdown returns once the last one closed"
    );
}

#[test]
fn max_connections_drops_and_dual_stack_maps_ipv4() {
    let mut sim = Sim::with_faults(7, Faults::none());
    let log: Rc<RefCell<Vec<String>>> = Rc::default();
    let l = Rc::clone(&log);
    sim.host("server", move || {
        let log = Rc::clone(&l);
        async move {
            let mut server = create_server(ServerOptions::default());
            server.set_max_connections(Some(1));
            server.listen(ListenOptions::port(80))?;
            while let Some(ev) = server.next_event().await {
                match ev {
                    ServerEvent::Connection(mut conn) => {
                        let remote = conn.remote_address().map(|a| a.to_string());
                        log.borrow_mut().push(format!("connection {remote:?}"));
                        runtime::spawn(async move { while conn.next_event().await.is_some() {} });
                    }
                    ServerEvent::Drop(Some(_)) => log.borrow_mut().push("drop".into()),
                    _ => {}
                }
            }
            Ok(())
        }
    });
    sim.client_with("client", Some(&["10.0.0.100", "fd00::100"]), async {
        let mut a = connect(ConnectOptions::tcp(80, "10.0.0.1"))?;
        assert!(connected(&mut a).await);
        let mut b = connect(ConnectOptions::tcp(80, "fd00::1"))?;
        let evs = events(&mut b).await;
        assert!(evs.contains(&SocketEvent::End), "{evs:?}");
        a.end()?;
        events(&mut a).await;
        Ok(())
    });
    sim.run().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        *log.borrow(),
        [
            "connection Some(\"::ffff:10.0.0.100\")".to_string(),
            "drop".to_string()
        ]
    );
}

#[test]
fn an_ipc_connect_fails_with_enoent() {
    // IPC is not modelled: the connect must fail as documented, not hang.
    let mut sim = Sim::with_faults(5, Faults::none());
    sim.client("client", async {
        let mut socket = connect(ConnectOptions::path("/tmp/nodenet-sim.sock"))?;
        let names: Vec<String> = events(&mut socket)
            .await
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
        Ok(())
    });
    sim.run().unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn reuse_port_shares_the_port_between_two_servers() {
    let mut sim = Sim::with_faults(5, Faults::calm());
    let counts: Rc<RefCell<[usize; 3]>> = Rc::default();
    let c = Rc::clone(&counts);
    sim.host("server", move || {
        let counts = Rc::clone(&c);
        async move {
            for (i, reuse) in [true, true, false].into_iter().enumerate() {
                let mut server = create_server(ServerOptions::default());
                server.listen(ListenOptions::port(80).reuse_port(reuse))?;
                let counts = Rc::clone(&counts);
                runtime::spawn(async move {
                    while let Some(ev) = server.next_event().await {
                        match ev {
                            ServerEvent::Connection(mut conn) => {
                                counts.borrow_mut()[i] += 1;
                                runtime::spawn(async move {
                                    while conn.next_event().await.is_some() {}
                                });
                            }
                            // Without reusePort the port is taken.
                            ServerEvent::Error(e) => {
                                assert_eq!((i, e.code()), (2, ErrorCode::EADDRINUSE));
                                counts.borrow_mut()[2] += 100;
                            }
                            _ => {}
                        }
                    }
                });
            }
            Ok(())
        }
    });
    // One client host, so the connections have different source ports (the kernel
    // spreads them over the group by port).
    sim.client("client", async {
        for _ in 0..16 {
            let mut socket = connect(ConnectOptions::tcp(80, "server"))?;
            assert!(connected(&mut socket).await);
            socket.end()?;
            events(&mut socket).await;
        }
        Ok(())
    });
    sim.run().unwrap_or_else(|e| panic!("{e}"));
    let [a, b, plain] = *counts.borrow();
    assert_eq!(plain, 100, "EADDRINUSE once, no connection");
    assert_eq!(a + b, 16);
    assert!(a > 0 && b > 0, "{a} + {b}");
}

#[test]
fn a_full_backlog_drops_the_syn_until_the_retry() {
    // Zero latency: both SYNs arrive before the server's accept runs, and a backlog of
    // one drops the second, which Linux retransmits a second later.
    let mut sim = full_trace(6, Faults::none());
    sim.host("server", || async {
        let mut server = create_server(ServerOptions::default());
        server.listen(ListenOptions::port(80).backlog(1))?;
        while let Some(ev) = server.next_event().await {
            if let ServerEvent::Connection(mut conn) = ev {
                runtime::spawn(async move { while conn.next_event().await.is_some() {} });
            }
        }
        Ok(())
    });
    let connected_at: Rc<RefCell<Vec<Duration>>> = Rc::default();
    for i in 0..2 {
        let at = Rc::clone(&connected_at);
        sim.client(&format!("client{i}"), async move {
            let t0 = runtime::now();
            // An IP literal: no second address for happy eyeballs to move on to.
            let mut socket = connect(ConnectOptions::tcp(80, "10.0.0.1"))?;
            assert!(connected(&mut socket).await);
            at.borrow_mut().push(runtime::now() - t0);
            socket.end()?;
            events(&mut socket).await;
            Ok(())
        });
    }
    sim.run().unwrap_or_else(|e| panic!("{e}"));
    assert!(sim.trace().iter().any(|l| l.contains("backlog full")));
    let at = connected_at.borrow();
    assert_eq!(at.len(), 2);
    assert!(at[0] < Duration::from_millis(500), "{at:?}");
    assert!(at[1] >= Duration::from_secs(1), "{at:?}");
}

#[test]
fn listen_on_an_ip_literal_host_resolves_to_itself() {
    // Node's listen({host}) looks the host up even when it is an IP; getaddrinfo answers
    // a literal itself, so the simulator must not report ENOTFOUND.
    let mut sim = Sim::new(1);
    sim.client("client", async {
        let mut server = create_server(ServerOptions::default());
        server.listen(ListenOptions::port(0).host("127.0.0.1"))?;
        let ev = server.next_event().await;
        assert!(matches!(ev, Some(ServerEvent::Listening)));
        let Some(Endpoint::Tcp(addr)) = server.address() else {
            panic!("not listening");
        };
        assert_eq!(addr.ip(), IpAddr::V4(Ipv4Addr::LOCALHOST));
        Ok(())
    });
    sim.run().unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn a_loopback_connect_uses_the_loopback_source_address() {
    // Linux reaches 127.0.0.1 from 127.0.0.1: the server sees a loopback peer, not the
    // host's LAN address.
    let mut sim = Sim::new(1);
    sim.client("client", async {
        let mut server = create_server(ServerOptions::default());
        server.listen(ListenOptions::port(8000))?;
        let client = runtime::spawn(async {
            let mut socket = connect(ConnectOptions::tcp(8000, "127.0.0.1"))?;
            assert!(connected(&mut socket).await);
            Ok::<_, nodenet_core::Error>(socket.local_address())
        });
        let conn = loop {
            if let Some(ServerEvent::Connection(conn)) = server.next_event().await {
                break conn;
            }
        };
        // The server listens on `::` (dual stack): an IPv4 peer shows as IPv4-mapped.
        assert_eq!(
            conn.remote_address().map(|a| a.to_string()),
            Some("::ffff:127.0.0.1".to_string())
        );
        let local = client.await.ok_or("the connecting task was dropped")??;
        assert_eq!(local, Some(IpAddr::V4(Ipv4Addr::LOCALHOST)));
        Ok(())
    });
    sim.run().unwrap_or_else(|e| panic!("{e}"));
}
