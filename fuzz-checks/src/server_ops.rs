//! [`Server`] operation sequences for the `server_ops` fuzz target: user calls (`listen`
//! with arbitrary options, `close`, `max_connections`), a fake kernel answering `Resolve`
//! and `Listen` (also late and twice), accepting connections that become real accepted
//! [`Socket`]s driven to their `Close`, and [`run_server_ops`], which checks the
//! invariants after every step.
//!
//! Invariants: `connections()` equals the connections admitted and not reported closed;
//! `Close` only when no connection is left, never more often than `close()` (or
//! `shutdown`) was called, and never while listening; `Listening` only while listening;
//! `Drop` only when `max_connections` is reached; `Blocked` exactly for peers the block
//! list blocks; `Reject`/`CloseListener` only for ids the kernel knows; errors carry
//! Node's codes; a listen validation error leaves the server as it was; accept errors:
//! one `Error` per burst (a new code counts as a new burst), `PauseAccept` for the
//! current listener only and never twice, `ResumeAccept` only once the pause is due,
//! `accept_failures()` counts every failure but `ECONNABORTED`/`EINTR`/`EAGAIN`;
//! `shutdown`: `EndConnections` once, `DestroyConnections` only at the deadline and
//! once; a handled timer is never due again at the same instant; nothing panics.

use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use arbitrary::Arbitrary;

use nodenet_core::dns::LookupOptions;
use nodenet_core::server::{
    ConnectionId, ListenOptions, ListenStage, ListenerId, ResolveId, Server, ServerCommand,
    ServerEvent, ServerOptions,
};
use nodenet_core::socket::{Command, Socket, SocketEvent};
use nodenet_core::{BlockList, Endpoint, ErrorCode, LookupAddress, PortArg, SocketOptions};

/// How `listen` is called.
#[derive(Arbitrary, Clone, Debug)]
pub enum ListenKind {
    /// `listen(0)`.
    Any,
    /// `listen(port, 'localhost')`.
    Host(u16),
    /// `listen('/tmp/...sock')`.
    Pipe,
    /// `listen('\0abstract', {readableAll})`.
    Abstract(bool),
    /// Arbitrary numeric port.
    AnyPort(f64),
    /// Arbitrary port string, host and path.
    AnyText(Option<String>, Option<String>, Option<String>),
}

/// One step.
#[derive(Arbitrary, Clone, Debug)]
pub enum ServerOp {
    /// `server.listen(...)`.
    Listen(ListenKind, bool),
    /// `server.close()`.
    Close,
    /// `server.maxConnections = n`.
    SetMax(Option<u8>),
    /// Kernel: answer the `n`-th `Resolve` ever issued (stale ones included).
    Resolved(u8, u8),
    /// Kernel: the `n`-th `Listen` ever issued is listening (stale ones included).
    Listening(u8),
    /// Kernel: the `n`-th `Listen` failed at a stage.
    ListenFailed(u8, u8, bool),
    /// Kernel: a connection arrives on the `n`-th listener from peer `p`.
    Accept(u8, u8),
    /// Kernel: `accept` failed on the `n`-th listener (code chosen by the second byte:
    /// `EMFILE`, `ENFILE`, `ECONNABORTED`, `EINTR`).
    AcceptError(u8, u8),
    /// Kernel: `accept` on the `n`-th listener found the queue empty.
    AcceptEmpty(u8),
    /// Time passes by this many milliseconds, then the server's timer is handled.
    Advance(u16),
    /// The server's timer is handled without time passing (an early wake-up).
    EarlyTimeout,
    /// Beyond Node: `server.shutdown(now + ms)`.
    Shutdown(u16),
    /// The `n`-th live connection's socket is destroyed.
    ConnDestroy(u8),
    /// The `n`-th live connection's peer sends FIN (the socket ends itself).
    ConnPeerEnd(u8),
    /// The `n`-th live connection's peer resets.
    ConnReset(u8),
    /// Report a connection closed again, or one that never existed.
    StaleClosed(u8),
}

/// The run's configuration.
#[derive(Arbitrary, Clone, Debug)]
pub struct ServerConfig {
    /// `allowHalfOpen` for accepted sockets.
    pub allow_half_open: bool,
    /// `pauseOnConnect`.
    pub pause_on_connect: bool,
    /// Block the peers whose last octet is below this (`None`: no block list).
    pub block_below: Option<u8>,
}

/// An accepted connection: its socket and whether the kernel must answer a FIN.
struct Conn {
    id: ConnectionId,
    socket: Socket,
    shutdown_requested: bool,
    closed: bool,
}

struct Run {
    server: Server,
    now: Instant,
    block: Option<Arc<BlockList>>,
    resolves: Vec<ResolveId>,
    listens: Vec<(ListenerId, Endpoint)>,
    /// Listeners the kernel answered (listening or failed): answered once only.
    answered: HashSet<ListenerId>,
    /// Listeners the kernel reported listening: the only ones that can accept.
    accepting: Vec<(ListenerId, Endpoint)>,
    closed_listeners: HashSet<ListenerId>,
    conns: Vec<Conn>,
    admitted: HashSet<ConnectionId>,
    known_ids: HashSet<ConnectionId>,
    last_accept: Option<(ConnectionId, Endpoint)>,
    close_calls: usize,
    close_events: usize,
    trace: Vec<String>,
    /// The listener the server listens on (while `listening()`).
    current: Option<ListenerId>,
    /// The listener `PauseAccept` paused (until `ResumeAccept`).
    paused: Option<ListenerId>,
    /// The code reported for the current burst of accept errors.
    burst: Option<ErrorCode>,
    /// Accept errors that must each be reported once (drained from the events).
    accept_reports_due: usize,
    failures: u64,
    /// The earliest deadline `shutdown` was called with.
    shutdown: Option<Instant>,
    /// A `shutdown()` call is being drained.
    in_shutdown: bool,
}

fn peer(p: u8) -> Endpoint {
    if p % 4 == 3 {
        let ip = Ipv4Addr::new(10, 0, 0, p).to_ipv6_mapped();
        Endpoint::Tcp(SocketAddr::new(IpAddr::V6(ip), 50000 + u16::from(p)))
    } else if p % 4 == 2 {
        Endpoint::Tcp(SocketAddr::new(
            IpAddr::V6(Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, u16::from(p))),
            50000,
        ))
    } else {
        Endpoint::Tcp(SocketAddr::new(
            IpAddr::V4(Ipv4Addr::new(10, 0, 0, p)),
            50000 + u16::from(p),
        ))
    }
}

impl Run {
    fn fail(&self, what: &str) -> ! {
        panic!("{what}\ntrace:\n{}", self.trace.join("\n"))
    }

    fn check(&self, ok: bool, what: &str) {
        if !ok {
            self.fail(what);
        }
    }

    fn drain(&mut self) {
        // `poll_event` applies a lookup answer, which may queue a `Listen`: the server's
        // queues until both are quiet, then the connections.
        loop {
            self.drain_server();
            if !self.server.has_commands() {
                break;
            }
        }
        self.drive_connections();
        self.check(
            self.server.connections() == self.admitted.len(),
            "connections() disagrees with admitted minus closed",
        );
        self.check(
            self.accept_reports_due == 0,
            "an accept burst was not reported",
        );
        self.check(
            self.server.accept_failures() == self.failures,
            "accept_failures() disagrees with the failed accepts",
        );
    }

    fn drain_server(&mut self) {
        while let Some(cmd) = self.server.poll_command() {
            self.trace.push(format!("  cmd {cmd:?}"));
            match cmd {
                ServerCommand::Resolve { id, options, .. } => {
                    self.check(
                        options == LookupOptions::for_listen(),
                        "listen looked up with options other than dns.lookup(host)'s",
                    );
                    self.resolves.push(id);
                }
                ServerCommand::Listen { id, endpoint, .. } => {
                    let fresh = !self.listens.iter().any(|(l, _)| *l == id);
                    self.check(fresh, "Listen reuses a listener id");
                    self.listens.push((id, endpoint));
                }
                ServerCommand::Reject { id } => {
                    let last = self.last_accept.as_ref().map(|(c, _)| *c);
                    self.check(last == Some(id), "Reject of a connection not just accepted");
                    self.check(
                        !self.admitted.contains(&id),
                        "Reject of an admitted connection",
                    );
                }
                ServerCommand::CloseListener { id } => {
                    let known = self.listens.iter().any(|(l, _)| *l == id);
                    self.check(known, "CloseListener for an unknown listener");
                    let fresh = self.closed_listeners.insert(id);
                    self.check(fresh, "CloseListener twice for one listener");
                }
                ServerCommand::Unlink { path } => {
                    self.check(!path.starts_with('\0'), "Unlink of an abstract socket");
                }
                ServerCommand::PauseAccept { id } => {
                    self.check(self.paused.is_none(), "PauseAccept while paused");
                    self.check(
                        self.server.listening() && self.accepting.iter().any(|(l, _)| *l == id),
                        "PauseAccept for a listener that is not listening",
                    );
                    self.paused = Some(id);
                }
                ServerCommand::ResumeAccept { id } => {
                    self.check(self.paused == Some(id), "ResumeAccept without PauseAccept");
                    self.paused = None;
                }
                ServerCommand::EndConnections => {
                    self.check(self.in_shutdown, "EndConnections outside shutdown()");
                    for c in &mut self.conns {
                        let _ = c.socket.end(self.now);
                    }
                }
                ServerCommand::DestroyConnections => {
                    let due = self.shutdown.is_some_and(|d| d <= self.now);
                    self.check(due, "DestroyConnections before the shutdown deadline");
                    for c in &mut self.conns {
                        c.socket.destroy(None);
                    }
                }
            }
        }
        while let Some(ev) = self.server.poll_event() {
            self.trace.push(format!("  ev  {ev:?}"));
            match ev {
                ServerEvent::Listening => {
                    self.check(self.server.listening(), "Listening while not listening")
                }
                ServerEvent::Connection(c) => {
                    let fresh = self.admitted.insert(c.id);
                    self.check(fresh, "Connection twice");
                    let socket = Socket::accepted(&c.options, c.local, c.remote, self.now);
                    self.conns.push(Conn {
                        id: c.id,
                        socket,
                        shutdown_requested: false,
                        closed: false,
                    });
                }
                ServerEvent::Drop(_) => {
                    let max = self.server.max_connections().map(|m| m as usize);
                    self.check(
                        max.is_some_and(|m| self.server.connections() >= m),
                        "Drop below max_connections",
                    );
                }
                ServerEvent::Blocked { remote, .. } => {
                    self.check(self.is_blocked(&remote), "Blocked a peer not in the list");
                }
                ServerEvent::Error(e) => {
                    self.check(
                        !matches!(e.code(), ErrorCode::Unknown(_)),
                        "server Error with a non-Node code",
                    );
                    if e.syscall() == Some("accept") {
                        self.check(self.accept_reports_due > 0, "accept Error not owed");
                        self.accept_reports_due = self.accept_reports_due.saturating_sub(1);
                    }
                }
                ServerEvent::Close => {
                    self.close_events += 1;
                    self.check(self.admitted.is_empty(), "Close with connections open");
                    self.check(!self.server.listening(), "Close while listening");
                    self.check(
                        self.close_events <= self.close_calls,
                        "more Close events than close() calls",
                    );
                }
            }
        }
    }

    /// Drive accepted sockets: answer FINs, and report each `Close` to the server.
    fn drive_connections(&mut self) {
        let mut closed = Vec::new();
        for c in &mut self.conns {
            // Until both queues stay empty: a tick run by `poll_event` may close the
            // handle, and `Close` waits for that command to be taken.
            loop {
                let mut progressed = false;
                while let Some(cmd) = c.socket.poll_command() {
                    progressed = true;
                    if cmd == Command::Shutdown {
                        c.shutdown_requested = true;
                    }
                }
                if c.shutdown_requested {
                    c.shutdown_requested = false;
                    c.socket.handle_shutdown(Ok(()), self.now);
                }
                while let Some(ev) = c.socket.poll_event() {
                    progressed = true;
                    if let SocketEvent::Close { .. } = ev {
                        if c.closed {
                            panic!("accepted socket closed twice\n{}", self.trace.join("\n"));
                        }
                        c.closed = true;
                        closed.push(c.id);
                    }
                }
                if !progressed {
                    break;
                }
            }
        }
        self.conns.retain(|c| !c.closed);
        for id in closed {
            self.trace.push(format!("  closed {id:?}"));
            self.admitted.remove(&id);
            self.server.handle_connection_closed(id, self.now);
        }
        if self.server.poll_command().is_some() {
            self.fail("handle_connection_closed produced a command");
        }
        while let Some(ev) = self.server.poll_event() {
            self.trace.push(format!("  ev  {ev:?}"));
            self.check(
                ev == ServerEvent::Close,
                "unexpected event on connection close",
            );
            self.close_events += 1;
            self.check(self.admitted.is_empty(), "Close with connections open");
            self.check(
                self.close_events <= self.close_calls,
                "Close without close()",
            );
        }
    }

    fn unanswered(&self) -> Vec<(ListenerId, Endpoint)> {
        self.listens
            .iter()
            .filter(|(id, _)| !self.answered.contains(id))
            .cloned()
            .collect()
    }

    fn is_blocked(&self, remote: &Endpoint) -> bool {
        match (&self.block, remote) {
            (Some(list), Endpoint::Tcp(a)) => list.check_ip(a.ip()),
            _ => false,
        }
    }

    fn conn(&mut self, n: u8) -> Option<&mut Conn> {
        let len = self.conns.len();
        if len == 0 {
            None
        } else {
            self.conns.get_mut(usize::from(n) % len)
        }
    }

    /// Whether `id` is the listener the server is listening on (the last one reported).
    fn is_current(&self, id: ListenerId) -> bool {
        self.server.listening() && self.current == Some(id)
    }

    /// Handle the server's timer at `now`; afterwards it is not due at `now` any more.
    fn timeout(&mut self) {
        self.server.handle_timeout(self.now);
        self.check(
            self.server.poll_timeout().is_none_or(|t| t > self.now),
            "a handled timer is still due",
        );
    }

    fn apply(&mut self, op: ServerOp) {
        self.trace.push(format!("{op:?}"));
        let now = self.now;
        match op {
            ServerOp::Listen(kind, ipv6_only) => {
                let options = listen_options(kind).ipv6_only(ipv6_only);
                let was_listening = self.server.listening();
                if let Err(e) = self.server.listen(options, now) {
                    self.check(
                        matches!(
                            e.code(),
                            ErrorCode::ERR_SOCKET_BAD_PORT
                                | ErrorCode::ERR_INVALID_ARG_VALUE
                                | ErrorCode::ERR_SERVER_ALREADY_LISTEN
                        ),
                        "listen threw an unexpected code",
                    );
                    self.check(
                        self.server.listening() == was_listening,
                        "a rejected listen changed the state",
                    );
                }
            }
            ServerOp::Close => {
                self.close_calls += 1;
                self.burst = None;
                self.paused = None;
                if let Err(e) = self.server.close(now) {
                    self.check(
                        e.code() == ErrorCode::ERR_SERVER_NOT_RUNNING,
                        "close gave an unexpected code",
                    );
                }
                self.check(!self.server.listening(), "listening after close()");
            }
            ServerOp::SetMax(m) => self.server.set_max_connections(m.map(u32::from)),
            ServerOp::Resolved(n, answer) => {
                if let Some(id) = pick(&self.resolves, n) {
                    let result = match answer % 4 {
                        0 => Ok(vec![LookupAddress::new("127.0.0.1", 4)]),
                        1 => Ok(vec![LookupAddress::new("::1", 6)]),
                        2 => Ok(vec![]),
                        _ => Ok(vec![LookupAddress::new("not-an-ip", 4)]),
                    };
                    self.server.handle_resolved(id, result, now);
                }
            }
            ServerOp::Listening(n) => {
                if let Some((id, endpoint)) = pick(&self.unanswered(), n) {
                    self.answered.insert(id);
                    let local = match endpoint {
                        Endpoint::Tcp(a) => Endpoint::Tcp(SocketAddr::new(a.ip(), 4000)),
                        pipe => pipe,
                    };
                    self.accepting.push((id, local.clone()));
                    let was_listening = self.server.listening();
                    self.server.handle_listening(id, local, now);
                    if !was_listening && self.server.listening() {
                        self.current = Some(id);
                        // A new listener starts without a pause or a burst.
                        self.burst = None;
                        self.paused = None;
                    }
                }
            }
            ServerOp::ListenFailed(n, stage, in_use) => {
                if let Some((id, _)) = pick(&self.unanswered(), n) {
                    self.answered.insert(id);
                    let stage = match stage % 3 {
                        0 => ListenStage::Bind,
                        1 => ListenStage::Listen,
                        _ => ListenStage::Chmod,
                    };
                    let code = if in_use {
                        ErrorCode::EADDRINUSE
                    } else {
                        ErrorCode::EACCES
                    };
                    self.server.handle_listen_failed(id, stage, code, now);
                }
            }
            ServerOp::Accept(n, p) => {
                // Also on listeners already closed: an accept racing the close.
                if let Some((id, endpoint)) = pick(&self.accepting, n) {
                    let (local, remote) = match endpoint {
                        Endpoint::Pipe(path) => {
                            (Endpoint::Pipe(path), Endpoint::Pipe(String::new()))
                        }
                        Endpoint::Tcp(a) => (Endpoint::Tcp(SocketAddr::new(a.ip(), 4000)), peer(p)),
                    };
                    if self.is_current(id) {
                        self.burst = None;
                    }
                    let cid = self.server.handle_accepted(id, local, remote.clone(), now);
                    let fresh = self.known_ids.insert(cid);
                    self.check(fresh, "handle_accepted reused an id");
                    self.last_accept = Some((cid, remote));
                }
            }
            ServerOp::AcceptError(n, which) => {
                if let Some((id, _)) = pick(&self.accepting, n) {
                    let code = match which % 4 {
                        0 => ErrorCode::EMFILE,
                        1 => ErrorCode::ENFILE,
                        2 => ErrorCode::ECONNABORTED,
                        _ => ErrorCode::EINTR,
                    };
                    let counted = self.is_current(id)
                        && matches!(code, ErrorCode::EMFILE | ErrorCode::ENFILE);
                    if counted {
                        self.failures += 1;
                        if self.burst != Some(code) {
                            self.burst = Some(code);
                            self.accept_reports_due += 1;
                        }
                    }
                    self.server.handle_accept_error(id, code, now);
                }
            }
            ServerOp::AcceptEmpty(n) => {
                if let Some((id, _)) = pick(&self.accepting, n) {
                    if self.is_current(id) {
                        self.burst = None;
                    }
                    self.server.handle_accept_empty(id, now);
                }
            }
            ServerOp::Advance(ms) => {
                self.now += Duration::from_millis(u64::from(ms));
                self.timeout();
            }
            ServerOp::EarlyTimeout => {
                let due = self.server.poll_timeout().is_some_and(|t| t <= self.now);
                self.server.handle_timeout(self.now);
                if !due {
                    let cmd = self.server.poll_command();
                    self.check(cmd.is_none(), "an early timeout produced a command");
                }
            }
            ServerOp::Shutdown(ms) => {
                let deadline = now + Duration::from_millis(u64::from(ms));
                self.shutdown = Some(self.shutdown.map_or(deadline, |d| d.min(deadline)));
                self.close_calls += 1;
                self.server.shutdown(deadline, now);
                self.check(!self.server.listening(), "listening after shutdown");
                self.check(self.server.shutting_down(), "shutdown() not in progress");
                self.burst = None;
                self.paused = None;
                // Its commands (EndConnections, maybe DestroyConnections) are drained now.
                self.in_shutdown = true;
                self.drain();
                self.in_shutdown = false;
            }
            ServerOp::ConnDestroy(n) => {
                if let Some(c) = self.conn(n) {
                    c.socket.destroy(None);
                }
            }
            ServerOp::ConnPeerEnd(n) => {
                if let Some(c) = self.conn(n) {
                    c.socket.handle_eof(now);
                    c.socket.handle_timeout(now);
                }
            }
            ServerOp::ConnReset(n) => {
                if let Some(c) = self.conn(n) {
                    c.socket.handle_read_error(ErrorCode::ECONNRESET, now);
                }
            }
            ServerOp::StaleClosed(n) => {
                let before = self.server.connections();
                let id = pick(&self.known_ids.iter().copied().collect::<Vec<_>>(), n)
                    .filter(|id| !self.admitted.contains(id))
                    .unwrap_or(ConnectionId(u64::MAX - u64::from(n)));
                self.server.handle_connection_closed(id, now);
                self.check(
                    self.server.connections() == before,
                    "a stale close changed the count",
                );
                let event = self.server.poll_event();
                self.check(event.is_none(), "a stale close produced an event");
            }
        }
        // After an accept, the connection was admitted, dropped or blocked — exactly one.
        if let Some((cid, remote)) = self.last_accept.clone() {
            self.drain_accept(cid, &remote);
        }
        self.drain();
        self.last_accept = None;
    }

    /// Classify the outcome of the last `handle_accepted` before the general drain.
    fn drain_accept(&mut self, cid: ConnectionId, remote: &Endpoint) {
        let blocked = self.is_blocked(remote);
        let mut events = Vec::new();
        while let Some(ev) = self.server.poll_event() {
            events.push(ev);
        }
        let admitted = events
            .iter()
            .any(|e| matches!(e, ServerEvent::Connection(c) if c.id == cid));
        let dropped = events.iter().any(|e| matches!(e, ServerEvent::Drop(_)));
        let was_blocked = events
            .iter()
            .any(|e| matches!(e, ServerEvent::Blocked { id, .. } if *id == cid));
        if admitted {
            self.check(!blocked, "a blocked peer was admitted");
        }
        if was_blocked {
            self.check(blocked, "Blocked for an allowed peer");
        }
        self.check(
            usize::from(admitted) + usize::from(dropped) + usize::from(was_blocked) <= 1,
            "an accept had more than one outcome",
        );
        self.trace.push(format!("  accept outcome {events:?}"));
        for ev in events {
            self.replay_event(ev);
        }
    }

    fn replay_event(&mut self, ev: ServerEvent) {
        // The same checks as in `drain`, for the events `drain_accept` took out.
        match ev {
            ServerEvent::Connection(c) => {
                let fresh = self.admitted.insert(c.id);
                self.check(fresh, "Connection twice");
                let socket = Socket::accepted(&c.options, c.local, c.remote, self.now);
                self.conns.push(Conn {
                    id: c.id,
                    socket,
                    shutdown_requested: false,
                    closed: false,
                });
            }
            ServerEvent::Drop(_) => {
                let max = self.server.max_connections().map(|m| m as usize);
                self.check(
                    max.is_some_and(|m| self.server.connections() >= m),
                    "Drop below max_connections",
                );
            }
            ServerEvent::Blocked { .. } | ServerEvent::Error(_) => {}
            ServerEvent::Listening | ServerEvent::Close => {
                self.fail("an accept produced Listening or Close")
            }
        }
    }

    fn finish(&mut self) {
        self.trace.push("finish".into());
        self.close_calls += 1;
        let _ = self.server.close(self.now);
        self.drain();
        for c in &mut self.conns {
            c.socket.destroy(None);
        }
        self.drain();
        // Any timer left ends: a pause, or a shutdown deadline with nothing to destroy.
        self.now += Duration::from_secs(1);
        self.timeout();
        self.drain();
        self.check(
            self.server.connections() == 0,
            "connections left after closing all",
        );
        self.check(
            self.close_events >= 1,
            "no Close after close() and all connections closed",
        );
        self.check(!self.server.listening(), "listening at the end");
    }
}

fn pick<T: Clone>(list: &[T], i: u8) -> Option<T> {
    if list.is_empty() {
        None
    } else {
        list.get(usize::from(i) % list.len()).cloned()
    }
}

fn listen_options(kind: ListenKind) -> ListenOptions {
    match kind {
        ListenKind::Any => ListenOptions::port(0),
        ListenKind::Host(p) => ListenOptions::port(p).host("localhost"),
        ListenKind::Pipe => ListenOptions::path("/tmp/nodenet-fuzz.sock"),
        ListenKind::Abstract(readable) => {
            ListenOptions::path("\0nodenet-fuzz").readable_all(readable)
        }
        ListenKind::AnyPort(p) => ListenOptions::port(p),
        ListenKind::AnyText(port, host, path) => ListenOptions {
            port: port.map(PortArg::String),
            host,
            path,
            ..ListenOptions::default()
        },
    }
}

/// Decode a configuration and up to 200 operations from fuzzer bytes and run them.
pub fn check_server_ops(data: &[u8]) {
    let Some((config, ops)) = super::config_and_ops::<ServerConfig, ServerOp>(data) else {
        return;
    };
    run_server_ops(&config, &ops);
}

/// Run `ops` on one [`Server`] and its accepted sockets, panicking (with the trace) on the
/// first broken invariant.
pub fn run_server_ops(config: &ServerConfig, ops: &[ServerOp]) {
    let socket = SocketOptions {
        allow_half_open: config.allow_half_open,
        pause_on_connect: config.pause_on_connect,
        ..SocketOptions::default()
    };
    let mut options = ServerOptions::new(socket);
    let block = config.block_below.map(|below| {
        let mut list = BlockList::new();
        let _ = list.add_range("10.0.0.0", format!("10.0.0.{below}").as_str(), "ipv4");
        Arc::new(list)
    });
    if let Some(list) = &block {
        options = options.block_list(list.clone());
    }
    let mut run = Run {
        server: Server::new(options),
        now: Instant::now(),
        block,
        resolves: Vec::new(),
        listens: Vec::new(),
        answered: HashSet::new(),
        accepting: Vec::new(),
        closed_listeners: HashSet::new(),
        conns: Vec::new(),
        admitted: HashSet::new(),
        known_ids: HashSet::new(),
        last_accept: None,
        close_calls: 0,
        close_events: 0,
        trace: vec![format!("{config:?}")],
        current: None,
        paused: None,
        burst: None,
        accept_reports_due: 0,
        failures: 0,
        shutdown: None,
        in_shutdown: false,
    };
    for op in ops {
        run.apply(op.clone());
    }
    run.finish();
}
