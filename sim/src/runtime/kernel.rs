//! The simulation's kernel state: hosts and their addresses, the DNS table, links
//! (partitions, holds, latency), listeners, connections as two byte pipes, sockets, the
//! timed queue of what the network does next, virtual time and the timers. All of it
//! sits behind one lock in [`Shared`]; every handle (stream, listener, timer) holds an
//! `Arc<Shared>` and an index. Collections are `Vec`s and `BTreeMap`s, so iteration order
//! (and with it the trace) depends only on the seed.

use atomic_refcell::{AtomicRefCell, AtomicRefMut};
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::task::Waker;
use std::time::{Duration, Instant};

use bytes::Bytes;
use nodenet_core::ErrorCode;

use super::latency::{Latency, Prepared};
use super::observe::SimChecker;
use super::pool;
use super::queue::EventQueue;
use crate::faults::{Faults, Injected};
use crate::rng::Rng;
use crate::trace::Trace;

/// Index of a host in the kernel.
pub(crate) type HostIx = usize;
/// Index of a socket in the kernel.
pub(crate) type SockId = usize;
/// Index of a connection in the kernel.
pub(crate) type ConnId = usize;
/// Index of a listener in the kernel.
pub(crate) type ListenerId = usize;

/// What every handle shares: the kernel behind a lock, and the virtual clock (read
/// without the lock by `Runtime::now`).
pub(crate) struct Shared {
    pub(crate) base: Instant,
    pub(crate) now_nanos: AtomicU64,
    pub(crate) next_probe: AtomicU32,
    /// The checker or the trace watches the sockets and servers (`Runtime::observe`
    /// has something to tell them; without either it takes no lock).
    pub(crate) observed: bool,
    pub(crate) state: AtomicRefCell<State>,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field(
                "now",
                &Duration::from_nanos(self.now_nanos.load(Ordering::Relaxed)),
            )
            .finish_non_exhaustive()
    }
}

/// Take `cell` for one call. A simulation runs on one thread, so its locks are never
/// contended: an `AtomicRefCell` (one atomic operation to take it, a plain store to
/// release it) rather than a `Mutex` (two). Should a handle moved to another thread ever
/// meet the simulation's own thread inside, it waits its turn, as on a mutex.
pub(crate) fn borrow<T>(cell: &AtomicRefCell<T>) -> AtomicRefMut<'_, T> {
    loop {
        if let Ok(taken) = cell.try_borrow_mut() {
            return taken;
        }
        std::hint::spin_loop();
    }
}

impl Shared {
    /// The kernel, for one call (see [`borrow`]: every socket call and every event
    /// observed takes it, about 130 times per echo simulation).
    pub(crate) fn lock(&self) -> AtomicRefMut<'_, State> {
        borrow(&self.state)
    }

    /// The current virtual instant.
    pub(crate) fn instant(&self) -> Instant {
        self.base + Duration::from_nanos(self.now_nanos.load(Ordering::Relaxed))
    }

    /// Virtual time elapsed, as the kernel's `Duration`.
    pub(crate) fn offset(&self, at: Instant) -> Duration {
        at.saturating_duration_since(self.base)
    }
}

/// One simulated machine.
#[derive(Debug)]
pub(crate) struct Host {
    pub(crate) name: String,
    pub(crate) addrs: Vec<IpAddr>,
    pub(crate) next_port: u16,
    /// False between `crash` and `restart`.
    pub(crate) up: bool,
    /// The host's filesystem, as far as sockets see it: the Unix socket files by path
    /// (see `unix`). A file outlives its listener, and a crash, until it is unlinked.
    pub(crate) files: BTreeMap<String, SocketFile>,
}

/// A Unix socket file: what `bind(2)` of a path created.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct SocketFile {
    /// The listener bound to it (it may have closed since: a stale file).
    pub(crate) listener: ListenerId,
    /// `st_mode`: `S_IFSOCK` and the permission bits (`0o755` under the usual umask
    /// `022`, plus what `readableAll` / `writableAll` added).
    pub(crate) mode: u32,
}

impl Host {
    pub(crate) fn addr_of_family(&self, v6: bool) -> Option<IpAddr> {
        self.addrs.iter().copied().find(|a| a.is_ipv6() == v6)
    }
}

/// The `Bytes` in a pipe, each with its arrival time.
pub(crate) type Chunks = VecDeque<(Option<Duration>, Bytes)>;

/// Bytes (and the FIN) travelling toward one end, each with the time it becomes
/// readable; `None` while held by the network (a partition, a hold, a crashed host),
/// timed when the link heals. Times are monotone, so TCP's ordering holds.
#[derive(Debug, Default)]
pub(crate) struct Pipe {
    /// The `Bytes` the peer wrote, kept rather than copied (each `send` pushes its
    /// chunks with one arrival time); a read within one chunk is a slice of it.
    pub(crate) chunks: Chunks,
    /// Bytes in the pipe (in flight and unread): what the sender's window sees.
    pub(crate) len: usize,
    pub(crate) last_ready: Duration,
    /// The FIN: `Some(None)` while held.
    pub(crate) fin: Option<Option<Duration>>,
    /// Anything is held (for the link's retiming).
    pub(crate) held: bool,
    /// The time of an `Arrive` event queued for this pipe and not processed yet: data
    /// arriving at that same time needs no event of its own (the reader is woken then).
    pub(crate) arrive_queued: Option<Duration>,
}

impl Pipe {
    fn time(&mut self, at: Option<Duration>) -> Option<Duration> {
        if self.held {
            return None;
        }
        let at = at?.max(self.last_ready);
        self.last_ready = at;
        Some(at)
    }

    /// Queue the chunks of one `send`, all arriving at `at` (or held).
    pub(crate) fn push(
        &mut self,
        at: Option<Duration>,
        data: impl Iterator<Item = Bytes>,
    ) -> Option<Duration> {
        let at = self.time(at);
        self.held |= at.is_none();
        if self.chunks.capacity() == 0 {
            // Sends come in bursts: one allocation rather than a growth per doubling.
            self.chunks.reserve(32);
        }
        for d in data {
            self.len += d.len();
            self.chunks.push_back((at, d));
        }
        at
    }

    pub(crate) fn fin(&mut self, at: Option<Duration>) -> Option<Duration> {
        if self.fin.is_some() {
            return None;
        }
        let at = self.time(at);
        self.held |= at.is_none();
        self.fin = Some(at);
        at
    }

    /// Bytes readable at `now`.
    pub(crate) fn ready(&self, now: Duration) -> usize {
        // Arrival times are monotone (held chunks, untimed, come last): when the last
        // chunk has arrived, every byte in the pipe has.
        match self.chunks.back() {
            None => return 0,
            Some((Some(t), _)) if *t <= now => return self.len,
            _ => {}
        }
        self.chunks
            .iter()
            .take_while(|(t, _)| t.is_some_and(|t| t <= now))
            .map(|(_, d)| d.len())
            .sum()
    }

    /// The FIN is readable at `now` (after every byte).
    pub(crate) fn fin_ready(&self, now: Duration) -> bool {
        self.chunks.is_empty() && matches!(self.fin, Some(Some(t)) if t <= now)
    }

    /// Give the held part arrival times from `at` on; the first arrival, if any.
    pub(crate) fn release(&mut self, at: Duration) -> Option<Duration> {
        if !self.held {
            return None;
        }
        self.held = false;
        let at = at.max(self.last_ready);
        let mut first = None;
        for (t, _) in self.chunks.iter_mut().filter(|(t, _)| t.is_none()) {
            *t = Some(at);
            first.get_or_insert(at);
        }
        if let Some(f) = &mut self.fin {
            if f.is_none() {
                *f = Some(at);
                first.get_or_insert(at);
            }
        }
        self.last_ready = at;
        first
    }

    /// The pieces of the first `k` chunks.
    pub(crate) fn chunk_pieces(&self, k: usize) -> impl Iterator<Item = &[u8]> + Clone {
        self.chunks.iter().take(k).map(|(_, d)| &d[..])
    }

    /// The first `n` bytes, as slices of the chunks.
    pub(crate) fn pieces(&self, n: usize) -> impl Iterator<Item = &[u8]> + Clone {
        let mut left = n;
        self.chunks.iter().map_while(move |(_, d)| {
            let k = left.min(d.len());
            left -= k;
            (k > 0).then(|| &d[..k])
        })
    }

    /// Take `n` readable bytes from the front without copying them: a slice of the
    /// first chunk when it holds them, else of the pool's copy they lie side by side in.
    /// `None` when the read needs a copy (see [`Pipe::stretch`]).
    pub(crate) fn take_slice(&mut self, n: usize) -> Option<Bytes> {
        let out = match self.chunks.front_mut() {
            Some((_, d)) if n < d.len() => d.split_to(n),
            Some((_, d)) if n == d.len() => self.chunks.pop_front().map(|(_, d)| d)?,
            _ => return self.take_joined(n),
        };
        self.len -= out.len();
        Some(out)
    }

    /// [`Pipe::take_slice`] of bytes across chunks (out of line: a read is usually
    /// within one).
    #[inline(never)]
    fn take_joined(&mut self, n: usize) -> Option<Bytes> {
        let joined = pool::slice_of(self.pieces(n), n)?;
        self.advance(n);
        Some(joined)
    }

    /// What one copy covers when a read of `n` bytes spans chunks: the chunks it spans
    /// and those after them that no pool copy holds yet (their reads are then slices of
    /// the copy too, rather than each a copy of its own). How many chunks, and their
    /// bytes.
    pub(crate) fn stretch(&self, n: usize) -> (usize, usize) {
        pool::with_in_copy(|in_copy| {
            let (mut k, mut len) = (0, 0);
            for (_, d) in &self.chunks {
                if len >= n && in_copy(d) {
                    break;
                }
                k += 1;
                len += d.len();
            }
            (k, len)
        })
    }

    /// The first `k` chunks are now the slices of `copy` (their bytes, end to end), and
    /// the first `take` bytes are read: [`Pipe::advance`] after replacing those chunks,
    /// without making slices for the chunks the read consumes whole (usually most of
    /// them). `copy` holds at least `take` bytes (the stretch covers the read).
    pub(crate) fn take_copied(&mut self, k: usize, copy: &Bytes, take: usize) {
        self.len -= take.min(self.len);
        // As `advance` drops them: whole chunks while bytes remain to drop.
        let (mut n, mut at, mut left) = (take, 0, k);
        while n > 0 && left > 0 {
            let Some((_, d)) = self.chunks.front() else {
                break;
            };
            let len = d.len();
            if n < len {
                break;
            }
            n -= len;
            at += len;
            left -= 1;
            self.chunks.pop_front();
        }
        // The copy's chunks left: the first of them has `n` bytes read.
        for (_, d) in self.chunks.iter_mut().take(left) {
            let len = d.len();
            *d = copy.slice(at + n..at + len);
            at += len;
            n = 0;
        }
        if n > 0 {
            // Past the copy (not reached: `take` is within it), as `advance` would go on.
            let len = self.len;
            self.advance(n);
            self.len = len;
        }
    }

    /// Take `n` readable bytes from the front: a slice when possible, else a copy of
    /// the stretch they start (see [`Pipe::stretch`]).
    #[cfg(test)]
    pub(crate) fn take(&mut self, n: usize) -> Bytes {
        if let Some(d) = self.take_slice(n) {
            return d;
        }
        let (k, len) = self.stretch(n);
        let copy = pool::copy(self.chunk_pieces(k), len);
        self.take_copied(k, &copy, n);
        copy.slice(..n)
    }

    /// Drop the first `n` bytes (read elsewhere).
    pub(crate) fn advance(&mut self, mut n: usize) {
        self.len -= n.min(self.len);
        while n > 0 {
            let Some((_, d)) = self.chunks.front_mut() else {
                break;
            };
            if n < d.len() {
                bytes::Buf::advance(d, n);
                break;
            }
            n -= d.len();
            self.chunks.pop_front();
        }
    }

    /// An RST arrived: keep the bytes that arrived by `now` (still readable), drop
    /// what was in flight and the FIN. Returns how many bytes were dropped.
    pub(crate) fn keep_arrived(&mut self, now: Duration) -> u64 {
        let arrived = |t: &Option<Duration>| t.is_some_and(|t| t <= now);
        let keep = self.chunks.iter().take_while(|(t, _)| arrived(t)).count();
        self.chunks.truncate(keep);
        let before = self.len;
        self.len = self.chunks.iter().map(|(_, d)| d.len()).sum();
        self.fin = None;
        self.held = false;
        (before - self.len) as u64
    }

    pub(crate) fn discard(&mut self) {
        self.chunks.clear();
        self.len = 0;
        self.fin = None;
        self.held = false;
    }
}

/// One end of a connection.
#[derive(Debug)]
pub(crate) struct End {
    /// The socket on this end (`None` while in an accept queue, and after close).
    pub(crate) sock: Option<SockId>,
    pub(crate) host: HostIx,
    pub(crate) addr: SocketAddr,
    /// Data and FIN travelling toward this end.
    pub(crate) incoming: Pipe,
    /// The socket closed (or the accept-queue entry was dropped).
    pub(crate) closed: bool,
    /// The host crashed: the end vanished without a FIN or RST.
    pub(crate) vanished: bool,
    /// An RST arrived: unread data is gone, the next read or write fails.
    pub(crate) reset: bool,
    /// The RST arrived after the peer's FIN while this end had not sent its own (Linux's
    /// `CLOSE_WAIT`): the pending error is `EPIPE`, not `ECONNRESET`.
    pub(crate) reset_after_fin: bool,
    /// The retransmissions of data toward a partitioned peer gave up (`ETIMEDOUT`).
    pub(crate) timed_out: bool,
    /// The error was reported once (later writes get `EPIPE`).
    pub(crate) error_reported: bool,
    /// This end sent (or scheduled) an RST.
    pub(crate) rst_sent: bool,
    /// `shutdown(SHUT_WR)` or close sent the FIN.
    pub(crate) fin_sent: bool,
    /// Bytes this end's socket wrote into the connection.
    pub(crate) sent: u64,
    /// Bytes the peer sent toward this end that an RST arriving here discarded while
    /// they were still in flight: sent, and never receivable.
    pub(crate) lost_to_rst: u64,
    /// A Unix socket's pending `ECONNRESET` (`sk_err`): the peer closed with bytes
    /// unread, or the listener closed with this connection in its queue. Unlike a TCP
    /// reset it discards nothing: reads give the bytes first, then the error once, then
    /// end-of-stream (writes fail with `EPIPE` all along).
    pub(crate) unix_reset: bool,
}

impl End {
    /// A new end whose pipe buffers into `chunks` (empty; a spare one or a new one).
    pub(crate) fn new(sock: Option<SockId>, host: HostIx, addr: SocketAddr, chunks: Chunks) -> End {
        End {
            sock,
            host,
            addr,
            incoming: Pipe {
                chunks,
                ..Pipe::default()
            },
            closed: false,
            vanished: false,
            reset: false,
            reset_after_fin: false,
            timed_out: false,
            error_reported: false,
            rst_sent: false,
            fin_sent: false,
            sent: 0,
            lost_to_rst: 0,
            unix_reset: false,
        }
    }

    /// The socket on this end closed: it takes nothing more and drops what it left
    /// unread. `None` when it had already closed, else whether bytes were left unread.
    pub(crate) fn release(&mut self) -> Option<bool> {
        if self.closed {
            return None;
        }
        self.closed = true;
        self.sock = None;
        let unread = self.incoming.len > 0;
        self.incoming.discard();
        Some(unread)
    }

    /// The connection is unusable from this end (`reset` or `timed_out`).
    pub(crate) fn failed(&self) -> Option<ErrorCode> {
        if self.reset_after_fin {
            Some(ErrorCode::EPIPE)
        } else if self.reset {
            Some(ErrorCode::ECONNRESET)
        } else if self.timed_out {
            Some(ErrorCode::ETIMEDOUT)
        } else {
            None
        }
    }
}

/// A connection: end 0 connected, end 1 was accepted.
#[derive(Debug)]
pub(crate) struct Conn {
    pub(crate) ends: [End; 2],
    /// A Unix domain stream (both ends on one host, no segments: what a close does
    /// reaches the peer at once, see `unix`), not TCP.
    pub(crate) unix: bool,
}

/// Where a socket is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SockState {
    /// A connect is in flight; `conn` once the server side completed the handshake.
    Connecting {
        dst: SocketAddr,
        conn: Option<ConnId>,
    },
    /// Established, on end `side` of `conn`.
    Connected { conn: ConnId, side: usize },
    /// The connect failed (`SO_ERROR` says how).
    Failed,
    /// Closed by its owner, or vanished with its host.
    Closed,
}

/// A socket: a connect attempt or one end of a connection.
#[derive(Debug)]
pub(crate) struct Sock {
    pub(crate) host: HostIx,
    pub(crate) state: SockState,
    pub(crate) local: SocketAddr,
    /// The remote address (`getpeername`) once connected.
    pub(crate) peer: Option<SocketAddr>,
    /// The connect's `ETIMEDOUT` give-up, cancelled by its answer.
    pub(crate) connect_timeout: Option<(Duration, u64)>,
    pub(crate) error: Option<ErrorCode>,
    pub(crate) read_waker: Option<Waker>,
    pub(crate) write_waker: Option<Waker>,
    pub(crate) no_delay: bool,
    /// `SO_KEEPALIVE` and its parameters (Linux's defaults until set with a delay).
    pub(crate) keep_alive: nodenet::KeepAlive,
    pub(crate) linger_zero: bool,
    /// Bytes handed to reads.
    pub(crate) delivered: u64,
    /// A Unix domain socket: no TCP addresses (`local` is a placeholder), no TCP options.
    pub(crate) unix: bool,
    /// `SO_REUSEADDR`: set by libuv on an explicit bind (and inherited by accepted
    /// sockets from their listener); a port the kernel chose has it off.
    pub(crate) reuse_addr: bool,
}

impl Sock {
    pub(crate) fn new(host: HostIx, state: SockState, local: SocketAddr) -> Sock {
        Sock {
            host,
            state,
            local,
            peer: None,
            connect_timeout: None,
            error: None,
            read_waker: None,
            write_waker: None,
            no_delay: false,
            keep_alive: nodenet::KeepAlive {
                enabled: false,
                idle_secs: 7200,
                interval_secs: 75,
                count: 9,
            },
            linger_zero: false,
            delivered: 0,
            unix: false,
            reuse_addr: false,
        }
    }

    pub(crate) fn end(&self) -> Option<(ConnId, usize)> {
        match self.state {
            SockState::Connected { conn, side } => Some((conn, side)),
            _ => None,
        }
    }

    pub(crate) fn wake_all(&mut self) {
        if let Some(w) = self.read_waker.take() {
            w.wake();
        }
        if let Some(w) = self.write_waker.take() {
            w.wake();
        }
    }
}

/// A listening socket.
#[derive(Debug)]
pub(crate) struct Listener {
    pub(crate) host: HostIx,
    /// The TCP address (a placeholder for a Unix listener).
    pub(crate) addr: SocketAddr,
    /// A Unix listener's path or `\0`-prefixed abstract name.
    pub(crate) path: Option<String>,
    pub(crate) ipv6_only: bool,
    /// `SO_REUSEPORT`: listeners that all set it share the address.
    pub(crate) reuse_port: bool,
    pub(crate) backlog: usize,
    pub(crate) queue: VecDeque<ConnId>,
    pub(crate) waker: Option<Waker>,
    pub(crate) open: bool,
    /// The handle number of the server that listens (for the server invariants).
    pub(crate) server: u32,
    /// Since when a connection has waited for an `accept` (the last call, or the
    /// arrival of the first connection in an empty queue).
    pub(crate) waiting_since: Duration,
}

impl Listener {
    /// Does a SYN for `dst` on this listener's host reach it?
    pub(crate) fn matches(&self, dst: &SocketAddr) -> bool {
        if self.path.is_some() || self.addr.port() != dst.port() {
            return false;
        }
        let ip = self.addr.ip();
        if ip.is_unspecified() {
            // `::` without IPV6_V6ONLY is dual-stack; `0.0.0.0` is IPv4 only.
            return match ip {
                IpAddr::V6(_) => dst.is_ipv6() || !self.ipv6_only,
                IpAddr::V4(_) => dst.is_ipv4(),
            };
        }
        ip == dst.ip()
            || (ip.is_loopback() && dst.ip().is_loopback() && ip.is_ipv4() == dst.is_ipv4())
    }

    /// Would binding `other` on the same host collide with this listener?
    pub(crate) fn collides(&self, other: &SocketAddr, other_v6only: bool) -> bool {
        if self.path.is_some() || self.addr.port() != other.port() {
            return false;
        }
        let (a, b) = (self.addr.ip(), other.ip());
        if a == b {
            return true;
        }
        let covers = |w: IpAddr, v6only: bool, x: IpAddr| {
            w.is_unspecified() && (w.is_ipv4() == x.is_ipv4() || (w.is_ipv6() && !v6only))
        };
        covers(a, self.ipv6_only, b) || covers(b, other_v6only, a)
    }
}

/// Something the network does at a given virtual time.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Ev {
    /// Data or the FIN reached end `side`: wake its reader.
    Arrive { conn: ConnId, side: usize },
    /// A SYN reaches the destination host.
    Syn { sock: SockId },
    /// The answer to a connect reaches the client.
    ConnectAnswer {
        sock: SockId,
        result: Result<(), ErrorCode>,
    },
    /// An RST reaches end `side`.
    Rst { conn: ConnId, side: usize },
    /// A middlebox resets the connection (fault injection).
    InjectReset { conn: ConnId },
    /// The retransmissions from end `side` toward an unreachable peer give up.
    GiveUp { conn: ConnId, side: usize },
}

/// What the network does with a link between two hosts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct LinkState {
    /// Segments are lost (TCP retransmits; connects and unacknowledged data give up).
    pub(crate) partitioned: bool,
    /// Segments are queued until released.
    pub(crate) held: bool,
}

/// The whole simulated network and clock.
pub(crate) struct State {
    pub(crate) now: Duration,
    pub(crate) rng: Rng,
    pub(crate) faults: Faults,
    pub(crate) latency: Latency,
    /// `latency`, ready to draw from (see [`State::set_default_latency`]).
    default_draw: Prepared,
    pub(crate) link_latency: BTreeMap<(HostIx, HostIx), Latency>,
    pub(crate) links: BTreeMap<(HostIx, HostIx), LinkState>,
    /// Segments (SYN, answers, RSTs) waiting on a blocked link, in order.
    pub(crate) held_events: Vec<(HostIx, HostIx, Ev)>,
    /// Pipes with held data, to time when their link heals: (conn, side it flows to).
    pub(crate) held_pipes: BTreeSet<(ConnId, usize)>,
    pub(crate) hosts: Vec<Host>,
    /// Names added with `Sim::dns`; they come before `localhost` and the hosts' own names
    /// (see `resolve`), which are not copied in here.
    pub(crate) dns: BTreeMap<String, Vec<IpAddr>>,
    pub(crate) socks: Vec<Sock>,
    pub(crate) conns: Vec<Conn>,
    pub(crate) listeners: Vec<Listener>,
    pub(crate) queue: EventQueue,
    /// Armed timers by (deadline, arming order), sorted: a simulation has a handful, and
    /// a `BTreeMap` made the first one a node allocation per simulation (this list is
    /// left to the next simulation with the other tables).
    pub(crate) timers: Vec<((Duration, u64), Option<Waker>)>,
    pub(crate) seq: u64,
    pub(crate) trace: Trace,
    /// Boxed: every observation takes it out and puts it back.
    pub(crate) checker: Option<Box<SimChecker>>,
    /// Kernel events and timer firings processed.
    pub(crate) steps: u64,
    /// Socket operations performed (reads, writes, connects, accepts, closes).
    pub(crate) ops: u64,
    /// How long the retransmissions toward an unreachable peer last (Linux's
    /// `tcp_retries2` = 15: about 924.6 s).
    pub(crate) give_up_after: Duration,
    /// The faults injected so far.
    pub(crate) injected: Injected,
    /// Emptied pipe buffers for new connections (from earlier simulations on the thread).
    pub(crate) spare_pipes: Vec<Chunks>,
    /// Hosts of earlier simulations, emptied by `add_host` as it reuses them.
    spare_hosts: Vec<Host>,
}

/// Pipe buffers kept for the next simulations: the connections of a typical one.
const MAX_SPARE_PIPES: usize = 64;
/// Hosts kept for the next simulations (for their buffers).
const MAX_SPARE_HOSTS: usize = 16;

/// The emptied collections of the last simulation dropped on this thread, for the next
/// one: a simulation is short, and growing these from nothing was several allocations of
/// each of its setup and teardown.
#[derive(Default)]
struct Spare {
    queue: EventQueue,
    hosts: Vec<Host>,
    socks: Vec<Sock>,
    conns: Vec<Conn>,
    listeners: Vec<Listener>,
    /// The connections' emptied pipe buffers (two per connection).
    pipes: Vec<Chunks>,
    /// The hosts, for their name and address buffers.
    old_hosts: Vec<Host>,
    timers: Vec<((Duration, u64), Option<Waker>)>,
}

thread_local! {
    static SPARE: std::cell::RefCell<Option<Spare>> = const { std::cell::RefCell::new(None) };
}

impl Drop for State {
    fn drop(&mut self) {
        let mut spare = Spare {
            queue: std::mem::take(&mut self.queue),
            hosts: std::mem::take(&mut self.hosts),
            old_hosts: std::mem::take(&mut self.spare_hosts),
            socks: std::mem::take(&mut self.socks),
            conns: std::mem::take(&mut self.conns),
            listeners: std::mem::take(&mut self.listeners),
            pipes: std::mem::take(&mut self.spare_pipes),
            timers: std::mem::take(&mut self.timers),
        };
        spare.timers.clear();
        spare.queue.clear();
        for host in spare.hosts.drain(..) {
            if spare.old_hosts.len() < MAX_SPARE_HOSTS {
                spare.old_hosts.push(host);
            }
        }
        spare.socks.clear();
        for end in spare.conns.drain(..).flat_map(|c| c.ends) {
            let mut chunks = end.incoming.chunks;
            if chunks.capacity() > 0 && spare.pipes.len() < MAX_SPARE_PIPES {
                chunks.clear();
                spare.pipes.push(chunks);
            }
        }
        spare.listeners.clear();
        if let Some(ch) = self.checker.take() {
            SimChecker::recycle(ch);
        }
        // During the thread's own teardown the slot may be gone: then they are just freed.
        let _ = SPARE.try_with(|s| {
            if let Ok(mut slot) = s.try_borrow_mut() {
                if slot.is_none() {
                    *slot = Some(spare);
                }
            }
        });
    }
}

/// What `localhost` resolves to (IPv6 first, as glibc's `/etc/hosts` order gives).
const LOCALHOST: [IpAddr; 2] = [
    IpAddr::V6(std::net::Ipv6Addr::LOCALHOST),
    IpAddr::V4(std::net::Ipv4Addr::LOCALHOST),
];

/// Linux gives up on an unanswered SYN after 6 retries: 1+2+4+8+16+32+64 s.
pub(crate) const SYN_TIMEOUT: Duration = Duration::from_secs(127);
/// A SYN dropped on a full backlog is retransmitted after 1 s.
pub(crate) const SYN_RETRY: Duration = Duration::from_secs(1);

impl State {
    pub(crate) fn new(seed: u64, faults: Faults, trace: Trace, check: bool) -> State {
        pool::rewind();
        let spare = SPARE
            .try_with(|s| s.borrow_mut().take())
            .ok()
            .flatten()
            .unwrap_or_default();
        let latency = Latency::Uniform(faults.latency.0, faults.latency.1);
        State {
            now: Duration::ZERO,
            rng: Rng::fork(seed, 1),
            faults,
            latency,
            default_draw: Prepared::new(latency),
            link_latency: BTreeMap::new(),
            links: BTreeMap::new(),
            held_events: Vec::new(),
            held_pipes: BTreeSet::new(),
            hosts: spare.hosts,
            dns: BTreeMap::new(),
            socks: spare.socks,
            conns: spare.conns,
            listeners: spare.listeners,
            queue: spare.queue,
            spare_pipes: spare.pipes,
            spare_hosts: spare.old_hosts,
            timers: spare.timers,
            seq: 0,
            trace,
            checker: check.then(SimChecker::new_boxed),
            steps: 0,
            ops: 0,
            give_up_after: Duration::from_millis(924_600),
            injected: Injected::default(),
        }
    }

    /// An empty pipe buffer for a new connection end: a spare one if there is one.
    pub(crate) fn spare_pipe(&mut self) -> Chunks {
        self.spare_pipes.pop().unwrap_or_default()
    }

    /// The addresses `name` resolves to: a `Sim::dns` record, else `localhost`, else
    /// the first host of that name (its addresses no earlier host had). Looked up rather
    /// than copied into the table per host and simulation.
    pub(crate) fn resolve(&self, name: &str) -> Option<&[IpAddr]> {
        if let Some(list) = self.dns.get(name) {
            return Some(list);
        }
        if name == "localhost" {
            return Some(&LOCALHOST);
        }
        self.hosts
            .iter()
            .find(|h| h.name == name)
            .map(|h| &h.addrs[..])
    }

    pub(crate) fn log(&mut self, who: impl std::fmt::Display, what: std::fmt::Arguments<'_>) {
        if self.trace.enabled() {
            self.trace.record(self.now, who, what);
        }
    }

    /// Trace `what` by host `host`'s kernel.
    pub(crate) fn host_log(&mut self, host: HostIx, what: std::fmt::Arguments<'_>) {
        if self.trace.enabled() {
            let name = &self.hosts[host].name;
            self.trace.record(self.now, format_args!("{name}:"), what);
        }
    }

    pub(crate) fn kernel_log(&mut self, what: std::fmt::Arguments<'_>) {
        self.log("kernel:", what);
    }

    // ---- topology ---------------------------------------------------------------

    /// Add a host with these addresses (ones another host has are skipped); its name
    /// resolves to them (`resolve`).
    pub(crate) fn add_host(&mut self, name: &str, addrs: &[IpAddr]) -> HostIx {
        let h = self.hosts.len();
        // An earlier simulation's host lends its name and address buffers, emptied.
        let (mut own_name, mut own) = match self.spare_hosts.pop() {
            Some(old) => (old.name, old.addrs),
            None => (String::new(), Vec::with_capacity(addrs.len())),
        };
        own_name.clear();
        own_name.push_str(name);
        own.clear();
        let mut host = Host {
            name: own_name,
            addrs: own,
            next_port: 40000,
            up: true,
            files: BTreeMap::new(),
        };
        for ip in addrs {
            if self.host_owning(*ip).is_none() && !host.addrs.contains(ip) {
                host.addrs.push(*ip);
            }
        }
        self.hosts.push(host);
        h
    }

    pub(crate) fn ephemeral_port(&mut self, host: HostIx) -> u16 {
        let used = |s: &State, p: u16| {
            s.listeners
                .iter()
                .any(|l| l.open && l.host == host && l.path.is_none() && l.addr.port() == p)
        };
        for _ in 0..30000 {
            let h = &mut self.hosts[host];
            let p = h.next_port;
            h.next_port = if p >= 60999 { 32768 } else { p + 1 };
            if !used(self, p) {
                return p;
            }
        }
        0
    }

    /// The host an address belongs to, as seen from `from` (loopback is the host itself).
    pub(crate) fn host_of(&self, from: HostIx, ip: IpAddr) -> Option<HostIx> {
        // `::ffff:127.0.0.1` is the loopback too (a dual-stack socket's view of it).
        if ip.to_canonical().is_loopback() {
            return Some(from);
        }
        self.host_owning(ip)
    }

    /// The host that has address `ip` (at most one: a host skips the addresses an
    /// earlier one has). A scan rather than an index, as the few hosts of a simulation
    /// are looked up only per connect.
    fn host_owning(&self, ip: IpAddr) -> Option<HostIx> {
        self.hosts.iter().position(|h| h.addrs.contains(&ip))
    }

    fn link_key(a: HostIx, b: HostIx) -> (HostIx, HostIx) {
        (a.min(b), a.max(b))
    }

    pub(crate) fn link(&self, a: HostIx, b: HostIx) -> LinkState {
        if a == b {
            return LinkState::default();
        }
        self.links
            .get(&Self::link_key(a, b))
            .copied()
            .unwrap_or_default()
    }

    pub(crate) fn set_link(&mut self, a: HostIx, b: HostIx, f: impl FnOnce(&mut LinkState)) {
        let key = Self::link_key(a, b);
        let mut st = self.links.get(&key).copied().unwrap_or_default();
        f(&mut st);
        if st == LinkState::default() {
            self.links.remove(&key);
        } else {
            self.links.insert(key, st);
        }
        self.heal();
    }

    pub(crate) fn set_link_latency(&mut self, a: HostIx, b: HostIx, latency: Latency) {
        self.link_latency.insert(Self::link_key(a, b), latency);
    }

    /// One latency draw for a segment from `a` to `b`.
    pub(crate) fn latency(&mut self, a: HostIx, b: HostIx) -> Duration {
        // Loopback too: the fault mix's latency applies, so same-host programs see varied
        // schedules.
        match self.link_latency.get(&Self::link_key(a, b)) {
            Some(dist) => dist.draw(&mut self.rng),
            None => self.default_draw.draw(&mut self.rng),
        }
    }

    /// The latency of every link without one of its own.
    pub(crate) fn set_default_latency(&mut self, latency: Latency) {
        self.latency = latency;
        self.default_draw = Prepared::new(latency);
    }

    /// A segment host `a` sends to itself is processed inside the syscall that sends
    /// it, as Linux's loopback does (`netif_rx` then the receive softirq before the
    /// syscall returns): the same host, up, and no latency on its loopback.
    pub(crate) fn instant_loopback(&self, a: HostIx, b: HostIx) -> bool {
        a == b
            && self.hosts[a].up
            && self
                .link_latency
                .get(&Self::link_key(a, a))
                .unwrap_or(&self.latency)
                .always_zero()
    }

    /// When a segment sent now from `a` reaches `b`: `None` while the link is blocked or
    /// `b` is down (the segment waits for the link to heal).
    pub(crate) fn transit(&mut self, a: HostIx, b: HostIx) -> Option<Duration> {
        let link = self.link(a, b);
        if link.partitioned || link.held || !self.hosts[b].up || !self.hosts[a].up {
            return None;
        }
        Some(self.now + self.latency(a, b))
    }

    /// Send a discrete segment (SYN, answer, RST) from `a` to `b`: scheduled, or held
    /// until the link heals.
    pub(crate) fn send_segment(&mut self, a: HostIx, b: HostIx, extra: Duration, ev: Ev) {
        match self.transit(a, b) {
            Some(at) => {
                self.schedule(at + extra, ev);
            }
            None => self.held_events.push((a, b, ev)),
        }
    }

    /// Links healed or hosts restarted: deliver what waited and is now deliverable.
    pub(crate) fn heal(&mut self) {
        let held = std::mem::take(&mut self.held_events);
        for (a, b, ev) in held {
            match self.transit(a, b) {
                Some(at) => {
                    self.schedule(at, ev);
                }
                None => self.held_events.push((a, b, ev)),
            }
        }
        let pipes: Vec<(ConnId, usize)> = self.held_pipes.iter().copied().collect();
        for (conn, side) in pipes {
            let (from, to) = {
                let c = &self.conns[conn];
                (c.ends[1 - side].host, c.ends[side].host)
            };
            let Some(at) = self.transit(from, to) else {
                continue;
            };
            self.held_pipes.remove(&(conn, side));
            if self.conns[conn].ends[side].closed {
                // The socket is gone (closed, or its host came back without it): the
                // kernel answers the retransmitted segments with an RST.
                self.conns[conn].ends[side].incoming.discard();
                self.send_rst(conn, side);
                continue;
            }
            if let Some(first) = self.conns[conn].ends[side].incoming.release(at) {
                self.schedule(first, Ev::Arrive { conn, side });
            }
        }
    }

    /// Queue `ev` at `at` (never in the past); its key, to cancel it.
    pub(crate) fn schedule(&mut self, at: Duration, ev: Ev) -> (Duration, u64) {
        self.seq += 1;
        let key = (at.max(self.now), self.seq);
        self.queue.insert(key, ev);
        key
    }

    /// The next time something happens: a kernel event or a timer.
    pub(crate) fn next_time(&self) -> Option<Duration> {
        let k = self.queue.first_key().map(|(t, _)| t);
        let t = self.timers.first().map(|((t, _), _)| *t);
        match (k, t) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    // ---- timers -----------------------------------------------------------------

    /// Register (or move) a timer: `key` is its current registration, if any.
    pub(crate) fn arm_timer(
        &mut self,
        key: &mut Option<(Duration, u64)>,
        at: Duration,
        waker: &Waker,
    ) {
        if let Some(k) = *key {
            if k.0 == at {
                if let Some(slot) = self.timer_slot(k) {
                    match slot {
                        Some(w) if w.will_wake(waker) => {}
                        _ => *slot = Some(waker.clone()),
                    }
                    return;
                }
            } else {
                self.remove_timer(k);
            }
        }
        self.seq += 1;
        let k = (at, self.seq);
        // Keys are unique (the arming order is part of them): never found.
        if let Err(i) = self.timers.binary_search_by_key(&k, |(t, _)| *t) {
            self.timers.insert(i, (k, Some(waker.clone())));
        }
        *key = Some(k);
    }

    pub(crate) fn disarm_timer(&mut self, key: Option<(Duration, u64)>) {
        if let Some(k) = key {
            self.remove_timer(k);
        }
    }

    fn timer_slot(&mut self, k: (Duration, u64)) -> Option<&mut Option<Waker>> {
        let i = self.timers.binary_search_by_key(&k, |(t, _)| *t).ok()?;
        Some(&mut self.timers[i].1)
    }

    fn remove_timer(&mut self, k: (Duration, u64)) {
        if let Ok(i) = self.timers.binary_search_by_key(&k, |(t, _)| *t) {
            self.timers.remove(i);
        }
    }

    /// Fire every timer due at `now`.
    pub(crate) fn fire_timers(&mut self) {
        while let Some(((at, _), _)) = self.timers.first() {
            if *at > self.now {
                break;
            }
            self.steps += 1;
            if let (_, Some(w)) = self.timers.remove(0) {
                w.wake();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A read within one chunk is a slice of the written `Bytes`; a read across chunks
    /// is their bytes joined, in order; the count of bytes in the pipe follows.
    #[test]
    fn reads_slice_one_chunk_and_join_several() {
        let (a, b) = (Bytes::from_static(b"abcd"), Bytes::from_static(b"efgh"));
        let mut pipe = Pipe::default();
        let t = Some(Duration::from_millis(1));
        pipe.push(t, [a.clone(), b.slice(..3)].into_iter());
        pipe.push(t, std::iter::once(b.slice(3..)));
        assert_eq!(pipe.len, 8);
        assert_eq!(pipe.ready(Duration::from_millis(1)), 8);
        let one = pipe.take(2);
        assert_eq!(
            (&one[..], one.as_ptr()),
            (&b"ab"[..], a.as_ptr()),
            "a slice"
        );
        let pieces: Vec<&[u8]> = pipe.pieces(5).collect();
        assert_eq!(pieces, [&b"cd"[..], b"efg"]);
        let joined = pipe.take(5);
        assert_eq!(&joined[..], b"cdefg");
        assert_eq!(pipe.len, 1);
        // The copy took the rest of the pipe too: the last byte is a slice of it.
        let last = pipe.take(1);
        assert_eq!(&last[..], b"h");
        assert_eq!(last.as_ptr() as usize, joined.as_ptr() as usize + 5);
        assert_eq!((pipe.len, pipe.chunks.len()), (0, 0));
    }

    /// Taking `take` bytes of a copied stretch leaves what replacing the chunks by the
    /// copy's slices and then advancing would: the same bytes, at the copy's addresses,
    /// the same count, for every length (zero-length chunks included).
    #[test]
    fn take_copied_is_slices_then_advance() {
        let data = Bytes::from_static(b"abcdefghijk");
        let cuts = [0, 3, 3, 5, 9, 11];
        for take in 0..=11 {
            let mut pipe = Pipe::default();
            let t = Some(Duration::from_millis(1));
            pipe.push(t, cuts.windows(2).map(|w| data.slice(w[0]..w[1])));
            let k = pipe.chunks.len();
            let copy = Bytes::copy_from_slice(&data);
            pipe.take_copied(k, &copy, take);
            assert_eq!(pipe.len, 11 - take, "take {take}");
            let rest: Vec<u8> = pipe.chunks.iter().flat_map(|(_, d)| d.to_vec()).collect();
            assert_eq!(&rest[..], &data[take..], "take {take}");
            let mut at = take;
            for (_, d) in &pipe.chunks {
                assert_eq!(
                    d.as_ptr() as usize,
                    copy.as_ptr() as usize + at,
                    "take {take}"
                );
                at += d.len();
            }
            // As `advance` leaves them: whole chunks dropped while bytes remained.
            let mut left = take;
            let mut expect = 0;
            for w in cuts.windows(2) {
                let len = w[1] - w[0];
                if left > 0 && left >= len {
                    left -= len;
                } else {
                    expect += 1;
                    left = 0;
                }
            }
            assert_eq!(pipe.chunks.len(), expect, "take {take}");
        }
    }
}
