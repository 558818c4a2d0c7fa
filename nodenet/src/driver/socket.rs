//! [`SocketDriver`]: one core `Socket` plus its OS handle(s), driven from `poll_event`.
//! Performs the core's commands, reads through the runtime's per-thread read pool (no
//! buffer is held while idle), writes the core's queued chunks with one `sendmsg` (tried
//! at once on `write`, like libuv), tracks every in-flight connect attempt, the resolver
//! and the idle timer, and reports its close to the server it was accepted from.

use std::collections::VecDeque;
use std::io;
use std::marker::PhantomData;
use std::net::IpAddr;
use std::task::{Context, Poll};
use std::time::Instant;

use bytes::Bytes;
use nodenet_core::dns::{dns_lookup, DnsLookup, GaiQuery};
use nodenet_core::error::code_from_io;
use nodenet_core::{
    AcceptedConnection, AttemptId, Command, ConnectOptions, Endpoint, Error, ErrorCode,
    LookupAddress, Socket, SocketEvent, SocketOptions, WriteId, WriteResult,
};
use socket2::SockRef;

use super::async_lookup::CustomLookup;
use super::registry::{ConnGuard, ConnRequest};
use super::resolve::LookupOptions;
use super::runtime::{BoxFuture, Observed, RtListener, RtStream, Runtime, StdStream, MAX_IOVECS};
use crate::abort::AbortListener;
use crate::Step;

mod read_into;
mod signal;

mod linger;

/// The time of one poll, read from the runtime's clock only when something needs it.
struct LazyNow<R>(Option<Instant>, PhantomData<fn() -> R>);

impl<R: Runtime> Default for LazyNow<R> {
    fn default() -> Self {
        LazyNow(None, PhantomData)
    }
}

impl<R: Runtime> LazyNow<R> {
    fn get(&mut self) -> Instant {
        *self.0.get_or_insert_with(R::now)
    }

    /// The time for an input to `core` on the data path: the core's own last time when
    /// nothing depends on the current one ([`Socket::reusable_time`]), so an echo round
    /// trip without an idle timeout reads no clock.
    #[inline]
    fn for_input(&mut self, core: &Socket) -> Instant {
        match core.reusable_time() {
            Some(t) => t,
            None => self.get(),
        }
    }
}

/// A lookup in flight.
enum Resolving {
    /// getaddrinfo on the runtime's blocking pool; the core shapes its answer
    /// ([`GaiQuery::answer`]).
    System(
        AttemptId,
        GaiQuery,
        BoxFuture<Option<Result<Vec<IpAddr>, ErrorCode>>>,
    ),
    /// The user's async `lookup`: its answer goes to the core as a sync one does.
    Custom(AttemptId, BoxFuture<Result<Vec<LookupAddress>, Error>>),
}

/// Bytes and end-of-stream received while serving the IO traits (`AsyncRead` & co.).
#[derive(Debug, Default)]
pub(crate) struct RxState {
    pub(crate) chunks: VecDeque<Bytes>,
    pub(crate) eof: bool,
    pub(crate) error: Option<Error>,
    /// The reader and the writer may be different tasks (`split`): the one that drives
    /// the socket wakes the other when something it waits for may have changed.
    pub(crate) read_waker: Option<std::task::Waker>,
    pub(crate) write_waker: Option<std::task::Waker>,
}

/// A core [`Socket`] bound to real IO on runtime `R`. The backends wrap it in their
/// `Socket` type; it makes progress only while polled (by `next_event`, the IO traits,
/// or a user call such as `write`).
///
/// **Dropping it never discards accepted bytes.** Every write API accepts bytes into a
/// user-space queue before the kernel takes them: Node's `write()` always queues (its
/// boolean only says whether to wait for `Drain`), and the IO-trait write
/// ([`poll_write_bytes`](Self::poll_write_bytes): `AsyncWrite`, `futures-io`,
/// `std::io::Write`) queues whenever the queue is below the high-water mark, so
/// `write_all` returns with up to a high-water mark of bytes not yet sent. When a socket
/// that is not destroyed is dropped with such bytes, it lingers in the background on its
/// runtime ([`Runtime::spawn`]): it writes the queue, sends the FIN, discards what the
/// peer still sends, and closes once the FIN is out and nothing is left unread (what the
/// kernel does with its send buffer after `close(2)`). Bound: it gives up when the kernel
/// took no byte for 30 s, and 5 minutes after the drop at the latest; giving up resets
/// the connection (as does a runtime that cannot start the task), so the peer sees
/// `ECONNRESET`, never a clean end of a truncated stream. `destroy()` still discards the
/// queue, as in Node; `end()` before the drop is the way to be told when it is done.
///
/// One pointer: the state is boxed, so the backends' `Socket` is cheap to move and an
/// `async fn` taking it by value (which rustc lays out with room for the argument and the
/// local it is moved into) stays small — an idle connection served by
/// `tokio::spawn(handle(socket))` costs ~1 KiB less.
pub struct SocketDriver<R: Runtime>(pub(crate) Box<DriverState<R>>);

/// Everything a [`SocketDriver`] holds.
pub(crate) struct DriverState<R: Runtime> {
    pub(crate) core: Socket,
    rt: R,
    pub(crate) stream: Option<R::Stream>,
    attempts: Vec<(AttemptId, R::Stream)>,
    /// Boxed: only a client's lookup sets it, and every socket's state (an accepted
    /// one's too) is one allocation that is cheaper when small (glibc serves one of up
    /// to 1 KiB from its per-thread cache; with these inline it was 1.1 KiB).
    resolving: Option<Box<Resolving>>,
    timer: Option<R::Timer>,
    reading: bool,
    /// The last read was short: the kernel buffer was empty after it.
    read_drained: bool,
    /// The next read asks the kernel before it waits for readiness
    /// ([`RtStream::poll_read_chunk_now`]): an accepted connection's first read, and the
    /// read after a connection's first partial read.
    read_now: bool,
    /// The last read returned data and was short, and the socket has not waited for
    /// readiness since: a reset reported now was already there when that read ran (see
    /// `try_read`).
    read_partial: bool,
    writing: bool,
    /// The last write attempt found the kernel's buffer full (`EAGAIN`): the write waits
    /// for writability, as libuv's does for `POLLOUT`.
    write_blocked: bool,
    /// Boxed for the same reason as `resolving`: only a custom lookup sets it.
    lookup: Option<Box<CustomLookup>>,
    guard: Option<ConnGuard>,
    /// Boxed, made by the first use of the IO traits (most sockets never use them), so
    /// that every socket's state stays small (see `resolving`).
    pub(crate) rx: Option<Box<RxState>>,
    /// Events taken out of the core by `poll_connected` while waiting for `Connect`,
    /// handed out again (first, in order) by `poll_event`.
    pub(crate) replay: VecDeque<SocketEvent>,
    /// The `signal` option (see `signal.rs`); dropped at `Close`, as Node removes its
    /// abort listener when the stream closes.
    signal: Option<AbortListener>,
    /// `poll_event_into` reads into the caller's buffer itself (see `read_into.rs`).
    reads_elsewhere: bool,
}

impl<R: Runtime> std::fmt::Debug for SocketDriver<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SocketDriver")
            .field("core", &self.0.core)
            .field("connected", &self.0.stream.is_some())
            .field("attempts", &self.0.attempts.len())
            .finish_non_exhaustive()
    }
}

impl<R: Runtime> DriverState<R> {
    /// The IO traits' state, made on first use.
    pub(crate) fn rx_mut(&mut self) -> &mut RxState {
        self.rx.get_or_insert_with(Box::default)
    }

    /// Whether the IO traits saw the end of the stream.
    pub(crate) fn rx_eof(&self) -> bool {
        self.rx.as_ref().is_some_and(|rx| rx.eof)
    }

    fn new(rt: R, core: Socket, stream: Option<R::Stream>) -> Self {
        DriverState {
            core,
            rt,
            stream,
            attempts: Vec::new(),
            resolving: None,
            timer: None,
            reading: false,
            read_drained: false,
            read_now: false,
            read_partial: false,
            writing: false,
            write_blocked: false,
            lookup: None,
            guard: None,
            rx: None,
            replay: VecDeque::new(),
            signal: None,
            reads_elsewhere: false,
        }
    }
}

impl<R: Runtime> SocketDriver<R> {
    /// An unconnected socket (`new net.Socket(options)`).
    pub fn new(rt: R, options: SocketOptions) -> Self {
        Self::with_core(rt, Socket::new(options), None)
    }

    fn with_core(rt: R, core: Socket, stream: Option<R::Stream>) -> Self {
        SocketDriver(Box::new(DriverState::new(rt, core, stream)))
    }

    /// The server side of an accepted connection, reporting its close through `guard`.
    pub(crate) fn accepted(
        rt: R,
        stream: <R::Listener as RtListener>::Accepted,
        conn: AcceptedConnection,
        guard: ConnGuard,
    ) -> io::Result<Self> {
        let stream = rt.register_accepted(stream)?;
        let core = Socket::accepted(&conn.options, conn.local, conn.remote, R::now());
        rt.observe(&core, Observed::Attached(&stream));
        let mut d = Self::with_core(rt, core, Some(stream));
        d.0.guard = Some(guard);
        // The peer's first bytes usually came with the connection.
        d.0.read_now = true;
        // Node sets noDelay/keepAlive on the handle before emitting 'connection': apply
        // the core's first commands now, not at the socket's first poll, so the options
        // hold as soon as the owner gets the socket.
        d.run_commands(&mut LazyNow::default());
        Ok(d)
    }

    /// Wrap an already connected std stream (`new net.Socket({fd})`): open at once, with
    /// `options` applied as for an accepted connection.
    pub fn from_std(rt: R, stream: StdStream, options: SocketOptions) -> io::Result<Self> {
        let (stream, local, remote) = rt.stream_from_std(stream)?;
        let core = Socket::accepted(&options, local, remote, R::now());
        rt.observe(&core, Observed::Attached(&stream));
        let mut d = Self::with_core(rt, core, Some(stream));
        // As for an accepted socket: the options hold when `from_std` returns.
        d.run_commands(&mut LazyNow::default());
        Ok(d)
    }

    /// Take the OS stream out (left non-blocking). `None` when there is no connected
    /// handle. The core socket is destroyed without closing the handle.
    pub fn into_std(mut self) -> io::Result<Option<StdStream>> {
        let stream = self.0.stream.take();
        self.0.core.destroy(None);
        match stream {
            Some(s) => self.0.rt.stream_into_std(s).map(Some),
            None => Ok(None),
        }
    }

    /// Keep-alive and `TCP_NODELAY` read back with getsockopt (`None` without a TCP
    /// connection).
    pub fn keep_alive_settings(&self) -> Option<io::Result<(crate::KeepAlive, bool)>> {
        self.0.stream.as_ref()?.keep_alive_settings()
    }

    /// The connection's OS socket, lent for as long as the driver is borrowed (only
    /// `&mut` calls close or replace it); `None` while connecting, after close, and on a
    /// runtime without OS sockets.
    pub(crate) fn stream_fd(&self) -> Option<std::os::fd::BorrowedFd<'_>> {
        self.0.stream.as_ref()?.fd()
    }

    /// `getpeername` (`peer`) or `getsockname` of the connection, through the runtime:
    /// `NotConnected` without a connection, `Unsupported` on a Unix domain socket.
    pub(crate) fn tcp_addr(&self, peer: bool) -> io::Result<std::net::SocketAddr> {
        let stream = self
            .0
            .stream
            .as_ref()
            .ok_or_else(crate::addr::not_connected)?;
        let addr = if peer {
            stream.peer_addr()?
        } else {
            stream.local_addr()?
        };
        addr.ok_or_else(crate::addr::not_tcp)
    }

    /// The core socket (every Node getter).
    pub fn core(&self) -> &Socket {
        &self.0.core
    }

    /// The core socket, mutably (for user calls the wrappers do not cover).
    pub fn core_mut(&mut self) -> &mut Socket {
        &mut self.0.core
    }

    /// The runtime handle.
    pub fn runtime(&self) -> &R {
        &self.0.rt
    }

    /// Install Node's `lookup` option: used for every later `connect` by name.
    pub(crate) fn set_lookup(&mut self, lookup: CustomLookup) {
        self.0.lookup = Some(Box::new(lookup));
    }

    /// `socket.connect(options)`: validation errors are returned as Node throws them; the
    /// rest happens while the socket is polled.
    pub fn connect(&mut self, mut options: ConnectOptions) -> nodenet_core::Result<()> {
        if self.0.lookup.is_some() {
            options.lookup = true;
        }
        self.0.core.connect(options, R::now())
    }

    /// `socket.write(data)` (no callback, so no `WriteDone` follows): queue the bytes
    /// and try to send them at once, as libuv does. Node's boolean.
    pub fn write(&mut self, data: Bytes) -> bool {
        self.write_inner(data, false).ok
    }

    /// `socket.write(data, callback)`: like [`write`](Self::write), and a
    /// `SocketEvent::WriteDone` with the returned id follows once the bytes reached the
    /// kernel or the write failed.
    pub fn write_tracked(&mut self, data: Bytes) -> WriteResult {
        self.write_inner(data, true)
    }

    fn write_inner(&mut self, data: Bytes, callback: bool) -> WriteResult {
        // `lazy` keeps only a real clock reading: the core's reused time is for this input.
        let mut lazy = LazyNow::default();
        let now = lazy.for_input(&self.0.core);
        if self.0.stream.is_some() {
            self.run_commands(&mut lazy);
        }
        self.0.rt.observe(&self.0.core, Observed::Write(&data));
        let stream = &self.0.stream;
        let dispatch = |chunk: &Bytes| match stream {
            Some(s) => try_write_now(s, chunk),
            None => Ok(0),
        };
        let r = if callback {
            self.0.core.write_tracked_dispatch(data, dispatch, now)
        } else {
            let ok = self.0.core.write_dispatch(data, dispatch, now);
            WriteResult {
                id: WriteId::NO_CALLBACK,
                ok,
            }
        };
        self.0.rt.observe(&self.0.core, Observed::Written(r));
        if self.0.stream.is_some() {
            self.run_commands(&mut lazy);
            while self.try_write(&mut lazy, None) {}
        }
        r
    }

    /// Run the commands a user call queued when a handle exists (`end`, `pause`, ...),
    /// so their IO starts without waiting for the next poll.
    pub fn after_user_call(&mut self) {
        if self.0.stream.is_some() {
            self.run_commands(&mut LazyNow::default());
        }
    }

    /// Drive the socket until the core has an event for the user. `Ready(None)` when
    /// nothing more can happen (closed, or never connected).
    pub fn poll_event(&mut self, cx: &mut Context<'_>) -> Poll<Option<SocketEvent>> {
        if let Some(ev) = self.0.replay.pop_front() {
            return Poll::Ready(Some(ev));
        }
        self.poll_new_event(cx)
    }

    /// [`poll_event`](Self::poll_event) without the replayed events: the next event the
    /// core produces.
    pub(crate) fn poll_new_event(&mut self, cx: &mut Context<'_>) -> Poll<Option<SocketEvent>> {
        // The clock is read at most once per poll, and only when an input or a deadline
        // needs it (handing out an event already queued, or finding nothing to read,
        // needs none); it is refreshed after waiting on the timer.
        let mut now = LazyNow::default();
        if self.0.signal.is_some() {
            self.poll_signal(cx);
        }
        loop {
            // IO first, so the handle is closed (or the FIN sent) before the user hears.
            self.run_commands(&mut now);
            if let Some(ev) = self.0.core.poll_event() {
                // The handle went with the `Close` command; a `connect()` made after
                // `destroy()` may already have a new attempt in flight, so keep it.
                if matches!(ev, SocketEvent::Close { .. }) {
                    if let Some(g) = &mut self.0.guard {
                        g.report_closed();
                    }
                    self.0.signal = None;
                }
                self.0.rt.observe(&self.0.core, Observed::Event(&ev));
                return Poll::Ready(Some(ev));
            }
            if self.poll_requests(cx, &mut now) || self.run_commands(&mut now) {
                continue;
            }
            // Asked once per round: the IO below changes no timer unless it made
            // progress, and progress starts a new round.
            let deadline = self.0.core.poll_timeout();
            if let Some(t) = deadline {
                let at = now.get();
                if t <= at {
                    self.0.core.handle_timeout(at);
                    continue;
                }
            }
            // Reads before writes, as libuv's uv__stream_io handles one readiness: when
            // a reset both fails the read and the write in flight, Node hears the read's
            // error (the socket destroyed with it, the write cancelled by the close).
            // And a read's callback (the user's handlers, then their ticks) runs before
            // the write completes: after a read the events go out first, the write is
            // tried on the next round (a `Drain` due to it then follows what the user
            // wrote while handling the read, as in Node).
            let progress = self.poll_resolve(cx, &mut now)
                | self.poll_attempts(cx, &mut now)
                | self.try_read(&mut now, cx)
                || self.try_write(&mut now, Some(cx));
            if progress {
                continue;
            }
            let Some(deadline) = deadline else {
                if self.0.stream.is_none()
                    && self.0.attempts.is_empty()
                    && self.0.resolving.is_none()
                {
                    return Poll::Ready(None);
                }
                // Waiting: an idle connection keeps no overflow queue memory.
                self.0.core.release_idle_buffers();
                return Poll::Pending;
            };
            let timer = self
                .0
                .timer
                .get_or_insert_with(|| self.0.rt.timer(deadline));
            if self.0.rt.poll_timer(timer, deadline, cx).is_pending() {
                self.0.core.release_idle_buffers();
                return Poll::Pending;
            }
            now = LazyNow::default();
        }
    }

    /// The server's `shutdown` requests.
    fn poll_requests(&mut self, cx: &mut Context<'_>, now: &mut LazyNow<R>) -> bool {
        let Some(req) = self.0.guard.as_mut().and_then(|g| g.poll_request(cx)) else {
            return false;
        };
        match req {
            ConnRequest::End => {
                let _ = self.0.core.end(now.get());
            }
            ConnRequest::Destroy => self.0.core.destroy(None),
        }
        true
    }

    /// Perform every queued command; `true` if there was any.
    #[inline]
    fn run_commands(&mut self, now: &mut LazyNow<R>) -> bool {
        // Most calls find nothing: keep that check out of line of the command switch.
        if !self.0.core.has_commands() {
            return false;
        }
        self.run_queued_commands(now);
        true
    }

    fn run_queued_commands(&mut self, now: &mut LazyNow<R>) {
        while let Some(cmd) = self.0.core.poll_command() {
            match cmd {
                Command::Resolve {
                    id,
                    host,
                    family,
                    hints,
                    all,
                    custom,
                } => {
                    let options = LookupOptions { family, hints, all };
                    match (self.0.lookup.as_deref(), custom) {
                        (Some(CustomLookup::Sync(lookup)), true) => {
                            let r = lookup.lookup(&host, options);
                            self.0.core.handle_resolved(id, r, now.get());
                        }
                        (Some(CustomLookup::Async(lookup)), true) => {
                            let answer = lookup.lookup(&host, options);
                            self.0.resolving = Some(Box::new(Resolving::Custom(id, answer)));
                        }
                        _ => match dns_lookup(&host, options) {
                            DnsLookup::Answered(r) => self.0.core.handle_resolved(id, r, now.get()),
                            DnsLookup::Query(query) => {
                                let fut = self.0.rt.getaddrinfo(query.clone());
                                self.0.resolving =
                                    Some(Box::new(Resolving::System(id, query, fut)));
                            }
                        },
                    }
                }
                Command::Connect {
                    attempt,
                    endpoint,
                    local,
                } => self.start_attempt(now.get(), attempt, endpoint, local),
                Command::Abort { attempt } => self.0.attempts.retain(|(a, _)| *a != attempt),
                Command::StartReading => self.0.reading = true,
                Command::StopReading => self.0.reading = false,
                Command::Write => self.0.writing = true,
                Command::Shutdown => {
                    let status = match &self.0.stream {
                        Some(s) => s.shutdown_write().map_err(|e| code_from_io(&e)),
                        None => Err(ErrorCode::ENOTCONN),
                    };
                    self.0
                        .core
                        .handle_shutdown(status, now.for_input(&self.0.core));
                }
                Command::Close { reset } => {
                    if let (true, Some(s)) = (reset, &self.0.stream) {
                        let _ = s.set_linger_zero();
                    }
                    self.0.stream = None;
                    self.0.attempts.clear();
                    self.0.resolving = None;
                    self.0.reading = false;
                    self.0.writing = false;
                    self.0.write_blocked = false;
                }
                // No answer: the core's contract (Node ignores option failures).
                Command::SetNoDelay(on) => {
                    if let Some(s) = &self.0.stream {
                        let _ = s.set_no_delay(on);
                    }
                }
                Command::SetKeepAlive {
                    enable,
                    initial_delay_secs,
                } => {
                    if let Some(s) = &self.0.stream {
                        let _ = s.set_keep_alive(enable, initial_delay_secs);
                    }
                }
            }
        }
    }

    fn start_attempt(
        &mut self,
        now: Instant,
        attempt: AttemptId,
        endpoint: Endpoint,
        local: Option<std::net::SocketAddr>,
    ) {
        match self.0.rt.connect(&endpoint, local) {
            Ok(s) => self.0.attempts.push((attempt, s)),
            Err(e) if e.step == Step::Bind => {
                self.0
                    .core
                    .handle_bind_failed(attempt, code_from_io(&e.error), now)
            }
            // The runtime could not take the socket for a reason it put in a whole
            // Node error (tokio: polled outside a runtime): no errno names it, so it is
            // the socket's error as it stands, not a `connect <CODE>` failure.
            Err(e) => match Error::in_io(&e.error) {
                Some(err) => self.0.core.destroy(Some(err.clone())),
                // `connect(2)` itself refused: Node's synchronous path.
                None if e.step == Step::Connect => {
                    self.0
                        .core
                        .handle_connect_failed_at_once(attempt, code_from_io(&e.error), now)
                }
                None => self
                    .0
                    .core
                    .handle_connect_failed(attempt, code_from_io(&e.error), now),
            },
        }
    }

    fn poll_resolve(&mut self, cx: &mut Context<'_>, now: &mut LazyNow<R>) -> bool {
        let (id, answer) = match self.0.resolving.as_deref_mut() {
            None => return false,
            Some(Resolving::System(id, query, fut)) => {
                let Poll::Ready(result) = fut.as_mut().poll(cx) else {
                    return false;
                };
                // `None`: the blocking task was lost; the core says what that means.
                (*id, query.answer(result))
            }
            Some(Resolving::Custom(id, fut)) => {
                let Poll::Ready(answer) = fut.as_mut().poll(cx) else {
                    return false;
                };
                (*id, answer)
            }
        };
        self.0.resolving = None;
        self.0.core.handle_resolved(id, answer, now.get());
        true
    }

    /// Check every in-flight connect attempt; the first that finished is reported.
    fn poll_attempts(&mut self, cx: &mut Context<'_>, now: &mut LazyNow<R>) -> bool {
        let ready = self
            .0
            .attempts
            .iter()
            .position(|(_, s)| s.poll_write_ready(cx).is_ready());
        let Some(i) = ready else {
            return false;
        };
        let (id, stream) = self.0.attempts.remove(i);
        let outcome = match stream.take_error() {
            Ok(None) => stream.peer_addr().map(|_| ()),
            Ok(Some(e)) | Err(e) => Err(e),
        };
        match outcome {
            Ok(()) => {
                let local = stream.local_addr().ok().flatten();
                self.0.rt.observe(&self.0.core, Observed::Attached(&stream));
                // Node writes the write parked while connecting from its 'connect'
                // listener, synchronously when the kernel takes it.
                let dispatch = |chunk: &Bytes| try_write_now(&stream, chunk);
                self.0
                    .core
                    .handle_connected_dispatch(id, local, dispatch, now.get());
                self.0.stream = Some(stream);
            }
            Err(e) => self
                .0
                .core
                .handle_connect_failed(id, code_from_io(&e), now.get()),
        }
        true
    }

    /// One `sendmsg` of the queued chunks. Without `cx` (a user `write`) it only tries.
    #[inline]
    fn try_write(&mut self, now: &mut LazyNow<R>, cx: Option<&mut Context<'_>>) -> bool {
        // Every poll and every `write` asks; mostly nothing is queued.
        if !self.0.writing {
            return false;
        }
        match cx {
            // Reading into the caller's buffer: `poll_event_into` reads, then writes.
            Some(_) if self.0.write_blocked && self.0.reads_elsewhere => false,
            Some(cx) if self.0.write_blocked => self.read_before_blocked_write(now, cx),
            cx => self.write_queued(now, cx),
        }
    }

    /// A write that waited for writability is tried again: read first if reading, asking
    /// the kernel whatever the reactor knows, then write. libuv handles one readiness of
    /// a stream that way (`uv__stream_io`: the read, then the write waiting for
    /// `POLLOUT`), so when a reset fails both, Node hears the read's error and the
    /// write is settled by the close; writing first would report the write's error
    /// instead (and consume the kernel's pending error).
    #[cold]
    fn read_before_blocked_write(&mut self, now: &mut LazyNow<R>, cx: &mut Context<'_>) -> bool {
        if self.0.reading && !self.0.reads_elsewhere {
            self.0.read_now = true;
            if self.try_read(now, cx) {
                return true;
            }
        }
        self.write_queued(now, Some(cx))
    }

    fn write_queued(&mut self, now: &mut LazyNow<R>, cx: Option<&mut Context<'_>>) -> bool {
        let Some(stream) = &self.0.stream else {
            self.0.writing = false;
            return false;
        };
        let chunks = self.0.core.write_chunk_bytes();
        if chunks.clone().next().is_none() {
            self.0.writing = false;
            return false;
        }
        let result = stream.try_write_bytes(chunks.take(MAX_IOVECS));
        let sent = match result {
            Ok(n) => {
                self.0.write_blocked = false;
                Ok(n)
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => return true,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                self.0.write_blocked = true;
                return match cx {
                    Some(cx) => stream.poll_write_ready(cx).is_ready(),
                    None => false,
                };
            }
            Err(e) => Err(code_from_io(&e)),
        };
        self.0
            .core
            .handle_send_result(sent, now.for_input(&self.0.core));
        true
    }

    /// One read (the runtime's [`RtStream::poll_read_chunk`]) handed to the core.
    fn try_read(&mut self, now: &mut LazyNow<R>, cx: &mut Context<'_>) -> bool {
        self.read_once(now, cx, true)
    }

    /// [`try_read`](Self::try_read); `look_again`: a partial read may be followed at once
    /// by one more (see below), which may not.
    fn read_once(&mut self, now: &mut LazyNow<R>, cx: &mut Context<'_>, look_again: bool) -> bool {
        if !self.0.reading || self.0.reads_elsewhere {
            return false;
        }
        let state = &mut *self.0;
        let Some(stream) = &mut state.stream else {
            state.reading = false;
            return false;
        };
        let poll = if state.read_now {
            stream.poll_read_chunk_now(cx)
        } else if !look_again {
            // The look right after a partial read: `None` may leave the waker
            // unregistered, which the next poll's read does.
            match stream.read_chunk_again(cx, state.read_drained) {
                Some(r) => Poll::Ready(r),
                None => Poll::Pending,
            }
        } else {
            stream.poll_read_chunk(cx, state.read_drained)
        };
        let Poll::Ready(result) = poll else {
            state.read_partial = false;
            state.read_now = false;
            return false;
        };
        state.read_now = false;
        match result {
            Ok(chunk) => {
                state.read_partial = chunk.short && !chunk.data.is_empty();
                // After a connection's first partial read, read again at once instead of
                // waiting for readiness (one extra `recv` per connection): a reset that
                // came with the first bytes (a client that sent and reset while waiting
                // in the accept queue) is then seen within libuv's window on every
                // runtime, not only where the reactor keeps a hang-up flag (tokio).
                let first = state.core.bytes_read() == 0;
                state.read_now = first && state.read_partial;
                state.read_drained = chunk.short && !state.read_now;
                // After any other partial read, look once more the way the next poll
                // would (tokio: its readiness, which keeps a hang-up; smol, std: a
                // `recv`, which they make before every wait anyway), but now, before the
                // user hears of the bytes: whether the reset came with them is decided
                // by what was there when they were read (libuv's `EPOLLHUP` of the same
                // poll), not by how long the user's handling took (a reset arriving
                // meanwhile is `ECONNRESET`, as in Node). Once: a re-read that returns
                // bytes again leaves the rest to the next poll.
                let again = look_again && state.read_partial;
                let at = now.for_input(&state.core);
                if chunk.data.is_empty() {
                    state.reading = false;
                    state.core.handle_eof(at);
                } else {
                    state.core.handle_data(chunk.data, at);
                }
                // That read again happens now, before the user hears of the bytes: a reset
                // the user's own handling causes later (its peer destroyed in response)
                // is then a later reset, `ECONNRESET`, as in Node, not one that came with
                // the bytes.
                if again {
                    self.read_once(now, cx, false);
                }
                true
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => true,
            // libuv's rule (uv__stream_io): when the poll that woke the read also said
            // the peer hung up (`EPOLLHUP`, which a reset raises) and the read was
            // partial, the stream ends there: `EOF`, and the reset that follows the data
            // is never read. So a connection that sent bytes and reset before Node
            // accepted or read it gives 'data', 'end' and a clean 'close', no
            // `ECONNRESET`. A reset found right after a partial read, with no wait in
            // between, was already there when that read ran: treat it the same way.
            Err(e) if state.read_partial && e.kind() == io::ErrorKind::ConnectionReset => {
                state.reading = false;
                state.read_partial = false;
                let now = now.for_input(&state.core);
                state.core.handle_eof(now);
                true
            }
            Err(e) => {
                state.reading = false;
                let now = now.for_input(&state.core);
                state.core.handle_read_error(code_from_io(&e), now);
                true
            }
        }
    }
}

impl<R: Runtime> Drop for SocketDriver<R> {
    /// The server hears the close at once. Bytes a write API accepted and the kernel has
    /// not taken yet are not discarded: the socket lingers in the background until they
    /// are sent, then sends its FIN (bounded; see `linger`).
    fn drop(&mut self) {
        if let Some(g) = &mut self.0.guard {
            g.report_closed();
        }
        self.0.rt.observe(&self.0.core, Observed::Dropped);
        if self.has_unsent_bytes() {
            self.linger_in_background();
        }
    }
}

/// Local and remote endpoints of a TCP connection just accepted, with as few syscalls as
/// possible: `listener_local` is the listener's own address when it is bound to a
/// specific (non-wildcard) address, which is then every accepted socket's local address
/// too; `peer` is what `accept(2)` reported. Whatever is unknown is asked of the socket
/// (`getsockname` for a wildcard listener, so a dual-stack `::` listener still reports
/// `::ffff:127.0.0.1` to an IPv4 peer; `getpeername` when the runtime gave no address).
///
/// Never fails: a connection reset while it waited in the accept queue is still
/// delivered (its bytes are readable). What cannot be known any more is reported as the
/// unspecified address with port 0 (Node's `remoteAddress` is `undefined` then).
pub(crate) fn accepted_tcp_endpoints(
    stream: &std::net::TcpStream,
    listener_local: Option<std::net::SocketAddr>,
    peer: Option<std::net::SocketAddr>,
) -> (Endpoint, Endpoint) {
    let unknown = || std::net::SocketAddr::from(([0, 0, 0, 0], 0));
    let local = listener_local
        .or_else(|| stream.local_addr().ok())
        .unwrap_or_else(unknown);
    let remote = peer
        .or_else(|| stream.peer_addr().ok())
        .unwrap_or_else(|| match local {
            std::net::SocketAddr::V4(_) => unknown(),
            std::net::SocketAddr::V6(_) => std::net::SocketAddr::from(([0u16; 8], 0)),
        });
    (Endpoint::Tcp(local), Endpoint::Tcp(remote))
}

/// Endpoints of an accepted Unix connection: the listener's path, and the peer's path
/// (empty when it is unnamed, as it nearly always is, or already gone). Never fails, for
/// the reason [`accepted_tcp_endpoints`] gives.
pub(crate) fn accepted_unix_endpoints(
    stream: &impl std::os::fd::AsFd,
    listener_path: Option<&str>,
) -> (Endpoint, Endpoint) {
    let sock = SockRef::from(stream);
    let path = |a: socket2::SockAddr| {
        a.as_pathname()
            .map(|p| p.to_string_lossy().into_owned())
            .unwrap_or_default()
    };
    let local = match listener_path {
        Some(p) => p.to_owned(),
        None => sock.local_addr().map(path).unwrap_or_default(),
    };
    let remote = sock.peer_addr().map(path).unwrap_or_default();
    (Endpoint::Pipe(local), Endpoint::Pipe(remote))
}

/// The listener address that every connection it accepts shares as its local address:
/// `Some` unless the listener is bound to a wildcard (`0.0.0.0`, `::`, `::ffff:0.0.0.0`),
/// where the local address depends on the interface the connection came in on.
pub(crate) fn fixed_local_addr(listener: std::net::SocketAddr) -> Option<std::net::SocketAddr> {
    (!listener.ip().to_canonical().is_unspecified()).then_some(listener)
}

/// Local and remote endpoints of a connected stream, as the core wants them (`pipe` is the
/// listener's path for accepted Unix connections).
pub(crate) fn endpoints(
    stream: &impl std::os::fd::AsFd,
    pipe: Option<&str>,
) -> io::Result<(Endpoint, Endpoint)> {
    let sock = SockRef::from(stream);
    let local = sock.local_addr()?;
    let peer = sock.peer_addr()?;
    match (local.as_socket(), peer.as_socket()) {
        (Some(l), Some(r)) => Ok((Endpoint::Tcp(l), Endpoint::Tcp(r))),
        _ => {
            let path = |a: &socket2::SockAddr| {
                a.as_pathname()
                    .map(|p| p.to_string_lossy().into_owned())
                    .unwrap_or_default()
            };
            let local = pipe.map(str::to_owned).unwrap_or_else(|| path(&local));
            Ok((Endpoint::Pipe(local), Endpoint::Pipe(path(&peer))))
        }
    }
}

/// One non-blocking write of `chunk` (libuv's `uv_try_write`): the bytes the kernel took
/// (`Ok(0)` when it would block), or the error's code.
fn try_write_now<S: RtStream>(stream: &S, chunk: &Bytes) -> Result<usize, ErrorCode> {
    match stream.try_write_bytes(std::iter::once(chunk)) {
        Ok(n) => Ok(n),
        Err(e)
            if matches!(
                e.kind(),
                io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
            ) =>
        {
            Ok(0)
        }
        Err(e) => Err(code_from_io(&e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_specific_listener_addresses_are_every_connection_s_local_address() {
        for wildcard in ["0.0.0.0:80", "[::]:80", "[::ffff:0.0.0.0]:80"] {
            assert_eq!(
                fixed_local_addr(wildcard.parse().unwrap()),
                None,
                "{wildcard}"
            );
        }
        for specific in ["127.0.0.1:80", "[::1]:80", "[::ffff:127.0.0.1]:80"] {
            let a: std::net::SocketAddr = specific.parse().unwrap();
            assert_eq!(fixed_local_addr(a), Some(a), "{specific}");
        }
    }

    #[test]
    fn accepted_endpoints_match_what_the_socket_reports() {
        for (bind, connect) in [("127.0.0.1:0", None), ("[::]:0", Some("127.0.0.1"))] {
            let l = std::net::TcpListener::bind(bind).unwrap();
            let la = l.local_addr().unwrap();
            let ip = connect.map(|c| c.parse().unwrap()).unwrap_or(la.ip());
            let Ok(_c) = std::net::TcpStream::connect((ip, la.port())) else {
                continue; // no IPv6 on this machine
            };
            let (s, peer) = l.accept().unwrap();
            let fast = accepted_tcp_endpoints(&s, fixed_local_addr(la), Some(peer));
            let slow = endpoints(&s, None).unwrap();
            assert_eq!(fast, slow, "{bind}");
            assert_eq!(accepted_tcp_endpoints(&s, None, None), slow, "{bind}");
        }
    }
}
