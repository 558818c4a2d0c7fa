//! [`Socket::into_split`]: an owned read half and write half, each usable from its own
//! task (or thread on a blocking runtime), like tokio's `TcpStream::into_split`.
//!
//! Both halves share the one driver behind an internal mutex, held only while a half
//! polls it (never while a blocking half waits). Whichever half polls drives the whole
//! socket, so the driver is polled with one waker that wakes both halves' tasks, and a
//! half that made progress the other one waits for (bytes read, the queue drained, the
//! end reached) wakes it: neither half can sleep through the other's progress.

mod io;

use std::fmt;
use std::marker::PhantomData;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Wake, Waker};

use crate::driver::SocketDriver;
use crate::runtime::{Blocking, BlockingRuntime, Runtime};
use crate::Socket;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while polling (a user's lookup) leaves the state as consistent as it was.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Side {
    Read,
    Write,
}

/// The tasks waiting on each half.
#[derive(Debug, Default)]
struct Waiters {
    read: Option<Waker>,
    write: Option<Waker>,
}

impl Waiters {
    fn slot(&mut self, side: Side) -> &mut Option<Waker> {
        match side {
            Side::Read => &mut self.read,
            Side::Write => &mut self.write,
        }
    }
}

/// The waker the shared driver is polled with: whatever the reactor or a timer wakes
/// reaches both halves' tasks (each half may be the one that has to act on it).
#[derive(Debug, Default)]
struct FanOut(Mutex<Waiters>);

impl FanOut {
    fn register(&self, side: Side, waker: &Waker) {
        let mut waiters = lock(&self.0);
        let slot = waiters.slot(side);
        if !slot.as_ref().is_some_and(|w| w.will_wake(waker)) {
            *slot = Some(waker.clone());
        }
    }

    fn clear(&self, side: Side) {
        lock(&self.0).slot(side).take();
    }

    fn wake_side(&self, side: Side) {
        let waker = lock(&self.0).slot(side).take();
        if let Some(w) = waker {
            w.wake();
        }
    }
}

impl Wake for FanOut {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        let (read, write) = {
            let mut waiters = lock(&self.0);
            (waiters.read.take(), waiters.write.take())
        };
        for w in [read, write].into_iter().flatten() {
            w.wake();
        }
    }
}

/// What a half may be waiting for; when a poll changes it, the other half is woken. (The
/// reader taking bytes out of the buffer changes nothing the writer waits for.)
#[derive(Clone, Copy, PartialEq, Eq)]
struct Progress {
    bytes_read: u64,
    eof: bool,
    error: bool,
    connecting: bool,
    queued: usize,
    finished: bool,
    destroyed: bool,
}

impl Progress {
    fn of<R: Runtime>(d: &SocketDriver<R>) -> Progress {
        let core = d.core();
        Progress {
            bytes_read: core.bytes_read(),
            eof: d.0.rx_eof(),
            error: d.0.rx.as_ref().is_some_and(|rx| rx.error.is_some()),
            connecting: core.connecting(),
            queued: core.writable_length(),
            finished: core.writable_finished(),
            destroyed: core.destroyed(),
        }
    }
}

/// The driver both halves share.
struct Shared<R: Runtime> {
    driver: Mutex<SocketDriver<R>>,
    fan: Arc<FanOut>,
    /// `fan` as a waker, made once.
    waker: Waker,
    rt: R,
}

impl<R: Runtime> Shared<R> {
    /// Poll the driver for `side` with the fan-out waker; wake the other half when the
    /// poll changed something it may wait for.
    fn poll<T>(
        &self,
        side: Side,
        cx: &mut Context<'_>,
        f: impl FnOnce(&mut SocketDriver<R>, &mut Context<'_>) -> Poll<T>,
    ) -> Poll<T> {
        // Before polling, so a wake that comes while this half polls is not lost.
        self.fan.register(side, cx.waker());
        let (r, moved) = {
            let mut driver = lock(&self.driver);
            let before = Progress::of(&driver);
            let r = f(&mut driver, &mut Context::from_waker(&self.waker));
            (r, Progress::of(&driver) != before)
        };
        if r.is_ready() {
            self.fan.clear(side);
        }
        if moved {
            let other = match side {
                Side::Read => Side::Write,
                Side::Write => Side::Read,
            };
            self.fan.wake_side(other);
        }
        r
    }

    fn with<T>(&self, f: impl FnOnce(&mut SocketDriver<R>) -> T) -> T {
        f(&mut lock(&self.driver))
    }
}

/// The read half of a [`Socket`], from [`Socket::into_split`]: implements tokio's
/// `AsyncRead` (feature `tokio`), futures-io's (feature `futures-io`) and, on a blocking
/// runtime, `std::io::Read`. Reads return the bytes received, `Ok(0)` at the end (the
/// peer's FIN, or the socket closed), and the socket's error (`read ECONNRESET`, ...)
/// as an `io::Error`.
///
/// Dropping it stops reading (Node's `pause()`): later bytes stay in the kernel, as
/// they do when tokio's `OwnedReadHalf` is dropped; the write half goes on.
///
/// On the blocking runtime each half blocks its own thread:
///
/// ```
/// use std::io::{Read, Write};
/// use nodenet_std::{connect, ConnectOptions};
///
/// let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
/// let addr = listener.local_addr()?;
/// // A peer that answers every byte with its upper case.
/// std::thread::spawn(move || -> std::io::Result<()> {
///     let (mut peer, _) = listener.accept()?;
///     let mut buf = [0; 64];
///     loop {
///         let n = peer.read(&mut buf)?;
///         if n == 0 { return Ok(()) }
///         peer.write_all(&buf[..n].to_ascii_uppercase())?;
///     }
/// });
///
/// let (mut rd, mut wr) = connect(ConnectOptions::tcp_addr(addr))?.into_split();
/// let writer = std::thread::spawn(move || wr.write_all(b"split"));
/// let mut answer = [0; 5];
/// rd.read_exact(&mut answer)?;
/// assert_eq!(&answer, b"SPLIT");
/// writer.join().unwrap()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct ReadHalf<R: Runtime, K = <R as Runtime>::Kind> {
    shared: Arc<Shared<R>>,
    pause_on_drop: bool,
    kind: PhantomData<fn() -> K>,
}

/// The write half of a [`Socket`], from [`Socket::into_split`]: implements tokio's
/// `AsyncWrite` (feature `tokio`), futures-io's (feature `futures-io`) and, on a
/// blocking runtime, `std::io::Write`.
///
/// Like a `TcpStream`'s, a write reports only bytes the kernel took: nothing it
/// reported sits in a user-space queue, so no byte written through the half is lost
/// when either half (or both) is dropped. Bytes queued with `Socket::write` before the
/// split go out before the half's first write; `flush` is ready once they are out
/// (flush before dropping both halves if the half never wrote). `shutdown`/`close`
/// sends the FIN (`end()`) and waits for `Finish`. Dropping the write half shuts the
/// write side down the same way without waiting (as tokio's `OwnedWriteHalf` does):
/// the peer reads to the end, then sees end-of-stream; the read half goes on.
pub struct WriteHalf<R: Runtime, K = <R as Runtime>::Kind> {
    shared: Arc<Shared<R>>,
    end_on_drop: bool,
    kind: PhantomData<fn() -> K>,
}

/// [`ReadHalf::reunite`] was given a write half of another socket: both halves, back.
pub struct ReuniteError<R: Runtime, K = <R as Runtime>::Kind>(
    /// The read half.
    pub ReadHalf<R, K>,
    /// The write half (of another socket).
    pub WriteHalf<R, K>,
);

impl<R: Runtime, K> Socket<R, K> {
    /// Split the socket into an owned read half and write half, to read in one task
    /// (or thread) and write in another, without a lock of yours: tokio's
    /// `TcpStream::into_split`. The halves implement the runtime's IO traits (see
    /// [`ReadHalf`] and [`WriteHalf`] for their semantics, including drop);
    /// [`ReadHalf::reunite`] gives the socket back.
    ///
    /// While split, the socket is used as a byte stream: its events are consumed by the
    /// halves as the IO traits consume them (`Data` is read, `End`/`Close` are the end,
    /// `Error` is an `io::Error`). Internally both halves share the socket behind a
    /// mutex held only while one of them polls it.
    ///
    /// ```
    /// use tokio::io::{AsyncReadExt, AsyncWriteExt};
    /// use nodenet_tokio::{connect, create_server, ConnectOptions, ListenOptions, ServerEvent,
    ///                     ServerOptions};
    ///
    /// # tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap().block_on(async {
    /// let mut server = create_server(ServerOptions::default());
    /// server.listen(ListenOptions::host_port("127.0.0.1", 0))?;
    /// server.next_event().await; // Listening: bound on the next tick, as in Node
    /// let addr = server.local_addr()?;
    /// // An echo server: the read half in one task, the write half in another.
    /// tokio::spawn(async move {
    ///     while let Some(ev) = server.next_event().await {
    ///         let ServerEvent::Connection(conn) = ev else { continue };
    ///         let (mut rd, mut wr) = conn.into_split();
    ///         let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<u8>>(4);
    ///         tokio::spawn(async move {
    ///             let mut buf = vec![0; 4096];
    ///             while let Ok(n @ 1..) = rd.read(&mut buf).await {
    ///                 if tx.send(buf[..n].to_vec()).await.is_err() { break }
    ///             }
    ///         });
    ///         tokio::spawn(async move {
    ///             while let Some(chunk) = rx.recv().await {
    ///                 if wr.write_all(&chunk).await.is_err() { break }
    ///             }
    ///             // Dropping `wr` sends the FIN.
    ///         });
    ///     }
    /// });
    ///
    /// let mut client = connect(ConnectOptions::tcp_addr(addr))?;
    /// client.write_all(b"ping").await?;
    /// client.shutdown().await?;
    /// let mut echoed = Vec::new();
    /// client.read_to_end(&mut echoed).await?;
    /// assert_eq!(echoed, b"ping");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// ```
    pub fn into_split(self) -> (ReadHalf<R, K>, WriteHalf<R, K>) {
        let rt = self.driver.runtime().clone();
        let fan = Arc::new(FanOut::default());
        let shared = Arc::new(Shared {
            driver: Mutex::new(self.driver),
            waker: Waker::from(Arc::clone(&fan)),
            fan,
            rt,
        });
        let read = ReadHalf {
            shared: Arc::clone(&shared),
            pause_on_drop: true,
            kind: PhantomData,
        };
        let write = WriteHalf {
            shared,
            end_on_drop: true,
            kind: PhantomData,
        };
        (read, write)
    }
}

impl<R: Runtime, K> ReadHalf<R, K> {
    /// Put the socket back together (tokio's `OwnedReadHalf::reunite`): `Err` with both
    /// halves when `write` came from another socket. Bytes received but not yet read
    /// stay buffered for the socket's IO traits (read them there, not with
    /// `next_event`); a reunited socket is not shut down or paused.
    ///
    /// ```
    /// use nodenet_std::{connect, ConnectOptions};
    ///
    /// let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    /// let addr = listener.local_addr()?;
    /// let (rd, wr) = connect(ConnectOptions::tcp_addr(addr))?.into_split();
    /// let (other_rd, other_wr) = connect(ConnectOptions::tcp_addr(addr))?.into_split();
    /// let nodenet::ReuniteError(rd, other_wr) = rd.reunite(other_wr).unwrap_err();
    /// let mut socket = rd.reunite(wr).map_err(|_| "same socket")?;
    /// socket.connected()?;
    /// let _other = other_rd.reunite(other_wr).map_err(|_| "same socket")?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn reunite(
        mut self,
        mut write: WriteHalf<R, K>,
    ) -> Result<Socket<R, K>, ReuniteError<R, K>> {
        if !Arc::ptr_eq(&self.shared, &write.shared) {
            return Err(ReuniteError(self, write));
        }
        self.pause_on_drop = false;
        write.end_on_drop = false;
        let shared = Arc::clone(&self.shared);
        drop((self, write));
        // The two halves held the only other references, and both are gone.
        let Ok(shared) = Arc::try_unwrap(shared) else {
            unreachable!("a socket's halves are its only owners")
        };
        let driver = shared
            .driver
            .into_inner()
            .unwrap_or_else(|e| e.into_inner());
        Ok(Socket::from_driver(driver))
    }

    /// The remote address (see [`Socket::peer_addr`]).
    pub fn peer_addr(&self) -> std::io::Result<std::net::SocketAddr> {
        self.shared.with(|d| d.tcp_addr(true))
    }

    /// The local address (see [`Socket::local_addr`]).
    pub fn local_addr(&self) -> std::io::Result<std::net::SocketAddr> {
        self.shared.with(|d| d.tcp_addr(false))
    }

    fn poll<T>(
        &self,
        cx: &mut Context<'_>,
        f: impl FnOnce(&mut SocketDriver<R>, &mut Context<'_>) -> Poll<T>,
    ) -> Poll<T> {
        self.shared.poll(Side::Read, cx, f)
    }
}

impl<R: Runtime, K> WriteHalf<R, K> {
    /// Put the socket back together: [`ReadHalf::reunite`] from this side.
    pub fn reunite(self, read: ReadHalf<R, K>) -> Result<Socket<R, K>, ReuniteError<R, K>> {
        read.reunite(self)
    }

    /// The remote address (see [`Socket::peer_addr`]).
    pub fn peer_addr(&self) -> std::io::Result<std::net::SocketAddr> {
        self.shared.with(|d| d.tcp_addr(true))
    }

    /// The local address (see [`Socket::local_addr`]).
    pub fn local_addr(&self) -> std::io::Result<std::net::SocketAddr> {
        self.shared.with(|d| d.tcp_addr(false))
    }

    fn poll<T>(
        &self,
        cx: &mut Context<'_>,
        f: impl FnOnce(&mut SocketDriver<R>, &mut Context<'_>) -> Poll<T>,
    ) -> Poll<T> {
        self.shared.poll(Side::Write, cx, f)
    }
}

impl<R: BlockingRuntime> WriteHalf<R, Blocking> {
    /// The blocking `shutdown`: `end()` and block until `Finish` (or the socket is gone).
    /// Dropping the write half does the same without waiting.
    pub fn shutdown_write(&mut self) -> std::io::Result<()> {
        let rt = self.shared.rt.clone();
        rt.block_on(|cx| self.poll(cx, |d, cx| d.poll_end(cx)))
    }
}

impl<R: Runtime, K> Drop for ReadHalf<R, K> {
    fn drop(&mut self) {
        if !self.pause_on_drop {
            return;
        }
        self.shared.with(|d| {
            if let Some(rx) = d.0.rx.as_deref_mut() {
                rx.chunks.clear();
            }
            d.core_mut().pause();
            d.after_user_call();
        });
    }
}

impl<R: Runtime, K> Drop for WriteHalf<R, K> {
    fn drop(&mut self) {
        if !self.end_on_drop {
            return;
        }
        self.shared.with(|d| {
            if !d.core().writable_ended() && !d.core().destroyed() {
                let _ = d.core_mut().end(R::now());
                d.after_user_call();
            }
        });
        // Bytes queued before the split (and so the FIN) may still wait for the socket
        // to be writable: the read half's polls drive them.
        self.shared.fan.wake_side(Side::Read);
    }
}

impl<R: Runtime, K> fmt::Debug for ReadHalf<R, K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReadHalf").finish_non_exhaustive()
    }
}

impl<R: Runtime, K> fmt::Debug for WriteHalf<R, K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WriteHalf").finish_non_exhaustive()
    }
}

impl<R: Runtime, K> fmt::Debug for ReuniteError<R, K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ReuniteError").finish_non_exhaustive()
    }
}

impl<R: Runtime, K> fmt::Display for ReuniteError<R, K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("tried to reunite halves of different sockets")
    }
}

impl<R: Runtime, K> std::error::Error for ReuniteError<R, K> {}
