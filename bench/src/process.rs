//! Starting, watching and stopping one server implementation as a separate process.
//!
//! The harness never runs a measured server in its own process: the server's CPU time and
//! memory must be readable apart from the load generator's. A server announces readiness
//! by printing `ready <port>` on stdout; the harness waits for that line (with a timeout)
//! and then connects to `127.0.0.1:<port>`.

use std::io::{self, BufRead, BufReader};
use std::net::{Ipv4Addr, SocketAddr};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use crate::affinity::Placement;
use crate::proc_stat::ProcSample;
use crate::servers::{Launch, ServerImpl};

/// How long a server may take to print its ready line.
pub const READY_TIMEOUT: Duration = Duration::from_secs(15);

/// The ready line a server prints once it listens, e.g. `ready 40123`.
pub fn ready_line(port: u16) -> String {
    format!("ready {port}")
}

/// Parses a ready line into the port it announces.
///
/// ```
/// assert_eq!(nodenet_bench::process::parse_ready_line("ready 8124\n"), Some(8124));
/// assert_eq!(nodenet_bench::process::parse_ready_line("listening"), None);
/// ```
pub fn parse_ready_line(line: &str) -> Option<u16> {
    line.trim().strip_prefix("ready ")?.trim().parse().ok()
}

/// A running server process; killed when dropped.
#[derive(Debug)]
pub struct ServerProcess {
    imp: ServerImpl,
    child: Child,
    addr: SocketAddr,
}

impl ServerProcess {
    /// Starts `imp` on a free loopback port and waits until it is ready.
    ///
    /// `self_exe` is the `nodenet-bench` binary, run as `serve --impl <name> --port 0` for
    /// the Rust implementations.
    ///
    /// # Errors
    /// Fails when the program cannot be started, exits early, or is not ready within
    /// [`READY_TIMEOUT`].
    pub fn start(imp: ServerImpl, self_exe: &Path) -> io::Result<ServerProcess> {
        ServerProcess::start_on(imp, self_exe, None)
    }

    /// [`start`](ServerProcess::start), with the process pinned to the server's CPU of
    /// `placement` when one is given.
    ///
    /// # Errors
    /// As [`start`](ServerProcess::start), or when the CPU mask cannot be set.
    pub fn start_on(
        imp: ServerImpl,
        self_exe: &Path,
        placement: Option<&Placement>,
    ) -> io::Result<ServerProcess> {
        let mut cmd = match imp.launch() {
            Launch::SelfServe => {
                let mut c = Command::new(self_exe);
                c.args(["serve", "--impl", imp.name(), "--port", "0"]);
                c
            }
            Launch::External { program, args } => {
                let mut c = Command::new(program);
                c.args(args).arg("0");
                c
            }
        };
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        let mut spawn = || {
            cmd.spawn()
                .map_err(|e| io::Error::new(e.kind(), format!("starting {imp}: {e}")))
        };
        let mut child = match placement {
            Some(p) => p.spawn_on_server_cpu(spawn)?,
            None => spawn()?,
        };
        let Some(stdout) = child.stdout.take() else {
            let _ = child.kill();
            let _ = child.wait();
            return Err(io::Error::other("server stdout was not captured"));
        };
        match wait_ready(stdout, READY_TIMEOUT) {
            Ok(port) => Ok(ServerProcess {
                imp,
                child,
                addr: SocketAddr::from((Ipv4Addr::LOCALHOST, port)),
            }),
            Err(e) => {
                let _ = child.kill();
                let _ = child.wait();
                Err(io::Error::new(
                    e.kind(),
                    format!("{imp} did not start: {e}"),
                ))
            }
        }
    }

    /// The implementation this process runs.
    pub fn imp(&self) -> ServerImpl {
        self.imp
    }

    /// The loopback address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Samples the server's CPU time and resident memory.
    ///
    /// # Errors
    /// Fails when the process has gone or `/proc` cannot be read.
    pub fn sample(&self) -> io::Result<ProcSample> {
        ProcSample::read(self.pid())
    }

    /// Whether the process is still running.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Kills the server and reaps it.
    ///
    /// # Errors
    /// Fails only if waiting for the process fails.
    pub fn stop(mut self) -> io::Result<()> {
        self.kill_and_reap()
    }

    fn kill_and_reap(&mut self) -> io::Result<()> {
        // Echo servers hold no state worth a graceful shutdown; SIGKILL is immediate.
        let _ = self.child.kill();
        self.child.wait().map(|_| ())
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.kill_and_reap();
    }
}

/// Reads lines from `stdout` on a helper thread until a ready line arrives.
///
/// The thread keeps draining the pipe afterwards so a chatty server never blocks on a full
/// pipe; it ends when the process closes its stdout.
fn wait_ready(stdout: std::process::ChildStdout, timeout: Duration) -> io::Result<u16> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut sent = false;
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if !sent {
                if let Some(port) = parse_ready_line(&line) {
                    let _ = tx.send(port);
                    sent = true;
                }
            }
        }
    });
    match rx.recv_timeout(timeout) {
        Ok(port) => Ok(port),
        Err(mpsc::RecvTimeoutError::Timeout) => Err(io::Error::new(
            io::ErrorKind::TimedOut,
            "no ready line in time",
        )),
        Err(mpsc::RecvTimeoutError::Disconnected) => Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "server exited before printing its ready line",
        )),
    }
}
