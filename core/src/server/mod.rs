//! The server state machine (`net.Server`, §6 and the server half of §10): `listen` with
//! Node's overloads and validation, the `::` → `0.0.0.0` fallback, host lookups, accepting
//! with `max_connections` and the block list, the connection count, and `close` with Node's
//! once-per-call `close` events. It owns no sockets: an admitted connection leaves as a
//! [`ServerEvent::Connection`] carrying what the socket needs, and the driver reports its
//! end with [`Server::handle_connection_closed`].
//!
//! # Driving contract
//!
//! Like every nodenet core type the server does no IO and reads no clock:
//!
//! 1. **User commands** are methods: [`Server::listen`], [`Server::close`],
//!    [`Server::set_max_connections`], [`Server::abort`] (the `signal` of `listen`
//!    fired), [`Server::async_dispose`] (`server[Symbol.asyncDispose]()`), and beyond
//!    Node [`Server::shutdown`]. They return synchronous errors (what Node throws) and
//!    queue commands and events.
//! 2. **Commands** for the backend are drained with [`Server::poll_command`] until it
//!    returns `None`, after every input:
//!    * [`ServerCommand::Resolve`] → look the host up with its options (an IP literal and
//!      getaddrinfo's answer are handled by [`dns_lookup`](crate::dns::dns_lookup)),
//!      answer [`Server::handle_resolved`];
//!    * [`ServerCommand::Listen`] → socket + bind + listen (+ chmod for pipes), answer
//!      [`Server::handle_listening`] with the bound endpoint or
//!      [`Server::handle_listen_failed`] with the failing [`ListenStage`] and its code (and
//!      discard the handle); once listening, accept in a loop and report each connection
//!      with [`Server::handle_accepted`] (which returns its [`ConnectionId`]), each accept
//!      error with [`Server::handle_accept_error`], and an empty queue with
//!      [`Server::handle_accept_empty`];
//!    * [`ServerCommand::PauseAccept`] / [`ServerCommand::ResumeAccept`] → stop / start
//!      calling `accept` on that listener (after an accept error; connections stay
//!      queued in the kernel);
//!    * [`ServerCommand::Reject`] → close that accepted OS socket;
//!    * [`ServerCommand::CloseListener`] → stop accepting and close the listener;
//!    * [`ServerCommand::Unlink`] → remove the socket file (errors ignored);
//!    * [`ServerCommand::EndConnections`] / [`ServerCommand::DestroyConnections`] →
//!      `end()` / `destroy()` every accepted socket still open (`shutdown`).
//! 3. **Events** for the user are drained with [`Server::poll_event`] after the commands.
//!    A [`ServerEvent::Connection`] is turned into a socket
//!    (`Socket::accepted(&c.options, c.local, c.remote, now)`); when that socket is
//!    destroyed the driver calls [`Server::handle_connection_closed`] with its id, which
//!    lowers [`Server::connections`] and may produce the pending [`ServerEvent::Close`].
//!
//! Every answer carries the id of the command it answers; answers for a lookup or a
//! listener the server gave up on are ignored (a listener that turns up listening anyway
//! gets a `CloseListener`).
//!
//! 4. **Timers**: after every input, arm a timer for [`Server::poll_timeout`] and call
//!    [`Server::handle_timeout`] when it fires (the end of an accept pause, the shutdown
//!    deadline).
//!
//! Node's "next tick" emissions map onto the event queue: an
//! event is queued when Node would schedule it and can still be withdrawn the way Node's
//! tick callback would skip it (`close()` before `Listening` was drained suppresses it).
//! A lookup's answer takes effect at the next [`Server::poll_event`] (Node binds in the
//! lookup callback, never inside `listen()`), even when the backend answers at once, as
//! it may for an IP literal: until then `listening` is false, `address()` is `None` and
//! another `listen()` replaces the lookup, as in Node v20.
//!
//! Differences forced by Sans-IO: [`Server::listening`] and [`Server::address`] become
//! true/known when the backend reports the bind (Node binds inside `listen()`), so a
//! backend that performs `Listen` inside its drain loop gives Node's synchronous view.
//!
//! ```
//! use std::net::SocketAddr;
//! use std::time::Instant;
//! use nodenet_core::options::Endpoint;
//! use nodenet_core::server::{ListenOptions, Server, ServerCommand, ServerEvent, ServerOptions};
//!
//! let now = Instant::now();
//! let mut server = Server::new(ServerOptions::default());
//! server.listen(ListenOptions::port(0), now).unwrap();
//! // A fake backend: bind everything on port 4000, accept one peer.
//! while let Some(cmd) = server.poll_command() {
//!     if let ServerCommand::Listen { id, endpoint: Endpoint::Tcp(addr), .. } = cmd {
//!         let bound = SocketAddr::new(addr.ip(), 4000);
//!         server.handle_listening(id, Endpoint::Tcp(bound), now);
//!         let local = Endpoint::Tcp("[::ffff:127.0.0.1]:4000".parse().unwrap());
//!         let remote = Endpoint::Tcp("[::ffff:127.0.0.1]:50000".parse().unwrap());
//!         server.handle_accepted(id, local, remote, now);
//!     }
//! }
//! assert_eq!(server.poll_event(), Some(ServerEvent::Listening));
//! let Some(ServerEvent::Connection(conn)) = server.poll_event() else { panic!() };
//! assert_eq!(server.connections(), 1);
//!
//! server.close(now).unwrap(); // stops accepting at once...
//! assert!(matches!(server.poll_command(), Some(ServerCommand::CloseListener { .. })));
//! assert_eq!(server.poll_event(), None); // ...but waits for the connection
//! server.handle_connection_closed(conn.id, now);
//! assert_eq!(server.poll_event(), Some(ServerEvent::Close));
//! ```

mod abort;
mod accept;
mod backoff;
mod binding;
mod events;
mod id_hash;
mod listen;
mod shutdown;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use crate::block_list::BlockList;
use crate::dns::LookupOptions;
use crate::error::{Error, Result};
use crate::options::{Endpoint, SocketOptions};
use crate::socket::inline_deque::InlineDeque;

pub use backoff::{ACCEPT_RETRY_FIRST, ACCEPT_RETRY_MAX};
pub use events::{
    AcceptedConnection, ConnectionId, DropInfo, ListenStage, ListenerId, ResolveId, ServerCommand,
    ServerEvent,
};
pub use listen::ListenOptions;

use backoff::AcceptBackoff;
use shutdown::Shutdown;

use id_hash::ConnectionSet;
use listen::{is_abstract_path, validate_listen, ListenRequest, ListenTarget};

/// `net.createServer(options)`'s options: the options every accepted socket gets, and the
/// server's `blockList` (Node v22.13).
///
/// ```
/// use nodenet_core::options::SocketOptions;
/// use nodenet_core::server::ServerOptions;
/// let o = ServerOptions::new(SocketOptions { allow_half_open: true, ..Default::default() });
/// assert!(o.socket.allow_half_open);
/// assert!(o.block_list.is_none());
/// ```
#[derive(Clone, Debug, Default)]
pub struct ServerOptions {
    /// `allowHalfOpen`, `pauseOnConnect`, `noDelay`, `keepAlive`, `keepAliveInitialDelay`,
    /// `highWaterMark`, handed to every accepted connection.
    pub socket: SocketOptions,
    /// `blockList`: connections from a blocked peer are closed at once.
    pub block_list: Option<Arc<BlockList>>,
}

impl ServerOptions {
    /// Options with the given socket options and no block list.
    pub fn new(socket: SocketOptions) -> ServerOptions {
        ServerOptions {
            socket,
            block_list: None,
        }
    }
    /// Set `blockList`.
    pub fn block_list(mut self, list: Arc<BlockList>) -> ServerOptions {
        self.block_list = Some(list);
        self
    }
    /// Set `allowHalfOpen` for every accepted connection (Node's
    /// `net.createServer({ allowHalfOpen: true })`).
    ///
    /// ```
    /// use nodenet_core::server::ServerOptions;
    /// let o = ServerOptions::default().allow_half_open(true).pause_on_connect(true);
    /// assert!(o.socket.allow_half_open && o.socket.pause_on_connect);
    /// ```
    pub fn allow_half_open(mut self, on: bool) -> ServerOptions {
        self.socket.allow_half_open = on;
        self
    }
    /// Set `pauseOnConnect`: accepted connections start paused.
    pub fn pause_on_connect(mut self, on: bool) -> ServerOptions {
        self.socket.pause_on_connect = on;
        self
    }
    /// Set `noDelay` (`TCP_NODELAY`) for every accepted connection.
    pub fn no_delay(mut self, on: bool) -> ServerOptions {
        self.socket.no_delay = on;
        self
    }
    /// Set `keepAlive` and `keepAliveInitialDelay` (milliseconds, as Node takes it) for
    /// every accepted connection.
    pub fn keep_alive(mut self, on: bool, initial_delay_ms: f64) -> ServerOptions {
        self.socket.keep_alive = on;
        self.socket = self.socket.keep_alive_initial_delay_ms(initial_delay_ms);
        self
    }
    /// Set `highWaterMark` as the server constructor does (a negative value means the
    /// default; see [`SocketOptions::high_water_mark_signed`]).
    pub fn high_water_mark(mut self, hwm: i64) -> ServerOptions {
        self.socket = self.socket.high_water_mark_signed(hwm);
        self
    }
}

/// `net.createServer(options)`.
///
/// ```
/// use nodenet_core::server::{create_server, ServerOptions};
/// let server = create_server(ServerOptions::default());
/// assert!(!server.listening());
/// assert_eq!(server.address(), None);
/// ```
pub fn create_server(options: ServerOptions) -> Server {
    Server::new(options)
}

/// Where the listening handle is.
#[derive(Clone, Debug)]
enum State {
    /// No handle (`listening` false).
    Idle,
    /// `listen({host})` waits for its lookup (no handle yet, as in Node); `answer` is the
    /// lookup's result once the backend gave it, applied at the next `poll_event`.
    Resolving {
        id: ResolveId,
        port: u16,
        request: ListenRequest,
        answer: Option<Result<Vec<crate::options::LookupAddress>>>,
    },
    /// A `Listen` command is out (Node already has its handle here).
    Binding {
        id: ListenerId,
        /// The address Node names in errors (`::`, `0.0.0.0`, the host's IP, the path).
        address: String,
        port: u16,
        /// Binding `::` for a host-less listen: a bind failure retries on `0.0.0.0`.
        may_fall_back: bool,
        request: ListenRequest,
    },
    /// Listening on `local`.
    Listening {
        id: ListenerId,
        local: Endpoint,
        request: ListenRequest,
    },
}

/// Node's `net.Server` as a Sans-IO state machine; see the [module docs](self) for the
/// driving contract.
#[derive(Debug)]
pub struct Server {
    options: ServerOptions,
    max_connections: Option<u32>,
    state: State,
    /// Node's `_pipeName`: returned by `address()` whenever there is no TCP handle.
    pipe_name: Option<String>,
    connections: ConnectionSet,
    /// Listeners given up while their `Listen` was out: if one turns up listening it is
    /// closed (and its file unlinked).
    abandoned: HashMap<ListenerId, Option<String>>,
    next_id: u64,
    /// A `listen()` was made since the last `Close`: its `signal` closes the server.
    signal_armed: bool,
    /// Inline first items, as the socket's queues: a server usually holds one command
    /// or one event at a time (and the first of each was an allocation per server).
    commands: InlineDeque<ServerCommand>,
    events: InlineDeque<ServerEvent>,
    /// Accept errors: one report per burst, paused retries.
    backoff: AcceptBackoff,
    /// `shutdown(deadline)` in progress.
    shutdown: Option<Shutdown>,
}

impl Server {
    /// `net.createServer(options)`: not listening, no connections, `max_connections`
    /// unset.
    pub fn new(options: ServerOptions) -> Server {
        Server {
            options,
            max_connections: None,
            state: State::Idle,
            pipe_name: None,
            connections: ConnectionSet::default(),
            abandoned: HashMap::new(),
            next_id: 1,
            signal_armed: false,
            commands: InlineDeque::default(),
            events: InlineDeque::default(),
            backoff: AcceptBackoff::default(),
            shutdown: None,
        }
    }

    /// `server.listen(options)`. Throws (returns `Err`) as Node does:
    /// `ERR_SERVER_ALREADY_LISTEN` when a listener exists or is being bound (a pending host
    /// lookup does not count: a second `listen` replaces it), `ERR_SOCKET_BAD_PORT`
    /// (`options.port should be >= 0 and < 65536. ...`), `ERR_INVALID_ARG_VALUE` for a path
    /// that is not a pipe name or `readable_all`/`writable_all` on an abstract path.
    ///
    /// Queues `Resolve` (a host was given) or `Listen`. The result arrives as
    /// [`ServerEvent::Listening`] or [`ServerEvent::Error`]; after an error `listen` may be
    /// called again.
    pub fn listen(&mut self, options: ListenOptions, _now: Instant) -> Result<()> {
        if matches!(self.state, State::Binding { .. } | State::Listening { .. }) {
            return Err(Error::server_already_listen());
        }
        // Node attaches the `signal` before it validates the options.
        self.signal_armed = true;
        let request = validate_listen(&options)?;
        // A new lifecycle after a completed shutdown; one still ending its connections
        // keeps its deadline.
        if self
            .shutdown
            .is_some_and(|s| s.is_done() || self.connections.is_empty())
        {
            self.shutdown = None;
        }
        // A pending lookup is superseded (Node bumps `_listeningId`).
        self.cancel_pending_resolve();
        match request.target.clone() {
            ListenTarget::Tcp {
                port,
                host: Some(host),
            } => {
                let id = ResolveId(self.fresh_id());
                self.commands.push_back(ServerCommand::Resolve {
                    id,
                    host,
                    options: LookupOptions::for_listen(),
                });
                self.state = State::Resolving {
                    id,
                    port,
                    request,
                    answer: None,
                };
            }
            ListenTarget::Tcp { port, host: None } => {
                let ip = std::net::Ipv6Addr::UNSPECIFIED.into();
                self.start_listen(
                    Endpoint::Tcp(std::net::SocketAddr::new(ip, port)),
                    "::".to_string(),
                    port,
                    true,
                    request,
                );
            }
            ListenTarget::Pipe { path } => {
                self.pipe_name = Some(path.clone());
                self.start_listen(Endpoint::Pipe(path.clone()), path, 0, false, request);
            }
        }
        Ok(())
    }

    /// `server.close()`: stop accepting at once (`CloseListener`, plus `Unlink` for a pipe
    /// file), and queue [`ServerEvent::Close`] now if no connection is left, otherwise when
    /// the last one is reported closed. A `Listening` event not yet drained is withdrawn.
    ///
    /// Returns what Node passes to the close callback: `Err(ERR_SERVER_NOT_RUNNING)` when
    /// there was no listener (the `Close` event is still queued), `Ok(())` otherwise.
    pub fn close(&mut self, _now: Instant) -> Result<()> {
        let had_handle = matches!(self.state, State::Binding { .. } | State::Listening { .. });
        self.backoff.reset();
        match std::mem::replace(&mut self.state, State::Idle) {
            State::Idle => {}
            State::Resolving { id, .. } => {
                self.commands
                    .retain(|c| !matches!(c, ServerCommand::Resolve { id: r, .. } if *r == id));
            }
            State::Binding { id, request, .. } => {
                let queued = self
                    .commands
                    .iter()
                    .any(|c| matches!(c, ServerCommand::Listen { id: l, .. } if *l == id));
                if queued {
                    self.commands
                        .retain(|c| !matches!(c, ServerCommand::Listen { id: l, .. } if *l == id));
                } else {
                    self.abandoned.insert(id, unlink_path(&request));
                }
            }
            State::Listening { id, request, .. } => {
                self.close_listener(id, unlink_path(&request));
                self.events.retain(|e| !matches!(e, ServerEvent::Listening));
            }
        }
        self.emit_close_if_drained();
        if had_handle {
            Ok(())
        } else {
            Err(Error::server_not_running())
        }
    }

    /// `server.maxConnections = n` (`None` = unset = unlimited). Follows Node v21+: `0`
    /// drops every connection.
    pub fn set_max_connections(&mut self, max: Option<u32>) {
        self.max_connections = max;
    }

    /// `server.maxConnections`.
    pub fn max_connections(&self) -> Option<u32> {
        self.max_connections
    }

    /// `server.listening`: a listener is bound and listening.
    pub fn listening(&self) -> bool {
        matches!(self.state, State::Listening { .. })
    }

    /// `server.address()`: the bound TCP address while listening; for IPC the path given
    /// to `listen` (also after `close()` and after a failed listen, as Node returns its
    /// stored pipe name); `None` otherwise.
    pub fn address(&self) -> Option<Endpoint> {
        match &self.state {
            State::Listening {
                local: Endpoint::Tcp(addr),
                ..
            } => Some(Endpoint::Tcp(*addr)),
            State::Binding {
                request:
                    ListenRequest {
                        target: ListenTarget::Tcp { .. },
                        ..
                    },
                ..
            } => None,
            _ => self.pipe_name.clone().map(Endpoint::Pipe),
        }
    }

    /// `getConnections()`: accepted connections not yet reported closed.
    pub fn connections(&self) -> usize {
        self.connections.len()
    }

    /// The options accepted sockets are created with.
    pub fn socket_options(&self) -> &SocketOptions {
        &self.options.socket
    }

    /// The next IO command for the backend, in order.
    #[must_use = "a command taken and ignored is never performed"]
    pub fn poll_command(&mut self) -> Option<ServerCommand> {
        self.commands.pop_front()
    }

    /// Whether [`poll_command`](Server::poll_command) has something (for instance after
    /// [`poll_event`](Server::poll_event) applied a lookup answer).
    pub fn has_commands(&self) -> bool {
        !self.commands.is_empty()
    }

    /// The next event for the user, in Node's order. Applies a lookup answer that
    /// arrived since (Node's lookup callback): that may queue a `Listen` command and no
    /// event yet, so drain commands again after `None`.
    #[must_use = "an event taken and ignored is lost"]
    pub fn poll_event(&mut self) -> Option<ServerEvent> {
        if self.events.is_empty() {
            self.apply_resolved();
        }
        self.events.pop_front()
    }

    // ---- internals shared by the submodules ------------------------------------------

    fn fresh_id(&mut self) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    fn cancel_pending_resolve(&mut self) {
        if let State::Resolving { id, .. } = self.state {
            self.commands
                .retain(|c| !matches!(c, ServerCommand::Resolve { id: r, .. } if *r == id));
            self.state = State::Idle;
        }
    }

    /// Queue a `Listen` and wait for its answer.
    fn start_listen(
        &mut self,
        endpoint: Endpoint,
        address: String,
        port: u16,
        may_fall_back: bool,
        request: ListenRequest,
    ) {
        let id = ListenerId(self.fresh_id());
        let v6 = matches!(endpoint, Endpoint::Tcp(std::net::SocketAddr::V6(_)));
        self.commands.push_back(ServerCommand::Listen {
            id,
            endpoint,
            backlog: request.backlog,
            ipv6_only: request.ipv6_only && v6,
            exclusive: request.exclusive,
            readable_all: request.readable_all,
            writable_all: request.writable_all,
            reuse_port: request.reuse_port,
        });
        self.state = State::Binding {
            id,
            address,
            port,
            may_fall_back,
            request,
        };
    }

    fn close_listener(&mut self, id: ListenerId, unlink: Option<String>) {
        self.commands.push_back(ServerCommand::CloseListener { id });
        if let Some(path) = unlink {
            self.commands.push_back(ServerCommand::Unlink { path });
        }
    }

    /// Node's `_emitCloseIfDrained`: `close` once there is neither a handle nor a
    /// connection.
    /// Node's `server._handle` is set: bound or being bound.
    fn has_handle(&self) -> bool {
        matches!(self.state, State::Binding { .. } | State::Listening { .. })
    }

    fn emit_close_if_drained(&mut self) {
        if self.has_handle() || !self.connections.is_empty() {
            return;
        }
        self.signal_armed = false;
        self.events.push_back(ServerEvent::Close);
    }
}

/// The socket file libuv unlinks when a pipe listener's handle closes.
fn unlink_path(request: &ListenRequest) -> Option<String> {
    match &request.target {
        ListenTarget::Pipe { path } if !is_abstract_path(path) => Some(path.clone()),
        _ => None,
    }
}
