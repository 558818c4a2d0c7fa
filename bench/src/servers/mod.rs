//! The registry of echo-server implementations the harness can benchmark.
//!
//! Every implementation is an echo server on `127.0.0.1` that prints `ready <port>` on its
//! stdout once it listens; the harness always runs it as a separate process, so its CPU
//! time and memory can be read from `/proc/<pid>` apart from the load generator's.
//!
//! # Adding an implementation (for example a nodenet backend)
//!
//! 1. Write a module next to [`raw_tokio`] exposing
//!    `pub fn serve(addr: SocketAddr, ready: impl FnOnce(SocketAddr)) -> io::Result<()>`
//!    that binds `addr`, calls `ready` with the bound address, and echoes every
//!    connection forever (blocking the calling thread). A tokio-based server builds its
//!    runtime with [`tokio_server_runtime`], so it is compared with raw tokio on equal
//!    terms; other runtimes build their own (smol: one executor thread; std: its threads).
//! 2. Add a variant to [`ServerImpl`], list it in [`ServerImpl::ALL`], give it a name in
//!    [`ServerImpl::name`], and map it to [`Launch::SelfServe`] in
//!    [`ServerImpl::launch`].
//! 3. Add its arm to [`ServerImpl::serve_in_process`] calling the new `serve`.
//!
//! Nothing else changes: `nodenet-bench run --impls <name>` then measures it, and the
//! report shows its ratios against raw tokio and Node.

pub mod nodenet_smol;
pub mod nodenet_std;
pub mod nodenet_tokio;
pub mod raw_smol;
pub mod raw_tokio;

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// An echo-server implementation the harness knows how to start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ServerImpl {
    /// The idiomatic tokio echo server: the floor ([`raw_tokio`]).
    RawTokio,
    /// `nodenet-tokio` with the public API, as a user writes it ([`nodenet_tokio`]).
    NodenetTokio,
    /// `nodenet-smol` on one `LocalExecutor` thread ([`nodenet_smol`]).
    NodenetSmol,
    /// The idiomatic smol echo server, the floor under `nodenet-smol` ([`raw_smol`]).
    RawSmol,
    /// Blocking `nodenet-std`, one thread per connection ([`nodenet_std`]).
    NodenetStd,
    /// Node v20's `net.createServer(s => s.pipe(s))` (`bench/node/echo_server.js`).
    Node,
}

/// How the harness starts an implementation's server process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Launch {
    /// Run the bench binary itself as `nodenet-bench serve --impl <name> --port <p>`.
    SelfServe,
    /// Run an external program with these arguments followed by the port.
    External {
        /// The program (looked up on `PATH` when not a path).
        program: String,
        /// Arguments before the port.
        args: Vec<String>,
    },
}

impl ServerImpl {
    /// Every known implementation, the baseline (raw tokio) first.
    pub const ALL: &'static [ServerImpl] = &[
        ServerImpl::RawTokio,
        ServerImpl::NodenetTokio,
        ServerImpl::NodenetSmol,
        ServerImpl::RawSmol,
        ServerImpl::NodenetStd,
        ServerImpl::Node,
    ];

    /// The implementation every ratio is taken against.
    pub const BASELINE: ServerImpl = ServerImpl::RawTokio;

    /// The name used on the command line, in the table and in the JSON.
    pub fn name(self) -> &'static str {
        match self {
            ServerImpl::RawTokio => "raw-tokio",
            ServerImpl::NodenetTokio => "nodenet-tokio",
            ServerImpl::NodenetSmol => "nodenet-smol",
            ServerImpl::RawSmol => "raw-smol",
            ServerImpl::NodenetStd => "nodenet-std",
            ServerImpl::Node => "node",
        }
    }

    /// How to start this implementation as its own process.
    pub fn launch(self) -> Launch {
        match self {
            ServerImpl::RawTokio
            | ServerImpl::NodenetTokio
            | ServerImpl::NodenetSmol
            | ServerImpl::RawSmol
            | ServerImpl::NodenetStd => Launch::SelfServe,
            ServerImpl::Node => Launch::External {
                program: node_program(),
                args: vec![node_script().display().to_string()],
            },
        }
    }

    /// Serves this implementation on `addr` in the calling process, blocking forever
    /// (what `nodenet-bench serve` runs). `ready` receives the bound address.
    ///
    /// # Errors
    /// Fails when the server cannot start, or for implementations that are not Rust code
    /// in this binary ([`Launch::External`]), which are started by their own program.
    pub fn serve_in_process(
        self,
        addr: SocketAddr,
        ready: impl FnOnce(SocketAddr),
    ) -> io::Result<()> {
        match self {
            ServerImpl::RawTokio => raw_tokio::serve(addr, ready),
            ServerImpl::NodenetTokio => nodenet_tokio::serve(addr, ready),
            ServerImpl::NodenetSmol => nodenet_smol::serve(addr, ready),
            ServerImpl::RawSmol => raw_smol::serve(addr, ready),
            ServerImpl::NodenetStd => nodenet_std::serve(addr, ready),
            ServerImpl::Node => Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "node is an external server: run `node bench/node/echo_server.js PORT`",
            )),
        }
    }
}

/// Environment variable choosing the tokio server runtime: unset or `0` for the
/// current-thread scheduler (the default), `N` for the multi-threaded one with `N` workers.
pub const TOKIO_WORKERS_ENV: &str = "NODENET_BENCH_TOKIO_WORKERS";

/// The runtime every tokio-based echo server runs on: by default tokio's current-thread
/// scheduler.
///
/// One thread, like Node's event loop, so each server gets one core's worth of work and
/// the load generator keeps the other core of a 2-core machine; a multi-threaded server
/// runtime there only adds contention with the client. Set [`TOKIO_WORKERS_ENV`] to
/// measure the multi-threaded scheduler instead (the harness's children inherit it).
///
/// # Errors
/// Fails when the runtime cannot be built (no epoll, no file descriptors).
pub fn tokio_server_runtime() -> io::Result<tokio::runtime::Runtime> {
    match tokio_workers(std::env::var(TOKIO_WORKERS_ENV).ok().as_deref()) {
        0 => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build(),
        n => tokio::runtime::Builder::new_multi_thread()
            .worker_threads(n)
            .enable_all()
            .build(),
    }
}

/// Parses [`TOKIO_WORKERS_ENV`]: a worker count, 0 (current-thread) when unset or invalid.
///
/// ```
/// use nodenet_bench::servers::tokio_workers;
/// assert_eq!(tokio_workers(None), 0);
/// assert_eq!(tokio_workers(Some("2")), 2);
/// assert_eq!(tokio_workers(Some("many")), 0);
/// ```
pub fn tokio_workers(value: Option<&str>) -> usize {
    value.and_then(|v| v.trim().parse().ok()).unwrap_or(0)
}

/// The `node` binary to run (`NODENET_BENCH_NODE` overrides `node` on `PATH`).
pub fn node_program() -> String {
    std::env::var("NODENET_BENCH_NODE").unwrap_or_else(|_| "node".to_owned())
}

/// Path of the Node echo server script inside this crate.
pub fn node_script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("node")
        .join("echo_server.js")
}

impl fmt::Display for ServerImpl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The error for a name that is not in the registry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownImpl(pub String);

impl fmt::Display for UnknownImpl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let known: Vec<&str> = ServerImpl::ALL.iter().map(|i| i.name()).collect();
        write!(
            f,
            "unknown implementation {:?} (known: {})",
            self.0,
            known.join(", ")
        )
    }
}

impl std::error::Error for UnknownImpl {}

impl FromStr for ServerImpl {
    type Err = UnknownImpl;

    /// Parses a registry name such as `raw-tokio` or `node`.
    ///
    /// ```
    /// use nodenet_bench::servers::ServerImpl;
    /// assert_eq!("raw-tokio".parse::<ServerImpl>(), Ok(ServerImpl::RawTokio));
    /// assert!("nodenet-nope".parse::<ServerImpl>().is_err());
    /// ```
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ServerImpl::ALL
            .iter()
            .copied()
            .find(|i| i.name() == s)
            .ok_or_else(|| UnknownImpl(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_round_trips_and_baseline_is_first() {
        for imp in ServerImpl::ALL {
            assert_eq!(imp.name().parse::<ServerImpl>(), Ok(*imp));
        }
        assert_eq!(ServerImpl::ALL.first(), Some(&ServerImpl::BASELINE));
    }

    #[test]
    fn node_script_ships_with_the_crate() {
        assert!(node_script().is_file());
        let err = ServerImpl::Node
            .serve_in_process("127.0.0.1:0".parse().unwrap(), |_| {})
            .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::Unsupported);
    }
}
