//! `nodenet-tokio`: Node.js's `net` module on tokio.
//!
//! Every Node rule lives in `nodenet-core`; this crate only supplies tokio's reactor,
//! timers and blocking pool to the runtime-generic `nodenet` crate. The API is the same
//! in `nodenet-smol` and (blocking) `nodenet-std`.
//!
//! ```
//! use nodenet_tokio::{create_server, connect, ConnectOptions, ListenOptions, Endpoint,
//!                     ServerEvent, ServerOptions, SocketEvent};
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! let mut server = create_server(ServerOptions::default());
//! server.listen(ListenOptions::port(0).host("127.0.0.1")).unwrap();
//! assert!(matches!(server.next_event().await, Some(ServerEvent::Listening)));
//! let Some(Endpoint::Tcp(addr)) = server.address() else { panic!() };
//!
//! // The client connects once it is polled: give it its own task.
//! let mut client = connect(ConnectOptions::tcp(addr.port(), "127.0.0.1")).unwrap();
//! client.end_with("hello");
//! tokio::spawn(async move { while client.next_event().await.is_some() {} });
//! let Some(ServerEvent::Connection(mut conn)) = server.next_event().await else { panic!() };
//! let mut got = Vec::new();
//! while let Some(ev) = conn.next_event().await {
//!     if let SocketEvent::Data(d) = ev { got.extend_from_slice(&d); }
//! }
//! assert_eq!(got, b"hello");
//! # });
//! ```
//!
//! # From `tokio::net`
//!
//! `TcpListener::bind(addr).await?` is [`create_server`],
//! `listen(ListenOptions::tcp_addr(addr))?` and
//! [`listened().await?`](nodenet::Server::listened); `accept()` is the
//! `ServerEvent::Connection` that `next_event()` returns;
//! `TcpStream::connect(addr).await?` is [`connect`]`(ConnectOptions::tcp_addr(addr))?` and
//! [`connected().await?`](nodenet::Socket::connected). A [`Socket`] is tokio's
//! `AsyncRead + AsyncWrite` (`tokio::io::copy`, `BufReader`, codecs, `into_split`), with
//! `peer_addr`/`local_addr`. Sockets and servers need a tokio runtime with IO and timers
//! (`#[tokio::main]`) around whatever polls them; `docs/coming-from-tokio.md` in the
//! repository has the full table and what behaves differently.
//!
//! # Outside a Tokio runtime
//!
//! Sockets and servers may be created anywhere, but they register with tokio's reactor
//! when first polled, so they must be polled inside a runtime (`#[tokio::main]`,
//! `Runtime::block_on`, `tokio::spawn`). Polled elsewhere (another executor's
//! `block_on`, a plain thread), nothing panics: a connecting socket gets Node's
//! `ERR_INVALID_STATE` as its error (then `Close`), and a server, after `Listening`,
//! gets it as a `ServerEvent::Error` and accepts nothing. (A socket registered inside
//! a runtime keeps working when polled elsewhere while that runtime lives, except for
//! its timers: a `set_timeout` started outside a runtime never fires.) On another
//! executor use
//! `nodenet-smol`, whose reactor runs anywhere.
//!
//! ```
//! use nodenet_tokio::{connect, ConnectOptions, ErrorCode};
//!
//! let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
//! let port = listener.local_addr()?.port();
//! let mut socket = connect(ConnectOptions::tcp(port, "127.0.0.1"))?;
//! // No tokio runtime around this poll:
//! let err = futures_lite::future::block_on(socket.connected()).unwrap_err();
//! assert_eq!(err.code(), ErrorCode::ERR_INVALID_STATE);
//! assert!(err.to_string().starts_with(
//!     "Error [ERR_INVALID_STATE]: Invalid state: nodenet-tokio sockets and servers must \
//!      be driven inside a Tokio 1.x runtime"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

// One `unsafe` call, in the read path (`runtime::recv_into`: the length of a buffer the
// kernel just filled), allowed there alone.
#![deny(unsafe_code)]
#![warn(missing_docs)]

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
pub use runtime::{TokioListener, TokioRuntime, TokioStream};

/// Node's `net.Socket` on tokio: [`nodenet::Socket`] on [`TokioRuntime`].
pub type Socket = nodenet::Socket<TokioRuntime>;

/// Node's `net.Server` on tokio: [`nodenet::Server`] on [`TokioRuntime`].
pub type Server = nodenet::Server<TokioRuntime>;

/// A server event, with each accepted connection as a [`Socket`].
pub type ServerEvent = nodenet::ServerEvent<TokioRuntime>;

/// The read half of a [`Socket`] split with [`into_split`](nodenet::Socket::into_split).
pub type ReadHalf = nodenet::ReadHalf<TokioRuntime>;

/// The write half of a [`Socket`] split with [`into_split`](nodenet::Socket::into_split).
pub type WriteHalf = nodenet::WriteHalf<TokioRuntime>;

/// [`ReadHalf::reunite`](nodenet::ReadHalf::reunite) was given halves of different
/// sockets (both are in it: `.0` and `.1`).
pub type ReuniteError = nodenet::ReuniteError<TokioRuntime>;

/// `net.connect(options)` / `net.createConnection(options)`: a new [`Socket`], already
/// connecting (the connection makes progress once the socket is polled). Node's
/// validation errors are returned as it throws them.
///
/// A refused connection, or one to a name that does not resolve, is not an `Err` here:
/// it arrives as [`SocketEvent::Error`] (then `Close`), or from `connected()`.
///
/// Unlike tokio's `TcpStream::connect`, nothing happens until the socket is driven: an
/// `.await` on it (`connected()`, `next_event()`, a read) or a task of its own
/// (`tokio::spawn`). A client kept but not driven while the same task waits for its
/// server to accept it waits forever.
///
/// ```
/// use nodenet_tokio::{connect, ConnectOptions, ErrorCode};
///
/// let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
/// let port = listener.local_addr()?.port();
/// # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
/// let mut socket = connect(ConnectOptions::tcp(port, "127.0.0.1"))?;
/// socket.connected().await?; // Node's 'connect'
/// assert_eq!(socket.remote_port(), Some(port));
///
/// drop(listener); // nobody listens any more
/// let mut refused = connect(ConnectOptions::tcp(port, "127.0.0.1"))?;
/// let e = refused.connected().await.unwrap_err();
/// assert_eq!(e.code(), ErrorCode::ECONNREFUSED);
/// assert_eq!(e.to_string(), format!("Error: connect ECONNREFUSED 127.0.0.1:{port}"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn connect(options: ConnectOptions) -> Result<Socket> {
    let mut socket = Socket::new(SocketOptions::default());
    socket.connect(options)?;
    Ok(socket)
}

/// `net.createConnection(options)`: the same as [`connect`].
pub fn create_connection(options: ConnectOptions) -> Result<Socket> {
    connect(options)
}

/// `net.createServer(options)`: a [`Server`]; call [`Server::listen`], then take its
/// events: `Listening`, a `Connection` per accepted socket, `Close` after `close()`.
///
/// ```
/// use std::io::Write;
/// use nodenet_tokio::{create_server, ListenOptions, ServerEvent, ServerOptions, SocketEvent};
///
/// # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
/// let mut server = create_server(ServerOptions::default());
/// server.listen(ListenOptions::port(0).host("127.0.0.1"))?;
/// assert!(matches!(server.next_event().await, Some(ServerEvent::Listening)));
/// let port = server.local_addr()?.port();
///
/// std::net::TcpStream::connect(("127.0.0.1", port))?.write_all(b"hello")?; // then closed
/// let Some(ServerEvent::Connection(mut socket)) = server.next_event().await else { panic!() };
/// let mut got = Vec::new();
/// while let Some(event) = socket.next_event().await {
///     if let SocketEvent::Data(chunk) = event {
///         got.extend_from_slice(&chunk);
///     }
/// }
/// assert_eq!(got, b"hello");
///
/// server.close();
/// assert!(matches!(server.next_event().await, Some(ServerEvent::Close)));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn create_server(options: ServerOptions) -> Server {
    Server::new(options)
}
