//! `server[Symbol.asyncDispose]()`: close, then drive the server until its `Close`.

use std::task::{Context, Poll};

use nodenet_core::ServerEvent;

use super::ServerDriver;
use crate::driver::runtime::Runtime;

impl<R: Runtime> ServerDriver<R> {
    /// Start the dispose: `true` when the core closed the server and its `Close` is to
    /// be waited for, `false` when Node resolves at once (no listening handle).
    pub(crate) fn start_dispose(&mut self) -> bool {
        let now = R::now();
        let closing = self.core.async_dispose(now);
        self.run_commands(now);
        closing
    }

    /// Drive the server until `Close` (or until nothing more can happen). Events on the
    /// way are dropped: an accepted connection dropped this way is closed, like a socket
    /// dropped by its owner.
    pub(crate) fn poll_until_close(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        loop {
            match self.poll_event(cx) {
                Poll::Ready(Some(ServerEvent::Close)) | Poll::Ready(None) => return Poll::Ready(()),
                Poll::Ready(Some(_)) => continue,
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}
