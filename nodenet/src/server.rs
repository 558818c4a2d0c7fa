//! [`Server`]: Node's `net.Server`, generic over the [`Runtime`] it runs on. Every method
//! is an ordinary inherent method handing the call to the core state machine
//! (`nodenet_core::Server`) through the IO driver; accepted connections come out as
//! [`Socket`]s on the same runtime.

use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use nodenet_core::{Endpoint, ListenOptions, ServerOptions};

use crate::driver::ServerDriver;
use crate::runtime::{Async, AsyncRuntime, Blocking, BlockingRuntime, Runtime, StdListener};
use crate::{Lookup, Socket};

/// A server event, with each accepted connection as a [`Socket`] on runtime `R`: Node's
/// `'listening'`, `'connection'`, `'drop'`, `'error'` and `'close'` (plus `Blocked`,
/// beyond Node). The same enum as the core's, carrying a socket instead of the core's
/// accepted-connection record.
pub type ServerEvent<R> = nodenet_core::ServerEvent<Socket<R>>;

/// Node's `net.Server` on runtime `R`: owns the core state machine and the listener.
/// Accepted sockets report their close back to it, which is how
/// [`connections`](Self::connections), [`close`](Self::close) and `shutdown` know.
///
/// Users normally name it through a backend (`nodenet_tokio::Server`, ...); code
/// written once for every async runtime takes a `Server<R>` with `R: AsyncRuntime`.
/// `K` is always `R`'s [`Runtime::Kind`] (see [`Socket`]).
///
/// # Example
///
/// Node's echo server, written once for every async runtime. It serves one connection
/// at a time to stay short; a real server gives each accepted socket to a task of its
/// own (`tokio::spawn`, `smol::spawn`) and goes back to `next_event` at once.
///
/// ```
/// use nodenet::{AsyncRuntime, ListenOptions, Server, ServerEvent, ServerOptions, SocketEvent};
///
/// async fn echo<R: AsyncRuntime>(mut server: Server<R>, connections: usize) {
///     let mut served = 0;
///     while let Some(event) = server.next_event().await {
///         match event {
///             ServerEvent::Listening => {}
///             ServerEvent::Connection(mut socket) => {
///                 while let Some(event) = socket.next_event().await {
///                     match event {
///                         SocketEvent::Data(chunk) => _ = socket.write(chunk),
///                         // The peer ended: end our side too (Node's allowHalfOpen
///                         // false does this by itself; written out here to show it).
///                         SocketEvent::End => _ = socket.end(),
///                         _ => {}
///                     }
///                 }
///                 served += 1;
///                 if served == connections {
///                     server.close(); // Close comes once no connection is open
///                 }
///             }
///             ServerEvent::Error(e) => eprintln!("server: {e}"), // e.g. accept EMFILE
///             ServerEvent::Close => break,
///             _ => {} // Drop (maxConnections), Blocked (the block list)
///         }
///     }
/// }
///
/// let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
/// rt.block_on(async {
///     let mut server = Server::<nodenet_tokio::TokioRuntime>::new(ServerOptions::default());
///     server.listen(ListenOptions::port(0).host("127.0.0.1"))?;
///     assert!(matches!(server.next_event().await, Some(ServerEvent::Listening)));
///     let port = server.local_addr()?.port();
///
///     let client = std::thread::spawn(move || -> std::io::Result<String> {
///         use std::io::{Read, Write};
///         let mut peer = std::net::TcpStream::connect(("127.0.0.1", port))?;
///         peer.write_all(b"ping")?;
///         peer.shutdown(std::net::Shutdown::Write)?;
///         let mut answer = String::new();
///         peer.read_to_string(&mut answer)?;
///         Ok(answer)
///     });
///     echo(server, 1).await;
///     assert_eq!(client.join().unwrap()?, "ping");
///     Ok::<(), Box<dyn std::error::Error>>(())
/// })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Server<R: Runtime, K = <R as Runtime>::Kind> {
    pub(crate) driver: ServerDriver<R>,
    kind: PhantomData<fn() -> K>,
}

impl<R: Runtime, K> fmt::Debug for Server<R, K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.driver, f)
    }
}

impl<R: Runtime> Server<R> {
    /// `net.createServer(options)` on the runtime handle `rt`.
    pub fn with_runtime(rt: R, options: ServerOptions) -> Self {
        Server::from_driver(ServerDriver::new(rt, options))
    }

    /// `server.listen({fd})` on the runtime handle `rt`: serve on an already bound and
    /// listening std listener.
    pub fn from_std_with_runtime(
        rt: R,
        listener: impl Into<StdListener>,
        options: ServerOptions,
    ) -> nodenet_core::Result<Self> {
        ServerDriver::from_std(rt, listener.into(), options).map(Server::from_driver)
    }
}

impl<R: Runtime + Default> Server<R> {
    /// `net.createServer(options)`.
    pub fn new(options: ServerOptions) -> Self {
        Self::with_runtime(R::default(), options)
    }

    /// `server.listen({fd})`: serve on an already bound and listening
    /// `std::net::TcpListener` or `std::os::unix::net::UnixListener`.
    pub fn from_std(
        listener: impl Into<StdListener>,
        options: ServerOptions,
    ) -> nodenet_core::Result<Self> {
        Self::from_std_with_runtime(R::default(), listener, options)
    }
}

impl<R: Runtime, K> Server<R, K> {
    fn from_driver(driver: ServerDriver<R>) -> Self {
        Server {
            driver,
            kind: PhantomData,
        }
    }

    /// Take the listening socket back (`None` without one); the server stops without
    /// closing it or unlinking its file.
    pub fn into_std(self) -> std::io::Result<Option<StdListener>> {
        self.driver.into_std()
    }

    /// `server.listen(options)`: port/host/backlog/ipv6_only, or path/readable_all/
    /// writable_all. Node's synchronous errors (`ERR_SOCKET_BAD_PORT`,
    /// `ERR_SERVER_ALREADY_LISTEN`, ...) are returned; bind failures arrive as
    /// [`ServerEvent::Error`](nodenet_core::ServerEvent::Error), before any `Listening`.
    /// `listened()` waits for either (tokio's `TcpListener::bind(addr).await?`).
    pub fn listen(&mut self, options: ListenOptions) -> nodenet_core::Result<()> {
        self.driver.listen(options)
    }

    /// `server.close()`: stop accepting; `Close` comes once every connection closed.
    /// `Err(ERR_SERVER_NOT_RUNNING)` when it was not listening (Node's callback error).
    pub fn close(&mut self) -> nodenet_core::Result<()> {
        self.driver.close()
    }

    /// `server.address()`.
    pub fn address(&self) -> Option<Endpoint> {
        self.driver.core().address()
    }

    /// `server.listening`.
    pub fn listening(&self) -> bool {
        self.driver.core().listening()
    }

    /// `server.getConnections()`: accepted connections not yet closed.
    pub fn connections(&self) -> usize {
        self.driver.connections()
    }

    /// `server.maxConnections`.
    pub fn max_connections(&self) -> Option<u32> {
        self.driver.core().max_connections()
    }

    /// `server.maxConnections = n` (`None` = unlimited).
    pub fn set_max_connections(&mut self, max: Option<u32>) {
        self.driver.core_mut().set_max_connections(max)
    }

    /// A resolver for `listen({host})` instead of the system one.
    pub fn set_lookup(&mut self, lookup: impl Lookup) {
        self.driver.set_lookup(Arc::new(lookup));
    }

    /// Beyond Node: failed `accept(2)` calls so far. A burst of failures (`EMFILE`
    /// while descriptors are exhausted) is reported once as `ServerEvent::Error`
    /// (`accept EMFILE`) and retried after growing pauses (10 ms doubling to 250 ms);
    /// queued connections are served once descriptors free up.
    pub fn accept_failures(&self) -> u64 {
        self.driver.accept_failures()
    }

    /// The core state machine.
    pub fn core(&self) -> &nodenet_core::Server {
        self.driver.core()
    }

    /// The runtime handle this server runs on.
    pub fn runtime(&self) -> &R {
        self.driver.runtime()
    }

    /// Accept and drive the server until it has an event: `Ready(None)` once nothing
    /// more can happen. Cancel-safe: an event leaves the server only with `Ready`.
    #[must_use = "a Ready event (maybe a connection) is lost when ignored"]
    pub fn poll_event(&mut self, cx: &mut Context<'_>) -> Poll<Option<ServerEvent<R>>> {
        self.driver
            .poll_event(cx)
            .map(|e| e.map(|e| e.map_connection(Socket::from_driver)))
    }

    /// Drive [`shutdown`](Server::shutdown) (beyond Node): stop accepting, `end()` every
    /// open connection, destroy those still open at `deadline`; `Ready` once all are
    /// closed.
    #[must_use = "the shutdown is only complete when this returns Ready"]
    pub fn poll_shutdown(&mut self, cx: &mut Context<'_>, deadline: Instant) -> Poll<()> {
        self.driver.poll_shutdown(cx, deadline)
    }
}

impl<R: AsyncRuntime> Server<R, Async> {
    /// The next event (`Listening`, `Connection(Socket)`, `Drop`, `Error`, `Close`),
    /// accepting meanwhile; `None` once nothing more can happen. Cancel-safe. tokio's
    /// `TcpListener::accept` is the `Connection` event.
    #[doc(alias = "accept")]
    pub async fn next_event(&mut self) -> Option<ServerEvent<R>> {
        std::future::poll_fn(|cx| self.poll_event(cx)).await
    }

    /// Beyond Node: stop accepting, `end()` every open connection, destroy those still
    /// open at `deadline`, and return once all are closed. The sockets' owners must keep
    /// polling them (their tasks are woken for the requests); dropping a socket counts
    /// as closing it. The server's events meanwhile, its `Close` included, are
    /// discarded: `next_event` returns `None` afterwards.
    pub async fn shutdown(&mut self, deadline: Instant) {
        std::future::poll_fn(|cx| self.driver.poll_shutdown(cx, deadline)).await
    }
}

impl<R: BlockingRuntime> Server<R, Blocking> {
    /// The next event (`Listening`, `Connection(Socket)`, `Drop`, `Error`, `Close`),
    /// blocking while accepting; `None` once nothing more can happen.
    #[doc(alias = "accept")]
    pub fn next_event(&mut self) -> Option<ServerEvent<R>> {
        let rt = self.driver.runtime().clone();
        rt.block_on(|cx| self.poll_event(cx))
    }

    /// The next event, waiting at most until `deadline` (see
    /// [`Socket::next_event_until`]).
    pub fn next_event_until(&mut self, deadline: Instant) -> Poll<Option<ServerEvent<R>>> {
        let rt = self.driver.runtime().clone();
        rt.block_until(deadline, |cx| self.poll_event(cx))
    }

    /// Beyond Node: stop accepting, `end()` every open connection, destroy those still
    /// open at `deadline`, and return once all are closed. The connections' owners (their
    /// threads) must keep calling `next_event`; they are woken for the requests.
    /// Dropping a socket counts as closing it. The server's events meanwhile, its
    /// `Close` included, are discarded: `next_event` returns `None` afterwards.
    pub fn shutdown(&mut self, deadline: Instant) {
        let (rt, driver) = (self.driver.runtime().clone(), &mut self.driver);
        rt.block_on(|cx| driver.poll_shutdown(cx, deadline))
    }
}
