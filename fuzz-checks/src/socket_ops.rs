//! [`Socket`] operation sequences for the `socket_ops` fuzz target: the [`SocketOp`]
//! vocabulary (user calls, IO completions, time, stale answers), a fake kernel that answers
//! the socket's [`Command`]s consistently (only completions a real backend could deliver),
//! and [`run_socket_ops`], which checks the invariants of `docs/design.md` after every step.
//!
//! Invariants checked (per lifecycle; `connect` after `destroy` starts a new one):
//! `Close` exactly once and last (only failed `WriteDone`s may follow); at most one
//! `Error`, before `Close`, and `Close { had_error }` agreeing with it (a refused
//! `resetAndDestroy()`'s `reset` error is emitted directly, as Node emits it, and does not
//! make the close an error close); no `Data` after
//! `End`; `Connect` before `Data`; `Drain` only after a `write` returned `false`; one
//! `WriteDone` per write with a callback and none for a write without; bytes reach the backend in write order and `Data` carries the
//! backend's bytes in order; stale completions produce nothing; no IO command after
//! `Close`; queued data always has a `Write` outstanding; a due timer, once handled, is
//! not due again at the same instant (no busy loop); `max_buffered_bytes` is never
//! exceeded; and nothing panics.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use arbitrary::Arbitrary;
use bytes::Bytes;

use nodenet_core::socket::{
    Command, ConnectOptions, ReadyState, Socket, SocketEvent, WriteId, WriteResult,
};
use nodenet_core::{
    AttemptId, Endpoint, Error, ErrorCode, LookupAddress, NumberArg, SocketOptions,
};

/// How a fuzzed `connect` is called.
#[derive(Arbitrary, Clone, Debug)]
pub enum ConnectKind {
    /// `{port, host: '127.0.0.1'}` (IP literal: connects on the next tick).
    Ipv4Literal,
    /// `{port, host: '::1'}`.
    Ipv6Literal,
    /// `{port, host: 'example.test'}`: a `Resolve` first.
    Host,
    /// A host with `localAddress`/`localPort` (bind before connect).
    HostWithLocal(u16),
    /// `{path}`: IPC.
    Pipe,
    /// Arbitrary port (validation errors must carry Node's codes).
    AnyPort(f64),
    /// Arbitrary port string and host.
    AnyText(String, String),
    /// `net.connect({timeout})` with an arbitrary value.
    WithTimeout(f64),
}

/// A small set of errno-style codes a kernel reports.
#[derive(Arbitrary, Clone, Copy, Debug)]
pub enum Errno {
    /// `ECONNREFUSED`.
    ConnRefused,
    /// `ECONNRESET`.
    ConnReset,
    /// `EPIPE`.
    Pipe,
    /// `ETIMEDOUT`.
    TimedOut,
    /// `EADDRINUSE`.
    AddrInUse,
    /// `EHOSTUNREACH`.
    HostUnreach,
}

impl Errno {
    /// The [`ErrorCode`].
    pub fn code(self) -> ErrorCode {
        match self {
            Errno::ConnRefused => ErrorCode::ECONNREFUSED,
            Errno::ConnReset => ErrorCode::ECONNRESET,
            Errno::Pipe => ErrorCode::EPIPE,
            Errno::TimedOut => ErrorCode::ETIMEDOUT,
            Errno::AddrInUse => ErrorCode::EADDRINUSE,
            Errno::HostUnreach => ErrorCode::EHOSTUNREACH,
        }
    }
}

/// What the fake resolver answers.
#[derive(Arbitrary, Clone, Debug)]
pub enum ResolveAnswer {
    /// One IPv4 address.
    One4,
    /// One IPv6 address.
    One6,
    /// Several addresses of both families (happy-eyeballs input).
    Many(u8),
    /// An empty list.
    Empty,
    /// `getaddrinfo ENOTFOUND`.
    NotFound,
    /// Whatever a custom resolver may return.
    Custom(String, u32),
}

/// Which kind of stale answer to feed.
#[derive(Arbitrary, Clone, Copy, Debug)]
pub enum StaleKind {
    /// `handle_connected` with an old or unknown attempt id.
    Connected,
    /// `handle_connect_failed` with an old or unknown attempt id.
    ConnectFailed,
    /// `handle_bind_failed` with an old or unknown attempt id.
    BindFailed,
    /// `handle_resolved` with an old or unknown id.
    Resolved,
    /// IO completions (`data`, `eof`, `written`, errors, `shutdown`) for a handle the
    /// kernel knows is not open, or a `shutdown` nobody asked for.
    Io,
}

/// One step: a user call, a kernel completion, time passing, or a stale answer.
#[derive(Arbitrary, Clone, Debug)]
pub enum SocketOp {
    /// `socket.connect(...)`.
    Connect(ConnectKind),
    /// `write` of `len % 48` bytes; without a callback (`write_dispatch`) when
    /// the top bit is set.
    Write(u8),
    /// `write` of a larger chunk (crosses the high-water mark).
    WriteBig(u16),
    /// `end()`.
    End,
    /// `end(data)`.
    EndWith(u8),
    /// `destroy()` / `destroy(err)`.
    Destroy(bool),
    /// `destroySoon()`.
    DestroySoon,
    /// `resetAndDestroy()`.
    ResetAndDestroy,
    /// `pause()`.
    Pause,
    /// `resume()`.
    Resume,
    /// `setTimeout(ms)` with an arbitrary double.
    SetTimeout(f64),
    /// `setTimeout(small ms)`.
    SetSmallTimeout(u8),
    /// `setEncoding(...)`.
    SetEncoding(u8),
    /// `setNoDelay(on)`.
    SetNoDelay(bool),
    /// `setKeepAlive(on, delay)`.
    SetKeepAlive(bool, f64),
    /// Kernel: the pending lookup answers.
    Resolve(ResolveAnswer),
    /// Kernel: an outstanding connect attempt succeeds.
    ConnectOk(u8),
    /// Kernel: an outstanding connect attempt fails.
    ConnectFail(u8, Errno),
    /// Kernel: an outstanding attempt's bind fails.
    BindFail(u8, Errno),
    /// Kernel: `len` bytes arrive.
    Data(u8),
    /// Kernel: the peer's FIN.
    Eof,
    /// Kernel: some of the queued bytes were written.
    Written(u16),
    /// Kernel: writing failed.
    WriteError(Errno),
    /// Kernel: reading failed.
    ReadError(Errno),
    /// Kernel: the requested FIN went out.
    ShutdownDone,
    /// Time passes by `ms`; due timers run.
    Advance(u16),
    /// Jump to the next deadline and run it.
    RunTimers,
    /// A stale or impossible answer that must change nothing.
    Stale(StaleKind, u8),
}

/// The run's configuration, decoded before the operations.
#[derive(Arbitrary, Clone, Debug)]
pub struct SocketConfig {
    /// `allowHalfOpen`.
    pub allow_half_open: bool,
    /// Start as an accepted server-side socket instead of a fresh client.
    pub accepted: bool,
    /// `pauseOnConnect` for an accepted socket.
    pub pause_on_connect: bool,
    /// High-water mark (small, so `false` writes happen).
    pub high_water_mark: u8,
    /// `max_buffered_bytes` cap, if any.
    pub max_buffered: Option<u16>,
}

/// The fake kernel's view of the socket's handle.
#[derive(Default, Debug)]
struct Kernel {
    pending_resolve: Option<AttemptId>,
    attempts: Vec<AttemptId>,
    old_ids: Vec<AttemptId>,
    open: bool,
    closed_cmd: bool,
    reading: bool,
    eof_sent: bool,
    write_requested: bool,
    shutdown_requested: bool,
    shutdowns: usize,
    /// Bytes the kernel took from the queue (this lifecycle).
    sent: Vec<u8>,
    /// Bytes the kernel delivered as reads (this lifecycle).
    supplied: Vec<u8>,
    next_byte: u8,
}

/// Event bookkeeping for one lifecycle.
#[derive(Default, Debug)]
struct Lifecycle {
    closed: bool,
    errors: usize,
    /// `resetAndDestroy()` refused while a FIN was in flight: Node emits its `reset`
    /// error directly, not through `destroy(err)`, so `Close` reports no error.
    refused_resets: usize,
    ended: bool,
    connected: bool,
    finished: bool,
    saw_false: bool,
    /// A write returned `false` with data queued on a live socket: `Drain` is owed once
    /// the queue empties (unless `end()` or a destroy intervened).
    drain_owed: bool,
    text_mode: bool,
    delivered: Vec<u8>,
    ok_bytes: Vec<u8>,
    /// Index into `Run::issued` of this lifecycle's first write not yet in `ok_bytes`.
    ok_upto: usize,
}

struct Run {
    s: Socket,
    now: Instant,
    k: Kernel,
    life: Lifecycle,
    limit: Option<usize>,
    issued: Vec<(WriteId, Bytes)>,
    done: HashSet<WriteId>,
    trace: Vec<String>,
}

fn pick<T: Copy>(list: &[T], i: u8) -> Option<T> {
    if list.is_empty() {
        None
    } else {
        list.get(usize::from(i) % list.len()).copied()
    }
}

impl Run {
    fn fail(&self, what: &str) -> ! {
        panic!("{what}\ntrace:\n{}", self.trace.join("\n"))
    }

    fn check(&self, ok: bool, what: &str) {
        if !ok {
            self.fail(what);
        }
    }

    /// Drain commands (the kernel acts on them) and events (the checker sees them) until
    /// both stay empty: a tick run by `poll_event` may close the handle, and `Close`
    /// waits for that command to be taken.
    fn drain(&mut self) {
        loop {
            let mut progressed = false;
            while let Some(cmd) = self.s.poll_command() {
                progressed = true;
                self.trace.push(format!("  cmd {cmd:?}"));
                self.command(cmd);
            }
            while let Some(ev) = self.s.poll_event() {
                progressed = true;
                self.trace.push(format!("  ev  {ev:?}"));
                self.event(&ev);
            }
            if !progressed {
                break;
            }
        }
        self.check_state();
    }

    fn command(&mut self, cmd: Command) {
        let k = &mut self.k;
        match cmd {
            Command::Resolve { id, .. } => {
                k.closed_cmd = false;
                if let Some(old) = k.pending_resolve.replace(id) {
                    k.old_ids.push(old);
                }
            }
            Command::Connect { attempt, .. } => {
                k.closed_cmd = false;
                let fresh = !k.attempts.contains(&attempt) && !k.old_ids.contains(&attempt);
                self.check(fresh, "Connect reuses an attempt id");
                self.k.attempts.push(attempt);
            }
            Command::Abort { attempt } => {
                let known = k.attempts.contains(&attempt);
                k.attempts.retain(|a| *a != attempt);
                k.old_ids.push(attempt);
                self.check(known, "Abort of an attempt that is not outstanding");
            }
            Command::StartReading => {
                self.check(
                    self.k.open && !self.k.closed_cmd,
                    "StartReading without handle",
                );
                self.k.reading = true;
            }
            Command::StopReading => self.k.reading = false,
            Command::Write => {
                self.check(
                    self.k.open && !self.k.closed_cmd,
                    "Write without open handle",
                );
                self.k.write_requested = true;
            }
            Command::Shutdown => {
                let empty = self.s.write_chunks().next().is_none();
                self.check(self.k.open && !self.k.closed_cmd, "Shutdown without handle");
                self.check(empty, "Shutdown with data still queued");
                self.k.shutdowns += 1;
                self.check(self.k.shutdowns == 1, "two Shutdowns on one handle");
                self.k.shutdown_requested = true;
            }
            Command::Close { .. } => {
                self.check(!self.k.closed_cmd, "Close command twice");
                let k = &mut self.k;
                k.closed_cmd = true;
                k.open = false;
                k.reading = false;
                k.write_requested = false;
                k.shutdown_requested = false;
                let attempts = std::mem::take(&mut k.attempts);
                k.old_ids.extend(attempts);
                if let Some(r) = k.pending_resolve.take() {
                    k.old_ids.push(r);
                }
            }
            Command::SetNoDelay(_) | Command::SetKeepAlive { .. } => {
                self.check(
                    self.k.open && !self.k.closed_cmd,
                    "socket option without handle",
                );
            }
        }
    }

    fn event(&mut self, ev: &SocketEvent) {
        let l = &self.life;
        if l.closed && !matches!(ev, SocketEvent::WriteDone { result: Err(_), .. }) {
            self.fail(&format!("{ev:?} after Close"));
        }
        match ev {
            SocketEvent::Close { had_error } => {
                let consistent = match had_error {
                    Some(true) => l.errors == 1 && l.refused_resets == 0,
                    Some(false) => l.errors == l.refused_resets,
                    None => true,
                };
                self.check(consistent, "Close.had_error disagrees with Error events");
                self.check(self.s.destroyed(), "Close while not destroyed");
                self.check(
                    self.s.ready_state() == ReadyState::Closed,
                    "readyState after Close",
                );
                self.life.closed = true;
            }
            SocketEvent::Error(e) => {
                self.check(l.errors == 0, "a second Error");
                self.check(is_node_code(e.code()), "Error with a non-Node code");
                self.life.errors += 1;
                if e.syscall() == Some("reset") {
                    self.life.refused_resets += 1;
                }
            }
            SocketEvent::Connect => {
                self.check(!l.connected, "Connect twice in one lifecycle");
                self.life.connected = true;
            }
            SocketEvent::Ready => self.check(l.connected, "Ready before Connect"),
            SocketEvent::Lookup { .. }
            | SocketEvent::ConnectionAttempt { .. }
            | SocketEvent::ConnectionAttemptFailed { .. }
            | SocketEvent::ConnectionAttemptTimeout { .. } => {
                // Only a second connect() on the connected socket (refused with
                // EISCONN, after its `ConnectionAttempt`, as Node's kernel does).
                self.check(
                    !l.connected || self.s.connecting(),
                    "connect-phase event after Connect",
                )
            }
            SocketEvent::Data(d) => {
                self.check(l.connected, "Data before Connect");
                self.check(!l.ended, "Data after End");
                self.life.delivered.extend_from_slice(d);
            }
            SocketEvent::Text(_) => {
                self.check(l.connected, "Text before Connect");
                self.check(!l.ended, "Text after End");
                self.life.text_mode = true;
            }
            SocketEvent::End => {
                self.check(!l.ended, "End twice");
                self.check(self.k.eof_sent, "End without the peer's EOF");
                self.life.ended = true;
            }
            SocketEvent::Drain => {
                self.check(l.saw_false, "Drain without a write that returned false");
                self.life.saw_false = false;
                self.life.drain_owed = false;
            }
            SocketEvent::Finish => {
                self.check(!l.finished, "Finish twice");
                self.check(self.s.writable_ended(), "Finish without end()");
                self.life.finished = true;
            }
            SocketEvent::Timeout => {
                self.check(self.s.timeout().is_some(), "Timeout without setTimeout");
            }
            SocketEvent::WriteDone { id, result } => {
                self.check(
                    *id != WriteId::NO_CALLBACK,
                    "WriteDone for a write without a callback",
                );
                let fresh = self.done.insert(*id);
                self.check(fresh, "two WriteDone for one write");
                let Some(k) = self.issued.iter().position(|(i, _)| i == id) else {
                    self.fail("WriteDone for an unknown write");
                };
                if let Err(e) = result {
                    self.check(is_node_code(e.code()), "write error with a non-Node code");
                } else {
                    // Writes complete in order: the callback-less writes queued before
                    // this one went out before it.
                    for (i, data) in &self.issued[self.life.ok_upto.min(k)..k] {
                        if *i == WriteId::NO_CALLBACK {
                            self.life.ok_bytes.extend_from_slice(data);
                        }
                    }
                    self.life.ok_bytes.extend_from_slice(&self.issued[k].1);
                    self.life.ok_upto = self.life.ok_upto.max(k + 1);
                }
            }
        }
    }

    /// Invariants on the socket's state after a drain.
    fn check_state(&self) {
        self.check(
            self.k.sent.starts_with(&self.life.ok_bytes),
            "completed writes are not what the kernel sent, in order",
        );
        if !self.life.text_mode {
            self.check(
                self.k.supplied.starts_with(&self.life.delivered),
                "Data is not the kernel's bytes in order",
            );
        }
        if let Some(limit) = self.limit {
            self.check(
                self.s.writable_length() <= limit,
                "writable_length above max_buffered_bytes",
            );
        }
        if self.life.drain_owed
            && self.s.writable_length() == 0
            && !self.s.destroyed()
            && !self.s.writable_ended()
        {
            self.fail("a write returned false, the queue emptied, and no Drain came");
        }
        let queued: usize = self.s.write_chunks().map(<[u8]>::len).sum();
        if self.k.open && queued > 0 {
            self.check(
                self.k.write_requested,
                "data queued but no Write outstanding",
            );
        }
        // (`connect()` on an open socket sets `connecting` until its EISCONN tick, as
        // Node does; the queue is hidden from the kernel meanwhile.)
        if self.k.open && !self.s.connecting() {
            self.check(
                queued == self.s.writable_length(),
                "write_chunks != writable_length",
            );
        }
    }

    fn new_lifecycle(&mut self) {
        self.life = Lifecycle {
            ok_upto: self.issued.len(),
            ..Lifecycle::default()
        };
        self.k.sent.clear();
        self.k.supplied.clear();
        self.k.eof_sent = false;
        self.k.shutdowns = 0;
    }

    fn write(&mut self, len: usize, end: bool, callback: bool) {
        let start = self.issued.len() as u8;
        let data: Bytes = (0..len).map(|i| start.wrapping_add(i as u8)).collect();
        let queued_before = self.s.writable_length();
        let r = if end {
            self.s.end_tracked_with(data.clone(), self.now)
        } else if callback {
            self.s.write_tracked(data.clone(), self.now)
        } else {
            // "Would block": the bytes take the same `Write` command path as `write`.
            let ok = self.s.write_dispatch(data.clone(), |_| Ok(0), self.now);
            WriteResult {
                id: WriteId::NO_CALLBACK,
                ok,
            }
        };
        if r.id == WriteId::NO_CALLBACK {
            // Only a write that was queued can reach the kernel (a refused or failed one
            // has no `WriteDone` to say so).
            let queued = self.s.writable_length() == queued_before + len;
            self.issued
                .push((r.id, if queued { data } else { Bytes::new() }));
        } else {
            self.check(
                !self.issued.iter().any(|(i, _)| *i == r.id),
                "write id reused",
            );
            self.issued.push((r.id, data));
        }
        if !r.ok {
            self.life.saw_false = true;
            if self.s.writable_length() > 0 && self.s.writable() {
                self.life.drain_owed = true;
            }
        }
    }

    fn run_due_timers(&mut self) {
        if let Some(t) = self.s.poll_timeout() {
            if t <= self.now {
                self.s.handle_timeout(self.now);
                if let Some(next) = self.s.poll_timeout() {
                    self.check(next > self.now, "timer still due after handle_timeout");
                }
            }
        }
    }

    fn apply(&mut self, op: SocketOp) {
        self.trace.push(format!("{op:?}"));
        let now = self.now;
        // Kernel completions carry what nodenet's drivers pass on the data path: the
        // core's own last time when it says no timer depends on the current one.
        let io_now = self.s.reusable_time().unwrap_or(now);
        match op {
            SocketOp::Connect(kind) => {
                if self.s.destroyed() {
                    // Node creates a fresh handle inside connect(), even when validation
                    // then throws; a later destroy closes it.
                    self.new_lifecycle();
                    self.k.closed_cmd = false;
                }
                if let Err(e) = self.s.connect(connect_options(kind), now) {
                    self.check(is_node_code(e.code()), "connect threw a non-Node code");
                }
            }
            SocketOp::Write(len) => self.write(usize::from(len % 48), false, len < 0x80),
            SocketOp::WriteBig(len) => self.write(usize::from(len % 4096), false, true),
            SocketOp::End => {
                let _ = self.s.end(now);
            }
            SocketOp::EndWith(len) => self.write(usize::from(len % 16), true, true),
            SocketOp::Destroy(with_error) => self.s.destroy(with_error.then(Error::abort)),
            SocketOp::DestroySoon => self.s.destroy_soon(now),
            SocketOp::ResetAndDestroy => {
                if let Err(e) = self.s.reset_and_destroy() {
                    self.check(
                        e.code() == ErrorCode::ERR_INVALID_HANDLE_TYPE,
                        "resetAndDestroy threw an unexpected code",
                    );
                }
            }
            SocketOp::Pause => self.s.pause(),
            SocketOp::Resume => self.s.resume(now),
            SocketOp::SetTimeout(ms) => {
                if let Err(e) = self.s.set_timeout(NumberArg(ms), now) {
                    self.check(
                        e.code() == ErrorCode::ERR_OUT_OF_RANGE,
                        "setTimeout threw an unexpected code",
                    );
                }
            }
            SocketOp::SetSmallTimeout(ms) => {
                let _ = self.s.set_timeout(u32::from(ms % 64), now);
            }
            SocketOp::SetEncoding(e) => {
                let names = ["utf8", "hex", "base64", "latin1", "nope"];
                let name = names[usize::from(e) % names.len()];
                let _ = self.s.set_encoding(name);
            }
            SocketOp::SetNoDelay(on) => self.s.set_no_delay(on),
            SocketOp::SetKeepAlive(on, delay) => self.s.set_keep_alive(on, NumberArg(delay)),
            SocketOp::Resolve(answer) => {
                if let Some(id) = self.k.pending_resolve.take() {
                    self.k.old_ids.push(id);
                    self.s.handle_resolved(id, resolve_answer(answer), now);
                }
            }
            SocketOp::ConnectOk(i) => {
                if let Some(id) = pick(&self.k.attempts, i) {
                    self.k.attempts.retain(|a| *a != id);
                    self.k.old_ids.push(id);
                    // Whatever was outstanding on other attempts is the planner's business;
                    // this handle is now the socket's.
                    // The kernel's handle is open from here until the socket's `Close`
                    // command (which may come at once, e.g. after `resetAndDestroy`).
                    self.k.open = true;
                    self.k.closed_cmd = false;
                    self.k.shutdowns = 0;
                    self.s
                        .handle_connected(id, "127.0.0.1:40000".parse().ok(), now);
                }
            }
            SocketOp::ConnectFail(i, errno) => {
                if let Some(id) = pick(&self.k.attempts, i) {
                    self.k.attempts.retain(|a| *a != id);
                    self.k.old_ids.push(id);
                    self.s.handle_connect_failed(id, errno.code(), now);
                }
            }
            SocketOp::BindFail(i, errno) => {
                if let Some(id) = pick(&self.k.attempts, i) {
                    self.k.attempts.retain(|a| *a != id);
                    self.k.old_ids.push(id);
                    self.s.handle_bind_failed(id, errno.code(), now);
                }
            }
            SocketOp::Data(len) => {
                if self.k.open && !self.k.eof_sent {
                    let data: Bytes = (0..=len)
                        .map(|_| {
                            self.k.next_byte = self.k.next_byte.wrapping_add(1);
                            self.k.next_byte
                        })
                        .collect();
                    self.k.supplied.extend_from_slice(&data);
                    self.s.handle_data(data, io_now);
                }
            }
            SocketOp::Eof => {
                if self.k.open && !self.k.eof_sent {
                    self.k.eof_sent = true;
                    self.s.handle_eof(io_now);
                }
            }
            SocketOp::Written(n) => {
                if self.k.open && self.k.write_requested {
                    let avail: usize = self.s.write_chunks().map(<[u8]>::len).sum();
                    let n = usize::from(n) % (avail + 1);
                    let mut left = n;
                    let mut taken = Vec::with_capacity(n);
                    for c in self.s.write_chunks() {
                        let t = left.min(c.len());
                        taken.extend_from_slice(&c[..t]);
                        left -= t;
                    }
                    self.k.sent.extend_from_slice(&taken);
                    self.s.handle_written(n, io_now);
                    if self.s.write_chunks().next().is_none() {
                        self.k.write_requested = false;
                    }
                }
            }
            SocketOp::WriteError(errno) => {
                if self.k.open && self.k.write_requested {
                    self.s.handle_write_error(errno.code(), io_now);
                }
            }
            SocketOp::ReadError(errno) => {
                if self.k.open && !self.k.eof_sent {
                    self.s.handle_read_error(errno.code(), io_now);
                }
            }
            SocketOp::ShutdownDone => {
                if self.k.shutdown_requested {
                    self.k.shutdown_requested = false;
                    self.s.handle_shutdown(Ok(()), io_now);
                }
            }
            SocketOp::Advance(ms) => {
                self.now += Duration::from_millis(u64::from(ms));
                self.run_due_timers();
            }
            SocketOp::RunTimers => {
                if let Some(t) = self.s.poll_timeout() {
                    self.check(
                        t + Duration::from_secs(3600) > self.now,
                        "deadline far in the past",
                    );
                    self.now = self.now.max(t);
                }
                self.run_due_timers();
            }
            SocketOp::Stale(kind, i) => self.stale(kind, i),
        }
    }

    /// Feed an answer the socket must ignore, after running anything already due so the
    /// answer's own effect is isolated: it must produce no command and no event.
    fn stale(&mut self, kind: StaleKind, i: u8) {
        self.run_due_timers();
        self.drain();
        let now = self.now;
        let old = pick(&self.k.old_ids, i).unwrap_or(AttemptId(1_000_000 + u64::from(i)));
        // An id is only stale if the kernel does not consider it outstanding.
        if self.k.attempts.contains(&old) || self.k.pending_resolve == Some(old) {
            return;
        }
        match kind {
            StaleKind::Connected => self.s.handle_connected(old, None, now),
            StaleKind::ConnectFailed => {
                self.s
                    .handle_connect_failed(old, ErrorCode::ECONNREFUSED, now)
            }
            StaleKind::BindFailed => self.s.handle_bind_failed(old, ErrorCode::EADDRINUSE, now),
            StaleKind::Resolved => {
                self.s
                    .handle_resolved(old, Ok(vec![LookupAddress::new("127.0.0.1", 4)]), now)
            }
            StaleKind::Io => {
                if self.k.open {
                    if self.k.shutdown_requested || self.k.shutdowns == 0 {
                        return;
                    }
                    // The FIN was already acknowledged: a repeated answer.
                    self.s.handle_shutdown(Ok(()), now);
                } else {
                    match i % 6 {
                        0 => self.s.handle_data(Bytes::from_static(b"late"), now),
                        1 => self.s.handle_eof(now),
                        2 => self.s.handle_written(usize::from(i), now),
                        3 => self.s.handle_write_error(ErrorCode::EPIPE, now),
                        4 => self.s.handle_read_error(ErrorCode::ECONNRESET, now),
                        _ => self.s.handle_shutdown(Ok(()), now),
                    }
                }
            }
        }
        if let Some(cmd) = self.s.poll_command() {
            self.fail(&format!("stale {kind:?} produced {cmd:?}"));
        }
        if let Some(ev) = self.s.poll_event() {
            self.fail(&format!("stale {kind:?} produced {ev:?}"));
        }
    }

    /// Run out the clock, destroy, and check the lifecycle closed and every write was
    /// answered.
    fn finish(&mut self) {
        self.trace.push("finish".into());
        self.s.handle_timeout(self.now);
        self.drain();
        self.s.destroy(None);
        self.drain();
        self.check(self.life.closed, "no Close after destroy");
        for (id, _) in &self.issued {
            let answered = *id == WriteId::NO_CALLBACK || self.done.contains(id);
            self.check(answered, "a write with a callback was never answered");
        }
        self.check(
            self.s.poll_timeout().is_none(),
            "a deadline survives destroy",
        );
    }
}

/// The Node error codes nodenet may report (every [`ErrorCode`] variant except the
/// catch-all `Unknown`).
fn is_node_code(code: ErrorCode) -> bool {
    !matches!(code, ErrorCode::Unknown(_))
}

fn connect_options(kind: ConnectKind) -> ConnectOptions {
    match kind {
        ConnectKind::Ipv4Literal => ConnectOptions::tcp(80, "127.0.0.1"),
        ConnectKind::Ipv6Literal => ConnectOptions::tcp(443, "::1"),
        ConnectKind::Host => ConnectOptions::tcp(8080, "example.test"),
        ConnectKind::HostWithLocal(port) => {
            let mut o = ConnectOptions::tcp(8080, "example.test");
            o.local_address = Some("127.0.0.1".into());
            o.local_port = Some(port);
            o
        }
        ConnectKind::Pipe => ConnectOptions::path("/tmp/nodenet-fuzz.sock"),
        ConnectKind::AnyPort(p) => ConnectOptions::tcp(p, "127.0.0.1"),
        ConnectKind::AnyText(port, host) => ConnectOptions::tcp(port, host),
        ConnectKind::WithTimeout(t) => {
            let mut o = ConnectOptions::tcp(80, "127.0.0.1");
            o.timeout = Some(NumberArg(t));
            o
        }
    }
}

fn resolve_answer(answer: ResolveAnswer) -> Result<Vec<LookupAddress>, Error> {
    match answer {
        ResolveAnswer::One4 => Ok(vec![LookupAddress::new("127.0.0.1", 4)]),
        ResolveAnswer::One6 => Ok(vec![LookupAddress::new("::1", 6)]),
        ResolveAnswer::Many(n) => Ok((0..=n % 6)
            .map(|i| {
                if i % 2 == 0 {
                    LookupAddress::new(format!("127.0.0.{}", i + 1), 4)
                } else {
                    LookupAddress::new(format!("::{}", i + 1), 6)
                }
            })
            .collect()),
        ResolveAnswer::Empty => Ok(Vec::new()),
        ResolveAnswer::NotFound => Err(Error::getaddrinfo(ErrorCode::ENOTFOUND, "example.test")),
        ResolveAnswer::Custom(address, family) => Ok(vec![LookupAddress::new(address, family)]),
    }
}

/// Decode a configuration and up to 200 operations from fuzzer bytes and run them.
pub fn check_socket_ops(data: &[u8]) {
    let Some((config, ops)) = super::config_and_ops::<SocketConfig, SocketOp>(data) else {
        return;
    };
    run_socket_ops(&config, &ops);
}

/// Run `ops` on one [`Socket`] with the fake kernel, panicking (with the trace) on the
/// first broken invariant.
pub fn run_socket_ops(config: &SocketConfig, ops: &[SocketOp]) {
    let now = Instant::now();
    let options = SocketOptions {
        allow_half_open: config.allow_half_open,
        pause_on_connect: config.pause_on_connect,
        high_water_mark: usize::from(config.high_water_mark),
        max_buffered_bytes: config.max_buffered.map(usize::from),
        ..SocketOptions::default()
    };
    let mut k = Kernel::default();
    let mut life = Lifecycle::default();
    let s = if config.accepted {
        k.open = true;
        life.connected = true;
        Socket::accepted(
            &options,
            Endpoint::Tcp(([127, 0, 0, 1], 8000).into()),
            Endpoint::Tcp(([127, 0, 0, 1], 50000).into()),
            now,
        )
    } else {
        Socket::new(options)
    };
    let mut run = Run {
        s,
        now,
        k,
        life,
        limit: config.max_buffered.map(usize::from),
        issued: Vec::new(),
        done: HashSet::new(),
        trace: vec![format!("{config:?}")],
    };
    run.drain();
    for op in ops {
        run.apply(op.clone());
        run.drain();
    }
    run.finish();
}
