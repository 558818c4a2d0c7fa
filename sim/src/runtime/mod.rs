//! Your own program in the simulator: nodenet's [`Runtime`](nodenet::Runtime) over the
//! simulated kernel, in virtual time, on a deterministic single-threaded executor.
//!
//! Code written against nodenet's generic API (`nodenet::Socket<R>`,
//! `nodenet::Server<R>` with `R: nodenet::AsyncRuntime`), or against this module's
//! aliases [`Socket`], [`Server`], [`connect`] and [`create_server`] — the same names
//! nodenet-tokio and nodenet-smol export — runs unchanged on simulated hosts. The
//! driver is the one tokio, smol and std use; only the kernel underneath is simulated:
//!
//! * hosts with IPv4 and IPv6 addresses and a DNS table (names with several records),
//!   partitions and repair, hold and release, latency distributions per link
//!   ([`Latency`]), crash and restart ([`Sim`]);
//! * TCP, and Unix domain stream sockets with each host's socket files (Node's pipes:
//!   `ConnectOptions::path`, `ListenOptions::path`; see
//!   [`SimRuntime::socket_file_mode`]);
//! * the kernel's faults from [`Faults`](crate::Faults): RST mid-stream, short writes,
//!   random read chunks, bounded buffers (real backpressure), refused and black-holed
//!   connects, a broken IPv6 path, `EMFILE` on accept, FIN versus RST on close — all
//!   drawn from one `u64` seed;
//! * virtual-time [`sleep`], [`timeout`], [`now`] and [`spawn`] for the programs;
//! * Node's invariants checked on every socket and server event, a trace whose hash is
//!   the same for the same seed, and a failure that prints the command replaying its
//!   seed ([`replay_command`], [`sweep`]).
//!
//! See [`Sim`] for an example.

mod exec;
mod io;
mod kernel;
mod latency;
mod observe;
mod pool;
mod queue;
mod replay;
mod sim;
mod tcp;
mod unix;

pub use exec::{now, sleep, sleep_until, spawn, timeout, yield_now, Elapsed, JoinHandle};
pub use io::{SimAccepted, SimListener, SimRuntime, SimStream, Sleep};
pub use latency::Latency;
pub use replay::{replay_command, seed_from_env, sweep, SweepReport};
pub use sim::{Failure, Result, RunStats, Sim, SimConfig, SimError, SimGuard};

use nodenet_core::{ConnectOptions, ServerOptions, SocketOptions};

/// Node's `net.Socket` on a simulated host: [`nodenet::Socket`] on [`SimRuntime`].
pub type Socket = nodenet::Socket<SimRuntime>;

/// Node's `net.Server` on a simulated host: [`nodenet::Server`] on [`SimRuntime`].
pub type Server = nodenet::Server<SimRuntime>;

/// A server event, with each accepted connection as a [`Socket`].
pub type ServerEvent = nodenet::ServerEvent<SimRuntime>;

/// `net.connect(options)` from the current host: a new [`Socket`], already connecting.
pub fn connect(options: ConnectOptions) -> nodenet_core::Result<Socket> {
    let mut socket = Socket::new(SocketOptions::default());
    socket.connect(options)?;
    Ok(socket)
}

/// `net.createConnection(options)`: the same as [`connect`].
pub fn create_connection(options: ConnectOptions) -> nodenet_core::Result<Socket> {
    connect(options)
}

/// `net.createServer(options)` on the current host; call [`Server::listen`].
pub fn create_server(options: ServerOptions) -> Server {
    Server::new(options)
}

/// Cut the link between two hosts (see [`Sim::partition`]), from inside the simulation.
pub fn partition(a: &str, b: &str) {
    control(a, b, |l| l.partitioned = true);
}

/// Heal a partition (see [`Sim::repair`]), from inside the simulation.
pub fn repair(a: &str, b: &str) {
    control(a, b, |l| l.partitioned = false);
}

/// Hold the segments between two hosts (see [`Sim::hold`]), from inside the simulation.
pub fn hold(a: &str, b: &str) {
    control(a, b, |l| l.held = true);
}

/// Deliver what was held (see [`Sim::release`]), from inside the simulation.
pub fn release(a: &str, b: &str) {
    control(a, b, |l| l.held = false);
}

fn control(a: &str, b: &str, f: impl FnOnce(&mut kernel::LinkState)) {
    exec::with_active(|active| {
        let Some(active) = active else { return };
        let mut st = active.shared.lock();
        let ix = |n: &str| st.hosts.iter().position(|h| h.name == n);
        if let (Some(a), Some(b)) = (ix(a), ix(b)) {
            st.set_link(a, b, f);
        }
    });
}

/// Crash a host from inside the simulation (after the current poll; see
/// [`Sim::crash`]). Unknown names are ignored.
pub fn crash(host: &str) {
    if let Some(h) = host_ix(host) {
        exec::request(exec::Control::Crash(h));
    }
}

/// Restart a crashed host from inside the simulation (see [`Sim::restart`]).
pub fn restart(host: &str) {
    if let Some(h) = host_ix(host) {
        exec::request(exec::Control::Restart(h));
    }
}

fn host_ix(name: &str) -> Option<usize> {
    exec::with_active(|a| {
        let a = a?;
        let st = a.shared.lock();
        st.hosts.iter().position(|h| h.name == name)
    })
}
