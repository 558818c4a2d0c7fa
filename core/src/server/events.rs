//! What a [`Server`](super::Server) hands out: the IO commands its backend performs
//! ([`ServerCommand`]), the events its user sees ([`ServerEvent`]), and the ids and small
//! records those carry.

use std::net::SocketAddr;

use crate::address::Family;
use crate::dns::LookupOptions;
use crate::error::Error;
use crate::options::{Endpoint, SocketOptions};

/// Identifies one listening handle (one `Listen` command). A late answer for a listener the
/// server gave up on (closed while binding, replaced by the `0.0.0.0` fallback) is
/// recognised by its id and ignored.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ListenerId(pub u64);

/// Identifies one host lookup (`Resolve` command) of `listen({host})`. A second `listen()`
/// or a `close()` while the lookup is pending makes its answer stale, as Node's
/// `_listeningId` does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ResolveId(pub u64);

/// Identifies one accepted connection, from [`Server::handle_accepted`] until
/// [`Server::handle_connection_closed`] (or its `Reject`).
///
/// [`Server::handle_accepted`]: super::Server::handle_accepted
/// [`Server::handle_connection_closed`]: super::Server::handle_connection_closed
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConnectionId(pub u64);

/// Which syscall of a `Listen` command failed, so the core can apply libuv's and Node's
/// rules (fall back to `0.0.0.0` only after a failed `bind` of `::`; libuv defers a bind's
/// `EADDRINUSE` to `listen`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ListenStage {
    /// Creating the socket or `bind(2)`.
    Bind,
    /// `listen(2)`.
    Listen,
    /// `fchmod` of a Unix socket for `readable_all` / `writable_all` (`uv_pipe_chmod`).
    Chmod,
}

/// An IO request for the backend, drained with [`Server::poll_command`].
///
/// [`Server::poll_command`]: super::Server::poll_command
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ServerCommand {
    /// Resolve `host` (Node: `dns.lookup(host)`), then answer with
    /// [`Server::handle_resolved`](super::Server::handle_resolved).
    Resolve {
        /// Echo this in the answer.
        id: ResolveId,
        /// The `host` option, as given.
        host: String,
        /// `dns.lookup`'s options ([`LookupOptions::for_listen`]: Node's `listen` asks for
        /// any family and the first address).
        options: LookupOptions,
    },
    /// Create a listening handle: socket, `bind(endpoint)`, then `listen(backlog)`; for
    /// pipes also `fchmod` when `readable_all`/`writable_all`. Answer with
    /// [`Server::handle_listening`](super::Server::handle_listening) or
    /// [`Server::handle_listen_failed`](super::Server::handle_listen_failed), then accept
    /// connections on it until `CloseListener`, reporting each with
    /// [`Server::handle_accepted`](super::Server::handle_accepted).
    Listen {
        /// Echo this in the answer and in every accept report.
        id: ListenerId,
        /// `[::]:port`, `0.0.0.0:port` (the fallback), the resolved host, or a pipe path
        /// (a leading `\0` is a Linux abstract name).
        endpoint: Endpoint,
        /// The `listen(2)` backlog (`backlog || 511`).
        backlog: u32,
        /// Set IPV6_V6ONLY (only ever true for IPv6 endpoints).
        ipv6_only: bool,
        /// Node's `exclusive` (cluster handle sharing); has no effect without cluster.
        exclusive: bool,
        /// Pipes: add `0o444` to the socket file's mode.
        readable_all: bool,
        /// Pipes: add `0o222` to the socket file's mode.
        writable_all: bool,
        /// TCP: set `SO_REUSEPORT` before binding (Node's `reusePort`), so several
        /// listeners share the port and the kernel spreads connections over them; where
        /// the OS has no such option the bind fails with `ENOTSUP`, as libuv's does.
        reuse_port: bool,
    },
    /// Close the accepted connection `id` at once (dropped by `max_connections` or blocked
    /// by the block list). No answer.
    Reject {
        /// The connection from `handle_accepted`.
        id: ConnectionId,
    },
    /// Stop accepting and close listener `id`. Only sent for a listener the backend reported
    /// as listening. No answer.
    CloseListener {
        /// The listener from `Listen`.
        id: ListenerId,
    },
    /// Remove the Unix socket file at `path` (libuv unlinks a pipe server's path when its
    /// handle closes). Follows the `CloseListener` of a non-abstract pipe listener; a
    /// failure is ignored, as libuv does.
    Unlink {
        /// The path given to `listen`.
        path: String,
    },
    /// Stop calling `accept` on listener `id` (an accept error: see
    /// [`Server::handle_accept_error`](super::Server::handle_accept_error)); connections
    /// stay queued in the kernel's backlog. No answer.
    PauseAccept {
        /// The paused listener.
        id: ListenerId,
    },
    /// Call `accept` on listener `id` again after a `PauseAccept` (and report an empty
    /// queue with [`Server::handle_accept_empty`](super::Server::handle_accept_empty)).
    /// No answer.
    ResumeAccept {
        /// The listener.
        id: ListenerId,
    },
    /// `shutdown`: `end()` every accepted connection that is still open (each reports its
    /// close with [`Server::handle_connection_closed`](super::Server::handle_connection_closed)
    /// as usual). No answer.
    EndConnections,
    /// `shutdown`'s deadline passed: `destroy()` every accepted connection still open.
    /// No answer.
    DestroyConnections,
}

/// Node's `drop` event data: the endpoints of a connection refused because of
/// `max_connections` (`{localAddress, localPort, localFamily, remoteAddress, remotePort,
/// remoteFamily}`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DropInfo {
    /// `localAddress` (`"127.0.0.1"`, `"::ffff:127.0.0.1"`).
    pub local_address: String,
    /// `localPort`.
    pub local_port: u16,
    /// `localFamily`.
    pub local_family: Family,
    /// `remoteAddress`.
    pub remote_address: String,
    /// `remotePort`.
    pub remote_port: u16,
    /// `remoteFamily`.
    pub remote_family: Family,
}

impl DropInfo {
    /// The data for a TCP connection; `None` for pipes, where Node emits `drop()` with no
    /// argument.
    pub fn from_endpoints(local: &Endpoint, remote: &Endpoint) -> Option<DropInfo> {
        match (local, remote) {
            (Endpoint::Tcp(l), Endpoint::Tcp(r)) => Some(DropInfo {
                local_address: l.ip().to_string(),
                local_port: l.port(),
                local_family: family_of(l),
                remote_address: r.ip().to_string(),
                remote_port: r.port(),
                remote_family: family_of(r),
            }),
            _ => None,
        }
    }
}

pub(crate) fn family_of(addr: &SocketAddr) -> Family {
    match addr {
        SocketAddr::V4(_) => Family::IPv4,
        SocketAddr::V6(_) => Family::IPv6,
    }
}

/// An accepted and admitted connection: everything needed to build the server-side
/// socket (`Socket::accepted(&options, local, remote, now)`). The driver reports its end
/// with [`Server::handle_connection_closed`](super::Server::handle_connection_closed).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AcceptedConnection {
    /// The connection's id (the backend holds the OS socket under it).
    pub id: ConnectionId,
    /// Local endpoint (`getsockname`).
    pub local: Endpoint,
    /// Remote endpoint (`getpeername`).
    pub remote: Endpoint,
    /// The server's socket options (`allowHalfOpen`, `pauseOnConnect`, `noDelay`,
    /// `keepAlive`, `keepAliveInitialDelay`, `highWaterMark`).
    pub options: SocketOptions,
}

/// A user-visible server event, drained with [`Server::poll_event`](super::Server::poll_event),
/// in Node's order.
///
/// `C` is what a `'connection'` carries: the core hands out the [`AcceptedConnection`]
/// to wrap; the runtime-generic `nodenet::Server` hands out the wrapped socket (the
/// same enum, mapped with [`map_connection`](Self::map_connection)).
///
/// ```
/// use std::time::Instant;
/// use nodenet_core::options::Endpoint;
/// use nodenet_core::server::{ListenOptions, Server, ServerCommand, ServerEvent, ServerOptions};
///
/// let now = Instant::now();
/// let mut server = Server::new(ServerOptions::default());
/// server.set_max_connections(Some(1)); // `server.maxConnections = 1`
/// server.listen(ListenOptions::port(4000), now).unwrap(); // no host: bound at once
/// let local = Endpoint::Tcp("[::]:4000".parse().unwrap());
/// // A fake backend: bind at once, and two peers arrive; the second is over the maximum.
/// // Events come on Node's ticks (`handle_timeout`), so run until nothing is left.
/// let mut events = Vec::new();
/// loop {
///     server.handle_timeout(now);
///     let mut idle = true;
///     while let Some(cmd) = server.poll_command() {
///         idle = false;
///         if let ServerCommand::Listen { id, .. } = cmd {
///             server.handle_listening(id, local.clone(), now);
///             for port in [50000, 50001] {
///                 let remote = Endpoint::Tcp(format!("[::1]:{port}").parse().unwrap());
///                 server.handle_accepted(id, local.clone(), remote, now);
///             }
///         }
///     }
///     while let Some(event) = server.poll_event() {
///         idle = false;
///         events.push(event);
///     }
///     if idle {
///         break;
///     }
/// }
/// assert!(matches!(events[0], ServerEvent::Listening));
/// assert!(matches!(events[1], ServerEvent::Connection(_)));
/// let ServerEvent::Drop(Some(info)) = &events[2] else { panic!("{events:?}") };
/// assert_eq!((info.remote_address.as_str(), info.remote_port), ("::1", 50001));
/// assert_eq!(events.len(), 3);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ServerEvent<C = AcceptedConnection> {
    /// `'listening'`: the server is bound and listening. Suppressed when `close()` is called
    /// before it was drained (Node emits it on next tick only if the handle still exists).
    Listening,
    /// `'connection'`: a new connection to wrap in a socket.
    Connection(C),
    /// `'drop'`: a connection refused because `max_connections` was reached. `None` for
    /// pipe connections (Node's `drop()` without data).
    Drop(Option<DropInfo>),
    /// Beyond Node: a connection from a peer the server's `block_list` blocks was closed
    /// (Node closes it silently).
    Blocked {
        /// The rejected connection.
        id: ConnectionId,
        /// The blocked peer.
        remote: Endpoint,
    },
    /// `'error'`: a listen failure (`listen EADDRINUSE: ...`), a lookup failure, or an
    /// accept failure (`accept EMFILE`). Listen failures leave the server not listening
    /// and ready for another `listen()`.
    Error(Error),
    /// `'close'`: the server is closed and has no connection left. Emitted once per
    /// `close()` call made while drained (and once when the last connection ends after a
    /// `close()`), exactly as Node does.
    Close,
}

impl<C> ServerEvent<C> {
    /// The same event with the connection (if any) turned into `f(connection)`.
    pub fn map_connection<T>(self, f: impl FnOnce(C) -> T) -> ServerEvent<T> {
        match self {
            ServerEvent::Listening => ServerEvent::Listening,
            ServerEvent::Connection(c) => ServerEvent::Connection(f(c)),
            ServerEvent::Drop(d) => ServerEvent::Drop(d),
            ServerEvent::Blocked { id, remote } => ServerEvent::Blocked { id, remote },
            ServerEvent::Error(e) => ServerEvent::Error(e),
            ServerEvent::Close => ServerEvent::Close,
        }
    }
}
