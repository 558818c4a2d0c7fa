//! The tokio [`Runtime`]: streams and listeners are tokio's own `TcpStream`,
//! `UnixStream`, `TcpListener`, `UnixListener` (their `try_*` calls clear tokio's
//! readiness on `WouldBlock`), timers are `tokio::time::Sleep`, and getaddrinfo runs on
//! `spawn_blocking` — exactly what `tokio::net::lookup_host` does, kept generic so the
//! shared driver can filter and shape the answer as Node's `dns.lookup`.

use std::future::Future;
use std::io::{self, IoSlice};
use std::os::fd::{AsFd, BorrowedFd};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use nodenet_sys::driver::{BoxFuture, RtListener, RtStream, Runtime, StdListener, StdStream};
use tokio::net::{TcpListener, TcpStream, UnixListener, UnixStream};

/// The tokio runtime handle (stateless: tokio's reactor is found from the task context).
#[derive(Clone, Copy, Debug, Default)]
pub struct TokioRuntime;

/// A tokio stream, TCP or Unix.
#[derive(Debug)]
pub enum TokioStream {
    /// TCP.
    Tcp(TcpStream),
    /// Unix domain socket.
    Unix(UnixStream),
}

/// A tokio listener, TCP or Unix.
#[derive(Debug)]
pub enum TokioListener {
    /// TCP.
    Tcp(TcpListener),
    /// Unix domain socket.
    Unix(UnixListener),
}

impl AsFd for TokioStream {
    fn as_fd(&self) -> BorrowedFd<'_> {
        match self {
            TokioStream::Tcp(s) => s.as_fd(),
            TokioStream::Unix(s) => s.as_fd(),
        }
    }
}

impl RtStream for TokioStream {
    fn try_read(&self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            TokioStream::Tcp(s) => s.try_read(buf),
            TokioStream::Unix(s) => s.try_read(buf),
        }
    }
    fn try_write_vectored(&self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        let r = match self {
            TokioStream::Tcp(s) => s.try_write_vectored(bufs),
            TokioStream::Unix(s) => s.try_write_vectored(bufs),
        };
        match r {
            // tokio answers WouldBlock without a syscall until its reactor has seen the
            // socket writable once (e.g. right after accept). libuv writes at once, so
            // try the syscall; tokio's readiness is already "not ready" either way, so
            // the following `poll_write_ready` still waits correctly.
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                socket2::SockRef::from(self).send_vectored(bufs)
            }
            r => r,
        }
    }
    fn poll_read_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self {
            TokioStream::Tcp(s) => s.poll_read_ready(cx),
            TokioStream::Unix(s) => s.poll_read_ready(cx),
        }
    }
    fn poll_write_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self {
            TokioStream::Tcp(s) => s.poll_write_ready(cx),
            TokioStream::Unix(s) => s.poll_write_ready(cx),
        }
    }
}

impl RtListener for TokioListener {
    fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<io::Result<StdStream>> {
        // tokio registers the accepted stream; the socket re-registers it with its own
        // handle (`into_std` deregisters first).
        match self {
            TokioListener::Tcp(l) => l
                .poll_accept(cx)
                .map(|r| r.and_then(|(s, _)| s.into_std()).map(StdStream::Tcp)),
            TokioListener::Unix(l) => l
                .poll_accept(cx)
                .map(|r| r.and_then(|(s, _)| s.into_std()).map(StdStream::Unix)),
        }
    }
}

/// tokio panics when a socket is registered outside a runtime; report it as an error.
fn in_runtime() -> io::Result<()> {
    tokio::runtime::Handle::try_current()
        .map(|_| ())
        .map_err(|e| io::Error::other(e.to_string()))
}

impl Runtime for TokioRuntime {
    type Stream = TokioStream;
    type Listener = TokioListener;
    type Timer = Pin<Box<tokio::time::Sleep>>;

    fn for_connection(&self) -> Self {
        TokioRuntime
    }
    fn stream(&self, stream: StdStream) -> io::Result<TokioStream> {
        in_runtime()?;
        stream.set_nonblocking(true)?;
        Ok(match stream {
            StdStream::Tcp(s) => TokioStream::Tcp(TcpStream::from_std(s)?),
            StdStream::Unix(s) => TokioStream::Unix(UnixStream::from_std(s)?),
        })
    }
    fn unwrap_stream(&self, stream: TokioStream) -> io::Result<StdStream> {
        Ok(match stream {
            TokioStream::Tcp(s) => StdStream::Tcp(s.into_std()?),
            TokioStream::Unix(s) => StdStream::Unix(s.into_std()?),
        })
    }
    fn listener(&self, listener: StdListener) -> io::Result<TokioListener> {
        in_runtime()?;
        listener.set_nonblocking(true)?;
        Ok(match listener {
            StdListener::Tcp(l) => TokioListener::Tcp(TcpListener::from_std(l)?),
            StdListener::Unix(l, _) => TokioListener::Unix(UnixListener::from_std(l)?),
        })
    }
    fn unwrap_listener(
        &self,
        listener: TokioListener,
        path: Option<String>,
    ) -> io::Result<StdListener> {
        Ok(match listener {
            TokioListener::Tcp(l) => StdListener::Tcp(l.into_std()?),
            TokioListener::Unix(l) => StdListener::Unix(l.into_std()?, path.unwrap_or_default()),
        })
    }
    fn timer(&self, deadline: Instant) -> Self::Timer {
        Box::pin(tokio::time::sleep_until(deadline.into()))
    }
    fn poll_timer(
        &self,
        timer: &mut Self::Timer,
        deadline: Instant,
        cx: &mut Context<'_>,
    ) -> Poll<()> {
        if timer.deadline().into_std() != deadline {
            timer.as_mut().reset(deadline.into());
        }
        timer.as_mut().poll(cx)
    }
    fn unblock<T, F>(&self, f: F) -> BoxFuture<Option<T>>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        Box::pin(async move { tokio::task::spawn_blocking(f).await.ok() })
    }
}
