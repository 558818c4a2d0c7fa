//! Waiting for `Connect` without losing events: [`SocketDriver::poll_connected`] drives
//! the socket and sets every event it takes out of the core aside in the driver's replay
//! queue, which `poll_event` hands out first, so the event loop still sees them all.

use std::task::{Context, Poll};

use nodenet_core::{Error, SocketEvent};

use super::runtime::Runtime;
use super::socket::SocketDriver;

/// What an event says about the connection: `Connect` (connected), `Error` (that error)
/// or `Close` (closed before connecting); `None` for the events before them (`Lookup`,
/// `ConnectionAttempt`, ...).
fn verdict(ev: &SocketEvent) -> Option<Result<(), Error>> {
    match ev {
        SocketEvent::Connect => Some(Ok(())),
        SocketEvent::Error(e) => Some(Err(e.clone())),
        SocketEvent::Close { .. } => Some(Err(Error::socket_closed_before_connection())),
        _ => None,
    }
}

impl<R: Runtime> SocketDriver<R> {
    /// Drive the socket until it is connected (`Ok`) or failed to connect (the error it
    /// reports); cancel-safe, and no event is lost: every event taken out of the core
    /// while waiting is replayed by `poll_event`, `Connect` included.
    pub(crate) fn poll_connected(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        // An earlier wait (cancelled, or done and not yet drained) may have decided.
        if let Some(r) = self.0.replay.iter().find_map(verdict) {
            return Poll::Ready(r);
        }
        loop {
            // Connected, its `Connect` still queued in the core or already handed out.
            let core = &self.0.core;
            if !core.pending() && !core.destroyed() {
                return Poll::Ready(Ok(()));
            }
            match self.poll_new_event(cx) {
                Poll::Pending => return Poll::Pending,
                // Nothing more will happen: never connected, or its events are gone.
                Poll::Ready(None) => return Poll::Ready(Err(Error::socket_closed())),
                Poll::Ready(Some(ev)) => {
                    let r = verdict(&ev);
                    self.0.replay.push_back(ev);
                    if let Some(r) = r {
                        return Poll::Ready(r);
                    }
                }
            }
        }
    }
}
