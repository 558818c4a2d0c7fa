//! The blocking backend's reactor: one process-wide `mio::Poll` watched by one poller
//! thread, and a [`Reactor`] per socket or server that is only a parking spot (a mutex
//! and a condition variable, no descriptor). [`Reactor::block_on`] polls the shared
//! driver and, between rounds, waits on its condition variable until the poller thread
//! reports a readiness edge of one of its sources, a waker fires (the resolver thread, a
//! server's `shutdown` request, another thread's write), or its deadline passes.
//!
//! Why one poller rather than an epoll per socket: a blocking server runs a thread per
//! connection, and each thread waiting in its own epoll needed three descriptors beside
//! the socket (the epoll, an eventfd to be woken by other threads, and the registry's
//! duplicate), so the usual soft limit of 1,024 descriptors allowed about 250
//! connections, and a connection accepted when descriptors ran short could not get its
//! reactor. Now a connection costs its socket only: the whole process spends three
//! descriptors on the poller (epoll, its wake-up eventfd, the registry's duplicate). The
//! price is one thread hand-off per readiness edge (poller thread → connection thread).
//!
//! Sources are registered edge-triggered for both directions once; an edge sets a flag
//! that the next `poll_*_ready` consumes. The driver always tries the syscall before
//! asking for readiness, so a consumed or stale flag costs at most one extra `EAGAIN`.

use std::io;
use std::os::fd::{AsRawFd, RawFd};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::task::{Context, Poll, Wake, Waker};
use std::time::Instant;

use mio::unix::SourceFd;
use mio::{Events, Interest, Token};
use slab::Slab;

/// Readiness edges seen for one source since they were last consumed.
#[derive(Clone, Copy, Debug, Default)]
struct Edges {
    read: bool,
    write: bool,
}

/// What a reactor's thread waits for.
#[derive(Debug, Default)]
struct State {
    /// Edges per registered source (by its poller token); a socket has one or two.
    edges: Vec<(usize, Edges)>,
    /// Counts edges and wake-ups: a thread waits until it moves past the value it saw
    /// before its last poll (several threads may block on one reactor: the two halves of
    /// a split socket, so every one of them must see every change).
    generation: u64,
    /// The earliest deadline asked for in the latest round.
    deadline: Option<Instant>,
}

/// One socket's or server's parking spot (see the module doc).
#[derive(Debug, Default)]
pub(crate) struct Reactor {
    state: Mutex<State>,
    cond: Condvar,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The process-wide poll, created on first use (a failure is retried at the next
/// registration, e.g. once descriptors are free again).
struct Poller {
    registry: mio::Registry,
    /// Token → the reactor its source belongs to.
    sources: Mutex<Slab<Arc<Reactor>>>,
}

static POLLER: Mutex<Option<&'static Poller>> = Mutex::new(None);

fn poller() -> io::Result<&'static Poller> {
    let mut slot = lock(&POLLER);
    if let Some(p) = *slot {
        return Ok(p);
    }
    let poll = mio::Poll::new()?;
    let registry = poll.registry().try_clone()?;
    // Lives as long as the process, like the poller thread that reads it.
    let p: &'static Poller = Box::leak(Box::new(Poller {
        registry,
        sources: Mutex::new(Slab::new()),
    }));
    std::thread::Builder::new()
        .name("nodenet-std-poller".into())
        .spawn(move || run_poller(poll, p))?;
    *slot = Some(p);
    Ok(p)
}

/// Start the process-wide poller if it is not running (a failure is retried later).
pub(crate) fn start_poller() {
    let _ = poller();
}

/// The poller thread: wait for readiness, hand each edge to its reactor.
fn run_poller(mut poll: mio::Poll, p: &'static Poller) {
    let mut events = Events::with_capacity(256);
    let mut woken: Vec<Arc<Reactor>> = Vec::new();
    loop {
        if let Err(e) = poll.poll(&mut events, None) {
            if e.kind() != io::ErrorKind::Interrupted {
                // Unusable epoll (cannot happen for a valid instance): do not spin.
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            continue;
        }
        {
            let sources = lock(&p.sources);
            for ev in events.iter() {
                // A source deregistered meanwhile has no entry (or a new owner, which
                // then sees one spurious edge: harmless, see the module doc).
                let Some(r) = sources.get(ev.token().0) else {
                    continue;
                };
                let read = ev.is_readable() || ev.is_read_closed() || ev.is_error();
                let write = ev.is_writable() || ev.is_write_closed() || ev.is_error();
                r.edge(ev.token().0, read, write);
                woken.push(Arc::clone(r));
            }
        }
        for r in woken.drain(..) {
            r.cond.notify_all();
        }
    }
}

/// A source's place in the poller; deregistered when dropped.
pub(crate) struct Registration {
    fd: RawFd,
    token: usize,
    reactor: Arc<Reactor>,
    poller: &'static Poller,
}

impl std::fmt::Debug for Registration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registration")
            .field("fd", &self.fd)
            .field("token", &self.token)
            .finish_non_exhaustive()
    }
}

impl Registration {
    /// The source's key for [`Reactor::take`].
    pub(crate) fn key(&self) -> usize {
        self.token
    }

    /// The reactor this source reports to.
    pub(crate) fn reactor(&self) -> &Arc<Reactor> {
        &self.reactor
    }
}

impl Drop for Registration {
    /// Must run while the descriptor is still open (`StdRtSource` declares its
    /// registration before its socket, so it is dropped first).
    fn drop(&mut self) {
        let _ = self.poller.registry.deregister(&mut SourceFd(&self.fd));
        lock(&self.poller.sources).try_remove(self.token);
        let mut s = lock(&self.reactor.state);
        s.edges.retain(|(t, _)| *t != self.token);
    }
}

/// Wakes a reactor's thread from anywhere.
struct ReactorWake(Arc<Reactor>);

impl Wake for ReactorWake {
    fn wake(self: Arc<Self>) {
        self.0.notify();
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.0.notify();
    }
}

impl Reactor {
    /// Register `fd` for both directions with the process-wide poller.
    pub(crate) fn register(self: &Arc<Self>, fd: RawFd) -> io::Result<Registration> {
        let p = poller()?;
        let token = lock(&p.sources).insert(Arc::clone(self));
        lock(&self.state).edges.push((token, Edges::default()));
        let registered = p.registry.register(
            &mut SourceFd(&fd),
            Token(token),
            Interest::READABLE | Interest::WRITABLE,
        );
        let reg = Registration {
            fd,
            token,
            reactor: Arc::clone(self),
            poller: p,
        };
        // On failure the registration's drop undoes the bookkeeping.
        registered.map(|()| reg)
    }

    fn edge(&self, token: usize, read: bool, write: bool) {
        let mut s = lock(&self.state);
        if let Some((_, e)) = s.edges.iter_mut().find(|(t, _)| *t == token) {
            e.read |= read;
            e.write |= write;
        }
        s.generation = s.generation.wrapping_add(1);
    }

    fn notify(&self) {
        let mut s = lock(&self.state);
        s.generation = s.generation.wrapping_add(1);
        drop(s);
        self.cond.notify_all();
    }

    /// Consume a readable (`write == false`) or writable edge of `key`.
    pub(crate) fn take(&self, key: usize, write: bool) -> Poll<io::Result<()>> {
        let mut s = lock(&self.state);
        let Some((_, e)) = s.edges.iter_mut().find(|(t, _)| *t == key) else {
            return Poll::Pending;
        };
        let flag = if write { &mut e.write } else { &mut e.read };
        if std::mem::take(flag) {
            Poll::Ready(Ok(()))
        } else {
            Poll::Pending
        }
    }

    /// Remember the earliest deadline asked for in this round.
    pub(crate) fn wake_at(&self, deadline: Instant) {
        let mut s = lock(&self.state);
        s.deadline = Some(s.deadline.map_or(deadline, |cur| cur.min(deadline)));
    }

    /// Poll `f` until it is ready, waiting between rounds for an edge, a wake-up or the
    /// round's deadline.
    pub(crate) fn block_on<T>(
        self: &Arc<Self>,
        mut f: impl FnMut(&mut Context<'_>) -> Poll<T>,
    ) -> T {
        let waker = Waker::from(Arc::new(ReactorWake(Arc::clone(self))));
        let mut cx = Context::from_waker(&waker);
        loop {
            let seen = {
                let mut s = lock(&self.state);
                s.deadline = None;
                s.generation
            };
            if let Poll::Ready(v) = f(&mut cx) {
                return v;
            }
            let mut s = lock(&self.state);
            // This round's own deadline: another thread's next round resets the shared one.
            let deadline = s.deadline;
            while s.generation == seen {
                match deadline {
                    None => s = self.cond.wait(s).unwrap_or_else(|e| e.into_inner()),
                    Some(d) => {
                        let now = Instant::now();
                        if now >= d {
                            break;
                        }
                        s = self
                            .cond
                            .wait_timeout(s, d - now)
                            .unwrap_or_else(|e| e.into_inner())
                            .0;
                    }
                }
            }
        }
    }
}

/// A source's raw descriptor (for registration).
pub(crate) fn raw(fd: &impl AsRawFd) -> RawFd {
    fd.as_raw_fd()
}
