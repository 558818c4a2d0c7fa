//! The simulation runtime against turmoil on the same two workloads, one seed per
//! simulation, in one run: `cargo bench -p nodenet-sim --bench vs_turmoil`.
//!
//! * echo: a client connects, writes 64 KiB in 16 writes of 4 KiB, half-closes and reads
//!   the echo to the end; the server echoes and half-closes back;
//! * request/response: 20 round trips of a 100-byte request and a 100-byte response.
//!
//! Both simulators get the same one-way latency range (0.1–5 ms); nodenet-sim also draws
//! read chunking and short writes (`Faults::calm`) and checks Node's invariants on every
//! event (its defaults). Socket operations are counted the same way in both programs:
//! connect, accept, every write call, every read that returned data, every half-close.
//! Each measurement runs one simulator alone: an untimed batch of 100 seeds, then
//! batches of 100 until at least 1000 seeds and one second (so that a busy moment of a
//! shared machine weighs little on either). Printed: seeds per second and socket
//! operations per second for each, their ratios, and the time of 10 000 echo seeds on
//! nodenet-sim. `NODENET_BENCH_SEEDS` sets an exact seed count per measurement instead
//! (for profiling), `NODENET_BENCH_SWEEP` the seeds of the echo sweep (default 10 000;
//! 0 skips it).

use std::cell::Cell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use nodenet_core::{ConnectOptions, ListenOptions, ServerOptions, SocketEvent};
use nodenet_sim::runtime::{self, connect, create_server, ServerEvent, Sim};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const ECHO_WRITES: usize = 16;
const ECHO_CHUNK: usize = 4096;
const ROUNDS: usize = 20;
const MSG: usize = 100;

/// The bytes both programs write (turmoil's write from a slice, nodenet's from a static
/// `Bytes`: neither allocates per write).
static ECHO_DATA: [u8; ECHO_CHUNK] = [b'e'; ECHO_CHUNK];
static REQUEST: [u8; MSG] = [b'q'; MSG];
static RESPONSE: [u8; MSG] = [b'r'; MSG];

#[derive(Clone, Copy, PartialEq, Eq)]
enum Workload {
    Echo,
    RequestResponse,
}

fn ops() -> Rc<Cell<u64>> {
    Rc::new(Cell::new(0))
}

fn bump(c: &Cell<u64>) {
    c.set(c.get() + 1);
}

// ---- nodenet-sim ---------------------------------------------------------------------

async fn nodenet_server(ops: Rc<Cell<u64>>, workload: Workload) -> runtime::Result {
    let mut server = create_server(ServerOptions::default());
    server.listen(ListenOptions::port(7))?;
    while let Some(ev) = server.next_event().await {
        let ServerEvent::Connection(mut conn) = ev else {
            continue;
        };
        bump(&ops);
        let ops = Rc::clone(&ops);
        runtime::spawn(async move {
            let mut pending = 0usize;
            while let Some(ev) = conn.next_event().await {
                match ev {
                    SocketEvent::Data(d) => {
                        bump(&ops);
                        match workload {
                            Workload::Echo => {
                                bump(&ops);
                                conn.write(d);
                            }
                            Workload::RequestResponse => {
                                pending += d.len();
                                while pending >= MSG {
                                    pending -= MSG;
                                    bump(&ops);
                                    conn.write(bytes::Bytes::from_static(&RESPONSE));
                                }
                            }
                        }
                    }
                    SocketEvent::End => {
                        bump(&ops);
                        let _ = conn.end();
                    }
                    _ => {}
                }
            }
        });
    }
    Ok(())
}

async fn nodenet_client(ops: Rc<Cell<u64>>, workload: Workload) -> runtime::Result {
    let mut socket = connect(ConnectOptions::tcp(7, "server"))?;
    bump(&ops);
    let mut received = 0usize;
    let mut sent_rounds = 0usize;
    while let Some(ev) = socket.next_event().await {
        match ev {
            SocketEvent::Connect => match workload {
                Workload::Echo => {
                    for _ in 0..ECHO_WRITES {
                        bump(&ops);
                        socket.write(bytes::Bytes::from_static(&ECHO_DATA));
                    }
                    bump(&ops);
                    socket.end()?;
                }
                Workload::RequestResponse => {
                    bump(&ops);
                    socket.write(bytes::Bytes::from_static(&REQUEST));
                    sent_rounds = 1;
                }
            },
            SocketEvent::Data(d) => {
                bump(&ops);
                received += d.len();
                if workload == Workload::RequestResponse && received == sent_rounds * MSG {
                    if sent_rounds == ROUNDS {
                        bump(&ops);
                        socket.end()?;
                    } else {
                        bump(&ops);
                        socket.write(bytes::Bytes::from_static(&REQUEST));
                        sent_rounds += 1;
                    }
                }
            }
            SocketEvent::Error(e) => return Err(e.into()),
            _ => {}
        }
    }
    let want = match workload {
        Workload::Echo => ECHO_WRITES * ECHO_CHUNK,
        Workload::RequestResponse => ROUNDS * MSG,
    };
    if received != want {
        return Err(format!("received {received} of {want} bytes").into());
    }
    Ok(())
}

/// `NODENET_BENCH_LEAN`: the checker off (read once, not per seed).
fn lean() -> bool {
    static LEAN: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *LEAN.get_or_init(|| std::env::var("NODENET_BENCH_LEAN").is_ok())
}

fn nodenet_seed(seed: u64, workload: Workload, ops: &Rc<Cell<u64>>) {
    let mut config = runtime::SimConfig::new(seed);
    if lean() {
        config.trace = nodenet_sim::TraceMode::Off;
        config.check = false;
    }
    let mut sim = Sim::with_config(config);
    let server_ops = Rc::clone(ops);
    sim.host("server", move || {
        nodenet_server(Rc::clone(&server_ops), workload)
    });
    sim.client("client", nodenet_client(Rc::clone(ops), workload));
    if let Err(e) = sim.run() {
        panic!("nodenet-sim seed {seed}: {e}");
    }
}

// ---- turmoil ---------------------------------------------------------------------------

fn turmoil_seed(seed: u64, workload: Workload, ops: &Rc<Cell<u64>>) {
    let mut sim = turmoil::Builder::new()
        .rng_seed(seed)
        .min_message_latency(Duration::from_micros(100))
        .max_message_latency(Duration::from_millis(5))
        .build();
    let server_ops = Rc::clone(ops);
    sim.host("server", move || {
        let ops = Rc::clone(&server_ops);
        async move {
            let listener = turmoil::net::TcpListener::bind("0.0.0.0:7").await?;
            loop {
                let (mut s, _) = listener.accept().await?;
                bump(&ops);
                let ops = Rc::clone(&ops);
                tokio::task::spawn_local(async move {
                    let mut buf = vec![0u8; 64 * 1024];
                    let mut pending = 0usize;
                    loop {
                        let n = match s.read(&mut buf).await {
                            Ok(0) | Err(_) => break,
                            Ok(n) => n,
                        };
                        bump(&ops);
                        match workload {
                            Workload::Echo => {
                                bump(&ops);
                                if s.write_all(&buf[..n]).await.is_err() {
                                    break;
                                }
                            }
                            Workload::RequestResponse => {
                                pending += n;
                                while pending >= MSG {
                                    pending -= MSG;
                                    bump(&ops);
                                    if s.write_all(&RESPONSE).await.is_err() {
                                        return;
                                    }
                                }
                            }
                        }
                    }
                    bump(&ops);
                    let _ = s.shutdown().await;
                });
            }
        }
    });
    let ops = Rc::clone(ops);
    sim.client("client", async move {
        let mut s = turmoil::net::TcpStream::connect("server:7").await?;
        bump(&ops);
        let mut buf = vec![0u8; 64 * 1024];
        let mut received = 0usize;
        match workload {
            Workload::Echo => {
                for _ in 0..ECHO_WRITES {
                    bump(&ops);
                    s.write_all(&ECHO_DATA).await?;
                }
                bump(&ops);
                s.shutdown().await?;
                loop {
                    let n = s.read(&mut buf).await?;
                    if n == 0 {
                        break;
                    }
                    bump(&ops);
                    received += n;
                }
                if received != ECHO_WRITES * ECHO_CHUNK {
                    return Err(format!("received {received} bytes").into());
                }
            }
            Workload::RequestResponse => {
                for round in 1..=ROUNDS {
                    bump(&ops);
                    s.write_all(&REQUEST).await?;
                    while received < round * MSG {
                        let n = s.read(&mut buf).await?;
                        if n == 0 {
                            return Err("eof".into());
                        }
                        bump(&ops);
                        received += n;
                    }
                }
                bump(&ops);
                s.shutdown().await?;
            }
        }
        Ok(())
    });
    if let Err(e) = sim.run() {
        panic!("turmoil seed {seed}: {e}");
    }
}

// ---- measurement -----------------------------------------------------------------------

struct Rate {
    seeds_per_sec: f64,
    ops_per_sec: f64,
}

/// Seeds per batch of a measurement.
const BATCH: u64 = 100;

/// One simulator's rate: an untimed batch first (a cold process — the first heap growth,
/// caches, branch predictors — would otherwise weigh on whichever simulator runs
/// first), then batches until at least `seeds` seeds and `budget` of time (so that a
/// busy moment of the shared machine is a small part of either measurement).
fn measure(seeds: u64, budget: Duration, mut one: impl FnMut(u64, &Rc<Cell<u64>>)) -> Rate {
    for seed in 0..BATCH.min(seeds) {
        one(seed, &ops());
    }
    let ops = ops();
    let t = Instant::now();
    let mut done = 0;
    while done < seeds || t.elapsed() < budget {
        for seed in done..done + BATCH {
            one(seed, &ops);
        }
        done += BATCH;
    }
    let secs = t.elapsed().as_secs_f64();
    Rate {
        seeds_per_sec: done as f64 / secs,
        ops_per_sec: ops.get() as f64 / secs,
    }
}

fn main() {
    // A count asked for (profiling) is run exactly (rounded up to whole batches);
    // otherwise each measurement lasts at least a second.
    let (seeds, budget) = match std::env::var("NODENET_BENCH_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
    {
        Some(n) => (n, Duration::ZERO),
        None => (1000, Duration::from_secs(1)),
    };
    println!("at least {seeds} seeds and {budget:?} per measurement, one simulation per seed");
    println!("| workload | simulator | seeds/s | socket ops/s |\n|---|---|---|---|");
    let only = std::env::var("NODENET_BENCH_WORKLOAD").ok();
    for (name, workload) in [
        ("echo", Workload::Echo),
        ("request/response", Workload::RequestResponse),
    ] {
        if only.as_deref().is_some_and(|o| o != name) {
            continue;
        }
        let ours = measure(seeds, budget, |s, ops| nodenet_seed(s, workload, ops));
        if std::env::var("NODENET_BENCH_OURS_ONLY").is_ok() {
            println!(
                "| {name} | nodenet-sim | {:.0} | {:.0} |",
                ours.seeds_per_sec, ours.ops_per_sec
            );
            continue;
        }
        let theirs = measure(seeds, budget, |s, ops| turmoil_seed(s, workload, ops));
        println!(
            "| {name} | nodenet-sim | {:.0} | {:.0} |",
            ours.seeds_per_sec, ours.ops_per_sec
        );
        println!(
            "| {name} | turmoil | {:.0} | {:.0} |",
            theirs.seeds_per_sec, theirs.ops_per_sec
        );
        println!(
            "| {name} | ratio | {:.1}x | {:.1}x |",
            ours.seeds_per_sec / theirs.seeds_per_sec,
            ours.ops_per_sec / theirs.ops_per_sec
        );
    }
    let sweep: u64 = std::env::var("NODENET_BENCH_SWEEP")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10_000);
    if sweep == 0 {
        return;
    }
    let t = Instant::now();
    let ops = ops();
    for seed in 0..sweep {
        nodenet_seed(seed, Workload::Echo, &ops);
    }
    println!(
        "{sweep} echo seeds on nodenet-sim: {:.1} s",
        t.elapsed().as_secs_f64()
    );
}
