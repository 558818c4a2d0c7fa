//! `socket.connect(options)` (§4): Node's argument normalisation and validation, the
//! `Resolve` → `Lookup` → `Connect` sequence for the single-address path, and the
//! [`Connector`] that hands multi-address results to the happy-eyeballs planner
//! (`multi`).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV6};
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;

use crate::block_list::BlockList;
use crate::defaults::{
    get_default_auto_select_family, get_default_auto_select_family_attempt_timeout,
    MIN_AUTO_SELECT_FAMILY_ATTEMPT_TIMEOUT,
};
use crate::error::{Error, ErrorCode, Result};
use crate::happy_eyeballs::{sort_candidates_owned, Candidates, Mode};
use crate::ip::is_ip;
use crate::options::{keep_alive_secs_from_ms, AttemptId, Endpoint, LookupAddress};
use crate::validate::{js_string_to_number, validate_int32, validate_port, NumberArg, PortArg};

use super::events::{Command, SocketEvent};
use super::multi::Multi;
use super::state::{HandleKind, Tick};
use super::Socket;

pub use crate::dns::ADDRCONFIG;

/// Options of `socket.connect(options)` / `net.connect(options)`: the TCP form (`port`,
/// `host`, ...) or the IPC form (`path`).
///
/// ```
/// use nodenet_core::socket::ConnectOptions;
/// let tcp = ConnectOptions::tcp("0x50", "127.0.0.1"); // port 80, as in Node
/// let ipc = ConnectOptions::path("/tmp/app.sock");
/// // Node's normalizeArgs: a string that is not a non-negative number is a pipe path.
/// assert_eq!(ConnectOptions::from_arg("-1").path.as_deref(), Some("-1"));
/// assert!(ConnectOptions::from_arg("8080").port.is_some());
/// # let _ = (tcp, ipc);
/// ```
#[derive(Clone, Debug, Default)]
pub struct ConnectOptions {
    /// `port` (number or numeric string; `'0x50'` is 80). Validated with Node's
    /// `ERR_SOCKET_BAD_PORT` (`Port should be >= 0 and < 65536. ...`).
    pub port: Option<PortArg>,
    /// `host`; `None` or empty means `'localhost'`.
    pub host: Option<String>,
    /// `path`: connect to a Unix domain socket (an empty path means TCP, as in Node).
    pub path: Option<String>,
    /// `family`: 0 (any), 4 or 6; other numbers are passed through to the resolver.
    pub family: u32,
    /// `hints`: getaddrinfo flags (0 → `ADDRCONFIG` when `family` is not 4 or 6).
    pub hints: u32,
    /// `localAddress` to bind before connecting (must be an IP literal).
    pub local_address: Option<String>,
    /// `localPort` to bind before connecting (0 = none).
    pub local_port: Option<u16>,
    /// `lookup`: the user supplied a custom resolver (kept by the backend; the core only
    /// flags the `Resolve` command).
    pub lookup: bool,
    /// `autoSelectFamily` (default: [`get_default_auto_select_family`]).
    pub auto_select_family: Option<bool>,
    /// `autoSelectFamilyAttemptTimeout` in ms: an int32 `>= 1`, raised to at least 10.
    pub auto_select_family_attempt_timeout: Option<NumberArg>,
    /// `blockList` (v22.13+): refuse to connect to blocked addresses (`ERR_IP_BLOCKED`).
    pub block_list: Option<BlockList>,
    /// `timeout` (`net.connect`): `setTimeout(timeout)` before connecting when truthy.
    pub timeout: Option<NumberArg>,
    /// `noDelay` (socket option given through `net.connect`).
    pub no_delay: Option<bool>,
    /// `keepAlive` (socket option given through `net.connect`).
    pub keep_alive: Option<bool>,
    /// `keepAliveInitialDelay` in ms (negative → 0, stored as whole seconds).
    pub keep_alive_initial_delay: Option<f64>,
    /// How a multi-address lookup result is raced (beyond Node): [`Mode::NodeCompat`]
    /// (the default) is Node v20's sequential algorithm, [`Mode::Rfc8305`] staggers
    /// attempts that keep running until the first success.
    pub happy_eyeballs: Mode,
}

impl ConnectOptions {
    /// `{port, host}`.
    pub fn tcp(port: impl Into<PortArg>, host: impl Into<String>) -> ConnectOptions {
        ConnectOptions {
            port: Some(port.into()),
            host: Some(host.into()),
            ..ConnectOptions::default()
        }
    }

    /// `{port}` (host defaults to `localhost`).
    pub fn port(port: impl Into<PortArg>) -> ConnectOptions {
        ConnectOptions {
            port: Some(port.into()),
            ..ConnectOptions::default()
        }
    }

    /// `{path}`: an IPC (Unix domain socket) connection.
    ///
    /// Takes a `&str`, a `String`, a `&Path` or a `PathBuf`. Node's paths are strings:
    /// a path that is not UTF-8 is converted lossily (`to_string_lossy`).
    pub fn path(path: impl AsRef<std::path::Path>) -> ConnectOptions {
        ConnectOptions {
            path: Some(path.as_ref().to_string_lossy().into_owned()),
            ..ConnectOptions::default()
        }
    }

    /// Node's `normalizeArgs` for `connect(arg)`: a string whose `Number()` is NaN or
    /// negative is a pipe path (`'abc'`, `'-1'`), anything else a port (`'8080'`,
    /// `'0x50'`, `' '` — which then fails port validation).
    pub fn from_arg(arg: impl Into<PortArg>) -> ConnectOptions {
        match arg.into() {
            PortArg::String(s) => {
                let n = js_string_to_number(&s);
                if n.is_nan() || n < 0.0 {
                    ConnectOptions::path(s)
                } else {
                    ConnectOptions::port(PortArg::String(s))
                }
            }
            n => ConnectOptions::port(n),
        }
    }

    /// Builder: `host`.
    pub fn with_host(mut self, host: impl Into<String>) -> ConnectOptions {
        self.host = Some(host.into());
        self
    }
}

/// Typed constructors for Rust callers: a port that is a `u16` needs no validation.
impl ConnectOptions {
    /// `{port, host}` from a socket address: the IP as the host (no lookup happens for
    /// it) and its port. An IPv6 scope id is kept as a numeric zone (`fe80::1%2`).
    ///
    /// ```
    /// use nodenet_core::socket::ConnectOptions;
    /// let o = ConnectOptions::tcp_addr("[::1]:8080".parse().unwrap());
    /// assert_eq!(o.host.as_deref(), Some("::1"));
    /// assert_eq!(o.port, Some(8080u16.into()));
    /// ```
    pub fn tcp_addr(addr: SocketAddr) -> ConnectOptions {
        let host = match addr {
            SocketAddr::V6(a) if a.scope_id() != 0 => format!("{}%{}", a.ip(), a.scope_id()),
            a => a.ip().to_string(),
        };
        ConnectOptions::tcp(addr.port(), host)
    }

    /// `{port, host}` with a typed port, in Rust's `(host, port)` order: the form of
    /// [`tcp`](Self::tcp) that cannot fail port validation.
    ///
    /// ```
    /// use nodenet_core::socket::ConnectOptions;
    /// let o = ConnectOptions::host_port("localhost", 80);
    /// assert_eq!(o.host.as_deref(), Some("localhost"));
    /// assert_eq!(o.port, Some(80u16.into()));
    /// ```
    pub fn host_port(host: impl Into<String>, port: u16) -> ConnectOptions {
        ConnectOptions::tcp(port, host)
    }
}

/// Everything the TCP connect needs after validation.
#[derive(Clone, Debug)]
pub(crate) struct TcpPlan {
    /// The host as the user gave it (`options.host`), for error messages.
    pub(crate) options_host: Option<String>,
    /// The host that is connected to / looked up (`options.host || 'localhost'`).
    pub(crate) host: String,
    pub(crate) port: u16,
    pub(crate) local_address: Option<String>,
    pub(crate) local_port: u16,
    pub(crate) block_list: Option<Arc<BlockList>>,
    /// Happy-eyeballs attempt timeout in ms (already clamped to >= 10).
    pub(crate) attempt_timeout: u32,
    /// Happy-eyeballs scheduling mode.
    pub(crate) mode: Mode,
}

/// One outstanding connect attempt.
#[derive(Clone, Debug)]
pub(crate) struct Attempt {
    pub(crate) id: AttemptId,
    /// IP text or IPC path, as the events show it.
    pub(crate) address: String,
    pub(crate) port: Option<u16>,
    pub(crate) family: Option<u8>,
    /// The `- Local (a:p)` details Node adds (local address and port both known).
    pub(crate) local_details: Option<(String, u16)>,
    /// `(address, port)` to report bind failures against.
    pub(crate) bind: Option<(String, u16)>,
    /// `connectionAttempt` already emitted (deferred until bind is known to succeed).
    pub(crate) announced: bool,
    pub(crate) endpoint: Endpoint,
}

/// Who is driving the connect: nothing, the single-address path, or the happy-eyeballs
/// planner (multi-address results, see `multi`). The payloads are boxed: every socket
/// carries a `Connector`, and an accepted one only ever holds `Idle` (16 bytes instead
/// of ~140 per connection).
#[derive(Debug, Default)]
pub(crate) enum Connector {
    /// Nothing in progress.
    #[default]
    Idle,
    /// IP literal: the attempt starts on the next tick.
    Literal { plan: Box<TcpPlan>, family: u8 },
    /// Waiting for `handle_resolved(id, ..)`.
    Resolving {
        id: AttemptId,
        plan: Box<TcpPlan>,
        all: bool,
    },
    /// One attempt in flight.
    Single(Box<Attempt>),
    /// The happy-eyeballs planner races two or more candidates.
    Multi(Box<Multi>),
}

impl Socket {
    /// `socket.connect(options)`: start connecting (TCP or IPC). Validation errors are
    /// returned as Node throws them; as in Node, `connecting` is already `true` when a
    /// TCP option fails validation (§4.2 step 7). Connecting a destroyed socket starts a
    /// fresh lifecycle (§4.4); connecting again while a connect is in progress fails the
    /// socket with `connect EALREADY`, and an open one with
    /// `connect EISCONN <ip>:<port> - Local (<ip>:<port>)` (after `ConnectionAttempt` for
    /// an IP literal).
    ///
    /// Deliberately not Node: on Linux, Node's *first* `connect()` on a connected TCP
    /// socket appears to succeed (a second `connectionAttempt`, `connect`, `ready` for the
    /// very same connection, whatever address was given) because libuv never re-checks a
    /// completed non-blocking connect, so the kernel answers that one `connect(2)` with
    /// success; only a third call gets `EISCONN`. A socket has one connection, so nodenet
    /// refuses the second connect as the kernel refuses the third.
    pub fn connect(&mut self, options: ConnectOptions, now: Instant) -> Result<()> {
        self.last_now = Some(now);
        // net.connect(): setTimeout before socket.connect().
        if let Some(t) = options.timeout {
            if t.0 != 0.0 && !t.0.is_nan() {
                self.set_timeout(t, now)?;
            }
        }
        if let Some(v) = options.no_delay {
            self.no_delay = v;
        }
        if let Some(v) = options.keep_alive {
            self.keep_alive = v;
        }
        if let Some(ms) = options.keep_alive_initial_delay {
            self.keep_alive_secs = keep_alive_secs_from_ms(ms);
        }
        if options.port.is_none() && options.path.is_none() {
            return Err(Error::missing_connect_args());
        }
        if self.aborted {
            // Its signal destroyed this socket; see `Socket::abort`.
            return Ok(());
        }
        self.write_after_fin = false;
        if self.destroyed {
            self.reset_for_reconnect();
        }
        let busy = if self.connecting && !matches!(self.connector, Connector::Idle) {
            Some(ErrorCode::EALREADY)
        } else if self.stream_open {
            // Also when an earlier connect() on this connected socket threw or is about
            // to fail (leaving `connecting` true, as in Node): the OS says EISCONN.
            Some(ErrorCode::EISCONN)
        } else {
            None
        };
        let pipe_path = options.path.clone().filter(|p| !p.is_empty());
        if self.handle.is_none() {
            self.handle = Some(if pipe_path.is_some() {
                HandleKind::Pipe
            } else {
                HandleKind::Tcp
            });
        }
        self.timer.refresh(now);
        self.connecting = true;

        if let Some(path) = pipe_path {
            if let Some(code) = busy {
                self.ticks
                    .push_back(Tick::Destroy(Error::connect(code, &path, 0, None)));
                return Ok(());
            }
            let attempt = Attempt {
                id: self.next_attempt_id(),
                address: path.clone(),
                port: None,
                family: None,
                local_details: None,
                bind: None,
                announced: false,
                endpoint: Endpoint::Pipe(path),
            };
            self.start_attempt(attempt, None);
            return Ok(());
        }

        // lookupAndConnect: validation in Node's order.
        let local_address = options.local_address.clone().filter(|a| !a.is_empty());
        if let Some(la) = &local_address {
            if is_ip(la) == 0 {
                return Err(Error::invalid_ip_address(la));
            }
        }
        let port = match &options.port {
            Some(p) => validate_port(p, "Port")?,
            None => 0,
        };
        let auto_select_family = options
            .auto_select_family
            .unwrap_or_else(get_default_auto_select_family);
        let attempt_timeout = match options.auto_select_family_attempt_timeout {
            Some(v) => (validate_int32(
                v,
                "options.autoSelectFamilyAttemptTimeout",
                1,
                i32::MAX as i64,
            )? as u32)
                .max(MIN_AUTO_SELECT_FAMILY_ATTEMPT_TIMEOUT),
            None => get_default_auto_select_family_attempt_timeout(),
        };
        let host = options
            .host
            .clone()
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| "localhost".to_string());
        let plan = TcpPlan {
            options_host: options.host.clone(),
            host: host.clone(),
            port,
            local_address: local_address.clone(),
            local_port: options.local_port.unwrap_or(0),
            block_list: options.block_list.clone().map(Arc::new),
            attempt_timeout,
            mode: options.happy_eyeballs,
        };
        let literal = is_ip(&host);
        if let Some(code) = busy {
            // Node starts the attempt on the busy handle and the OS refuses it: for an IP
            // literal that is `connectionAttempt`, then the error, named with the local
            // address when the handle has one (a second connect on a connected socket,
            // which nodenet refuses where Linux lets Node's first retry through).
            let local_ip = self.sock.map(|a| a.ip().to_string());
            let local = local_ip.as_deref().zip(self.sock.map(|a| a.port()));
            if literal != 0 {
                self.ticks
                    .push_back(Tick::emit(SocketEvent::ConnectionAttempt {
                        address: host.clone(),
                        port: Some(port),
                        family: Some(literal),
                    }));
            }
            self.ticks
                .push_back(Tick::Destroy(Error::connect(code, &host, port, local)));
            return Ok(());
        }
        if literal != 0 {
            self.connector = Connector::Literal {
                plan: Box::new(plan),
                family: literal,
            };
            self.ticks.push_back(Tick::StartConnect);
            return Ok(());
        }
        let family = options.family;
        let mut hints = options.hints;
        if family != 4 && family != 6 && hints == 0 {
            hints = ADDRCONFIG;
        }
        let all = family != 4 && family != 6 && local_address.is_none() && auto_select_family;
        let id = self.next_attempt_id();
        self.connector = Connector::Resolving {
            id,
            plan: Box::new(plan),
            all,
        };
        self.commands.push_back(Command::Resolve {
            id,
            host,
            family,
            hints,
            all,
            custom: options.lookup,
        });
        Ok(())
    }

    /// The backend's answer to [`Command::Resolve`]: every address the resolver returned
    /// (or its error, passed through unchanged to the `Lookup` and `Error` events). A
    /// stale `id` (destroyed or reconnected socket) is ignored.
    pub fn handle_resolved(
        &mut self,
        id: AttemptId,
        result: std::result::Result<Vec<LookupAddress>, Error>,
        now: Instant,
    ) {
        self.input(now);
        let current = matches!(&self.connector,
            Connector::Resolving { id: cur, .. } if *cur == id && self.connecting);
        if !current {
            return;
        }
        // Moved out, not cloned: the connector is idle from here on.
        let Connector::Resolving { plan, all, .. } =
            std::mem::replace(&mut self.connector, Connector::Idle)
        else {
            return;
        };
        let plan = *plan;
        let list = match result {
            Ok(list) if !list.is_empty() => list,
            Ok(_) => {
                // dns.lookup never succeeds with nothing; treat it as ENOTFOUND.
                let err = Error::getaddrinfo(ErrorCode::ENOTFOUND, &plan.host);
                return self.lookup_failed(err, plan);
            }
            Err(err) => return self.lookup_failed(err, plan),
        };
        self.timer.refresh(now);
        if !all {
            let first = &list[0];
            self.events.push_back(SocketEvent::Lookup {
                error: None,
                address: Some(first.address.clone()),
                family: Some(first.family),
                host: plan.host.clone(),
            });
            return self.connect_to(&first.address, first.family, plan);
        }
        // Multi mode (§5.3 steps 2-5): one lookup event per entry, then filter, dedupe
        // and interleave by family.
        for entry in &list {
            self.events.push_back(SocketEvent::Lookup {
                error: None,
                address: Some(entry.address.clone()),
                family: Some(entry.family),
                host: plan.host.clone(),
            });
        }
        let host = plan.options_host.as_deref().unwrap_or("undefined");
        match sort_candidates_owned(list, host, plan.port) {
            Err(err) => self.destroy_inner(Some(err), false),
            // One candidate: Node falls back to the single path (no attempt timer,
            // `autoSelectFamilyAttemptedAddresses` untouched).
            Ok(Candidates::Single(c)) => self.connect_to(&c.ip, u32::from(c.family), plan),
            Ok(Candidates::Multiple(list)) => self.start_multi(list, &plan, now),
        }
    }

    fn lookup_failed(&mut self, err: Error, plan: TcpPlan) {
        self.events.push_back(SocketEvent::Lookup {
            error: Some(err.clone()),
            address: None,
            family: None,
            host: plan.host,
        });
        self.destroy_inner(Some(err), false);
    }

    /// Validate one resolved address and start the attempt (end of Node's lookup
    /// callback).
    fn connect_to(&mut self, address: &str, family: u32, plan: TcpPlan) {
        if is_ip(address) == 0 {
            return self.destroy_inner(Some(Error::invalid_ip_address(address)), false);
        }
        if family != 4 && family != 6 {
            let host = plan.options_host.as_deref().unwrap_or("undefined");
            let err = Error::invalid_address_family(&family.to_string(), host, plan.port);
            return self.destroy_inner(Some(err), false);
        }
        self.internal_connect(address, family as u8, &plan);
    }

    /// Node's `internalConnect` for one TCP address.
    pub(crate) fn internal_connect(&mut self, address: &str, family: u8, plan: &TcpPlan) {
        let Some(remote) = parse_sockaddr(address, plan.port) else {
            return self.destroy_inner(Some(Error::invalid_ip_address(address)), false);
        };
        let mut bind = None;
        let mut local = None;
        if plan.local_address.is_some() || plan.local_port != 0 {
            let la = plan
                .local_address
                .clone()
                .unwrap_or_else(|| if family == 6 { "::" } else { "0.0.0.0" }.to_string());
            let unspecified = if family == 6 {
                IpAddr::V6(Ipv6Addr::UNSPECIFIED)
            } else {
                IpAddr::V4(Ipv4Addr::UNSPECIFIED)
            };
            let parsed = parse_sockaddr(&la, plan.local_port);
            if parsed.is_some_and(|a| a.is_ipv4() != (family == 4)) {
                // Node binds with the target's family (`bind` for IPv4, `bind6` for
                // IPv6), whose address parsing (uv_ip4_addr / uv_ip6_addr) refuses a
                // local address of the other family before any system call.
                let err =
                    Error::with_host_port(ErrorCode::EINVAL, "bind", &la, plan.local_port, None);
                return self.destroy_inner(Some(err), false);
            }
            local = Some(parsed.unwrap_or(SocketAddr::new(unspecified, plan.local_port)));
            bind = Some((la, plan.local_port));
        }
        let local_details = bind.clone().filter(|(_, p)| *p != 0);
        let attempt = Attempt {
            id: self.next_attempt_id(),
            address: address.to_string(),
            port: Some(plan.port),
            family: Some(family),
            local_details,
            bind,
            announced: false,
            endpoint: Endpoint::Tcp(remote),
        };
        if let Some(list) = &plan.block_list {
            let fam = if family == 6 { "ipv6" } else { "ipv4" };
            if list.check(address, fam).unwrap_or(false) {
                self.events.push_back(SocketEvent::ConnectionAttempt {
                    address: attempt.address.clone(),
                    port: attempt.port,
                    family: attempt.family,
                });
                return self.destroy_inner(Some(Error::ip_blocked(address)), false);
            }
        }
        self.start_attempt(attempt, local);
    }

    /// Emit `connectionAttempt` (unless a bind must succeed first) and the `Connect`
    /// command.
    fn start_attempt(&mut self, mut attempt: Attempt, local: Option<SocketAddr>) {
        if local.is_none() {
            self.announce(&mut attempt);
        }
        self.commands.push_back(Command::Connect {
            attempt: attempt.id,
            endpoint: attempt.endpoint.clone(),
            local,
        });
        self.connector = Connector::Single(Box::new(attempt));
    }

    fn announce(&mut self, attempt: &mut Attempt) {
        if !attempt.announced {
            attempt.announced = true;
            self.events.push_back(SocketEvent::ConnectionAttempt {
                address: attempt.address.clone(),
                port: attempt.port,
                family: attempt.family,
            });
        }
    }

    /// Run the deferred IP-literal connect (a `Tick::StartConnect`).
    pub(crate) fn tick_start_connect(&mut self) {
        if !self.connecting || self.destroyed {
            return;
        }
        if let Connector::Literal { plan, family } = std::mem::take(&mut self.connector) {
            let host = plan.host.clone();
            self.internal_connect(&host, family, &plan);
        }
    }

    /// Take the current attempt if `attempt` names it.
    fn take_attempt(&mut self, attempt: AttemptId) -> Option<Attempt> {
        match &self.connector {
            Connector::Single(a) if a.id == attempt && self.connecting && !self.destroyed => {}
            _ => return None,
        }
        match std::mem::take(&mut self.connector) {
            Connector::Single(a) => Some(*a),
            _ => None,
        }
    }

    /// The attempt `attempt` connected; `local` is the socket's own address (`None` for
    /// IPC). Emits `Connect`, `Ready`, applies stored options, flushes queued writes and
    /// starts reading unless paused. Stale attempts are ignored.
    ///
    /// A backend that can write without blocking should use
    /// [`handle_connected_dispatch`](Socket::handle_connected_dispatch), which gives
    /// Node's order for a write made while connecting.
    pub fn handle_connected(
        &mut self,
        attempt: AttemptId,
        local: Option<SocketAddr>,
        now: Instant,
    ) {
        self.connected_with(
            attempt,
            local,
            None::<fn(&Bytes) -> std::result::Result<usize, ErrorCode>>,
            now,
        );
    }

    /// [`handle_connected`](Socket::handle_connected) with Node's synchronous write of
    /// the write parked while connecting (Node's `_pendingData`, the first write made
    /// before `Connect`): Node writes it from a `'connect'` listener, so when the kernel
    /// takes all of it at once (libuv's `try_write`) its callback — and a `Drain` that is
    /// then due — run inside the `connect` emission, before `Ready`. `dispatch` is called
    /// once with that write's queued `Bytes` (not for an empty write, which completes
    /// without IO):
    /// write them now without blocking and return how many went out (`Ok(0)`: would
    /// block), or the error code, which destroys the socket as a failed write does.
    /// What is not written, and every later write, goes the usual way
    /// ([`Command::Write`]), their callbacks on later ticks.
    ///
    /// ```
    /// use std::time::Instant;
    /// use bytes::Bytes;
    /// use nodenet_core::socket::{Command, ConnectOptions, Socket, SocketEvent};
    /// use nodenet_core::SocketOptions;
    ///
    /// let now = Instant::now();
    /// let mut sock = Socket::new(SocketOptions::default());
    /// sock.connect(ConnectOptions::tcp(80, "127.0.0.1"), now).unwrap();
    /// let w = sock.write_tracked(Bytes::from_static(b"hello"), now);
    /// sock.handle_timeout(now); // Node's tick: the connect starts
    /// while sock.poll_event().is_some() {}
    /// let attempt = std::iter::from_fn(|| sock.poll_command())
    ///     .find_map(|c| match c { Command::Connect { attempt, .. } => Some(attempt), _ => None })
    ///     .unwrap();
    /// // The kernel takes the parked write at once: its callback comes before `Ready`.
    /// sock.handle_connected_dispatch(attempt, None, |chunk| Ok(chunk.len()), now);
    /// assert_eq!(sock.poll_event(), Some(SocketEvent::Connect));
    /// assert_eq!(sock.poll_event(), Some(SocketEvent::WriteDone { id: w.id, result: Ok(()) }));
    /// assert_eq!(sock.poll_event(), Some(SocketEvent::Ready));
    /// ```
    pub fn handle_connected_dispatch(
        &mut self,
        attempt: AttemptId,
        local: Option<SocketAddr>,
        dispatch: impl FnOnce(&Bytes) -> std::result::Result<usize, ErrorCode>,
        now: Instant,
    ) {
        self.connected_with(attempt, local, Some(dispatch), now);
    }

    fn connected_with(
        &mut self,
        attempt: AttemptId,
        local: Option<SocketAddr>,
        dispatch: Option<impl FnOnce(&Bytes) -> std::result::Result<usize, ErrorCode>>,
        now: Instant,
    ) {
        self.connected_inner(attempt, local, now);
        // `Connect` was emitted: the rest of Node's afterConnect.
        if std::mem::take(&mut self.ready_due) {
            self.after_connect(dispatch);
        }
    }

    fn connected_inner(&mut self, attempt: AttemptId, local: Option<SocketAddr>, now: Instant) {
        self.attempt_answered(attempt);
        self.input(now);
        if self.is_multi() {
            return self.multi_result(now, attempt, Ok(local), false);
        }
        let Some(mut a) = self.take_attempt(attempt) else {
            return;
        };
        self.announce(&mut a);
        let peer = match a.endpoint {
            Endpoint::Tcp(addr) => Some(addr),
            Endpoint::Pipe(_) => None,
        };
        self.finish_connect(now, peer, local);
    }

    /// Node's `afterConnect` for a successful attempt (single path or the planner's
    /// winner): stored options and `Connect`; the rest ([`after_connect`]) runs when
    /// `ready_due` is set, once the answer's caller has its dispatch at hand.
    ///
    /// [`after_connect`]: Socket::after_connect
    pub(crate) fn finish_connect(
        &mut self,
        now: Instant,
        peer: Option<SocketAddr>,
        local: Option<SocketAddr>,
    ) {
        self.connecting = false;
        self.stream_open = true;
        self.sock = local;
        self.peer = peer;
        self.timer.refresh(now);
        if self.handle == Some(HandleKind::Tcp) {
            if self.no_delay {
                self.commands.push_back(Command::SetNoDelay(true));
            }
            if self.keep_alive {
                self.commands.push_back(Command::SetKeepAlive {
                    enable: true,
                    initial_delay_secs: self.keep_alive_secs,
                });
            }
        }
        self.events.push_back(SocketEvent::Connect);
        self.pending_write = None;
        if self.reset_on_connect {
            self.events.push_back(SocketEvent::Ready);
            return self.destroy_inner(None, true);
        }
        self.ready_due = true;
    }

    /// The end of Node's `afterConnect`, after `'connect'` was emitted: the parked
    /// write's `'connect'` listener (with `dispatch`, see
    /// [`handle_connected_dispatch`](Socket::handle_connected_dispatch)), `Ready`, the
    /// queued writes, reading.
    fn after_connect(
        &mut self,
        dispatch: Option<impl FnOnce(&Bytes) -> std::result::Result<usize, ErrorCode>>,
    ) {
        if let Some(dispatch) = dispatch {
            if !self.dispatch_parked(dispatch) {
                self.events.push_back(SocketEvent::Ready);
                return;
            }
        }
        self.events.push_back(SocketEvent::Ready);
        self.flush();
        if !self.paused && !self.eof {
            self.start_reading();
        }
    }

    /// Node's `_writeGeneric` of the parked write from its `'connect'` listener. A write
    /// the kernel takes whole completes synchronously (`req.async` false), and as
    /// Writable's `state.sync` is false there, `afterWrite` runs at once: `Drain` when
    /// due, then the callback, as events now. Writes completed by the same bytes beyond
    /// it (empty ones) get their callbacks on ticks, as clearBuffer's writes do. `false`
    /// when the write failed and destroyed the socket (the callbacks of every queued write
    /// with the error at once, then `Error` and `Close` after `Ready`).
    fn dispatch_parked(
        &mut self,
        dispatch: impl FnOnce(&Bytes) -> std::result::Result<usize, ErrorCode>,
    ) -> bool {
        let Some((first, len)) = self.queue.front() else {
            return true;
        };
        let n = if len == 0 {
            0
        } else {
            let attempt = self.queue.chunk_bytes().next().map(dispatch);
            match attempt {
                Some(Ok(n)) => n,
                Some(Err(code)) => {
                    // onwriteError, not deferred either: the callback, then errorBuffer's
                    // callbacks of the writes behind it, then the destroy.
                    let err = Error::errno_exception(code, "write");
                    let failed: Vec<_> = self.queue.drain_ids().collect();
                    for id in failed {
                        let result = Err(err.clone());
                        self.events.push_back(SocketEvent::WriteDone { id, result });
                    }
                    self.destroy_with(Some(err), false, true);
                    return false;
                }
                None => 0,
            }
        };
        if n < len {
            self.advance_written(n);
            return true;
        }
        let mut done = Vec::new();
        self.queue.advance(n, |id| done.push(id));
        if self.need_drain && self.queue.is_empty() && !self.ending {
            self.need_drain = false;
            self.events.push_back(SocketEvent::Drain);
        }
        for id in done {
            if id == first {
                let ev = SocketEvent::WriteDone { id, result: Ok(()) };
                self.events.push_back(ev);
            } else {
                self.ticks.push_back(Tick::WriteDone(id, None));
            }
        }
        true
    }

    /// The attempt failed to connect with `code` (from the OS or libuv). Emits
    /// `ConnectionAttemptFailed`, then `Error` (`connect ECONNREFUSED 127.0.0.1:80`,
    /// with ` - Local (a:p)` when bound to a local port) and `Close`.
    pub fn handle_connect_failed(&mut self, attempt: AttemptId, code: ErrorCode, now: Instant) {
        self.connect_failed(attempt, code, false, now);
    }

    /// The `connect(2)` call of a TCP attempt failed at once (`ENETUNREACH` for an
    /// unroutable address, `EINVAL` for a bad scope): Node's synchronous path, whose
    /// message ends with the socket's `getsockname` (` - Local (0.0.0.0:0)`, or the bound
    /// address) without setting `localAddress`/`localPort`, and without
    /// `ConnectionAttemptFailed` (Node emits it only for a completion; with several
    /// addresses, `autoSelectFamily`, it does). Otherwise as
    /// [`handle_connect_failed`](Self::handle_connect_failed). A local port 0 shows as 0
    /// (the kernel's choice is not known here). A pipe's is reported as by
    /// `handle_connect_failed`.
    pub fn handle_connect_failed_at_once(
        &mut self,
        attempt: AttemptId,
        code: ErrorCode,
        now: Instant,
    ) {
        self.connect_failed(attempt, code, true, now);
    }

    fn connect_failed(&mut self, attempt: AttemptId, code: ErrorCode, at_once: bool, now: Instant) {
        self.attempt_answered(attempt);
        self.input(now);
        if self.is_multi() {
            return self.multi_result(now, attempt, Err(code), at_once);
        }
        let Some(mut a) = self.take_attempt(attempt) else {
            return;
        };
        self.announce(&mut a);
        let port = a.port.unwrap_or(0);
        let err = match (at_once, a.family, &a.bind) {
            (true, Some(_), Some((host, local_port))) => {
                let sockname = format!("{host}:{local_port}");
                Error::connect_at_once(code, &a.address, port, &sockname)
            }
            (true, Some(family), None) => {
                let sockname = if family == 6 { ":::0" } else { "0.0.0.0:0" };
                Error::connect_at_once(code, &a.address, port, sockname)
            }
            _ => {
                let local = a.local_details.as_ref().map(|(h, p)| (h.as_str(), *p));
                Error::connect(code, &a.address, port, local)
            }
        };
        self.connecting = false;
        // Node's internalConnect destroys with a synchronous connect error directly; only
        // afterConnect (a completion) emits 'connectionAttemptFailed'.
        if !(at_once && a.family.is_some()) {
            self.events.push_back(SocketEvent::ConnectionAttemptFailed {
                address: a.address,
                port: a.port,
                family: a.family,
                error: err.clone(),
            });
        }
        self.destroy_inner(Some(err), false);
    }

    /// Binding the local address of the attempt failed (`bind EADDRINUSE
    /// 127.0.0.1:5000`): no `connectionAttempt` events, `Error`, `Close`.
    pub fn handle_bind_failed(&mut self, attempt: AttemptId, code: ErrorCode, now: Instant) {
        // A happy-eyeballs attempt's bind counts as successful at the next tick unless
        // its failure is reported first (see `multi`): take that tick out.
        let before = self.ticks.len();
        self.ticks
            .retain(|t| !matches!(t, Tick::BindDone(id, _) if *id == attempt));
        let before_confirm = self.ticks.len() != before;
        self.attempt_answered(attempt);
        self.input(now);
        if self.is_multi() {
            return self.multi_bind_failed(now, attempt, code, before_confirm);
        }
        let Some(a) = self.take_attempt(attempt) else {
            return;
        };
        let (addr, port) = a.bind.unwrap_or_default();
        let err = Error::with_host_port(code, "bind", &addr, port, None);
        self.destroy_inner(Some(err), false);
    }

    fn next_attempt_id(&mut self) -> AttemptId {
        self.next_attempt += 1;
        AttemptId(self.next_attempt)
    }
}

/// Parse an IP literal that passed `is_ip` into a socket address, keeping a numeric IPv6
/// zone (`fe80::1%2`) as the scope id; interface names cannot be resolved without IO
/// and give scope 0.
pub(crate) fn parse_sockaddr(address: &str, port: u16) -> Option<SocketAddr> {
    if let Ok(ip) = address.parse::<IpAddr>() {
        return Some(SocketAddr::new(ip, port));
    }
    let (addr, zone) = address.split_once('%')?;
    let v6: Ipv6Addr = addr.parse().ok()?;
    let scope = zone.parse::<u32>().unwrap_or(0);
    Some(SocketAddr::V6(SocketAddrV6::new(v6, port, 0, scope)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zone_ids() {
        match parse_sockaddr("fe80::1%2", 80) {
            Some(SocketAddr::V6(a)) => assert_eq!((a.scope_id(), a.port()), (2, 80)),
            other => panic!("{other:?}"),
        }
        assert!(parse_sockaddr("fe80::1%eth0", 1).is_some());
        assert!(parse_sockaddr("nope", 1).is_none());
    }
}
