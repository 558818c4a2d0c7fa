//! The socket's `signal` option: hold a listener on the user's
//! [`AbortSignal`](crate::AbortSignal) and turn its abort into the core's
//! `abort(reason)` input, on the task that drives the socket.

use std::task::{Context, Poll};

use super::SocketDriver;
use crate::abort::AbortSignal;
use crate::driver::runtime::Runtime;

impl<R: Runtime> SocketDriver<R> {
    /// Node's `signal` option: an aborted signal destroys the socket at once (as Node's
    /// stream constructor does); otherwise the socket listens until its `Close`.
    pub(crate) fn set_signal(&mut self, signal: &AbortSignal) {
        self.0.signal = None;
        let listener = signal.listen();
        match listener.reason() {
            Some(reason) => {
                self.0.core.abort(reason);
                self.after_user_call();
            }
            None => self.0.signal = Some(listener),
        }
    }

    /// Feed an abort to the core; otherwise register the task to be woken by one.
    pub(super) fn poll_signal(&mut self, cx: &mut Context<'_>) {
        let Some(listener) = &self.0.signal else {
            return;
        };
        if let Poll::Ready(reason) = listener.poll(cx) {
            self.0.signal = None;
            self.0.core.abort(reason);
        }
    }
}
