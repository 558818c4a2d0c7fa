//! The invariant checker and the trace, fed by nodenet's driver through
//! `Runtime::observe` and `Runtime::observe_server`: every user write, every event and
//! the drop of every socket of the simulation reach the [`Checker`] of the `check`
//! module (event order, byte streams against what the peer wrote and its kernel sent,
//! `Drain`, `Close` once, ...), plus what only the runtime can compare: Node's counters
//! against the simulated kernel (`bytesRead` = bytes the kernel delivered,
//! `bytesWritten - writableLength` = bytes the kernel took) and no timer armed at
//! `Close`. Every server event (with `getConnections()` and `accept_failures()`) and
//! the start of a `shutdown(deadline)` reach the checker's server checks, which the
//! kernel also feeds (each `accept(2)`, each accepted connection a socket takes or the
//! server rejects: `tcp.rs`, `io.rs`); `clock_moves` checks the shutdown deadlines the
//! clock passes and, with `SimConfig::servers_polled`, the connections left waiting in
//! accept queues. Sockets and servers are known by their runtime handle's number
//! (`probe`).

use std::time::Duration;

use bytes::Bytes;

use nodenet::runtime::Observed;
use nodenet_core::{ServerEvent, SocketEvent};

use super::io::SimStream;
use super::kernel::{ConnId, HostIx, SockId, SockState, State};
use crate::check::{Checked, Checker, PeerSent, Seen, ServerId, ServerView, SocketId};

/// What the checker knows of one socket.
#[derive(Debug, Default)]
struct Probe {
    /// Its kernel socket, once attached.
    sock: Option<SockId>,
    /// The connection end it was attached to.
    end: Option<(ConnId, usize)>,
    /// The length of the write being made (between `Write` and `Written`).
    writing: usize,
}

/// The checker of a simulation.
#[derive(Default)]
pub(crate) struct SimChecker {
    pub(crate) checker: Checker,
    /// By probe number (handles are numbered densely from 0; never-seen ones are
    /// `Probe::default()`, as a missing entry was).
    probes: Vec<Probe>,
    /// Probe number by kernel socket (sockets are numbered densely from 0).
    by_sock: Vec<Option<u32>>,
    /// `SimConfig::servers_polled`: a connection left waiting in an accept queue is a
    /// stalled server.
    pub(crate) servers_polled: bool,
}

thread_local! {
    /// The checker of the last simulation dropped on this thread, emptied, for the next
    /// one (its tables and socket states keep their room: a simulation is short, and
    /// building them from nothing was about ten allocations of its setup and teardown).
    static SPARE: std::cell::RefCell<Option<Box<SimChecker>>> =
        const { std::cell::RefCell::new(None) };
}

impl SimChecker {
    /// A new checker: the thread's spare one if there is one.
    pub(crate) fn new_boxed() -> Box<SimChecker> {
        SPARE
            .try_with(|s| s.borrow_mut().take())
            .ok()
            .flatten()
            .unwrap_or_default()
    }

    /// Empty `ch` (back to `SimChecker::default()`) and keep it for the next simulation.
    pub(crate) fn recycle(mut ch: Box<SimChecker>) {
        let SimChecker {
            checker,
            probes,
            by_sock,
            servers_polled,
        } = &mut *ch;
        checker.recycle();
        probes.clear();
        by_sock.clear();
        *servers_polled = false;
        // During the thread's own teardown the slot may be gone: then it is just freed.
        let _ = SPARE.try_with(|s| {
            if let Ok(mut slot) = s.try_borrow_mut() {
                if slot.is_none() {
                    *slot = Some(ch);
                }
            }
        });
    }

    fn probe(&mut self, probe: u32) -> &mut Probe {
        let i = probe as usize;
        if self.probes.len() <= i {
            self.probes.resize_with(i + 1, Probe::default);
        }
        &mut self.probes[i]
    }

    /// The socket with handle `probe` writes `data` (see `Checker::on_write`).
    fn write(&mut self, probe: u32, data: &Bytes) {
        let id = SocketId(probe as usize);
        self.checker.ensure_socket(id, false);
        self.checker.on_write(id, data);
        self.probe(probe).writing = data.len();
    }

    fn probe_ref(&self, probe: u32) -> Option<&Probe> {
        self.probes.get(probe as usize)
    }

    pub(crate) fn violations(&self) -> &[String] {
        self.checker.violations()
    }

    pub(crate) fn checked(&self) -> Checked {
        self.checker.checked()
    }

    /// The kernel joined `sources` into `copy` for a read of socket `sock` at `offset` of
    /// the stream it receives (see `Checker::on_kernel_copy`).
    pub(crate) fn kernel_copy<'a>(
        &mut self,
        sock: SockId,
        offset: u64,
        sources: impl Iterator<Item = &'a [u8]> + Clone,
        copy: &Bytes,
    ) {
        if let Some(probe) = self.by_sock.get(sock).copied().flatten() {
            let id = SocketId(probe as usize);
            self.checker.on_kernel_copy(id, offset, sources, copy);
        }
    }
}

/// What the runtime is told about a server (see `Runtime::observe_server`), with the
/// shutdown deadline in the simulation's time.
pub(crate) enum ServerObservation<'a, C> {
    Event {
        event: &'a ServerEvent<C>,
        connections: usize,
    },
    Shutdown {
        deadline: Duration,
    },
}

impl State {
    fn probe_name(&self, probe: u32, host: HostIx) -> String {
        format!("{}#{probe}", self.hosts[host].name)
    }

    /// One observation of the socket with handle `probe` on `host`.
    #[inline]
    pub(crate) fn observe(
        &mut self,
        probe: u32,
        host: HostIx,
        core: &nodenet_core::Socket,
        what: Observed<'_, SimStream>,
    ) {
        // A write (every write makes one) needs only the checker: no trace line, no
        // look at the kernel, so it is recorded here without the general path's setup.
        if let Observed::Write(data) = what {
            if let Some(ch) = self.checker.as_deref_mut() {
                ch.write(probe, data);
            }
            return;
        }
        self.observe_other(probe, host, core, what);
    }

    #[inline(never)]
    fn observe_other(
        &mut self,
        probe: u32,
        host: HostIx,
        core: &nodenet_core::Socket,
        what: Observed<'_, SimStream>,
    ) {
        if let Observed::Event(ev) = &what {
            if self.trace.enabled() {
                let name = &self.hosts[host].name;
                self.trace.record(
                    self.now,
                    format_args!("{name}#{probe}"),
                    format_args!("{}", ShortEvent(ev)),
                );
            }
        }
        let Some(mut ch) = self.checker.take() else {
            return;
        };
        self.check(&mut ch, probe, host, core, what);
        self.checker = Some(ch);
    }

    fn check(
        &mut self,
        ch: &mut SimChecker,
        probe: u32,
        host: HostIx,
        core: &nodenet_core::Socket,
        what: Observed<'_, SimStream>,
    ) {
        let id = SocketId(probe as usize);
        let name = || self.probe_name(probe, host);
        match what {
            Observed::Attached(stream) => {
                let sock = stream.sock;
                let end = self.socks[sock].end();
                ch.checker
                    .ensure_socket(id, end.is_some_and(|(_, side)| side == 1));
                let p = ch.probe(probe);
                p.sock = Some(sock);
                p.end = end;
                if ch.by_sock.len() <= sock {
                    ch.by_sock.resize(sock + 1, None);
                }
                ch.by_sock[sock] = Some(probe);
                if let Some((conn, side)) = end {
                    let peer_sock = self.conns[conn].ends[1 - side].sock;
                    // A crashed host's end has no kernel socket any more, but the bytes
                    // it sent before the crash still arrive: find its probe by the end.
                    let peer = peer_sock
                        .and_then(|p| ch.by_sock.get(p).copied().flatten())
                        .or_else(|| {
                            ch.probes
                                .iter()
                                .enumerate()
                                .find(|(k, p)| {
                                    *k != probe as usize && p.end == Some((conn, 1 - side))
                                })
                                .map(|(k, _)| k as u32)
                        });
                    if let Some(p) = peer {
                        ch.checker.set_peers(id, SocketId(p as usize));
                    }
                }
            }
            Observed::Write(data) => ch.write(probe, data),
            Observed::Written(r) => {
                let len = ch.probe_ref(probe).map_or(0, |p| p.writing);
                ch.checker.on_write_result(id, r, len);
            }
            Observed::Dropped => ch.checker.server_socket_closed(id, self.now),
            Observed::Event(ev) => {
                ch.checker.ensure_socket(id, false);
                let reconnect = matches!(
                    ev,
                    SocketEvent::Lookup { .. } | SocketEvent::ConnectionAttempt { .. }
                );
                if reconnect && ch.checker.closed(id) {
                    // `connect()` again after `Close`: a new connection on the same socket.
                    ch.checker.restart_socket(id);
                    if let Some(p) = ch.probes.get_mut(probe as usize) {
                        p.sock = None;
                        p.end = None;
                    }
                }
                let sock = ch.probe_ref(probe).and_then(|p| p.sock);
                let end = sock.and_then(|s| match self.socks[s].state {
                    SockState::Connected { conn, side } => Some((conn, side)),
                    _ => None,
                });
                let attached = ch.probe_ref(probe).and_then(|p| p.end);
                let peer_sent = attached.map(|(conn, side)| PeerSent {
                    sent: self.conns[conn].ends[1 - side].sent,
                    lost: self.conns[conn].ends[side].lost_to_rst,
                });
                ch.checker.on_socket_event(id, ev, peer_sent);
                if matches!(ev, SocketEvent::Close { .. }) {
                    ch.checker.server_socket_closed(id, self.now);
                }
                if let Some(s) = sock {
                    let delivered = self.socks[s].delivered;
                    // Reads the core holds for their turn (or dropped at a destroy that
                    // came first) were delivered by the kernel too.
                    if core.bytes_received() != delivered {
                        ch.checker.violation(format!(
                            "{}: bytesRead {} (received {}) but the kernel delivered {delivered}",
                            name(),
                            core.bytes_read(),
                            core.bytes_received()
                        ));
                    }
                }
                if let Some((conn, side)) = end {
                    let e = &self.conns[conn].ends[side];
                    let flushed = core.bytes_written() - core.writable_length() as u64;
                    if e.failed().is_none() && flushed != e.sent {
                        ch.checker.violation(format!(
                            "{}: bytesWritten - writableLength = {flushed} but the kernel took {}",
                            name(),
                            e.sent
                        ));
                    }
                }
                // A `connect()` made after `destroy()` may already run its timers.
                let closing = core.ready_state() != nodenet_core::ReadyState::Opening;
                if matches!(ev, SocketEvent::Close { .. })
                    && closing
                    && core.poll_timeout().is_some()
                {
                    ch.checker
                        .violation(format!("{}: a timer is armed at Close", name()));
                }
            }
        }
    }

    /// One observation of the server with handle `probe` on `host`.
    pub(crate) fn observe_server<C>(
        &mut self,
        probe: u32,
        host: HostIx,
        core: &nodenet_core::Server,
        what: ServerObservation<'_, C>,
    ) {
        let server = ServerId(probe);
        let (event, connections) = match what {
            ServerObservation::Shutdown { deadline } => {
                if let Some(ch) = &mut self.checker {
                    ch.checker.server_shutdown(server, deadline);
                }
                return;
            }
            ServerObservation::Event { event, connections } => (event, connections),
        };
        if self.trace.enabled() {
            let what = match event {
                ServerEvent::Listening => "Listening".to_string(),
                ServerEvent::Connection(_) => "Connection".to_string(),
                ServerEvent::Drop(_) => "Drop".to_string(),
                ServerEvent::Blocked { .. } => "Blocked".to_string(),
                ServerEvent::Error(e) => format!("Error({}: {})", e.code().as_str(), e.message()),
                ServerEvent::Close => "Close".to_string(),
            };
            let name = &self.hosts[host].name;
            self.trace.record(
                self.now,
                format_args!("{name}#{probe}"),
                format_args!("{what}"),
            );
        }
        let Some(ch) = &mut self.checker else {
            return;
        };
        if let ServerEvent::Close = event {
            if core.connections() > 0 {
                ch.checker.violation(format!(
                    "{}#{probe}: Close with {} connections open",
                    self.hosts[host].name,
                    core.connections()
                ));
            }
        }
        let seen = match event {
            ServerEvent::Listening => Seen::Listening,
            ServerEvent::Connection(_) => Seen::Connection,
            ServerEvent::Drop(_) | ServerEvent::Blocked { .. } => Seen::Refused,
            ServerEvent::Error(e) if e.syscall() == Some("accept") => Seen::AcceptError,
            ServerEvent::Error(_) => Seen::Error,
            ServerEvent::Close => Seen::Close,
        };
        let view = ServerView {
            connections,
            accept_failures: core.accept_failures(),
        };
        ch.checker.server_event(server, seen, view);
    }

    /// The clock is about to move on to `next`: the shutdown deadlines it reached are
    /// checked, and (with `servers_polled`) that no connection is left in an accept
    /// queue past the longest accept pause.
    #[inline]
    pub(crate) fn clock_moves(&mut self, next: Duration) {
        // Every move of the clock asks; mostly no server has a deadline and nobody
        // polls: nothing to check, decided without the call.
        if self
            .checker
            .as_ref()
            .is_some_and(|ch| ch.servers_polled || ch.checker.deadlines_pending())
        {
            self.clock_moves_checked(next);
        }
    }

    #[inline(never)]
    fn clock_moves_checked(&mut self, next: Duration) {
        let Some(ch) = &mut self.checker else {
            return;
        };
        let listeners = &self.listeners;
        ch.checker.server_deadlines(self.now, |s| {
            listeners.iter().any(|l| l.open && l.server == s.0)
        });
        if !ch.servers_polled {
            return;
        }
        for l in listeners.iter().filter(|l| l.open && !l.queue.is_empty()) {
            ch.checker
                .server_waiting(ServerId(l.server), l.waiting_since, next);
        }
    }
}

/// One-line rendering of a socket event for the trace (data by length, errors by code).
struct ShortEvent<'a>(&'a SocketEvent);

impl std::fmt::Display for ShortEvent<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            SocketEvent::Data(d) => write!(f, "Data({})", d.len()),
            SocketEvent::Text(t) => write!(f, "Text({})", t.len()),
            SocketEvent::Error(e) => write!(f, "Error({}: {})", e.code().as_str(), e.message()),
            SocketEvent::WriteDone { id, result } => match result {
                Ok(()) => write!(f, "WriteDone({}) ok", id.0),
                Err(e) => write!(f, "WriteDone({}) {}", id.0, e.code().as_str()),
            },
            SocketEvent::ConnectionAttemptFailed {
                address,
                port,
                error,
                ..
            } => write!(
                f,
                "ConnectionAttemptFailed {address}:{} {}",
                port.unwrap_or(0),
                error.code().as_str()
            ),
            other => write!(f, "{other:?}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::{connect, create_server, ServerEvent, Sim};
    use nodenet_core::{ConnectOptions, ListenOptions, ServerOptions};

    /// Every socket of a run reaches the checker, paired with its peer, with the bytes
    /// it received counted.
    #[test]
    fn the_checker_sees_both_ends_of_a_connection() {
        let mut sim = Sim::new(5);
        sim.host("server", || async {
            let mut server = create_server(ServerOptions::default());
            server.listen(ListenOptions::port(80))?;
            while let Some(ev) = server.next_event().await {
                if let ServerEvent::Connection(mut conn) = ev {
                    conn.end_with("hello");
                    while conn.next_event().await.is_some() {}
                }
            }
            Ok(())
        });
        sim.client("client", async {
            let mut socket = connect(ConnectOptions::tcp(80, "server"))?;
            socket.end_with("hi");
            while socket.next_event().await.is_some() {}
            Ok(())
        });
        sim.run().unwrap_or_else(|e| panic!("{e}"));
        assert_pairs(&sim, 5, 2);
    }

    /// The same over a Unix socket: its two ends are paired as a TCP connection's are.
    #[test]
    fn the_checker_sees_both_ends_of_a_unix_connection() {
        let mut sim = Sim::new(5);
        sim.client("box", async {
            let mut server = create_server(ServerOptions::default());
            server.listen(ListenOptions::path("checked.sock"))?;
            crate::runtime::spawn(async move {
                while let Some(ev) = server.next_event().await {
                    if let ServerEvent::Connection(mut conn) = ev {
                        conn.end_with("hello");
                        while conn.next_event().await.is_some() {}
                    }
                }
            });
            let mut socket = connect(ConnectOptions::path("checked.sock"))?;
            socket.end_with("hi");
            while socket.next_event().await.is_some() {}
            Ok(())
        });
        sim.run().unwrap_or_else(|e| panic!("{e}"));
        assert_pairs(&sim, 5, 2);
    }

    /// Two sockets of the run are paired, one received `a` bytes, the other `b`.
    fn assert_pairs(sim: &Sim, a: u64, b: u64) {
        let st = sim.shared.lock();
        let ch = st.checker.as_ref().map(|c| &c.checker);
        let pairs: Vec<(usize, Option<SocketId>, u64)> = (0..8)
            .filter_map(|i| {
                let (peer, received) = ch?.pairing(SocketId(i))?;
                Some((i, peer, received))
            })
            .filter(|(_, peer, _)| peer.is_some())
            .collect();
        assert_eq!(pairs.len(), 2, "{pairs:?}");
        let got: Vec<u64> = pairs.iter().map(|p| p.2).collect();
        assert!(got.contains(&a) && got.contains(&b), "{pairs:?}");
    }
}
