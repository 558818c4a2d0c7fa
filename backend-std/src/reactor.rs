//! The blocking backend's reactor: one `mio::Poll` per socket or server (so each can be
//! driven by its own thread), readiness remembered per registered source, and
//! [`Reactor::block_on`], which polls the shared driver with a waker that interrupts the
//! `mio` wait (used by the resolver thread and by a server's `shutdown` requests).
//!
//! Sources are registered edge-triggered for both directions once; an edge sets a flag
//! that the next `poll_*_ready` consumes. The driver always tries the syscall before
//! asking for readiness, so a consumed or stale flag costs at most one extra `EAGAIN`.
//!
//! Several threads may block on one reactor (the two halves of a split socket): one of
//! them waits in `mio` at a time, the others wait for its round to end, and every
//! thread polls its function again after each round (a wake interrupts the round).

use std::collections::HashMap;
use std::io;
use std::os::fd::{AsRawFd, RawFd};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::task::{Context, Poll, Wake, Waker};
use std::time::{Duration, Instant};

use mio::unix::SourceFd;
use mio::{Events, Interest, Token};

const WAKE: Token = Token(0);

/// Readiness edges seen for one source since they were last consumed.
#[derive(Clone, Copy, Debug, Default)]
struct Edges {
    read: bool,
    write: bool,
}

#[derive(Debug)]
pub(crate) struct Reactor {
    poll: Mutex<mio::Poll>,
    registry: mio::Registry,
    waker: Arc<mio::Waker>,
    ready: Mutex<HashMap<usize, Edges>>,
    next_key: AtomicUsize,
    turn: Mutex<Turn>,
    /// Signalled at the end of every round in `mio`.
    turned: Condvar,
}

/// Who waits in `mio`, and until when.
#[derive(Debug, Default)]
struct Turn {
    /// Rounds in `mio` completed so far: a thread that polled while one ended polls again.
    round: u64,
    /// A thread is waiting in `mio` now, until `until` (`None`: no timeout).
    polling: bool,
    until: Option<Instant>,
    /// The earliest deadline asked for since the last round started.
    deadline: Option<Instant>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

struct MioWake(Arc<mio::Waker>);

impl Wake for MioWake {
    fn wake(self: Arc<Self>) {
        let _ = self.0.wake();
    }
    fn wake_by_ref(self: &Arc<Self>) {
        let _ = self.0.wake();
    }
}

impl Reactor {
    pub(crate) fn new() -> io::Result<Reactor> {
        let poll = mio::Poll::new()?;
        let registry = poll.registry().try_clone()?;
        let waker = Arc::new(mio::Waker::new(poll.registry(), WAKE)?);
        Ok(Reactor {
            poll: Mutex::new(poll),
            registry,
            waker,
            ready: Mutex::new(HashMap::new()),
            next_key: AtomicUsize::new(1),
            turn: Mutex::new(Turn::default()),
            turned: Condvar::new(),
        })
    }

    /// Register `fd` for both directions; returns its key.
    pub(crate) fn register(&self, fd: RawFd) -> io::Result<usize> {
        let key = self.next_key.fetch_add(1, Ordering::Relaxed);
        self.registry.register(
            &mut SourceFd(&fd),
            Token(key),
            Interest::READABLE | Interest::WRITABLE,
        )?;
        Ok(key)
    }

    /// Forget `fd` (before handing it back to the user).
    pub(crate) fn deregister(&self, fd: RawFd, key: usize) {
        let _ = self.registry.deregister(&mut SourceFd(&fd));
        lock(&self.ready).remove(&key);
    }

    /// Consume a readable (`write == false`) or writable edge of `key`.
    pub(crate) fn take(&self, key: usize, write: bool) -> Poll<io::Result<()>> {
        let mut ready = lock(&self.ready);
        let Some(e) = ready.get_mut(&key) else {
            return Poll::Pending;
        };
        let flag = if write { &mut e.write } else { &mut e.read };
        if std::mem::take(flag) {
            Poll::Ready(Ok(()))
        } else {
            Poll::Pending
        }
    }

    /// Remember the earliest deadline asked for in this round; a thread already waiting
    /// in `mio` past it is woken to wait again with the earlier timeout.
    pub(crate) fn wake_at(&self, deadline: Instant) {
        let mut turn = lock(&self.turn);
        turn.deadline = Some(turn.deadline.map_or(deadline, |cur| cur.min(deadline)));
        if turn.polling && turn.until.is_none_or(|until| deadline < until) {
            let _ = self.waker.wake();
        }
    }

    /// Poll `f` until it is ready, sleeping in `mio` between rounds (or, while another
    /// thread sleeps there, until its round ends).
    pub(crate) fn block_on<T>(&self, mut f: impl FnMut(&mut Context<'_>) -> Poll<T>) -> T {
        let waker = Waker::from(Arc::new(MioWake(Arc::clone(&self.waker))));
        let mut cx = Context::from_waker(&waker);
        let mut events = Events::with_capacity(64);
        loop {
            let seen = lock(&self.turn).round;
            if let Poll::Ready(v) = f(&mut cx) {
                return v;
            }
            let mut turn = lock(&self.turn);
            if turn.round != seen {
                // A round ended while `f` ran: its readiness may be for `f`.
                continue;
            }
            if turn.polling {
                drop(self.turned.wait_while(turn, |t| t.round == seen));
                continue;
            }
            let deadline = turn.deadline.take();
            turn.polling = true;
            turn.until = deadline;
            drop(turn);
            let timeout = deadline
                .map(|d| d.saturating_duration_since(Instant::now()) + Duration::from_micros(500));
            let polled = lock(&self.poll).poll(&mut events, timeout);
            match polled {
                Err(e) if e.kind() != io::ErrorKind::Interrupted => {
                    // The epoll instance is unusable: degrade to polling every 10 ms.
                    std::thread::sleep(Duration::from_millis(10));
                }
                Err(_) => {}
                Ok(()) => {
                    let mut ready = lock(&self.ready);
                    for ev in events.iter() {
                        if ev.token() == WAKE {
                            continue;
                        }
                        let e = ready.entry(ev.token().0).or_default();
                        e.read |= ev.is_readable() || ev.is_read_closed() || ev.is_error();
                        e.write |= ev.is_writable() || ev.is_write_closed() || ev.is_error();
                    }
                }
            }
            let mut turn = lock(&self.turn);
            turn.polling = false;
            turn.round += 1;
            drop(turn);
            self.turned.notify_all();
        }
    }
}

/// A source registered with a reactor, deregistered on request.
pub(crate) fn raw(fd: &impl AsRawFd) -> RawFd {
    fd.as_raw_fd()
}
