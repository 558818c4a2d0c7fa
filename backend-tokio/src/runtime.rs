//! The tokio [`OsRuntime`]: streams are tokio's own `TcpStream` and `UnixStream` (their
//! `try_*` calls clear tokio's readiness on `WouldBlock`; a read is one `recv` inside
//! `try_io` into a per-thread pool, and a short read clears the readiness as tokio's own
//! `AsyncRead` does; an accepted connection's first read asks the kernel before tokio's
//! reactor has reported the stream, as tokio's own `accept` arranges for its streams),
//! listeners are the std listeners in an `AsyncFd` (accept4 hands out a non-blocking
//! socket that is registered once, by the socket that owns it), timers are
//! `tokio::time::Sleep`, and getaddrinfo runs on `spawn_blocking` — exactly what
//! `tokio::net::lookup_host` does, kept generic so the shared driver can filter and shape
//! the answer as Node's `dns.lookup`.

use std::cell::RefCell;
use std::future::Future;
use std::io::{self, IoSlice};
use std::os::fd::{AsFd, BorrowedFd};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use bytes::BytesMut;
use nodenet::runtime::{
    read_into_now, send_now, take_bytes_mut_chunk, Async, BoxFuture, OsListener, OsRuntime,
    OsStream, ReadChunk, StdListener, StdStream, READ_CHUNK,
};
use socket2::SockRef;
use tokio::io::unix::AsyncFd;
use tokio::io::Interest;
use tokio::net::{TcpStream, UnixStream};

thread_local! {
    /// The read buffer every socket polled on this thread reads into (an idle socket
    /// holds none).
    static READ_POOL: RefCell<BytesMut> = RefCell::new(BytesMut::new());
}

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

/// A listener in tokio's reactor, TCP or Unix: the std listener in an `AsyncFd`, so an
/// accepted socket is not registered with tokio until its own socket wraps it.
#[derive(Debug)]
pub enum TokioListener {
    /// TCP.
    Tcp(AsyncFd<std::net::TcpListener>),
    /// Unix domain socket.
    Unix(AsyncFd<std::os::unix::net::UnixListener>),
}

impl AsFd for TokioListener {
    fn as_fd(&self) -> BorrowedFd<'_> {
        match self {
            TokioListener::Tcp(l) => l.get_ref().as_fd(),
            TokioListener::Unix(l) => l.get_ref().as_fd(),
        }
    }
}

impl AsFd for TokioStream {
    fn as_fd(&self) -> BorrowedFd<'_> {
        match self {
            TokioStream::Tcp(s) => s.as_fd(),
            TokioStream::Unix(s) => s.as_fd(),
        }
    }
}

impl OsStream for TokioStream {
    fn try_write_vectored(&self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        // Through tokio's readiness (`try_io` clears it on `EAGAIN`), as `send`/`sendmsg`.
        let mut sent = false;
        let r = match self {
            TokioStream::Tcp(s) => s.try_io(Interest::WRITABLE, || {
                sent = true;
                send_now(s, bufs)
            }),
            TokioStream::Unix(s) => s.try_io(Interest::WRITABLE, || {
                sent = true;
                send_now(s, bufs)
            }),
        };
        match r {
            // tokio answers WouldBlock without a syscall until its reactor has seen the
            // socket writable once (e.g. right after accept). libuv writes at once, so
            // try the syscall then; when the syscall itself said `EAGAIN` there is
            // nothing to retry. tokio's readiness is "not ready" either way, so the
            // following `poll_write_ready` still waits correctly.
            Err(e) if e.kind() == io::ErrorKind::WouldBlock && !sent => send_now(self, bufs),
            r => r,
        }
    }
    fn poll_read_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self {
            TokioStream::Tcp(s) => s.poll_read_ready(cx),
            TokioStream::Unix(s) => s.poll_read_ready(cx),
        }
    }
    /// Readiness first (tokio's `poll_read_ready`, which registers the waker), then one
    /// `recv(2)` inside tokio's `try_io` into a per-thread `BytesMut` pool's spare
    /// capacity (no zeroing; a read of 4 KiB or more is split off the pool's block, which
    /// the next read reclaims once the user dropped it). A short read clears tokio's
    /// readiness, as tokio's own `AsyncRead` does, so `drained` is not needed: the next
    /// call finds the stream not readable and returns `Pending` without touching the pool
    /// or the kernel.
    fn poll_read_chunk(
        &mut self,
        cx: &mut Context<'_>,
        _drained: bool,
    ) -> Poll<io::Result<ReadChunk>> {
        loop {
            match self.poll_read_ready(cx) {
                Poll::Ready(Ok(())) => {}
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            }
            match self.read_pool(true) {
                // The kernel had nothing (tokio cleared its readiness) or tokio lost the
                // readiness meanwhile: wait again, which registers the waker.
                None => continue,
                Some(Err(e)) if e.kind() == io::ErrorKind::WouldBlock => continue,
                Some(r) => return Poll::Ready(r),
            }
        }
    }
    /// One `recv` before any wait. tokio's readiness of a stream registered with
    /// `from_std` is empty until its reactor's first event for it (tokio marks the
    /// streams its own `accept` returns as ready instead), and waiting for that event
    /// costs an accepted connection a trip through the reactor, often a wake-up of
    /// another thread, for bytes that are usually there already. When tokio already
    /// knows the stream readable, the `recv` goes through its `try_io` (which clears the
    /// readiness after a short read or `EAGAIN`); otherwise one `recv` outside tokio, and
    /// tokio's wait only when the kernel had nothing, to register the waker. A `recv`
    /// tokio did not see can at worst leave it a readiness that its next read finds stale
    /// (one `EAGAIN`, which clears it), never a lost wake-up.
    fn poll_read_chunk_now(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<ReadChunk>> {
        let read = match self.read_pool(true) {
            Some(r) => r,
            None => match self.read_pool(false) {
                Some(r) => r,
                None => return self.poll_read_chunk(cx, true),
            },
        };
        match read {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => self.poll_read_chunk(cx, true),
            r => Poll::Ready(r),
        }
    }
    /// A look at tokio's readiness (no waker registered, no coop budget spent) and a
    /// `recv` through `try_io` only when it says readable. A reset or FIN that came
    /// with the partial read is still seen: it raised tokio's read-closed readiness,
    /// which clearing after a short read never removes.
    fn read_chunk_again(
        &mut self,
        _cx: &mut Context<'_>,
        _drained: bool,
    ) -> Option<io::Result<ReadChunk>> {
        match self.read_pool(true)? {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => None,
            r => Some(r),
        }
    }
    /// tokio's `AsyncRead::poll_read` into the caller's buffer: its readiness is only
    /// cleared by its own read calls, so a raw `recv` would leave a stale readiness and
    /// spin.
    fn poll_read_into(&mut self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        let mut buf = tokio::io::ReadBuf::new(buf);
        let read = match self {
            TokioStream::Tcp(s) => tokio::io::AsyncRead::poll_read(Pin::new(s), cx, &mut buf),
            TokioStream::Unix(s) => tokio::io::AsyncRead::poll_read(Pin::new(s), cx, &mut buf),
        };
        read.map_ok(|()| buf.filled().len())
    }
    /// [`poll_read_chunk_now`](OsStream::poll_read_chunk_now)'s reasoning, for a read
    /// into the caller's buffer: tokio's path when it knows the stream readable, else one
    /// `recv` outside tokio, and tokio's path (which registers the waker) only when the
    /// kernel had nothing.
    fn poll_read_into_now(
        &mut self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let known = match self {
            TokioStream::Tcp(s) => s.try_io(Interest::READABLE, || Ok(())),
            TokioStream::Unix(s) => s.try_io(Interest::READABLE, || Ok(())),
        };
        if known.is_ok() {
            return self.poll_read_into(cx, buf);
        }
        match read_into_now(self, buf) {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => self.poll_read_into(cx, buf),
            r => Poll::Ready(r),
        }
    }
    fn poll_write_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self {
            TokioStream::Tcp(s) => s.poll_write_ready(cx),
            TokioStream::Unix(s) => s.poll_write_ready(cx),
        }
    }
}

impl TokioStream {
    /// One `recv(2)` into the per-thread `BytesMut` pool, as the chunk the core gets.
    /// `through_tokio`: inside tokio's `try_io`, which runs it only when tokio holds a
    /// readable readiness (`None` otherwise: nothing was asked of the kernel) and clears
    /// that readiness when the read was short or said `EAGAIN`, exactly as tokio's own
    /// `AsyncRead` does; without it, straight to the kernel.
    ///
    /// The kernel writes into the pool's spare capacity (nothing is zeroed first). A
    /// read of 4 KiB or more is split off the block as the chunk (shared, no copy), and
    /// once the user dropped it the next read's `reserve` reclaims the same block, so an
    /// echo reuses one 64 KiB buffer as a raw tokio loop does; a smaller read is copied
    /// into a chunk of its own size ([`take_bytes_mut_chunk`]).
    fn read_pool(&self, through_tokio: bool) -> Option<io::Result<ReadChunk>> {
        if !through_tokio {
            return Some(recv_chunk(self.as_fd()).0);
        }
        // The pool is touched only inside the closure, which `try_io` runs only when
        // tokio holds a readable readiness.
        let mut got = None;
        let mut recv = || {
            let (read, clear) = recv_chunk(self.as_fd());
            got = Some(read);
            // `WouldBlock` is how `try_io` is told to clear the readiness; the read's
            // own answer is in `got`.
            if clear {
                Err(io::ErrorKind::WouldBlock.into())
            } else {
                Ok(())
            }
        };
        let _ = match self {
            TokioStream::Tcp(s) => s.try_io(Interest::READABLE, &mut recv),
            TokioStream::Unix(s) => s.try_io(Interest::READABLE, &mut recv),
        };
        got
    }
}

/// One `recv(2)` into the per-thread pool (see [`TokioStream::read_pool`]): the chunk,
/// and whether the kernel's buffer is now empty (a short read, or `EAGAIN`), which is
/// when tokio's readiness is cleared.
fn recv_chunk(fd: BorrowedFd<'_>) -> (io::Result<ReadChunk>, bool) {
    READ_POOL.with(|pool| {
        let mut pool = pool.borrow_mut();
        pool.clear();
        if pool.capacity() < READ_CHUNK {
            pool.reserve(READ_CHUNK);
        }
        let room = pool.capacity();
        match recv_into(fd, &mut pool) {
            Ok(n) => {
                let short = n > 0 && n < room;
                let chunk = ReadChunk {
                    short,
                    data: take_bytes_mut_chunk(&mut pool),
                };
                (Ok(chunk), short)
            }
            Err(e) => {
                let empty = e.kind() == io::ErrorKind::WouldBlock;
                (Err(e), empty)
            }
        }
    })
}

/// One `recv(2)` appended to `buf`'s spare capacity (`EINTR` retried): the bytes read,
/// `Ok(0)` at end-of-stream, `WouldBlock` when the kernel holds nothing.
#[allow(unsafe_code)]
fn recv_into(fd: BorrowedFd<'_>, buf: &mut BytesMut) -> io::Result<usize> {
    let n = loop {
        let into = buf.spare_capacity_mut();
        match rustix::net::recv(fd, into, rustix::net::RecvFlags::empty()) {
            Ok(((filled, _), _)) => break filled.len(),
            Err(rustix::io::Errno::INTR) => continue,
            Err(e) => return Err(e.into()),
        }
    };
    // SAFETY: `recv` initialised the first `n` bytes of the spare capacity (rustix hands
    // back exactly the prefix the kernel wrote, never more than the slice it was given),
    // so the first `len + n` bytes of `buf` are initialised and within its capacity.
    unsafe { buf.set_len(buf.len() + n) };
    Ok(n)
}

/// accept4 with `SOCK_NONBLOCK | SOCK_CLOEXEC`: one syscall, and the socket is ready for
/// the reactor as it comes.
const ACCEPT_FLAGS: i32 = libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC;

/// Accept one connection when the listener is readable (tokio clears the readiness when
/// accept4 says `EAGAIN`).
fn poll_accept_fd<L: std::os::fd::AsRawFd + AsFd>(
    listener: &AsyncFd<L>,
    cx: &mut Context<'_>,
) -> Poll<io::Result<(socket2::Socket, socket2::SockAddr)>> {
    loop {
        let mut guard = match listener.poll_read_ready(cx) {
            Poll::Ready(Ok(g)) => g,
            Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
            Poll::Pending => return Poll::Pending,
        };
        match guard.try_io(|l| SockRef::from(l.get_ref()).accept4(ACCEPT_FLAGS)) {
            Ok(r) => return Poll::Ready(r),
            Err(_would_block) => continue,
        }
    }
}

/// Register a std listener for readability.
///
/// tokio deprecated the safe `AsyncFd` constructors (its replacement is `unsafe`, which
/// this crate denies outside its read path) because a `T: AsRawFd` could close or swap
/// its descriptor while registered. A std listener owns its descriptor for its whole life and never changes
/// it, and `into_inner` deregisters before handing it back, so the requirement holds.
#[allow(deprecated)]
fn register_listener<L: std::os::fd::AsRawFd>(l: L) -> io::Result<AsyncFd<L>> {
    AsyncFd::with_interest(l, Interest::READABLE)
}

impl OsListener for TokioListener {
    /// The peer address accept4 filled in (TCP only) is handed on, so the driver needs
    /// no `getpeername`.
    fn poll_accept_from(
        &self,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<(StdStream, Option<std::net::SocketAddr>)>> {
        match self {
            TokioListener::Tcp(l) => poll_accept_fd(l, cx)
                .map(|r| r.map(|(s, peer)| (StdStream::Tcp(s.into()), peer.as_socket()))),
            TokioListener::Unix(l) => {
                poll_accept_fd(l, cx).map(|r| r.map(|(s, _)| (StdStream::Unix(s.into()), None)))
            }
        }
    }
}

/// Why a socket or server polled outside a Tokio runtime fails: tokio's own reason,
/// and what to do instead.
const NO_RUNTIME: &str = "nodenet-tokio sockets and servers must be driven inside a Tokio 1.x \
runtime (there is no reactor running): poll them under #[tokio::main], Runtime::block_on or \
tokio::spawn, or use nodenet-smol on another executor";

/// tokio panics when a socket is registered outside a runtime; report it instead, as
/// the Node error `ERR_INVALID_STATE` carried whole in the `io::Error` (no errno names
/// it), which the driver hands to the user as the socket's or server's error.
fn in_runtime() -> io::Result<()> {
    match tokio::runtime::Handle::try_current() {
        Ok(_) => Ok(()),
        Err(_) => Err(nodenet::Error::invalid_state(NO_RUNTIME).into()),
    }
}

/// A tokio `Sleep`, made at the first poll inside a runtime: tokio panics when one is
/// made outside, so a timer polled there never fires (the socket's registration, which
/// needs the runtime too, fails with [`in_runtime`]'s error instead).
#[derive(Debug)]
pub struct TokioTimer(Option<Pin<Box<tokio::time::Sleep>>>);

impl TokioTimer {
    fn new(deadline: Instant) -> TokioTimer {
        TokioTimer(
            tokio::runtime::Handle::try_current()
                .ok()
                .map(|_| Box::pin(tokio::time::sleep_until(deadline.into()))),
        )
    }
}

impl OsRuntime for TokioRuntime {
    type Kind = Async;
    type Stream = TokioStream;
    type Listener = TokioListener;
    type Timer = TokioTimer;

    fn for_connection(&self) -> Self {
        TokioRuntime
    }
    fn stream(&self, stream: StdStream) -> io::Result<TokioStream> {
        in_runtime()?;
        // Every stream handed over is already non-blocking (accept4 flags, the driver's
        // connect and `from_std` set it), as tokio's `from_std` requires.
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
            StdListener::Tcp(l) => TokioListener::Tcp(register_listener(l)?),
            StdListener::Unix(l, _) => TokioListener::Unix(register_listener(l)?),
        })
    }
    fn unwrap_listener(
        &self,
        listener: TokioListener,
        path: Option<String>,
    ) -> io::Result<StdListener> {
        Ok(match listener {
            TokioListener::Tcp(l) => StdListener::Tcp(l.into_inner()),
            TokioListener::Unix(l) => StdListener::Unix(l.into_inner(), path.unwrap_or_default()),
        })
    }
    fn timer(&self, deadline: Instant) -> Self::Timer {
        TokioTimer::new(deadline)
    }
    fn poll_timer(
        &self,
        timer: &mut Self::Timer,
        deadline: Instant,
        cx: &mut Context<'_>,
    ) -> Poll<()> {
        if timer.0.is_none() {
            *timer = TokioTimer::new(deadline);
        }
        let Some(sleep) = &mut timer.0 else {
            return Poll::Pending;
        };
        if sleep.deadline().into_std() != deadline {
            sleep.as_mut().reset(deadline.into());
        }
        sleep.as_mut().poll(cx)
    }
    /// A task on the current runtime (dropped unstarted outside one).
    fn spawn(&self, task: BoxFuture<()>) {
        if let Ok(handle) = tokio::runtime::Handle::try_current() {
            drop(handle.spawn(task));
        }
    }
    fn unblock<T, F>(&self, f: F) -> BoxFuture<Option<T>>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        // Polled outside a runtime (tokio's `spawn_blocking` panics there) the call
        // runs in place: the socket fails with `in_runtime`'s error once it registers.
        Box::pin(async move {
            match tokio::runtime::Handle::try_current() {
                Ok(handle) => handle.spawn_blocking(f).await.ok(),
                Err(_) => Some(f()),
            }
        })
    }
}
