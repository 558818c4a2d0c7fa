//! `nodenet-std`: Node.js's `net` module on blocking std sockets — no async runtime.
//!
//! Every Node rule lives in `nodenet-core`; this crate supplies a small `mio` reactor
//! per socket (and per server) to the runtime-generic `nodenet` crate, and runs
//! getaddrinfo on a worker thread. `next_event()` blocks the calling thread until the
//! next event (the socket's timers become the wait's timeout). The API is the same as in
//! `nodenet-tokio` and `nodenet-smol`, minus `async`.
//!
//! ```
//! use nodenet_std::{create_server, connect, ConnectOptions, ListenOptions, Endpoint,
//!                   ServerEvent, ServerOptions, SocketEvent};
//!
//! let mut server = create_server(ServerOptions::default());
//! server.listen(ListenOptions::port(0).host("127.0.0.1")).unwrap();
//! assert!(matches!(server.next_event(), Some(ServerEvent::Listening)));
//! let Some(Endpoint::Tcp(addr)) = server.address() else { panic!() };
//!
//! // The client connects once it is polled: give it its own thread.
//! std::thread::spawn(move || {
//!     let mut client = connect(ConnectOptions::tcp(addr.port(), "127.0.0.1")).unwrap();
//!     client.end_with("hello");
//!     while client.next_event().is_some() {}
//! });
//! let Some(ServerEvent::Connection(mut conn)) = server.next_event() else { panic!() };
//! let mut got = Vec::new();
//! while let Some(ev) = conn.next_event() {
//!     if let SocketEvent::Data(d) = ev { got.extend_from_slice(&d); }
//! }
//! assert_eq!(got, b"hello");
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod reactor;
mod runtime;

pub use nodenet::AsyncLookup;
pub use nodenet::{
    get_default_auto_select_family, get_default_auto_select_family_attempt_timeout, is_ip, is_ipv4,
    is_ipv6, set_default_auto_select_family, set_default_auto_select_family_attempt_timeout,
    AddressArg, AttemptId, BlockList, Bytes, ConnectOptions, ConnectionId, DropInfo, Endpoint,
    Error, ErrorClass, ErrorCode, Family, KeepAlive, ListenOptions, Lookup, LookupAddress,
    LookupOptions, NumberArg, PortArg, ReadyState, Result, ServerOptions, SocketAddress,
    SocketAddressOptions, SocketEvent, SocketOptions, StdListener, StdStream, WriteId, WriteResult,
};
// Node's `signal` (AbortController) and `onread` (reads into the caller's buffer).
pub use nodenet::{AbortController, AbortSignal, ReadInto};
pub use runtime::{StdRtListener, StdRtSource, StdRtStream, StdRuntime};

/// Node's `net.Socket` on blocking std sockets: [`nodenet::Socket`] on [`StdRuntime`].
pub type Socket = nodenet::Socket<StdRuntime>;

/// Node's `net.Server` on blocking std sockets: [`nodenet::Server`] on [`StdRuntime`].
pub type Server = nodenet::Server<StdRuntime>;

/// A server event, with each accepted connection as a [`Socket`].
pub type ServerEvent = nodenet::ServerEvent<StdRuntime>;

/// The read half of a [`Socket`] split with [`into_split`](nodenet::Socket::into_split).
pub type ReadHalf = nodenet::ReadHalf<StdRuntime>;

/// The write half of a [`Socket`] split with [`into_split`](nodenet::Socket::into_split).
pub type WriteHalf = nodenet::WriteHalf<StdRuntime>;

/// [`ReadHalf::reunite`](nodenet::ReadHalf::reunite) was given halves of different
/// sockets (both are in it: `.0` and `.1`).
pub type ReuniteError = nodenet::ReuniteError<StdRuntime>;

/// `net.connect(options)` / `net.createConnection(options)`: a new [`Socket`], already
/// connecting (the connection makes progress once the socket is polled). Node's
/// validation errors are returned as it throws them.
pub fn connect(options: ConnectOptions) -> Result<Socket> {
    let mut socket = Socket::new(SocketOptions::default());
    socket.connect(options)?;
    Ok(socket)
}

/// `net.createConnection(options)`: the same as [`connect`].
pub fn create_connection(options: ConnectOptions) -> Result<Socket> {
    connect(options)
}

/// `net.createServer(options)`: a [`Server`]; call [`Server::listen`].
pub fn create_server(options: ServerOptions) -> Server {
    Server::new(options)
}
