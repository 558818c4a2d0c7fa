//! [`AbortController`] and [`AbortSignal`]: Node's (and the web's) cancellation handles,
//! for the `signal` option of [`Socket`](crate::Socket) and [`Server`](crate::Server).
//!
//! A signal is shared state behind an `Arc`: any clone may be handed to another task or
//! thread, and aborting it wakes every socket and server listening to it. What an abort
//! *does* is the core's rule (`nodenet_core::Socket::abort`, `nodenet_core::Server::abort`);
//! this module only carries the fact "aborted, with this reason" to the task that owns
//! the socket.

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

use nodenet_core::Error;
use slab::Slab;

/// Node's `AbortController`: the side that aborts. Hand its [`signal`](Self::signal) to
/// the operations that may be cancelled and call [`abort`](Self::abort) from any task or
/// thread.
///
/// ```
/// use nodenet::{AbortController, ErrorCode};
///
/// let controller = AbortController::new();
/// let signal = controller.signal();
/// assert!(!signal.aborted());
/// std::thread::spawn(move || controller.abort()).join().unwrap();
/// assert!(signal.aborted());
/// assert_eq!(signal.reason().map(|r| r.code()), Some(ErrorCode::ABORT_ERR));
/// ```
#[derive(Clone, Debug, Default)]
pub struct AbortController {
    signal: AbortSignal,
}

impl AbortController {
    /// `new AbortController()`: a controller whose signal is not aborted.
    pub fn new() -> AbortController {
        AbortController::default()
    }

    /// `controller.signal`: a handle on the controller's signal (a cheap clone; every
    /// clone sees the abort).
    pub fn signal(&self) -> AbortSignal {
        self.signal.clone()
    }

    /// `controller.abort()`: abort with Node's default reason, a
    /// `DOMException [AbortError]: This operation was aborted`
    /// ([`Error::abort_reason`]). Only the first abort counts.
    pub fn abort(&self) {
        self.signal.fire(Error::abort_reason());
    }

    /// `controller.abort(reason)`: abort with `reason`, which becomes the `cause` of the
    /// `AbortError` the aborted operations fail with. Only the first abort counts.
    pub fn abort_with(&self, reason: Error) {
        self.signal.fire(reason);
    }
}

/// Node's `AbortSignal`: the side that listens. Cheap to clone, `Send + Sync`; give it
/// to [`Socket::set_signal`](crate::Socket::set_signal) or
/// [`Server::set_signal`](crate::Server::set_signal).
#[derive(Clone, Default)]
pub struct AbortSignal {
    shared: Arc<Shared>,
}

#[derive(Default)]
struct Shared {
    /// Set once, after `state.reason`: lets a poll skip the lock until the abort.
    aborted: AtomicBool,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    reason: Option<Error>,
    /// One slot per listener (a socket or server holding the signal): the waker of its
    /// last poll.
    listeners: Slab<Option<Waker>>,
}

impl fmt::Debug for AbortSignal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AbortSignal")
            .field("aborted", &self.aborted())
            .finish()
    }
}

impl AbortSignal {
    /// `AbortSignal.abort(reason)`: a signal that is already aborted (with Node's default
    /// reason when `reason` is `None`).
    ///
    /// ```
    /// let signal = nodenet::AbortSignal::aborted_with(None);
    /// assert!(signal.aborted());
    /// ```
    pub fn aborted_with(reason: Option<Error>) -> AbortSignal {
        let signal = AbortSignal::default();
        signal.fire(reason.unwrap_or_else(Error::abort_reason));
        signal
    }

    /// `signal.aborted`.
    pub fn aborted(&self) -> bool {
        self.shared.aborted.load(Ordering::Acquire)
    }

    /// `signal.reason`: `None` until aborted.
    pub fn reason(&self) -> Option<Error> {
        if !self.aborted() {
            return None;
        }
        self.lock().reason.clone()
    }

    /// `signal.throwIfAborted()`: `Err(reason)` once aborted.
    pub fn throw_if_aborted(&self) -> Result<(), Error> {
        match self.reason() {
            Some(reason) => Err(reason),
            None => Ok(()),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // The state stays consistent whatever panicked while holding the lock.
        self.shared
            .state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn fire(&self, reason: Error) {
        let wakers: Vec<Waker> = {
            let mut state = self.lock();
            if state.reason.is_some() {
                return;
            }
            state.reason = Some(reason);
            self.shared.aborted.store(true, Ordering::Release);
            state
                .listeners
                .iter_mut()
                .filter_map(|(_, w)| w.take())
                .collect()
        };
        // Woken outside the lock: a waker may run the listener's task on this thread.
        for w in wakers {
            w.wake();
        }
    }

    /// A listener for one socket or server (Node's `addAbortListener`); dropping it
    /// removes it.
    pub(crate) fn listen(&self) -> AbortListener {
        let key = self.lock().listeners.insert(None);
        AbortListener {
            signal: self.clone(),
            key,
        }
    }
}

/// One socket's or server's registration on an [`AbortSignal`]: polled by the owner's
/// task, which the abort wakes.
pub(crate) struct AbortListener {
    signal: AbortSignal,
    key: usize,
}

impl fmt::Debug for AbortListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AbortListener")
            .field("aborted", &self.signal.aborted())
            .finish()
    }
}

impl AbortListener {
    /// `Ready(reason)` once the signal is aborted; otherwise the task of `cx` is woken by
    /// the abort.
    pub(crate) fn poll(&self, cx: &mut Context<'_>) -> Poll<Error> {
        if let Some(reason) = self.signal.reason() {
            return Poll::Ready(reason);
        }
        let mut state = self.signal.lock();
        // Checked again under the lock: an abort between the two looks is not missed.
        if let Some(reason) = &state.reason {
            return Poll::Ready(reason.clone());
        }
        if let Some(slot) = state.listeners.get_mut(self.key) {
            match slot {
                Some(w) if w.will_wake(cx.waker()) => {}
                _ => *slot = Some(cx.waker().clone()),
            }
        }
        Poll::Pending
    }

    /// The reason, if the signal is aborted already (no waker is registered).
    pub(crate) fn reason(&self) -> Option<Error> {
        self.signal.reason()
    }
}

impl Drop for AbortListener {
    fn drop(&mut self) {
        let mut state = self.signal.lock();
        if state.listeners.contains(self.key) {
            state.listeners.remove(self.key);
        }
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
    fn abort_wakes_every_listener_once_and_keeps_the_first_reason() {
        let controller = AbortController::new();
        let signal = controller.signal();
        let counts: Vec<Arc<Count>> = (0..3)
            .map(|_| Arc::new(Count(AtomicUsize::new(0))))
            .collect();
        let listeners: Vec<AbortListener> = (0..3).map(|_| signal.listen()).collect();
        for (l, c) in listeners.iter().zip(&counts) {
            let waker = Waker::from(c.clone());
            let mut cx = Context::from_waker(&waker);
            assert!(l.poll(&mut cx).is_pending());
            assert!(l.poll(&mut cx).is_pending(), "re-polling keeps one slot");
        }
        let other = std::thread::spawn(move || {
            controller.abort_with(Error::abort().with_syscall("first"));
            controller.abort();
        });
        other.join().unwrap();
        for (l, c) in listeners.iter().zip(&counts) {
            assert_eq!(c.0.load(Ordering::SeqCst), 1);
            let waker = Waker::from(c.clone());
            let mut cx = Context::from_waker(&waker);
            match l.poll(&mut cx) {
                Poll::Ready(r) => assert_eq!(r.syscall(), Some("first")),
                Poll::Pending => panic!("aborted"),
            }
        }
        drop(listeners);
        assert!(signal.lock().listeners.is_empty());
    }

    #[test]
    fn signals_are_send_sync_and_cheap() {
        fn send_sync<T: Send + Sync>() {}
        send_sync::<AbortSignal>();
        send_sync::<AbortController>();
        assert_eq!(
            std::mem::size_of::<AbortSignal>(),
            std::mem::size_of::<usize>()
        );
    }
}
