//! The load generator: the workloads, each bounded in time and in count.
//!
//! Every workload talks only to a loopback address it is given, stops by itself when its
//! duration has passed or its count cap is reached (whichever comes first), and gives up
//! on a stuck server after [`GRACE`] beyond its duration. Client sockets set TCP_NODELAY so
//! the client never adds Nagle delays to what is measured.

pub mod connect_rate;
pub mod idle;
pub mod ping_pong;
pub mod throughput;

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::latency::LatencySummary;

/// Extra time a workload may take past its duration to finish in-flight work before it
/// is abandoned (a healthy server needs a few milliseconds).
pub const GRACE: Duration = Duration::from_secs(10);

/// Size of one throughput chunk.
pub const CHUNK_SIZE: usize = 16 * 1024;

/// Size of one ping-pong message.
pub const PING_SIZE: usize = 64;

/// Bytes each connection-rate client sends and expects back.
pub const CONNECT_ECHO_SIZE: usize = 16;

/// One workload with its shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Workload {
    /// `connections` clients each stream 16 KiB chunks and read the echo concurrently.
    Throughput {
        /// Concurrent connections.
        connections: usize,
    },
    /// `connections` clients each send 64 bytes and wait for the echo, in a loop.
    PingPong {
        /// Concurrent connections.
        connections: usize,
    },
    /// `workers` clients each connect, echo 16 bytes and close, in a loop.
    ConnectRate {
        /// Concurrent workers.
        workers: usize,
    },
    /// `connections` connections opened, echoed once, then held idle.
    IdleMemory {
        /// Connections held open.
        connections: usize,
    },
}

/// What a workload's operation count counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum OpUnit {
    /// Bytes echoed back to the client.
    Bytes,
    /// Completed round trips.
    RoundTrips,
    /// Completed connections.
    Connections,
}

impl Workload {
    /// The issue's workload set: throughput and ping-pong at 1 and 64 connections,
    /// connection rate with 16 workers, and memory of `idle_connections` idle connections.
    pub fn standard(idle_connections: usize) -> Vec<Workload> {
        vec![
            Workload::Throughput { connections: 1 },
            Workload::Throughput { connections: 64 },
            Workload::PingPong { connections: 1 },
            Workload::PingPong { connections: 64 },
            Workload::ConnectRate { workers: 16 },
            Workload::IdleMemory {
                connections: idle_connections,
            },
        ]
    }

    /// The workload's kind as named on the command line: `throughput`, `ping-pong`,
    /// `connect` or `idle`.
    pub fn kind_name(self) -> &'static str {
        match self {
            Workload::Throughput { .. } => "throughput",
            Workload::PingPong { .. } => "ping-pong",
            Workload::ConnectRate { .. } => "connect",
            Workload::IdleMemory { .. } => "idle",
        }
    }

    /// Whether this is the idle-memory workload, which is measured apart from the timed
    /// rounds (its own repetitions, no rate).
    pub fn is_idle_memory(self) -> bool {
        matches!(self, Workload::IdleMemory { .. })
    }

    /// What [`LoadOutcome::ops`] counts for this workload.
    pub fn unit(self) -> OpUnit {
        match self {
            Workload::Throughput { .. } => OpUnit::Bytes,
            Workload::PingPong { .. } => OpUnit::RoundTrips,
            Workload::ConnectRate { .. } | Workload::IdleMemory { .. } => OpUnit::Connections,
        }
    }

    /// Runs a timed workload (all but [`Workload::IdleMemory`], which the harness drives
    /// through [`idle::open`] because it samples the server while connections are held).
    ///
    /// # Errors
    /// Fails when no connection at all could be made, or for [`Workload::IdleMemory`].
    pub async fn run_timed(self, addr: SocketAddr, duration: Duration) -> io::Result<LoadOutcome> {
        match self {
            Workload::Throughput { connections } => {
                throughput::run(addr, connections, duration).await
            }
            Workload::PingPong { connections } => ping_pong::run(addr, connections, duration).await,
            Workload::ConnectRate { workers } => connect_rate::run(addr, workers, duration).await,
            Workload::IdleMemory { .. } => Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "idle memory is not a timed workload; use workload::idle::open",
            )),
        }
    }
}

/// A choice of workloads on the command line: a kind (`throughput`) or a kind and its
/// connection or worker count (`throughput:1`, `connect:16`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selector {
    kind: String,
    size: Option<usize>,
}

impl Selector {
    /// The workload kinds a selector may name.
    pub const KINDS: [&'static str; 4] = ["throughput", "ping-pong", "connect", "idle"];

    /// Whether `w` is one of the workloads this selector names.
    pub fn matches(&self, w: Workload) -> bool {
        let size = match w {
            Workload::Throughput { connections }
            | Workload::PingPong { connections }
            | Workload::IdleMemory { connections } => connections,
            Workload::ConnectRate { workers } => workers,
        };
        self.kind == w.kind_name() && self.size.is_none_or(|s| s == size)
    }
}

impl std::str::FromStr for Selector {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (kind, size) = match s.split_once(':') {
            Some((kind, n)) => {
                let n = n
                    .parse()
                    .map_err(|_| format!("bad count {n:?} in workload {s:?}"))?;
                (kind, Some(n))
            }
            None => (s, None),
        };
        if !Self::KINDS.contains(&kind) {
            return Err(format!(
                "unknown workload {kind:?} (known: {})",
                Self::KINDS.join(", ")
            ));
        }
        Ok(Selector {
            kind: kind.to_owned(),
            size,
        })
    }
}

impl fmt::Display for Workload {
    /// A short label for the table, such as `throughput c=64` or `connect w=16`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Workload::Throughput { connections } => write!(f, "throughput c={connections}"),
            Workload::PingPong { connections } => write!(f, "ping-pong c={connections}"),
            Workload::ConnectRate { workers } => write!(f, "connect w={workers}"),
            Workload::IdleMemory { connections } => write!(f, "idle mem c={connections}"),
        }
    }
}

/// What one run of a timed workload achieved, seen from the client.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct LoadOutcome {
    /// Operations completed (bytes, round trips or connections; see [`Workload::unit`]).
    pub ops: u64,
    /// Wall time from the first operation until the last one finished.
    pub elapsed: Duration,
    /// Round-trip latency percentiles, for workloads that time single operations.
    pub latency: Option<LatencySummary>,
    /// Connections or operations that failed.
    pub errors: u64,
    /// The first failure, for the report.
    pub first_error: Option<String>,
}

impl LoadOutcome {
    /// Operations per second over [`LoadOutcome::elapsed`].
    pub fn rate(&self) -> f64 {
        let secs = self.elapsed.as_secs_f64();
        if secs > 0.0 {
            self.ops as f64 / secs
        } else {
            0.0
        }
    }

    /// Adds one failure, keeping the first message.
    pub fn note_error(&mut self, e: &io::Error) {
        self.errors += 1;
        if self.first_error.is_none() {
            self.first_error = Some(e.to_string());
        }
    }
}

/// Connects to `addr` with TCP_NODELAY set.
pub(crate) async fn connect(addr: SocketAddr) -> io::Result<tokio::net::TcpStream> {
    let stream = tokio::net::TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    Ok(stream)
}

/// The error for a workload that could not open a single connection.
pub(crate) fn no_connection(first: Option<String>) -> io::Error {
    io::Error::new(
        io::ErrorKind::ConnectionRefused,
        format!(
            "no connection succeeded: {}",
            first.unwrap_or_else(|| "unknown error".to_owned())
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selectors_name_a_kind_or_one_size_of_it() {
        let all = Workload::standard(10_000);
        let picked = |s: &str| -> Vec<String> {
            let sel: Selector = s.parse().expect("valid selector");
            all.iter()
                .filter(|w| sel.matches(**w))
                .map(ToString::to_string)
                .collect()
        };
        assert_eq!(picked("throughput"), ["throughput c=1", "throughput c=64"]);
        assert_eq!(picked("throughput:1"), ["throughput c=1"]);
        assert_eq!(picked("connect:16"), ["connect w=16"]);
        assert_eq!(picked("ping-pong:2"), Vec::<String>::new());
        assert!("pingpong".parse::<Selector>().is_err());
        assert!("throughput:x".parse::<Selector>().is_err());
        assert!("throughput:".parse::<Selector>().is_err());
    }

    #[test]
    fn standard_set_matches_the_issue() {
        let w = Workload::standard(10_000);
        let labels: Vec<String> = w.iter().map(|w| w.to_string()).collect();
        assert_eq!(
            labels,
            [
                "throughput c=1",
                "throughput c=64",
                "ping-pong c=1",
                "ping-pong c=64",
                "connect w=16",
                "idle mem c=10000"
            ]
        );
    }

    #[test]
    fn rate_is_ops_over_elapsed() {
        let o = LoadOutcome {
            ops: 500,
            elapsed: Duration::from_millis(250),
            ..LoadOutcome::default()
        };
        assert_eq!(o.rate(), 2000.0);
        assert_eq!(LoadOutcome::default().rate(), 0.0);
    }
}
