//! Closing a server from outside a `close()` call: the `signal` option of `listen`
//! (Node's `addServerAbortSignalOption`) and `server[Symbol.asyncDispose]()`.

use std::time::Instant;

use super::{Server, State};

impl Server {
    /// The `signal` given with `listen` fired: Node's abort listener calls
    /// `server.close()`, so this is [`close`](Server::close) (its
    /// `ERR_SERVER_NOT_RUNNING` answer has no callback to go to). Node attaches that
    /// listener at every `listen()` call (even one that then fails) and removes it at
    /// `'close'`, so the call acts only between a `listen` and the next
    /// [`ServerEvent::Close`](super::ServerEvent::Close), and at most once: a signal that
    /// is already aborted when `listen` is called closes the server right after it (the
    /// `Listening` event is withdrawn, as Node's `close()` in the next tick suppresses
    /// it). Returns whether it closed.
    ///
    /// ```
    /// use std::time::Instant;
    /// use nodenet_core::server::{ListenOptions, Server, ServerEvent, ServerOptions};
    ///
    /// let now = Instant::now();
    /// let mut server = Server::new(ServerOptions::default());
    /// assert!(!server.abort(now)); // no listen yet: nothing to close
    /// server.listen(ListenOptions::port(0).host("localhost"), now).unwrap();
    /// assert!(server.abort(now)); // the lookup is dropped and the server closes
    /// assert_eq!(server.poll_event(), Some(ServerEvent::Close));
    /// assert!(!server.abort(now)); // once
    /// ```
    pub fn abort(&mut self, now: Instant) -> bool {
        if !self.signal_armed {
            return false;
        }
        self.signal_armed = false;
        let _ = self.close(now);
        true
    }

    /// `server[Symbol.asyncDispose]()`: Node closes a server that has a listening handle
    /// and resolves once `Close` comes (`true`: wait for [`ServerEvent::Close`]), and
    /// resolves at once without closing anything when there is no handle (`false`):
    /// never listened, closed already, or still looking its host up (that lookup goes on
    /// and the server then listens, as in Node).
    ///
    /// [`ServerEvent::Close`]: super::ServerEvent::Close
    ///
    /// ```
    /// use std::time::Instant;
    /// use nodenet_core::server::{ListenOptions, Server, ServerOptions};
    ///
    /// let now = Instant::now();
    /// let mut server = Server::new(ServerOptions::default());
    /// assert!(!server.async_dispose(now)); // nothing to close: resolves at once
    /// server.listen(ListenOptions::port(0), now).unwrap();
    /// assert!(server.async_dispose(now)); // a Listen is out: closed, wait for Close
    /// assert!(!server.async_dispose(now));
    /// ```
    pub fn async_dispose(&mut self, now: Instant) -> bool {
        if !matches!(self.state, State::Binding { .. } | State::Listening { .. }) {
            return false;
        }
        let _ = self.close(now);
        true
    }
}
