//! The `signal` option of `listen`: hold a listener on the user's
//! [`AbortSignal`](crate::AbortSignal) and feed its abort to the core
//! (`nodenet_core::Server::abort`, which decides whether it closes the server).

use std::task::Context;

use super::ServerDriver;
use crate::abort::AbortSignal;
use crate::driver::runtime::Runtime;

impl<R: Runtime> ServerDriver<R> {
    /// Listen to `signal` from now until the server's `Close`. An abort (also one that
    /// happened already) is seen at the next poll, like Node's `close()` in the next tick
    /// after `listen({ signal })`, so `listening()` right after `listen` is Node's too.
    pub(crate) fn set_signal(&mut self, signal: &AbortSignal) {
        self.signal = Some(signal.listen());
    }

    /// Feed an abort to the core; otherwise register the task to be woken by one. The
    /// listener is kept while the core has no listen to close: the signal then closes
    /// the next one, as a signal given to that `listen` would.
    pub(super) fn poll_signal(&mut self, cx: &mut Context<'_>) {
        let Some(listener) = &self.signal else {
            return;
        };
        if listener.poll(cx).is_ready() {
            let now = R::now();
            if self.core.abort(now) {
                self.signal = None;
                self.run_commands(now);
            }
        }
    }
}
