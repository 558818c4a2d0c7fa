//! Waiting for `Listening` without losing events: [`ServerDriver::poll_listened`] drives
//! the server and sets every event it takes out of the core aside in the driver's replay
//! queue, which `poll_event` hands out first, so the event loop still sees them all.

use std::task::{Context, Poll};

use nodenet_core::{Error, ServerEvent};

use super::ServerDriver;
use crate::driver::runtime::Runtime;
use crate::driver::socket::SocketDriver;

/// What an event says about the listen: `Listening` (listening), `Error` (that error:
/// the lookup or the bind failed) or `Close` (closed before listening); `None` for any
/// other event.
fn verdict<R: Runtime>(ev: &ServerEvent<SocketDriver<R>>) -> Option<Result<(), Error>> {
    match ev {
        ServerEvent::Listening => Some(Ok(())),
        ServerEvent::Error(e) => Some(Err(e.clone())),
        ServerEvent::Close => Some(Err(Error::server_not_running())),
        _ => None,
    }
}

impl<R: Runtime> ServerDriver<R> {
    /// Drive the server until it listens (`Ok`) or its `listen()` failed (the error it
    /// reports); cancel-safe, and no event is lost: every event taken out of the core
    /// while waiting is replayed by `poll_event`, `Listening` included.
    pub(crate) fn poll_listened(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        loop {
            // Listening, its `Listening` still queued in the core or already handed out.
            if self.core.listening() {
                return Poll::Ready(Ok(()));
            }
            // An earlier wait (cancelled, or done and not yet drained) may have decided.
            if let Some(r) = self.replay.iter().find_map(verdict) {
                return Poll::Ready(r);
            }
            match self.poll_new_event(cx) {
                Poll::Pending => return Poll::Pending,
                // Nothing more will happen: never listened, or its events are gone.
                Poll::Ready(None) => return Poll::Ready(Err(Error::server_not_running())),
                Poll::Ready(Some(ev)) => {
                    let r = verdict(&ev);
                    self.replay.push_back(ev);
                    if let Some(r) = r {
                        return Poll::Ready(r);
                    }
                }
            }
        }
    }
}
