//! Random command/completion sequences against the invariants of `docs/design.md`: `Close` exactly
//! once and last (only write answers may follow), at most one `Error` and before
//! `Close`, no `Data` after `End`, `Connect` before `Data`, `Drain` only after a write
//! returned false, one `WriteDone` per write, bytes written in order, stale completions
//! ignored, and no panic. Multi-address lookups run the happy-eyeballs planner: in
//! NodeCompat mode at most one attempt is live, answers for retired attempts change
//! nothing, and no `Connect` command follows `Close`.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use bytes::Bytes;
use nodenet_core::happy_eyeballs::Mode;
use nodenet_core::socket::{Command, ConnectOptions, Socket, SocketEvent, WriteId};
use nodenet_core::{AttemptId, Error, ErrorCode, LookupAddress, SocketOptions};
use proptest::prelude::*;

#[derive(Clone, Debug)]
enum Op {
    Write(u8),
    /// `write_with`: the length, and how much the synchronous dispatch takes (or EPIPE).
    WriteWith(u8, u8),
    End,
    EndWith(u8),
    Destroy(bool),
    DestroySoon,
    Reset,
    Pause,
    Resume,
    SetTimeout(u8),
    SetEncoding,
    NoDelay(bool),
    KeepAlive(bool, u16),
    Advance(u8),
    Resolve(bool),
    ResolveMany(u16),
    Connected(u8),
    ConnectFailed(u8),
    BindFailed(u8),
    Retired(u8),
    Data(u8),
    Eof,
    Written(u16),
    WriteError,
    ReadError,
    Shutdown,
    Stale(u8),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => any::<u8>().prop_map(Op::Write),
        2 => (any::<u8>(), any::<u8>()).prop_map(|(a, b)| Op::WriteWith(a, b)),
        1 => Just(Op::End),
        1 => any::<u8>().prop_map(Op::EndWith),
        1 => any::<bool>().prop_map(Op::Destroy),
        1 => Just(Op::DestroySoon),
        1 => Just(Op::Reset),
        1 => Just(Op::Pause),
        1 => Just(Op::Resume),
        1 => any::<u8>().prop_map(Op::SetTimeout),
        1 => Just(Op::SetEncoding),
        1 => any::<bool>().prop_map(Op::NoDelay),
        1 => (any::<bool>(), any::<u16>()).prop_map(|(a, b)| Op::KeepAlive(a, b)),
        2 => any::<u8>().prop_map(Op::Advance),
        2 => any::<bool>().prop_map(Op::Resolve),
        2 => any::<u16>().prop_map(Op::ResolveMany),
        3 => any::<u8>().prop_map(Op::Connected),
        2 => any::<u8>().prop_map(Op::ConnectFailed),
        1 => any::<u8>().prop_map(Op::BindFailed),
        2 => any::<u8>().prop_map(Op::Retired),
        3 => any::<u8>().prop_map(Op::Data),
        1 => Just(Op::Eof),
        3 => any::<u16>().prop_map(Op::Written),
        1 => Just(Op::WriteError),
        1 => Just(Op::ReadError),
        2 => Just(Op::Shutdown),
        2 => any::<u8>().prop_map(Op::Stale),
    ]
}

#[derive(Default)]
struct Checker {
    closed: bool,
    errors: usize,
    ended: bool,
    connected: bool,
    saw_false: bool,
    done: HashSet<WriteId>,
    issued: Vec<(WriteId, Bytes)>,
    ok_bytes: Vec<u8>,
}

impl Checker {
    fn event(&mut self, e: &SocketEvent) {
        if self.closed {
            assert!(
                matches!(e, SocketEvent::WriteDone { result: Err(_), .. }),
                "event after Close: {e:?}"
            );
        }
        match e {
            SocketEvent::Close { .. } => self.closed = true,
            SocketEvent::Error(_) => {
                self.errors += 1;
                assert_eq!(self.errors, 1, "more than one Error");
            }
            SocketEvent::End => self.ended = true,
            SocketEvent::Connect => self.connected = true,
            SocketEvent::Data(_) | SocketEvent::Text(_) => {
                assert!(!self.ended, "Data after End");
                assert!(self.connected, "Data before Connect");
            }
            SocketEvent::Drain => {
                assert!(self.saw_false, "Drain without a false write");
                self.saw_false = false;
            }
            SocketEvent::WriteDone { id, result } => {
                assert!(self.done.insert(*id), "two WriteDone for {id:?}");
                if result.is_ok() {
                    let data = &self
                        .issued
                        .iter()
                        .find(|(i, _)| i == id)
                        .expect("known id")
                        .1;
                    self.ok_bytes.extend_from_slice(data);
                }
            }
            _ => {}
        }
    }
}

struct Run {
    s: Socket,
    now: Instant,
    resolve: Option<AttemptId>,
    /// Attempts with a `Connect` out and no answer, abort or close yet.
    live: Vec<AttemptId>,
    /// Attempts that were answered, aborted or closed: any answer for them is stale.
    retired: Vec<AttemptId>,
    /// NodeCompat: never more than one live attempt.
    sequential: bool,
    sent: Vec<u8>,
    c: Checker,
}

impl Run {
    fn new(s: Socket, now: Instant, sequential: bool, c: Checker) -> Run {
        Run {
            s,
            now,
            resolve: None,
            live: Vec::new(),
            retired: Vec::new(),
            sequential,
            sent: Vec::new(),
            c,
        }
    }

    fn retire(&mut self, id: AttemptId) {
        self.live.retain(|a| *a != id);
        self.retired.push(id);
    }

    /// Take the `k`-th live attempt (it is being answered).
    fn take_live(&mut self, k: u8) -> Option<AttemptId> {
        if self.live.is_empty() {
            return None;
        }
        let id = self.live[k as usize % self.live.len()];
        self.retire(id);
        Some(id)
    }

    fn drain(&mut self) {
        while let Some(cmd) = self.s.poll_command() {
            match cmd {
                Command::Resolve { id, .. } => self.resolve = Some(id),
                Command::Connect { attempt, .. } => {
                    assert!(!self.c.closed, "Connect after Close");
                    assert!(
                        !self.live.contains(&attempt) && !self.retired.contains(&attempt),
                        "attempt id {attempt:?} reused"
                    );
                    if self.sequential {
                        assert!(
                            self.live.is_empty(),
                            "two live attempts in NodeCompat: {:?} and {attempt:?}",
                            self.live
                        );
                    }
                    self.live.push(attempt);
                }
                Command::Abort { attempt } => {
                    assert!(self.live.contains(&attempt), "Abort of a dead attempt");
                    self.retire(attempt);
                }
                Command::Close { .. } => {
                    for id in std::mem::take(&mut self.live) {
                        self.retired.push(id);
                    }
                }
                _ => {}
            }
        }
        while let Some(e) = self.s.poll_event() {
            self.c.event(&e);
        }
    }

    fn apply(&mut self, op: Op, n: u64) {
        let now = self.now;
        match op {
            Op::Write(len) => {
                let data = Bytes::from(vec![(n % 251) as u8; len as usize % 40]);
                let r = self.s.write_tracked(data.clone(), now);
                self.c.issued.push((r.id, data));
                if !r.ok {
                    self.c.saw_false = true;
                }
            }
            Op::WriteWith(len, take) => {
                let data = Bytes::from(vec![(n % 251) as u8; len as usize % 40]);
                let sent = &mut self.sent;
                let r = self.s.write_tracked_dispatch(
                    data.clone(),
                    |chunk| {
                        if take == 255 {
                            return Err(ErrorCode::EPIPE);
                        }
                        let t = (take as usize) % (chunk.len() + 1);
                        sent.extend_from_slice(&chunk[..t]);
                        Ok(t)
                    },
                    now,
                );
                self.c.issued.push((r.id, data));
                if !r.ok {
                    self.c.saw_false = true;
                }
            }
            Op::End => {
                let _ = self.s.end(now);
            }
            Op::EndWith(len) => {
                let data = Bytes::from(vec![7; len as usize % 10]);
                let r = self.s.end_tracked_with(data.clone(), now);
                self.c.issued.push((r.id, data));
                if !r.ok {
                    self.c.saw_false = true;
                }
            }
            Op::Destroy(e) => self.s.destroy(e.then(Error::abort)),
            Op::DestroySoon => self.s.destroy_soon(now),
            Op::Reset => {
                let _ = self.s.reset_and_destroy();
            }
            Op::Pause => self.s.pause(),
            Op::Resume => self.s.resume(now),
            Op::SetTimeout(ms) => {
                let _ = self.s.set_timeout(ms % 50, now);
            }
            Op::SetEncoding => {
                let _ = self.s.set_encoding("utf8");
            }
            Op::NoDelay(v) => self.s.set_no_delay(v),
            Op::KeepAlive(v, d) => self.s.set_keep_alive(v, d),
            Op::Advance(ms) => {
                self.now += Duration::from_millis(ms as u64);
                if let Some(t) = self.s.poll_timeout() {
                    if t <= self.now {
                        self.s.handle_timeout(self.now);
                    }
                }
            }
            Op::Resolve(ok) => {
                if let Some(id) = self.resolve.take() {
                    let r = if ok {
                        Ok(vec![LookupAddress::new("127.0.0.1", 4)])
                    } else {
                        Err(Error::getaddrinfo(ErrorCode::ENOTFOUND, "h"))
                    };
                    self.s.handle_resolved(id, r, now);
                }
            }
            Op::ResolveMany(seed) => {
                if let Some(id) = self.resolve.take() {
                    const POOL: [(&str, u32); 6] = [
                        ("127.0.0.1", 4),
                        ("::1", 6),
                        ("127.0.0.2", 4),
                        ("::2", 6),
                        ("nope", 4),
                        ("127.0.0.3", 5),
                    ];
                    let n = 2 + (seed % 4) as usize;
                    let list = (0..n)
                        .map(|i| {
                            let (a, f) = POOL[(seed as usize >> (2 + 2 * i)) % POOL.len()];
                            LookupAddress::new(a, f)
                        })
                        .collect();
                    self.s.handle_resolved(id, Ok(list), now);
                }
            }
            Op::Connected(k) => {
                if let Some(a) = self.take_live(k) {
                    self.s.handle_connected(a, None, now);
                }
            }
            Op::ConnectFailed(k) => {
                if let Some(a) = self.take_live(k) {
                    self.s
                        .handle_connect_failed(a, ErrorCode::ECONNREFUSED, now);
                }
            }
            Op::BindFailed(k) => {
                if let Some(a) = self.take_live(k) {
                    self.s.handle_bind_failed(a, ErrorCode::EADDRINUSE, now);
                }
            }
            Op::Retired(k) => {
                if self.retired.is_empty() {
                    return;
                }
                let id = self.retired[k as usize % self.retired.len()];
                // Run what is due first, so only the stale answer's own effect is seen.
                if self.s.poll_timeout().is_some_and(|t| t <= now) {
                    self.s.handle_timeout(now);
                }
                self.drain();
                match k % 3 {
                    0 => self.s.handle_connected(id, None, now),
                    1 => self
                        .s
                        .handle_connect_failed(id, ErrorCode::ECONNREFUSED, now),
                    _ => self.s.handle_bind_failed(id, ErrorCode::EADDRINUSE, now),
                }
                assert_eq!(self.s.poll_event(), None, "stale answer for {id:?} acted");
                assert_eq!(self.s.poll_command(), None, "stale answer for {id:?} acted");
            }
            Op::Data(len) => self
                .s
                .handle_data(Bytes::from(vec![b'a'; len as usize % 20 + 1]), now),
            Op::Eof => self.s.handle_eof(now),
            Op::Written(k) => {
                let avail: usize = self.s.write_chunks().map(|c| c.len()).sum();
                let w = (k as usize) % (avail + 1);
                let mut left = w;
                for c in self.s.write_chunks() {
                    let t = left.min(c.len());
                    self.sent.extend_from_slice(&c[..t]);
                    left -= t;
                }
                self.s.handle_written(w, now);
            }
            Op::WriteError => self.s.handle_write_error(ErrorCode::EPIPE, now),
            Op::ReadError => self.s.handle_read_error(ErrorCode::ECONNRESET, now),
            Op::Shutdown => self.s.handle_shutdown(Ok(()), now),
            Op::Stale(k) => {
                // Drain first so the stale answer's own outputs are isolated.
                self.drain();
                let stale = AttemptId(10_000 + k as u64);
                match k % 4 {
                    0 => self.s.handle_connected(stale, None, now),
                    1 => self
                        .s
                        .handle_connect_failed(stale, ErrorCode::ECONNREFUSED, now),
                    2 => self.s.handle_bind_failed(stale, ErrorCode::EADDRINUSE, now),
                    _ => self.s.handle_resolved(stale, Ok(vec![]), now),
                }
                // A stale answer may only run due ticks; it must not touch the connect.
                let mut evs = Vec::new();
                while let Some(e) = self.s.poll_event() {
                    evs.push(e);
                }
                assert!(
                    !evs.iter().any(|e| matches!(
                        e,
                        SocketEvent::Connect
                            | SocketEvent::ConnectionAttemptFailed { .. }
                            | SocketEvent::Lookup { .. }
                    )),
                    "stale answer acted on: {evs:?}"
                );
                for e in &evs {
                    self.c.event(e);
                }
            }
        }
    }
}

fn connect_opts(kind: u8) -> ConnectOptions {
    let host = || ConnectOptions::tcp(80, "example.test");
    let mut o = match kind % 6 {
        0 => ConnectOptions::tcp(80, "127.0.0.1"),
        1 => host(),
        2 => ConnectOptions::path("/tmp/p.sock"),
        3 => ConnectOptions {
            happy_eyeballs: Mode::Rfc8305,
            ..host()
        },
        4 => ConnectOptions {
            local_port: Some(5000),
            ..host()
        },
        _ => ConnectOptions {
            happy_eyeballs: Mode::Rfc8305,
            local_port: Some(5000),
            ..host()
        },
    };
    o.auto_select_family_attempt_timeout = Some((10 + kind as u32 % 40).into());
    o
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn invariants_hold(kind in any::<u8>(), half in any::<bool>(), connect in any::<bool>(),
                       ops in proptest::collection::vec(op(), 0..60)) {
        let opts = SocketOptions { allow_half_open: half, high_water_mark: 64, ..SocketOptions::default() };
        let sequential = connect_opts(kind).happy_eyeballs == Mode::NodeCompat;
        let mut r = Run::new(Socket::new(opts), Instant::now(), sequential, Checker::default());
        if connect {
            let _ = r.s.connect(connect_opts(kind), r.now);
        }
        for (i, op) in ops.into_iter().enumerate() {
            r.apply(op, i as u64);
            r.drain();
        }
        // Finish: run pending ticks, then destroy; Close must have happened exactly once.
        r.s.handle_timeout(r.now);
        r.drain();
        r.s.destroy(None);
        r.drain();
        prop_assert!(r.c.closed, "no Close after destroy");
        // Every write answered exactly once.
        for (id, _) in &r.c.issued {
            prop_assert!(r.c.done.contains(id), "write {:?} never answered", id);
        }
        // Completed writes are exactly the bytes the backend sent, in order.
        prop_assert!(r.sent.starts_with(&r.c.ok_bytes), "sent bytes diverge from completed writes");
        prop_assert_eq!(r.s.poll_timeout(), None);
    }
}

/// The same invariants on accepted sockets (no connect phase).
#[test]
fn accepted_socket_random_sequences() {
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
        cases: 256,
        ..ProptestConfig::default()
    });
    runner
        .run(&proptest::collection::vec(op(), 0..60), |ops| {
            let now = Instant::now();
            let s = Socket::accepted(
                &SocketOptions::default(),
                nodenet_core::Endpoint::Tcp("127.0.0.1:1".parse().unwrap()),
                nodenet_core::Endpoint::Tcp("127.0.0.1:2".parse().unwrap()),
                now,
            );
            let checker = Checker {
                connected: true,
                ..Checker::default()
            };
            let mut r = Run::new(s, now, true, checker);
            for (i, op) in ops.into_iter().enumerate() {
                r.apply(op, i as u64);
                r.drain();
            }
            r.s.destroy(None);
            r.drain();
            prop_assert!(r.c.closed);
            for (id, _) in &r.c.issued {
                prop_assert!(r.c.done.contains(id));
            }
            prop_assert!(r.sent.starts_with(&r.c.ok_bytes));
            Ok(())
        })
        .unwrap();
}
