//! The OS socket behind a [`Socket`] or [`Server`], as tokio's `TcpStream` and
//! `TcpListener` show theirs: `peer_addr` / `local_addr` as [`SocketAddr`], and the file
//! descriptor lent while the socket is borrowed (an `Option`: see `Socket::as_fd`).

use std::io;
use std::net::SocketAddr;
use std::os::fd::{AsRawFd, BorrowedFd, RawFd};

use nodenet_core::Endpoint;

use crate::runtime::Runtime;
use crate::{Server, Socket};

pub(crate) fn not_connected() -> io::Error {
    io::Error::new(
        io::ErrorKind::NotConnected,
        "the socket has no connection (not connected yet: wait for `Connect`, or closed)",
    )
}

/// A server's address is asked for before `Listening`: `listen()` with a host binds only
/// after the lookup, on a later poll (Node's `address()` is `null` until then too).
fn not_listening() -> io::Error {
    io::Error::new(
        io::ErrorKind::NotConnected,
        "the server is not listening (yet: its address is known at `ServerEvent::Listening`)",
    )
}

pub(crate) fn not_tcp() -> io::Error {
    io::Error::new(
        io::ErrorKind::Unsupported,
        "a Unix domain socket has no IP address",
    )
}

impl<R: Runtime, K> Socket<R, K> {
    /// The remote address of the TCP connection (`getpeername`, like tokio's
    /// `TcpStream::peer_addr`). An error, never a panic: `NotConnected` while connecting
    /// and after close, `Unsupported` on a Unix domain socket (IPC). Node's
    /// [`remote_address`](Self::remote_address) / [`remote_port`](Self::remote_port)
    /// are the same address as Node reports it (kept by the core, no syscall).
    ///
    /// ```
    /// use nodenet_tokio::{connect, ConnectOptions};
    ///
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    /// let addr = listener.local_addr()?;
    /// let mut client = connect(ConnectOptions::tcp_addr(addr))?;
    /// assert_eq!(client.peer_addr().unwrap_err().kind(), std::io::ErrorKind::NotConnected);
    /// client.connected().await?;
    /// assert_eq!(client.peer_addr()?, addr);
    /// assert_eq!(client.local_addr()?.ip(), addr.ip());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// ```
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.driver.tcp_addr(true)
    }

    /// The local address of the TCP connection (`getsockname`, like tokio's
    /// `TcpStream::local_addr`); the errors of [`peer_addr`](Self::peer_addr).
    ///
    /// ```
    /// use nodenet_std::{connect, ConnectOptions};
    ///
    /// let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    /// let mut client = connect(ConnectOptions::tcp_addr(listener.local_addr()?))?;
    /// client.connected()?;
    /// let (_conn, peer) = listener.accept()?;
    /// assert_eq!(client.local_addr()?, peer);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.driver.tcp_addr(false)
    }

    /// The connection's OS socket, for socket options nodenet does not cover; `None`
    /// while connecting and after close. Reading or writing through it bypasses Node's
    /// rules: don't.
    ///
    /// Why an `Option` and not `AsFd`/`AsRawFd`: a Node socket has no OS socket before
    /// it connects, one per attempt while happy eyeballs races (none of them is the
    /// connection yet), and none after it closed. `AsFd` promises a descriptor for every
    /// `&self`, which would take a panic or a made-up descriptor. This is sound: the
    /// descriptor is borrowed from `&self`, and only `&mut` calls (polling, `destroy`,
    /// ...) close or replace it, so it stays open for as long as the borrow lives.
    ///
    /// ```
    /// use nodenet_std::{connect, ConnectOptions};
    ///
    /// let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    /// let mut client = connect(ConnectOptions::tcp_addr(listener.local_addr()?))?;
    /// assert!(client.as_fd().is_none()); // not polled yet: no connection
    /// client.connected()?;
    /// let fd = client.as_fd().expect("connected");
    /// let ttl = socket2::SockRef::from(&fd).ttl_v4()?;
    /// assert!(ttl > 0);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn as_fd(&self) -> Option<BorrowedFd<'_>> {
        self.driver.stream_fd()
    }

    /// The connection's raw descriptor: [`as_fd`](Self::as_fd) as a number (valid only
    /// while the socket is not polled or changed).
    pub fn as_raw_fd(&self) -> Option<RawFd> {
        self.as_fd().map(|fd| fd.as_raw_fd())
    }
}

impl<R: Runtime, K> Server<R, K> {
    /// The address the server listens on (like tokio's `TcpListener::local_addr`; Node's
    /// [`address`](Self::address) as a `SocketAddr`): `NotConnected` when it is not
    /// listening, `Unsupported` for a Unix domain socket (IPC) server.
    ///
    /// As in Node, `listen()` with a `host` (even `"127.0.0.1"`) binds once the server is
    /// polled and the name is looked up: ask after `ServerEvent::Listening` (or
    /// [`listened`](Self::listened)), not right after `listen()`.
    ///
    /// ```
    /// use nodenet_std::{create_server, ListenOptions, ServerOptions};
    ///
    /// let mut server = create_server(ServerOptions::default());
    /// assert!(server.local_addr().is_err());
    /// server.listen(ListenOptions::tcp_addr("127.0.0.1:0".parse()?))?;
    /// server.next_event(); // Listening: bound on the next tick, as in Node
    /// let addr = server.local_addr()?;
    /// assert_eq!(addr.ip().to_string(), "127.0.0.1");
    /// assert_ne!(addr.port(), 0);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        match self.address() {
            Some(Endpoint::Tcp(a)) => Ok(a),
            Some(Endpoint::Pipe(_)) => Err(not_tcp()),
            None => Err(not_listening()),
        }
    }

    /// The listening OS socket; `None` before `listen` bound it and after `close`.
    /// Accepting through it steals connections from the server: don't. Not `AsFd` for
    /// the reason [`Socket::as_fd`] gives (a server has no listener before `listen` and
    /// after `close`); lent for as long as `self` is borrowed, as there.
    ///
    /// ```
    /// use nodenet_std::{create_server, ListenOptions, ServerOptions};
    ///
    /// let mut server = create_server(ServerOptions::default());
    /// assert!(server.as_fd().is_none());
    /// server.listen(ListenOptions::tcp_addr("127.0.0.1:0".parse()?))?;
    /// server.next_event(); // Listening: bound on the next tick, as in Node
    /// let fd = server.as_fd().expect("listening");
    /// let local = socket2::SockRef::from(&fd).local_addr()?.as_socket();
    /// assert_eq!(local, Some(server.local_addr()?));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn as_fd(&self) -> Option<BorrowedFd<'_>> {
        self.driver.listener_fd()
    }

    /// The listening socket's raw descriptor: [`as_fd`](Self::as_fd) as a number.
    pub fn as_raw_fd(&self) -> Option<RawFd> {
        self.as_fd().map(|fd| fd.as_raw_fd())
    }
}
