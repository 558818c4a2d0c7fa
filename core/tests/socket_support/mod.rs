//! Shared harness for the socket transcript tests: a socket, a virtual clock, and
//! helpers that drain commands/events so each test reads as "input, then exact outputs".
#![allow(dead_code)]

use std::time::{Duration, Instant};

use bytes::Bytes;
use nodenet_core::socket::{Command, ConnectOptions, Socket, SocketEvent};
use nodenet_core::{AttemptId, Endpoint, LookupAddress, SocketOptions};

pub struct H {
    pub s: Socket,
    pub t0: Instant,
    pub now: Instant,
    /// Commands `evs` took to let a held-back `Close` out, still owed to `cmds`.
    taken: Vec<Command>,
}

pub fn b(s: &str) -> Bytes {
    Bytes::copy_from_slice(s.as_bytes())
}

impl H {
    pub fn new(opts: SocketOptions) -> H {
        let t0 = Instant::now();
        H {
            s: Socket::new(opts),
            t0,
            now: t0,
            taken: Vec::new(),
        }
    }
    pub fn client() -> H {
        H::new(SocketOptions::default())
    }
    pub fn accepted(opts: SocketOptions) -> H {
        let t0 = Instant::now();
        let s = Socket::accepted(
            &opts,
            Endpoint::Tcp("127.0.0.1:8000".parse().unwrap()),
            Endpoint::Tcp("127.0.0.1:40000".parse().unwrap()),
            t0,
        );
        H {
            s,
            t0,
            now: t0,
            taken: Vec::new(),
        }
    }
    /// The commands the socket asked for since the last call, in order.
    pub fn cmds(&mut self) -> Vec<Command> {
        let mut out = std::mem::take(&mut self.taken);
        out.extend(std::iter::from_fn(|| self.s.poll_command()));
        out
    }
    /// Every event, as a driver delivers them: when `poll_event` stops while commands are
    /// waiting (a `Close` waits for its `Command::Close`), the commands are taken (and kept
    /// for the next `cmds`) and polling goes on.
    pub fn evs(&mut self) -> Vec<SocketEvent> {
        let mut out = Vec::new();
        loop {
            out.extend(std::iter::from_fn(|| self.s.poll_event()));
            if !self.s.has_commands() {
                return out;
            }
            self.taken
                .extend(std::iter::from_fn(|| self.s.poll_command()));
        }
    }
    /// The next `n` events, one `poll_event` each: what a user sees up to and including
    /// the `n`th event's handler (Node's ticks after it have not run yet).
    pub fn next_names(&mut self, n: usize) -> Vec<&'static str> {
        (0..n)
            .map(|_| name(&self.s.poll_event().expect("an event")))
            .collect()
    }
    pub fn names(&mut self) -> Vec<&'static str> {
        self.evs().iter().map(name).collect()
    }
    /// Advance the virtual clock by `ms`.
    pub fn advance(&mut self, ms: u64) {
        self.now += Duration::from_millis(ms);
    }
    pub fn ms(&self) -> u128 {
        (self.now - self.t0).as_millis()
    }
    /// Run due timers/ticks at the current time (what a driver does after draining).
    pub fn tick(&mut self) {
        if let Some(t) = self.s.poll_timeout() {
            if t <= self.now {
                self.s.handle_timeout(self.now);
            }
        }
    }
    /// Jump to the next deadline and run it; returns false if none.
    pub fn run_timer(&mut self) -> bool {
        match self.s.poll_timeout() {
            Some(t) => {
                if t > self.now {
                    self.now = t;
                }
                self.s.handle_timeout(self.now);
                true
            }
            None => false,
        }
    }
    /// connect to an IP literal and return the attempt from the `Connect` command.
    pub fn connect_to(&mut self, opts: ConnectOptions) -> AttemptId {
        self.s.connect(opts, self.now).unwrap();
        self.tick();
        self.attempt()
    }
    /// The attempt id of the first `Connect` command waiting.
    pub fn attempt(&mut self) -> AttemptId {
        self.cmds()
            .into_iter()
            .find_map(|c| match c {
                Command::Connect { attempt, .. } => Some(attempt),
                _ => None,
            })
            .expect("a Connect command")
    }
    /// A client connected to 127.0.0.1:80, outputs drained.
    pub fn connected_with(opts: SocketOptions) -> H {
        let mut h = H::new(opts);
        let a = h.connect_to(ConnectOptions::tcp(80, "127.0.0.1"));
        h.s.handle_connected(a, "127.0.0.1:50000".parse().ok(), h.now);
        h.cmds();
        h.evs();
        h
    }
    pub fn connected() -> H {
        H::connected_with(SocketOptions::default())
    }
    /// Start a hostname connect and return the Resolve id.
    pub fn resolve_id(&mut self) -> AttemptId {
        self.cmds()
            .into_iter()
            .find_map(|c| match c {
                Command::Resolve { id, .. } => Some(id),
                _ => None,
            })
            .expect("a Resolve command")
    }
    pub fn write(&mut self, s: &str) -> nodenet_core::WriteResult {
        self.s.write_tracked(b(s), self.now)
    }
    /// The backend writes everything queued.
    pub fn flush_all(&mut self) {
        let n: usize = self.s.write_chunks().map(|c| c.len()).sum();
        self.s.handle_written(n, self.now);
    }
    pub fn resolved(&mut self, id: AttemptId, list: &[(&str, u32)]) {
        let v = list
            .iter()
            .map(|(a, f)| LookupAddress::new(*a, *f))
            .collect();
        self.s.handle_resolved(id, Ok(v), self.now);
    }
}

pub fn name(e: &SocketEvent) -> &'static str {
    match e {
        SocketEvent::Lookup { .. } => "lookup",
        SocketEvent::ConnectionAttempt { .. } => "connectionAttempt",
        SocketEvent::ConnectionAttemptFailed { .. } => "connectionAttemptFailed",
        SocketEvent::ConnectionAttemptTimeout { .. } => "connectionAttemptTimeout",
        SocketEvent::Connect => "connect",
        SocketEvent::Ready => "ready",
        SocketEvent::Data(_) => "data",
        SocketEvent::Text(_) => "text",
        SocketEvent::End => "end",
        SocketEvent::Drain => "drain",
        SocketEvent::Timeout => "timeout",
        SocketEvent::Finish => "finish",
        SocketEvent::Error(_) => "error",
        SocketEvent::Close { had_error: None } => "close()",
        SocketEvent::Close {
            had_error: Some(false),
        } => "close(false)",
        SocketEvent::Close {
            had_error: Some(true),
        } => "close(true)",
        SocketEvent::WriteDone { result: Ok(()), .. } => "writeOk",
        SocketEvent::WriteDone { result: Err(_), .. } => "writeErr",
    }
}

/// The error carried by the first `Error` event.
pub fn error_of(evs: &[SocketEvent]) -> nodenet_core::Error {
    evs.iter()
        .find_map(|e| match e {
            SocketEvent::Error(e) => Some(e.clone()),
            _ => None,
        })
        .expect("an Error event")
}

/// Errors of the `WriteDone` events, in order (None = Ok).
pub fn write_results(evs: &[SocketEvent]) -> Vec<Option<String>> {
    evs.iter()
        .filter_map(|e| match e {
            SocketEvent::WriteDone { result, .. } => {
                Some(result.as_ref().err().map(|e| e.code().as_str().to_string()))
            }
            _ => None,
        })
        .collect()
}
