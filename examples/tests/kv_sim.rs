//! The key-value store of `src/kv.rs` — the same server and retrying client that
//! `examples/kv.rs` runs on tokio — on simulated hosts: 10 000 seeds, each with its own
//! mix of network faults (`Faults::swarm`: latency, split and short reads and writes,
//! small buffers, refused and black-holed connects, resets mid-stream, `EMFILE` on
//! accept, a broken IPv6 path), every socket checked against Node's invariants. A
//! failing seed prints the command that replays it (`NODENET_SIM_SEED=<seed> ...`).
//!
//! `the_sweep_catches_a_framing_bug` injects a bug (the server takes each read as one
//! whole request) and checks that the sweep finds it and that its seed replays exactly.

use std::cell::Cell;
use std::rc::Rc;

use nodenet_core::{ConnectOptions, ListenOptions, ServerOptions};
use nodenet_examples::kv::{check_store, serve, Client, Framing, Store};
use nodenet_sim::runtime::{self, create_server, RunStats, Sim, SimConfig, SimError, SimRuntime};
use nodenet_sim::{Faults, Rng, TraceMode};

const PORT: u16 = 6379;

/// One seed: a store on host `kv` (also reachable as `store.test`, whose first DNS
/// record is dead), two clients that each store six pairs and read every key back.
fn kv_seed(seed: u64, framing: Framing) -> Result<(RunStats, u64), SimError> {
    kv_seed_counting(seed, framing, &Rc::default())
}

/// [`kv_seed`], adding the clients' connections to `connections`.
fn kv_seed_counting(
    seed: u64,
    framing: Framing,
    connections: &Rc<Cell<u64>>,
) -> Result<(RunStats, u64), SimError> {
    let faults = Faults::swarm(&mut Rng::fork(seed, 3));
    let config = SimConfig::new(seed)
        .faults(faults)
        .trace(TraceMode::HashOnly);
    let mut sim = Sim::with_config(config);
    sim.host("kv", move || async move {
        let mut server = create_server(ServerOptions::default());
        server.listen(ListenOptions::port(PORT))?;
        serve(server, Store::default(), framing).await;
        Ok(())
    });
    sim.dns("store.test", &["10.0.0.77", "10.0.0.1", "fd00::1"]);
    let mut rng = Rng::fork(seed, 7);
    for c in 0..2 {
        let sets: Vec<(String, String)> = (0..6)
            .map(|i| {
                (
                    format!("c{c}k{}", rng.below(3)),
                    format!("v{i}-{}", rng.below(1000)),
                )
            })
            .collect();
        let host = if rng.chance(500) { "kv" } else { "store.test" };
        let connections = Rc::clone(connections);
        sim.client(&format!("client{c}"), async move {
            let mut client = Client::new(
                SimRuntime::default(),
                ConnectOptions::tcp(PORT, host),
                runtime::sleep,
            );
            let r = check_store(&mut client, &sets).await;
            connections.set(connections.get() + u64::from(client.reconnects));
            r
        });
    }
    let stats = sim.run()?;
    Ok((stats, sim.trace_hash()))
}

fn sweep_part(part: u64) {
    const PER_PART: u64 = 2_500;
    let from = part * PER_PART;
    let connections = Rc::new(Cell::new(0));
    let (mut ops, mut virtual_time) = (0, std::time::Duration::ZERO);
    let report = runtime::sweep(from..from + PER_PART, 5, |seed| {
        let (stats, _) = kv_seed_counting(seed, Framing::Lines, &connections)?;
        ops += stats.socket_ops;
        virtual_time += stats.elapsed;
        Ok(())
    });
    report.assert_ok();
    println!(
        "{} seeds: {} client connections, {ops} simulated socket operations, {:?} of virtual time",
        report.seeds,
        connections.get(),
        virtual_time
    );
    if report.seeds == PER_PART {
        // The faults made clients reconnect (a clean run needs one connection per
        // client) in a good share of the seeds: the retry path was exercised, not just
        // the happy one.
        assert!(
            connections.get() > 2 * report.seeds + report.seeds / 20,
            "only {} connections",
            connections.get()
        );
    }
}

#[test]
fn kv_store_survives_faults_seeds_0_to_2499() {
    sweep_part(0);
}

#[test]
fn kv_store_survives_faults_seeds_2500_to_4999() {
    sweep_part(1);
}

#[test]
fn kv_store_survives_faults_seeds_5000_to_7499() {
    sweep_part(2);
}

#[test]
fn kv_store_survives_faults_seeds_7500_to_9999() {
    sweep_part(3);
}

#[test]
fn a_seed_replays_exactly() {
    let a = kv_seed(42, Framing::Lines).unwrap_or_else(|e| panic!("{e}"));
    let b = kv_seed(42, Framing::Lines).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(a.1, b.1, "same seed, same trace hash");
    assert_eq!(
        a.0, b.0,
        "same seed, same steps, operations and virtual time"
    );
    let c = kv_seed(43, Framing::Lines).unwrap_or_else(|e| panic!("{e}"));
    assert_ne!(a.1, c.1);
}

#[test]
fn the_sweep_catches_a_framing_bug() {
    let report = runtime::sweep(0..500, 1, |seed| {
        kv_seed(seed, Framing::PerChunk).map(|_| ())
    });
    let Some(failure) = report.failures.first() else {
        panic!("500 seeds did not catch the per-chunk framing bug");
    };
    println!("caught after {} seeds:\n{failure}", report.seeds);
    assert!(failure
        .replay
        .contains(&format!("NODENET_SIM_SEED={}", failure.seed)));
    // The seed replays: the same failure, at the same virtual time.
    let again = kv_seed(failure.seed, Framing::PerChunk).expect_err("the bug again");
    assert_eq!(again.failure.to_string(), failure.failure.to_string());
    assert_eq!(again.at, failure.at);
    // And the fixed server passes it.
    kv_seed(failure.seed, Framing::Lines).unwrap_or_else(|e| panic!("{e}"));
}
