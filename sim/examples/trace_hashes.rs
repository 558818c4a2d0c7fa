//! Prints one line per scenario seed — the seed, its trace hash, the outcome and the
//! run's counts — so that a change meant to leave behaviour alone (a speed-up) can be
//! checked to give the same trace for the same seed: run it before and after and diff.
//!
//! `cargo run --release -p nodenet-sim --example trace_hashes -- [from] [count]`
//! (default: seeds 0..3000).

use nodenet_sim::scenario;
use nodenet_sim::TraceMode;

fn main() {
    let mut args = std::env::args().skip(1).map(|a| a.parse::<u64>());
    let from = args.next().and_then(Result::ok).unwrap_or(0);
    let count = args.next().and_then(Result::ok).unwrap_or(3000);
    for seed in from..from + count {
        let o = scenario::run(seed, TraceMode::HashOnly);
        let outcome = match &o.result {
            Ok(s) => format!(
                "ok {:?} steps {} ops {} polls {}",
                s.elapsed, s.steps, s.socket_ops, s.polls
            ),
            Err(e) => format!("err {}", e.failure),
        };
        println!("{seed} {:016x} {outcome}", o.hash);
    }
}
