//! What a runtime implements. [`Runtime`], [`RtStream`] and [`RtListener`] are every
//! operation the driver performs: connect, bind, accept, read, write, shutdown, socket
//! options, addresses, timers, name resolution and the clock. A runtime over OS sockets
//! (tokio, smol, std) implements the smaller [`OsRuntime`], [`OsStream`] and
//! [`OsListener`] instead — wrap a std socket for its reactor, wait for readiness, sleep,
//! run a blocking call off the event loop — and gets every OS operation from the blanket
//! implementations in `driver::os` (socket2 and getaddrinfo, written once). A runtime
//! with a network of its own (the simulator) implements the three general traits.

use std::cell::RefCell;
use std::future::Future;
use std::io::{self, IoSlice};
use std::net::{IpAddr, SocketAddr};
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::net::{UnixListener, UnixStream};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use bytes::{Bytes, BytesMut};
use nodenet_core::dns::GaiQuery;
use nodenet_core::{Endpoint, ErrorCode};

use crate::{KeepAlive, StepError};

/// A boxed, sendable future (what [`Runtime::getaddrinfo`] and [`OsRuntime::unblock`] return).
pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

/// A connected std stream: what `from_std` takes and `into_std` gives back.
#[derive(Debug)]
pub enum StdStream {
    /// A TCP connection.
    Tcp(std::net::TcpStream),
    /// A Unix domain socket connection (Node's pipe).
    Unix(UnixStream),
}

impl AsFd for StdStream {
    fn as_fd(&self) -> BorrowedFd<'_> {
        match self {
            StdStream::Tcp(s) => s.as_fd(),
            StdStream::Unix(s) => s.as_fd(),
        }
    }
}

impl StdStream {
    /// Switch the socket to non-blocking mode (every runtime needs it).
    pub fn set_nonblocking(&self, on: bool) -> io::Result<()> {
        match self {
            StdStream::Tcp(s) => s.set_nonblocking(on),
            StdStream::Unix(s) => s.set_nonblocking(on),
        }
    }
}

impl From<std::net::TcpStream> for StdStream {
    fn from(s: std::net::TcpStream) -> StdStream {
        StdStream::Tcp(s)
    }
}

impl From<UnixStream> for StdStream {
    fn from(s: UnixStream) -> StdStream {
        StdStream::Unix(s)
    }
}

impl From<std::net::TcpListener> for StdListener {
    fn from(l: std::net::TcpListener) -> StdListener {
        StdListener::Tcp(l)
    }
}

impl From<UnixListener> for StdListener {
    /// The path (or `\0`-prefixed abstract name) is read back with `getsockname`.
    fn from(l: UnixListener) -> StdListener {
        let path = l
            .local_addr()
            .ok()
            .map(|a| unix_name(&a))
            .unwrap_or_default();
        StdListener::Unix(l, path)
    }
}

/// Node's name for a Unix socket address: the path, or `\0` + the Linux abstract name.
fn unix_name(addr: &std::os::unix::net::SocketAddr) -> String {
    if let Some(p) = addr.as_pathname() {
        return p.to_string_lossy().into_owned();
    }
    #[cfg(target_os = "linux")]
    {
        use std::os::linux::net::SocketAddrExt;
        if let Some(name) = addr.as_abstract_name() {
            return format!("\0{}", String::from_utf8_lossy(name));
        }
    }
    String::new()
}

/// A listening std socket: what `Server::from_std` takes.
#[derive(Debug)]
pub enum StdListener {
    /// A TCP listener.
    Tcp(std::net::TcpListener),
    /// A Unix domain socket listener and its path (reported as the accepted sockets'
    /// local endpoint and by `address()`).
    Unix(UnixListener, String),
}

impl AsFd for StdListener {
    fn as_fd(&self) -> BorrowedFd<'_> {
        match self {
            StdListener::Tcp(l) => l.as_fd(),
            StdListener::Unix(l, _) => l.as_fd(),
        }
    }
}

impl StdListener {
    /// Switch the listener to non-blocking mode.
    pub fn set_nonblocking(&self, on: bool) -> io::Result<()> {
        match self {
            StdListener::Tcp(l) => l.set_nonblocking(on),
            StdListener::Unix(l, _) => l.set_nonblocking(on),
        }
    }
}

/// An OS stream registered with a runtime's reactor (what an [`OsRuntime`] adapter
/// implements; every other stream operation comes from the OS socket, see [`RtStream`]).
/// The `try_*` calls never block and
/// return `WouldBlock` when the socket is not ready; `poll_*_ready` registers the waker
/// and reports readiness (implementations must clear a stale readiness when a `try_*`
/// call returned `WouldBlock`, as tokio and async-io do).
pub trait OsStream: AsFd + Send + 'static {
    /// Write a vector of slices without blocking (see [`send_now`]).
    fn try_write_vectored(&self, bufs: &[IoSlice<'_>]) -> io::Result<usize>;
    /// Wait for readability.
    fn poll_read_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>>;
    /// One read, as the chunk the core gets: what is available (at most [`READ_CHUNK`]
    /// bytes), or register the waker and return `Pending` when nothing is. An empty chunk
    /// is end-of-stream. `drained` says the previous read on this stream was short (it
    /// emptied the kernel's buffer), so the next bytes come with a new readiness event;
    /// the answer's [`ReadChunk::short`] is that flag for the next call.
    ///
    /// The default ([`poll_read_chunk_default`]) asks for readiness first when `drained`
    /// (one `poll_read_ready` instead of a `recv` that would say `EAGAIN`), then
    /// `recv(2)`s straight into a per-thread pool (no scratch buffer, no zeroing). tokio
    /// overrides it with its own `AsyncRead` path into a per-thread `BytesMut`.
    ///
    /// Skipping the read is only sound when a pending end-of-stream still reports
    /// readable: async-io's level-triggered one-shot registration does; an edge-triggered
    /// reactor that forgets a FIN which arrived with the last data does not, and must
    /// pass `drained = false` to [`poll_read_chunk_default`].
    fn poll_read_chunk(
        &mut self,
        cx: &mut Context<'_>,
        drained: bool,
    ) -> Poll<io::Result<ReadChunk>> {
        poll_read_chunk_default(self, cx, drained)
    }
    /// [`poll_read_chunk`](Self::poll_read_chunk) that asks the kernel before it waits
    /// for readiness, whatever the reactor knows: the driver's first read of an accepted
    /// connection (whose first bytes usually came with it, as libuv assumes when it
    /// reads at once) and the read that follows a connection's first partial read. The
    /// default is `poll_read_chunk(cx, false)`, which reads first already; tokio
    /// overrides it, because its readiness of a stream it did not accept itself stays
    /// empty until its reactor's first event, and waiting for that costs the connection
    /// a trip through the reactor (on a multi-thread runtime, often a wake-up of another
    /// thread).
    fn poll_read_chunk_now(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<ReadChunk>> {
        self.poll_read_chunk(cx, false)
    }
    /// The read the driver makes right after a partial read, before the user hears of
    /// its bytes (whether a reset came with them): what the stream has now, or `None`.
    /// The driver polls the stream again with [`poll_read_chunk`](Self::poll_read_chunk)
    /// before it waits, so `None` need not register the waker. The default is
    /// `poll_read_chunk(cx, drained)`; tokio overrides it with a look at its readiness
    /// (an atomic load) and a `recv` only when that says readable, skipping the waker
    /// registration (a lock in tokio's reactor) that the driver's next poll makes anyway.
    fn read_chunk_again(
        &mut self,
        cx: &mut Context<'_>,
        drained: bool,
    ) -> Option<io::Result<ReadChunk>> {
        match self.poll_read_chunk(cx, drained) {
            Poll::Ready(r) => Some(r),
            Poll::Pending => None,
        }
    }
    /// One read straight into the caller's buffer (Node's `onread`, see
    /// `Socket::poll_event_into`): `Ok(n)` with the bytes in `buf[..n]`, `Ok(0)` at
    /// end-of-stream (it is never asked with an empty `buf`), or register the waker and
    /// return `Pending`. The default ([`poll_read_into_default`]) `recv(2)`s first and
    /// waits for readiness on `EAGAIN`; a runtime whose readiness is only cleared by its
    /// own read calls (tokio) overrides it.
    fn poll_read_into(&mut self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        poll_read_into_default(self, cx, buf)
    }
    /// [`poll_read_into`](Self::poll_read_into) that asks the kernel before it waits for
    /// readiness, whatever the reactor knows: the `onread` counterpart of
    /// [`poll_read_chunk_now`](Self::poll_read_chunk_now), for the same reads. The
    /// default is `poll_read_into`, which reads first already; tokio overrides it.
    fn poll_read_into_now(
        &mut self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        self.poll_read_into(cx, buf)
    }
    /// Wait for writability (also: a connect finished).
    fn poll_write_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>>;
}

/// What one read produced: the chunk for the core (empty at end-of-stream) and whether
/// the read was short (fewer bytes than the room it had).
#[derive(Debug)]
pub struct ReadChunk {
    /// The bytes read.
    pub data: Bytes,
    /// The read emptied the kernel's buffer.
    pub short: bool,
}

/// Reads shorter than this are copied out of the pool into a chunk of their own size;
/// longer ones become the chunk without a copy.
pub const COPY_BELOW: usize = 4 * 1024;

thread_local! {
    /// The read buffer shared by every socket [`poll_read_chunk_default`] reads on this
    /// thread, so an idle socket holds none: each read lands in its spare capacity.
    static READ_POOL: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// [`OsStream::poll_read_chunk`]'s default: readiness first when `drained`, then one
/// `recv(2)` into the per-thread pool's spare capacity (rustix's `spare_capacity`).
pub fn poll_read_chunk_default<S: OsStream + ?Sized>(
    stream: &S,
    cx: &mut Context<'_>,
    drained: bool,
) -> Poll<io::Result<ReadChunk>> {
    if drained {
        match stream.poll_read_ready(cx) {
            Poll::Ready(Ok(())) => {}
            Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
            Poll::Pending => return Poll::Pending,
        }
    }
    loop {
        match read_chunk_now(stream) {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => match stream.poll_read_ready(cx) {
                Poll::Ready(Ok(())) => continue,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            },
            r => return Poll::Ready(r),
        }
    }
}

/// One `recv(2)` into the per-thread pool's spare capacity (rustix's `spare_capacity`:
/// no zeroing), without asking the reactor: the chunk read, or `WouldBlock` when the
/// kernel holds nothing. What [`poll_read_chunk_default`] does between its waits, and
/// what tokio's [`OsStream::poll_read_chunk_now`] does before it waits.
pub fn read_chunk_now(stream: &(impl AsFd + ?Sized)) -> io::Result<ReadChunk> {
    READ_POOL.with(|pool| {
        let mut pool = pool.borrow_mut();
        pool.clear();
        if pool.capacity() < READ_CHUNK {
            pool.reserve_exact(READ_CHUNK);
        }
        let room = pool.capacity();
        loop {
            let flags = rustix::net::RecvFlags::empty();
            let into = rustix::buffer::spare_capacity(&mut *pool);
            match rustix::net::recv(stream.as_fd(), into, flags) {
                Ok((n, _)) => {
                    return Ok(ReadChunk {
                        short: n > 0 && n < room,
                        data: take_vec_chunk(&mut pool),
                    })
                }
                Err(rustix::io::Errno::INTR) => continue,
                Err(e) => return Err(e.into()),
            }
        }
    })
}

/// [`OsStream::poll_read_into`]'s default: `recv(2)` into `buf`, and on `EAGAIN` wait
/// for readability (level- or edge-triggered reactors alike: the read comes first).
pub fn poll_read_into_default<S: OsStream + ?Sized>(
    stream: &S,
    cx: &mut Context<'_>,
    buf: &mut [u8],
) -> Poll<io::Result<usize>> {
    loop {
        match read_into_now(stream, buf) {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => match stream.poll_read_ready(cx) {
                Poll::Ready(Ok(())) => continue,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            },
            r => return Poll::Ready(r),
        }
    }
}

/// One `recv(2)` into `buf` without asking the reactor (`EINTR` retried): the bytes
/// read, `Ok(0)` at end-of-stream, or `WouldBlock` when the kernel holds nothing. What
/// [`poll_read_into_default`] does between its waits, and what tokio's
/// [`OsStream::poll_read_into_now`] does before it waits.
pub fn read_into_now(stream: &(impl AsFd + ?Sized), buf: &mut [u8]) -> io::Result<usize> {
    loop {
        match rustix::net::recv(stream.as_fd(), &mut *buf, rustix::net::RecvFlags::empty()) {
            Ok((n, _)) => return Ok(n),
            Err(rustix::io::Errno::INTR) => continue,
            Err(e) => return Err(e.into()),
        }
    }
}

/// The bytes just read into `pool` as a chunk. A small read is copied into a buffer of
/// its own size (so a chunk the user keeps never pins a 64 KiB block) and the pool keeps
/// its block for the next read; a large one takes the pool's block without a copy (the
/// next read gets a fresh block).
fn take_vec_chunk(pool: &mut Vec<u8>) -> Bytes {
    if pool.len() < COPY_BELOW {
        let chunk = Bytes::copy_from_slice(pool);
        pool.clear();
        chunk
    } else {
        Bytes::from(std::mem::take(pool))
    }
}

/// `take_vec_chunk` for a `BytesMut` pool: a large read is split off the pool's block
/// (shared, no copy), so once the user drops the chunk the next read reuses the same
/// block (`reserve` reclaims it) instead of allocating a fresh one.
pub fn take_bytes_mut_chunk(pool: &mut BytesMut) -> Bytes {
    if pool.len() < COPY_BELOW {
        let chunk = Bytes::copy_from_slice(pool);
        pool.clear();
        chunk
    } else {
        pool.split().freeze()
    }
}

/// Write `bufs` to a connected socket without blocking, as `send(2)` (one slice) or
/// `sendmsg(2)` (several): the socket calls skip the VFS layer that `write`/`writev`
/// go through, and `MSG_NOSIGNAL` turns a write to a reset peer into `EPIPE` instead of
/// a `SIGPIPE`, whatever the process's signal disposition. What every backend's
/// [`OsStream::try_write_vectored`] does. Straight through rustix (on Linux a raw
/// syscall: no socket2 wrapper, no libc cancellation-point bookkeeping); `EINTR` is
/// returned as `Interrupted`, which every caller retries.
pub fn send_now(socket: &impl AsFd, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
    let flags = rustix::net::SendFlags::NOSIGNAL;
    let sent = match bufs {
        [one] => rustix::net::send(socket, one, flags),
        _ => rustix::net::sendmsg(
            socket,
            bufs,
            &mut rustix::net::SendAncillaryBuffer::default(),
            flags,
        ),
    };
    sent.map_err(io::Error::from)
}

/// Room offered to one read: a read never returns more (libuv reads 64 KiB too).
pub const READ_CHUNK: usize = 64 * 1024;

/// At most this many queued chunks go into one `sendmsg`.
pub const MAX_IOVECS: usize = 64;

/// An OS listener registered with a runtime's reactor (what an [`OsRuntime`] adapter
/// implements; `AsFd`: `Server::as_fd` lends it).
pub trait OsListener: AsFd + Send + 'static {
    /// Accept one connection without blocking (registers the waker when none is ready),
    /// with the peer's TCP address as `accept(2)` reported it (`None` for Unix sockets).
    /// The stream is returned unregistered and non-blocking: the accepted socket registers
    /// it with its own runtime handle ([`OsRuntime::for_connection`]).
    ///
    /// The address must come from `accept(2)` itself ([`StdStream::accept_from`] does that): a
    /// connection reset while it waited in the accept queue has no peer any more, so a
    /// later `getpeername` fails, and the connection (and the bytes it sent, which are
    /// still readable) would be lost.
    fn poll_accept_from(
        &self,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<(StdStream, Option<std::net::SocketAddr>)>>;

    /// [`poll_accept_from`](Self::poll_accept_from) without the address.
    fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<io::Result<StdStream>> {
        self.poll_accept_from(cx).map(|r| r.map(|(s, _)| s))
    }
}

impl StdStream {
    /// One `accept4(2)` on a listening socket, non-blocking and close-on-exec (one
    /// syscall, and the socket is ready for any reactor as it comes), with the peer's TCP
    /// address that the kernel filled in. `WouldBlock` when the queue is empty. `unix`
    /// says which kind of stream the listener gives.
    pub fn accept_from(
        listener: &impl AsFd,
        unix: bool,
    ) -> io::Result<(StdStream, Option<std::net::SocketAddr>)> {
        use rustix::net::SocketFlags;
        loop {
            match rustix::net::acceptfrom_with(
                listener,
                SocketFlags::NONBLOCK | SocketFlags::CLOEXEC,
            ) {
                Ok((fd, peer)) => {
                    let peer = peer.and_then(|a| std::net::SocketAddr::try_from(a).ok());
                    let stream = if unix {
                        StdStream::Unix(UnixStream::from(fd))
                    } else {
                        StdStream::Tcp(std::net::TcpStream::from(fd))
                    };
                    return Ok((stream, peer));
                }
                Err(rustix::io::Errno::INTR) => continue,
                Err(e) => return Err(e.into()),
            }
        }
    }
}

impl StdListener {
    /// [`StdStream::accept_from`] on this listener.
    pub fn accept_now(&self) -> io::Result<(StdStream, Option<std::net::SocketAddr>)> {
        match self {
            StdListener::Tcp(l) => StdStream::accept_from(l, false),
            StdListener::Unix(l, _) => StdStream::accept_from(l, true),
        }
    }
}

/// How a runtime waits, as a type: [`Async`] runtimes give `async fn next_event`,
/// [`Blocking`] ones a `fn next_event` that blocks the thread. Sealed: these two are all.
pub trait RuntimeKind: sealed::Sealed + 'static {}

/// The kind of runtime whose sockets are driven by futures (tokio, smol, the simulator).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Async;

/// The kind of runtime whose sockets block the calling thread (nodenet-std).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Blocking;

impl RuntimeKind for Async {}
impl RuntimeKind for Blocking {}

mod sealed {
    pub trait Sealed {}
    impl Sealed for super::Async {}
    impl Sealed for super::Blocking {}
}

/// A [`Runtime`] whose sockets are driven by futures: `Socket<R>::next_event` is an
/// `async fn`. Implemented for every runtime with `Kind = Async`; write generic code
/// against it:
///
/// ```
/// use nodenet::{AsyncRuntime, Server, ServerEvent};
///
/// /// Count the connections a server accepts until it closes, on any async runtime.
/// async fn count_connections<R: AsyncRuntime>(mut server: Server<R>) -> usize {
///     let mut n = 0;
///     while let Some(ev) = server.next_event().await {
///         if let ServerEvent::<R>::Connection(_socket) = ev {
///             n += 1;
///         }
///     }
///     n
/// }
/// ```
pub trait AsyncRuntime: Runtime<Kind = Async> {}

impl<R: Runtime<Kind = Async>> AsyncRuntime for R {}

/// A [`Runtime`] that blocks the calling thread: `Socket<R>::next_event` is a plain
/// `fn`. The runtime drives a poll function to completion on the calling thread.
pub trait BlockingRuntime: Runtime<Kind = Blocking> {
    /// Poll `f` on the calling thread, waiting in the runtime's reactor between polls,
    /// until it is ready.
    fn block_on<T>(&self, f: impl FnMut(&mut Context<'_>) -> Poll<T>) -> T;

    /// Poll `f` until it is ready or `deadline` passed (`Poll::Pending`); the reactor
    /// waits for IO at least once, even for a past deadline, so readiness is always
    /// collected.
    fn block_until<T>(
        &self,
        deadline: Instant,
        mut f: impl FnMut(&mut Context<'_>) -> Poll<T>,
    ) -> Poll<T> {
        let mut first = true;
        let mut timer: Option<Self::Timer> = None;
        self.block_on(|cx| match f(cx) {
            Poll::Ready(v) => Poll::Ready(Poll::Ready(v)),
            Poll::Pending if !first && Instant::now() >= deadline => Poll::Ready(Poll::Pending),
            Poll::Pending => {
                first = false;
                // Register the bound with the reactor; a bound already past registers no
                // wait (it would be unbounded), so use a short one in the future.
                let mut bound = deadline;
                loop {
                    let t = timer.get_or_insert_with(|| self.timer(bound));
                    if self.poll_timer(t, bound, cx).is_pending() {
                        break;
                    }
                    bound = Instant::now() + std::time::Duration::from_micros(100);
                }
                Poll::Pending
            }
        })
    }
}

/// One runtime, as the driver needs it: every operation the driver performs on sockets,
/// timers, names and the clock. OS-socket runtimes implement [`OsRuntime`] and get this
/// trait from the blanket implementation; a runtime with its own network (the
/// simulator, `nodenet-sim`) implements it directly.
pub trait Runtime: Clone + Send + Sync + 'static {
    /// [`Async`] or [`Blocking`]: whether `next_event` is an `async fn`.
    type Kind: RuntimeKind;
    /// Connected streams.
    type Stream: RtStream;
    /// Listeners registered with the runtime.
    type Listener: RtListener;
    /// A listener bound inside `listen()` (so `address()` is known on return) and
    /// registered at the server's first poll ([`register_listener`](Runtime::register_listener);
    /// tokio needs its runtime context for that).
    type Bound: Send + 'static;
    /// A resettable sleep.
    type Timer: Send + 'static;

    /// The handle an accepted connection runs on (the same one for tokio and smol; a new
    /// reactor for the blocking backend, whose sockets are driven by their own threads).
    fn for_connection(&self) -> Self;
    /// The current time, as the sockets' timers and the core see it (`Instant::now()`;
    /// virtual time in a simulation). User code that computes deadlines for a generic
    /// runtime (`Server::shutdown`) reads this clock.
    fn now() -> Instant;
    /// Start a connection to `endpoint` (first binding `local`, Node's `localAddress`):
    /// the stream may still be connecting; it is writable once the connect finished,
    /// and [`RtStream::take_error`] then tells how. The error names the step that failed.
    fn connect(
        &self,
        endpoint: &Endpoint,
        local: Option<SocketAddr>,
    ) -> Result<Self::Stream, StepError>;
    /// Bind and listen on `endpoint`; the listener and the address it got (the port the
    /// kernel chose for port 0; `None` when the system would not say).
    fn bind(
        &self,
        endpoint: &Endpoint,
        options: BindOptions,
    ) -> Result<(Self::Bound, Option<Endpoint>), StepError>;
    /// Register a bound listener (at the server's first poll).
    fn register_listener(&self, bound: Self::Bound) -> io::Result<Self::Listener>;
    /// Register an accepted connection with this (the connection's) runtime handle.
    fn register_accepted(
        &self,
        conn: <Self::Listener as RtListener>::Accepted,
    ) -> io::Result<Self::Stream>;
    /// One `getaddrinfo` call with the runtime's resolver (off the event loop for OS
    /// runtimes): the addresses in the resolver's order, or its status as Node names it
    /// (`ENOTFOUND`, `EAI_AGAIN`, ...). The core shapes the answer
    /// ([`GaiQuery::answer`]). `None` when the resolver was lost.
    fn getaddrinfo(&self, query: GaiQuery) -> BoxFuture<Option<Result<Vec<IpAddr>, ErrorCode>>>;
    /// Remove a Unix socket file (a server's `close()` of a path listener).
    fn unlink(&self, path: &str);
    /// Run `task` to completion in the background, detached from the caller (the
    /// driver uses it to finish a dropped socket's stream: see `SocketDriver`'s `Drop`).
    /// When no task can be started `task` is dropped unfinished, which the driver turns
    /// into a reset of the connection.
    fn spawn(&self, task: BoxFuture<()>);
    /// A new timer (created lazily, from inside a poll).
    fn timer(&self, deadline: Instant) -> Self::Timer;
    /// Ready once `deadline` has passed (re-arming `timer` when the deadline moved).
    fn poll_timer(
        &self,
        timer: &mut Self::Timer,
        deadline: Instant,
        cx: &mut Context<'_>,
    ) -> Poll<()>;

    /// `new net.Socket({fd})`: register a connected std stream; with its local and remote
    /// endpoints. A runtime without OS sockets answers `Unsupported`.
    fn stream_from_std(&self, stream: StdStream) -> io::Result<(Self::Stream, Endpoint, Endpoint)>;
    /// Give the std stream back (for `into_std`).
    fn stream_into_std(&self, stream: Self::Stream) -> io::Result<StdStream>;
    /// `server.listen(handle)`: an already bound std listener as a bound listener, with
    /// its address (as [`bind`](Runtime::bind) gives it).
    fn listener_from_std(
        &self,
        listener: StdListener,
    ) -> io::Result<(Self::Bound, Option<Endpoint>)>;
    /// Give a bound (not yet registered) listener back as a std listener.
    fn bound_into_std(&self, bound: Self::Bound) -> io::Result<StdListener>;
    /// A bound (not yet registered) listener's OS socket (`Server::as_fd`); `None` for a
    /// runtime without OS sockets (the default).
    fn bound_fd<'a>(&self, bound: &'a Self::Bound) -> Option<BorrowedFd<'a>> {
        let _ = bound;
        None
    }
    /// Give a registered listener back as a std listener (for `Server::into_std`).
    fn listener_into_std(&self, listener: Self::Listener) -> io::Result<StdListener>;

    /// Watch a socket driven on this handle (each socket has its own handle: see
    /// [`for_connection`](Runtime::for_connection)): the simulator checks Node's
    /// invariants here. `core` is the socket's state machine after the step. The
    /// default does nothing (and compiles to nothing).
    #[inline]
    fn observe(&self, core: &nodenet_core::Socket, what: Observed<'_, Self::Stream>) {
        let _ = (core, what);
    }

    /// Whether [`observe_server`](Runtime::observe_server) does anything: when `false`
    /// (the default) the driver does not compute what it would be told (the server's
    /// `getConnections()` takes the connection registry's lock).
    const OBSERVES_SERVERS: bool = false;

    /// Watch a server driven on this handle (see [`observe`](Runtime::observe)): its
    /// events as they are handed to the user, and the start of a `shutdown(deadline)`.
    /// `core` is the server's state machine. Called only when
    /// [`OBSERVES_SERVERS`](Runtime::OBSERVES_SERVERS) is `true`; the default does
    /// nothing.
    #[inline]
    fn observe_server<C>(&self, core: &nodenet_core::Server, what: ObservedServer<'_, C>) {
        let _ = (core, what);
    }
}

/// What [`Runtime::observe_server`] is told about a server.
#[derive(Debug)]
pub enum ObservedServer<'a, C> {
    /// An event is handed to the user; `connections` is `getConnections()` at that
    /// point (the core's count less the closes not yet fed to it).
    Event {
        /// The event.
        event: &'a nodenet_core::ServerEvent<C>,
        /// `getConnections()`.
        connections: usize,
    },
    /// Beyond Node: `shutdown(deadline)` began; what is still open at `deadline` is
    /// destroyed.
    Shutdown {
        /// The deadline (a later `shutdown` call while this one runs keeps it).
        deadline: Instant,
    },
}

/// What [`Runtime::observe`] is told about a socket.
#[derive(Debug)]
pub enum Observed<'a, S> {
    /// The socket got its connected stream (accepted, connected or adopted).
    Attached(&'a S),
    /// A user `write` of these bytes is about to be handed to the socket.
    Write(&'a Bytes),
    /// ... and this is what it returned.
    Written(nodenet_core::WriteResult),
    /// An event is handed to the user.
    Event(&'a nodenet_core::SocketEvent),
    /// The socket is dropped (a dropped accepted socket counts as closed for its
    /// server, even when it lingers to flush what it was given).
    Dropped,
}

/// A connected stream, as the driver uses it: non-blocking writes, reads of one chunk,
/// writability, and the socket calls Node's methods make.
pub trait RtStream: Send + 'static {
    /// Write a vector of slices without blocking (`WouldBlock` when the socket takes
    /// nothing now).
    fn try_write_vectored(&self, bufs: &[IoSlice<'_>]) -> io::Result<usize>;
    /// Write queued chunks without blocking, as the `Bytes` the user wrote (the driver
    /// passes at most [`MAX_IOVECS`] of them): what a runtime that can keep them rather
    /// than copy their bytes overrides (the simulation's kernel does). The default is
    /// [`try_write_vectored`](Self::try_write_vectored) of their slices, one slice for
    /// one chunk, so an OS socket makes the same `sendmsg` either way.
    fn try_write_bytes<'a>(
        &self,
        mut chunks: impl Iterator<Item = &'a Bytes> + Clone,
    ) -> io::Result<usize> {
        let Some(first) = chunks.next() else {
            return self.try_write_vectored(&[]);
        };
        let Some(second) = chunks.next() else {
            return self.try_write_vectored(&[IoSlice::new(first)]);
        };
        // On the stack: a queued write must not cost an allocation per `sendmsg`.
        let mut slices = [IoSlice::new(&[]); MAX_IOVECS];
        let mut count = 0;
        let all = [first, second].into_iter().chain(chunks);
        for (slot, chunk) in slices.iter_mut().zip(all) {
            *slot = IoSlice::new(chunk);
            count += 1;
        }
        self.try_write_vectored(slices.get(..count).unwrap_or_default())
    }
    /// One read (see [`OsStream::poll_read_chunk`]): what is available, an empty chunk
    /// at end-of-stream, or `Pending` with the waker registered.
    fn poll_read_chunk(
        &mut self,
        cx: &mut Context<'_>,
        drained: bool,
    ) -> Poll<io::Result<ReadChunk>>;
    /// One read that asks the kernel before it waits for readiness (see
    /// [`OsStream::poll_read_chunk_now`]); the default is `poll_read_chunk(cx, false)`.
    fn poll_read_chunk_now(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<ReadChunk>> {
        self.poll_read_chunk(cx, false)
    }
    /// The read right after a partial read (see [`OsStream::read_chunk_again`]): what
    /// the stream has now, or `None`, possibly without registering the waker. The
    /// default is `poll_read_chunk(cx, drained)`.
    fn read_chunk_again(
        &mut self,
        cx: &mut Context<'_>,
        drained: bool,
    ) -> Option<io::Result<ReadChunk>> {
        match self.poll_read_chunk(cx, drained) {
            Poll::Ready(r) => Some(r),
            Poll::Pending => None,
        }
    }
    /// One read straight into the caller's buffer (see [`OsStream::poll_read_into`]).
    fn poll_read_into(&mut self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>>;
    /// One read into the caller's buffer that asks the kernel before it waits for
    /// readiness (see [`OsStream::poll_read_into_now`]); the default is `poll_read_into`.
    fn poll_read_into_now(
        &mut self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        self.poll_read_into(cx, buf)
    }
    /// Wait for writability (also: a connect finished).
    fn poll_write_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>>;
    /// Bytes the peer sent are waiting to be read (a `recv(MSG_PEEK | MSG_DONTWAIT)` of
    /// one byte): a lingering dropped socket closes only once nothing is left unread.
    fn has_unread(&self) -> bool;
    /// The OS socket, lent for `Socket::as_fd`; `None` for a runtime without OS sockets
    /// (the default).
    fn fd(&self) -> Option<BorrowedFd<'_>> {
        None
    }
    /// `SO_ERROR`: how a finished connect went (taking the error clears it).
    fn take_error(&self) -> io::Result<Option<io::Error>>;
    /// `getsockname`: the local TCP address (`None` for a Unix socket).
    fn local_addr(&self) -> io::Result<Option<SocketAddr>>;
    /// `getpeername`: the remote TCP address (`None` for a Unix socket); fails with
    /// `ENOTCONN` when the connect did not succeed.
    fn peer_addr(&self) -> io::Result<Option<SocketAddr>>;
    /// `shutdown(SHUT_WR)`: send the FIN.
    fn shutdown_write(&self) -> io::Result<()>;
    /// `TCP_NODELAY`.
    fn set_no_delay(&self, enable: bool) -> io::Result<()>;
    /// `setKeepAlive(enable, delay)` with libuv's values (see `set_keep_alive`).
    fn set_keep_alive(&self, enable: bool, initial_delay_secs: u32) -> io::Result<()>;
    /// `SO_LINGER {on, 0}`: closing sends an RST instead of a FIN.
    fn set_linger_zero(&self) -> io::Result<()>;
    /// Keep-alive and `TCP_NODELAY` read back (`None` when the stream is not TCP).
    fn keep_alive_settings(&self) -> Option<io::Result<(KeepAlive, bool)>>;
}

/// A registered listener, as the driver uses it.
pub trait RtListener: Send + 'static {
    /// An accepted connection before its socket registers it
    /// ([`Runtime::register_accepted`]).
    type Accepted: Send + 'static;
    /// Accept one connection without blocking (registers the waker when none is ready):
    /// the connection with its local and remote endpoints. Every accepted connection is
    /// handed on, even one the peer already reset (its bytes are still readable).
    fn poll_accept(
        &self,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<(Self::Accepted, Endpoint, Endpoint)>>;
    /// The OS socket, lent for `Server::as_fd`; `None` for a runtime without OS sockets
    /// (the default).
    fn fd(&self) -> Option<BorrowedFd<'_>> {
        None
    }
}

/// How to bind a listener (the core's `ServerCommand::Listen`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BindOptions {
    /// `listen(2)`'s backlog.
    pub backlog: u32,
    /// `IPV6_V6ONLY` for an IPv6 address.
    pub ipv6_only: bool,
    /// `readableAll`: make a Unix socket file readable by everyone.
    pub readable_all: bool,
    /// `writableAll`: make a Unix socket file writable by everyone.
    pub writable_all: bool,
    /// `reusePort`: `SO_REUSEPORT`, several listeners share the port.
    pub reuse_port: bool,
}

/// A runtime over OS sockets (tokio, smol, the blocking std reactor): what its adapter
/// implements. Every such runtime is a [`Runtime`] through the blanket implementation,
/// which performs the OS operations (socket2 connect/bind/options, getaddrinfo through
/// [`unblock`](OsRuntime::unblock)) the same way for all of them.
pub trait OsRuntime: Clone + Send + Sync + 'static {
    /// [`Async`] or [`Blocking`]: whether `next_event` is an `async fn`.
    type Kind: RuntimeKind;
    /// Connected streams.
    type Stream: OsStream;
    /// Listeners.
    type Listener: OsListener;
    /// A resettable sleep.
    type Timer: Send + 'static;

    /// The handle an accepted connection runs on (the same one for tokio and smol; a new
    /// reactor for the blocking backend, whose sockets are driven by their own threads).
    fn for_connection(&self) -> Self;
    /// Register a non-blocking std stream with the reactor.
    fn stream(&self, stream: StdStream) -> io::Result<Self::Stream>;
    /// Give the std stream back (for `into_std`).
    fn unwrap_stream(&self, stream: Self::Stream) -> io::Result<StdStream>;
    /// Register a non-blocking std listener with the reactor.
    fn listener(&self, listener: StdListener) -> io::Result<Self::Listener>;
    /// Give the std listener back (for `Server::into_std`); `path` is the Unix path.
    fn unwrap_listener(
        &self,
        listener: Self::Listener,
        path: Option<String>,
    ) -> io::Result<StdListener>;
    /// A new timer (created lazily, from inside a poll).
    fn timer(&self, deadline: Instant) -> Self::Timer;
    /// Ready once `deadline` has passed (re-arming `timer` when the deadline moved).
    fn poll_timer(
        &self,
        timer: &mut Self::Timer,
        deadline: Instant,
        cx: &mut Context<'_>,
    ) -> Poll<()>;
    /// Run `task` to completion in the background, detached from the caller (the
    /// driver uses it to finish a dropped socket's stream: see `SocketDriver`'s `Drop`).
    /// tokio spawns a task on the current runtime; smol and std start a thread that
    /// blocks on it (the task is polled with this handle's reactor in scope).
    /// When no task can be started (tokio: outside a runtime) `task` is dropped
    /// unfinished, which the driver turns into a reset of the connection.
    fn spawn(&self, task: BoxFuture<()>);
    /// Run `f` off the event loop (getaddrinfo). `None` when the worker was lost.
    fn unblock<T, F>(&self, f: F) -> BoxFuture<Option<T>>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unix_listener_names_are_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("l.sock");
        let l = UnixListener::bind(&path).unwrap();
        match StdListener::from(l) {
            StdListener::Unix(_, p) => assert_eq!(p, path.to_str().unwrap()),
            other => panic!("{other:?}"),
        }
        let name = format!("\0nodenet-name-{}", std::process::id());
        let l = crate::unix_listen(&name, 4, false, false, false).unwrap();
        match StdListener::from(l) {
            StdListener::Unix(_, p) => assert_eq!(p, name),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn small_reads_are_copied_and_the_pool_is_reused() {
        let mut pool = Vec::with_capacity(READ_CHUNK);
        pool.extend_from_slice(b"ping");
        let base = pool.as_ptr();
        let chunk = take_vec_chunk(&mut pool);
        assert_eq!(&chunk[..], b"ping");
        assert_ne!(chunk.as_ptr(), base, "a small chunk owns its own bytes");
        assert!(pool.is_empty());
        assert_eq!(
            pool.as_ptr(),
            base,
            "the pool keeps its block for the next read"
        );
        assert!(pool.capacity() >= READ_CHUNK);
    }

    #[test]
    fn large_reads_take_the_block_without_a_copy() {
        let mut pool = Vec::with_capacity(READ_CHUNK);
        pool.resize(COPY_BELOW * 2, 7);
        let base = pool.as_ptr();
        let chunk = take_vec_chunk(&mut pool);
        assert_eq!(chunk.len(), COPY_BELOW * 2);
        assert_eq!(chunk.as_ptr(), base, "no copy");
        assert!(chunk.iter().all(|b| *b == 7));
        assert_eq!(pool.capacity(), 0, "the next read reserves a fresh block");
    }

    #[test]
    fn a_bytes_mut_pool_reuses_its_block_once_the_chunk_is_dropped() {
        let mut pool = BytesMut::with_capacity(READ_CHUNK);
        pool.resize(COPY_BELOW * 2, 7);
        let base = pool.as_ptr();
        let chunk = take_bytes_mut_chunk(&mut pool);
        assert_eq!(chunk.as_ptr(), base, "no copy");
        assert_eq!(chunk.len(), COPY_BELOW * 2);
        drop(chunk);
        pool.reserve(READ_CHUNK);
        assert_eq!(pool.as_ptr(), base, "the same block again");
        assert!(pool.capacity() >= READ_CHUNK);
    }

    #[test]
    fn a_bytes_mut_pool_leaves_a_kept_chunk_alone() {
        let mut pool = BytesMut::with_capacity(READ_CHUNK);
        pool.resize(COPY_BELOW * 2, 7);
        let base = pool.as_ptr();
        let kept = take_bytes_mut_chunk(&mut pool);
        pool.reserve(READ_CHUNK);
        assert_ne!(pool.as_ptr(), base, "a fresh block while the chunk lives");
        pool.resize(READ_CHUNK, 9);
        assert!(kept.iter().all(|b| *b == 7), "the kept chunk is untouched");
        let small = {
            pool.truncate(3);
            take_bytes_mut_chunk(&mut pool)
        };
        assert_eq!(&small[..], &[9, 9, 9]);
        assert!(
            pool.is_empty(),
            "a small read is copied out and the pool kept"
        );
    }
}
