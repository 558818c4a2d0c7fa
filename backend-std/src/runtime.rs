//! The blocking std [`OsRuntime`]: non-blocking std sockets registered with the socket's
//! own [`Reactor`](crate::reactor), deadlines handed to the `mio` wait, and getaddrinfo
//! on a worker thread.

use std::io::{self, IoSlice};
use std::os::fd::{AsFd, BorrowedFd};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::Instant;

use nodenet::runtime::{
    Blocking, BlockingRuntime, BoxFuture, OsListener, OsRuntime, OsStream, StdListener, StdStream,
};

use crate::reactor::{raw, Reactor, Registration};

/// The blocking runtime handle: one reactor (a parking spot, no descriptor) shared
/// by a socket's stream and connect attempts, or by a server's listener. Accepted sockets
/// get a fresh one so each connection can be driven from its own thread; readiness comes
/// from the process-wide poller (see `reactor`).
#[derive(Clone, Debug)]
pub struct StdRuntime {
    reactor: Arc<Reactor>,
}

impl StdRuntime {
    /// A handle with a new reactor. The process-wide poller is started with the first
    /// one (not at the first registration, which may come when descriptors have run
    /// out: a server registers its listener at its first poll).
    pub fn new() -> StdRuntime {
        crate::reactor::start_poller();
        StdRuntime {
            reactor: Arc::new(Reactor::default()),
        }
    }
}

impl BlockingRuntime for StdRuntime {
    /// Drive `f` to completion on the calling thread, waiting on this handle's reactor
    /// (for an edge from the poller, a wake-up or a deadline) between polls.
    fn block_on<T>(&self, f: impl FnMut(&mut Context<'_>) -> Poll<T>) -> T {
        self.reactor.block_on(f)
    }
}

impl Default for StdRuntime {
    fn default() -> Self {
        StdRuntime::new()
    }
}

/// A std socket registered with the poller, reporting to one reactor.
#[derive(Debug)]
pub struct StdRtSource<T> {
    // Declared first so it is dropped (deregistered) before the socket is closed.
    reg: Registration,
    io: T,
}

/// A registered stream.
pub type StdRtStream = StdRtSource<StdStream>;
/// A registered listener.
pub type StdRtListener = StdRtSource<StdListener>;

impl AsFd for StdRtStream {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.io.as_fd()
    }
}

impl AsFd for StdRtListener {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.io.as_fd()
    }
}

impl OsStream for StdRtStream {
    fn try_write_vectored(&self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        nodenet::runtime::send_now(self, bufs)
    }
    fn poll_read_ready(&self, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.reg.reactor().take(self.reg.key(), false)
    }
    fn poll_write_ready(&self, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.reg.reactor().take(self.reg.key(), true)
    }
    /// Always reads first: the reactor is edge-triggered and keeps no end-of-stream
    /// state, so a FIN that came with the last (short) read raises no further edge.
    fn poll_read_chunk(
        &mut self,
        cx: &mut Context<'_>,
        _drained: bool,
    ) -> Poll<io::Result<nodenet::runtime::ReadChunk>> {
        nodenet::runtime::poll_read_chunk_default(self, cx, false)
    }
}

impl OsListener for StdRtListener {
    /// accept4(2), with the peer address it reports (a connection reset in the accept
    /// queue has none left for `getpeername`).
    fn poll_accept_from(
        &self,
        _cx: &mut Context<'_>,
    ) -> Poll<io::Result<(StdStream, Option<std::net::SocketAddr>)>> {
        loop {
            match self.io.accept_now() {
                Ok(accepted) => return Poll::Ready(Ok(accepted)),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    match self.reg.reactor().take(self.reg.key(), false) {
                        Poll::Ready(_) => continue,
                        Poll::Pending => return Poll::Pending,
                    }
                }
                Err(e) => return Poll::Ready(Err(e)),
            }
        }
    }
}

impl OsRuntime for StdRuntime {
    type Kind = Blocking;
    type Stream = StdRtStream;
    type Listener = StdRtListener;
    type Timer = ();

    fn for_connection(&self) -> Self {
        StdRuntime::new()
    }
    fn stream(&self, stream: StdStream) -> io::Result<StdRtStream> {
        stream.set_nonblocking(true)?;
        let reg = match &stream {
            StdStream::Tcp(s) => self.reactor.register(raw(s))?,
            StdStream::Unix(s) => self.reactor.register(raw(s))?,
        };
        Ok(StdRtSource { reg, io: stream })
    }
    fn unwrap_stream(&self, stream: StdRtStream) -> io::Result<StdStream> {
        let StdRtSource { reg, io } = stream;
        drop(reg);
        Ok(io)
    }
    fn listener(&self, listener: StdListener) -> io::Result<StdRtListener> {
        listener.set_nonblocking(true)?;
        let reg = match &listener {
            StdListener::Tcp(l) => self.reactor.register(raw(l))?,
            StdListener::Unix(l, _) => self.reactor.register(raw(l))?,
        };
        Ok(StdRtSource { reg, io: listener })
    }
    fn unwrap_listener(
        &self,
        listener: StdRtListener,
        _path: Option<String>,
    ) -> io::Result<StdListener> {
        let StdRtSource { reg, io } = listener;
        drop(reg);
        Ok(io)
    }
    fn timer(&self, _deadline: Instant) {}
    fn poll_timer(&self, _timer: &mut (), deadline: Instant, _cx: &mut Context<'_>) -> Poll<()> {
        if Instant::now() >= deadline {
            return Poll::Ready(());
        }
        self.reactor.wake_at(deadline);
        Poll::Pending
    }
    /// A thread that blocks on `task` with this handle's reactor (the dropped socket's
    /// own, whose thread has moved on).
    fn spawn(&self, mut task: BoxFuture<()>) {
        let rt = self.clone();
        let _ = std::thread::Builder::new()
            .name("nodenet-linger".into())
            .spawn(move || rt.block_on(|cx| task.as_mut().poll(cx)));
    }
    fn unblock<T, F>(&self, f: F) -> BoxFuture<Option<T>>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        Box::pin(ThreadFuture::spawn(f))
    }
}

/// The result slot of a worker thread: value, waiter, and whether the thread is gone.
type Slot<T> = Arc<Mutex<(Option<T>, Option<Waker>, bool)>>;

/// A blocking call on its own thread, completed through the waker (which interrupts the
/// reactor's wait).
struct ThreadFuture<T> {
    slot: Slot<T>,
}

/// Marks the slot finished even if the worker panicked, so the waiter never hangs.
struct Finish<T>(Slot<T>);

impl<T> Drop for Finish<T> {
    fn drop(&mut self) {
        let mut s = self.0.lock().unwrap_or_else(|e| e.into_inner());
        s.2 = true;
        if let Some(w) = s.1.take() {
            w.wake();
        }
    }
}

impl<T: Send + 'static> ThreadFuture<T> {
    fn spawn(f: impl FnOnce() -> T + Send + 'static) -> ThreadFuture<T> {
        let slot: Slot<T> = Arc::new(Mutex::new((None, None, false)));
        let finish = Finish(Arc::clone(&slot));
        let spawned = std::thread::Builder::new()
            .name("nodenet-getaddrinfo".into())
            .spawn(move || {
                let v = f();
                finish.0.lock().unwrap_or_else(|e| e.into_inner()).0 = Some(v);
                drop(finish);
            });
        if spawned.is_err() {
            slot.lock().unwrap_or_else(|e| e.into_inner()).2 = true;
        }
        ThreadFuture { slot }
    }
}

impl<T> std::future::Future for ThreadFuture<T> {
    type Output = Option<T>;
    fn poll(self: std::pin::Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let mut s = self.slot.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(v) = s.0.take() {
            return Poll::Ready(Some(v));
        }
        if s.2 {
            return Poll::Ready(None);
        }
        s.1 = Some(cx.waker().clone());
        Poll::Pending
    }
}
