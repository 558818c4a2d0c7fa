//! [`Socket::connected`]: wait until a client is connected (Node's `'connect'`) or
//! failed to connect, without taking any event away from the event loop.

use std::task::{Context, Poll};

use nodenet_core::Error;

use crate::runtime::{Async, AsyncRuntime, Blocking, BlockingRuntime, Runtime};
use crate::Socket;

impl<R: Runtime, K> Socket<R, K> {
    /// Drive the socket until it is connected: `Ready(Ok(()))` at `Connect` (at once for
    /// an accepted or already connected socket), `Ready(Err(e))` when connecting failed.
    /// The executor-agnostic form of `connected`; see there for the events and errors.
    pub fn poll_connected(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.driver.poll_connected(cx)
    }
}

impl<R: AsyncRuntime> Socket<R, Async> {
    /// Wait until the socket is connected: `Ok(())` once Node would emit `'connect'`, or
    /// the error that ended the attempt (the `Error` event's error: `connect
    /// ECONNREFUSED 127.0.0.1:1`, `getaddrinfo ENOTFOUND host`, ...). A socket that is
    /// already connected (accepted, or `Connect` already seen) returns `Ok` at once.
    ///
    /// No event is consumed: the events that happen while waiting (`Lookup`,
    /// `ConnectionAttempt`, ..., `Connect` itself, or `Error` and `Close`) stay queued and
    /// [`next_event`](Self::next_event) returns them afterwards, in order. Other errors:
    /// `ERR_SOCKET_CLOSED_BEFORE_CONNECTION` when the socket closed without an error
    /// before connecting (`destroy()`), `ERR_SOCKET_CLOSED` when nothing more can
    /// happen (never connected, or its `Close` was already taken). Cancel-safe.
    ///
    /// ```
    /// use nodenet_tokio::{connect, ConnectOptions, SocketEvent};
    ///
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    /// let port = listener.local_addr()?.port();
    /// let mut client = connect(ConnectOptions::host_port("127.0.0.1", port))?;
    /// client.connected().await?;
    /// client.write("hello");
    /// // The events are all still there.
    /// assert!(matches!(client.next_event().await, Some(SocketEvent::ConnectionAttempt { .. })));
    /// assert_eq!(client.next_event().await, Some(SocketEvent::Connect));
    ///
    /// drop(listener);
    /// let mut refused = connect(ConnectOptions::host_port("127.0.0.1", port))?;
    /// let err = refused.connected().await.unwrap_err();
    /// assert_eq!(err.code().as_str(), "ECONNREFUSED");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// ```
    pub async fn connected(&mut self) -> Result<(), Error> {
        std::future::poll_fn(|cx| self.driver.poll_connected(cx)).await
    }
}

impl<R: BlockingRuntime> Socket<R, Blocking> {
    /// Block until the socket is connected: `Ok(())` once Node would emit `'connect'`,
    /// or the error that ended the attempt. The blocking form of the async runtimes'
    /// `connected`, with the same rules: no event is consumed (`next_event` returns
    /// every event that happened meanwhile, `Connect` included), `Ok` at once when
    /// already connected, `ERR_SOCKET_CLOSED_BEFORE_CONNECTION` /
    /// `ERR_SOCKET_CLOSED` when the socket closed without an error or was never
    /// connected.
    ///
    /// ```
    /// use nodenet_std::{connect, ConnectOptions, SocketEvent};
    ///
    /// let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    /// let port = listener.local_addr()?.port();
    /// let mut client = connect(ConnectOptions::host_port("127.0.0.1", port))?;
    /// client.connected()?;
    /// assert!(matches!(client.next_event(), Some(SocketEvent::ConnectionAttempt { .. })));
    /// assert_eq!(client.next_event(), Some(SocketEvent::Connect));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn connected(&mut self) -> Result<(), Error> {
        let (rt, driver) = (self.driver.runtime().clone(), &mut self.driver);
        rt.block_on(|cx| driver.poll_connected(cx))
    }
}
