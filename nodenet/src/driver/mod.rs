//! The runtime-agnostic IO driver shared by `nodenet-std`, `nodenet-smol` and
//! `nodenet-tokio`.
//!
//! The core (`nodenet_core::Socket` / `Server`) decides everything; this module performs
//! its commands on real sockets and reports the completions: command dispatch, the read
//! path (one per-thread read pool the kernel writes into, so an idle connection holds no
//! read buffer), the write path (one `sendmsg` of the core's queued chunks, tried at once
//! like libuv), timers,
//! resolution, connect attempts (several may be in flight for RFC 8305), accepting, and
//! the connection registry behind `Server::connections()`, graceful `close()` and
//! `shutdown(deadline)`.
//!
//! A backend only supplies a [`Runtime`]: how to wrap a std socket for its reactor, how
//! to wait for readiness (`poll_read_ready` / `poll_write_ready`), how to sleep until a
//! deadline, and how to run a blocking call off the event loop. Everything is expressed
//! with `std::task::Context`, so the async backends poll the driver from a future and the
//! blocking backend polls it with a waker that interrupts its `mio` wait.
//!
//! Files: `runtime` (the traits a backend implements), `resolve` (getaddrinfo and the
//! user's `lookup`), `registry` (accepted connections ↔ server), `socket` and `server`
//! (the drivers), `stream_io` (byte-stream adapters behind the runtimes' IO traits),
//! `api` (macros that give the three backends one identical synchronous API).

mod api;
mod registry;
mod resolve;
mod runtime;
mod server;
mod socket;
mod stream_io;

pub use registry::{ConnRequest, Registry};
pub use resolve::{resolve_blocking, Lookup, LookupOptions};
pub use runtime::{
    poll_read_chunk_default, send_now, take_bytes_mut_chunk, BoxFuture, ReadChunk, RtListener,
    RtStream, Runtime, StdListener, StdStream, READ_CHUNK,
};
pub use server::{ServerDriver, ServerEvent};
pub use socket::SocketDriver;
