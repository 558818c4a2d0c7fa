//! [`Server::listened`]: wait until a server listens (Node's `'listening'`) or its
//! `listen()` failed, without taking any event away from the event loop — the form of
//! tokio's `TcpListener::bind(addr).await?` for a Node server.

use std::task::{Context, Poll};

use nodenet_core::Error;

use crate::runtime::{Async, AsyncRuntime, Blocking, BlockingRuntime, Runtime};
use crate::Server;

impl<R: Runtime, K> Server<R, K> {
    /// Drive the server until it listens: `Ready(Ok(()))` at `Listening` (at once when it
    /// already listens), `Ready(Err(e))` when `listen()` failed. The executor-agnostic
    /// form of `listened`; see there for the events and errors.
    pub fn poll_listened(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.driver.poll_listened(cx)
    }
}

impl<R: AsyncRuntime> Server<R, Async> {
    /// Wait until the server listens: `Ok(())` once Node would emit `'listening'` (its
    /// [`local_addr`](Self::local_addr) is then known), or the error of the `listen()`
    /// (the `Error` event's error: `listen EADDRINUSE: address already in use
    /// 127.0.0.1:8124`, `getaddrinfo ENOTFOUND host`, ...). A server that already
    /// listens returns `Ok` at once.
    ///
    /// No event is consumed: the events that happen while waiting (`Listening` itself,
    /// or the `Error`) stay queued and [`next_event`](Self::next_event) returns them
    /// afterwards, in order. `ERR_SERVER_NOT_RUNNING` when nothing more can happen (no
    /// `listen()`, or the server closed first). Cancel-safe.
    ///
    /// ```
    /// use nodenet_tokio::{create_server, ErrorCode, ListenOptions, ServerEvent, ServerOptions};
    ///
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
    /// let mut server = create_server(ServerOptions::default());
    /// server.listen(ListenOptions::port(0).host("127.0.0.1"))?;
    /// server.listened().await?; // tokio's `TcpListener::bind(addr).await?`
    /// let addr = server.local_addr()?;
    /// // The event is still there for the event loop.
    /// assert!(matches!(server.next_event().await, Some(ServerEvent::Listening)));
    ///
    /// // A second server on the same port: Node's bind error, not a panic.
    /// let mut busy = create_server(ServerOptions::default());
    /// busy.listen(ListenOptions::port(addr.port()).host("127.0.0.1"))?;
    /// let err = busy.listened().await.unwrap_err();
    /// assert_eq!(err.code(), ErrorCode::EADDRINUSE);
    /// assert_eq!(
    ///     err.to_string(),
    ///     format!("Error: listen EADDRINUSE: address already in use {addr}")
    /// );
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # })?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[doc(alias = "bind")]
    pub async fn listened(&mut self) -> Result<(), Error> {
        std::future::poll_fn(|cx| self.driver.poll_listened(cx)).await
    }
}

impl<R: BlockingRuntime> Server<R, Blocking> {
    /// Block until the server listens: `Ok(())` once Node would emit `'listening'`, or
    /// the error of the `listen()`. The blocking form of the async runtimes'
    /// `listened`, with the same rules: no event is consumed (`next_event` returns
    /// `Listening` or the `Error` afterwards), `Ok` at once when already listening,
    /// `ERR_SERVER_NOT_RUNNING` when nothing more can happen.
    ///
    /// ```
    /// use nodenet_std::{create_server, ListenOptions, ServerEvent, ServerOptions};
    ///
    /// let mut server = create_server(ServerOptions::default());
    /// server.listen(ListenOptions::port(0).host("127.0.0.1"))?;
    /// server.listened()?;
    /// assert_ne!(server.local_addr()?.port(), 0);
    /// assert!(matches!(server.next_event(), Some(ServerEvent::Listening)));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[doc(alias = "bind")]
    pub fn listened(&mut self) -> Result<(), Error> {
        let (rt, driver) = (self.driver.runtime().clone(), &mut self.driver);
        rt.block_on(|cx| driver.poll_listened(cx))
    }
}
