//! The simulated kernel's TCP at the level of syscall results, as the nodenet driver sees
//! them through `RtStream` and `RtListener`: `connect` (refused, black-holed, broken
//! IPv6, a full backlog retried after 1 s, 127 s until `ETIMEDOUT`), `accept` (with
//! `EMFILE` faults), `send` (short writes, `EAGAIN` once the per-direction buffer is
//! full, `EPIPE`/`ECONNRESET` after a reset), `recv` (whatever has arrived, in random
//! chunks; end-of-stream after the FIN), `shutdown`, and close — a FIN, or an RST when
//! unread data is discarded or `SO_LINGER` is zero, as on Linux. Data sent to a closed
//! socket is answered with an RST; an RST loses what was still in flight toward its end
//! (what arrived stays readable, then the error), and a host's RST to itself over a
//! loopback without latency is processed inside the syscall that sends it, as Linux's
//! loopback does. A client's bind to a port in use is refused (`EADDRINUSE`).
//! Segments cross links that may be partitioned, held or lead to a crashed host (see
//! `kernel`): they wait, and retransmissions toward a partitioned or crashed peer give up
//! with `ETIMEDOUT`.

use std::io::{self, IoSlice};
use std::net::{IpAddr, SocketAddr};
use std::task::{Poll, Waker};

use bytes::Bytes;
use nodenet::runtime::{BindOptions, ReadChunk, Step, StepError};
use nodenet_core::dns::{GaiQuery, V4MAPPED};
use nodenet_core::error::code_from_io;
use nodenet_core::{Endpoint, ErrorCode};

use crate::check::{Accept, ServerId};

use super::kernel::{
    Conn, ConnId, End, Ev, HostIx, Listener, ListenerId, Sock, SockId, SockState, State, SYN_RETRY,
    SYN_TIMEOUT,
};
use super::pool;

/// libuv reads into 64 KiB buffers.
const READ_BUFFER: usize = 64 * 1024;

/// The `io::Error` a syscall failing with `code` gives.
pub(crate) fn os_error(code: ErrorCode) -> io::Error {
    match code.errno() {
        Some(n) => io::Error::from_raw_os_error(-n),
        None => io::Error::other(code.as_str()),
    }
}

fn step_error(step: Step, code: ErrorCode) -> StepError {
    StepError {
        step,
        error: os_error(code),
    }
}

/// `1.2.3.4:80` as `[::ffff:1.2.3.4]:80`.
fn mapped(a: SocketAddr) -> SocketAddr {
    match a.ip() {
        IpAddr::V4(v4) => SocketAddr::new(IpAddr::V6(v4.to_ipv6_mapped()), a.port()),
        IpAddr::V6(_) => a,
    }
}

/// An IPv6 link-local address (`fe80::/10`) without a scope id: Linux's `inet6_bind` and
/// `tcp_v6_connect` refuse it with `EINVAL` (the kernel cannot tell which interface's link
/// is meant), before looking at whether the host owns it.
fn needs_scope(addr: SocketAddr) -> bool {
    match addr {
        SocketAddr::V6(a) => a.scope_id() == 0 && (a.ip().segments()[0] & 0xffc0) == 0xfe80,
        SocketAddr::V4(_) => false,
    }
}

impl State {
    // ---- connect ----------------------------------------------------------------

    /// `socket()` + optional `bind(local)` + non-blocking `connect(endpoint)` on `host`.
    pub(crate) fn connect(
        &mut self,
        host: HostIx,
        endpoint: &Endpoint,
        local: Option<SocketAddr>,
    ) -> Result<SockId, StepError> {
        self.ops += 1;
        let dst = match endpoint {
            Endpoint::Tcp(a) => *a,
            Endpoint::Pipe(path) => return self.connect_unix(host, path),
        };
        // Linux's tcp_v4_connect/tcp_v6_connect refuse a broadcast or multicast
        // destination in the connect(2) call itself: no route takes TCP there.
        let no_tcp_route = match dst.ip() {
            IpAddr::V4(v4) => v4.is_broadcast() || v4.is_multicast(),
            IpAddr::V6(v6) => v6.is_multicast(),
        };
        if no_tcp_route {
            return Err(step_error(Step::Connect, ErrorCode::ENETUNREACH));
        }
        if local.is_some_and(needs_scope) {
            return Err(step_error(Step::Bind, ErrorCode::EINVAL));
        }
        if needs_scope(dst) {
            return Err(step_error(Step::Connect, ErrorCode::EINVAL));
        }
        let local_ip = local.map(|l| l.ip()).filter(|ip| !ip.is_unspecified());
        if let Some(ip) = local_ip {
            if !ip.is_loopback() && !self.hosts[host].addrs.contains(&ip) {
                return Err(step_error(Step::Bind, ErrorCode::EADDRNOTAVAIL));
            }
        }
        let src_ip = match local_ip {
            Some(ip) => Some(ip),
            // A loopback destination is reached from the loopback address of its family,
            // as Linux's local route chooses.
            None if dst.ip().is_loopback() => Some(match dst.ip() {
                IpAddr::V4(_) => IpAddr::V4(std::net::Ipv4Addr::LOCALHOST),
                IpAddr::V6(_) => IpAddr::V6(std::net::Ipv6Addr::LOCALHOST),
            }),
            None => self.hosts[host].addr_of_family(dst.is_ipv6()),
        };
        let Some(src_ip) = src_ip else {
            return Err(step_error(Step::Connect, ErrorCode::ENETUNREACH));
        };
        if dst.is_ipv6() && !dst.ip().is_loopback() && self.faults.ipv6_broken {
            self.injected.ipv6_unreachable += 1;
            return Err(step_error(Step::Connect, ErrorCode::ENETUNREACH));
        }
        let bound_port = local.map(|l| l.port()).filter(|p| *p != 0);
        if let Some(port) = bound_port {
            let ip = local_ip.unwrap_or(src_ip);
            if self.port_taken(host, SocketAddr::new(ip, port)) {
                return Err(step_error(Step::Bind, ErrorCode::EADDRINUSE));
            }
        }
        let src_port = match bound_port {
            Some(p) => p,
            None => self.ephemeral_port(host),
        };
        let src = SocketAddr::new(src_ip, src_port);
        let s = self.socks.len();
        let mut sock = Sock::new(host, SockState::Connecting { dst, conn: None }, src);
        sock.peer = Some(dst);
        sock.reuse_addr = bound_port.is_some();
        self.socks.push(sock);
        self.host_log(host, format_args!("SYN {src} -> {dst}"));
        let ip = dst.ip();
        let dst_host = self.host_of(host, ip);
        if self.rng.chance(self.faults.refuse) {
            self.injected.refused += 1;
            let lat = self.latency(host, host) * 2;
            self.schedule(
                self.now + lat,
                Ev::ConnectAnswer {
                    sock: s,
                    result: Err(ErrorCode::ECONNREFUSED),
                },
            );
            return Ok(s);
        }
        let timeout = self.schedule(
            self.now + SYN_TIMEOUT,
            Ev::ConnectAnswer {
                sock: s,
                result: Err(ErrorCode::ETIMEDOUT),
            },
        );
        self.socks[s].connect_timeout = Some(timeout);
        let Some(dst_host) = dst_host else {
            return Ok(s); // nobody has the address: only the timeout answers
        };
        if self.rng.chance(self.faults.black_hole) {
            self.injected.black_holed += 1;
            return Ok(s);
        }
        self.send_segment(
            host,
            dst_host,
            std::time::Duration::ZERO,
            Ev::Syn { sock: s },
        );
        Ok(s)
    }

    /// The SYN reached its destination host.
    fn syn(&mut self, s: SockId) {
        let SockState::Connecting { dst, conn: None } = self.socks[s].state else {
            return;
        };
        let (host, src) = (self.socks[s].host, self.socks[s].local);
        let Some(dst_host) = self.host_of(host, dst.ip()) else {
            return;
        };
        if !self.hosts[dst_host].up {
            return; // lost: the connect times out
        }
        let Some(li) = self.pick_listener(dst_host, &dst, &src) else {
            self.kernel_log(format_args!("RST {dst} -> {src} (no listener)"));
            self.send_segment(
                dst_host,
                host,
                std::time::Duration::ZERO,
                Ev::ConnectAnswer {
                    sock: s,
                    result: Err(ErrorCode::ECONNREFUSED),
                },
            );
            return;
        };
        let l = &self.listeners[li];
        if l.queue.len() >= l.backlog.max(1) {
            self.kernel_log(format_args!("SYN dropped, backlog full at {dst}"));
            self.schedule(self.now + SYN_RETRY, Ev::Syn { sock: s });
            return;
        }
        // A dual-stack listener sees IPv4 peers as IPv4-mapped IPv6 addresses.
        let local = if l.addr.is_ipv6() && dst.is_ipv4() {
            mapped(dst)
        } else {
            dst
        };
        let conn = self.conns.len();
        let (a, b) = (self.spare_pipe(), self.spare_pipe());
        self.conns.push(Conn {
            ends: [
                End::new(Some(s), host, src, a),
                End::new(None, dst_host, local, b),
            ],
            unix: false,
        });
        self.socks[s].state = SockState::Connecting {
            dst,
            conn: Some(conn),
        };
        let l = &mut self.listeners[li];
        if l.queue.is_empty() {
            l.waiting_since = self.now;
        }
        l.queue.push_back(conn);
        if let Some(w) = l.waker.take() {
            w.wake();
        }
        self.kernel_log(format_args!("SYN-ACK {dst} -> {src} (conn {conn})"));
        self.send_segment(
            dst_host,
            host,
            std::time::Duration::ZERO,
            Ev::ConnectAnswer {
                sock: s,
                result: Ok(()),
            },
        );
        if self.rng.chance(self.faults.reset) {
            self.injected.resets += 1;
            let at = self.now + std::time::Duration::from_micros(self.rng.below(200_000));
            self.schedule(at, Ev::InjectReset { conn });
        }
    }

    fn connect_answer(&mut self, s: SockId, result: Result<(), ErrorCode>) {
        let SockState::Connecting { conn, .. } = self.socks[s].state else {
            return;
        };
        let timeout = self.socks[s].connect_timeout.take();
        if let Some(k) = timeout {
            self.queue.remove(&k);
        }
        match (result, conn) {
            (Ok(()), Some(conn)) => {
                self.socks[s].state = SockState::Connected { conn, side: 0 };
            }
            (r, conn) => {
                let code = r.err().unwrap_or(ErrorCode::ECONNREFUSED);
                self.socks[s].state = SockState::Failed;
                self.socks[s].error = Some(code);
                if let Some(conn) = conn {
                    // The server completed the handshake but the client gave up.
                    self.close_end(conn, 0, true);
                }
            }
        }
        if let Some(w) = self.socks[s].write_waker.take() {
            w.wake();
        }
    }

    // ---- listen and accept ------------------------------------------------------

    /// `socket()` + `bind()` + `listen()` on `host` for the server with handle `server`:
    /// the listener and its address (a Unix listener's: its path).
    pub(crate) fn listen(
        &mut self,
        host: HostIx,
        server: u32,
        endpoint: &Endpoint,
        options: BindOptions,
    ) -> Result<(ListenerId, Endpoint), StepError> {
        self.ops += 1;
        let addr = match endpoint {
            Endpoint::Tcp(a) => *a,
            Endpoint::Pipe(path) => {
                let id = self.listen_unix(host, server, path, options)?;
                return Ok((id, Endpoint::Pipe(path.clone())));
            }
        };
        if needs_scope(addr) {
            return Err(step_error(Step::Bind, ErrorCode::EINVAL));
        }
        let ip = addr.ip();
        if !ip.is_unspecified() && !ip.is_loopback() && !self.hosts[host].addrs.contains(&ip) {
            return Err(step_error(Step::Bind, ErrorCode::EADDRNOTAVAIL));
        }
        let port = match addr.port() {
            0 => self.ephemeral_port(host),
            p => p,
        };
        let addr = SocketAddr::new(ip, port);
        let v6only = addr.is_ipv6() && options.ipv6_only;
        let busy = self.listeners.iter().any(|l| {
            l.open
                && l.host == host
                && l.collides(&addr, v6only)
                && !(l.reuse_port && options.reuse_port)
        });
        if busy {
            return Err(step_error(Step::Bind, ErrorCode::EADDRINUSE));
        }
        let id = self.listeners.len();
        self.listeners.push(Listener {
            host,
            addr,
            path: None,
            ipv6_only: v6only,
            reuse_port: options.reuse_port,
            backlog: options.backlog as usize,
            queue: Default::default(),
            waker: None,
            open: true,
            server,
            waiting_since: self.now,
        });
        self.host_log(host, format_args!("LISTEN {addr}"));
        Ok((id, Endpoint::Tcp(addr)))
    }

    /// Would a client's `bind(addr)` on `host` (with `SO_REUSEADDR`, as libuv sets it)
    /// fail with `EADDRINUSE`? Linux's `inet_csk_bind_conflict`: an open listener on an
    /// overlapping address and the port (`SO_REUSEADDR` does not share a listening port),
    /// or a socket holding the port on an overlapping address without `SO_REUSEADDR` (a
    /// connection whose port the kernel chose). Closed sockets free their port at once
    /// (`TIME_WAIT` is not modelled).
    fn port_taken(&self, host: HostIx, addr: SocketAddr) -> bool {
        let listening = self
            .listeners
            .iter()
            .any(|l| l.open && l.host == host && l.collides(&addr, false));
        let overlap = |a: IpAddr, b: IpAddr| {
            let covers = |w: IpAddr, x: IpAddr| {
                w.is_unspecified() && (w.is_ipv4() == x.is_ipv4() || w.is_ipv6())
            };
            a == b || covers(a, b) || covers(b, a)
        };
        let held = self.socks.iter().any(|s| {
            s.host == host
                && !s.unix
                && !s.reuse_addr
                && matches!(
                    s.state,
                    SockState::Connecting { .. } | SockState::Connected { .. }
                )
                && s.local.port() == addr.port()
                && overlap(s.local.ip(), addr.ip())
        });
        listening || held
    }

    /// The listener a SYN from `src` to `dst` on `host` reaches: one bound to exactly
    /// `dst` before a wildcard; among listeners sharing a port (`SO_REUSEPORT`) the
    /// source port picks one, as the kernel's hash of the connection does.
    fn pick_listener(
        &self,
        host: HostIx,
        dst: &SocketAddr,
        src: &SocketAddr,
    ) -> Option<ListenerId> {
        let matching = || {
            self.listeners
                .iter()
                .enumerate()
                .filter(move |(_, l)| l.open && l.host == host && l.matches(dst))
        };
        let exact = |(_, l): &(ListenerId, &Listener)| l.addr.ip() == dst.ip();
        let only_exact = matching().any(|m| exact(&m));
        let group = || matching().filter(move |m| !only_exact || exact(m));
        match group().count() {
            0 => None,
            n => group().nth(usize::from(src.port()) % n).map(|(i, _)| i),
        }
    }

    /// `accept4()`: a queued connection with its local and remote endpoints (each call
    /// is shown to the checker: see `check::server`).
    pub(crate) fn accept(
        &mut self,
        l: ListenerId,
        waker: &Waker,
    ) -> Poll<io::Result<(ConnId, Endpoint, Endpoint)>> {
        let r = self.accept_one(l, waker);
        self.listeners[l].waiting_since = self.now;
        if let Some(ch) = self.checker.as_mut() {
            let outcome = match &r {
                Poll::Pending => Accept::Empty,
                Poll::Ready(Ok(_)) => Accept::Handed,
                Poll::Ready(Err(e)) => Accept::Failed(code_from_io(e)),
            };
            let server = ServerId(self.listeners[l].server);
            ch.checker.server_accept(server, l, self.now, outcome);
        }
        r
    }

    fn accept_one(
        &mut self,
        l: ListenerId,
        waker: &Waker,
    ) -> Poll<io::Result<(ConnId, Endpoint, Endpoint)>> {
        self.ops += 1;
        let listener = &mut self.listeners[l];
        if !listener.open {
            return Poll::Ready(Err(os_error(ErrorCode::EBADF)));
        }
        if listener.queue.is_empty() {
            match &listener.waker {
                Some(w) if w.will_wake(waker) => {}
                _ => listener.waker = Some(waker.clone()),
            }
            return Poll::Pending;
        }
        if self.rng.chance(self.faults.accept_emfile) {
            self.injected.accept_emfile += 1;
            self.kernel_log(format_args!("accept EMFILE"));
            return Poll::Ready(Err(os_error(ErrorCode::EMFILE)));
        }
        let listener = &mut self.listeners[l];
        let Some(conn) = listener.queue.pop_front() else {
            return Poll::Pending;
        };
        let c = &self.conns[conn];
        if c.unix {
            let (local, remote) = self.unix_accepted_endpoints(l);
            return Poll::Ready(Ok((conn, local, remote)));
        }
        let (local, remote) = (c.ends[1].addr, c.ends[0].addr);
        let remote = if local.is_ipv6() && remote.is_ipv4() {
            mapped(remote)
        } else {
            remote
        };
        Poll::Ready(Ok((conn, Endpoint::Tcp(local), Endpoint::Tcp(remote))))
    }

    /// The accepted connection `conn` gets its socket on `host`.
    pub(crate) fn register_accepted(&mut self, conn: ConnId, host: HostIx) -> SockId {
        let s = self.socks.len();
        let end = &mut self.conns[conn].ends[1];
        let mut sock = Sock::new(host, SockState::Connected { conn, side: 1 }, end.addr);
        let remote = self.conns[conn].ends[0].addr;
        sock.unix = self.conns[conn].unix;
        // Inherited from the listener, which libuv gives `SO_REUSEADDR`.
        sock.reuse_addr = true;
        sock.peer = Some(if sock.local.is_ipv6() && remote.is_ipv4() {
            mapped(remote)
        } else {
            remote
        });
        self.socks.push(sock);
        let end = &mut self.conns[conn].ends[1];
        if end.closed {
            self.socks[s].state = SockState::Closed;
        } else {
            end.sock = Some(s);
        }
        s
    }

    /// The listener closed: queued connections are reset.
    pub(crate) fn close_listener(&mut self, l: ListenerId) {
        let listener = &mut self.listeners[l];
        if !listener.open {
            return;
        }
        listener.open = false;
        listener.waker = None;
        let queued: Vec<ConnId> = listener.queue.drain(..).collect();
        let addr = listener.addr;
        self.host_log(
            self.listeners[l].host,
            format_args!("CLOSE listener {addr}"),
        );
        for conn in queued {
            self.close_end(conn, 1, true);
        }
    }

    // ---- data path --------------------------------------------------------------

    /// `sendmsg()` of the driver's queued chunks: the kernel keeps the `Bytes` (a
    /// prefix of them when it takes only part), as a copy would hold the same bytes.
    pub(crate) fn send<'a>(
        &mut self,
        s: SockId,
        chunks: impl Iterator<Item = &'a Bytes> + Clone,
    ) -> io::Result<usize> {
        let total = chunks.clone().map(Bytes::len).sum();
        let (conn, side, n) = match self.send_room(s, total)? {
            Some(room) => room,
            None => return Ok(0),
        };
        let mut left = n;
        let taken = chunks.map_while(move |c| {
            let k = left.min(c.len());
            left -= k;
            (k > 0).then(|| {
                if k == c.len() {
                    c.clone()
                } else {
                    c.slice(..k)
                }
            })
        });
        self.send_taken(conn, side, n, taken);
        Ok(n)
    }

    /// `sendmsg()` of plain slices (the write half of a split stream): the kernel copies
    /// what it takes.
    pub(crate) fn send_copy(&mut self, s: SockId, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        let total = bufs.iter().map(|b| b.len()).sum();
        let (conn, side, n) = match self.send_room(s, total)? {
            Some(room) => room,
            None => return Ok(0),
        };
        let data = pool::copy(bufs.iter().map(|b| &b[..]), n);
        self.send_taken(conn, side, n, std::iter::once(data));
        Ok(n)
    }

    /// How much of `total` bytes a `send` on `s` takes now (short writes, a full buffer),
    /// with the connection end it goes out of; `None` for nothing to send.
    fn send_room(&mut self, s: SockId, total: usize) -> io::Result<Option<(ConnId, usize, usize)>> {
        self.ops += 1;
        let Some((conn, side)) = self.socks[s].end() else {
            return Err(os_error(ErrorCode::ENOTCONN));
        };
        let end = &mut self.conns[conn].ends[side];
        if let Some(code) = end.failed() {
            if !end.error_reported {
                end.error_reported = true;
                return Err(os_error(code));
            }
            return Err(os_error(ErrorCode::EPIPE));
        }
        if end.fin_sent {
            return Err(os_error(ErrorCode::EPIPE));
        }
        if self.conns[conn].unix && self.conns[conn].ends[1 - side].closed {
            // No RST to wait for: the peer's close shut this end's writing already (a
            // pending ECONNRESET is left for the next read, as Linux checks
            // SEND_SHUTDOWN first).
            return Err(os_error(ErrorCode::EPIPE));
        }
        if total == 0 {
            return Ok(None);
        }
        let peer = &self.conns[conn].ends[1 - side];
        let space = if peer.closed {
            total
        } else {
            self.faults.buffer.saturating_sub(peer.incoming.len)
        };
        if space == 0 {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        let mut n = total.min(space);
        if self.rng.chance(self.faults.short_writes) {
            self.injected.short_writes += 1;
            n = self.rng.range(1, n as u64) as usize;
        }
        Ok(Some((conn, side, n)))
    }

    /// The `n` bytes `data` a `send` took leave end `side` of `conn`.
    fn send_taken(
        &mut self,
        conn: ConnId,
        side: usize,
        n: usize,
        data: impl Iterator<Item = Bytes>,
    ) {
        let (from, to) = (
            self.conns[conn].ends[side].host,
            self.conns[conn].ends[1 - side].host,
        );
        let peer_gone = self.conns[conn].ends[1 - side].closed;
        self.conns[conn].ends[side].sent += n as u64;
        let at = self.arrival(conn, from, to);
        if peer_gone && at.is_some() {
            // Data for a closed socket: the peer's kernel answers with an RST.
            self.kernel_log(format_args!(
                "data to closed socket, RST back (conn {conn})"
            ));
            self.send_rst(conn, 1 - side);
            return;
        }
        let arrival = self.conns[conn].ends[1 - side].incoming.push(at, data);
        self.after_push(conn, 1 - side, arrival);
    }

    /// When what is sent now from host `from` toward host `to` on `conn` arrives: a
    /// Unix stream's bytes are in the peer's queue at once (while its host is up); TCP
    /// segments cross the link (`None` while it is blocked).
    fn arrival(&mut self, conn: ConnId, from: HostIx, to: HostIx) -> Option<std::time::Duration> {
        if self.conns[conn].unix {
            return Some(self.now).filter(|_| self.hosts[to].up);
        }
        self.transit(from, to)
    }

    /// Data or a FIN was queued toward end `to`: wake its reader then, or remember the
    /// held pipe (and start the retransmission give-up toward a lost peer).
    pub(crate) fn after_push(
        &mut self,
        conn: ConnId,
        to: usize,
        arrival: Option<std::time::Duration>,
    ) {
        match arrival {
            Some(at) => {
                let pipe = &mut self.conns[conn].ends[to].incoming;
                if pipe.arrive_queued != Some(at) {
                    pipe.arrive_queued = Some(at);
                    self.schedule(at, Ev::Arrive { conn, side: to });
                }
            }
            None => {
                self.held_pipes.insert((conn, to));
                let (a, b) = (
                    self.conns[conn].ends[1 - to].host,
                    self.conns[conn].ends[to].host,
                );
                if self.link(a, b).partitioned || !self.hosts[b].up {
                    let at = self.now + self.give_up_after;
                    self.schedule(at, Ev::GiveUp { conn, side: 1 - to });
                }
            }
        }
    }

    /// One `recv()` into the 64 KiB read buffer; short when it returned less than that,
    /// as the real backends tell (the driver's rules after a partial read then apply).
    pub(crate) fn recv(&mut self, s: SockId, waker: &Waker) -> Poll<io::Result<ReadChunk>> {
        self.recv_at_most(s, READ_BUFFER, waker)
            .map_ok(|data| ReadChunk {
                short: !data.is_empty() && data.len() < READ_BUFFER,
                data,
            })
    }

    /// `recv()` into the caller's buffer (Node's `onread`): `Ok(0)` at end-of-stream.
    pub(crate) fn recv_into(
        &mut self,
        s: SockId,
        buf: &mut [u8],
        waker: &Waker,
    ) -> Poll<io::Result<usize>> {
        self.recv_at_most(s, buf.len(), waker).map_ok(|data| {
            let n = data.len();
            if let Some(into) = buf.get_mut(..n) {
                into.copy_from_slice(&data);
            }
            n
        })
    }

    /// Bytes that have arrived and are not read yet (a `MSG_PEEK`).
    pub(crate) fn has_unread(&self, s: SockId) -> bool {
        match self.socks[s].end() {
            Some((conn, side)) => self.conns[conn].ends[side].incoming.ready(self.now) > 0,
            None => false,
        }
    }

    /// One read of at most `max` bytes: empty at end-of-stream.
    fn recv_at_most(&mut self, s: SockId, max: usize, waker: &Waker) -> Poll<io::Result<Bytes>> {
        self.ops += 1;
        let Some((conn, side)) = self.socks[s].end() else {
            return match self.socks[s].state {
                SockState::Connecting { .. } => {
                    self.socks[s].read_waker = Some(waker.clone());
                    Poll::Pending
                }
                _ => Poll::Ready(Err(os_error(ErrorCode::ENOTCONN))),
            };
        };
        let now = self.now;
        let end = &mut self.conns[conn].ends[side];
        let ready = end.incoming.ready(now).min(max);
        if let Some(code) = end.failed().filter(|_| ready == 0) {
            end.error_reported = true;
            return Poll::Ready(Err(os_error(code)));
        }
        if ready > 0 {
            let take = if self.rng.chance(self.faults.chunking) {
                self.rng.range(1, ready as u64) as usize
            } else {
                ready
            };
            let data = match self.conns[conn].ends[side].incoming.take_slice(take) {
                Some(data) => data,
                None => self.copy_read(s, conn, side, take),
            };
            self.socks[s].delivered += data.len() as u64;
            // Space freed: a writer blocked on the full buffer may continue.
            if let Some(p) = self.conns[conn].ends[1 - side].sock {
                if let Some(w) = self.socks[p].write_waker.take() {
                    w.wake();
                }
            }
            return Poll::Ready(Ok(data));
        }
        let end = &mut self.conns[conn].ends[side];
        if end.unix_reset && !end.error_reported {
            // A Unix socket's pending error comes after the bytes, before the EOF.
            end.error_reported = true;
            return Poll::Ready(Err(os_error(ErrorCode::ECONNRESET)));
        }
        if end.incoming.fin_ready(now) {
            return Poll::Ready(Ok(Bytes::new()));
        }
        let slot = &mut self.socks[s].read_waker;
        match slot {
            Some(w) if w.will_wake(waker) => {}
            _ => *slot = Some(waker.clone()),
        }
        Poll::Pending
    }

    /// A read of `take` bytes of socket `s` (on end `side` of `conn`) that spans chunks
    /// no copy holds side by side: the kernel copies them into one buffer, with the
    /// chunks after them no copy holds yet (so that their reads are slices of it, not
    /// copies of their own). Out of line: the usual read is a slice.
    #[inline(never)]
    fn copy_read(&mut self, s: SockId, conn: ConnId, side: usize, take: usize) -> Bytes {
        let pipe = &mut self.conns[conn].ends[side].incoming;
        let (k, len) = pipe.stretch(take);
        let copy = pool::copy(pipe.chunk_pieces(k), len);
        if let Some(ch) = self.checker.as_deref_mut() {
            let offset = self.socks[s].delivered;
            ch.kernel_copy(s, offset, pipe.chunk_pieces(k), &copy);
        }
        pipe.take_copied(k, &copy, take);
        copy.slice(..take)
    }

    /// Writability: the connect finished, or there is room toward the peer.
    pub(crate) fn poll_writable(&mut self, s: SockId, waker: &Waker) -> Poll<io::Result<()>> {
        let ready = match self.socks[s].state {
            SockState::Connecting { .. } => false,
            SockState::Failed => true,
            SockState::Closed => return Poll::Ready(Err(os_error(ErrorCode::EBADF))),
            SockState::Connected { conn, side } => {
                let c = &self.conns[conn];
                c.ends[side].failed().is_some()
                    || c.ends[1 - side].closed
                    || c.ends[1 - side].incoming.len < self.faults.buffer
            }
        };
        if ready {
            return Poll::Ready(Ok(()));
        }
        let slot = &mut self.socks[s].write_waker;
        match slot {
            Some(w) if w.will_wake(waker) => {}
            _ => *slot = Some(waker.clone()),
        }
        Poll::Pending
    }

    /// `shutdown(SHUT_WR)`: the FIN follows the data.
    pub(crate) fn shutdown_write(&mut self, s: SockId) -> io::Result<()> {
        self.ops += 1;
        let Some((conn, side)) = self.socks[s].end() else {
            return Err(os_error(ErrorCode::ENOTCONN));
        };
        self.send_fin(conn, side);
        Ok(())
    }

    fn send_fin(&mut self, conn: ConnId, side: usize) {
        let end = &self.conns[conn].ends[side];
        if end.fin_sent || end.failed().is_some() {
            return;
        }
        let (from, to, addr) = (end.host, self.conns[conn].ends[1 - side].host, end.addr);
        self.conns[conn].ends[side].fin_sent = true;
        self.kernel_log(format_args!("FIN from {addr} (conn {conn})"));
        let at = self.arrival(conn, from, to);
        let arrival = self.conns[conn].ends[1 - side].incoming.fin(at);
        self.after_push(conn, 1 - side, arrival);
    }

    /// `close()` of a socket: a FIN, or an RST with `SO_LINGER` zero or unread data.
    pub(crate) fn close_sock(&mut self, s: SockId) {
        self.ops += 1;
        let state = std::mem::replace(&mut self.socks[s].state, SockState::Closed);
        let sock = &mut self.socks[s];
        sock.read_waker = None;
        sock.write_waker = None;
        // `SO_LINGER` resets TCP connections only.
        let linger = sock.linger_zero && !sock.unix;
        if let Some(k) = sock.connect_timeout.take() {
            self.queue.remove(&k);
        }
        match state {
            SockState::Connecting {
                conn: Some(conn), ..
            } => self.close_end(conn, 0, linger),
            SockState::Connected { conn, side } => self.close_end(conn, side, linger),
            _ => {}
        }
    }

    /// The socket on end `side` closed (or an accept-queue entry was dropped).
    pub(crate) fn close_end(&mut self, conn: ConnId, side: usize, reset: bool) {
        if self.conns[conn].unix {
            return self.close_unix_end(conn, side, reset);
        }
        let Some(unread) = self.conns[conn].ends[side].release() else {
            return;
        };
        self.held_pipes.remove(&(conn, side));
        let end = &self.conns[conn].ends[side];
        if end.failed().is_some() {
            return;
        }
        if reset || unread {
            let why = if reset { "reset" } else { "unread data" };
            let (from, to) = (end.addr, self.conns[conn].ends[1 - side].addr);
            self.kernel_log(format_args!("RST {from} -> {to} ({why})"));
            self.send_rst(conn, side);
        } else {
            self.send_fin(conn, side);
        }
    }

    /// End `side` sends an RST to the other end.
    pub(crate) fn send_rst(&mut self, conn: ConnId, side: usize) {
        let end = &mut self.conns[conn].ends[side];
        if end.rst_sent {
            return;
        }
        end.rst_sent = true;
        let (a, b) = (end.host, self.conns[conn].ends[1 - side].host);
        if self.instant_loopback(a, b) {
            // Linux processes a loopback RST inside the close (or send) that sends it:
            // the peer's next read or write already fails.
            self.rst_arrives(conn, 1 - side);
            return;
        }
        self.send_segment(
            a,
            b,
            std::time::Duration::ZERO,
            Ev::Rst {
                conn,
                side: 1 - side,
            },
        );
    }

    fn rst_arrives(&mut self, conn: ConnId, side: usize) {
        let now = self.now;
        let end = &mut self.conns[conn].ends[side];
        if end.closed || end.reset {
            return;
        }
        end.reset = true;
        // Linux's tcp_reset: in CLOSE_WAIT the error is EPIPE.
        end.reset_after_fin =
            !end.fin_sent && matches!(end.incoming.fin, Some(Some(t)) if t <= now);
        // Linux's tcp_reset purges the write queue, not the receive queue: what arrived
        // is still read, then the error; what was still in flight is lost.
        end.lost_to_rst += end.incoming.keep_arrived(now);
        self.held_pipes.remove(&(conn, side));
        let Some(s) = self.conns[conn].ends[side].sock else {
            return;
        };
        if let SockState::Connecting { .. } = self.socks[s].state {
            self.connect_answer(s, Err(ErrorCode::ECONNREFUSED));
            return;
        }
        self.socks[s].wake_all();
    }

    /// Retransmissions from end `side` toward an unreachable peer give up.
    fn give_up(&mut self, conn: ConnId, side: usize) {
        let c = &self.conns[conn];
        let (a, b) = (c.ends[side].host, c.ends[1 - side].host);
        let stuck =
            c.ends[1 - side].incoming.held && (self.link(a, b).partitioned || !self.hosts[b].up);
        if !stuck || c.ends[side].closed || c.ends[side].failed().is_some() {
            return;
        }
        self.kernel_log(format_args!("retransmissions give up (conn {conn})"));
        self.conns[conn].ends[side].timed_out = true;
        self.conns[conn].ends[1 - side].incoming.discard();
        self.held_pipes.remove(&(conn, 1 - side));
        if let Some(s) = self.conns[conn].ends[side].sock {
            self.socks[s].wake_all();
        }
    }

    // ---- hosts ------------------------------------------------------------------

    /// The host crashed: its sockets and listeners vanish without a FIN or an RST.
    pub(crate) fn crash(&mut self, host: HostIx) {
        if !self.hosts[host].up {
            return;
        }
        self.hosts[host].up = false;
        let name = self.hosts[host].name.clone();
        self.kernel_log(format_args!("CRASH {name}"));
        for s in 0..self.socks.len() {
            if self.socks[s].host != host {
                continue;
            }
            let state = std::mem::replace(&mut self.socks[s].state, SockState::Closed);
            let sock = &mut self.socks[s];
            sock.read_waker = None;
            sock.write_waker = None;
            if let Some(k) = sock.connect_timeout.take() {
                self.queue.remove(&k);
            }
            match state {
                SockState::Connecting {
                    conn: Some(conn), ..
                } => self.vanish(conn, 0),
                SockState::Connected { conn, side } => self.vanish(conn, side),
                _ => {}
            }
        }
        for l in 0..self.listeners.len() {
            if self.listeners[l].host != host || !self.listeners[l].open {
                continue;
            }
            self.listeners[l].open = false;
            self.listeners[l].waker = None;
            let queued: Vec<ConnId> = self.listeners[l].queue.drain(..).collect();
            for conn in queued {
                self.vanish(conn, 1);
            }
        }
    }

    fn vanish(&mut self, conn: ConnId, side: usize) {
        let now = self.now;
        let end = &mut self.conns[conn].ends[side];
        end.closed = true;
        end.vanished = true;
        end.sock = None;
        // Segments still in flight were never acknowledged: the peer retransmits them
        // until the host is back (then gets an RST) or it gives up.
        let in_flight = |t: &Option<std::time::Duration>| t.is_none_or(|t| t > now);
        let unacked = end.incoming.chunks.iter().any(|(t, _)| in_flight(t))
            || end.incoming.fin.as_ref().is_some_and(in_flight);
        end.incoming.discard();
        self.held_pipes.remove(&(conn, side));
        if unacked && !self.conns[conn].ends[1 - side].closed {
            self.conns[conn].ends[side].incoming.held = true;
            self.held_pipes.insert((conn, side));
            let at = now + self.give_up_after;
            self.schedule(
                at,
                Ev::GiveUp {
                    conn,
                    side: 1 - side,
                },
            );
        }
    }

    /// The host is back (with no sockets): what waited for it is delivered or reset.
    pub(crate) fn restart(&mut self, host: HostIx) {
        if self.hosts[host].up {
            return;
        }
        self.hosts[host].up = true;
        let name = self.hosts[host].name.clone();
        self.kernel_log(format_args!("RESTART {name}"));
        self.heal();
    }

    // ---- names ------------------------------------------------------------------

    /// `getaddrinfo(host, {ai_family, ai_flags})` against the simulated DNS table: the
    /// name's addresses of the asked family in table order (`AF_INET6` with `V4MAPPED`
    /// maps IPv4 answers when the name has no IPv6 one, as glibc does); `ENOTFOUND`
    /// (`EAI_NONAME`) when there is none. The core shapes the answer as `dns.lookup`.
    pub(crate) fn getaddrinfo(&self, query: &GaiQuery) -> Result<Vec<IpAddr>, ErrorCode> {
        let list = self.resolve(query.host()).ok_or(ErrorCode::ENOTFOUND)?;
        let of = |v6: bool| list.iter().filter(move |a| a.is_ipv6() == v6).copied();
        let out: Vec<IpAddr> = match query.family() {
            4 => of(false).collect(),
            6 if query.hints() & V4MAPPED != 0 && of(true).next().is_none() => of(false)
                .map(|a| match a {
                    IpAddr::V4(v4) => IpAddr::V6(v4.to_ipv6_mapped()),
                    v6 => v6,
                })
                .collect(),
            6 => of(true).collect(),
            _ => list.to_vec(),
        };
        if out.is_empty() {
            return Err(ErrorCode::ENOTFOUND);
        }
        Ok(out)
    }

    // ---- the network's own events ------------------------------------------------

    /// Process one timed event.
    pub(crate) fn process(&mut self, ev: Ev) {
        self.steps += 1;
        match ev {
            Ev::Arrive { conn, side } => {
                let pipe = &mut self.conns[conn].ends[side].incoming;
                if pipe.arrive_queued == Some(self.now) {
                    pipe.arrive_queued = None;
                }
                if let Some(s) = self.conns[conn].ends[side].sock {
                    if let Some(w) = self.socks[s].read_waker.take() {
                        w.wake();
                    }
                }
            }
            Ev::Syn { sock } => self.syn(sock),
            Ev::ConnectAnswer { sock, result } => self.connect_answer(sock, result),
            Ev::Rst { conn, side } => self.rst_arrives(conn, side),
            Ev::InjectReset { conn } => {
                self.kernel_log(format_args!("injected RST on conn {conn}"));
                self.rst_arrives(conn, 0);
                self.rst_arrives(conn, 1);
            }
            Ev::GiveUp { conn, side } => self.give_up(conn, side),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::faults::Faults;
    use crate::trace::{Trace, TraceMode};
    use std::time::Duration;

    /// A client's bind refused as Linux refuses it (checked with real sockets): a
    /// listening port, on its address or the wildcard, and the port of a connection the
    /// kernel chose; two explicit binds (both `SO_REUSEADDR`) share a port, and closed
    /// sockets and listeners free theirs.
    #[test]
    fn a_client_bind_to_a_port_in_use_says_eaddrinuse() {
        let mut st = State::new(1, Faults::none(), Trace::new(TraceMode::Off), false);
        st.add_host("box", &["10.0.0.1".parse().unwrap()]);
        let at = |ip: &str, port: u16| SocketAddr::new(ip.parse().unwrap(), port);
        let listen = Endpoint::Tcp(at("127.0.0.1", 0));
        let (l, address) = st.listen(0, 1, &listen, BindOptions::default()).unwrap();
        let Endpoint::Tcp(server) = address else {
            panic!("{address:?}")
        };
        let p = server.port();
        let connect = |st: &mut State, local: Option<SocketAddr>| {
            st.connect(0, &Endpoint::Tcp(server), local)
                .map_err(|e| (e.step, code_from_io(&e.error)))
        };
        let in_use = Err((Step::Bind, ErrorCode::EADDRINUSE));
        assert_eq!(connect(&mut st, Some(at("127.0.0.1", p))), in_use);
        assert_eq!(connect(&mut st, Some(at("0.0.0.0", p))), in_use);
        let chosen = connect(&mut st, None).unwrap();
        let e = st.socks[chosen].local.port();
        assert_eq!(connect(&mut st, Some(at("127.0.0.1", e))), in_use);
        let first = connect(&mut st, Some(at("127.0.0.1", 45_000))).unwrap();
        assert!(connect(&mut st, Some(at("127.0.0.1", 45_000))).is_ok());
        st.close_sock(first);
        st.close_sock(chosen);
        assert!(connect(&mut st, Some(at("127.0.0.1", e))).is_ok(), "freed");
        st.close_listener(l);
        assert!(connect(&mut st, Some(at("127.0.0.1", p))).is_ok(), "freed");
    }

    /// A connection of `st`'s host 0 to itself on 127.0.0.1, established: (client,
    /// server) sockets, without the clock moving.
    fn loopback_pair(st: &mut State) -> (SockId, SockId) {
        loopback_pair_after(st, Duration::ZERO)
    }

    fn settle(st: &mut State) {
        while let Some(ev) = st.queue.pop_due(st.now) {
            st.process(ev);
        }
    }

    fn send(st: &mut State, s: SockId, data: &'static [u8]) -> Result<usize, ErrorCode> {
        st.send(s, std::iter::once(&Bytes::from_static(data)))
            .map_err(|e| code_from_io(&e))
    }

    fn recv(st: &mut State, s: SockId) -> Option<Result<Vec<u8>, ErrorCode>> {
        match st.recv(s, Waker::noop()) {
            Poll::Ready(r) => Some(r.map(|c| c.data.to_vec()).map_err(|e| code_from_io(&e))),
            Poll::Pending => None,
        }
    }

    /// On a loopback without latency the RST is processed inside the close that sends
    /// it, as Linux's loopback does: the peer's next write already fails, with no event
    /// processed in between; bytes that arrived before it are still read, then the
    /// error. (Checked with real loopback sockets.)
    #[test]
    fn a_link_local_address_without_a_scope_is_einval() {
        let mut st = State::new(1, Faults::none(), Trace::new(TraceMode::Off), false);
        st.add_host("box", &["fe80::1".parse().unwrap()]);
        let at = |ip: &str, port: u16| SocketAddr::new(ip.parse().unwrap(), port);
        let listen = |st: &mut State, a: SocketAddr| {
            st.listen(0, 1, &Endpoint::Tcp(a), BindOptions::default())
                .map(|_| ())
                .map_err(|e| (e.step, code_from_io(&e.error)))
        };
        // Even an address the host owns: the kernel needs the interface first.
        assert_eq!(
            listen(&mut st, at("fe80::1", 0)),
            Err((Step::Bind, ErrorCode::EINVAL))
        );
        assert_eq!(
            listen(&mut st, at("febf::1", 0)),
            Err((Step::Bind, ErrorCode::EINVAL))
        );
        // fec0:: is past fe80::/10: only not owned.
        assert_eq!(
            listen(&mut st, at("fec0::1", 0)),
            Err((Step::Bind, ErrorCode::EADDRNOTAVAIL))
        );
        let connect = |st: &mut State, dst: SocketAddr, local: Option<SocketAddr>| {
            st.connect(0, &Endpoint::Tcp(dst), local)
                .map(|_| ())
                .map_err(|e| (e.step, code_from_io(&e.error)))
        };
        assert_eq!(
            connect(&mut st, at("fe80::2", 9), None),
            Err((Step::Connect, ErrorCode::EINVAL))
        );
        assert_eq!(
            connect(&mut st, at("::1", 9), Some(at("fe80::1", 0))),
            Err((Step::Bind, ErrorCode::EINVAL))
        );
    }

    #[test]
    fn a_loopback_reset_is_processed_inside_close() {
        let mut st = State::new(1, Faults::none(), Trace::new(TraceMode::Off), false);
        st.add_host("box", &["10.0.0.1".parse().unwrap()]);
        let (c, s) = loopback_pair(&mut st);
        assert_eq!(send(&mut st, s, b"unread"), Ok(6));
        st.close_sock(c);
        assert_eq!(send(&mut st, s, b"x"), Err(ErrorCode::ECONNRESET));

        let (c, s) = loopback_pair(&mut st);
        assert_eq!(send(&mut st, s, b"two"), Ok(3));
        st.socks[s].linger_zero = true;
        st.close_sock(s);
        assert_eq!(recv(&mut st, c), Some(Ok(b"two".to_vec())));
        assert_eq!(recv(&mut st, c), Some(Err(ErrorCode::ECONNRESET)));
    }

    /// With latency on the loopback the RST is a segment in transit, as across a
    /// network: the peer's writes succeed until it arrives.
    #[test]
    fn with_latency_the_reset_travels() {
        let faults = Faults {
            latency: (Duration::from_millis(1), Duration::from_millis(1)),
            ..Faults::none()
        };
        let mut st = State::new(1, faults, Trace::new(TraceMode::Off), false);
        st.add_host("box", &["10.0.0.1".parse().unwrap()]);
        let (c, s) = loopback_pair_after(&mut st, Duration::from_millis(10));
        assert_eq!(send(&mut st, s, b"unread"), Ok(6));
        st.now += Duration::from_millis(5);
        settle(&mut st);
        st.close_sock(c);
        assert_eq!(send(&mut st, s, b"x"), Ok(1), "the RST is still in transit");
        st.now += Duration::from_millis(5);
        settle(&mut st);
        assert_eq!(send(&mut st, s, b"x"), Err(ErrorCode::ECONNRESET));
    }

    /// [`loopback_pair`], the clock moving by `wait` for the SYN and for its answer (the
    /// kernel's events due then are processed).
    fn loopback_pair_after(st: &mut State, wait: Duration) -> (SockId, SockId) {
        let listen = Endpoint::Tcp("127.0.0.1:0".parse().unwrap());
        let (l, Endpoint::Tcp(server)) = st.listen(0, 1, &listen, BindOptions::default()).unwrap()
        else {
            panic!("a TCP listener")
        };
        let c = st.connect(0, &Endpoint::Tcp(server), None).unwrap();
        st.now += wait;
        settle(st);
        let Poll::Ready(Ok((conn, _, _))) = st.accept(l, Waker::noop()) else {
            panic!("nothing to accept")
        };
        let s = st.register_accepted(conn, 0);
        st.now += wait;
        settle(st);
        assert!(matches!(st.socks[c].state, SockState::Connected { .. }));
        (c, s)
    }
}
