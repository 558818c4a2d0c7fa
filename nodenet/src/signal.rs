//! The `signal` option of [`Socket`] and [`Server`]: cancellation by an
//! [`AbortSignal`] that another task or thread aborts through its
//! [`AbortController`](crate::AbortController).

use crate::runtime::Runtime;
use crate::{AbortSignal, Server, Socket};

impl<R: Runtime, K> Socket<R, K> {
    /// Node's `signal` option of `new net.Socket(options)` / `net.connect(options)`:
    /// when `signal` is aborted, the socket is destroyed with an `AbortError`
    /// ([`SocketEvent::Error`](crate::SocketEvent::Error) with code `ABORT_ERR`, message
    /// "The operation was aborted", `cause` the abort's reason), then
    /// [`SocketEvent::Close`](crate::SocketEvent::Close) — whether it is still looking
    /// the host up, connecting or connected. The abort wakes the task driving the socket,
    /// from any thread. The signal applies until the socket's `Close`.
    ///
    /// A signal that is already aborted destroys the socket at once (`Error`, then
    /// `Close { had_error: None }` as no connection was made), as in Node. Unlike Node
    /// v20, a later [`connect`](Self::connect) then does nothing (Node connects the
    /// socket it already reported closed): a socket its signal destroyed stays destroyed.
    ///
    /// ```no_run
    /// # async fn demo<R: nodenet::AsyncRuntime + Default>() {
    /// use nodenet::{AbortController, ConnectOptions, ErrorCode, Socket, SocketEvent, SocketOptions};
    ///
    /// let controller = AbortController::new();
    /// let mut socket = Socket::<R>::new(SocketOptions::default());
    /// socket.set_signal(&controller.signal());
    /// socket.connect(ConnectOptions::tcp(80, "example.com")).unwrap();
    /// // Another task or thread gives up on the connection:
    /// std::thread::spawn(move || controller.abort());
    /// while let Some(ev) = socket.next_event().await {
    ///     if let SocketEvent::Error(e) = &ev {
    ///         assert_eq!(e.code(), ErrorCode::ABORT_ERR);
    ///     }
    /// }
    /// # }
    /// ```
    #[doc(alias = "signal")]
    pub fn set_signal(&mut self, signal: &AbortSignal) {
        self.driver.set_signal(signal);
    }
}

impl<R: Runtime, K> Server<R, K> {
    /// Node's `signal` option of `server.listen(options)`: when `signal` is aborted the
    /// server closes, as if [`close`](Self::close) was called (no more connections;
    /// `Close` once the open ones closed). The abort wakes the task driving the server,
    /// from any thread.
    ///
    /// As in Node, the signal acts on a listen: set before or after
    /// [`listen`](Self::listen), it closes the server from that `listen` until the next
    /// `Close` (then it is let go). A signal already aborted closes the server at its
    /// next poll, so the only event is `Close` (`Listening` is withdrawn, as Node's
    /// `close()` in the next tick suppresses it).
    ///
    /// ```no_run
    /// # async fn demo<R: nodenet::AsyncRuntime + Default>() {
    /// use nodenet::{AbortController, ListenOptions, Server, ServerEvent, ServerOptions};
    ///
    /// let controller = AbortController::new();
    /// let mut server = Server::<R>::new(ServerOptions::default());
    /// server.set_signal(&controller.signal());
    /// server.listen(ListenOptions::port(0).host("127.0.0.1")).unwrap();
    /// std::thread::spawn(move || controller.abort());
    /// while let Some(ev) = server.next_event().await {
    ///     if let ServerEvent::Close = ev {
    ///         break; // closed by the signal
    ///     }
    /// }
    /// # }
    /// ```
    #[doc(alias = "signal")]
    pub fn set_signal(&mut self, signal: &AbortSignal) {
        self.driver.set_signal(signal);
    }
}
