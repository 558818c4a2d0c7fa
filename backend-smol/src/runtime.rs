//! The smol [`OsRuntime`]: sockets are `async_io::Async<..>` (reads and writes are plain
//! non-blocking syscalls on the inner std socket, readiness comes from async-io's
//! reactor), timers are `async_io::Timer`, and getaddrinfo runs on smol's blocking pool
//! (`blocking::unblock`).

use std::future::Future;
use std::io::{self, IoSlice};
use std::net::{TcpListener, TcpStream};
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::net::{UnixListener, UnixStream};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use async_io::{Async, Timer};
use nodenet::runtime::{BoxFuture, OsListener, OsRuntime, OsStream, StdListener, StdStream};

/// The smol runtime handle (stateless: async-io has one global reactor).
#[derive(Clone, Copy, Debug, Default)]
pub struct SmolRuntime;

/// An async-io stream, TCP or Unix.
#[derive(Debug)]
pub enum SmolStream {
    /// TCP.
    Tcp(Async<TcpStream>),
    /// Unix domain socket.
    Unix(Async<UnixStream>),
}

/// An async-io listener, TCP or Unix.
#[derive(Debug)]
pub enum SmolListener {
    /// TCP.
    Tcp(Async<TcpListener>),
    /// Unix domain socket.
    Unix(Async<UnixListener>),
}

impl AsFd for SmolListener {
    fn as_fd(&self) -> BorrowedFd<'_> {
        match self {
            SmolListener::Tcp(l) => l.get_ref().as_fd(),
            SmolListener::Unix(l) => l.get_ref().as_fd(),
        }
    }
}

impl AsFd for SmolStream {
    fn as_fd(&self) -> BorrowedFd<'_> {
        match self {
            SmolStream::Tcp(s) => s.get_ref().as_fd(),
            SmolStream::Unix(s) => s.get_ref().as_fd(),
        }
    }
}

impl OsStream for SmolStream {
    fn try_write_vectored(&self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        nodenet::runtime::send_now(self, bufs)
    }
    fn poll_read_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self {
            SmolStream::Tcp(s) => s.poll_readable(cx),
            SmolStream::Unix(s) => s.poll_readable(cx),
        }
    }
    /// Always reads first (`drained` ignored): after a short read, async-io's
    /// `poll_readable` can answer `Pending` for good although bytes or the FIN are
    /// waiting (its one-shot interest already fired for an event the direct reads
    /// consumed, and a registered waker is not re-armed), so a 4 MiB `read_to_end`
    /// hung at the end (test `read_eof`). The cost is one `EAGAIN` per wait.
    fn poll_read_chunk(
        &mut self,
        cx: &mut Context<'_>,
        _drained: bool,
    ) -> Poll<io::Result<nodenet::runtime::ReadChunk>> {
        nodenet::runtime::poll_read_chunk_default(self, cx, false)
    }
    fn poll_write_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self {
            SmolStream::Tcp(s) => s.poll_writable(cx),
            SmolStream::Unix(s) => s.poll_writable(cx),
        }
    }
}

/// accept4(2) until a connection or `WouldBlock` (then wait for readability). The peer
/// address comes from accept4 itself: a connection reset in the accept queue has none
/// left for `getpeername`.
fn poll_accept_with<L: AsFd>(
    l: &Async<L>,
    cx: &mut Context<'_>,
    unix: bool,
) -> Poll<io::Result<(StdStream, Option<std::net::SocketAddr>)>> {
    loop {
        match StdStream::accept_from(l.get_ref(), unix) {
            Ok(accepted) => return Poll::Ready(Ok(accepted)),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => match l.poll_readable(cx) {
                Poll::Ready(Ok(())) => continue,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            },
            Err(e) => return Poll::Ready(Err(e)),
        }
    }
}

impl OsListener for SmolListener {
    fn poll_accept_from(
        &self,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<(StdStream, Option<std::net::SocketAddr>)>> {
        match self {
            SmolListener::Tcp(l) => poll_accept_with(l, cx, false),
            SmolListener::Unix(l) => poll_accept_with(l, cx, true),
        }
    }
}

impl OsRuntime for SmolRuntime {
    type Kind = nodenet::runtime::Async;
    type Stream = SmolStream;
    type Listener = SmolListener;
    type Timer = (Timer, Instant);

    fn for_connection(&self) -> Self {
        SmolRuntime
    }
    fn stream(&self, stream: StdStream) -> io::Result<SmolStream> {
        Ok(match stream {
            StdStream::Tcp(s) => SmolStream::Tcp(Async::new(s)?),
            StdStream::Unix(s) => SmolStream::Unix(Async::new(s)?),
        })
    }
    fn unwrap_stream(&self, stream: SmolStream) -> io::Result<StdStream> {
        Ok(match stream {
            SmolStream::Tcp(s) => StdStream::Tcp(s.into_inner()?),
            SmolStream::Unix(s) => StdStream::Unix(s.into_inner()?),
        })
    }
    fn listener(&self, listener: StdListener) -> io::Result<SmolListener> {
        Ok(match listener {
            StdListener::Tcp(l) => SmolListener::Tcp(Async::new(l)?),
            StdListener::Unix(l, _) => SmolListener::Unix(Async::new(l)?),
        })
    }
    fn unwrap_listener(
        &self,
        listener: SmolListener,
        path: Option<String>,
    ) -> io::Result<StdListener> {
        Ok(match listener {
            SmolListener::Tcp(l) => StdListener::Tcp(l.into_inner()?),
            SmolListener::Unix(l) => StdListener::Unix(l.into_inner()?, path.unwrap_or_default()),
        })
    }
    fn timer(&self, deadline: Instant) -> Self::Timer {
        (Timer::at(deadline), deadline)
    }
    fn poll_timer(
        &self,
        timer: &mut Self::Timer,
        deadline: Instant,
        cx: &mut Context<'_>,
    ) -> Poll<()> {
        if timer.1 != deadline {
            timer.0.set_at(deadline);
            timer.1 = deadline;
        }
        Pin::new(&mut timer.0).poll(cx).map(|_| ())
    }
    /// A thread that blocks on `task` (async-io's reactor drives its sockets). smol has
    /// no executor this crate could assume; the tasks are rare (a socket dropped with
    /// unsent bytes) and bounded in time.
    fn spawn(&self, task: BoxFuture<()>) {
        let _ = std::thread::Builder::new()
            .name("nodenet-linger".into())
            .spawn(move || async_io::block_on(task));
    }
    fn unblock<T, F>(&self, f: F) -> BoxFuture<Option<T>>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        Box::pin(async move { Some(blocking::unblock(f).await) })
    }
}
