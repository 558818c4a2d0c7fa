//! Validated socket options shared by client sockets, accepted sockets and servers, with
//! Node v20's defaults (`allowHalfOpen`, `pauseOnConnect`, `noDelay`, `keepAlive`,
//! `keepAliveInitialDelay`, `highWaterMark`), and the small shared vocabulary types the
//! socket, server and backends exchange.

use std::net::SocketAddr;

/// Node v20's default high-water mark (`getDefaultHighWaterMark()`), 16 KiB.
pub const DEFAULT_HIGH_WATER_MARK: usize = 16 * 1024;

/// Node's listen backlog when none is given.
pub const DEFAULT_BACKLOG: u32 = 511;

/// Options a socket is created with: `new net.Socket(options)` for clients, or the
/// server's options for accepted sockets (`net.createServer(options)`).
///
/// ```
/// use nodenet_core::options::SocketOptions;
/// let o = SocketOptions::default().keep_alive_initial_delay_ms(1999.0);
/// assert_eq!(o.keep_alive_initial_delay_secs, 1);
/// assert_eq!(o.high_water_mark, 16384);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SocketOptions {
    /// `allowHalfOpen` (default false): keep the writable side open after the peer's FIN.
    pub allow_half_open: bool,
    /// `pauseOnConnect` (servers): accepted sockets start paused.
    pub pause_on_connect: bool,
    /// `noDelay` (default false): TCP_NODELAY at connect / accept.
    pub no_delay: bool,
    /// `keepAlive` (default false): SO_KEEPALIVE at connect / accept.
    pub keep_alive: bool,
    /// `keepAliveInitialDelay` in whole seconds (Node stores `trunc(ms / 1000)`).
    pub keep_alive_initial_delay_secs: u32,
    /// `highWaterMark` for writes (and reads), default 16 384.
    pub high_water_mark: usize,
    /// Beyond Node: an opt-in cap on queued write bytes; `None` = unbounded like Node.
    pub max_buffered_bytes: Option<usize>,
}

impl Default for SocketOptions {
    fn default() -> SocketOptions {
        SocketOptions {
            allow_half_open: false,
            pause_on_connect: false,
            no_delay: false,
            keep_alive: false,
            keep_alive_initial_delay_secs: 0,
            high_water_mark: DEFAULT_HIGH_WATER_MARK,
            max_buffered_bytes: None,
        }
    }
}

impl SocketOptions {
    /// Set `keepAliveInitialDelay` from milliseconds as Node does: negative (or NaN) → 0,
    /// then whole seconds.
    pub fn keep_alive_initial_delay_ms(mut self, ms: f64) -> SocketOptions {
        self.keep_alive_initial_delay_secs = keep_alive_secs_from_ms(ms);
        self
    }

    /// Set `highWaterMark` as the server constructor does: a negative value means the
    /// default.
    pub fn high_water_mark_signed(mut self, hwm: i64) -> SocketOptions {
        self.high_water_mark = if hwm < 0 {
            DEFAULT_HIGH_WATER_MARK
        } else {
            usize::try_from(hwm).unwrap_or(usize::MAX)
        };
        self
    }
}

/// Node's `~~(ms / 1000)` for keep-alive delays, with negatives and NaN as 0.
pub fn keep_alive_secs_from_ms(ms: f64) -> u32 {
    if ms.is_nan() || ms <= 0.0 {
        0
    } else {
        (ms / 1000.0).trunc().min(u32::MAX as f64) as u32
    }
}

/// Where a stream socket lives: a TCP address, or an IPC (Unix domain socket) path, which
/// on Linux may be an abstract name starting with `\0`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Endpoint {
    /// A TCP socket address.
    Tcp(SocketAddr),
    /// A Unix domain socket path (Node's "pipe").
    Pipe(String),
}

/// `127.0.0.1:80`, `[::1]:80` (as [`SocketAddr`] prints), or the pipe's path as Node
/// reports it (a Linux abstract name keeps its leading `\0`).
///
/// ```
/// use nodenet_core::Endpoint;
/// assert_eq!(Endpoint::Tcp("127.0.0.1:80".parse().unwrap()).to_string(), "127.0.0.1:80");
/// assert_eq!(Endpoint::Tcp("[::1]:80".parse().unwrap()).to_string(), "[::1]:80");
/// assert_eq!(Endpoint::Pipe("/tmp/app.sock".into()).to_string(), "/tmp/app.sock");
/// ```
impl std::fmt::Display for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Endpoint::Tcp(a) => std::fmt::Display::fmt(a, f),
            Endpoint::Pipe(p) => f.write_str(p),
        }
    }
}

/// Identifies one connect attempt of a socket. Every `Connect` command carries one and
/// every completion answers with it, so a late answer for an abandoned attempt (a timed-out
/// happy-eyeballs attempt, a destroyed socket) is recognised and ignored.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AttemptId(pub u64);

/// One entry of a lookup result, as Node's `lookup` callback delivers it: the strings and
/// numbers are kept as given, because a custom resolver may return an invalid address
/// (`'notanip'`) or family (`5`) and Node reports those with its own errors.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct LookupAddress {
    /// The address text (`"127.0.0.1"`, `"::1"`, or anything a custom resolver returned).
    pub address: String,
    /// The family number (4 or 6 when valid).
    pub family: u32,
}

impl LookupAddress {
    /// A lookup entry.
    pub fn new(address: impl Into<String>, family: u32) -> LookupAddress {
        LookupAddress {
            address: address.into(),
            family,
        }
    }
}
