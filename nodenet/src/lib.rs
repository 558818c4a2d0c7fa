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
//! ```
//! use tokio::io::{AsyncReadExt, AsyncWriteExt};
//! use nodenet::{ConnectOptions, Socket, SocketOptions};
//! type TokioSocket = Socket<nodenet_tokio::TokioRuntime>;
//!
//! let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
//! let port = listener.local_addr()?.port();
//! std::thread::spawn(move || -> std::io::Result<u64> {
//!     let (peer, _) = listener.accept()?;
//!     std::io::copy(&mut &peer, &mut &peer) // echo until the client's FIN
//! });
//!
//! let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
//! rt.block_on(async {
//!     let mut socket = TokioSocket::new(SocketOptions::default());
//!     socket.connect(ConnectOptions::tcp(port, "127.0.0.1"))?;
//!     socket.write_all(b"over tokio's traits").await?; // completes once connected
//!     socket.shutdown().await?; // flush, then `end()`: the FIN
//!     let mut echoed = Vec::new();
//!     socket.read_to_end(&mut echoed).await?; // Data until End
//!     assert_eq!(echoed, b"over tokio's traits");
//!     Ok::<(), Box<dyn std::error::Error>>(())
//! })?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! An error read through the traits is an `io::Error` whose kind follows Node's code
//! (`ConnectionRefused` for `ECONNREFUSED`, ...) and which prints as Node prints it; the
//! [`Error`] itself, with its `code()`, `syscall()`, `address()`, is inside:
//!
//! ```
//! use tokio::io::AsyncReadExt;
//! use nodenet_tokio::{connect, ConnectOptions, Error, ErrorCode};
//!
//! let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port(); // then closed
//! # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
//! let mut socket = connect(ConnectOptions::tcp(port, "127.0.0.1"))?;
//! let e = socket.read_to_end(&mut Vec::new()).await.unwrap_err();
//! assert_eq!(e.kind(), std::io::ErrorKind::ConnectionRefused);
//! assert_eq!(e.to_string(), format!("Error: connect ECONNREFUSED 127.0.0.1:{port}"));
//! let node = e.get_ref().and_then(|e| e.downcast_ref::<Error>()).expect("Node's error");
//! assert_eq!(node.code(), ErrorCode::ECONNREFUSED);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # })?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Flushing and drop
//!
//! `write` queues what the kernel does not take at once; `Finish` (after `end()`), an
//! empty [`Socket::writable_length`], or the IO traits' `flush`/`shutdown` tell when the
//! bytes reached the kernel. Bytes a write accepted are not lost if the socket is dropped
//! before that: the socket lingers in the background until they are sent and then sends
//! its FIN (a client dropped before its first poll connects there first, as Node's event
//! loop would), as the kernel does with its own send buffer (bounded: after 30 s without
//! progress, or 5 minutes in all, it gives up with an RST, so the peer can tell). Driving
//! the socket to `Finish` is still the way to *know* the bytes left.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod abort;
mod addr;
mod connected;
mod dispose;
mod driver;
mod io;
mod listened;
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
    //! What a runtime adapter implements, and the helpers the adapters share. A runtime
    //! over OS sockets implements [`OsRuntime`], [`OsStream`] and [`OsListener`] (and
    //! [`BlockingRuntime`] for a blocking one) and gets [`Runtime`] with every OS
    //! operation from nodenet; a runtime with a network of its own (the simulator)
    //! implements [`Runtime`], [`RtStream`] and [`RtListener`] directly.
    pub use crate::driver::runtime::{
        poll_read_chunk_default, poll_read_into_default, read_chunk_now, read_into_now, send_now,
        take_bytes_mut_chunk, Async, AsyncRuntime, BindOptions, Blocking, BlockingRuntime,
        BoxFuture, Observed, ObservedServer, OsListener, OsRuntime, OsStream, ReadChunk,
        RtListener, RtStream, Runtime, RuntimeKind, StdListener, StdStream, COPY_BELOW, MAX_IOVECS,
        READ_CHUNK,
    };
    pub use crate::driver::OsRegistered;
    pub use crate::{Step, StepError};
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
pub enum Step {
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
pub struct StepError {
    /// Which step failed.
    pub step: Step,
    /// What the kernel said.
    pub error: std::io::Error,
}

impl StepError {
    /// A closure that tags an error with `step` (for `map_err`).
    pub fn at(step: Step) -> impl FnOnce(std::io::Error) -> StepError {
        move |error| StepError { step, error }
    }
}

pub(crate) use options::{keep_alive_settings, set_keep_alive, set_linger_zero, set_no_delay};
pub(crate) use tcp::{tcp_connect, tcp_listen};
#[cfg(unix)]
pub(crate) use unix::{unix_connect, unix_listen};
