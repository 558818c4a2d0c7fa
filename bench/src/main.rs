//! `nodenet-bench`: run one echo server (`serve`) or the whole benchmark (`run`).
//!
//! ```text
//! nodenet-bench run [--quick] [--json out.json] [--impls raw-tokio,node] [--reps 12]
//! nodenet-bench pool run1.json run2.json [--json pooled.json]
//! nodenet-bench serve --impl raw-tokio --port 0
//! nodenet-bench load --port 8124 --workload ping-pong --connections 1 --secs 5
//! ```
//!
//! `load` drives a server started separately (with `serve`, possibly under `perf` or
//! `valgrind --tool=callgrind`), so a server can be profiled on one workload.

#![forbid(unsafe_code)]

use std::io::Write as _;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};
use nodenet_bench::harness::{self, RunConfig};
use nodenet_bench::process::ready_line;
use nodenet_bench::servers::{Launch, ServerImpl};
use nodenet_bench::workload::Selector;

#[derive(Parser)]
#[command(
    name = "nodenet-bench",
    about = "Echo-server benchmarks: nodenet vs raw tokio vs Node v20"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Pool the rounds of saved runs (`run --json`) and print the table and targets over
    /// all of them.
    Pool {
        /// Reports written by `run --json`, on the same machine.
        #[arg(required = true)]
        reports: Vec<PathBuf>,
        /// Also write the pooled report as JSON to this file.
        #[arg(long)]
        json: Option<PathBuf>,
    },
    /// Serve one echo-server implementation on 127.0.0.1 until killed; prints `ready <port>`.
    Serve {
        /// Implementation name (see `run --help` for the list).
        #[arg(long = "impl")]
        imp: ServerImpl,
        /// Port to listen on; 0 picks a free one.
        #[arg(long, default_value_t = 0)]
        port: u16,
    },
    /// Run one timed workload against a server already listening on 127.0.0.1:<port>
    /// (for profiling a `serve` process); prints the operation count and rate.
    Load {
        /// The server's port.
        #[arg(long)]
        port: u16,
        /// throughput, ping-pong or connect.
        #[arg(long)]
        workload: String,
        /// Connections (workers for `connect`).
        #[arg(long, default_value_t = 1)]
        connections: usize,
        /// Seconds to run.
        #[arg(long, default_value_t = 5.0)]
        secs: f64,
    },
    /// Run every workload against every implementation and print one table.
    Run {
        /// 3 rounds instead of 12.
        #[arg(long)]
        quick: bool,
        /// Also write the results as JSON to this file.
        #[arg(long)]
        json: Option<PathBuf>,
        /// Comma-separated implementations (raw-tokio, nodenet-tokio, nodenet-smol,
        /// nodenet-std, node); all by default.
        #[arg(long, value_delimiter = ',')]
        impls: Option<Vec<ServerImpl>>,
        /// Rounds of every timed workload (the median of the per-round ratios is
        /// reported, with its interval); 12 (3 with `--quick`) by default.
        #[arg(long)]
        reps: Option<usize>,
        /// Repetitions of the idle-memory measurement, each on a fresh server.
        #[arg(long, default_value_t = 3)]
        idle_reps: usize,
        /// Seconds per timed run; 1 by default.
        #[arg(long)]
        secs: Option<f64>,
        /// Comma-separated workloads to run: a kind (throughput, ping-pong, connect, idle)
        /// or a kind and its connection count (`throughput:1`); all by default.
        #[arg(long, value_delimiter = ',')]
        workloads: Option<Vec<Selector>>,
        /// Idle connections for the memory measurement.
        #[arg(long, default_value_t = 10_000)]
        idle_connections: usize,
        /// Let the scheduler place the servers and the load generator (by default every
        /// server is pinned to the last CPU and the load generator to the others).
        #[arg(long)]
        no_pin: bool,
    },
}

/// Runs one server in the foreground: Rust implementations in this process, external ones
/// (Node) as a child whose stdout (the ready line) is passed through.
fn serve(imp: ServerImpl, port: u16) -> ExitCode {
    let result = match imp.launch() {
        Launch::SelfServe => {
            let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
            imp.serve_in_process(addr, |bound| {
                let mut out = std::io::stdout().lock();
                let _ = writeln!(out, "{}", ready_line(bound.port()));
                let _ = out.flush();
            })
        }
        Launch::External { program, args } => std::process::Command::new(&program)
            .args(args)
            .arg(port.to_string())
            .status()
            .and_then(|status| {
                if status.success() {
                    Ok(())
                } else {
                    Err(std::io::Error::other(format!(
                        "{program} exited with {status}"
                    )))
                }
            }),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("nodenet-bench serve --impl {imp}: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Runs one timed workload against `127.0.0.1:port` and prints what it did.
fn load(port: u16, workload: &str, connections: usize, secs: f64) -> ExitCode {
    use nodenet_bench::workload::Workload;
    let connections = connections.max(1);
    let w = match workload {
        "throughput" => Workload::Throughput { connections },
        "ping-pong" => Workload::PingPong { connections },
        "connect" => Workload::ConnectRate {
            workers: connections,
        },
        other => {
            eprintln!("unknown workload {other:?} (known: throughput, ping-pong, connect)");
            return ExitCode::FAILURE;
        }
    };
    let secs = if secs.is_finite() && secs > 0.0 {
        secs
    } else {
        5.0
    };
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let outcome = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .and_then(|rt| rt.block_on(w.run_timed(addr, Duration::from_secs_f64(secs))));
    match outcome {
        Ok(o) => {
            println!(
                "{w}: {} ops in {:.2} s = {:.0}/s, {} errors",
                o.ops,
                o.elapsed.as_secs_f64(),
                o.rate(),
                o.errors
            );
            if let Some(l) = o.latency {
                println!("p50 {:.1} µs, p99 {:.1} µs", l.p50_us, l.p99_us);
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{w} against {addr}: {e}");
            ExitCode::FAILURE
        }
    }
}

/// `pool`: reads the reports, prints the pooled table, writes its JSON.
fn pool(paths: &[PathBuf], json: Option<&std::path::Path>) -> ExitCode {
    let mut texts = Vec::new();
    for p in paths {
        match std::fs::read_to_string(p) {
            Ok(t) => texts.push(t),
            Err(e) => {
                eprintln!("cannot read {}: {e}", p.display());
                return ExitCode::FAILURE;
            }
        }
    }
    let pooled = match nodenet_bench::pool::pool(&texts) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("cannot pool: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!("{}", pooled.table());
    write_json(&pooled.report, json)
}

fn main() -> ExitCode {
    match Cli::parse().command {
        Command::Serve { imp, port } => serve(imp, port),
        Command::Pool { reports, json } => pool(&reports, json.as_deref()),
        Command::Load {
            port,
            workload,
            connections,
            secs,
        } => load(port, &workload, connections, secs),
        Command::Run {
            quick,
            json,
            impls,
            reps,
            idle_reps,
            secs,
            workloads,
            idle_connections,
            no_pin,
        } => {
            let self_exe = match std::env::current_exe() {
                Ok(p) => p,
                Err(e) => {
                    eprintln!("cannot find own executable: {e}");
                    return ExitCode::FAILURE;
                }
            };
            let impls = impls.unwrap_or_else(|| ServerImpl::ALL.to_vec());
            let mut config = RunConfig::standard(quick, impls, self_exe);
            config.pin = !no_pin;
            if let Some(reps) = reps {
                config.reps = reps.max(1);
            }
            config.idle_reps = idle_reps.max(1);
            if let Some(s) = secs.filter(|s| s.is_finite() && *s > 0.0) {
                config.duration = Duration::from_secs_f64(s);
            }
            for w in &mut config.workloads {
                if let nodenet_bench::workload::Workload::IdleMemory { connections } = w {
                    *connections = idle_connections;
                }
            }
            if let Some(selectors) = workloads {
                config
                    .workloads
                    .retain(|w| selectors.iter().any(|s| s.matches(*w)));
                if config.workloads.is_empty() {
                    eprintln!("no workload matches --workloads");
                    return ExitCode::FAILURE;
                }
            }
            let report = match harness::run(&config, &mut |line| eprintln!("{line}")) {
                Ok(r) => r,
                Err(e) => {
                    eprintln!("benchmark failed: {e}");
                    return ExitCode::FAILURE;
                }
            };
            println!("{}", report.table());
            write_json(&report, json.as_deref())
        }
    }
}

/// Writes `report` as JSON to `path`, if one was given.
fn write_json(report: &nodenet_bench::report::Report, path: Option<&std::path::Path>) -> ExitCode {
    let Some(path) = path else {
        return ExitCode::SUCCESS;
    };
    let written = serde_json::to_string_pretty(report)
        .map_err(std::io::Error::other)
        .and_then(|s| std::fs::write(path, s + "\n"));
    if let Err(e) = written {
        eprintln!("cannot write {}: {e}", path.display());
        return ExitCode::FAILURE;
    }
    eprintln!("wrote {}", path.display());
    ExitCode::SUCCESS
}
