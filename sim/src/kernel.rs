//! The fake kernel's behaviour at the level of syscall results: what each socket and
//! server [`Command`] does to the kernel state, and what each timed [`KernelEvent`]
//! reports back through the core's `handle_*` methods. Linux's observable rules are kept:
//! a FIN follows the data, a close with unread data sends an RST, an RST discards what
//! the peer has not read yet and fails its next read or write with `ECONNRESET`, data
//! sent to a closed socket is answered with an RST, `accept` fails with `EMFILE` while
//! the host's descriptors are exhausted (the connections stay queued; the core pauses and
//! retries, as in the product), and a connect to an address nobody answers fails with
//! `ETIMEDOUT` after 127 s. Name lookups go through the core's `dns_lookup` (IP literals,
//! Node's shaping), with getaddrinfo answered from the world's DNS table.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use bytes::{Bytes, BytesMut};

use nodenet_core::dns::{dns_lookup, DnsLookup, GaiQuery, LookupOptions, ALL, V4MAPPED};
use nodenet_core::error::{Error, ErrorCode};
use nodenet_core::options::{AttemptId, Endpoint, LookupAddress};
use nodenet_core::server::{
    ListenStage, ListenerId, ServerCommand, ACCEPT_RETRY_FIRST, ACCEPT_RETRY_MAX,
};
use nodenet_core::socket::Command;

use super::net::{Conn, End, KernelEvent, Listener, PendingConnect};
use super::world::World;
use super::{ServerId, SocketId};

/// Linux gives up on an unanswered SYN after 6 retries: 1+2+4+8+16+32+64 s.
const SYN_TIMEOUT: Duration = Duration::from_secs(127);
/// A SYN dropped on a full backlog is retransmitted after 1 s.
const SYN_RETRY: Duration = Duration::from_secs(1);
/// libuv reads into 64 KiB buffers.
const READ_BUFFER: usize = 64 * 1024;

impl World {
    pub(crate) fn latency(&mut self) -> Duration {
        let (lo, hi) = self.faults.latency;
        if hi <= lo {
            return lo;
        }
        let span = (hi - lo).as_micros() as u64;
        lo + Duration::from_micros(self.rng.below(span + 1))
    }

    /// `dns.lookup` exactly as the product does it (the core's `dns_lookup`: literals,
    /// family filter, dedupe, the first unless `all`), with getaddrinfo answered from the
    /// DNS table.
    fn dns_lookup(&self, host: &str, options: LookupOptions) -> Result<Vec<LookupAddress>, Error> {
        match dns_lookup(host, options) {
            DnsLookup::Answered(answer) => answer,
            DnsLookup::Query(query) => query.answer(Some(self.getaddrinfo(&query))),
        }
    }

    /// glibc's getaddrinfo over the DNS table: the records in table order, only IPv4 for
    /// `AF_INET`, only IPv6 for `AF_INET6` — where `V4MAPPED` maps the IPv4 records when
    /// there is no IPv6 one (and `V4MAPPED | ALL` adds them after the IPv6 ones) — and
    /// `EAI_NONAME` (Node's `ENOTFOUND`) for an unknown name or an empty answer.
    fn getaddrinfo(&self, query: &GaiQuery) -> Result<Vec<IpAddr>, ErrorCode> {
        let Some(records) = self.kernel.dns.get(query.host()) else {
            return Err(ErrorCode::ENOTFOUND);
        };
        let v4 = records.iter().filter(|a| a.is_ipv4()).copied();
        let v6 = records.iter().filter(|a| a.is_ipv6()).copied();
        let mapped = v4.clone().map(|a| match a {
            IpAddr::V4(v4) => IpAddr::V6(v4.to_ipv6_mapped()),
            v6 => v6,
        });
        let v4mapped = query.hints() & V4MAPPED != 0;
        let list: Vec<IpAddr> = match query.family() {
            4 => v4.collect(),
            6 if v4mapped && query.hints() & ALL != 0 => v6.chain(mapped).collect(),
            6 if v4mapped && v6.clone().next().is_none() => mapped.collect(),
            6 => v6.collect(),
            _ => records.clone(),
        };
        if list.is_empty() {
            return Err(ErrorCode::ENOTFOUND);
        }
        Ok(list)
    }

    fn kernel_log(&mut self, what: std::fmt::Arguments<'_>) {
        if self.trace.enabled() {
            self.record("kernel:", what);
        }
    }

    // ---- socket commands ----------------------------------------------------------

    pub(crate) fn perform(&mut self, s: SocketId, cmd: Command) {
        match cmd {
            Command::Resolve {
                id,
                host,
                family,
                hints,
                all,
                ..
            } => {
                let answer = self.dns_lookup(&host, LookupOptions { family, hints, all });
                let at = self.now + self.latency();
                self.kernel.schedule(
                    at,
                    KernelEvent::Resolved {
                        sock: s,
                        id,
                        answer,
                    },
                );
            }
            Command::Connect {
                attempt,
                endpoint,
                local,
            } => self.start_connect(s, attempt, endpoint, local),
            Command::Abort { attempt } => self.abort_connect(s, attempt),
            Command::StartReading => {
                self.sockets[s.0].reading = true;
                if let Some((conn, side)) = self.sockets[s.0].conn {
                    self.schedule_deliver(conn, side, self.now);
                }
            }
            Command::StopReading => self.sockets[s.0].reading = false,
            Command::Write => {
                self.sockets[s.0].want_write = true;
                if let Some((conn, side)) = self.sockets[s.0].conn {
                    self.kernel
                        .schedule(self.now, KernelEvent::Writable { conn, side });
                }
            }
            Command::Shutdown => {
                if let Some((conn, side)) = self.sockets[s.0].conn {
                    let at = self.now + self.latency();
                    if let Some(c) = self.kernel.conns.get_mut(conn) {
                        if !c.ends[side].reset {
                            c.ends[1 - side].incoming.fin(at);
                        }
                    }
                    let name = self.sockets[s.0].name.clone();
                    self.kernel_log(format_args!("FIN from {name}"));
                    self.schedule_deliver(conn, 1 - side, at);
                }
                self.kernel
                    .schedule(self.now, KernelEvent::ShutdownDone { sock: s });
            }
            Command::Close { reset } => {
                let sock = &mut self.sockets[s.0];
                sock.reading = false;
                sock.want_write = false;
                let attempts: Vec<AttemptId> = self
                    .kernel
                    .connects
                    .range((s, AttemptId(0))..=(s, AttemptId(u64::MAX)))
                    .map(|((_, a), _)| *a)
                    .collect();
                for a in attempts {
                    self.abort_connect(s, a);
                }
                if let Some((conn, side)) = self.sockets[s.0].conn.take() {
                    self.close_end(conn, side, reset);
                }
            }
            Command::SetNoDelay(_) | Command::SetKeepAlive { .. } => {}
        }
    }

    fn start_connect(
        &mut self,
        s: SocketId,
        attempt: AttemptId,
        endpoint: Endpoint,
        local: Option<SocketAddr>,
    ) {
        let dst = match endpoint {
            Endpoint::Tcp(a) => a,
            Endpoint::Pipe(_) => {
                // IPC is not modelled: no such socket file.
                self.answer_connect(s, attempt, Err(ErrorCode::ENOENT), Duration::ZERO);
                return;
            }
        };
        let host = self.sockets[s.0].host;
        let src_ip = match local.map(|l| l.ip()).filter(|ip| !ip.is_unspecified()) {
            Some(ip) => Some(ip),
            // A loopback destination is reached from the loopback address of its family,
            // as Linux's local route chooses (a peer sees 127.0.0.1, not the LAN address).
            None if dst.ip().is_loopback() => Some(match dst.ip() {
                IpAddr::V4(_) => IpAddr::V4(std::net::Ipv4Addr::LOCALHOST),
                IpAddr::V6(_) => IpAddr::V6(std::net::Ipv6Addr::LOCALHOST),
            }),
            None => self.kernel.hosts[host].addr_of_family(dst.is_ipv6()),
        };
        let src_port = match local.map(|l| l.port()).filter(|p| *p != 0) {
            Some(p) => p,
            None => self.kernel.hosts[host].ephemeral_port(),
        };
        let Some(src_ip) = src_ip else {
            self.answer_connect(s, attempt, Err(ErrorCode::ENETUNREACH), Duration::ZERO);
            return;
        };
        let src = SocketAddr::new(src_ip, src_port);
        self.kernel_log(format_args!("SYN {src} -> {dst}"));
        self.kernel.connects.insert(
            (s, attempt),
            PendingConnect {
                src,
                dst,
                conn: None,
            },
        );
        if dst.is_ipv6() && self.faults.ipv6_broken {
            self.answer_connect(s, attempt, Err(ErrorCode::ENETUNREACH), Duration::ZERO);
            return;
        }
        let ip = dst.ip();
        if self.kernel.refused.contains(&ip) || self.rng.chance(self.faults.refuse) {
            let lat = self.latency() * 2;
            self.answer_connect(s, attempt, Err(ErrorCode::ECONNREFUSED), lat);
            return;
        }
        let unknown = !self.kernel.host_by_ip.contains_key(&ip) && !ip.is_loopback();
        if unknown
            || self.kernel.black_holes.contains(&ip)
            || self.rng.chance(self.faults.black_hole)
        {
            self.answer_connect(s, attempt, Err(ErrorCode::ETIMEDOUT), SYN_TIMEOUT);
            return;
        }
        let at = self.now + self.latency();
        self.kernel
            .schedule(at, KernelEvent::Syn { sock: s, attempt });
    }

    fn answer_connect(
        &mut self,
        s: SocketId,
        attempt: AttemptId,
        result: Result<(), ErrorCode>,
        after: Duration,
    ) {
        self.kernel.schedule(
            self.now + after,
            KernelEvent::ConnectAnswer {
                sock: s,
                attempt,
                result,
            },
        );
    }

    fn abort_connect(&mut self, s: SocketId, attempt: AttemptId) {
        if let Some(p) = self.kernel.connects.remove(&(s, attempt)) {
            // Forget the attempt's pending SYN and answer, so a dead black-hole timer
            // does not keep virtual time running until its 127 s.
            self.kernel.queue.retain(|_, ev| match ev {
                KernelEvent::Syn { sock, attempt: a }
                | KernelEvent::ConnectAnswer {
                    sock, attempt: a, ..
                } => !(*sock == s && *a == attempt),
                _ => true,
            });
            if let Some(conn) = p.conn {
                // The handshake completed: closing the attempt's socket closes the
                // connection the server may already have in its queue.
                self.close_end(conn, 0, false);
            }
        }
    }

    /// The SYN arrived at the destination host.
    fn syn(&mut self, s: SocketId, attempt: AttemptId) {
        let Some(p) = self.kernel.connects.get(&(s, attempt)).cloned() else {
            return;
        };
        let dst_host = match self.kernel.host_by_ip.get(&p.dst.ip()) {
            Some(h) => *h,
            None => 0,
        };
        let found = self
            .pick_listener(dst_host, &p.dst, &p.src)
            .and_then(|i| self.kernel.listeners.get(&i).map(|l| (i, l)))
            .map(|(i, l)| (i, l.queue.len() >= l.backlog.max(1), l.server, l.addr));
        let Some((li, full, server, laddr)) = found else {
            self.kernel_log(format_args!("RST {} -> {} (no listener)", p.dst, p.src));
            let lat = self.latency();
            self.answer_connect(s, attempt, Err(ErrorCode::ECONNREFUSED), lat);
            return;
        };
        if full {
            self.kernel_log(format_args!("SYN dropped, backlog full at {}", p.dst));
            self.kernel
                .schedule(self.now + SYN_RETRY, KernelEvent::Syn { sock: s, attempt });
            return;
        }
        // A dual-stack listener sees IPv4 peers as IPv4-mapped IPv6 addresses.
        let local = if laddr.is_ipv6() && p.dst.is_ipv4() {
            mapped(p.dst)
        } else {
            p.dst
        };
        let conn = self.kernel.conns.len();
        self.kernel.conns.push(Conn {
            ends: [End::new(Some(s), p.src), End::new(None, local)],
        });
        if let Some(pc) = self.kernel.connects.get_mut(&(s, attempt)) {
            pc.conn = Some(conn);
        }
        *self.kernel.completed.entry(server).or_insert(0) += 1;
        if let Some(l) = self.kernel.listeners.get_mut(&li) {
            l.queue.push_back(conn);
        }
        self.kernel_log(format_args!("SYN-ACK {} -> {} (conn {conn})", p.dst, p.src));
        let lat = self.latency();
        self.answer_connect(s, attempt, Ok(()), lat);
        self.schedule_accept(li);
        if self.rng.chance(self.faults.reset) {
            let at = self.now + Duration::from_micros(self.rng.below(200_000));
            self.kernel.schedule(at, KernelEvent::InjectReset { conn });
        }
    }

    /// The listener a SYN from `src` to `dst` reaches. Several match only when they share
    /// the port with `SO_REUSEPORT`: like Linux, a listener on the exact address wins
    /// over wildcards, and the connection's source port (the kernel hashes the 4-tuple)
    /// picks one of the group.
    fn pick_listener(&self, host: usize, dst: &SocketAddr, src: &SocketAddr) -> Option<usize> {
        let matching = || {
            self.kernel
                .listeners
                .iter()
                .filter(move |(_, l)| l.host == host && l.matches(dst))
        };
        let exact: Vec<usize> = matching()
            .filter(|(_, l)| l.addr.ip() == dst.ip())
            .map(|(i, _)| *i)
            .collect();
        let group = if exact.is_empty() {
            matching().map(|(i, _)| *i).collect()
        } else {
            exact
        };
        match group.len() {
            0 => None,
            n => group.get(usize::from(src.port()) % n).copied(),
        }
    }

    fn schedule_accept(&mut self, li: usize) {
        let now = self.now;
        if let Some(l) = self.kernel.listeners.get_mut(&li) {
            if l.accept_at.is_none() && !l.queue.is_empty() && !l.paused {
                l.accept_at = Some(now);
                self.kernel
                    .schedule(now, KernelEvent::Accept { listener: li });
            }
        }
    }

    fn connect_answer(&mut self, s: SocketId, attempt: AttemptId, result: Result<(), ErrorCode>) {
        let now = self.instant();
        let Some(p) = self.kernel.connects.remove(&(s, attempt)) else {
            // IPC connects are refused at once, with no SYN and no pending entry; for
            // anyone else a missing entry means the attempt was aborted.
            if let Err(code) = result {
                self.sockets[s.0]
                    .core
                    .handle_connect_failed(attempt, code, now);
                self.drain_socket(s);
            }
            return;
        };
        match result {
            Ok(()) => {
                let Some(conn) = p.conn else { return };
                self.sockets[s.0].conn = Some((conn, 0));
                self.sockets[s.0]
                    .core
                    .handle_connected(attempt, Some(p.src), now);
                // Anything the server sent before we heard the SYN-ACK is readable now.
                if self.sockets[s.0].reading {
                    self.schedule_deliver(conn, 0, self.now);
                }
            }
            Err(code) => {
                self.sockets[s.0]
                    .core
                    .handle_connect_failed(attempt, code, now);
            }
        }
        self.drain_socket(s);
    }

    // ---- server commands ----------------------------------------------------------

    pub(crate) fn perform_server(&mut self, s: ServerId, cmd: ServerCommand) {
        let now = self.instant();
        match cmd {
            ServerCommand::Resolve { id, host, options } => {
                let answer = self.dns_lookup(&host, options);
                self.servers[s.0].core.handle_resolved(id, answer, now);
            }
            ServerCommand::Listen {
                id,
                endpoint,
                backlog,
                ipv6_only,
                reuse_port,
                ..
            } => {
                let Endpoint::Tcp(mut addr) = endpoint else {
                    self.servers[s.0].core.handle_listen_failed(
                        id,
                        ListenStage::Bind,
                        ErrorCode::EACCES,
                        now,
                    );
                    return;
                };
                let host = self.servers[s.0].host;
                let ip = addr.ip();
                if !ip.is_unspecified()
                    && !ip.is_loopback()
                    && self.kernel.host_by_ip.get(&ip) != Some(&host)
                {
                    self.servers[s.0].core.handle_listen_failed(
                        id,
                        ListenStage::Bind,
                        ErrorCode::EADDRNOTAVAIL,
                        now,
                    );
                    return;
                }
                if addr.port() == 0 {
                    addr.set_port(self.kernel.hosts[host].ephemeral_port());
                }
                let clash =
                    self.kernel.listeners.values().any(|l| {
                        l.host == host && l.collides(&addr) && !(l.reuse_port && reuse_port)
                    });
                if clash {
                    self.servers[s.0].core.handle_listen_failed(
                        id,
                        ListenStage::Bind,
                        ErrorCode::EADDRINUSE,
                        now,
                    );
                    return;
                }
                let li = self.kernel.next_listener;
                self.kernel.next_listener += 1;
                self.kernel.listeners.insert(
                    li,
                    Listener {
                        server: s,
                        id,
                        host,
                        addr,
                        ipv6_only,
                        reuse_port,
                        backlog: backlog as usize,
                        queue: Default::default(),
                        accept_at: None,
                        paused: false,
                        burst: None,
                    },
                );
                self.servers[s.0].listeners.insert(id, li);
                self.kernel_log(format_args!("LISTEN {addr}"));
                self.servers[s.0]
                    .core
                    .handle_listening(id, Endpoint::Tcp(addr), now);
            }
            ServerCommand::Reject { id } => {
                if let Some(conn) = self.servers[s.0].pending.remove(&id) {
                    self.close_end(conn, 1, false);
                }
            }
            ServerCommand::CloseListener { id } => {
                if let Some(li) = self.servers[s.0].listeners.remove(&id) {
                    if let Some(l) = self.kernel.listeners.remove(&li) {
                        self.kernel_log(format_args!("CLOSE listener {}", l.addr));
                        // Connections still in the accept queue are reset.
                        for conn in l.queue {
                            self.close_end(conn, 1, true);
                        }
                    }
                }
            }
            ServerCommand::Unlink { .. } => {}
            ServerCommand::PauseAccept { id } => {
                if let Some(l) = self.listener_of(s, id) {
                    l.paused = true;
                }
                self.kernel_log(format_args!("accept paused"));
            }
            ServerCommand::ResumeAccept { id } => {
                let at = self.now;
                let li = self.servers[s.0].listeners.get(&id).copied();
                if let Some(l) = self.listener_of(s, id) {
                    l.paused = false;
                    // Accept at once, even on an empty queue: that ends the burst.
                    let schedule = l.accept_at.is_none();
                    if schedule {
                        l.accept_at = Some(at);
                    }
                    if let (true, Some(li)) = (schedule, li) {
                        self.kernel
                            .schedule(at, KernelEvent::Accept { listener: li });
                    }
                }
                self.kernel_log(format_args!("accept resumed"));
            }
            ServerCommand::EndConnections => {
                self.kernel_log(format_args!("shutdown: end every connection"));
                for id in self.open_connections(s) {
                    let _ = self.sockets[id.0].core.end(now);
                    self.drain_socket(id);
                }
            }
            ServerCommand::DestroyConnections => {
                let early = self.servers[s.0]
                    .shutdown_deadline
                    .is_none_or(|d| self.now < d);
                if let (true, Some(c)) = (early, &mut self.checker) {
                    c.violation(format!(
                        "{}: DestroyConnections before the shutdown deadline",
                        self.servers[s.0].name
                    ));
                }
                self.kernel_log(format_args!("shutdown deadline: destroy connections"));
                for id in self.open_connections(s) {
                    self.sockets[id.0].core.destroy(None);
                    self.drain_socket(id);
                }
            }
        }
    }

    /// One `accept(2)` on listener `li`: `EAGAIN` on an empty queue, `EMFILE` while the
    /// host's descriptors are exhausted (the connection stays queued), otherwise the
    /// first queued connection.
    fn accept(&mut self, li: usize) {
        let Some(l) = self.kernel.listeners.get_mut(&li) else {
            return;
        };
        l.accept_at = None;
        if l.paused {
            return;
        }
        let (server, lid, host, empty) = (l.server, l.id, l.host, l.queue.is_empty());
        let now = self.instant();
        if empty {
            self.end_accept_burst(li);
            self.servers[server.0].core.handle_accept_empty(lid, now);
            self.drain_server(server);
            return;
        }
        if self.descriptors_exhausted(host) {
            self.accept_failed(li, server);
            self.servers[server.0]
                .core
                .handle_accept_error(lid, ErrorCode::EMFILE, now);
            self.drain_server(server);
            // A driver keeps accepting unless told to pause: a core that does not pause
            // makes this a busy loop, which the step limit reports.
            self.schedule_accept(li);
            return;
        }
        self.end_accept_burst(li);
        let Some(conn) = self
            .kernel
            .listeners
            .get_mut(&li)
            .and_then(|l| l.queue.pop_front())
        else {
            return;
        };
        let c = &self.kernel.conns[conn];
        let (local, remote) = (c.ends[1].addr, c.ends[0].addr);
        let remote = if local.is_ipv6() && remote.is_ipv4() {
            mapped(remote)
        } else {
            remote
        };
        self.servers[server.0].handed += 1;
        let id = self.servers[server.0].core.handle_accepted(
            lid,
            Endpoint::Tcp(local),
            Endpoint::Tcp(remote),
            now,
        );
        self.servers[server.0].pending.insert(id, conn);
        self.drain_server(server);
        self.schedule_accept(li);
    }

    /// Whether an `accept` on `host` fails with `EMFILE` now: during an exhaustion period,
    /// or when the fault starts one (1–600 ms: until other connections free descriptors).
    fn descriptors_exhausted(&mut self, host: usize) -> bool {
        let now = self.now;
        if self.kernel.hosts[host]
            .emfile_until
            .is_some_and(|t| t > now)
        {
            return true;
        }
        if !self.rng.chance(self.faults.accept_emfile) {
            return false;
        }
        let until = now + Duration::from_millis(self.rng.range(1, 600));
        self.kernel.hosts[host].emfile_until = Some(until);
        self.kernel_log(format_args!(
            "descriptors exhausted until {:.3}ms",
            until.as_secs_f64() * 1e3
        ));
        true
    }

    /// Book-keeping and checks for a failed accept: a new burst, or the next failure of
    /// one, which must come exactly after the product's pause (10 ms, doubling, at most
    /// 250 ms).
    fn accept_failed(&mut self, li: usize, server: ServerId) {
        let now = self.now;
        let Some(l) = self.kernel.listeners.get_mut(&li) else {
            return;
        };
        let (first, violation) = match l.burst {
            None => {
                l.burst = Some((now, None));
                (true, None)
            }
            Some((last, pause)) => {
                let gap = now.saturating_sub(last);
                let want = match pause {
                    None => ACCEPT_RETRY_FIRST,
                    Some(p) => (p * 2).min(ACCEPT_RETRY_MAX),
                };
                l.burst = Some((now, Some(gap)));
                (
                    false,
                    (gap != want).then(|| format!("accept retried after {gap:?}, not {want:?}")),
                )
            }
        };
        let srv = &mut self.servers[server.0];
        srv.accept_failures += 1;
        if first {
            srv.accept_bursts += 1;
        }
        let name = srv.name.clone();
        self.kernel_log(format_args!(
            "accept EMFILE on {name} ({})",
            if first { "burst starts" } else { "still" }
        ));
        if let (Some(v), Some(c)) = (violation, &mut self.checker) {
            c.violation(format!("{name}: {v}"));
        }
    }

    fn end_accept_burst(&mut self, li: usize) {
        if let Some(l) = self.kernel.listeners.get_mut(&li) {
            l.burst = None;
        }
    }

    fn listener_of(&mut self, s: ServerId, id: ListenerId) -> Option<&mut Listener> {
        let li = self.servers[s.0].listeners.get(&id)?;
        self.kernel.listeners.get_mut(li)
    }

    /// The accepted sockets of server `s` that are still open.
    fn open_connections(&self, s: ServerId) -> Vec<SocketId> {
        (0..self.sockets.len())
            .filter(|i| {
                let sock = &self.sockets[*i];
                !sock.closed && matches!(sock.accepted, Some((srv, _)) if srv == s)
            })
            .map(SocketId)
            .collect()
    }

    /// Bind the accepted socket `s` to end `side` of `conn`.
    pub(crate) fn attach(&mut self, s: SocketId, conn: usize, side: usize) {
        self.sockets[s.0].conn = Some((conn, side));
        let peer = self.kernel.conns[conn].ends[1 - side].owner;
        self.kernel.conns[conn].ends[side].sock = Some(s);
        self.kernel.conns[conn].ends[side].owner = Some(s);
        if let (Some(c), Some(p)) = (&mut self.checker, peer) {
            c.set_peers(s, p);
        }
        if self.kernel.conns[conn].ends[side].closed {
            return;
        }
        self.schedule_deliver(conn, side, self.now);
    }

    // ---- data path ----------------------------------------------------------------

    /// Schedule a delivery attempt, unless one is already due no later.
    pub(crate) fn schedule_deliver(&mut self, conn: usize, side: usize, at: Duration) {
        let at = at.max(self.now);
        let Some(end) = self.kernel.conns.get_mut(conn).map(|c| &mut c.ends[side]) else {
            return;
        };
        if end.deliver_at.is_some_and(|t| t <= at) {
            return;
        }
        end.deliver_at = Some(at);
        self.kernel
            .schedule(at, KernelEvent::Deliver { conn, side });
    }

    /// Deliver one readable chunk, the EOF, or the pending reset to end `side`.
    fn deliver(&mut self, conn: usize, side: usize) {
        let now_v = self.now;
        let now = self.instant();
        let Some(end) = self.kernel.conns.get_mut(conn).map(|c| &mut c.ends[side]) else {
            return;
        };
        if end.deliver_at.is_some_and(|t| t <= now_v) {
            end.deliver_at = None;
        }
        let end = &*end;
        let Some(s) = end.sock else { return };
        if end.closed || !self.sockets[s.0].reading || self.sockets[s.0].conn != Some((conn, side))
        {
            return;
        }
        if end.reset {
            if !end.reset_reported {
                self.kernel.conns[conn].ends[side].reset_reported = true;
                self.sockets[s.0].reading = false;
                self.sockets[s.0]
                    .core
                    .handle_read_error(ErrorCode::ECONNRESET, now);
                self.drain_socket(s);
            }
            return;
        }
        let head = end.incoming.chunks.front().map(|(t, d)| (*t, d.len()));
        match head {
            Some((t, _)) if t > self.now => self.schedule_deliver(conn, side, t),
            Some(_) => {
                // A read returns everything that has arrived, up to libuv's 64 KiB read
                // buffer — or, with chunking, a random part of it.
                let now_v = self.now;
                let ready: usize = self.kernel.conns[conn].ends[side]
                    .incoming
                    .chunks
                    .iter()
                    .take_while(|(t, _)| *t <= now_v)
                    .map(|(_, d)| d.len())
                    .sum::<usize>()
                    .min(READ_BUFFER);
                let take = if self.rng.chance(self.faults.chunking) {
                    self.rng.range(1, ready as u64) as usize
                } else {
                    ready
                };
                let pipe = &mut self.kernel.conns[conn].ends[side].incoming;
                let data = pipe.take(take);
                let more = pipe.chunks.front().map(|(t, _)| *t).or(pipe.fin_at);
                self.sockets[s.0].delivered += data.len() as u64;
                self.sockets[s.0].core.handle_data(data, now);
                // Space freed: a writer blocked on the full buffer may continue.
                if let Some(w) = self.kernel.conns[conn].ends[1 - side].sock {
                    if self.sockets[w.0].want_write {
                        self.kernel.schedule(
                            self.now,
                            KernelEvent::Writable {
                                conn,
                                side: 1 - side,
                            },
                        );
                    }
                }
                self.drain_socket(s);
                if let Some(t) = more {
                    self.schedule_deliver(conn, side, t);
                }
            }
            None => {
                let fin = end.incoming.fin_at;
                match fin {
                    Some(t) if t > self.now => self.schedule_deliver(conn, side, t),
                    Some(_) if !end.eof_delivered => {
                        self.kernel.conns[conn].ends[side].eof_delivered = true;
                        self.sockets[s.0].reading = false;
                        self.sockets[s.0].core.handle_eof(now);
                        self.drain_socket(s);
                    }
                    _ => {}
                }
            }
        }
    }

    /// Let the socket on end `side` write what it has queued, as far as the buffer
    /// toward its peer allows.
    fn writable(&mut self, conn: usize, side: usize) {
        let Some(end) = self.kernel.conns.get(conn).map(|c| &c.ends[side]) else {
            return;
        };
        let Some(s) = end.sock else { return };
        if end.closed
            || !self.sockets[s.0].want_write
            || self.sockets[s.0].conn != Some((conn, side))
        {
            return;
        }
        let now = self.instant();
        if end.reset {
            if !end.reset_reported {
                self.kernel.conns[conn].ends[side].reset_reported = true;
                self.sockets[s.0].want_write = false;
                self.sockets[s.0]
                    .core
                    .handle_write_error(ErrorCode::ECONNRESET, now);
                self.drain_socket(s);
            }
            return;
        }
        let queued: usize = self.sockets[s.0].core.write_chunks().map(<[u8]>::len).sum();
        if queued == 0 {
            self.sockets[s.0].want_write = false;
            return;
        }
        let peer_closed = self.kernel.conns[conn].ends[1 - side].closed;
        let space = if peer_closed {
            queued
        } else {
            self.faults
                .buffer
                .saturating_sub(self.kernel.conns[conn].ends[1 - side].incoming.len)
        };
        if space == 0 {
            return; // the reader's progress wakes us up
        }
        let mut n = queued.min(space);
        if self.rng.chance(self.faults.short_writes) {
            n = self.rng.range(1, n as u64) as usize;
        }
        let mut buf = BytesMut::with_capacity(n);
        for chunk in self.sockets[s.0].core.write_chunks() {
            let want = n - buf.len();
            if want == 0 {
                break;
            }
            buf.extend_from_slice(&chunk[..want.min(chunk.len())]);
        }
        let data: Bytes = buf.freeze();
        self.kernel.conns[conn].ends[side].sent += n as u64;
        if peer_closed {
            // Data for a closed socket: the peer's kernel answers with an RST.
            if !self.kernel.conns[conn].ends[1 - side].rst_sent {
                self.kernel.conns[conn].ends[1 - side].rst_sent = true;
                let at = self.now + self.latency() * 2;
                self.kernel_log(format_args!(
                    "data to closed socket, RST back (conn {conn})"
                ));
                self.kernel.schedule(at, KernelEvent::Rst { conn, side });
            }
        } else {
            let at = self.now + self.latency();
            self.kernel.conns[conn].ends[1 - side]
                .incoming
                .push(at, data);
            self.schedule_deliver(conn, 1 - side, at);
        }
        self.sockets[s.0].core.handle_written(n, now);
        self.drain_socket(s);
        if self.sockets[s.0].want_write && self.sockets[s.0].conn == Some((conn, side)) {
            let left: usize = self.sockets[s.0].core.write_chunks().map(<[u8]>::len).sum();
            if left == 0 {
                self.sockets[s.0].want_write = false;
            } else {
                self.kernel
                    .schedule(self.now, KernelEvent::Writable { conn, side });
            }
        }
    }

    /// The socket on end `side` closed (or an accept-queue entry was discarded).
    pub(crate) fn close_end(&mut self, conn: usize, side: usize, reset: bool) {
        let Some(c) = self.kernel.conns.get_mut(conn) else {
            return;
        };
        let end = &mut c.ends[side];
        if end.closed {
            return;
        }
        end.closed = true;
        end.sock = None;
        let unread = end.incoming.len > 0;
        let already_reset = end.reset;
        end.incoming.discard();
        if already_reset {
            return;
        }
        if reset || unread {
            if !c.ends[side].rst_sent {
                c.ends[side].rst_sent = true;
                let why = if reset { "reset" } else { "unread data" };
                let (from, to) = (c.ends[side].addr, c.ends[1 - side].addr);
                let at = self.now + self.latency();
                self.kernel_log(format_args!("RST {from} -> {to} ({why})"));
                self.kernel.schedule(
                    at,
                    KernelEvent::Rst {
                        conn,
                        side: 1 - side,
                    },
                );
            }
        } else {
            let at = self.now + self.latency();
            self.kernel.conns[conn].ends[1 - side].incoming.fin(at);
            self.schedule_deliver(conn, 1 - side, at);
        }
    }

    fn rst_arrives(&mut self, conn: usize, side: usize) {
        let Some(c) = self.kernel.conns.get_mut(conn) else {
            return;
        };
        let end = &mut c.ends[side];
        if end.closed || end.reset {
            return;
        }
        end.reset = true;
        end.incoming.discard();
        let sock = end.sock;
        if let Some(s) = sock {
            let now = self.now;
            if self.sockets[s.0].reading {
                self.schedule_deliver(conn, side, now);
            } else if self.sockets[s.0].want_write {
                self.kernel
                    .schedule(now, KernelEvent::Writable { conn, side });
            }
        }
    }

    // ---- dispatch -----------------------------------------------------------------

    pub(crate) fn kernel_event(&mut self, ev: KernelEvent) {
        match ev {
            KernelEvent::Resolved { sock, id, answer } => {
                let now = self.instant();
                self.sockets[sock.0].core.handle_resolved(id, answer, now);
                self.drain_socket(sock);
            }
            KernelEvent::Syn { sock, attempt } => self.syn(sock, attempt),
            KernelEvent::ConnectAnswer {
                sock,
                attempt,
                result,
            } => self.connect_answer(sock, attempt, result),
            KernelEvent::Deliver { conn, side } => self.deliver(conn, side),
            KernelEvent::Writable { conn, side } => self.writable(conn, side),
            KernelEvent::ShutdownDone { sock } => {
                let now = self.instant();
                self.sockets[sock.0].core.handle_shutdown(Ok(()), now);
                self.drain_socket(sock);
            }
            KernelEvent::Accept { listener } => self.accept(listener),
            KernelEvent::Rst { conn, side } => self.rst_arrives(conn, side),
            KernelEvent::InjectReset { conn } => {
                self.kernel_log(format_args!("injected RST on conn {conn}"));
                self.rst_arrives(conn, 0);
                self.rst_arrives(conn, 1);
            }
        }
    }
}

/// `1.2.3.4:80` as `[::ffff:1.2.3.4]:80`.
fn mapped(a: SocketAddr) -> SocketAddr {
    match a.ip() {
        IpAddr::V4(v4) => SocketAddr::new(IpAddr::V6(v4.to_ipv6_mapped()), a.port()),
        IpAddr::V6(_) => a,
    }
}
