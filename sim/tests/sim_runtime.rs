//! The simulation runtime: real nodenet programs (the generic driver over
//! `SimRuntime`) on simulated hosts, in virtual time.

use std::time::Duration;

use nodenet::{AsyncRuntime, Server, ServerEvent, Socket};
use nodenet_core::{ConnectOptions, ErrorCode, ListenOptions, ServerOptions, SocketEvent};
use nodenet_sim::runtime::SimConfig;
use nodenet_sim::runtime::{self, connect, create_server, Failure, Sim};
use nodenet_sim::Faults;

/// An echo server written once for every async runtime.
async fn echo_server<R: AsyncRuntime + Default>(port: u16) -> runtime::Result {
    let mut server: Server<R> = Server::new(ServerOptions::default());
    server.listen(ListenOptions::port(port))?;
    while let Some(ev) = server.next_event().await {
        if let ServerEvent::<R>::Connection(conn) = ev {
            runtime::spawn(echo(conn));
        }
    }
    Ok(())
}

async fn echo<R: AsyncRuntime>(mut conn: Socket<R>) {
    while let Some(ev) = conn.next_event().await {
        match ev {
            SocketEvent::Data(d) => {
                conn.write(d);
            }
            SocketEvent::End => {
                let _ = conn.end();
            }
            _ => {}
        }
    }
}

/// Send `payload`, half-close, collect the echo; the error when the socket failed.
async fn ask(host: &str, port: u16, payload: Vec<u8>) -> Result<Vec<u8>, nodenet_core::Error> {
    let mut socket = connect(ConnectOptions::tcp(port, host))?;
    socket.end_with(payload);
    let mut got = Vec::new();
    while let Some(ev) = socket.next_event().await {
        match ev {
            SocketEvent::Data(d) => got.extend_from_slice(&d),
            SocketEvent::Error(e) => return Err(e),
            _ => {}
        }
    }
    Ok(got)
}

fn payload(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i * 7 + i / 251) as u8).collect()
}

fn echo_sim(seed: u64, faults: Faults, clients: usize, size: usize) -> Sim {
    let config = SimConfig::new(seed)
        .faults(faults)
        .trace(nodenet_sim::TraceMode::HashOnly);
    let mut sim = Sim::with_config(config);
    sim.host("server", || echo_server::<runtime::SimRuntime>(7));
    for i in 0..clients {
        sim.client(&format!("client{i}"), async move {
            let data = payload(size + i);
            let got = ask("server", 7, data.clone()).await?;
            if got != data {
                return Err(
                    format!("echo of {} bytes came back as {}", data.len(), got.len()).into(),
                );
            }
            Ok(())
        });
    }
    sim
}

#[test]
fn echo_runs_on_simulated_hosts() {
    for seed in 0..20 {
        let mut sim = echo_sim(seed, Faults::calm(), 3, 200_000);
        let stats = sim.run().unwrap_or_else(|e| panic!("{e}"));
        assert!(stats.socket_ops > 20, "{stats:?}");
        assert!(stats.elapsed > Duration::ZERO);
    }
}

#[test]
fn the_same_seed_gives_the_same_trace() {
    let hash = |seed| {
        let mut sim = echo_sim(seed, Faults::calm(), 2, 50_000);
        sim.run().unwrap_or_else(|e| panic!("{e}"));
        sim.trace_hash()
    };
    assert_eq!(hash(11), hash(11));
    assert_eq!(hash(12), hash(12));
    assert_ne!(hash(11), hash(12));
}

#[test]
fn sleep_and_timeout_use_virtual_time() {
    let mut config = SimConfig::new(1);
    config.time_limit = Duration::from_secs(3600 * 48);
    let mut sim = Sim::with_config(config);
    sim.client("c", async {
        let t0 = runtime::now();
        runtime::sleep(Duration::from_secs(3600 * 24)).await;
        assert_eq!(runtime::now() - t0, Duration::from_secs(3600 * 24));
        let r = runtime::timeout(
            Duration::from_secs(5),
            runtime::sleep(Duration::from_secs(10)),
        )
        .await;
        assert!(r.is_err());
        let r = runtime::timeout(
            Duration::from_secs(10),
            runtime::sleep(Duration::from_secs(5)),
        )
        .await;
        assert!(r.is_ok());
        Ok(())
    });
    let wall = std::time::Instant::now();
    if let Err(e) = sim.run() {
        panic!("{e}");
    }
    assert!(
        wall.elapsed() < Duration::from_secs(60),
        "virtual, not real, time"
    );
}

/// A client that connects to `ip:7`, sends `data`, and reports how it ended.
async fn try_echo(ip: &str, data: Vec<u8>) -> (Result<Vec<u8>, ErrorCode>, Duration) {
    let t0 = runtime::now();
    let r = ask(ip, 7, data).await.map_err(|e| e.code());
    (r, runtime::now() - t0)
}

#[test]
fn a_partition_times_connects_out_and_stalls_streams_until_repaired() {
    // Connect across a partition: the SYN is lost until Linux's 127 s give up.
    let mut sim = Sim::new(3);
    sim.host("server", || echo_server::<runtime::SimRuntime>(7));
    sim.client("client", async {
        let (r, took) = try_echo("10.0.0.1", payload(10)).await;
        assert_eq!(r, Err(ErrorCode::ETIMEDOUT));
        assert!(took >= Duration::from_secs(127), "{took:?}");
        Ok(())
    });
    sim.partition("server", "client");
    sim.run().unwrap_or_else(|e| panic!("{e}"));

    // Partitioned mid-stream and repaired 30 s later: the echo completes late.
    let mut sim = Sim::new(4);
    sim.host("server", || echo_server::<runtime::SimRuntime>(7));
    sim.client("client", async {
        let t0 = runtime::now();
        let mut socket = connect(ConnectOptions::tcp(7, "10.0.0.1"))?;
        let mut got = Vec::new();
        while let Some(ev) = socket.next_event().await {
            match ev {
                SocketEvent::Connect => {
                    runtime::partition("server", "client");
                    socket.end_with(payload(1000));
                    runtime::spawn(async {
                        runtime::sleep(Duration::from_secs(30)).await;
                        runtime::repair("server", "client");
                    });
                }
                SocketEvent::Data(d) => got.extend_from_slice(&d),
                SocketEvent::Error(e) => return Err(e.into()),
                _ => {}
            }
        }
        assert_eq!(got, payload(1000));
        assert!(runtime::now() - t0 >= Duration::from_secs(30));
        Ok(())
    });
    sim.run().unwrap_or_else(|e| panic!("{e}"));

    // Never repaired: the retransmissions give up (about 15 minutes) with ETIMEDOUT.
    let mut sim = Sim::new(5);
    sim.host("server", || echo_server::<runtime::SimRuntime>(7));
    sim.client("client", async {
        let t0 = runtime::now();
        let mut socket = connect(ConnectOptions::tcp(7, "10.0.0.1"))?;
        while let Some(ev) = socket.next_event().await {
            match ev {
                SocketEvent::Connect => {
                    runtime::partition("server", "client");
                    socket.write(payload(100));
                }
                SocketEvent::Error(e) => {
                    assert_eq!(e.code(), ErrorCode::ETIMEDOUT);
                    assert!(runtime::now() - t0 > Duration::from_secs(900));
                    return Ok(());
                }
                _ => {}
            }
        }
        Err("the stream never failed".into())
    });
    sim.run().unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn hold_delays_and_release_delivers() {
    let mut config = SimConfig::new(6);
    config.time_limit = Duration::from_secs(3600 * 3);
    let mut sim = Sim::with_config(config);
    sim.host("server", || echo_server::<runtime::SimRuntime>(7));
    sim.client("client", async {
        let mut socket = connect(ConnectOptions::tcp(7, "10.0.0.1"))?;
        let mut got = Vec::new();
        let mut released = None;
        while let Some(ev) = socket.next_event().await {
            match ev {
                SocketEvent::Connect => {
                    runtime::hold("server", "client");
                    socket.end_with(payload(10));
                    runtime::spawn(async {
                        runtime::sleep(Duration::from_secs(3600 * 2)).await;
                        runtime::release("server", "client");
                    });
                }
                SocketEvent::Data(d) => {
                    released.get_or_insert(runtime::now());
                    got.extend_from_slice(&d);
                }
                SocketEvent::Error(e) => return Err(e.into()),
                _ => {}
            }
        }
        assert_eq!(got, payload(10));
        Ok(())
    });
    sim.run().unwrap_or_else(|e| panic!("{e}"));
    assert!(
        sim.elapsed() >= Duration::from_secs(7200),
        "nothing gave up while held"
    );
}

#[test]
fn a_crashed_host_is_silent_then_resets_and_serves_again_after_restart() {
    let mut sim = Sim::new(8);
    sim.host("server", || echo_server::<runtime::SimRuntime>(7));
    sim.client("client", async {
        let mut socket = connect(ConnectOptions::tcp(7, "10.0.0.1"))?;
        let mut outcome = None;
        while let Some(ev) = socket.next_event().await {
            match ev {
                SocketEvent::Connect => {
                    runtime::crash("server");
                    runtime::spawn(async {
                        runtime::sleep(Duration::from_secs(5)).await;
                        runtime::restart("server");
                    });
                    // Written while the host is down: retransmitted until it is back,
                    // whose kernel knows no such connection and answers with an RST.
                    socket.write(payload(10));
                }
                SocketEvent::Error(e) => outcome = Some(e.code()),
                _ => {}
            }
        }
        assert_eq!(outcome, Some(ErrorCode::ECONNRESET));
        // The restarted server accepts again.
        let (r, _) = try_echo("10.0.0.1", payload(64)).await;
        assert_eq!(r, Ok(payload(64)));
        Ok(())
    });
    sim.run().unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn names_with_several_records_fall_back_to_a_live_address() {
    let mut sim = Sim::new(9);
    sim.host("server", || echo_server::<runtime::SimRuntime>(7));
    // The first record answers nothing (no host has it), the second is the server.
    sim.dns("svc.test", &["10.9.9.9", "10.0.0.1"]);
    sim.client("client", async {
        let (r, took) = try_echo("svc.test", payload(5)).await;
        assert_eq!(r, Ok(payload(5)));
        assert!(
            took < Duration::from_secs(5),
            "happy eyeballs moved on: {took:?}"
        );
        Ok(())
    });
    sim.run().unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn a_failing_client_reports_its_seed_and_the_replay_command() {
    let mut sim = Sim::new(77);
    sim.host("server", || echo_server::<runtime::SimRuntime>(7));
    sim.client("client", async {
        let got = ask("server", 7, payload(100)).await?;
        // A deliberately wrong expectation.
        if got.len() != 99 {
            return Err(format!("expected 99 bytes, got {}", got.len()).into());
        }
        Ok(())
    });
    let err = sim.run().expect_err("the client fails");
    assert_eq!(err.seed, 77);
    assert!(matches!(*err.failure, Failure::Error { .. }), "{err}");
    let text = err.to_string();
    assert!(text.contains("expected 99 bytes, got 100"), "{text}");
    assert!(
        text.contains("NODENET_SIM_SEED=77 cargo test -p nodenet-sim --test sim_runtime a_failing_client_reports_its_seed_and_the_replay_command"),
        "{text}"
    );
}

#[test]
fn a_stuck_simulation_is_reported() {
    let mut sim = Sim::new(1);
    sim.client("client", async {
        // Nobody will ever answer: reading from a server that never writes or ends.
        let mut server = create_server(ServerOptions::default());
        server.listen(ListenOptions::port(9))?;
        let mut socket = connect(ConnectOptions::tcp(9, "127.0.0.1"))?;
        loop {
            tokio_free_select(&mut server, &mut socket).await;
        }
    });
    let err = sim.run().expect_err("stuck");
    assert!(matches!(*err.failure, Failure::Stuck { .. }), "{err}");
}

/// Poll both until neither has anything more.
async fn tokio_free_select(server: &mut runtime::Server, socket: &mut runtime::Socket) {
    std::future::poll_fn(|cx| {
        let _ = server.poll_event(cx);
        let _ = socket.poll_event(cx);
        std::task::Poll::<()>::Pending
    })
    .await
}

#[test]
fn fault_sweep_keeps_every_invariant() {
    let mut failed = 0;
    for seed in 0..200 {
        let faults = Faults::swarm(&mut nodenet_sim::Rng::fork(seed, 3));
        let mut sim = Sim::with_faults(seed, faults);
        sim.host("server", || echo_server::<runtime::SimRuntime>(7));
        for i in 0..3 {
            sim.client(&format!("client{i}"), async move {
                // Faults may break the exchange; what must hold are the invariants and
                // termination.
                let _ = ask("server", 7, payload(20_000 * i + 10)).await;
                Ok(())
            });
        }
        match sim.run() {
            Ok(_) => {}
            Err(e) => {
                failed += 1;
                eprintln!("{e}");
            }
        }
    }
    assert_eq!(failed, 0);
}

#[test]
fn the_trace_shows_every_socket_event_and_kernel_segment() {
    let mut config = SimConfig::new(21);
    config.trace = nodenet_sim::TraceMode::Full;
    let mut sim = Sim::with_config(config);
    sim.host("server", || echo_server::<runtime::SimRuntime>(7));
    sim.client("client", async {
        ask("server", 7, payload(3000)).await?;
        Ok(())
    });
    sim.run().unwrap_or_else(|e| panic!("{e}"));
    let trace = sim.trace();
    if std::env::var("SHOW_TRACE").is_ok() {
        for l in &trace {
            println!("{l}");
        }
    }
    for needle in [
        "server#0 Listening",
        "SYN 10.0.0.2:",
        "server#0 Connection",
        "client#1 Connect",
        "Data(",
        "FIN from",
        "End",
        "Close",
    ] {
        assert!(
            trace.iter().any(|l| l.contains(needle)),
            "{needle} not in the trace"
        );
    }
}

#[test]
fn link_latency_and_controls_from_outside_the_simulation() {
    let mut sim = Sim::with_faults(10, Faults::none());
    sim.host("server", || echo_server::<runtime::SimRuntime>(7));
    sim.client("client", async {
        runtime::sleep(Duration::from_secs(10)).await;
        let (r, took) = try_echo("10.0.0.1", payload(100)).await;
        assert_eq!(r, Ok(payload(100)));
        // The SYN waits for the repair at 20 s; then SYN-ACK, data, echo and the FINs
        // take at least four one-way trips of 50 ms.
        assert!(took >= Duration::from_millis(10_200), "{took:?}");
        assert!(took < Duration::from_secs(11), "{took:?}");
        Ok(())
    });
    sim.set_latency(
        "server",
        "client",
        runtime::Latency::Fixed(Duration::from_millis(50)),
    );
    // Partitioned for the first 20 s of virtual time: the client's connect (at 10 s)
    // waits for the repair.
    sim.partition("server", "client");
    sim.run_for(Duration::from_secs(20))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(sim.elapsed(), Duration::from_secs(20));
    sim.repair("server", "client");
    sim.run().unwrap_or_else(|e| panic!("{e}"));
    assert!(sim.elapsed() > Duration::from_secs(20));
}

#[test]
fn a_client_that_crashes_counts_as_finished() {
    let mut sim = Sim::new(12);
    sim.host("server", || echo_server::<runtime::SimRuntime>(7));
    sim.client("doomed", async {
        let mut socket = connect(ConnectOptions::tcp(7, "10.0.0.1"))?;
        while let Some(ev) = socket.next_event().await {
            if let SocketEvent::Connect = ev {
                // Crash this very host: the program ends with it, its socket vanishes.
                runtime::crash("doomed");
            }
        }
        Err("unreachable: the host crashed".into())
    });
    sim.run().unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn a_crash_drops_a_connecting_socket_with_queued_bytes() {
    // The SYN is lost (partition), so the socket is still connecting when its host
    // crashes, with bytes queued by write(): the driver would linger to send them, but a
    // crashed host runs nothing, so the linger is refused and the socket destroyed (it
    // used to try to linger again, forever).
    let mut sim = Sim::new(13);
    sim.host("server", || echo_server::<runtime::SimRuntime>(7));
    sim.client("doomed", async {
        let mut socket = connect(ConnectOptions::tcp(7, "10.0.0.1"))?;
        socket.write(payload(100));
        runtime::spawn(async {
            runtime::sleep(Duration::from_secs(1)).await;
            runtime::crash("doomed");
        });
        while socket.next_event().await.is_some() {}
        Err("unreachable: the host crashed while connecting".into())
    });
    sim.partition("server", "doomed");
    sim.run().unwrap_or_else(|e| panic!("{e}"));
}

/// A server closed during its accept back-off and listening again accepts on the new
/// listener at once, as Node does (`close()` then `listen()`: the new handle accepts).
/// The driver used to keep the old listener's pause: the new one never accepted.
#[test]
fn a_new_listener_does_not_inherit_the_accept_pause_of_the_old_one() {
    let mut relistened = 0;
    for seed in 0..40 {
        let faults = Faults {
            accept_emfile: 500,
            ..Faults::calm()
        };
        let mut sim = Sim::with_faults(seed, faults);
        let flag = std::rc::Rc::new(std::cell::Cell::new(false));
        let server_flag = std::rc::Rc::clone(&flag);
        sim.host("server", move || {
            let flag = std::rc::Rc::clone(&server_flag);
            async move {
                let mut server = create_server(ServerOptions::default());
                server.listen(ListenOptions::port(80))?;
                let mut first = true;
                while let Some(ev) = server.next_event().await {
                    match ev {
                        // The first accept failed: accepting is paused; start over.
                        runtime::ServerEvent::Error(_) if first => {
                            first = false;
                            let _ = server.close();
                            server.listen(ListenOptions::port(80))?;
                            flag.set(true);
                        }
                        runtime::ServerEvent::Connection(conn) => {
                            first = false;
                            runtime::spawn(echo(conn));
                        }
                        _ => {}
                    }
                }
                Ok(())
            }
        });
        sim.client("client", async {
            // The first connection meets the failed accept (and the close's reset).
            let mut early = connect(ConnectOptions::tcp(80, "server"))?;
            runtime::spawn(async move { while early.next_event().await.is_some() {} });
            runtime::sleep(Duration::from_millis(100)).await;
            let echoed = runtime::timeout(Duration::from_secs(5), ask("server", 80, payload(3)))
                .await
                .map_err(|_| "the new listener never accepted".to_string())?;
            match echoed {
                Ok(got) if got == payload(3) => Ok(()),
                other => Err(format!("not served: {other:?}").into()),
            }
        });
        let result = sim.run();
        if flag.get() {
            relistened += 1;
            if let Err(e) = result {
                panic!("{e}");
            }
        }
    }
    assert!(
        relistened >= 10,
        "only {relistened} seeds failed the first accept"
    );
}
