//! What a [`Socket`](super::Socket) tells the outside world: [`Command`]s for the backend
//! (IO to perform) and [`SocketEvent`]s for the user (Node's socket events plus write
//! completions), and the small id and result types they carry.

use std::net::SocketAddr;

use bytes::Bytes;

use crate::error::Error;
use crate::options::{AttemptId, Endpoint};

/// Identifies one `write` (or the data of `end_with`). Every write gets exactly one
/// [`SocketEvent::WriteDone`] with the same id — Node's write callback.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct WriteId(pub u64);

impl WriteId {
    /// The id of a write made without a callback
    /// ([`Socket::write`](super::Socket::write), [`Socket::write_dispatch`](super::Socket::write_dispatch)): no
    /// `WriteDone` is ever emitted for it. Writes with a callback are numbered from 1.
    pub const NO_CALLBACK: WriteId = WriteId(0);
}

/// The synchronous answer of [`Socket::write`](super::Socket::write).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WriteResult {
    /// The id the completion ([`SocketEvent::WriteDone`]) will carry.
    pub id: WriteId,
    /// Node's return value of `write()`: `false` when the queue reached the high-water
    /// mark (wait for [`SocketEvent::Drain`]) or the write failed. The data is queued
    /// either way unless the write failed.
    pub ok: bool,
}

/// An IO request for the backend. Drained with
/// [`Socket::poll_command`](super::Socket::poll_command) after every input; perform them
/// in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    /// Resolve `host` (Node's `dns.lookup(host, {family, hints, all})`, or the user's
    /// custom `lookup` when `custom` is set). Answer with
    /// [`Socket::handle_resolved`](super::Socket::handle_resolved) and the same `id`.
    Resolve {
        /// Answer id.
        id: AttemptId,
        /// The host name (never an IP literal; those skip resolution).
        host: String,
        /// 0 (any), 4 or 6 — or any other number Node would pass through.
        family: u32,
        /// getaddrinfo flags; `ADDRCONFIG` (32 on Linux) is added as Node does.
        hints: u32,
        /// Return every address (happy eyeballs) instead of the first.
        all: bool,
        /// The user supplied a custom resolver (the backend owns it).
        custom: bool,
    },
    /// Create the socket (bind to `local` first when given) and connect it to `endpoint`.
    /// Answer with [`Socket::handle_connected`](super::Socket::handle_connected),
    /// [`Socket::handle_connect_failed`](super::Socket::handle_connect_failed) or
    /// [`Socket::handle_bind_failed`](super::Socket::handle_bind_failed), with `attempt`.
    ///
    /// Happy eyeballs (a lookup with two or more candidates) issues one `Connect` per
    /// attempt, each with a fresh id and a fresh OS socket, possibly several at a time
    /// (RFC 8305 mode). The attempt answered with `handle_connected` and accepted by the
    /// socket becomes its connection; a failed attempt's socket is dropped by the
    /// backend; the others are closed by [`Command::Abort`]. Report a bind failure with
    /// `handle_bind_failed` as soon as it happens (while executing the command): the
    /// socket takes the bind as successful at its next tick.
    Connect {
        /// Answer id.
        attempt: AttemptId,
        /// Where to connect.
        endpoint: Endpoint,
        /// Local address to bind before connecting (`localAddress` / `localPort`).
        local: Option<SocketAddr>,
    },
    /// Abandon connect attempt `attempt` and close its socket (happy eyeballs: a timed-out
    /// attempt, the losers of an RFC 8305 race, every live attempt on `destroy`; the
    /// single-address path never emits it). Needs no answer; a late answer for the
    /// attempt is ignored.
    Abort {
        /// The attempt to drop.
        attempt: AttemptId,
    },
    /// Start (or continue) reading; report with `handle_data` / `handle_eof` /
    /// `handle_read_error`. The backend stops by itself after EOF or an error.
    StartReading,
    /// Stop reading until the next `StartReading` (pause / backpressure).
    StopReading,
    /// Data is queued: write what [`Socket::write_chunks`](super::Socket::write_chunks)
    /// yields (writev-friendly) and report each send's result with
    /// [`Socket::handle_send_result`](super::Socket::handle_send_result) (or
    /// `handle_written(n)` / `handle_write_error(code)`), until the queue is empty; a new
    /// `Write` comes when later data arrives in an empty queue.
    Write,
    /// Everything queued has been written: half-close the write side (FIN). Answer with
    /// [`Socket::handle_shutdown`](super::Socket::handle_shutdown) and the syscall's
    /// status (which the socket ignores, as Node does).
    Shutdown,
    /// Close the handle, cancelling anything pending on it (resolve, connect, reads,
    /// writes). `reset`: set `SO_LINGER {on, 0}` first so the peer gets an RST. No answer
    /// is needed; the socket already treats the handle as gone, and its
    /// [`SocketEvent::Close`] (Node's close callback) waits until this command was taken.
    Close {
        /// Reset-close (`resetAndDestroy`).
        reset: bool,
    },
    /// Set `TCP_NODELAY`. No answer: Node ignores whether setting an option worked
    /// (`setNoDelay` discards the handle's return value), so a failure is dropped.
    SetNoDelay(bool),
    /// Keep-alive as Node/libuv on Linux sets it: `enable` → `SO_KEEPALIVE=1` and, when
    /// `initial_delay_secs > 0`, `TCP_KEEPIDLE=initial_delay_secs`, `TCP_KEEPINTVL=1`,
    /// `TCP_KEEPCNT=10` (0 leaves the kernel's defaults); disable → `SO_KEEPALIVE=0` only.
    /// No answer: as for `SetNoDelay`, Node ignores a failure (`setKeepAlive` discards the
    /// handle's return value).
    SetKeepAlive {
        /// On or off.
        enable: bool,
        /// Whole seconds of idle time before the first probe (0 = kernel default).
        initial_delay_secs: u32,
    },
}

/// A user-visible event, in Node's order. Drained with
/// [`Socket::poll_event`](super::Socket::poll_event).
///
/// A client's life, driven by a fake backend that answers every [`Command`] at once: the
/// peer sends `"hi"` and ends; with `allow_half_open` false (Node's default) the socket
/// ends its own side too, and closes once its FIN is out.
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
/// sock.handle_timeout(now); // Node's tick: the connect starts
/// let Some(Command::Connect { attempt, .. }) = sock.poll_command() else { panic!() };
/// sock.handle_connected(attempt, None, now);
/// sock.handle_data(Bytes::from_static(b"hi"), now);
/// sock.handle_eof(now);
///
/// let mut events = Vec::new();
/// loop {
///     let before = events.len();
///     events.extend(std::iter::from_fn(|| sock.poll_event()));
///     let mut commands = 0;
///     while let Some(cmd) = sock.poll_command() {
///         commands += 1;
///         if cmd == Command::Shutdown {
///             sock.handle_shutdown(Ok(()), now); // the FIN is out
///         }
///     }
///     if events.len() == before && commands == 0 {
///         break;
///     }
/// }
/// assert_eq!(events, [
///     SocketEvent::ConnectionAttempt {
///         address: "127.0.0.1".into(), port: Some(80), family: Some(4),
///     },
///     SocketEvent::Connect,
///     SocketEvent::Ready,
///     SocketEvent::Data(Bytes::from_static(b"hi")),
///     SocketEvent::End,
///     SocketEvent::Finish,
///     SocketEvent::Close { had_error: Some(false) },
/// ]);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SocketEvent {
    /// `'lookup' (err, address, family, host)`: once per resolved address (or once with
    /// the error).
    Lookup {
        /// The resolution error, if any.
        error: Option<Error>,
        /// The address as the resolver returned it.
        address: Option<String>,
        /// Its family number as returned.
        family: Option<u32>,
        /// The host that was looked up.
        host: String,
    },
    /// `'connectionAttempt' (ip, port, family)`; for IPC `(path, None, None)`.
    ConnectionAttempt {
        /// IP address text or IPC path.
        address: String,
        /// TCP port.
        port: Option<u16>,
        /// 4 or 6.
        family: Option<u8>,
    },
    /// `'connectionAttemptFailed' (ip, port, family, error)`.
    ConnectionAttemptFailed {
        /// IP address text or IPC path.
        address: String,
        /// TCP port.
        port: Option<u16>,
        /// 4 or 6.
        family: Option<u8>,
        /// Why it failed.
        error: Error,
    },
    /// `'connectionAttemptTimeout' (ip, port, family)` (happy eyeballs only).
    ConnectionAttemptTimeout {
        /// IP address text.
        address: String,
        /// TCP port.
        port: Option<u16>,
        /// 4 or 6.
        family: Option<u8>,
    },
    /// `'connect'`.
    Connect,
    /// `'ready'` (right after `Connect`).
    Ready,
    /// `'data'` as bytes (no encoding set).
    Data(Bytes),
    /// `'data'` as a string (after `set_encoding`).
    Text(String),
    /// `'end'`: the peer finished sending and every byte before it was delivered.
    End,
    /// `'drain'`: the write queue emptied after a `write` returned `false`.
    Drain,
    /// `'timeout'`: the socket was idle for the `set_timeout` period (nothing is closed).
    Timeout,
    /// `'finish'`: `end()` completed (all data flushed and FIN sent).
    Finish,
    /// `'error'` (at most once, always before `Close`).
    Error(Error),
    /// `'close' (hadError)`; `None` is Node's zero-argument close of a socket that never
    /// had a handle. The last lifecycle event: only write callbacks follow it (those of
    /// writes still waiting for the connection, and of writes made after it).
    Close {
        /// Node's `hadError`.
        had_error: Option<bool>,
    },
    /// The write callback: the write `id` reached the kernel (`Ok`) or failed.
    WriteDone {
        /// The write.
        id: WriteId,
        /// Its outcome.
        result: Result<(), Error>,
    },
}
