//! What a backend implements: a [`Runtime`] handle that wraps std sockets into its
//! reactor's types ([`RtStream`], [`RtListener`]), sleeps until a deadline and runs
//! blocking calls off the event loop.

use std::cell::RefCell;
use std::future::Future;
use std::io::{self, IoSlice};
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::net::{UnixListener, UnixStream};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use bytes::{Bytes, BytesMut};

/// A boxed, sendable future (what [`Runtime::unblock`] returns).
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

/// A stream registered with a runtime's reactor. The `try_*` calls never block and
/// return `WouldBlock` when the socket is not ready; `poll_*_ready` registers the waker
/// and reports readiness (implementations must clear a stale readiness when a `try_*`
/// call returned `WouldBlock`, as tokio and async-io do).
pub trait RtStream: AsFd + Send + 'static {
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
    /// One read straight into the caller's buffer (Node's `onread`, see
    /// `Socket::poll_event_into`): `Ok(n)` with the bytes in `buf[..n]`, `Ok(0)` at
    /// end-of-stream (it is never asked with an empty `buf`), or register the waker and
    /// return `Pending`. The default ([`poll_read_into_default`]) `recv(2)`s first and
    /// waits for readiness on `EAGAIN`; a runtime whose readiness is only cleared by its
    /// own read calls (tokio) overrides it.
    fn poll_read_into(&mut self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        poll_read_into_default(self, cx, buf)
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

/// [`RtStream::poll_read_chunk`]'s default: readiness first when `drained`, then one
/// `recv(2)` into the per-thread pool's spare capacity (rustix's `spare_capacity`).
pub fn poll_read_chunk_default<S: RtStream + ?Sized>(
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
/// what tokio's [`RtStream::poll_read_chunk_now`] does before it waits.
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

/// [`RtStream::poll_read_into`]'s default: `recv(2)` into `buf`, and on `EAGAIN` wait
/// for readability (level- or edge-triggered reactors alike: the read comes first).
pub fn poll_read_into_default<S: RtStream + ?Sized>(
    stream: &S,
    cx: &mut Context<'_>,
    buf: &mut [u8],
) -> Poll<io::Result<usize>> {
    loop {
        match rustix::net::recv(stream.as_fd(), &mut *buf, rustix::net::RecvFlags::empty()) {
            Ok((n, _)) => return Poll::Ready(Ok(n)),
            Err(rustix::io::Errno::INTR) => continue,
            Err(rustix::io::Errno::AGAIN) => match stream.poll_read_ready(cx) {
                Poll::Ready(Ok(())) => continue,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            },
            Err(e) => return Poll::Ready(Err(e.into())),
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
/// [`RtStream::try_write_vectored`] does.
pub fn send_now(socket: &impl AsFd, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
    let sock = socket2::SockRef::from(socket);
    let flags = rustix::net::SendFlags::NOSIGNAL.bits() as std::ffi::c_int;
    match bufs {
        [one] => sock.send_with_flags(one, flags),
        _ => sock.send_vectored_with_flags(bufs, flags),
    }
}

/// Room offered to one read: a read never returns more (libuv reads 64 KiB too).
pub const READ_CHUNK: usize = 64 * 1024;

/// A listener registered with a runtime's reactor (`AsFd`: `Server::as_fd` lends it).
pub trait RtListener: AsFd + Send + 'static {
    /// Accept one connection without blocking (registers the waker when none is ready),
    /// with the peer's TCP address as `accept(2)` reported it (`None` for Unix sockets).
    /// The stream is returned unregistered and non-blocking: the accepted socket registers
    /// it with its own runtime handle ([`Runtime::for_connection`]).
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

/// One async runtime (or the blocking std reactor), as the driver needs it.
pub trait Runtime: Clone + Send + Sync + 'static {
    /// [`Async`] or [`Blocking`]: whether `next_event` is an `async fn`.
    type Kind: RuntimeKind;
    /// Connected streams.
    type Stream: RtStream;
    /// Listeners.
    type Listener: RtListener;
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
