//! `nodenet-sim`: a deterministic network simulator over the real core (`nodenet-core`).
//! Test machinery, not published: the seeded sweeps, the conformance driver in `tests/`
//! and the simulator benchmark use it.
//!
//! [`World`] is a fake kernel at the level the core speaks — syscall results, not
//! packets: hosts with IPv4 and IPv6 addresses, a DNS table, listeners with a backlog,
//! connects that succeed after a delay, are refused, are never answered or fail for one
//! address family, byte streams delivered in arbitrary chunks through bounded buffers (so
//! writes are short or wait for the peer to read: real backpressure and `Drain`), FIN,
//! RST (discarding unread data; a close with unread data becomes an RST, as on Linux),
//! and `EMFILE` on accept. It drives the real [`Socket`](nodenet_core::Socket) and
//! [`Server`](nodenet_core::Server) through their public driving contract, in virtual time that
//! jumps to the next deadline. Every random choice comes from one `u64` seed: the same
//! seed gives the same [`trace`](World::trace) and [`trace_hash`](World::trace_hash), so a
//! failing seed is a reproducible bug in the real code.
//!
//! * [`World`], [`HostRef`], [`WorldEvent`], [`WorldConfig`]: the user-facing API (see
//!   the example on [`World`]).
//! * [`Faults`]: which faults are injected ([`Faults::calm`] for protocol tests,
//!   [`Faults::swarm`] for fault sweeps).
//! * [`sweep`]: the random scenarios of the seeded test sweeps and their replay.
//! * [`Rng`], [`Trace`]: the seeded generator and the trace with its FNV-1a hash.
//!
//! Not modelled: IPC (pipe) endpoints (a connect gets `ENOENT`, a listen `EACCES`),
//! socket options (accepted and ignored), and the `::`→`0.0.0.0` fallback (binding `::`
//! always works).

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod check;
mod faults;
mod kernel;
mod net;
mod rng;
pub mod runtime;
pub mod scenario;
pub mod sweep;
mod trace;
mod world;

pub use faults::{Faults, Injected};
pub use rng::Rng;
pub use trace::{fnv1a, Trace, TraceMode};
pub use world::{HostRef, ServerId, SocketId, World, WorldConfig, WorldEvent};
