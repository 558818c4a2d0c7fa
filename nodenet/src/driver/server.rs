//! [`ServerDriver`]: one core `Server` plus its listener, driven from `poll_event`.
//! Binds synchronously inside `listen` (Node's synchronous `listening`/`address()` view),
//! accepts (pausing when the core says so after an accept error), turns admitted
//! connections into [`SocketDriver`]s carrying a registry guard, runs the core's timers,
//! and performs `shutdown(deadline)`'s end and destroy requests through the same
//! registry. Every decision (lookups, the accept back-off, the shutdown) is the core's.

use std::collections::VecDeque;
use std::net::IpAddr;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use nodenet_core::dns::{dns_lookup, DnsLookup, GaiQuery};
use nodenet_core::error::code_from_io;
use nodenet_core::server::{ListenStage, ListenerId};
use nodenet_core::{
    ConnectionId, Endpoint, Error, ErrorCode, ListenOptions, Server, ServerCommand, ServerEvent,
    ServerOptions,
};

use super::registry::{ConnRequest, Registry};
use super::resolve::Lookup;
use super::runtime::{BindOptions, BoxFuture, ObservedServer, RtListener, Runtime, StdListener};
use super::socket::SocketDriver;
use crate::abort::AbortListener;
use crate::{Step, StepError};

mod dispose;
mod listened;
mod signal;

enum Slot<R: Runtime> {
    /// Bound inside `listen()`, registered with the reactor at the first poll (tokio
    /// needs its runtime context for that).
    Bound(R::Bound),
    /// Registered.
    Rt(R::Listener),
}

type Resolving = (
    nodenet_core::server::ResolveId,
    GaiQuery,
    BoxFuture<Option<Result<Vec<IpAddr>, ErrorCode>>>,
);

/// A core [`Server`] bound to real IO on runtime `R`.
pub struct ServerDriver<R: Runtime> {
    core: Server,
    rt: R,
    listener: Option<(ListenerId, Slot<R>)>,
    resolving: Option<Resolving>,
    /// Accepted streams waiting for the core's verdict (`Connection` or `Reject`), which
    /// comes at the next turn of `poll_event`: there are one or two at a time, so a
    /// short list beats hashing.
    pending: Vec<(ConnectionId, <R::Listener as RtListener>::Accepted)>,
    registry: Arc<Registry>,
    /// Reused buffer for the registry's closed connections.
    closed: Vec<ConnectionId>,
    adopt: Option<std::io::Result<(R::Bound, Option<Endpoint>)>>,
    lookup: Option<Arc<dyn Lookup>>,
    /// The core's timer (`Server::poll_timeout`).
    timer: Option<R::Timer>,
    /// The `signal` option of `listen` (see `signal.rs`); dropped at `Close`.
    signal: Option<AbortListener>,
    /// The listener `PauseAccept` paused (an accept error; the core resumes it). The
    /// pause is that listener's: a new listener (after `close()`, or a `listen()` that
    /// replaced it) accepts at once, as the core's back-off starts over with it.
    accept_paused: Option<ListenerId>,
    /// Events taken out of the core by a `listened()` wait (see `listened.rs`), handed
    /// out by `poll_event` before any new one.
    replay: VecDeque<ServerEvent<SocketDriver<R>>>,
    /// The error the runtime gave when it could not take the listener (see
    /// `poll_accept`), reported by the next `poll_event`.
    runtime_error: Option<Error>,
}

impl<R: Runtime> std::fmt::Debug for ServerDriver<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerDriver")
            .field("core", &self.core)
            .field("open", &self.registry.open_count())
            .finish_non_exhaustive()
    }
}

impl<R: Runtime> ServerDriver<R> {
    /// `net.createServer(options)`.
    pub fn new(rt: R, options: ServerOptions) -> Self {
        ServerDriver {
            core: Server::new(options),
            rt,
            listener: None,
            resolving: None,
            pending: Vec::new(),
            registry: Arc::new(Registry::default()),
            closed: Vec::new(),
            adopt: None,
            lookup: None,
            timer: None,
            signal: None,
            accept_paused: None,
            replay: VecDeque::new(),
            runtime_error: None,
        }
    }

    /// `server.listen(handle)` for an already bound std listener (the Rust form of
    /// `listen({fd})`): the core runs its normal listen, and the bind it asks for is
    /// answered with this listener.
    pub fn from_std(rt: R, listener: StdListener, options: ServerOptions) -> Result<Self, Error> {
        let mut d = Self::new(rt, options);
        let opts = match &listener {
            StdListener::Tcp(_) => ListenOptions::port(0),
            StdListener::Unix(_, path) => ListenOptions::path(path.clone()),
        };
        d.adopt = Some(d.rt.listener_from_std(listener));
        d.listen(opts)?;
        Ok(d)
    }

    /// The runtime handle.
    pub fn runtime(&self) -> &R {
        &self.rt
    }

    /// The listening socket, lent for as long as the driver is borrowed (only `&mut`
    /// calls close or replace it); `None` without one.
    pub(crate) fn listener_fd(&self) -> Option<std::os::fd::BorrowedFd<'_>> {
        match &self.listener {
            Some((_, Slot::Bound(l))) => self.rt.bound_fd(l),
            Some((_, Slot::Rt(l))) => l.fd(),
            None => None,
        }
    }

    /// The core server (`listening`, `address`, `connections`, `max_connections`).
    pub fn core(&self) -> &Server {
        &self.core
    }

    /// `getConnections()`: the core's count, less the closes not yet fed to it (a socket
    /// may close while the server is not being polled).
    pub fn connections(&self) -> usize {
        self.core
            .connections()
            .saturating_sub(self.registry.closed_pending())
    }

    /// The core server, mutably (`set_max_connections`).
    pub fn core_mut(&mut self) -> &mut Server {
        &mut self.core
    }

    /// Resolver for `listen({host})` (Node's server has no `lookup` option; this is for
    /// tests and custom environments).
    pub fn set_lookup(&mut self, lookup: Arc<dyn Lookup>) {
        self.lookup = Some(lookup);
    }

    /// `server.listen(options)`: Node's synchronous errors are returned; the bind happens
    /// here, so `listening()`/`address()` are known on return (unless a host is looked
    /// up). Bind failures arrive as `ServerEvent::Error`.
    pub fn listen(&mut self, options: ListenOptions) -> Result<(), Error> {
        let now = R::now();
        self.core.listen(options, now)?;
        self.run_commands(now);
        Ok(())
    }

    /// `server.close()`: stop accepting; `Close` comes once every connection closed.
    pub fn close(&mut self) -> Result<(), Error> {
        let now = R::now();
        let r = self.core.close(now);
        self.run_commands(now);
        r
    }

    /// Remove the accepted stream of connection `id` from the pending list.
    fn take_pending(&mut self, id: ConnectionId) -> Option<<R::Listener as RtListener>::Accepted> {
        let i = self.pending.iter().position(|(c, _)| *c == id)?;
        Some(self.pending.remove(i).1)
    }

    fn run_commands(&mut self, now: Instant) -> bool {
        let mut any = false;
        while let Some(cmd) = self.core.poll_command() {
            any = true;
            match cmd {
                ServerCommand::Resolve { id, host, options } => match dns_lookup(&host, options) {
                    // An IP literal needs no resolver and (here) no blocking-pool thread: a
                    // process that never spawned one keeps libc's single-threaded paths.
                    DnsLookup::Answered(answer) => self.core.handle_resolved(id, answer, now),
                    DnsLookup::Query(query) => match &self.lookup {
                        Some(lookup) => {
                            let r = lookup.lookup(&host, options);
                            self.core.handle_resolved(id, r, now);
                        }
                        None => {
                            let fut = self.rt.getaddrinfo(query.clone());
                            self.resolving = Some((id, query, fut));
                        }
                    },
                },
                ServerCommand::Listen {
                    id,
                    endpoint,
                    backlog,
                    ipv6_only,
                    exclusive: _,
                    readable_all,
                    writable_all,
                    reuse_port,
                } => self.bind(
                    now,
                    id,
                    endpoint,
                    backlog,
                    ipv6_only,
                    readable_all,
                    writable_all,
                    reuse_port,
                ),
                ServerCommand::Reject { id } => {
                    self.take_pending(id);
                }
                ServerCommand::CloseListener { id } => {
                    if matches!(&self.listener, Some((l, _)) if *l == id) {
                        self.listener = None;
                    }
                }
                // No answer: the core's contract (libuv ignores the failure too).
                ServerCommand::Unlink { path } => self.rt.unlink(&path),
                ServerCommand::PauseAccept { id } => self.accept_paused = Some(id),
                ServerCommand::ResumeAccept { id } => {
                    if self.accept_paused == Some(id) {
                        self.accept_paused = None;
                    }
                }
                ServerCommand::EndConnections => self.registry.request_all(ConnRequest::End),
                ServerCommand::DestroyConnections => {
                    self.registry.request_all(ConnRequest::Destroy)
                }
            }
        }
        any
    }

    #[allow(clippy::too_many_arguments)]
    fn bind(
        &mut self,
        now: Instant,
        id: ListenerId,
        endpoint: Endpoint,
        backlog: u32,
        ipv6_only: bool,
        readable_all: bool,
        writable_all: bool,
        reuse_port: bool,
    ) {
        let options = BindOptions {
            backlog,
            ipv6_only,
            readable_all,
            writable_all,
            reuse_port,
        };
        let bound = match self.adopt.take() {
            Some(adopted) => adopted.map_err(|error| StepError {
                step: Step::Socket,
                error,
            }),
            None => self.rt.bind(&endpoint, options),
        };
        match bound {
            Ok((l, local)) => {
                let local = local.unwrap_or(endpoint);
                self.listener = Some((id, Slot::Bound(l)));
                self.core.handle_listening(id, local, now);
            }
            Err(e) => {
                let stage = match e.step {
                    Step::Listen => ListenStage::Listen,
                    Step::Chmod => ListenStage::Chmod,
                    Step::Socket | Step::Bind | Step::Connect => ListenStage::Bind,
                };
                self.core
                    .handle_listen_failed(id, stage, code_from_io(&e.error), now);
            }
        }
    }

    /// Drive the server until it has an event. `Ready(None)` when nothing more can
    /// happen (no listener, no lookup, no open connection).
    pub fn poll_event(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Option<ServerEvent<SocketDriver<R>>>> {
        if let Some(ev) = self.replay.pop_front() {
            return Poll::Ready(Some(ev));
        }
        self.poll_new_event(cx)
    }

    /// [`poll_event`](Self::poll_event) without the replayed events: the next event the
    /// core emits.
    fn poll_new_event(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Option<ServerEvent<SocketDriver<R>>>> {
        if self.signal.is_some() {
            self.poll_signal(cx);
        }
        loop {
            // IO first (a `Reject` must close the socket before its `Drop` is seen).
            let mut progress = self.run_commands(R::now());
            if let Some(ev) = self.core.poll_event() {
                use nodenet_core::ServerEvent as Core;
                let out = match ev {
                    Core::Listening => ServerEvent::Listening,
                    Core::Connection(conn) => {
                        let Some(stream) = self.take_pending(conn.id) else {
                            self.core.handle_connection_closed(conn.id, R::now());
                            continue;
                        };
                        let guard = self.registry.guard(conn.id);
                        let rt = self.rt.for_connection();
                        match SocketDriver::accepted(rt, stream, conn, guard) {
                            Ok(s) => ServerEvent::Connection(s),
                            // The runtime could not take the socket (its reactor is out of
                            // memory or watches; tokio: polled outside a runtime). The
                            // connection is closed (dropping the guard reports it), and
                            // the user hears it as an accept error: once per burst, with
                            // accepting paused as for a failed accept(2).
                            Err(e) => {
                                if let Some((id, _)) = &self.listener {
                                    let id = *id;
                                    self.core
                                        .handle_accept_error(id, code_from_io(&e), R::now());
                                }
                                continue;
                            }
                        }
                    }
                    Core::Drop(d) => ServerEvent::Drop(d),
                    Core::Blocked { id, remote } => ServerEvent::Blocked { id, remote },
                    Core::Error(e) => ServerEvent::Error(e),
                    Core::Close => {
                        // Node removes the abort listener at 'close'.
                        self.signal = None;
                        ServerEvent::Close
                    }
                };
                if R::OBSERVES_SERVERS {
                    let connections = self.connections();
                    self.rt.observe_server(
                        &self.core,
                        ObservedServer::Event {
                            event: &out,
                            connections,
                        },
                    );
                }
                return Poll::Ready(Some(out));
            }
            // After the core's events (its `Listening` first).
            if let Some(err) = self.runtime_error.take() {
                return Poll::Ready(Some(ServerEvent::Error(err)));
            }
            let now = R::now();
            let wake = self.core.closes_emit_events();
            self.registry.take_closed(cx, wake, &mut self.closed);
            progress |= !self.closed.is_empty();
            for id in self.closed.drain(..) {
                self.core.handle_connection_closed(id, now);
            }
            progress |= self.run_commands(now);
            progress |= self.poll_resolve(cx, now);
            progress |= self.poll_accept(cx, now);
            progress |= self.poll_timer(cx);
            if progress {
                continue;
            }
            let idle = self.listener.is_none()
                && self.resolving.is_none()
                && self.pending.is_empty()
                && self.core.connections() == 0;
            return if idle {
                Poll::Ready(None)
            } else {
                Poll::Pending
            };
        }
    }

    fn poll_resolve(&mut self, cx: &mut Context<'_>, now: Instant) -> bool {
        let Some((id, query, fut)) = &mut self.resolving else {
            return false;
        };
        let Poll::Ready(result) = fut.as_mut().poll(cx) else {
            return false;
        };
        // `None`: the blocking task was lost; the core says what that means.
        let answer = query.answer(result);
        let id = *id;
        self.resolving = None;
        self.core.handle_resolved(id, answer, now);
        true
    }

    /// The core's timer: `handle_timeout` once `poll_timeout` is reached; `true` if it ran.
    fn poll_timer(&mut self, cx: &mut Context<'_>) -> bool {
        let Some(deadline) = self.core.poll_timeout() else {
            return false;
        };
        let timer = self.timer.get_or_insert_with(|| self.rt.timer(deadline));
        if self.rt.poll_timer(timer, deadline, cx).is_pending() {
            return false;
        }
        self.core.handle_timeout(R::now());
        true
    }

    fn poll_accept(&mut self, cx: &mut Context<'_>, now: Instant) -> bool {
        // While paused after a failed accept the listener is not polled: it stays
        // readable while the backlog is full, so polling it would spin.
        let Some((id, slot)) = self.listener.take() else {
            return false;
        };
        if self.accept_paused == Some(id) {
            self.listener = Some((id, slot));
            return false;
        }
        let listener = match slot {
            Slot::Rt(l) => l,
            Slot::Bound(l) => match self.rt.register_listener(l) {
                Ok(l) => l,
                // A reason the runtime put in a whole Node error (tokio: polled outside a
                // runtime) is not an accept(2) failure to retry: the server's error as
                // it stands, and the listener (dropped here) accepts nothing.
                Err(e) => {
                    match Error::in_io(&e) {
                        Some(err) => self.runtime_error = Some(err.clone()),
                        None => self.core.handle_accept_error(id, code_from_io(&e), now),
                    }
                    return true;
                }
            },
        };
        let accepted = listener.poll_accept(cx);
        self.listener = Some((id, Slot::Rt(listener)));
        match accepted {
            // The queue is empty: whatever failed before is over.
            Poll::Pending => {
                self.core.handle_accept_empty(id, now);
                false
            }
            // Every accepted connection is handed on, even one the peer already reset:
            // its bytes are still readable, as Node delivers them.
            Poll::Ready(Ok((stream, local, remote))) => {
                let cid = self.core.handle_accepted(id, local, remote, now);
                self.pending.push((cid, stream));
                true
            }
            Poll::Ready(Err(e)) => {
                self.core.handle_accept_error(id, code_from_io(&e), now);
                true
            }
        }
    }

    /// Beyond Node: [`Server::shutdown`] (stop accepting, `end()` every open connection,
    /// `destroy()` those still open at `deadline`), driven until every connection closed.
    /// Events that arrive meanwhile are discarded.
    pub fn poll_shutdown(&mut self, cx: &mut Context<'_>, deadline: Instant) -> Poll<()> {
        if !self.core.shutting_down() {
            let now = R::now();
            self.core.shutdown(deadline, now);
            if R::OBSERVES_SERVERS {
                self.rt.observe_server::<SocketDriver<R>>(
                    &self.core,
                    ObservedServer::Shutdown { deadline },
                );
            }
            self.run_commands(now);
        }
        loop {
            match self.poll_event(cx) {
                Poll::Ready(Some(_)) => continue,
                Poll::Ready(None) => return Poll::Ready(()),
                Poll::Pending => return Poll::Pending,
            }
        }
    }

    /// Take the listening socket out (non-blocking), e.g. to hand it to another server or
    /// process. The server stops without closing it or unlinking its file; accepted
    /// connections are unaffected. `None` when there is no listener.
    pub fn into_std(mut self) -> std::io::Result<Option<StdListener>> {
        match self.listener.take() {
            None => Ok(None),
            Some((_, Slot::Bound(l))) => self.rt.bound_into_std(l).map(Some),
            Some((_, Slot::Rt(l))) => self.rt.listener_into_std(l).map(Some),
        }
    }

    /// Beyond Node: failed `accept(2)` calls so far, reported or not. A burst of
    /// failures (`EMFILE` while descriptors are exhausted, ...) is reported once as
    /// `ServerEvent::Error` and retried after a pause of 10 ms doubling up to 250 ms, so
    /// this counter grows by a few per second during a burst, not by thousands.
    pub fn accept_failures(&self) -> u64 {
        self.core.accept_failures()
    }
}
