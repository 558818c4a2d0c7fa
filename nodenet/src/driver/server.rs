//! [`ServerDriver`]: one core `Server` plus its listener, driven from `poll_event`.
//! Binds synchronously inside `listen` (Node's synchronous `listening`/`address()` view),
//! accepts, turns admitted connections into [`SocketDriver`]s carrying a registry guard,
//! and implements `shutdown(deadline)` on top of the same registry.

use std::net::SocketAddr;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use nodenet_core::error::code_from_io;
use nodenet_core::server::{ListenStage, ListenerId};
use nodenet_core::{
    ConnectionId, Endpoint, Error, ErrorClass, ErrorCode, ListenOptions, LookupAddress, Server,
    ServerCommand, ServerEvent, ServerOptions,
};

use super::accept_backoff::{AcceptBackoff, AcceptFailure};
use super::registry::{ConnRequest, Registry};
use super::resolve::{ip_literal, resolve_blocking, Lookup, LookupOptions};
use super::runtime::{BoxFuture, RtListener, Runtime, StdListener, StdStream};
use super::socket::{accepted_tcp_endpoints, endpoints, fixed_local_addr, SocketDriver};
use crate::abort::AbortListener;
use crate::{tcp_listen, unix_listen, Step, StepError};

mod dispose;
mod signal;

enum Slot<L> {
    /// Bound inside `listen()`, registered with the reactor at the first poll (tokio
    /// needs its runtime context for that).
    Std(StdListener),
    /// Registered: the listener, its Unix path, and its address when that is every
    /// accepted connection's local address (see `fixed_local_addr`).
    Rt(L, Option<String>, Option<SocketAddr>),
}

type Resolving = (
    nodenet_core::server::ResolveId,
    BoxFuture<Option<Result<Vec<LookupAddress>, Error>>>,
);

/// A core [`Server`] bound to real IO on runtime `R`.
pub struct ServerDriver<R: Runtime> {
    core: Server,
    rt: R,
    listener: Option<(ListenerId, Slot<R::Listener>)>,
    resolving: Option<Resolving>,
    /// Accepted streams waiting for the core's verdict (`Connection` or `Reject`), which
    /// comes at the next turn of `poll_event`: there are one or two at a time, so a
    /// short list beats hashing.
    pending: Vec<(ConnectionId, StdStream)>,
    registry: Arc<Registry>,
    /// Reused buffer for the registry's closed connections.
    closed: Vec<ConnectionId>,
    adopt: Option<StdListener>,
    lookup: Option<Arc<dyn Lookup>>,
    timer: Option<R::Timer>,
    shutdown: Option<bool>,
    /// Accept errors: one report per burst, paused retries (see `accept_backoff`).
    backoff: AcceptBackoff,
    accept_timer: Option<R::Timer>,
    /// The `signal` option of `listen` (see `signal.rs`); dropped at `Close`.
    signal: Option<AbortListener>,
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
            shutdown: None,
            backoff: AcceptBackoff::default(),
            accept_timer: None,
            signal: None,
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
        d.adopt = Some(listener);
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
        use std::os::fd::AsFd;
        match &self.listener {
            Some((_, Slot::Std(l))) => Some(l.as_fd()),
            Some((_, Slot::Rt(l, _, _))) => Some(l.as_fd()),
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
        let now = Instant::now();
        self.core.listen(options, now)?;
        self.run_commands(now);
        Ok(())
    }

    /// `server.close()`: stop accepting; `Close` comes once every connection closed.
    pub fn close(&mut self) -> Result<(), Error> {
        let now = Instant::now();
        let r = self.core.close(now);
        self.run_commands(now);
        r
    }

    /// Remove the accepted stream of connection `id` from the pending list.
    fn take_pending(&mut self, id: ConnectionId) -> Option<StdStream> {
        let i = self.pending.iter().position(|(c, _)| *c == id)?;
        Some(self.pending.remove(i).1)
    }

    fn run_commands(&mut self, now: Instant) -> bool {
        let mut any = false;
        while let Some(cmd) = self.core.poll_command() {
            any = true;
            match cmd {
                ServerCommand::Resolve { id, host } => {
                    if let Some(answer) = ip_literal(&host) {
                        // `dns.lookup` answers an IP literal itself, with no resolver and
                        // (here) no blocking-pool thread: a process that never spawned
                        // one keeps libc's single-threaded fast paths.
                        self.core.handle_resolved(id, Ok(vec![answer]), now);
                    } else if let Some(lookup) = &self.lookup {
                        let opts = LookupOptions {
                            family: 0,
                            hints: 0,
                            all: false,
                        };
                        let r = lookup.lookup(&host, opts);
                        self.core.handle_resolved(id, r, now);
                    } else {
                        let fut = self.rt.unblock(move || resolve_blocking(&host, 0, false));
                        self.resolving = Some((id, fut));
                    }
                }
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
                ServerCommand::Unlink { path } => {
                    let _ = std::fs::remove_file(path);
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
        let bound = match (self.adopt.take(), &endpoint) {
            (Some(l), _) => Ok(l),
            (None, Endpoint::Tcp(addr)) => {
                tcp_listen(*addr, backlog, ipv6_only, reuse_port, true).map(StdListener::Tcp)
            }
            (None, Endpoint::Pipe(path)) => {
                unix_listen(path, backlog, readable_all, writable_all, true)
                    .map(|l| StdListener::Unix(l, path.clone()))
            }
        };
        let listener = bound.and_then(|l| {
            l.set_nonblocking(true).map_err(|error| StepError {
                step: Step::Socket,
                error,
            })?;
            Ok(l)
        });
        match listener {
            Ok(l) => {
                let local = match &l {
                    StdListener::Tcp(t) => t.local_addr().map(Endpoint::Tcp).ok(),
                    StdListener::Unix(_, path) => Some(Endpoint::Pipe(path.clone())),
                };
                let local = local.unwrap_or(endpoint);
                self.listener = Some((id, Slot::Std(l)));
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
        if self.signal.is_some() {
            self.poll_signal(cx);
        }
        loop {
            // IO first (a `Reject` must close the socket before its `Drop` is seen).
            let mut progress = self.run_commands(Instant::now());
            if let Some(ev) = self.core.poll_event() {
                use nodenet_core::ServerEvent as Core;
                let out = match ev {
                    Core::Listening => ServerEvent::Listening,
                    Core::Connection(conn) => {
                        let Some(stream) = self.take_pending(conn.id) else {
                            self.core.handle_connection_closed(conn.id, Instant::now());
                            continue;
                        };
                        let guard = self.registry.guard(conn.id);
                        let rt = self.rt.for_connection();
                        match SocketDriver::accepted(rt, stream, conn, guard) {
                            Ok(s) => ServerEvent::Connection(s),
                            // Dropping the guard reports the connection closed.
                            Err(_) => continue,
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
                return Poll::Ready(Some(out));
            }
            let now = Instant::now();
            self.registry.take_closed(cx, &mut self.closed);
            progress |= !self.closed.is_empty();
            for id in self.closed.drain(..) {
                self.core.handle_connection_closed(id, now);
            }
            progress |= self.run_commands(now);
            progress |= self.poll_resolve(cx, now);
            progress |= self.poll_accept(cx, now);
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
        let Some((id, fut)) = &mut self.resolving else {
            return false;
        };
        let Poll::Ready(result) = fut.as_mut().poll(cx) else {
            return false;
        };
        let id = *id;
        self.resolving = None;
        let lost = || {
            Error::new(
                ErrorCode::EAI_FAIL,
                ErrorClass::Error,
                "getaddrinfo EAI_FAIL",
            )
        };
        self.core
            .handle_resolved(id, result.unwrap_or_else(|| Err(lost())), now);
        true
    }

    fn poll_accept(&mut self, cx: &mut Context<'_>, now: Instant) -> bool {
        if self.listener.is_none() {
            return false;
        }
        // After a failed accept, wait (woken by the timer) instead of retrying at once:
        // the listener stays readable while the backlog is full, so retrying on every
        // wake-up would spin.
        if let Some(at) = self.backoff.retry_at() {
            let timer = self.accept_timer.get_or_insert_with(|| self.rt.timer(at));
            if self.rt.poll_timer(timer, at, cx).is_pending() {
                return false;
            }
            self.backoff.resume();
        }
        let Some((id, slot)) = self.listener.take() else {
            return false;
        };
        let (listener, path, fixed_local) = match slot {
            Slot::Rt(l, path, fixed_local) => (l, path, fixed_local),
            Slot::Std(l) => {
                let (path, fixed_local) = match &l {
                    StdListener::Unix(_, p) => (Some(p.clone()), None),
                    // One getsockname per listener instead of one per connection.
                    StdListener::Tcp(t) => (None, t.local_addr().ok().and_then(fixed_local_addr)),
                };
                match self.rt.listener(l) {
                    Ok(l) => (l, path, fixed_local),
                    Err(e) => {
                        self.core.handle_accept_error(id, code_from_io(&e), now);
                        return true;
                    }
                }
            }
        };
        let result = listener.poll_accept_from(cx).map(|r| {
            r.map(|(s, peer)| {
                let ends = match &s {
                    StdStream::Tcp(t) => accepted_tcp_endpoints(t, fixed_local, peer),
                    StdStream::Unix(_) => endpoints(&s, path.as_deref()),
                };
                (s, ends)
            })
        });
        let (result, accepted) = match result {
            Poll::Ready(Ok((stream, ends))) => (Poll::Ready(Ok(stream)), Some(ends)),
            Poll::Ready(Err(e)) => (Poll::Ready(Err(e)), None),
            Poll::Pending => (Poll::Pending, None),
        };
        self.listener = Some((id, Slot::Rt(listener, path, fixed_local)));
        match (result, accepted) {
            // The queue is empty: whatever failed before is over.
            (Poll::Pending, _) => {
                self.backoff.on_ok();
                false
            }
            (Poll::Ready(Ok(stream)), Some(Ok((local, remote)))) => {
                self.backoff.on_ok();
                let cid = self.core.handle_accepted(id, local, remote, now);
                self.pending.push((cid, stream));
                true
            }
            // The peer is already gone (no peer address): drop it, as libuv would report
            // it at the first read.
            (Poll::Ready(Ok(_)), _) => {
                self.backoff.on_ok();
                true
            }
            (Poll::Ready(Err(e)), _) => {
                let code = code_from_io(&e);
                match self.backoff.on_error(code, now) {
                    AcceptFailure::Report => self.core.handle_accept_error(id, code, now),
                    AcceptFailure::Retry | AcceptFailure::Pause => {}
                }
                true
            }
        }
    }

    /// Beyond Node: stop accepting, `end()` every open connection, `destroy()` those
    /// still open at `deadline`; ready once every connection closed. Events that arrive
    /// meanwhile are discarded (connections accepted before the close are dropped).
    pub fn poll_shutdown(&mut self, cx: &mut Context<'_>, deadline: Instant) -> Poll<()> {
        if self.shutdown.is_none() {
            let _ = self.close();
            self.registry.request_all(ConnRequest::End);
            self.shutdown = Some(false);
        }
        loop {
            match self.poll_event(cx) {
                Poll::Ready(Some(_)) => continue,
                Poll::Ready(None) => return Poll::Ready(()),
                Poll::Pending => {}
            }
            if self.shutdown == Some(true) {
                return Poll::Pending;
            }
            if Instant::now() >= deadline {
                self.registry.request_all(ConnRequest::Destroy);
                self.shutdown = Some(true);
                continue;
            }
            let timer = self.timer.get_or_insert_with(|| self.rt.timer(deadline));
            if self.rt.poll_timer(timer, deadline, cx).is_pending() {
                return Poll::Pending;
            }
        }
    }

    /// Take the listening socket out (non-blocking), e.g. to hand it to another server or
    /// process. The server stops without closing it or unlinking its file; accepted
    /// connections are unaffected. `None` when there is no listener.
    pub fn into_std(mut self) -> std::io::Result<Option<StdListener>> {
        match self.listener.take() {
            None => Ok(None),
            Some((_, Slot::Std(l))) => Ok(Some(l)),
            Some((_, Slot::Rt(l, path, _))) => self.rt.unwrap_listener(l, path).map(Some),
        }
    }

    /// Beyond Node: failed `accept(2)` calls so far, reported or not. A burst of
    /// failures (`EMFILE` while descriptors are exhausted, ...) is reported once as
    /// `ServerEvent::Error` and retried after a pause of 10 ms doubling up to 250 ms, so
    /// this counter grows by a few per second during a burst, not by thousands.
    pub fn accept_failures(&self) -> u64 {
        self.backoff.failures()
    }
}
