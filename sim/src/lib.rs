//! `nodenet-sim`: a deterministic network simulator running real nodenet programs.
//! Test machinery, not published: the seeded sweeps, the conformance driver in `tests/`
//! and the simulator benchmark use it.
//!
//! [`runtime`] is nodenet's [`Runtime`](nodenet::Runtime) over a simulated TCP kernel
//! at the level of syscall results, not packets: hosts with IPv4 and IPv6 addresses, a
//! DNS table, listeners with a backlog, connects that succeed after a delay, are
//! refused, are never answered or fail for one address family, byte streams delivered
//! in arbitrary chunks through bounded buffers (so writes are short or wait for the peer
//! to read: real backpressure and `Drain`), FIN, RST (a close with unread data becomes
//! an RST, as on Linux), `EMFILE` on accept, partitions and crashes. Programs written
//! against `nodenet::Socket<R>`/`Server<R>` run on it unchanged, on a deterministic
//! executor in virtual time that jumps to the next deadline. Every random choice comes
//! from one `u64` seed: the same seed gives the same trace and trace hash, so a failing
//! seed is a reproducible bug in the real code.
//!
//! * [`runtime`]: [`Sim`](runtime::Sim) (hosts, clients, faults, controls, the run and
//!   its verdict), `SimRuntime` and the aliases `Socket`, `Server`, `connect`, ...
//! * [`Faults`]: which faults are injected ([`Faults::calm`] for protocol tests,
//!   [`Faults::swarm`] for fault sweeps); [`Injected`]: how often they were;
//!   [`Checked`]: how often the server invariants were checked.
//! * [`scenario`]: the random scenarios of the seeded sweep (`tests/sim_scenarios.rs`).
//! * [`Rng`], [`Trace`]: the seeded generator and the trace with its FNV-1a hash.
//!
//! The kernel has TCP and Unix domain stream sockets (each host its own socket files).
//! Not modelled: socket options beyond `TCP_NODELAY`, keep-alive and `SO_LINGER` zero
//! (accepted and ignored), and the `::`→`0.0.0.0` fallback (binding `::` always works).

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod check;
mod faults;
mod rng;
pub mod runtime;
pub mod scenario;
mod trace;

pub use check::Checked;
pub use faults::{Faults, Injected};
pub use rng::Rng;
pub use trace::{fnv1a, Trace, TraceMode};
