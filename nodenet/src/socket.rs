//! [`Socket`]: Node's `net.Socket`, generic over the [`Runtime`] it runs on. Every
//! method is an ordinary inherent method; each one hands the call to the core state
//! machine (`nodenet_core::Socket`, which decides everything Node decides) through the
//! IO driver, which performs the IO the core asks for.

use std::fmt;
use std::marker::PhantomData;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use bytes::Bytes;
use nodenet_core::{
    ConnectOptions, Error, Family, NumberArg, ReadyState, SocketEvent, SocketOptions, WriteResult,
};

use crate::driver::SocketDriver;
use crate::runtime::{Async, AsyncRuntime, Blocking, BlockingRuntime, Runtime, StdStream};
use crate::{KeepAlive, Lookup};

/// Node's `net.Socket` on runtime `R`: a TCP or Unix-socket (IPC) connection.
///
/// A `Socket` owns the core state machine and the OS socket directly, with no task or
/// channel in between, so it makes progress while its owner polls it ([`next_event`],
/// [`poll_event`], the IO traits) or calls it ([`write`](Self::write) hands the bytes to
/// the kernel at once when it can), like any Rust IO object. A client therefore starts
/// connecting when it is first polled.
///
/// Users normally name it through a backend: `nodenet_tokio::Socket`,
/// `nodenet_smol::Socket` (both `async`) or `nodenet_std::Socket` (blocking). Code
/// written once for every async runtime takes a `Socket<R>` with `R: AsyncRuntime`.
///
/// The second parameter `K` is always `R`'s [`Runtime::Kind`] (its default); it only
/// lets [`next_event`] be `async` for async runtimes and blocking for the blocking one.
///
/// # Example
///
/// A client written once for every async runtime: send a line, end, and collect the
/// answer until the peer ends too (`next_event` returns `None` after `Close`).
///
/// ```
/// use nodenet::{AsyncRuntime, ConnectOptions, Socket, SocketEvent, SocketOptions};
///
/// async fn ask<R: AsyncRuntime + Default>(port: u16, line: &str) -> nodenet::Result<Vec<u8>> {
///     let mut socket = Socket::<R>::new(SocketOptions::default());
///     socket.connect(ConnectOptions::tcp(port, "127.0.0.1"))?;
///     socket.end_with(line.to_owned()); // queued until Connect, then the FIN
///     let mut answer = Vec::new();
///     while let Some(event) = socket.next_event().await {
///         match event {
///             SocketEvent::Data(chunk) => answer.extend_from_slice(&chunk),
///             SocketEvent::Error(e) => return Err(e), // Close follows; we stop here
///             _ => {} // Lookup, ConnectionAttempt, Connect, Ready, Finish, End, Close
///         }
///     }
///     Ok(answer)
/// }
///
/// // A peer that answers "hi" with "HI" and ends: std's own listener, on a thread.
/// let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
/// let port = listener.local_addr()?.port();
/// std::thread::spawn(move || -> std::io::Result<()> {
///     use std::io::{Read, Write};
///     let (mut peer, _) = listener.accept()?;
///     let mut line = String::new();
///     peer.read_to_string(&mut line)?;
///     peer.write_all(line.to_uppercase().as_bytes())
/// });
///
/// let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
/// let answer = rt.block_on(ask::<nodenet_tokio::TokioRuntime>(port, "hi"))?;
/// assert_eq!(answer, b"HI");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// [`next_event`]: Socket::next_event
/// [`poll_event`]: Socket::poll_event
pub struct Socket<R: Runtime, K = <R as Runtime>::Kind> {
    pub(crate) driver: SocketDriver<R>,
    kind: PhantomData<fn() -> K>,
}

impl<R: Runtime, K> fmt::Debug for Socket<R, K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.driver, f)
    }
}

impl<R: Runtime> Socket<R> {
    /// `new net.Socket(options)` on the runtime handle `rt`: unconnected; call
    /// [`connect`](Self::connect).
    pub fn with_runtime(rt: R, options: SocketOptions) -> Self {
        Socket::from_driver(SocketDriver::new(rt, options))
    }

    /// `new net.Socket({fd})` on the runtime handle `rt`: wrap a connected std stream,
    /// open at once with `options` applied (no-delay, keep-alive, pause-on-connect).
    pub fn from_std_with_runtime(
        rt: R,
        stream: impl Into<StdStream>,
        options: SocketOptions,
    ) -> std::io::Result<Self> {
        SocketDriver::from_std(rt, stream.into(), options).map(Socket::from_driver)
    }
}

impl<R: Runtime + Default> Socket<R> {
    /// `new net.Socket(options)`: unconnected; call [`connect`](Self::connect).
    pub fn new(options: SocketOptions) -> Self {
        Self::with_runtime(R::default(), options)
    }

    /// `new net.Socket({fd})`: wrap a connected std stream (`std::net::TcpStream` or
    /// `std::os::unix::net::UnixStream`), open at once with `options` applied.
    pub fn from_std(stream: impl Into<StdStream>, options: SocketOptions) -> std::io::Result<Self> {
        Self::from_std_with_runtime(R::default(), stream, options)
    }
}

impl<R: Runtime, K> Socket<R, K> {
    pub(crate) fn from_driver(driver: SocketDriver<R>) -> Self {
        Socket {
            driver,
            kind: PhantomData,
        }
    }

    /// Take the OS stream back (left non-blocking); `None` without a connection. The
    /// socket is destroyed without closing the stream.
    pub fn into_std(self) -> std::io::Result<Option<StdStream>> {
        self.driver.into_std()
    }

    /// `socket.connect(options)`: TCP (`ConnectOptions::tcp(port, host)`) or IPC
    /// (`ConnectOptions::path(p)`). Validation errors are returned as Node throws them;
    /// the lookup, the attempts and `Connect` happen while the socket is polled.
    ///
    /// Connecting again while a connect is in progress fails the socket with
    /// `connect EALREADY`, as in Node; on a connected socket with `connect EISCONN`,
    /// deliberately unlike Node, whose second connect reports a second connection on the
    /// same socket ([`nodenet_core::socket::Socket::connect`] gives the reason). A
    /// destroyed socket can connect again (a fresh lifecycle).
    pub fn connect(&mut self, options: ConnectOptions) -> nodenet_core::Result<()> {
        self.driver.connect(options)
    }

    /// Node's `lookup` option: resolve names with `lookup` instead of the system
    /// resolver, for every later [`connect`](Self::connect) by name.
    pub fn set_lookup(&mut self, lookup: impl Lookup) {
        self.driver
            .set_lookup(crate::driver::CustomLookup::Sync(Arc::new(lookup)));
    }

    /// `socket.write(data)`: queue the bytes and try to send them at once. `false` means
    /// the queue reached the high-water mark: wait for [`SocketEvent::Drain`]. No
    /// [`SocketEvent::WriteDone`] follows (Node calls no callback it was not given); a
    /// failure Node reports through `'error'` still arrives as [`SocketEvent::Error`].
    ///
    /// `data` is anything that becomes [`Bytes`] without a copy: `Vec<u8>`, `String`,
    /// `Bytes` (a [`SocketEvent::Data`] chunk, for an echo), `&'static str` or
    /// `&'static [u8]`. The socket may hold the bytes after the call returns, so a
    /// borrowed buffer does not fit (rustc then asks for a `'static` borrow); copy it:
    /// `Bytes::copy_from_slice(&buf[..n])` or `buf[..n].to_vec()`. The IO traits
    /// (`write_all(&buf[..n])`) take borrowed slices.
    ///
    /// ```
    /// use nodenet_tokio::{connect, Bytes, ConnectOptions};
    ///
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
    /// let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    /// let mut socket = connect(ConnectOptions::tcp_addr(listener.local_addr()?))?;
    /// let buf = [b'h', b'i', b'!', 0, 0];
    /// socket.write("static text");
    /// socket.write(format!("{} owned", 2));
    /// socket.write(Bytes::copy_from_slice(&buf[..3])); // a borrowed slice, copied
    /// assert_eq!(socket.writable_length(), 11 + 7 + 3); // queued until connected
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # })?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn write(&mut self, data: impl Into<Bytes>) -> bool {
        self.driver.write(data.into())
    }

    /// `socket.write(data, callback)`: [`write`](Self::write), then one
    /// [`SocketEvent::WriteDone`] carrying the returned `id` once the bytes reached the
    /// kernel (`Ok`) or the write failed (`ERR_STREAM_DESTROYED`, `EPIPE`, ...).
    pub fn write_tracked(&mut self, data: impl Into<Bytes>) -> WriteResult {
        self.driver.write_tracked(data.into())
    }

    /// `socket.end()`: send the FIN once everything queued is written
    /// ([`SocketEvent::Finish`]). tokio's `shutdown()` (the IO traits' `shutdown`/`close`
    /// call this, then wait for `Finish`).
    #[doc(alias = "shutdown")]
    pub fn end(&mut self) -> nodenet_core::Result<()> {
        let r = self.driver.core_mut().end(R::now());
        self.driver.after_user_call();
        r
    }

    /// `socket.end(data)`: [`write`](Self::write) then [`end`](Self::end); returns the
    /// write's boolean.
    pub fn end_with(&mut self, data: impl Into<Bytes>) -> bool {
        let ok = self.driver.write(data.into());
        // A failed end() after a write is reported through events, as in Node.
        let _ = self.driver.core_mut().end(R::now());
        self.driver.after_user_call();
        ok
    }

    /// `socket.destroy([err])`: close now ([`SocketEvent::Error`] first when `err` is
    /// given, then [`SocketEvent::Close`]).
    pub fn destroy(&mut self, err: Option<Error>) {
        self.driver.core_mut().destroy(err);
        self.driver.after_user_call();
    }

    /// `socket.destroySoon()`: [`end`](Self::end), then destroy after `Finish`.
    pub fn destroy_soon(&mut self) {
        self.driver.core_mut().destroy_soon(R::now());
        self.driver.after_user_call();
    }

    /// `socket.resetAndDestroy()`: close with an RST (`SO_LINGER` 0).
    pub fn reset_and_destroy(&mut self) -> nodenet_core::Result<()> {
        let r = self.driver.core_mut().reset_and_destroy();
        self.driver.after_user_call();
        r
    }

    /// `socket.pause()`: stop reading (no `Data` until [`resume`](Self::resume)).
    pub fn pause(&mut self) {
        self.driver.core_mut().pause();
        self.driver.after_user_call();
    }

    /// `socket.resume()`: deliver buffered data and read again.
    pub fn resume(&mut self) {
        self.driver.core_mut().resume(R::now());
        self.driver.after_user_call();
    }

    /// `socket.setTimeout(msecs)`: [`SocketEvent::Timeout`] after `msecs` of inactivity
    /// (0 disables). Node's validation errors are returned. `msecs` is any Rust number of
    /// milliseconds, as in Node (`set_timeout(30_000)`; from a `Duration`:
    /// `set_timeout(d.as_millis() as u64)`). The socket stays open: end or destroy it
    /// on `Timeout` if that is what the timeout is for.
    pub fn set_timeout(&mut self, msecs: impl Into<NumberArg>) -> nodenet_core::Result<()> {
        self.driver.core_mut().set_timeout(msecs, R::now())
    }

    /// `socket.setNoDelay(enable)`: `TCP_NODELAY` (tokio's `set_nodelay`), applied now
    /// or once connected.
    #[doc(alias = "set_nodelay")]
    pub fn set_no_delay(&mut self, enable: bool) {
        self.driver.core_mut().set_no_delay(enable);
        self.driver.after_user_call();
    }

    /// `socket.setKeepAlive(enable, initialDelayMs)`: `SO_KEEPALIVE`, with the first
    /// probe after `initialDelayMs` of idleness (whole seconds; 0 keeps the OS default).
    #[doc(alias = "set_keepalive")]
    pub fn set_keep_alive(&mut self, enable: bool, initial_delay_ms: impl Into<NumberArg>) {
        self.driver
            .core_mut()
            .set_keep_alive(enable, initial_delay_ms);
        self.driver.after_user_call();
    }

    /// `socket.setEncoding(encoding)`: deliver [`SocketEvent::Text`] instead of
    /// [`SocketEvent::Data`].
    pub fn set_encoding(&mut self, encoding: &str) -> nodenet_core::Result<()> {
        self.driver.core_mut().set_encoding(encoding)
    }

    /// Drive the socket until it has an event for the user: `Ready(None)` once nothing
    /// more can happen (after `Close`, or never connected). Cancel-safe: an event is only
    /// taken out of the socket when `Ready` is returned. Executor-agnostic; the async
    /// `next_event` is `poll_fn` over it.
    #[must_use = "a Ready event is taken out of the socket and lost when ignored"]
    pub fn poll_event(&mut self, cx: &mut Context<'_>) -> Poll<Option<SocketEvent>> {
        self.driver.poll_event(cx)
    }

    /// `socket.readyState`.
    pub fn ready_state(&self) -> ReadyState {
        self.driver.core().ready_state()
    }

    /// `socket.connecting`.
    pub fn connecting(&self) -> bool {
        self.driver.core().connecting()
    }

    /// `socket.pending`.
    pub fn pending(&self) -> bool {
        self.driver.core().pending()
    }

    /// `socket.destroyed`.
    pub fn destroyed(&self) -> bool {
        self.driver.core().destroyed()
    }

    /// `socket.bytesRead`.
    pub fn bytes_read(&self) -> u64 {
        self.driver.core().bytes_read()
    }

    /// `socket.bytesWritten`.
    pub fn bytes_written(&self) -> u64 {
        self.driver.core().bytes_written()
    }

    /// `socket.writableLength`.
    pub fn writable_length(&self) -> usize {
        self.driver.core().writable_length()
    }

    /// `socket.bufferSize`: the writable length while the socket has a handle (from
    /// `connect` until `destroy`), `None` (Node's `undefined`) otherwise.
    pub fn buffer_size(&self) -> Option<usize> {
        self.driver.core().buffer_size()
    }

    /// `socket.remoteAddress`.
    pub fn remote_address(&self) -> Option<IpAddr> {
        self.driver.core().remote_address()
    }

    /// `socket.remotePort`.
    pub fn remote_port(&self) -> Option<u16> {
        self.driver.core().remote_port()
    }

    /// `socket.remoteFamily`.
    pub fn remote_family(&self) -> Option<Family> {
        self.driver.core().remote_family()
    }

    /// `socket.localAddress`.
    pub fn local_address(&self) -> Option<IpAddr> {
        self.driver.core().local_address()
    }

    /// `socket.localPort`.
    pub fn local_port(&self) -> Option<u16> {
        self.driver.core().local_port()
    }

    /// `socket.localFamily`.
    pub fn local_family(&self) -> Option<Family> {
        self.driver.core().local_family()
    }

    /// `socket.address()` (`None` is Node's `{}`).
    pub fn address(&self) -> Option<SocketAddr> {
        self.driver.core().address()
    }

    /// `socket.timeout`: the idle timeout in milliseconds, `None` when unset.
    pub fn timeout(&self) -> Option<f64> {
        self.driver.core().timeout()
    }

    /// `socket.autoSelectFamilyAttemptedAddresses`.
    pub fn auto_select_family_attempted_addresses(&self) -> Option<Vec<String>> {
        self.driver
            .core()
            .auto_select_family_attempted_addresses()
            .map(<[String]>::to_vec)
    }

    /// The core state machine, for every other Node getter (`readable`,
    /// `writable_ended`, `writable_need_drain`, `readable_length`, ...).
    pub fn core(&self) -> &nodenet_core::Socket {
        self.driver.core()
    }

    /// Keep-alive and `TCP_NODELAY` as the kernel has them (getsockopt); `None` without
    /// a TCP connection.
    pub fn keep_alive_settings(&self) -> Option<std::io::Result<(KeepAlive, bool)>> {
        self.driver.keep_alive_settings()
    }

    /// The runtime handle this socket runs on.
    pub fn runtime(&self) -> &R {
        self.driver.runtime()
    }
}

impl<R: AsyncRuntime> Socket<R, Async> {
    /// The next event, driving the IO until there is one; `None` once nothing more can
    /// happen (after `Close`, or never connected). Cancel-safe (see
    /// [`poll_event`](Self::poll_event)).
    pub async fn next_event(&mut self) -> Option<SocketEvent> {
        std::future::poll_fn(|cx| self.driver.poll_event(cx)).await
    }
}

impl<R: BlockingRuntime> Socket<R, Blocking> {
    /// The next event, blocking the calling thread while driving the IO; `None` once
    /// nothing more can happen (after `Close`, or never connected).
    pub fn next_event(&mut self) -> Option<SocketEvent> {
        let (rt, driver) = (self.driver.runtime().clone(), &mut self.driver);
        rt.block_on(|cx| driver.poll_event(cx))
    }

    /// The next event, waiting at most until `deadline` (like
    /// `TcpStream::set_read_timeout`): `Poll::Pending` when the deadline passed first
    /// (the IO was still checked once, so a past deadline polls without waiting),
    /// `Ready(None)` as [`next_event`](Self::next_event). With it one thread can drive
    /// several sockets; the async runtimes get the same from their timeouts.
    pub fn next_event_until(&mut self, deadline: Instant) -> Poll<Option<SocketEvent>> {
        let (rt, driver) = (self.driver.runtime().clone(), &mut self.driver);
        rt.block_until(deadline, |cx| driver.poll_event(cx))
    }

    /// The blocking counterpart of `AsyncWrite::poll_shutdown`: [`end`](Self::end) and
    /// block until `Finish` (or the socket is gone).
    pub fn shutdown_write(&mut self) -> std::io::Result<()> {
        let (rt, driver) = (self.driver.runtime().clone(), &mut self.driver);
        rt.block_on(|cx| driver.poll_end(cx))
    }
}
