//! The blocking std [`Runtime`]: non-blocking std sockets registered with the socket's
//! own [`Reactor`](crate::reactor), deadlines handed to the `mio` wait, and getaddrinfo
//! on a worker thread.

use std::io::{self, IoSlice};
use std::os::fd::{AsFd, BorrowedFd};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::Instant;

use nodenet::runtime::{
    Blocking, BlockingRuntime, BoxFuture, RtListener, RtStream, Runtime, StdListener, StdStream,
};

use crate::reactor::{raw, Reactor};

/// The blocking runtime handle: one reactor (`mio::Poll`), shared by a socket's streams
/// and connect attempts, or by a server's listener. Accepted sockets get a fresh one so
/// each connection can be driven from its own thread.
#[derive(Clone, Debug)]
pub struct StdRuntime {
    reactor: Result<Arc<Reactor>, Arc<io::Error>>,
}

impl StdRuntime {
    /// A handle with a new reactor (an epoll instance and an eventfd).
    pub fn new() -> StdRuntime {
        StdRuntime {
            reactor: Reactor::new().map(Arc::new).map_err(Arc::new),
        }
    }

    fn reactor(&self) -> io::Result<&Arc<Reactor>> {
        self.reactor
            .as_ref()
            .map_err(|e| io::Error::new(e.kind(), e.to_string()))
    }
}

impl BlockingRuntime for StdRuntime {
    /// Drive `f` to completion on the calling thread, waiting in this handle's `mio`
    /// reactor between polls.
    fn block_on<T>(&self, mut f: impl FnMut(&mut Context<'_>) -> Poll<T>) -> T {
        match &self.reactor {
            Ok(r) => r.block_on(f),
            // No epoll instance: poll every 10 ms (timers and resolution still work).
            Err(_) => {
                let mut cx = Context::from_waker(Waker::noop());
                loop {
                    if let Poll::Ready(v) = f(&mut cx) {
                        return v;
                    }
                    std::thread::sleep(std::time::Duration::from_millis(10));
                }
            }
        }
    }
}

impl Default for StdRuntime {
    fn default() -> Self {
        StdRuntime::new()
    }
}

/// A std socket registered with a reactor.
#[derive(Debug)]
pub struct StdRtSource<T> {
    io: T,
    reactor: Arc<Reactor>,
    key: usize,
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

impl RtStream for StdRtStream {
    fn try_write_vectored(&self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        nodenet::runtime::send_now(self, bufs)
    }
    fn poll_read_ready(&self, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.reactor.take(self.key, false)
    }
    fn poll_write_ready(&self, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.reactor.take(self.key, true)
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

impl RtListener for StdRtListener {
    fn poll_accept(&self, _cx: &mut Context<'_>) -> Poll<io::Result<StdStream>> {
        loop {
            let accepted = match &self.io {
                StdListener::Tcp(l) => l.accept().map(|(s, _)| StdStream::Tcp(s)),
                StdListener::Unix(l, _) => l.accept().map(|(s, _)| StdStream::Unix(s)),
            };
            match accepted {
                Ok(s) => return Poll::Ready(Ok(s)),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    match self.reactor.take(self.key, false) {
                        Poll::Ready(_) => continue,
                        Poll::Pending => return Poll::Pending,
                    }
                }
                Err(e) => return Poll::Ready(Err(e)),
            }
        }
    }
}

impl Runtime for StdRuntime {
    type Kind = Blocking;
    type Stream = StdRtStream;
    type Listener = StdRtListener;
    type Timer = ();

    fn for_connection(&self) -> Self {
        StdRuntime::new()
    }
    fn stream(&self, stream: StdStream) -> io::Result<StdRtStream> {
        let reactor = Arc::clone(self.reactor()?);
        stream.set_nonblocking(true)?;
        let key = match &stream {
            StdStream::Tcp(s) => reactor.register(raw(s))?,
            StdStream::Unix(s) => reactor.register(raw(s))?,
        };
        Ok(StdRtSource {
            io: stream,
            reactor,
            key,
        })
    }
    fn unwrap_stream(&self, stream: StdRtStream) -> io::Result<StdStream> {
        let fd = match &stream.io {
            StdStream::Tcp(s) => raw(s),
            StdStream::Unix(s) => raw(s),
        };
        stream.reactor.deregister(fd, stream.key);
        Ok(stream.io)
    }
    fn listener(&self, listener: StdListener) -> io::Result<StdRtListener> {
        let reactor = Arc::clone(self.reactor()?);
        listener.set_nonblocking(true)?;
        let key = match &listener {
            StdListener::Tcp(l) => reactor.register(raw(l))?,
            StdListener::Unix(l, _) => reactor.register(raw(l))?,
        };
        Ok(StdRtSource {
            io: listener,
            reactor,
            key,
        })
    }
    fn unwrap_listener(
        &self,
        listener: StdRtListener,
        _path: Option<String>,
    ) -> io::Result<StdListener> {
        let fd = match &listener.io {
            StdListener::Tcp(l) => raw(l),
            StdListener::Unix(l, _) => raw(l),
        };
        listener.reactor.deregister(fd, listener.key);
        Ok(listener.io)
    }
    fn timer(&self, _deadline: Instant) {}
    fn poll_timer(&self, _timer: &mut (), deadline: Instant, _cx: &mut Context<'_>) -> Poll<()> {
        if Instant::now() >= deadline {
            return Poll::Ready(());
        }
        if let Ok(r) = self.reactor() {
            r.wake_at(deadline);
        }
        Poll::Pending
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
