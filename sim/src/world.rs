//! The [`World`]: the real core [`Socket`]s and [`Server`]s wired to the fake kernel,
//! virtual time, the user-facing API, and the loop that moves time to the next deadline
//! (a socket's `poll_timeout` or the kernel's own next action) and drains every state
//! machine after every input, exactly as a backend must.

use std::collections::{BTreeMap, VecDeque};
use std::net::IpAddr;
use std::time::{Duration, Instant};

use bytes::Bytes;

use nodenet_core::error::{Error, Result};
use nodenet_core::options::SocketOptions;
use nodenet_core::server::{
    ConnectionId, ListenOptions, ListenerId, Server, ServerEvent, ServerOptions,
};
use nodenet_core::socket::{ConnectOptions, Socket, SocketEvent, WriteResult};

use super::check::Checker;
use super::faults::Faults;
use super::net::{Host, Kernel};
use super::rng::Rng;
use super::trace::{Trace, TraceMode};

/// A socket in a [`World`] (client or accepted), in creation order. Only the world that
/// returned an id knows it (using it with another world is a logic error and panics).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SocketId(pub(crate) usize);

/// A server in a [`World`], in creation order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ServerId(pub(crate) usize);

/// One thing a user of the world sees, in the order it happened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WorldEvent {
    /// A socket event (Node's socket events plus write completions).
    Socket(SocketId, SocketEvent),
    /// A server event other than `Connection`.
    Server(ServerId, ServerEvent),
    /// The server emitted `connection`; the world already wrapped it in `socket`.
    Accepted {
        /// The server.
        server: ServerId,
        /// The new accepted socket.
        socket: SocketId,
    },
}

/// How a [`World`] is built: its seed, fault mix and trace mode.
#[derive(Clone, Debug)]
pub struct WorldConfig {
    /// The one seed every random choice derives from.
    pub seed: u64,
    /// The faults to inject.
    pub faults: Faults,
    /// How much trace to keep.
    pub trace: TraceMode,
    /// Check the invariants on every event (see [`World::violations`]).
    pub check: bool,
    /// Keep each socket's and server's events for [`World::events`].
    pub keep_events: bool,
}

impl WorldConfig {
    /// Seed `seed`, [`Faults::calm`], full trace, invariants checked, events kept.
    pub fn new(seed: u64) -> WorldConfig {
        WorldConfig {
            seed,
            faults: Faults::calm(),
            trace: TraceMode::Full,
            check: true,
            keep_events: true,
        }
    }
}

pub(crate) struct SimSocket {
    pub(crate) core: Socket,
    pub(crate) name: String,
    pub(crate) host: usize,
    pub(crate) log: Vec<SocketEvent>,
    /// For accepted sockets: the server and the id it knows the connection by.
    pub(crate) accepted: Option<(ServerId, ConnectionId)>,
    /// The kernel connection end this socket uses.
    pub(crate) conn: Option<(usize, usize)>,
    pub(crate) reading: bool,
    pub(crate) want_write: bool,
    pub(crate) closed: bool,
    /// Bytes the kernel handed to `handle_data`.
    pub(crate) delivered: u64,
    /// Bytes delivered as `Data` events.
    pub(crate) received: u64,
    /// `Text` events seen (`set_encoding`): byte counts no longer comparable.
    pub(crate) decoded: bool,
}

pub(crate) struct SimServer {
    pub(crate) core: Server,
    pub(crate) name: String,
    pub(crate) host: usize,
    pub(crate) log: Vec<ServerEvent>,
    /// Kernel listener index of each core listener id.
    pub(crate) listeners: BTreeMap<ListenerId, usize>,
    /// Kernel connection of each accepted connection id (until its socket exists or it
    /// was rejected).
    pub(crate) pending: BTreeMap<ConnectionId, usize>,
    /// Connections handed to `handle_accepted` on a current listener.
    pub(crate) handed: u64,
    pub(crate) close_called: bool,
    /// Failed `accept` calls, and the bursts they formed (a burst ends with an accept
    /// that works or finds the queue empty).
    pub(crate) accept_failures: u64,
    pub(crate) accept_bursts: u64,
    /// `shutdown(deadline)` was called: the deadline.
    pub(crate) shutdown_deadline: Option<Duration>,
}

/// A deterministic network: hosts, DNS, listeners and connections in a fake kernel,
/// driving the real [`Socket`] and [`Server`] state machines in virtual time.
///
/// Every random choice (latencies, read chunk sizes, short writes, injected faults)
/// comes from the seed, so the same program on the same seed produces the same
/// [`trace`](World::trace) and [`trace_hash`](World::trace_hash).
///
/// ```
/// use bytes::Bytes;
/// use nodenet_core::server::ListenOptions;
/// use nodenet_sim::{World, WorldEvent};
/// use nodenet_core::socket::{ConnectOptions, SocketEvent};
///
/// let mut world = World::new(42);
/// let srv = world.host("10.0.0.1").listen(ListenOptions::port(80)).unwrap();
/// let c = world.connect(ConnectOptions::tcp(80, "10.0.0.1")).unwrap();
/// world.write(c, Bytes::from_static(b"ping"));
/// world.end(c);
/// // An echo server: react to events as they happen.
/// while let Some(ev) = world.next_event(None) {
///     match ev {
///         WorldEvent::Socket(s, SocketEvent::Data(d)) if s != c => { world.write(s, d); }
///         WorldEvent::Socket(s, SocketEvent::End) if s != c => { world.end(s); }
///         _ => {}
///     }
/// }
/// assert_eq!(world.received(c), b"ping");
/// assert!(matches!(world.events(c).last(), Some(SocketEvent::Close { had_error: Some(false) })));
/// assert!(world.violations().is_empty());
/// world.close_server(srv);
/// world.run_until_idle();
/// assert!(world.trace().iter().any(|l| l.contains("client#0 Connect")));
/// ```
pub struct World {
    pub(crate) base: Instant,
    pub(crate) now: Duration,
    pub(crate) seed: u64,
    pub(crate) rng: Rng,
    pub(crate) faults: Faults,
    pub(crate) kernel: Kernel,
    pub(crate) sockets: Vec<SimSocket>,
    pub(crate) servers: Vec<SimServer>,
    pub(crate) out: VecDeque<WorldEvent>,
    pub(crate) trace: Trace,
    pub(crate) checker: Option<Checker>,
    pub(crate) keep_events: bool,
    pub(crate) steps: u64,
    pub(crate) events_emitted: u64,
    client_count: usize,
    conn_count: usize,
}

impl World {
    /// A world on `seed` with a reliable network ([`Faults::calm`]), a full trace and the
    /// invariant checker on. A default client host has `10.0.0.100` and `fd00::100`.
    pub fn new(seed: u64) -> World {
        World::with_config(WorldConfig::new(seed))
    }

    /// A world on `seed` with the given faults.
    pub fn with_faults(seed: u64, faults: Faults) -> World {
        World::with_config(WorldConfig {
            faults,
            ..WorldConfig::new(seed)
        })
    }

    /// A world from a full configuration.
    pub fn with_config(config: WorldConfig) -> World {
        let mut w = World {
            // The only clock read of the simulator: virtual time is an offset from here.
            base: Instant::now(),
            now: Duration::ZERO,
            seed: config.seed,
            rng: Rng::fork(config.seed, 1),
            faults: config.faults,
            kernel: Kernel::default(),
            sockets: Vec::new(),
            servers: Vec::new(),
            out: VecDeque::new(),
            trace: Trace::new(config.trace),
            checker: config.check.then(Checker::default),
            keep_events: config.keep_events,
            steps: 0,
            events_emitted: 0,
            client_count: 0,
            conn_count: 0,
        };
        let h = w.add_host("10.0.0.100".parse().ok());
        w.add_address(h, "fd00::100".parse().ok());
        w.kernel.dns.insert(
            "localhost".to_string(),
            vec![
                IpAddr::V6(std::net::Ipv6Addr::LOCALHOST),
                IpAddr::V4(std::net::Ipv4Addr::LOCALHOST),
            ],
        );
        w
    }

    /// The seed this world was built from.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    // ---- topology ---------------------------------------------------------------

    /// The host owning `ip`, created (with that one address) if no host has it yet.
    /// Loopback addresses belong to the default client host.
    pub fn host(&mut self, ip: &str) -> HostRef<'_> {
        let parsed = ip.parse::<IpAddr>().ok();
        let host = match parsed.and_then(|a| self.kernel.host_by_ip.get(&a).copied()) {
            Some(h) => h,
            None if parsed.is_some_and(|a| a.is_loopback()) => 0,
            None => self.add_host(parsed),
        };
        HostRef { world: self, host }
    }

    /// Add `name` to the DNS table with these A/AAAA records, in this order (the order
    /// `dns.lookup` returns them). Unparsable entries are skipped.
    pub fn dns(&mut self, name: &str, addrs: &[&str]) {
        let list = addrs.iter().filter_map(|a| a.parse().ok()).collect();
        self.kernel.dns.insert(name.to_string(), list);
    }

    /// Every connect to `ip` is refused (`ECONNREFUSED`).
    pub fn refuse(&mut self, ip: &str) {
        if let Ok(a) = ip.parse() {
            self.kernel.refused.push(a);
        }
    }

    /// Connects to `ip` are never answered (until the kernel's 127 s `ETIMEDOUT`).
    pub fn black_hole(&mut self, ip: &str) {
        if let Ok(a) = ip.parse() {
            self.kernel.black_holes.push(a);
        }
    }

    /// The host owning `ip` runs out of descriptors for `duration` from now: every
    /// `accept` on it fails with `EMFILE` until then (connections stay queued).
    pub fn exhaust_descriptors(&mut self, ip: &str, duration: Duration) {
        let until = self.now + duration;
        let host = self.host(ip).host;
        self.kernel.hosts[host].emfile_until = Some(until);
    }

    /// `net.connect(options)` from the default client host.
    pub fn connect(&mut self, options: ConnectOptions) -> Result<SocketId> {
        self.connect_from(0, SocketOptions::default(), options)
    }

    pub(crate) fn add_host(&mut self, ip: Option<IpAddr>) -> usize {
        let h = self.kernel.hosts.len();
        self.kernel.hosts.push(Host {
            addrs: Vec::new(),
            next_port: 40000,
            emfile_until: None,
        });
        self.add_address(h, ip);
        h
    }

    pub(crate) fn add_address(&mut self, host: usize, ip: Option<IpAddr>) {
        if let (Some(ip), Some(h)) = (ip, self.kernel.hosts.get_mut(host)) {
            if !h.addrs.contains(&ip) && !self.kernel.host_by_ip.contains_key(&ip) {
                h.addrs.push(ip);
                self.kernel.host_by_ip.insert(ip, host);
            }
        }
    }

    pub(crate) fn connect_from(
        &mut self,
        host: usize,
        socket: SocketOptions,
        options: ConnectOptions,
    ) -> Result<SocketId> {
        let name = format!("client#{}", self.client_count);
        self.client_count += 1;
        let id = self.new_socket(Socket::new(socket), name, host, None);
        let now = self.instant();
        let r = self.sockets[id.0].core.connect(options, now);
        self.record(
            &self.sockets[id.0].name.clone(),
            format_args!("connect() -> {}", ok_or_code(&r)),
        );
        self.perform_commands(id);
        r.map(|()| id)
    }

    pub(crate) fn listen_on(
        &mut self,
        host: usize,
        options: ServerOptions,
        listen: ListenOptions,
    ) -> Result<ServerId> {
        let id = ServerId(self.servers.len());
        self.servers.push(SimServer {
            core: Server::new(options),
            name: format!("server#{}", id.0),
            host,
            log: Vec::new(),
            listeners: BTreeMap::new(),
            pending: BTreeMap::new(),
            handed: 0,
            close_called: false,
            accept_failures: 0,
            accept_bursts: 0,
            shutdown_deadline: None,
        });
        let now = self.instant();
        let r = self.servers[id.0].core.listen(listen, now);
        self.record(
            &self.servers[id.0].name.clone(),
            format_args!("listen() -> {}", ok_or_code(&r)),
        );
        self.drain_server(id);
        r.map(|()| id)
    }

    pub(crate) fn new_socket(
        &mut self,
        core: Socket,
        name: String,
        host: usize,
        accepted: Option<(ServerId, ConnectionId)>,
    ) -> SocketId {
        let id = SocketId(self.sockets.len());
        self.sockets.push(SimSocket {
            core,
            name,
            host,
            log: Vec::new(),
            accepted,
            conn: None,
            reading: false,
            want_write: false,
            closed: false,
            delivered: 0,
            received: 0,
            decoded: false,
        });
        if let Some(c) = &mut self.checker {
            c.add_socket(accepted.map(|(s, _)| s));
        }
        id
    }

    pub(crate) fn next_conn_name(&mut self) -> String {
        let n = format!("conn#{}", self.conn_count);
        self.conn_count += 1;
        n
    }

    // ---- user calls on sockets --------------------------------------------------

    /// `socket.write(data)`.
    pub fn write(&mut self, s: SocketId, data: Bytes) -> WriteResult {
        let now = self.instant();
        let len = data.len();
        if let Some(c) = &mut self.checker {
            c.on_write(s, &data);
        }
        let r = self.sockets[s.0].core.write_tracked(data, now);
        if let Some(c) = &mut self.checker {
            c.on_write_result(s, r, len);
        }
        if self.trace.enabled() {
            let name = self.sockets[s.0].name.clone();
            self.record(&name, format_args!("write({len}) -> {}", r.ok));
        }
        self.perform_commands(s);
        r
    }

    /// `socket.end()`; the result is what Node passes to `end`'s callback.
    pub fn end(&mut self, s: SocketId) -> Result<()> {
        let now = self.instant();
        let r = self.sockets[s.0].core.end(now);
        self.user_call(s, "end()");
        r
    }

    /// `socket.destroy(err)`.
    pub fn destroy(&mut self, s: SocketId, err: Option<Error>) {
        self.sockets[s.0].core.destroy(err);
        self.user_call(s, "destroy()");
    }

    /// `socket.destroySoon()`.
    pub fn destroy_soon(&mut self, s: SocketId) {
        let now = self.instant();
        self.sockets[s.0].core.destroy_soon(now);
        self.user_call(s, "destroySoon()");
    }

    /// `socket.resetAndDestroy()`.
    pub fn reset_and_destroy(&mut self, s: SocketId) -> Result<()> {
        let r = self.sockets[s.0].core.reset_and_destroy();
        self.user_call(s, "resetAndDestroy()");
        r
    }

    /// `socket.pause()`.
    pub fn pause(&mut self, s: SocketId) {
        self.sockets[s.0].core.pause();
        self.user_call(s, "pause()");
    }

    /// `socket.resume()`.
    pub fn resume(&mut self, s: SocketId) {
        let now = self.instant();
        self.sockets[s.0].core.resume(now);
        self.user_call(s, "resume()");
    }

    /// `socket.setTimeout(ms)`.
    pub fn set_timeout(&mut self, s: SocketId, ms: f64) -> Result<()> {
        let now = self.instant();
        let r = self.sockets[s.0].core.set_timeout(ms, now);
        self.user_call(s, "setTimeout()");
        r
    }

    /// Any other call on the core socket (getters, `set_no_delay`, `set_encoding`, ...),
    /// given the current virtual instant; the IO it asks for is done afterwards.
    pub fn with_socket<R>(&mut self, s: SocketId, f: impl FnOnce(&mut Socket, Instant) -> R) -> R {
        let now = self.instant();
        let r = f(&mut self.sockets[s.0].core, now);
        self.perform_commands(s);
        r
    }

    /// The core socket, for Node's getters (`ready_state`, `bytes_read`, ...).
    pub fn socket(&self, s: SocketId) -> &Socket {
        &self.sockets[s.0].core
    }

    fn user_call(&mut self, s: SocketId, what: &str) {
        if self.trace.enabled() {
            let name = self.sockets[s.0].name.clone();
            self.record(&name, format_args!("{what}"));
        }
        self.perform_commands(s);
    }

    /// After a user call: do the IO it asked for, but leave its events and Node's ticks
    /// to the next step (`poll_timeout` is due then), as Node runs them only once the
    /// user's synchronous code returned — two calls in a row are one tick.
    fn perform_commands(&mut self, s: SocketId) {
        while let Some(cmd) = self.sockets[s.0].core.poll_command() {
            self.perform(s, cmd);
        }
    }

    // ---- user calls on servers --------------------------------------------------

    /// `server.close()`.
    pub fn close_server(&mut self, s: ServerId) -> Result<()> {
        let now = self.instant();
        self.servers[s.0].close_called = true;
        let r = self.servers[s.0].core.close(now);
        let name = self.servers[s.0].name.clone();
        self.record(&name, format_args!("close() -> {}", ok_or_code(&r)));
        self.drain_server(s);
        r
    }

    /// Beyond Node: `server.shutdown(deadline)` with the deadline `after` from now: close,
    /// `end()` every accepted connection, destroy those still open at the deadline.
    pub fn shutdown_server(&mut self, s: ServerId, after: Duration) {
        let now = self.instant();
        self.servers[s.0].close_called = true;
        self.servers[s.0].shutdown_deadline = Some(self.now + after);
        self.servers[s.0].core.shutdown(now + after, now);
        let name = self.servers[s.0].name.clone();
        self.record(&name, format_args!("shutdown(+{after:?})"));
        self.drain_server(s);
    }

    /// `server.maxConnections = max`.
    pub fn set_max_connections(&mut self, s: ServerId, max: Option<u32>) {
        self.servers[s.0].core.set_max_connections(max);
        let name = self.servers[s.0].name.clone();
        self.record(&name, format_args!("maxConnections = {max:?}"));
    }

    /// The core server, for its getters (`listening`, `address`, `connections`).
    pub fn server(&self, s: ServerId) -> &Server {
        &self.servers[s.0].core
    }

    // ---- reading results --------------------------------------------------------

    /// Every event socket `s` emitted so far.
    pub fn events(&self, s: SocketId) -> &[SocketEvent] {
        &self.sockets[s.0].log
    }

    /// Every event server `s` emitted so far.
    pub fn server_events(&self, s: ServerId) -> &[ServerEvent] {
        &self.servers[s.0].log
    }

    /// The bytes socket `s` delivered as `Data`, concatenated.
    pub fn received(&self, s: SocketId) -> Vec<u8> {
        let mut out = Vec::new();
        for e in &self.sockets[s.0].log {
            if let SocketEvent::Data(d) = e {
                out.extend_from_slice(d);
            }
        }
        out
    }

    /// The sockets accepted by server `s`, in accept order.
    pub fn accepted(&self, s: ServerId) -> Vec<SocketId> {
        (0..self.sockets.len())
            .filter(|i| matches!(self.sockets[*i].accepted, Some((srv, _)) if srv == s))
            .map(SocketId)
            .collect()
    }

    /// Every socket in the world, in creation order.
    pub fn sockets(&self) -> Vec<SocketId> {
        (0..self.sockets.len()).map(SocketId).collect()
    }

    /// The trace name of a socket (`client#0`, `conn#2`).
    pub fn name(&self, s: SocketId) -> &str {
        &self.sockets[s.0].name
    }

    /// The trace lines (with [`TraceMode::Full`]).
    pub fn trace(&self) -> &[String] {
        self.trace.lines()
    }

    /// FNV-1a hash of the whole trace.
    pub fn trace_hash(&self) -> u64 {
        self.trace.hash()
    }

    /// Invariant violations found so far (empty when the checker is off).
    pub fn violations(&self) -> &[String] {
        self.checker.as_ref().map_or(&[], |c| c.violations())
    }

    /// Virtual time elapsed since the world was created.
    pub fn now(&self) -> Duration {
        self.now
    }

    /// The `Instant` the core sees for the current virtual time.
    pub fn instant(&self) -> Instant {
        self.base + self.now
    }

    /// Kernel steps and timer firings processed so far.
    pub fn steps(&self) -> u64 {
        self.steps
    }

    /// Socket and server events emitted so far.
    pub fn events_emitted(&self) -> u64 {
        self.events_emitted
    }

    // ---- running ----------------------------------------------------------------

    /// Run until the next event and return it; `None` when nothing is left to happen
    /// (idle) or the next thing would happen after `until` (time then stands at
    /// `until`).
    pub fn next_event(&mut self, until: Option<Duration>) -> Option<WorldEvent> {
        loop {
            if let Some(e) = self.out.pop_front() {
                return Some(e);
            }
            if !self.step(until) {
                return None;
            }
        }
    }

    /// Run until nothing is left to happen, discarding the events (they stay in
    /// [`events`](World::events)).
    pub fn run_until_idle(&mut self) {
        while self.next_event(None).is_some() {}
    }

    /// End of a run: destroy every socket still open, close every server, run until
    /// idle, then check that every socket emitted `Close`, every server its `Close`, and
    /// that connections both sides closed cleanly carried every byte (violations are
    /// added to [`violations`](World::violations)).
    pub fn teardown(&mut self) {
        for i in 0..self.sockets.len() {
            if !self.sockets[i].closed {
                self.destroy(SocketId(i), None);
            }
        }
        for i in 0..self.servers.len() {
            if !self.servers[i].close_called {
                let _ = self.close_server(ServerId(i));
            }
        }
        self.run_until_idle();
        let unclosed: Vec<String> = (0..self.sockets.len())
            .filter(|i| !self.sockets[*i].closed)
            .map(|i| self.sockets[i].name.clone())
            .collect();
        let open_servers: Vec<String> = self
            .servers
            .iter()
            .filter(|s| s.core.listening() || s.core.connections() > 0)
            .map(|s| s.name.clone())
            .collect();
        if let Some(c) = &mut self.checker {
            for n in unclosed {
                c.violation(format!("{n}: no Close after teardown"));
            }
            for n in open_servers {
                c.violation(format!(
                    "{n}: still listening or holding connections after teardown"
                ));
            }
            for i in 0..self.servers.len() {
                c.check_server_closed(ServerId(i));
            }
            c.check_clean_pairs();
        }
    }

    /// Run until virtual time `t` (or idle before it).
    pub fn run_until(&mut self, t: Duration) {
        while self.next_event(Some(t)).is_some() {}
    }

    /// Process the next kernel action or socket timer; false when idle or past `until`.
    fn step(&mut self, until: Option<Duration>) -> bool {
        // (when, socket or server index): a socket's or a server's timer. Closed sockets
        // too: a call made after `Close` (a write) has its callback on a tick.
        let mut timer: Option<(Duration, Timer)> = None;
        for (i, s) in self.sockets.iter().enumerate() {
            if let Some(t) = s.core.poll_timeout() {
                let t = t.saturating_duration_since(self.base);
                if timer.is_none_or(|(best, _)| t < best) {
                    timer = Some((t, Timer::Socket(i)));
                }
            }
        }
        for (i, s) in self.servers.iter().enumerate() {
            if let Some(t) = s.core.poll_timeout() {
                let t = t.saturating_duration_since(self.base);
                if timer.is_none_or(|(best, _)| t < best) {
                    timer = Some((t, Timer::Server(i)));
                }
            }
        }
        let kernel = self.kernel.next_time();
        let use_timer = match (timer, kernel) {
            (Some((t, _)), Some(k)) => t <= k,
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (None, None) => {
                if let Some(u) = until {
                    self.now = self.now.max(u);
                }
                return false;
            }
        };
        let at = if use_timer {
            timer.map_or(self.now, |(t, _)| t)
        } else {
            kernel.unwrap_or(self.now)
        };
        if let Some(u) = until {
            if at > u {
                self.now = self.now.max(u);
                return false;
            }
        }
        self.now = self.now.max(at);
        self.steps += 1;
        if use_timer {
            let now = self.instant();
            match timer {
                Some((_, Timer::Socket(i))) => {
                    self.sockets[i].core.handle_timeout(now);
                    self.drain_socket(SocketId(i));
                }
                Some((_, Timer::Server(i))) => {
                    self.servers[i].core.handle_timeout(now);
                    self.drain_server(ServerId(i));
                }
                None => {}
            }
        } else if let Some((_, ev)) = self.kernel.pop() {
            self.kernel_event(ev);
        }
        if self.checker.is_some() {
            self.check_after_step();
        }
        true
    }

    // ---- draining ---------------------------------------------------------------

    /// Perform every command and dispatch every event of socket `s` until both queues
    /// are empty.
    pub(crate) fn drain_socket(&mut self, s: SocketId) {
        loop {
            let mut progressed = false;
            while let Some(cmd) = self.sockets[s.0].core.poll_command() {
                progressed = true;
                self.perform(s, cmd);
            }
            while let Some(ev) = self.sockets[s.0].core.poll_event() {
                progressed = true;
                self.socket_event(s, ev);
            }
            if !progressed {
                break;
            }
        }
    }

    fn socket_event(&mut self, s: SocketId, ev: SocketEvent) {
        self.events_emitted += 1;
        if self.trace.enabled() {
            let name = self.sockets[s.0].name.clone();
            self.record(&name, format_args!("{}", ShortEvent(&ev)));
        }
        if let Some(c) = &mut self.checker {
            let peer_sent = self.sockets[s.0].conn.and_then(|(conn, side)| {
                self.kernel.conns.get(conn).map(|c| c.ends[1 - side].sent)
            });
            c.on_socket_event(s, &ev, peer_sent);
        }
        match &ev {
            SocketEvent::Data(d) => self.sockets[s.0].received += d.len() as u64,
            SocketEvent::Text(_) => self.sockets[s.0].decoded = true,
            _ => {}
        }
        let closed = matches!(ev, SocketEvent::Close { .. });
        if closed {
            self.sockets[s.0].closed = true;
            if let Some(c) = &mut self.checker {
                if self.sockets[s.0].core.poll_timeout().is_some() {
                    c.violation(format!(
                        "{} has a timer armed at Close",
                        self.sockets[s.0].name
                    ));
                }
            }
        }
        if self.keep_events {
            self.sockets[s.0].log.push(ev.clone());
        }
        self.out.push_back(WorldEvent::Socket(s, ev));
        if closed {
            if let Some((srv, id)) = self.sockets[s.0].accepted {
                let now = self.instant();
                self.servers[srv.0].core.handle_connection_closed(id, now);
                if let Some(c) = &mut self.checker {
                    c.on_connection_closed(srv);
                }
                self.drain_server(srv);
            }
        }
    }

    /// Perform every command and dispatch every event of server `s`.
    pub(crate) fn drain_server(&mut self, s: ServerId) {
        loop {
            let mut progressed = false;
            while let Some(cmd) = self.servers[s.0].core.poll_command() {
                progressed = true;
                self.perform_server(s, cmd);
            }
            while let Some(ev) = self.servers[s.0].core.poll_event() {
                progressed = true;
                self.server_event(s, ev);
            }
            if !progressed {
                break;
            }
        }
    }

    fn server_event(&mut self, s: ServerId, ev: ServerEvent) {
        self.events_emitted += 1;
        if self.trace.enabled() {
            let name = self.servers[s.0].name.clone();
            let what = match &ev {
                ServerEvent::Connection(c) => format!("Connection {:?}", c.id),
                ServerEvent::Error(e) => format!("Error({}: {})", e.code().as_str(), e.message()),
                other => format!("{other:?}"),
            };
            self.record(&name, format_args!("{what}"));
        }
        if let Some(c) = &mut self.checker {
            c.on_server_event(s, &ev);
        }
        if self.keep_events {
            self.servers[s.0].log.push(ev.clone());
        }
        match ev {
            ServerEvent::Connection(c) => {
                let conn = self.servers[s.0].pending.remove(&c.id);
                let host = self.servers[s.0].host;
                let name = self.next_conn_name();
                let now = self.instant();
                let sock = Socket::accepted(&c.options, c.local, c.remote, now);
                let id = self.new_socket(sock, name, host, Some((s, c.id)));
                if let Some(conn) = conn {
                    self.attach(id, conn, 1);
                }
                self.out.push_back(WorldEvent::Accepted {
                    server: s,
                    socket: id,
                });
                self.drain_socket(id);
            }
            other => self.out.push_back(WorldEvent::Server(s, other)),
        }
    }

    pub(crate) fn record(&mut self, who: &str, what: std::fmt::Arguments<'_>) {
        self.trace.record(self.now, who, what);
    }

    pub(crate) fn check_after_step(&mut self) {
        let Some(c) = &mut self.checker else { return };
        for s in &self.sockets {
            if s.closed {
                if s.core.poll_timeout().is_some() {
                    c.violation(format!("{} has a timer armed after Close", s.name));
                }
                continue;
            }
            // Node's counters agree with what the kernel did.
            let core = &s.core;
            if core.bytes_read() != s.delivered {
                c.violation(format!(
                    "{}: bytesRead {} but the kernel delivered {}",
                    s.name,
                    core.bytes_read(),
                    s.delivered
                ));
            }
            if !s.decoded && s.received + core.readable_length() as u64 != s.delivered {
                c.violation(format!(
                    "{}: {} bytes emitted + {} buffered != {} delivered",
                    s.name,
                    s.received,
                    core.readable_length(),
                    s.delivered
                ));
            }
            let sent = s
                .conn
                .and_then(|(conn, side)| self.kernel.conns.get(conn).map(|c| c.ends[side].sent))
                .unwrap_or(0);
            let flushed = core.bytes_written() - core.writable_length() as u64;
            if s.conn.is_some() && flushed != sent {
                c.violation(format!(
                    "{}: bytesWritten - writableLength = {flushed} but the kernel took {sent}",
                    s.name
                ));
            }
        }
        for (i, srv) in self.servers.iter().enumerate() {
            c.check_accounting(ServerId(i), srv.handed);
            c.check_connections(ServerId(i), srv.core.connections());
            c.check_accept_reports(ServerId(i), srv.accept_bursts);
            if srv.core.accept_failures() != srv.accept_failures {
                c.violation(format!(
                    "{}: accept_failures() = {} but {} accepts failed",
                    srv.name,
                    srv.core.accept_failures(),
                    srv.accept_failures
                ));
            }
            // Past the shutdown deadline nothing of the server is left open.
            if srv.shutdown_deadline.is_some_and(|d| self.now > d) {
                let open = self
                    .sockets
                    .iter()
                    .filter(|s| !s.closed && matches!(s.accepted, Some((o, _)) if o.0 == i))
                    .count();
                if open > 0 || srv.core.connections() > 0 {
                    c.violation(format!(
                        "{}: {open} connections open ({} counted) after the shutdown deadline",
                        srv.name,
                        srv.core.connections()
                    ));
                }
            }
        }
    }
}

/// Whose timer fires next.
#[derive(Clone, Copy, Debug)]
enum Timer {
    Socket(usize),
    Server(usize),
}

/// A host of a [`World`], to listen or connect from.
pub struct HostRef<'w> {
    world: &'w mut World,
    host: usize,
}

impl HostRef<'_> {
    /// Give this host one more address (`"fd00::1"`); ignored if another host has it.
    pub fn address(self, ip: &str) -> Self {
        let parsed = ip.parse().ok();
        self.world.add_address(self.host, parsed);
        self
    }

    /// `net.createServer().listen(options)` on this host.
    pub fn listen(self, options: ListenOptions) -> Result<ServerId> {
        self.world
            .listen_on(self.host, ServerOptions::default(), options)
    }

    /// `net.createServer(server).listen(options)` on this host.
    pub fn listen_with(self, server: ServerOptions, options: ListenOptions) -> Result<ServerId> {
        self.world.listen_on(self.host, server, options)
    }

    /// `net.connect(options)` from this host.
    pub fn connect(self, options: ConnectOptions) -> Result<SocketId> {
        self.world
            .connect_from(self.host, SocketOptions::default(), options)
    }

    /// `new net.Socket(socket).connect(options)` from this host.
    pub fn connect_with(self, socket: SocketOptions, options: ConnectOptions) -> Result<SocketId> {
        self.world.connect_from(self.host, socket, options)
    }
}

fn ok_or_code(r: &Result<()>) -> String {
    match r {
        Ok(()) => "ok".to_string(),
        Err(e) => e.code().as_str().to_string(),
    }
}

/// One-line rendering of a socket event for the trace (data by length, errors by code
/// and message).
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
            SocketEvent::Lookup {
                error,
                address,
                family,
                host,
            } => match error {
                Some(e) => write!(f, "Lookup {host} {}", e.code().as_str()),
                None => write!(
                    f,
                    "Lookup {host} {} {}",
                    address.as_deref().unwrap_or("-"),
                    family.unwrap_or(0)
                ),
            },
            other => write!(f, "{other:?}"),
        }
    }
}
