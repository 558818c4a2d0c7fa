//! The link between a server and the sockets it accepted: each accepted socket carries a
//! guard that reports its close (or drop) to the server — which feeds
//! `Server::handle_connection_closed`, so `connections()` and graceful `close()` work —
//! and receives the server's end/destroy requests of `shutdown(deadline)`. The socket's
//! own driver performs a request the next time its owner polls it (it is woken). A close
//! wakes the server only while the core server can answer it with an event (see
//! `Registry::take_closed`).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Waker};

use nodenet_core::ConnectionId;
use slab::Slab;

/// What `shutdown(deadline)` asks of a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum ConnRequest {
    /// `socket.end()`: finish gracefully.
    End,
    /// `socket.destroy()`: close now (the deadline passed).
    Destroy,
}

/// One open connection's entry.
#[derive(Debug)]
struct Conn {
    id: ConnectionId,
    request: Option<ConnRequest>,
    waker: Option<Waker>,
}

/// Open connections live in a slab: the guard keeps its key, so opening, polling and
/// closing a connection are index operations (no hashing), and the memory of closed
/// entries is reused by the next connections.
#[derive(Debug, Default)]
struct State {
    open: Slab<Conn>,
    closed: Vec<ConnectionId>,
    server_waker: Option<Waker>,
}

/// Shared between a server driver and the guards of its accepted sockets.
#[derive(Debug, Default)]
pub struct Registry {
    state: Mutex<State>,
    /// Bumped by every `request_all`, so a socket's poll can tell without the lock that
    /// nothing was asked since it last looked (the data path polls once per event).
    generation: AtomicU64,
}

impl Registry {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic elsewhere cannot leave this bookkeeping half-updated in a harmful way.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A guard for a new accepted connection.
    pub(crate) fn guard(self: &Arc<Self>, id: ConnectionId) -> ConnGuard {
        let key = self.lock().open.insert(Conn {
            id,
            request: None,
            waker: None,
        });
        ConnGuard {
            registry: Arc::clone(self),
            key,
            reported: false,
            seen: None,
        }
    }

    /// Move the connections that closed since the last call into `out`. `out` is the
    /// caller's buffer, reused from call to call.
    ///
    /// `wake`: whether the next close should wake the server (the core server says so
    /// when a close can produce an event: `closes_emit_events`). Otherwise the closes
    /// wait here for the server's next turn: the connections of a multi-threaded
    /// runtime close on other threads, and a wake-up per close would unpark the
    /// server's thread once per connection for nothing. The waker is registered (or
    /// forgotten) under the same lock that hands out the closes, so no close falls
    /// between the two.
    pub(crate) fn take_closed(
        &self,
        cx: &mut Context<'_>,
        wake: bool,
        out: &mut Vec<ConnectionId>,
    ) {
        let mut s = self.lock();
        if !wake {
            s.server_waker = None;
        } else {
            match &s.server_waker {
                Some(w) if w.will_wake(cx.waker()) => {}
                _ => s.server_waker = Some(cx.waker().clone()),
            }
        }
        out.append(&mut s.closed);
    }

    /// Connections closed but not yet reported to the core server.
    pub fn closed_pending(&self) -> usize {
        self.lock().closed.len()
    }

    /// Accepted connections not yet closed or dropped.
    pub fn open_count(&self) -> usize {
        self.lock().open.len()
    }

    /// Ask every open connection to end or be destroyed (a destroy is never downgraded).
    pub fn request_all(&self, request: ConnRequest) {
        let mut s = self.lock();
        for (_, conn) in s.open.iter_mut() {
            let r = conn.request.get_or_insert(request);
            *r = (*r).max(request);
            if let Some(w) = &conn.waker {
                w.wake_by_ref();
            }
        }
        self.generation.fetch_add(1, Ordering::Release);
    }
}

/// Carried by an accepted socket: reports its close to the server exactly once (also on
/// drop) and hands it the server's requests.
#[derive(Debug)]
pub(crate) struct ConnGuard {
    registry: Arc<Registry>,
    /// The connection's slab key (valid until `report_closed`).
    key: usize,
    reported: bool,
    /// The registry generation and the waker this socket last registered under the lock.
    seen: Option<(u64, Waker)>,
}

impl ConnGuard {
    /// A pending request, if any; registers the socket's waker for later ones.
    #[inline]
    pub(crate) fn poll_request(&mut self, cx: &mut Context<'_>) -> Option<ConnRequest> {
        let generation = self.registry.generation.load(Ordering::Acquire);
        if let Some((seen, waker)) = &self.seen {
            // No request since the last look, and the registered waker is still the right
            // one: nothing to do (a later `request_all` wakes that waker). Every poll of
            // an accepted socket asks, so this check is inlined into it.
            if *seen == generation && waker.will_wake(cx.waker()) {
                return None;
            }
        }
        self.poll_request_locked(cx, generation)
    }

    fn poll_request_locked(
        &mut self,
        cx: &mut Context<'_>,
        generation: u64,
    ) -> Option<ConnRequest> {
        if self.reported {
            return None;
        }
        self.seen = Some((generation, cx.waker().clone()));
        let mut s = self.registry.lock();
        let conn = s.open.get_mut(self.key)?;
        let w = cx.waker();
        match &conn.waker {
            Some(old) if old.will_wake(w) => {}
            _ => conn.waker = Some(w.clone()),
        }
        conn.request.take()
    }

    /// The socket closed: tell the server (once).
    pub(crate) fn report_closed(&mut self) {
        if self.reported {
            return;
        }
        self.reported = true;
        let mut s = self.registry.lock();
        if let Some(conn) = s.open.try_remove(self.key) {
            s.closed.push(conn.id);
        }
        if let Some(w) = &s.server_waker {
            w.wake_by_ref();
        }
    }
}

impl Drop for ConnGuard {
    fn drop(&mut self) {
        self.report_closed();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;
    use std::task::Wake;

    struct Count(AtomicUsize);
    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn a_request_made_after_a_lock_free_poll_is_seen_and_wakes_the_socket() {
        let registry = Arc::new(Registry::default());
        let mut guard = registry.guard(ConnectionId(1));
        let count = Arc::new(Count(AtomicUsize::new(0)));
        let waker = Waker::from(Arc::clone(&count));
        let mut cx = Context::from_waker(&waker);
        assert_eq!(guard.poll_request(&mut cx), None);
        // Second poll takes the lock-free path.
        assert_eq!(guard.poll_request(&mut cx), None);
        registry.request_all(ConnRequest::End);
        assert_eq!(
            count.0.load(Ordering::SeqCst),
            1,
            "the registered waker was woken"
        );
        assert_eq!(guard.poll_request(&mut cx), Some(ConnRequest::End));
        assert_eq!(
            guard.poll_request(&mut cx),
            None,
            "a request is handed out once"
        );
        registry.request_all(ConnRequest::Destroy);
        assert_eq!(guard.poll_request(&mut cx), Some(ConnRequest::Destroy));
    }

    #[test]
    fn a_close_wakes_the_server_only_when_asked_to() {
        let registry = Arc::new(Registry::default());
        let count = Arc::new(Count(AtomicUsize::new(0)));
        let waker = Waker::from(Arc::clone(&count));
        let mut cx = Context::from_waker(&waker);
        let mut closed = Vec::new();
        let (mut a, mut b) = (
            registry.guard(ConnectionId(1)),
            registry.guard(ConnectionId(2)),
        );
        // Listening: a close waits for the server's next turn.
        registry.take_closed(&mut cx, true, &mut closed);
        registry.take_closed(&mut cx, false, &mut closed);
        a.report_closed();
        assert_eq!(count.0.load(Ordering::SeqCst), 0, "no wake-up");
        assert_eq!(registry.closed_pending(), 1, "counted at once");
        // Closing: the close is handed out, and the next one wakes the server.
        registry.take_closed(&mut cx, true, &mut closed);
        assert_eq!(closed, [ConnectionId(1)]);
        b.report_closed();
        assert_eq!(count.0.load(Ordering::SeqCst), 1);
        registry.take_closed(&mut cx, true, &mut closed);
        assert_eq!(closed, [ConnectionId(1), ConnectionId(2)]);
    }

    #[test]
    fn a_new_waker_is_registered_under_the_lock() {
        let registry = Arc::new(Registry::default());
        let mut guard = registry.guard(ConnectionId(2));
        let first = Arc::new(Count(AtomicUsize::new(0)));
        let second = Arc::new(Count(AtomicUsize::new(0)));
        let w1 = Waker::from(Arc::clone(&first));
        let w2 = Waker::from(Arc::clone(&second));
        assert_eq!(guard.poll_request(&mut Context::from_waker(&w1)), None);
        assert_eq!(guard.poll_request(&mut Context::from_waker(&w2)), None);
        registry.request_all(ConnRequest::End);
        assert_eq!(first.0.load(Ordering::SeqCst), 0);
        assert_eq!(second.0.load(Ordering::SeqCst), 1);
        guard.report_closed();
        assert_eq!(registry.open_count(), 0);
        assert_eq!(guard.poll_request(&mut Context::from_waker(&w2)), None);
    }
}
