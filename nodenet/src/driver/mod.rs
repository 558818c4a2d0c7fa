//! The runtime-agnostic IO driver behind [`Socket`](crate::Socket) and
//! [`Server`](crate::Server).
//!
//! The core (`nodenet_core::Socket` / `Server`) decides everything; this module performs
//! its commands on real sockets and reports the completions: command dispatch, the read
//! path (one per-thread read pool the kernel writes into, so an idle connection holds no
//! read buffer), the write path (one `sendmsg` of the core's queued chunks, tried at once
//! like libuv), timers, resolution, connect attempts (several may be in flight for
//! RFC 8305), accepting, and the connection registry behind `Server::connections()`,
//! graceful `close()` and `shutdown(deadline)`.
//!
//! A runtime only supplies a [`Runtime`](runtime::Runtime): how to wrap a std socket for
//! its reactor, how to wait for readiness, how to sleep until a deadline, and how to run
//! a blocking call off the event loop. Everything is expressed with
//! `std::task::Context`, so the async runtimes poll the driver from a future and the
//! blocking one polls it with a waker that interrupts its `mio` wait.
//!
//! Files: `runtime` (the traits a runtime implements), `os` (their implementation for
//! every OS-socket runtime: socket2, getaddrinfo), `resolve` (getaddrinfo and the
//! user's `lookup`), `async_lookup` (the user's `lookup` as a future), `registry`
//! (accepted connections ↔ server), `socket` and `server` (the drivers), `connected`
//! (waiting for `Connect` with the events kept for replay), `stream_io` (byte-stream
//! adapters behind the runtimes' IO traits and the split halves). Lookup answers are
//! shaped by `nodenet_core::dns`; the accept back-off and `shutdown(deadline)` are the
//! core server's timers.

mod async_lookup;
mod connected;
mod os;
mod registry;
mod resolve;
pub(crate) mod runtime;
mod server;
mod socket;
mod stream_io;

pub use async_lookup::AsyncLookup;
pub(crate) use async_lookup::CustomLookup;
pub use os::OsRegistered;
pub use resolve::{Lookup, LookupOptions};
pub(crate) use server::ServerDriver;
pub(crate) use socket::SocketDriver;
