//! `net.Socket` as a Sans-IO state machine: Node v20's client and accepted-connection
//! lifecycle (§1–§4, §10 of the spec) with the write queue, idle timer and connect logic
//! in the core and every IO action delegated to a backend through [`Command`]s.
//!
//! Files: `state` (flags → `readyState`), `events` (commands, events, ids), `connect`
//! (options, validation, resolve/connect, the connector seam), `multi` (driving the
//! happy-eyeballs planner for multi-address lookups), `write_queue` and
//! `writing` (write accounting, `end`, `Finish`), `reading` (pause/resume, `Data`/`End`),
//! `decoder` (`set_encoding`), `timer` (idle timeout), `sockopts` (noDelay/keepAlive),
//! `abort` (the `signal` option), `read_into` (reads into the caller's buffer, `onread`),
//! `later_reads` (read completions that wait for the previous read's ticks).

mod abort;
mod connect;
mod decoder;
mod events;
pub(crate) mod inline_deque;
mod later_reads;
mod multi;
mod read_into;
mod reading;
mod sockopts;
mod state;
mod timer;
mod write_queue;
mod writing;

use std::collections::VecDeque;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use inline_deque::InlineDeque;

use crate::address::Family;
use crate::error::{Error, ErrorCode, Result};
use crate::options::{Endpoint, SocketOptions};

pub use connect::{ConnectOptions, ADDRCONFIG};
pub use decoder::Encoding;
pub use events::{Command, SocketEvent, WriteId, WriteResult};
pub use state::{HandleKind, ReadyState};

use connect::Connector;
use decoder::Decoder;
use later_reads::LaterReads;
use state::Tick;
use timer::IdleTimer;
use write_queue::WriteQueue;

/// A Node `net.Socket` without IO: feed it user calls and IO completions, drain what it
/// wants done.
///
/// # Driving contract
///
/// * **Inputs.** User calls are methods (`connect`, `write`, `end`, `destroy`, `pause`,
///   `set_timeout`, `abort` when the socket's `signal` fires, ...). IO completions are
///   `handle_*` methods, each answering a [`Command`]: `handle_resolved` (for `Resolve`,
///   same id), `handle_connected` / `handle_connect_failed` / `handle_bind_failed` (for
///   `Connect`, same attempt id), `handle_data` / `handle_eof` / `handle_read_error`
///   (while reading; `handle_read_into` instead of `handle_data` when the bytes went into
///   the user's own buffer, Node's `onread`), `handle_written` / `handle_write_error`
///   (for `Write`), `handle_shutdown` (for `Shutdown`). Completions that no longer
///   match (stale ids, a destroyed socket) are ignored. Every call that can move time
///   takes `now`; the socket never reads a clock.
/// * **Outputs.** After *every* input, drain [`poll_command`](Socket::poll_command) (do
///   the IO, in order) and [`poll_event`](Socket::poll_event) (hand to the user) until
///   both are empty — handing out events runs Node's ticks, which may ask for more IO —
///   then wait until [`poll_timeout`](Socket::poll_timeout) or the next IO readiness,
///   whichever is first, and call [`handle_timeout`](Socket::handle_timeout) when the
///   deadline passes.
/// * **Writing.** On [`Command::Write`] the backend writes what
///   [`write_chunks`](Socket::write_chunks) yields (borrowed [`bytes::Bytes`], ideal for
///   one `writev`) and reports every success with `handle_written(n)`, continuing until
///   `write_chunks` is empty. A new `Write` arrives when data is queued into an empty
///   queue. A backend that can write without blocking should implement the user's
///   `write` with [`write_dispatch`](Socket::write_dispatch) (and `write_tracked` with
///   [`write_tracked_dispatch`](Socket::write_tracked_dispatch)): the core then lets it try the
///   write at once, as libuv does inside Node's `write()`, and answers with Node's
///   return value (a 16 KiB write the kernel takes whole returns `true`, no `Drain`).
/// * **Node's ticks.** What Node defers to `process.nextTick` (write callbacks, `'error'`,
///   `'end'` and `'finish'` and what its stream machinery does right after them, the
///   connect to an IP literal, the automatic `end()` after `End`) is queued inside the
///   socket and runs when [`poll_event`](Socket::poll_event) has handed out every event
///   queued before it — i.e. once the user has handled them, as a Node tick runs once the
///   current callback returned. So calls made while handling an event (a `write` in
///   response to `End`) happen "in the same tick", before the socket's own follow-up (the
///   automatic destroy after `End` and `Finish`), exactly as in Node. `handle_timeout`
///   also runs the pending ticks (`poll_timeout` reports them as already due); the
///   `handle_*` completions do not, since a backend may report one inside the user's
///   call (a write the kernel took at once, the FIN), where Node would not run them.
///   Reads are Node's read callbacks, each followed by its ticks: a read reported while
///   the previous one's events or ticks are still undelivered (`handle_data` twice
///   before polling) waits inside the socket and runs from `poll_event` once they were;
///   a write completion or the FIN reported while reads wait comes after them (libuv
///   completes those after the reads of the current readiness).
/// * **Order.** Events come out in Node's order: `Error` (at most one) before `Close`,
///   `Close` exactly once per lifecycle. `Close` is Node's handle-close callback: it
///   comes after every tick (so a write callback of a write made after `destroy()`
///   precedes it), and only once the backend took [`Command::Close`] — `poll_event`
///   returns `None` until then, so drain commands again. Only write callbacks can follow
///   `Close`: those of writes still waiting for the connection (Node runs them from a
///   `'close'` listener) and of writes issued after it.
/// * **Closing.** [`Command::Close`] needs no answer: the socket forgets the handle at
///   once and emits `Close` itself.
/// * **Happy eyeballs.** When a host name resolves to two or more usable addresses (and
///   `family` is unset, no `local_address`, `auto_select_family` on), the socket races
///   them (§5, [`ConnectOptions::happy_eyeballs`] picks Node's sequential algorithm or
///   RFC 8305): several [`Command::Connect`]s with distinct attempt ids, some of them
///   later cancelled with [`Command::Abort`], and the attempt timer in `poll_timeout`.
///   The backend answers each attempt as on the single path.
///
/// # Example: a complete driver loop against an in-memory peer
///
/// ```
/// use std::time::Instant;
/// use bytes::Bytes;
/// use nodenet_core::socket::{Command, ConnectOptions, Socket, SocketEvent};
/// use nodenet_core::SocketOptions;
///
/// let mut now = Instant::now();
/// let mut sock = Socket::new(SocketOptions::default());
/// sock.connect(ConnectOptions::tcp(8124, "127.0.0.1"), now).unwrap();
/// sock.write_tracked(Bytes::from_static(b"ping"), now);
/// sock.end(now).unwrap();
///
/// let mut peer_received = Vec::new(); // what the fake peer got
/// let mut log = Vec::new();
/// loop {
///     // 1. Do the IO the core asks for (here: a fake kernel that answers at once).
///     while let Some(cmd) = sock.poll_command() {
///         match cmd {
///             Command::Connect { attempt, .. } => {
///                 sock.handle_connected(attempt, "127.0.0.1:50000".parse().ok(), now)
///             }
///             Command::Write => {
///                 let chunks: Vec<Vec<u8>> = sock.write_chunks().map(|c| c.to_vec()).collect();
///                 for c in chunks {
///                     peer_received.extend_from_slice(&c);
///                     sock.handle_written(c.len(), now);
///                 }
///             }
///             Command::Shutdown => {
///                 sock.handle_shutdown(Ok(()), now);
///                 // The peer answers and then closes its side too.
///                 sock.handle_data(Bytes::from_static(b"pong"), now);
///                 sock.handle_eof(now);
///             }
///             _ => {} // StartReading, StopReading, Close, options: nothing to fake
///         }
///     }
///     // 2. Hand events to the user (which runs Node's ticks: they may want IO).
///     while let Some(ev) = sock.poll_event() {
///         log.push(ev);
///     }
///     if sock.has_commands() {
///         continue;
///     }
///     // 3. Timers.
///     match sock.poll_timeout() {
///         Some(t) if t <= now => sock.handle_timeout(now),
///         Some(t) => { now = t; sock.handle_timeout(now) }
///         None => break,
///     }
/// }
/// assert_eq!(peer_received, b"ping");
/// assert!(matches!(log.last(), Some(SocketEvent::Close { had_error: Some(false) })));
/// assert!(log.contains(&SocketEvent::Data(Bytes::from_static(b"pong"))));
/// assert!(log.contains(&SocketEvent::Finish));
/// ```
#[derive(Debug)]
pub struct Socket {
    // Configuration.
    allow_half_open: bool,
    high_water_mark: usize,
    max_buffered: Option<usize>,
    // Handle and lifecycle.
    handle: Option<HandleKind>,
    /// The handle is a connected stream (accepted, or after `Connect`).
    stream_open: bool,
    connecting: bool,
    destroyed: bool,
    // Read side.
    paused: bool,
    reading: bool,
    /// Reads land in the caller's buffer (Node's `onread`): `pause` stops reading at once.
    reads_into: bool,
    read_buf: VecDeque<bytes::Bytes>,
    read_buf_len: usize,
    eof: bool,
    end_emitted: bool,
    /// Boxed: rarely set, and every connection carries the field.
    decoder: Option<Box<Decoder>>,
    bytes_read: u64,
    // Write side.
    queue: WriteQueue,
    write_armed: bool,
    ending: bool,
    shutdown_sent: bool,
    finished: bool,
    errored: bool,
    error_emitted: bool,
    need_drain: bool,
    write_after_fin: bool,
    pending_write: Option<WriteId>,
    /// The first write of a connection that never came (Node's `_pendingData`, which a
    /// failed or destroyed connect leaves set): `bytesWritten` keeps counting it.
    parked_bytes: u64,
    destroy_on_finish: bool,
    /// The FIN went out (Node's `prefinish`); `Finish` follows on the next tick.
    prefinished: bool,
    reset_on_connect: bool,
    /// `Connect` was emitted by a connect answer whose caller still runs the rest of
    /// Node's afterConnect (`Ready`, writes, reading).
    ready_due: bool,
    /// The socket's `signal` destroyed it (see `abort`): it never connects again.
    aborted: bool,
    next_write: u64,
    // Socket options (desired values, applied at connect or when changed).
    no_delay: bool,
    keep_alive: bool,
    keep_alive_secs: u32,
    // Address caches.
    peer: Option<SocketAddr>,
    /// Node's `_peername` cache: the remote address was read while the handle was open,
    /// so it stays readable after close (an atomic so the getters keep `&self`).
    peer_cached: AtomicBool,
    sock: Option<SocketAddr>,
    // Connecting.
    connector: Connector,
    next_attempt: u64,
    /// `autoSelectFamilyAttemptedAddresses` of the last finished multi-address connect
    /// (while one runs, the planner's list is read directly).
    attempted: Option<Box<[String]>>,
    // Time.
    timer: IdleTimer,
    timeout_value: Option<f64>,
    ticks: InlineDeque<Tick>,
    last_now: Option<Instant>,
    /// Node's close phase: what the closed handle's callback emits (`Close`, with the
    /// write callbacks Node runs around it), once every tick ran and the backend took
    /// the [`Command::Close`].
    /// Usually just `Close`: kept inline, as the event queue's first item is.
    close_phase: InlineDeque<SocketEvent>,
    /// `Close` commands not yet taken by the backend.
    closes_queued: u32,
    /// Read completions reported while the previous one's events and ticks were still
    /// undelivered: Node's next read callbacks, run once those ticks ran.
    later_reads: LaterReads,
    // Outputs.
    events: InlineDeque<SocketEvent>,
    commands: InlineDeque<Command>,
}

impl Socket {
    /// `new net.Socket(options)`: an unconnected client socket (readyState `open`, as in
    /// Node). Connect it with [`connect`](Socket::connect).
    pub fn new(options: SocketOptions) -> Socket {
        Socket {
            allow_half_open: options.allow_half_open,
            high_water_mark: options.high_water_mark,
            max_buffered: options.max_buffered_bytes,
            handle: None,
            stream_open: false,
            connecting: false,
            destroyed: false,
            paused: false,
            reads_into: false,
            reading: false,
            read_buf: VecDeque::new(),
            read_buf_len: 0,
            eof: false,
            end_emitted: false,
            decoder: None,
            bytes_read: 0,
            queue: WriteQueue::default(),
            write_armed: false,
            ending: false,
            shutdown_sent: false,
            finished: false,
            errored: false,
            error_emitted: false,
            need_drain: false,
            write_after_fin: false,
            pending_write: None,
            parked_bytes: 0,
            destroy_on_finish: false,
            prefinished: false,
            reset_on_connect: false,
            ready_due: false,
            aborted: false,
            next_write: 0,
            no_delay: options.no_delay,
            keep_alive: options.keep_alive,
            keep_alive_secs: options.keep_alive_initial_delay_secs,
            peer: None,
            peer_cached: AtomicBool::new(false),
            sock: None,
            connector: Connector::Idle,
            next_attempt: 0,
            attempted: None,
            timer: IdleTimer::default(),
            timeout_value: None,
            ticks: InlineDeque::default(),
            last_now: None,
            close_phase: InlineDeque::default(),
            closes_queued: 0,
            later_reads: LaterReads::default(),
            events: InlineDeque::default(),
            commands: InlineDeque::default(),
        }
    }

    /// A server-side socket for an accepted connection, open at once with the server's
    /// options (`allow_half_open`, `pause_on_connect`, `no_delay`, `keep_alive`,
    /// high-water mark). Its first commands apply the options and start reading (unless
    /// `pause_on_connect`). An [`Endpoint::Pipe`] remote makes an IPC socket.
    pub fn accepted(
        options: &SocketOptions,
        local: Endpoint,
        remote: Endpoint,
        now: Instant,
    ) -> Socket {
        let mut s = Socket::new(options.clone());
        s.last_now = Some(now);
        s.stream_open = true;
        s.paused = options.pause_on_connect;
        match (&local, &remote) {
            (_, Endpoint::Pipe(_)) | (Endpoint::Pipe(_), _) => {
                s.handle = Some(HandleKind::Pipe);
            }
            (Endpoint::Tcp(l), Endpoint::Tcp(r)) => {
                s.handle = Some(HandleKind::Tcp);
                s.sock = Some(*l);
                s.peer = Some(*r);
                if options.no_delay {
                    s.commands.push_back(Command::SetNoDelay(true));
                }
                if options.keep_alive {
                    s.commands.push_back(Command::SetKeepAlive {
                        enable: true,
                        initial_delay_secs: options.keep_alive_initial_delay_secs,
                    });
                }
            }
        }
        if !s.paused {
            s.start_reading();
        }
        s
    }

    // ---- outputs -----------------------------------------------------------------

    /// The next IO request for the backend.
    #[inline]
    #[must_use = "a command taken and ignored is never performed"]
    pub fn poll_command(&mut self) -> Option<Command> {
        let cmd = self.commands.pop_front();
        if let Some(Command::Close { .. }) = cmd {
            self.closes_queued = self.closes_queued.saturating_sub(1);
        }
        cmd
    }

    /// Whether [`poll_command`](Socket::poll_command) has something: a cheap check a
    /// driver can make after every input before draining the commands.
    #[inline]
    pub fn has_commands(&self) -> bool {
        !self.commands.is_empty()
    }

    /// The next user event. Runs Node's deferred ticks once the events queued before them
    /// are handed out, and delivers `Close` once they all ran and the backend took
    /// [`Command::Close`] (until then it answers `None`: drain commands, then poll again).
    #[inline]
    #[must_use = "an event taken and ignored is lost"]
    pub fn poll_event(&mut self) -> Option<SocketEvent> {
        match self.events.pop_front() {
            Some(ev) => Some(ev),
            // Most polls find nothing deferred either: answer that without the call.
            None if !self.deferred_pending() => None,
            None => self.next_deferred_event(),
        }
    }

    fn next_deferred_event(&mut self) -> Option<SocketEvent> {
        loop {
            if let Some(ev) = self.events.pop_front() {
                return Some(ev);
            }
            if let Some(tick) = self.ticks.pop_front() {
                match tick.into_event() {
                    Ok(ev) => return Some(ev),
                    Err(work) => self.run_tick(work),
                }
                continue;
            }
            // Every tick of the previous read callback ran: Node's next read callback.
            if let Some((read, at)) = self.later_reads.pop() {
                self.run_later_read(read, at);
                continue;
            }
            if self.close_phase.is_empty() || self.closes_queued > 0 {
                return None;
            }
            self.events.extend(self.close_phase.drain());
        }
    }

    /// Beyond Node: give back the heap memory of internal queues that are empty (events,
    /// commands, ticks, read and write queues), so a connection that went idle holds none.
    /// Each queue keeps its first item inline, so a connection that handles one message
    /// at a time never allocates here and this is a few compares; only a burst (several
    /// events or chunks at once) leaves overflow capacity to give back. No observable
    /// effect; a backend calls it when the socket is about to wait.
    #[inline]
    pub fn release_idle_buffers(&mut self) {
        #[inline]
        fn release<T>(q: &mut VecDeque<T>) {
            if q.is_empty() && q.capacity() != 0 {
                *q = VecDeque::new();
            }
        }
        self.events.release_if_empty();
        self.commands.release_if_empty();
        self.ticks.release_if_empty();
        self.later_reads.release_if_empty();
        release(&mut self.read_buf);
        self.queue.release_if_empty();
        self.close_phase.release_if_empty();
    }

    /// Bytes of heap the internal queues hold (what
    /// [`release_idle_buffers`](Socket::release_idle_buffers) can give back).
    #[cfg(test)]
    pub(crate) fn queue_capacity_bytes(&self) -> usize {
        use std::mem::size_of;
        self.events.heap_bytes()
            + self.commands.heap_bytes()
            + self.ticks.heap_bytes()
            + self.later_reads.heap_bytes()
            + self.read_buf.capacity() * size_of::<bytes::Bytes>()
            + self.queue.capacity_bytes()
            + self.close_phase.heap_bytes()
    }

    /// The time the next input may carry instead of a fresh clock reading: the last time
    /// the socket was given, when nothing depends on the current one (no idle timeout is
    /// set, no deferred tick is pending, no happy-eyeballs attempt is timed); `None` when
    /// the input needs the real time. nodenet's drivers use it on the data path, which
    /// then reads no clock.
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// use nodenet_core::{Endpoint, Socket, SocketOptions};
    ///
    /// let t0 = Instant::now();
    /// let local = Endpoint::Tcp("127.0.0.1:80".parse().unwrap());
    /// let remote = Endpoint::Tcp("127.0.0.1:5000".parse().unwrap());
    /// let mut s = Socket::accepted(&SocketOptions::default(), local, remote, t0);
    /// assert_eq!(s.reusable_time(), Some(t0));
    /// // An idle timeout needs the clock.
    /// s.set_timeout(1000.0, t0 + Duration::from_millis(5)).unwrap();
    /// assert_eq!(s.reusable_time(), None);
    /// ```
    #[inline]
    pub fn reusable_time(&self) -> Option<Instant> {
        if self.timer.enabled() || self.deferred_pending() || self.is_multi() {
            None
        } else {
            self.last_now
        }
    }

    /// When [`handle_timeout`](Socket::handle_timeout) must be called next: the idle
    /// timer, or — when Node-style deferred work (a tick, the close phase) is pending —
    /// the `now` of the last input (i.e. immediately).
    #[inline]
    #[must_use = "the machine must be woken at this deadline"]
    pub fn poll_timeout(&self) -> Option<Instant> {
        // The data path's usual answer, asked on every poll: nothing is timed. Kept
        // small so it inlines into the driver's poll; the rest is out of line.
        if self.timer.deadline().is_none() && !self.deferred_pending() && !self.is_multi() {
            return None;
        }
        self.next_deadline()
    }

    /// [`poll_timeout`](Socket::poll_timeout) when something may be timed.
    #[inline(never)]
    fn next_deadline(&self) -> Option<Instant> {
        let tick = if self.deferred_pending() {
            self.last_now
        } else {
            None
        };
        [tick, self.timer.deadline(), self.multi_deadline()]
            .into_iter()
            .flatten()
            .min()
    }

    /// Ticks, later read completions or the close phase are waiting for
    /// [`poll_event`](Socket::poll_event).
    #[inline]
    fn deferred_pending(&self) -> bool {
        !self.ticks.is_empty() || !self.close_phase.is_empty() || !self.later_reads.is_empty()
    }

    /// Time passed: run deferred ticks, advance the happy-eyeballs attempt timer, then
    /// fire `Timeout` if the idle period elapsed.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.input(now);
        self.run_ticks();
        self.multi_timeout(now);
        if self.timer.expire(now) && !self.destroyed {
            self.events.push_back(SocketEvent::Timeout);
        }
    }

    // ---- user commands -----------------------------------------------------------

    /// `socket.destroy([err])`: close at once (`destroyed` is true on return, the handle
    /// is closed with [`Command::Close`]). With an error: `Error(err)` on the next tick,
    /// then `Close { had_error: Some(true) }`; without: `Close { had_error: Some(false) }`
    /// (`None`, on a tick, if the socket never had a handle). Queued writes fail with the
    /// error (or `ERR_STREAM_DESTROYED`) just before `Close`; writes still waiting for the
    /// connection fail right after it, the first with `ERR_SOCKET_CLOSED_BEFORE_CONNECTION`
    /// (Node calls it from a `'close'` listener). A second call is a no-op.
    pub fn destroy(&mut self, err: Option<Error>) {
        self.destroy_inner(err, false);
    }

    /// `socket.destroySoon()`: `end()`, then destroy once `Finish` was handled (without
    /// waiting for the peer's end). Until then `destroyed` stays false and `readyState`
    /// is `readOnly`.
    pub fn destroy_soon(&mut self, now: Instant) {
        self.last_now = Some(now);
        if self.writable() {
            self.end_inner();
        }
        if self.finished {
            self.destroy_inner(None, false);
        } else {
            self.destroy_on_finish = true;
        }
    }

    /// `socket.resetAndDestroy()`: close with an RST ([`Command::Close`] `{ reset: true }`,
    /// local `Close { had_error: Some(false) }`). Deferred until `Connect` while
    /// connecting; without a handle it destroys with `ERR_SOCKET_CLOSED`; on an IPC
    /// socket it fails with `ERR_INVALID_HANDLE_TYPE` (Node throws).
    ///
    /// While the FIN of an `end()` is in flight (requested, its completion not yet
    /// delivered as `Finish`) libuv refuses the reset (`uv_tcp_close_reset` returns
    /// `EINVAL` while a shutdown request is pending) and Node emits `Error` `reset
    /// EINVAL` at once, before anything already queued; the socket is destroyed anyway
    /// (without erroring the stream: `end`'s callback still gets
    /// `ERR_STREAM_DESTROYED`), and no RST is sent: the FIN stands. Node then never
    /// closes the handle and never emits `'close'`; nodenet, deliberately, closes the
    /// socket normally and emits `Close { had_error: Some(false) }` (a descriptor is
    /// not leaked).
    pub fn reset_and_destroy(&mut self) -> Result<()> {
        match self.handle {
            Some(HandleKind::Pipe) => Err(Error::invalid_handle_type()),
            Some(HandleKind::Tcp) if self.connecting => {
                self.reset_on_connect = true;
                Ok(())
            }
            Some(HandleKind::Tcp) if self.shutdown_sent && !self.finished => {
                self.destroy_inner(None, false);
                let refused = Error::errno_exception(ErrorCode::EINVAL, "reset");
                self.events.push_front(SocketEvent::Error(refused));
                Ok(())
            }
            Some(HandleKind::Tcp) => {
                self.destroy_inner(None, true);
                Ok(())
            }
            None => {
                self.destroy_inner(Some(Error::socket_closed()), false);
                Ok(())
            }
        }
    }

    // ---- getters -----------------------------------------------------------------

    /// `socket.readyState`.
    pub fn ready_state(&self) -> ReadyState {
        let (r, w) = (self.readable(), self.writable());
        if self.connecting {
            ReadyState::Opening
        } else if r && w {
            ReadyState::Open
        } else if r {
            ReadyState::ReadOnly
        } else if w {
            ReadyState::WriteOnly
        } else {
            ReadyState::Closed
        }
    }
    /// `socket.connecting`.
    pub fn connecting(&self) -> bool {
        self.connecting
    }
    /// `socket.pending`: no handle yet, or still connecting.
    pub fn pending(&self) -> bool {
        self.handle.is_none() || self.connecting
    }
    /// `socket.destroyed`.
    pub fn destroyed(&self) -> bool {
        self.destroyed
    }
    /// `socket.readable`: the read side can still deliver data.
    pub fn readable(&self) -> bool {
        !self.destroyed && !self.error_emitted && !self.end_emitted
    }
    /// `socket.writable`: `write` is still allowed.
    pub fn writable(&self) -> bool {
        !(self.ending || self.destroyed || self.errored)
    }
    /// The error a `write()` made now would fail with, for byte-stream adapters that
    /// must refuse data up front (`None` while [`writable`](Socket::writable)):
    /// `ERR_STREAM_WRITE_AFTER_END` (or `EPIPE`, "ended by the other party") after
    /// `end()`, `ERR_STREAM_DESTROYED` otherwise.
    pub fn write_refusal(&self) -> Option<Error> {
        if self.writable() {
            None
        } else if self.ending && !self.destroyed {
            Some(if self.write_after_fin {
                Error::ended_by_other_party()
            } else {
                Error::write_after_end()
            })
        } else {
            Some(Error::stream_destroyed("write"))
        }
    }
    /// `socket.writableEnded`: `end()` was called.
    pub fn writable_ended(&self) -> bool {
        self.ending
    }
    /// `socket.writableFinished`: `Finish` was emitted.
    pub fn writable_finished(&self) -> bool {
        self.finished
    }
    /// `socket.readableEnded`: `End` was emitted.
    pub fn readable_ended(&self) -> bool {
        self.end_emitted
    }
    /// `socket.writableNeedDrain`.
    pub fn writable_need_drain(&self) -> bool {
        self.need_drain
    }
    /// `socket.allowHalfOpen`.
    pub fn allow_half_open(&self) -> bool {
        self.allow_half_open
    }
    /// `socket.writableHighWaterMark`.
    pub fn writable_high_water_mark(&self) -> usize {
        self.high_water_mark
    }
    /// `socket.writableLength` (also `bufferSize` once there is a handle): bytes queued
    /// and not yet written. (Node keeps counting a partly sent write in full until it
    /// completes; `write`'s return value follows Node, this getter counts bytes.)
    pub fn writable_length(&self) -> usize {
        self.queue.len()
    }
    /// `socket.bufferSize`: [`writable_length`](Socket::writable_length) while the
    /// socket has a handle — from `connect()` (or acceptance) until `destroy()`, which
    /// sets Node's `_handle` to `null` — and `None` (Node's `undefined`) otherwise.
    pub fn buffer_size(&self) -> Option<usize> {
        (self.handle.is_some() && !self.destroyed()).then(|| self.writable_length())
    }
    /// `socket.bytesWritten`: bytes written on this handle plus bytes still queued (and,
    /// once a connection that never came is destroyed, its first write, as Node's
    /// `_pendingData` stays counted).
    pub fn bytes_written(&self) -> u64 {
        self.queue.sent + self.queue.len() as u64 + self.parked_bytes
    }
    /// `socket.bytesRead`.
    pub fn bytes_read(&self) -> u64 {
        self.bytes_read
    }
    /// `socket.readableLength`: received bytes not yet delivered (paused socket).
    pub fn readable_length(&self) -> usize {
        self.read_buf_len
    }
    /// `socket.isPaused()`.
    pub fn is_paused(&self) -> bool {
        self.paused
    }
    /// `socket.timeout`: the last value given to `set_timeout` (stored even when it was
    /// rejected), `None` if never called.
    pub fn timeout(&self) -> Option<f64> {
        self.timeout_value
    }
    /// The kind of handle, if any.
    pub fn handle_kind(&self) -> Option<HandleKind> {
        self.handle
    }
    /// `socket.remoteAddress` (`None` for IPC). As in Node, the address is remembered
    /// when one of the remote getters is read while the handle is open: then it stays
    /// readable after close; read for the first time after close it is `None`.
    pub fn remote_address(&self) -> Option<IpAddr> {
        self.peername().map(|a| a.ip())
    }
    /// `socket.remotePort` (remembered like [`remote_address`](Socket::remote_address)).
    pub fn remote_port(&self) -> Option<u16> {
        self.peername().map(|a| a.port())
    }
    /// `socket.remoteFamily` (remembered like [`remote_address`](Socket::remote_address)).
    pub fn remote_family(&self) -> Option<Family> {
        self.peername().map(|a| family_of(&a))
    }

    /// Node's `_getpeername`: ask the open handle (and cache the answer), else answer
    /// from the cache.
    fn peername(&self) -> Option<SocketAddr> {
        if self.handle.is_some() && !self.connecting {
            if self.peer.is_some() {
                self.peer_cached.store(true, Ordering::Relaxed);
            }
            self.peer
        } else if self.peer_cached.load(Ordering::Relaxed) {
            self.peer
        } else {
            None
        }
    }
    /// `socket.localAddress` (cleared on close; `None` for IPC).
    pub fn local_address(&self) -> Option<IpAddr> {
        self.sock.map(|a| a.ip())
    }
    /// `socket.localPort`.
    pub fn local_port(&self) -> Option<u16> {
        self.sock.map(|a| a.port())
    }
    /// `socket.localFamily`.
    pub fn local_family(&self) -> Option<Family> {
        self.sock.map(|a| family_of(&a))
    }
    /// `socket.address()`: `None` is Node's `{}`.
    pub fn address(&self) -> Option<SocketAddr> {
        self.sock
    }
    /// `socket.autoSelectFamilyAttemptedAddresses`: `"ip:port"` (IPv6 unbracketed) for
    /// every happy-eyeballs attempt that emitted `ConnectionAttempt`, in order; `None`
    /// unless a lookup produced two or more candidates. As in Node, the list of the last
    /// multi-address connect stays after a later single-address reconnect.
    pub fn auto_select_family_attempted_addresses(&self) -> Option<&[String]> {
        match &self.connector {
            Connector::Multi(m) => Some(m.planner.attempted_addresses()),
            _ => self.attempted.as_deref(),
        }
    }

    // ---- internals ---------------------------------------------------------------

    /// Bookkeeping at the start of every completion: remember `now`. Pending ticks stay
    /// queued: a backend reports some completions inside the user's call (a write the
    /// kernel took at once, the FIN, a refused connect), i.e. inside a handler, before
    /// which Node would not have run them; after a real IO wait they were drained anyway.
    fn input(&mut self, now: Instant) {
        self.last_now = Some(now);
    }

    /// Run every pending tick now (`handle_timeout`: the driver has drained the events).
    fn run_ticks(&mut self) {
        while let Some(t) = self.ticks.pop_front() {
            self.run_tick(t);
        }
    }

    /// Run one deferred step (see [`Tick`]).
    fn run_tick(&mut self, tick: Tick) {
        let tick = match tick.into_event() {
            Ok(ev) => return self.events.push_back(ev),
            Err(work) => work,
        };
        match tick {
            Tick::WriteDone(..) | Tick::Drain | Tick::Emit(_) => {}
            Tick::StartConnect => self.tick_start_connect(),
            Tick::AutoEnd => {
                // Node's endWritableNT.
                if self.writable() {
                    self.end_inner();
                }
            }
            Tick::Destroy(err) => self.destroy_inner(Some(err), false),
            Tick::BindDone(id, at) => {
                let now = self.last_now.unwrap_or(at);
                self.multi_bind_done(now, id, at)
            }
            Tick::Flow => self.flow(),
            Tick::EndReadable => self.end_readable(),
            Tick::AfterEnd => self.after_end(),
            Tick::Finish => self.finish(),
            Tick::AfterFinish => {
                // `destroySoon`'s 'finish' listener, then finish()'s autoDestroy check.
                if self.destroy_on_finish || self.end_emitted {
                    self.destroy_inner(None, false);
                }
            }
        }
    }

    /// Handle present, connected and alive.
    fn is_open(&self) -> bool {
        self.handle.is_some() && !self.connecting && !self.destroyed
    }

    pub(crate) fn destroy_inner(&mut self, err: Option<Error>, reset: bool) {
        self.destroy_with(err, reset, false);
    }

    /// Node's `destroy(err)` with `net.Socket._destroy`: everything synchronous happens
    /// now (destroyed, timers, the handle close), `Error` is a tick, `Close` the close
    /// phase. `fail_queue_now`: a write error, whose callbacks Node runs before destroying
    /// (onwriteError), so the queued writes fail at once.
    pub(crate) fn destroy_with(&mut self, err: Option<Error>, reset: bool, fail_queue_now: bool) {
        if self.destroyed {
            return;
        }
        self.destroyed = true;
        if !self.stream_open {
            // net's _writeGeneric parked the first write in `_pendingData` until
            // 'connect'; nothing clears it when the connection never comes.
            self.parked_bytes = self.queue.front().map_or(0, |(_, n)| n as u64);
        }
        self.connecting = false;
        self.timer.clear();
        // Happy eyeballs mid-algorithm: abort the attempts; their ECANCELED reports come
        // after `destroy()` but before `close`, as in Node v20.
        let mut before_close = self.cancel_multi();
        self.connector = Connector::Idle;
        let pending = self.pending_write.take();
        let mut after_close = Vec::new();
        // Reads behind the current callback never ran in Node: the handle closed first.
        // Writes whose completion waited behind them did complete: their callbacks come
        // first, with the close (or on a tick when a write error destroys).
        for id in self.later_reads.drop_waiting() {
            let ev = SocketEvent::WriteDone { id, result: Ok(()) };
            if fail_queue_now {
                self.ticks.push_back(Tick::emit(ev));
            } else {
                before_close.push(ev);
            }
        }
        if !self.queue.is_empty() {
            // Built only when a queued write needs it: most sockets are destroyed with an
            // empty queue, and the message costs an allocation and a format.
            if fail_queue_now {
                let e = err
                    .clone()
                    .unwrap_or_else(|| Error::stream_destroyed("write"));
                for id in self.queue.drain_ids() {
                    let ev = SocketEvent::WriteDone {
                        id,
                        result: Err(e.clone()),
                    };
                    self.ticks.push_back(Tick::emit(ev));
                }
            } else if !self.stream_open {
                // Never connected: the parked first write fails from a 'close' listener
                // with ERR_SOCKET_CLOSED_BEFORE_CONNECTION, the writes behind it then with
                // the stream's error (that one when there is none).
                let first = Error::socket_closed_before_connection();
                let rest = err.clone().unwrap_or_else(|| first.clone());
                for id in self.queue.drain_ids() {
                    let e = if Some(id) == pending { &first } else { &rest };
                    after_close.push(SocketEvent::WriteDone {
                        id,
                        result: Err(e.clone()),
                    });
                }
            } else {
                // Connected: the handle's close cancels the write in flight and the
                // buffered ones fail with the stream's error, all just before 'close'.
                let e = err
                    .clone()
                    .unwrap_or_else(|| Error::stream_destroyed("write"));
                for id in self.queue.drain_ids() {
                    before_close.push(SocketEvent::WriteDone {
                        id,
                        result: Err(e.clone()),
                    });
                }
            }
        }
        self.write_armed = false;
        self.reading = false;
        // A destroyed stream discards what it buffered; nothing may follow `Close`.
        self.read_buf.clear();
        self.read_buf_len = 0;
        let had_error = err.is_some();
        if let Some(e) = err {
            self.errored = true;
            self.error_emitted = true;
            self.ticks.push_back(Tick::emit(SocketEvent::Error(e)));
        }
        let had_handle = self.handle.take().is_some();
        self.stream_open = false;
        self.sock = None;
        if had_handle {
            self.commands.push_back(Command::Close { reset });
            self.closes_queued += 1;
            self.close_phase.extend(before_close);
            self.close_phase.push_back(SocketEvent::Close {
                had_error: Some(had_error),
            });
            self.close_phase.extend(after_close);
        } else {
            // No handle: Node emits a bare 'close' on the next tick, after the error.
            for ev in before_close.into_iter().chain(after_close) {
                self.ticks.push_back(Tick::emit(ev));
            }
            self.ticks
                .push_back(Tick::emit(SocketEvent::Close { had_error: None }));
        }
    }

    /// `connect()` on a destroyed socket: a fresh handle and stream state (§4.4).
    fn reset_for_reconnect(&mut self) {
        self.destroyed = false;
        self.read_buf.clear();
        self.read_buf_len = 0;
        self.eof = false;
        self.end_emitted = false;
        self.bytes_read = 0;
        self.later_reads.reset();
        self.queue.reset();
        self.write_armed = false;
        self.ending = false;
        self.shutdown_sent = false;
        self.finished = false;
        self.errored = false;
        self.error_emitted = false;
        self.need_drain = false;
        self.pending_write = None;
        self.parked_bytes = 0;
        self.destroy_on_finish = false;
        self.prefinished = false;
        self.reset_on_connect = false;
        self.peer = None;
        self.peer_cached.store(false, Ordering::Relaxed);
        self.sock = None;
        // The old lifecycle's deferred work is moot, but what it still has to say (write
        // callbacks, its error) is said; its `Close` stays in the close phase.
        let old: Vec<Tick> = self.ticks.drain().filter(Tick::is_event).collect();
        for t in old {
            self.ticks.push_back(t);
        }
    }
}

fn family_of(a: &SocketAddr) -> Family {
    if a.is_ipv4() {
        Family::IPv4
    } else {
        Family::IPv6
    }
}

#[cfg(test)]
mod release_idle_buffers_tests {
    use super::*;

    fn accepted(now: Instant) -> Socket {
        let local = Endpoint::Tcp("127.0.0.1:1".parse().unwrap());
        let remote = Endpoint::Tcp("127.0.0.1:2".parse().unwrap());
        Socket::accepted(&SocketOptions::default(), local, remote, now)
    }

    #[test]
    fn only_empty_queues_are_released_and_nothing_queued_is_lost() {
        let now = Instant::now();
        let mut s = accepted(now);
        let _ = s.write_tracked(bytes::Bytes::from_static(b"hello"), now);
        // Commands and the queued write are pending: nothing may be dropped.
        s.release_idle_buffers();
        assert_eq!(s.writable_length(), 5);
        assert_eq!(s.write_chunks().collect::<Vec<_>>(), vec![&b"hello"[..]]);
        let mut commands = 0;
        while s.poll_command().is_some() {
            commands += 1;
        }
        assert!(commands > 0);
        s.handle_written(5, now);
        let mut done = 0;
        while let Some(ev) = s.poll_event() {
            done += usize::from(matches!(ev, SocketEvent::WriteDone { .. }));
        }
        assert_eq!(done, 1);
        while s.poll_command().is_some() {}
        assert!(s.queue_capacity_bytes() > 0);
        s.release_idle_buffers();
        assert_eq!(s.queue_capacity_bytes(), 0);
        // Still fully usable afterwards.
        let _ = s.write_tracked(bytes::Bytes::from_static(b"again"), now);
        assert_eq!(s.writable_length(), 5);
    }

    #[test]
    fn one_message_at_a_time_needs_no_queue_memory() {
        let now = Instant::now();
        let mut s = accepted(now);
        while s.poll_command().is_some() {}
        s.release_idle_buffers();
        for _ in 0..100 {
            // An echo round: data in, write it back (the kernel takes it at once), events out.
            s.handle_data(bytes::Bytes::from_static(b"ping"), now);
            let Some(SocketEvent::Data(d)) = s.poll_event() else {
                panic!("data first")
            };
            let r = s.write_tracked_dispatch(d, |chunk| Ok(chunk.len()), now);
            assert!(r.ok);
            assert!(matches!(
                s.poll_event(),
                Some(SocketEvent::WriteDone { .. })
            ));
            assert_eq!(s.poll_event(), None);
            assert_eq!(s.poll_command(), None);
            assert_eq!(s.queue_capacity_bytes(), 0, "nothing allocated");
        }
    }
}
