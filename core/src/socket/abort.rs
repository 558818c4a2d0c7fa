//! The socket's `signal` (Node's `signal` option of `new net.Socket()` and
//! `net.connect()`): what happens when the `AbortSignal` fires. The signal itself (a
//! handle other tasks and threads trigger) lives in the `nodenet` crate; the core only
//! gets the input "it fired, with this reason".

use crate::error::Error;

use super::Socket;

impl Socket {
    /// The socket's `signal` fired with `reason`: Node's stream abort listener, which
    /// destroys the socket with an `AbortError` (`ABORT_ERR`, "The operation was
    /// aborted", its `cause` the reason; see [`Error::aborted`]). So the events are
    /// `Error(AbortError)` then `Close` — `had_error: Some(true)` once the socket has a
    /// handle (connecting, looking up or connected), `None` when it never had one (a
    /// signal already aborted when it was given to a new socket). Events already queued
    /// (`Connect`, `Ready`) stay ahead of them, as Node's already scheduled ticks do. A
    /// destroyed socket ignores the call.
    ///
    /// A socket its signal destroyed stays destroyed: a later [`connect`](Socket::connect)
    /// returns `Ok` and does nothing. Node v20 reconnects such a socket; for a signal that
    /// was already aborted when `net.connect({ signal })` was called it even connects
    /// after having reported `'error'` and `'close'`, leaving a connection nobody owns
    /// (Node's `test-net-connect-abort-controller.js` destroys them on the server side).
    ///
    /// ```
    /// use std::time::Instant;
    /// use nodenet_core::socket::{Command, ConnectOptions, Socket, SocketEvent};
    /// use nodenet_core::{Error, ErrorCode, SocketOptions};
    ///
    /// let now = Instant::now();
    /// let mut s = Socket::new(SocketOptions::default());
    /// s.connect(ConnectOptions::tcp(80, "127.0.0.1"), now).unwrap();
    /// s.abort(Error::abort_reason());
    /// assert!(s.destroyed());
    /// // Drain commands and events until both are empty (`Close` waits for its command).
    /// let (mut events, mut commands) = (Vec::new(), Vec::new());
    /// loop {
    ///     let before = events.len() + commands.len();
    ///     commands.extend(std::iter::from_fn(|| s.poll_command()));
    ///     events.extend(std::iter::from_fn(|| s.poll_event()));
    ///     if events.len() + commands.len() == before {
    ///         break;
    ///     }
    /// }
    /// let [SocketEvent::Error(e), SocketEvent::Close { had_error: Some(true) }] = &events[..]
    /// else {
    ///     panic!("{events:?}")
    /// };
    /// assert_eq!(e.code(), ErrorCode::ABORT_ERR);
    /// assert_eq!(e.message(), "The operation was aborted");
    /// assert!(commands.contains(&Command::Close { reset: false }));
    /// // Aborted for good: connect() starts nothing.
    /// s.connect(ConnectOptions::tcp(80, "127.0.0.1"), now).unwrap();
    /// assert!(s.destroyed() && !s.connecting());
    /// assert_eq!(s.poll_command(), None);
    /// ```
    pub fn abort(&mut self, reason: Error) {
        if self.destroyed {
            return;
        }
        self.aborted = true;
        self.destroy_inner(Some(Error::aborted(reason)), false);
    }

    /// Whether the socket's signal destroyed it ([`abort`](Socket::abort)).
    pub fn aborted(&self) -> bool {
        self.aborted
    }
}
