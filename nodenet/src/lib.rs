//! `nodenet`: Node.js's `net` module in Rust, written once for every runtime.
//!
//! [`Socket<R>`](Socket) and [`Server<R>`](Server) are Node's `net.Socket` and
//! `net.Server`, generic over a [`Runtime`]: the backends `nodenet-tokio`,
//! `nodenet-smol` and `nodenet-std` each supply one runtime adapter and name the types
//! for it (`nodenet_tokio::Socket` is `nodenet::Socket<TokioRuntime>`). Every Node rule
//! lives in `nodenet-core`'s IO-free state machines; this crate performs the IO those
//! machines ask for (the driver), builds sockets with socket2 (libuv's options), and
//! implements each runtime's IO traits over a `Socket`.
//!
//! Most programs depend on one backend and never name this crate. Name it to write code
//! once for every async runtime ([`AsyncRuntime`]), or to add a runtime ([`runtime`]).
//!
//! # The event loop
//!
//! A socket makes progress only while its owner polls it — [`Socket::poll_event`], the
//! `next_event` built on it, or an IO trait — or calls it (`write` sends at once when
//! the kernel takes the bytes). There is no background task: give each socket to a task
//! (or thread) that loops on `next_event` until it returns `None`. Events come in Node's
//! order ([`SocketEvent`], [`ServerEvent`]); `next_event` and `poll_event` are
//! cancel-safe (an event leaves the socket only when it is returned).
//!
//! # IO traits
//!
//! `Socket<R>` implements tokio's `AsyncRead`/`AsyncWrite` (feature `tokio`),
//! `futures-io`'s (feature `futures-io`) and, on a blocking runtime, `std::io::Read`/
//! `Write`, so TLS, HTTP and codec crates run over it. While the traits are in use they
//! consume the socket's events (data is read, `End`/`Close` become end-of-stream, an
//! `Error` becomes an `io::Error`); use one style per socket.
//!
//! # Flushing
//!
//! `write` queues what the kernel does not take at once; `Finish` (after `end()`), an
//! empty [`Socket::writable_length`], or the IO traits' `flush`/`shutdown` tell when the
//! bytes reached the kernel. Drive the socket until then before dropping it.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod abort;
mod addr;
mod connected;
mod dispose;
mod driver;
mod io;
mod lookup;
mod options;
mod read_into;
mod server;
mod signal;
mod socket;
mod split;
mod tcp;
#[cfg(unix)]
mod unix;

pub mod runtime {
    //! What a runtime adapter implements ([`Runtime`], [`RtStream`], [`RtListener`], and
    //! [`BlockingRuntime`] for a blocking one), and the helpers the adapters share.
    pub use crate::driver::runtime::{
        poll_read_chunk_default, poll_read_into_default, read_chunk_now, send_now,
        take_bytes_mut_chunk, Async, AsyncRuntime, Blocking, BlockingRuntime, BoxFuture, ReadChunk,
        RtListener, RtStream, Runtime, RuntimeKind, StdListener, StdStream, COPY_BELOW, READ_CHUNK,
    };
}

pub use abort::{AbortController, AbortSignal};
pub use driver::{AsyncLookup, Lookup, LookupOptions};
pub use options::KeepAlive;
pub use read_into::ReadInto;
pub use runtime::{AsyncRuntime, BlockingRuntime, Runtime, StdListener, StdStream};
pub use server::{Server, ServerEvent};
pub use socket::Socket;
pub use split::{ReadHalf, ReuniteError, WriteHalf};

pub use bytes::Bytes;
pub use nodenet_core::{
    get_default_auto_select_family, get_default_auto_select_family_attempt_timeout, is_ip, is_ipv4,
    is_ipv6, set_default_auto_select_family, set_default_auto_select_family_attempt_timeout,
    AddressArg, AttemptId, BlockList, ConnectOptions, ConnectionId, DropInfo, Endpoint, Error,
    ErrorClass, ErrorCode, Family, ListenOptions, LookupAddress, NumberArg, PortArg, ReadyState,
    Result, ServerOptions, SocketAddress, SocketAddressOptions, SocketEvent, SocketOptions,
    WriteId, WriteResult,
};

/// The step of a bind/listen or connect sequence that failed. Node words these
/// differently (`bind EADDRINUSE 127.0.0.1:5000` versus `listen EADDRINUSE: address
/// already in use :::8124`), so the core needs to know.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Step {
    /// Creating the socket or setting an option on it before bind.
    Socket,
    /// `bind(2)`.
    Bind,
    /// `listen(2)`.
    Listen,
    /// `connect(2)` (a synchronous failure; asynchronous ones surface later).
    Connect,
    /// `chmod` of a Unix socket file (`readableAll` / `writableAll`).
    Chmod,
}

/// An OS error together with the step that produced it.
#[derive(Debug)]
pub(crate) struct StepError {
    /// Which step failed.
    pub step: Step,
    /// What the kernel said.
    pub error: std::io::Error,
}

impl StepError {
    pub(crate) fn at(step: Step) -> impl FnOnce(std::io::Error) -> StepError {
        move |error| StepError { step, error }
    }
}

pub(crate) use options::{keep_alive_settings, set_keep_alive, set_linger_zero, set_no_delay};
pub(crate) use tcp::{tcp_connect, tcp_listen};
#[cfg(unix)]
pub(crate) use unix::{unix_connect, unix_listen};
