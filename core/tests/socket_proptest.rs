//! Random command/completion sequences against DESIGN.md's invariants: `Close` exactly
//! once and last (only write answers may follow), at most one `Error` and before
//! `Close`, no `Data` after `End`, `Connect` before `Data`, `Drain` only after a write
//! returned false, one `WriteDone` per write, bytes written in order, stale completions
//! ignored, and no panic.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use bytes::Bytes;
use nodenet_core::socket::{Command, ConnectOptions, Socket, SocketEvent, WriteId};
use nodenet_core::{AttemptId, Error, ErrorCode, LookupAddress, SocketOptions};
use proptest::prelude::*;

#[derive(Clone, Debug)]
enum Op {
    Write(u8),
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
    Connected,
    ConnectFailed,
    BindFailed,
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
        3 => Just(Op::Connected),
        1 => Just(Op::ConnectFailed),
        1 => Just(Op::BindFailed),
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
    attempt: Option<AttemptId>,
    sent: Vec<u8>,
    c: Checker,
}

impl Run {
    fn drain(&mut self) {
        while let Some(cmd) = self.s.poll_command() {
            match cmd {
                Command::Resolve { id, .. } => self.resolve = Some(id),
                Command::Connect { attempt, .. } => self.attempt = Some(attempt),
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
                let r = self.s.write(data.clone(), now);
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
                let r = self.s.end_with(data.clone(), now);
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
                    self.s.handle_resolved(now, id, r);
                }
            }
            Op::Connected => {
                if let Some(a) = self.attempt.take() {
                    self.s.handle_connected(now, a, None);
                }
            }
            Op::ConnectFailed => {
                if let Some(a) = self.attempt.take() {
                    self.s
                        .handle_connect_failed(now, a, ErrorCode::ECONNREFUSED);
                }
            }
            Op::BindFailed => {
                if let Some(a) = self.attempt.take() {
                    self.s.handle_bind_failed(now, a, ErrorCode::EADDRINUSE);
                }
            }
            Op::Data(len) => self
                .s
                .handle_data(now, Bytes::from(vec![b'a'; len as usize % 20 + 1])),
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
                self.s.handle_written(now, w);
            }
            Op::WriteError => self.s.handle_write_error(now, ErrorCode::EPIPE),
            Op::ReadError => self.s.handle_read_error(now, ErrorCode::ECONNRESET),
            Op::Shutdown => self.s.handle_shutdown(now),
            Op::Stale(k) => {
                // Drain first so the stale answer's own outputs are isolated.
                self.drain();
                let stale = AttemptId(10_000 + k as u64);
                match k % 4 {
                    0 => self.s.handle_connected(now, stale, None),
                    1 => self
                        .s
                        .handle_connect_failed(now, stale, ErrorCode::ECONNREFUSED),
                    2 => self.s.handle_bind_failed(now, stale, ErrorCode::EADDRINUSE),
                    _ => self.s.handle_resolved(now, stale, Ok(vec![])),
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
    match kind % 3 {
        0 => ConnectOptions::tcp(80, "127.0.0.1"),
        1 => ConnectOptions::tcp(80, "example.test"),
        _ => ConnectOptions::path("/tmp/p.sock"),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn invariants_hold(kind in any::<u8>(), half in any::<bool>(), connect in any::<bool>(),
                       ops in proptest::collection::vec(op(), 0..60)) {
        let opts = SocketOptions { allow_half_open: half, high_water_mark: 64, ..SocketOptions::default() };
        let mut r = Run {
            s: Socket::new(opts),
            now: Instant::now(),
            resolve: None,
            attempt: None,
            sent: Vec::new(),
            c: Checker::default(),
        };
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
            let mut r = Run {
                s,
                now,
                resolve: None,
                attempt: None,
                sent: Vec::new(),
                c: Checker {
                    connected: true,
                    ..Checker::default()
                },
            };
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
