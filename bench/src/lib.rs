//! `nodenet-bench`: the benchmark harness comparing nodenet's backends with the floor
//! (an idiomatic raw tokio echo server) and with Node v20 (`socket.pipe(socket)`).
//!
//! * [`servers`]: the registry of echo-server implementations ([`servers::ServerImpl`]);
//!   adding a nodenet backend is one variant and one match arm there.
//! * [`process`]: each server runs as its own process, started and stopped by the harness.
//! * [`workload`]: the load generator: throughput, ping-pong, connection rate and idle
//!   connections, each bounded in time and count, loopback only.
//! * [`proc_stat`]: server CPU time and resident memory from `/proc`.
//! * [`harness`]: runs every workload against every server and builds the [`report`]:
//!   one table of absolute numbers and ratios, and JSON.
//! * [`pool`]: the rounds of several saved runs pooled into one report, for intervals
//!   narrower than one run gives.
//! * [`targets`]: the project's performance targets, each decided by the run (met,
//!   missed, or undecided when the run's noise spans the bound).
//!
//! The one command: `cargo run --release -p nodenet-bench -- run` (`--quick` for 3 rounds
//! instead of 12).

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod affinity;
pub mod harness;
pub mod latency;
pub mod machine;
pub mod pool;
pub mod proc_stat;
pub mod process;
pub mod report;
pub mod servers;
pub mod stats;
pub mod targets;
#[cfg(test)]
mod test_support;
pub mod workload;
