//! The fake kernel's state: hosts and their addresses, the DNS table, listeners with
//! their accept queues, established connections as two byte pipes with bounded buffers,
//! pending connect attempts, and the timed queue of things the kernel will do next.
//! Everything is kept in `Vec`s and `BTreeMap`s so iteration order — and thus the trace —
//! depends only on the seed.

use std::collections::{BTreeMap, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use bytes::Bytes;

use nodenet_core::error::{Error, ErrorCode};
use nodenet_core::options::{AttemptId, LookupAddress};
use nodenet_core::server::ListenerId;

use super::{ServerId, SocketId};

/// One machine: its addresses and its ephemeral port counter.
#[derive(Clone, Debug)]
pub(crate) struct Host {
    pub(crate) addrs: Vec<IpAddr>,
    pub(crate) next_port: u16,
    /// The host's descriptors are exhausted until then: `accept` fails with `EMFILE`.
    pub(crate) emfile_until: Option<Duration>,
}

impl Host {
    pub(crate) fn ephemeral_port(&mut self) -> u16 {
        let p = self.next_port;
        self.next_port = if p >= 60999 { 32768 } else { p + 1 };
        p
    }

    pub(crate) fn addr_of_family(&self, v6: bool) -> Option<IpAddr> {
        self.addrs.iter().copied().find(|a| a.is_ipv6() == v6)
    }
}

/// A listening socket.
#[derive(Clone, Debug)]
pub(crate) struct Listener {
    pub(crate) server: ServerId,
    pub(crate) id: ListenerId,
    pub(crate) host: usize,
    pub(crate) addr: SocketAddr,
    pub(crate) ipv6_only: bool,
    /// `SO_REUSEPORT`: shares its address with other listeners that set it.
    pub(crate) reuse_port: bool,
    pub(crate) backlog: usize,
    /// Established connections waiting for `accept` (kernel connection indices).
    pub(crate) queue: VecDeque<usize>,
    pub(crate) accept_at: Option<Duration>,
    /// The server said `PauseAccept` (until `ResumeAccept`).
    pub(crate) paused: bool,
    /// The current run of failed accepts: when the last one failed and the pause
    /// before it (for the back-off check).
    pub(crate) burst: Option<(Duration, Option<Duration>)>,
}

impl Listener {
    /// Does a SYN for `dst` on this listener's host reach it?
    pub(crate) fn matches(&self, dst: &SocketAddr) -> bool {
        if self.addr.port() != dst.port() {
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
    }

    /// Would binding `other` (same host) collide with this listener?
    pub(crate) fn collides(&self, other: &SocketAddr) -> bool {
        if self.addr.port() != other.port() {
            return false;
        }
        let (a, b) = (self.addr.ip(), other.ip());
        if a == b {
            return true;
        }
        let covers = |w: IpAddr, x: IpAddr| {
            w.is_unspecified() && (w.is_ipv4() == x.is_ipv4() || (w.is_ipv6() && !self.ipv6_only))
        };
        covers(a, b) || covers(b, a)
    }
}

/// Bytes travelling toward one end of a connection, with the time each chunk becomes
/// readable (monotone, so TCP's ordering holds whatever the latency draw).
#[derive(Clone, Debug, Default)]
pub(crate) struct Pipe {
    pub(crate) chunks: VecDeque<(Duration, Bytes)>,
    pub(crate) len: usize,
    pub(crate) last_ready: Duration,
    /// When the FIN after the data becomes readable.
    pub(crate) fin_at: Option<Duration>,
}

impl Pipe {
    pub(crate) fn push(&mut self, at: Duration, data: Bytes) {
        let at = at.max(self.last_ready);
        self.last_ready = at;
        self.len += data.len();
        self.chunks.push_back((at, data));
    }

    pub(crate) fn fin(&mut self, at: Duration) {
        if self.fin_at.is_none() {
            let at = at.max(self.last_ready);
            self.last_ready = at;
            self.fin_at = Some(at);
        }
    }

    /// Take `n` bytes from the front (`n` must not exceed what is queued), without
    /// copying when they lie in one chunk.
    pub(crate) fn take(&mut self, n: usize) -> Bytes {
        let single = match self.chunks.front_mut() {
            Some((_, d)) if n < d.len() => Some(d.split_to(n)),
            Some((_, d)) if n == d.len() => self.chunks.pop_front().map(|(_, d)| d),
            _ => None,
        };
        if let Some(d) = single {
            self.len -= d.len();
            return d;
        }
        let mut out = bytes::BytesMut::with_capacity(n);
        while out.len() < n {
            let want = n - out.len();
            match self.chunks.front_mut() {
                Some((_, d)) if want < d.len() => out.extend_from_slice(&d.split_to(want)),
                Some(_) => {
                    if let Some((_, d)) = self.chunks.pop_front() {
                        out.extend_from_slice(&d);
                    }
                }
                None => break,
            }
        }
        self.len -= out.len();
        out.freeze()
    }

    pub(crate) fn discard(&mut self) {
        self.chunks.clear();
        self.len = 0;
        self.fin_at = None;
    }
}

/// One end of an established connection.
#[derive(Clone, Debug)]
pub(crate) struct End {
    /// The socket using this end (`None` while waiting in an accept queue, and after close).
    pub(crate) sock: Option<SocketId>,
    /// The socket that used this end, kept after its close (the checker pairs peers by it:
    /// a client may close while its connection waits in the accept queue).
    pub(crate) owner: Option<SocketId>,
    pub(crate) addr: SocketAddr,
    /// Data (and FIN) travelling toward this end.
    pub(crate) incoming: Pipe,
    pub(crate) closed: bool,
    /// An RST arrived: unread data is gone, the next read or write fails.
    pub(crate) reset: bool,
    /// The reset was reported to the socket (a read or write error).
    pub(crate) reset_reported: bool,
    pub(crate) eof_delivered: bool,
    /// This end already sent (or scheduled) an RST to the other end.
    pub(crate) rst_sent: bool,
    /// Bytes this end's socket wrote into the connection.
    pub(crate) sent: u64,
    /// A `Deliver` for this end is already queued for this time.
    pub(crate) deliver_at: Option<Duration>,
}

impl End {
    pub(crate) fn new(sock: Option<SocketId>, addr: SocketAddr) -> End {
        End {
            sock,
            owner: sock,
            addr,
            incoming: Pipe::default(),
            closed: false,
            reset: false,
            reset_reported: false,
            eof_delivered: false,
            rst_sent: false,
            sent: 0,
            deliver_at: None,
        }
    }
}

/// An established TCP connection: end 0 is the connecting side, end 1 the accepted side.
#[derive(Clone, Debug)]
pub(crate) struct Conn {
    pub(crate) ends: [End; 2],
}

/// A connect attempt the kernel is working on.
#[derive(Clone, Debug)]
pub(crate) struct PendingConnect {
    pub(crate) src: SocketAddr,
    pub(crate) dst: SocketAddr,
    /// Set once the handshake completed on the server side (before the client heard).
    pub(crate) conn: Option<usize>,
}

/// Something the kernel does at a given virtual time.
#[derive(Clone, Debug)]
pub(crate) enum KernelEvent {
    /// A socket's `Resolve` answer.
    Resolved {
        sock: SocketId,
        id: AttemptId,
        answer: Result<Vec<LookupAddress>, Error>,
    },
    /// The SYN reaches the destination host.
    Syn { sock: SocketId, attempt: AttemptId },
    /// The connect answer reaches the client.
    ConnectAnswer {
        sock: SocketId,
        attempt: AttemptId,
        result: Result<(), ErrorCode>,
    },
    /// Deliver readable data / EOF / reset to a socket's end.
    Deliver { conn: usize, side: usize },
    /// Let a socket with queued data write.
    Writable { conn: usize, side: usize },
    /// Answer a socket's `Shutdown`.
    ShutdownDone { sock: SocketId },
    /// Accept from a listener's queue.
    Accept { listener: usize },
    /// An RST reaches end `side`.
    Rst { conn: usize, side: usize },
    /// A middlebox resets the connection (fault injection).
    InjectReset { conn: usize },
}

/// All kernel state.
#[derive(Clone, Debug, Default)]
pub(crate) struct Kernel {
    pub(crate) hosts: Vec<Host>,
    pub(crate) host_by_ip: BTreeMap<IpAddr, usize>,
    pub(crate) dns: BTreeMap<String, Vec<IpAddr>>,
    pub(crate) listeners: BTreeMap<usize, Listener>,
    pub(crate) next_listener: usize,
    pub(crate) conns: Vec<Conn>,
    pub(crate) connects: BTreeMap<(SocketId, AttemptId), PendingConnect>,
    /// Per-IP behaviour set by the user: refuse every connect / never answer.
    pub(crate) refused: Vec<IpAddr>,
    pub(crate) black_holes: Vec<IpAddr>,
    pub(crate) queue: BTreeMap<(Duration, u64), KernelEvent>,
    pub(crate) seq: u64,
    /// Connections completed on listeners, per server (for the accounting invariant).
    pub(crate) completed: BTreeMap<ServerId, u64>,
}

impl Kernel {
    pub(crate) fn schedule(&mut self, at: Duration, ev: KernelEvent) {
        self.seq += 1;
        self.queue.insert((at, self.seq), ev);
    }

    pub(crate) fn next_time(&self) -> Option<Duration> {
        self.queue.keys().next().map(|(t, _)| *t)
    }

    pub(crate) fn pop(&mut self) -> Option<(Duration, KernelEvent)> {
        self.queue.pop_first().map(|((t, _), ev)| (t, ev))
    }
}
