//! Unix domain sockets on the simulation runtime: real nodenet programs listening on and
//! connecting to socket paths of a simulated host, checked by the invariant checker,
//! deterministic per seed; socket files that outlive a crashed server.

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use nodenet::Runtime;
use nodenet_core::{ConnectOptions, ErrorCode, ListenOptions, ServerOptions, SocketEvent};
use nodenet_sim::runtime::{self, connect, create_server, ServerEvent, Sim, SimConfig, SimRuntime};
use nodenet_sim::{Faults, TraceMode};

/// An echo server on `path` (relative: the simulated host's socket files need no
/// directory of the machine).
async fn echo_server(path: &str) -> runtime::Result {
    let mut server = create_server(ServerOptions::default());
    server.listen(ListenOptions::path(path))?;
    while let Some(ev) = server.next_event().await {
        match ev {
            ServerEvent::Connection(mut conn) => {
                runtime::spawn(async move {
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
                });
            }
            ServerEvent::Error(e) => return Err(e.into()),
            _ => {}
        }
    }
    Ok(())
}

/// Send `payload` over `path`, half-close, collect the echo.
async fn ask(path: &str, payload: Vec<u8>) -> Result<Vec<u8>, nodenet_core::Error> {
    let mut socket = connect(ConnectOptions::path(path))?;
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

fn payload(n: usize, salt: usize) -> Vec<u8> {
    (0..n).map(|i| (i * 7 + salt) as u8).collect()
}

/// A server and three clients on one host, over a Unix socket, under `faults`.
fn unix_echo(seed: u64, faults: Faults) -> Sim {
    let config = SimConfig::new(seed)
        .faults(faults)
        .trace(TraceMode::HashOnly);
    let mut sim = Sim::with_config(config);
    sim.client("box", async {
        runtime::spawn(async {
            let _ = echo_server("echo.sock").await;
        });
        let mut asks = Vec::new();
        for salt in 0..3 {
            asks.push(runtime::spawn(ask("echo.sock", payload(40_000, salt))));
        }
        for (salt, a) in asks.into_iter().enumerate() {
            assert_eq!(a.await, Some(Ok(payload(40_000, salt))));
        }
        Ok(())
    });
    sim
}

#[test]
fn unix_echo_is_checked_and_the_same_seed_gives_the_same_trace() {
    let hash = |seed| {
        let mut sim = unix_echo(seed, Faults::calm());
        sim.run().unwrap_or_else(|e| panic!("{e}"));
        assert!(sim.violations().is_empty());
        assert!(sim.stats().socket_ops > 30, "{:?}", sim.stats());
        sim.trace_hash()
    };
    assert_eq!(hash(21), hash(21));
    assert_ne!(hash(21), hash(22));
}

#[test]
fn a_socket_path_is_local_to_its_host() {
    let mut sim = Sim::new(3);
    sim.host("server", || echo_server("only-here.sock"));
    sim.client("client", async {
        runtime::sleep(Duration::from_millis(10)).await;
        let r = ask("only-here.sock", b"x".to_vec()).await;
        assert_eq!(r.map_err(|e| e.code()), Err(ErrorCode::ENOENT));
        Ok(())
    });
    sim.run().unwrap_or_else(|e| panic!("{e}"));
}

/// A crash leaves the socket file behind, as a killed process does: the restarted
/// server's `listen` gets `EADDRINUSE` until it unlinks the stale file. (Its open Unix
/// connections vanish with it.)
#[test]
fn a_crashed_server_leaves_its_socket_file_behind() {
    let mut sim = Sim::new(4);
    let refused = Rc::new(Cell::new(0));
    let seen = Rc::clone(&refused);
    sim.host("box", move || {
        let seen = Rc::clone(&seen);
        async move {
            // A connection of its own, open when the host crashes.
            runtime::spawn(async {
                runtime::sleep(Duration::from_millis(10)).await;
                if let Ok(mut socket) = connect(ConnectOptions::path("srv.sock")) {
                    socket.write(payload(100, 1));
                    while socket.next_event().await.is_some() {}
                }
            });
            match echo_server("srv.sock").await {
                Err(e) if e.to_string().contains("EADDRINUSE") => {
                    seen.set(seen.get() + 1);
                    SimRuntime::default().unlink("srv.sock");
                    echo_server("srv.sock").await
                }
                other => other,
            }
        }
    });
    sim.run_for(Duration::from_secs(1))
        .unwrap_or_else(|e| panic!("{e}"));
    let file = |sim: &Sim| {
        let _guard = sim.enter("box");
        SimRuntime::default().socket_file_mode("srv.sock")
    };
    assert_eq!(file(&sim), Some(0o140_755));
    sim.crash("box");
    assert!(file(&sim).is_some(), "the file outlives the crash");
    sim.restart("box");
    sim.run_for(Duration::from_secs(2))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        refused.get(),
        1,
        "one EADDRINUSE, then the stale file was unlinked"
    );
    assert!(file(&sim).is_some(), "listening again");
}
