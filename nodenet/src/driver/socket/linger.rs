//! What happens to bytes a dropped socket had accepted but not yet handed to the kernel:
//! the socket lingers in the background, like the kernel's own send buffer after
//! `close(2)`, so dropping a socket never silently truncates its stream.
//!
//! Every write API accepts bytes into the core's user-space queue before the kernel
//! takes them: Node's `write()` (always, whatever the high-water mark) and the IO-trait
//! `poll_write` (`AsyncWrite`, `futures-io`, `std::io::Write`: below the high-water mark,
//! so `write_all(8 MiB)` returns with up to a high-water mark of bytes queued). When a
//! socket with such bytes is dropped (not destroyed: `destroy()` discards the queue, as
//! Node does), the driver hands the whole socket to a detached task on its runtime
//! ([`Runtime::spawn`]) that does what `end()` would: writes the queue, sends the FIN,
//! reads and discards whatever the peer still sends (closing with unread data would
//! make the kernel answer with a reset, which can destroy the bytes still in flight),
//! and closes once the FIN is out and nothing is left unread, or once the peer ended too.
//!
//! The bound: a peer that stops reading cannot hold the socket and its queue forever.
//! The linger gives up when the kernel has taken no byte for [`STALL`] (30 s), and in
//! any case [`MAX`] (5 minutes) after the drop. Giving up resets the connection
//! (`SO_LINGER` 0), so the peer sees `ECONNRESET`, never a clean end of a truncated
//! stream. The same reset happens when the runtime cannot start the task (tokio: the
//! socket is dropped outside a runtime; smol and std: no thread could be started).

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use nodenet_core::{Socket, SocketOptions};

use super::{DriverState, LazyNow, SocketDriver};
use crate::driver::runtime::{RtStream, Runtime};

/// The linger gives up when the kernel took no byte for this long.
pub const STALL: Duration = Duration::from_secs(30);
/// The linger gives up this long after the drop, whatever the progress.
pub const MAX: Duration = Duration::from_secs(300);

impl<R: Runtime> SocketDriver<R> {
    /// Bytes were accepted by a write API and are still queued, on a socket that is
    /// not destroyed and still has (or is getting) a connection. A client never polled
    /// has only asked to connect (the connect starts at its first poll, Node's next
    /// tick): the linger makes that connection, as Node's event loop would.
    pub(super) fn has_unsent_bytes(&self) -> bool {
        let s = &self.0;
        !s.core.destroyed()
            && s.core.writable_length() > 0
            && (s.stream.is_some()
                || !s.attempts.is_empty()
                || s.resolving.is_some()
                || s.core.connecting())
    }

    /// Move this socket's state into a background [`Linger`] (the dropped `self` keeps
    /// an empty placeholder).
    pub(super) fn linger_in_background(&mut self) {
        let placeholder = Box::new(DriverState::new(
            self.0.rt.clone(),
            Socket::new(SocketOptions::default()),
            None,
        ));
        let mut driver = SocketDriver(std::mem::replace(&mut self.0, placeholder));
        // Nobody reads the IO traits' stash any more; the server already heard the close.
        driver.0.rx = None;
        let now = R::now();
        // Discard what the peer sends instead of leaving it unread (see the module doc).
        driver.0.core.resume(now);
        let _ = driver.0.core.end(now);
        driver.after_user_call();
        let rt = driver.0.rt.clone();
        let sent = sent(&driver.0.core);
        let linger = Linger {
            driver,
            timer: None,
            sent,
            stalled_at: now + STALL,
            give_up_at: now + MAX,
            done: false,
        };
        // When no task can be started, the future is dropped unfinished: a reset.
        rt.spawn(Box::pin(linger));
    }

    /// Reset the connection and close it now (`resetAndDestroy`). A socket still
    /// connecting has nothing to reset yet (`resetAndDestroy` would wait for `Connect`):
    /// it is destroyed, so the dropped driver does not linger again.
    fn reset_now(&mut self) {
        if self.0.core.reset_and_destroy().is_err() || !self.0.core.destroyed() {
            self.0.core.destroy(None);
        }
        self.run_commands(&mut LazyNow::default());
    }
}

/// Bytes the kernel has taken so far.
fn sent(core: &Socket) -> u64 {
    core.bytes_written()
        .saturating_sub(core.writable_length() as u64)
}

/// A dropped socket finishing its stream in the background (see the module doc).
pub(super) struct Linger<R: Runtime> {
    driver: SocketDriver<R>,
    timer: Option<R::Timer>,
    /// [`sent`] at the last progress.
    sent: u64,
    stalled_at: Instant,
    give_up_at: Instant,
    done: bool,
}

impl<R: Runtime> Linger<R> {
    /// The FIN is out and nothing the peer sent is left unread: closing now is what
    /// `close(2)` on a drained socket does (the kernel delivers its buffer, then FIN).
    fn finished(&self) -> bool {
        let s = &self.driver.0;
        if !s.core.writable_finished() {
            return false;
        }
        let Some(stream) = &s.stream else {
            return true;
        };
        !stream.has_unread()
    }
}

// Nothing in a `Linger` is pinned: the driver polls its timer through `&mut`.
impl<R: Runtime> Unpin for Linger<R> {}

impl<R: Runtime> Future for Linger<R> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = &mut *self;
        loop {
            // The bound is checked before the socket is polled again: a write attempted
            // only because the timer fired may find a little room (the kernel's send
            // buffer breathes), which must not count as the peer making progress.
            if R::now() >= this.stalled_at.min(this.give_up_at) {
                this.driver.reset_now();
                this.done = true;
                return Poll::Ready(());
            }
            match this.driver.poll_event(cx) {
                // Nobody listens: the events are dropped.
                Poll::Ready(Some(_)) => continue,
                Poll::Ready(None) => {
                    this.done = true;
                    return Poll::Ready(());
                }
                Poll::Pending => {}
            }
            if this.finished() {
                this.done = true;
                return Poll::Ready(());
            }
            let sent = sent(&this.driver.0.core);
            if sent > this.sent {
                this.sent = sent;
                this.stalled_at = R::now() + STALL;
            }
            let deadline = this.stalled_at.min(this.give_up_at);
            let rt = this.driver.0.rt.clone();
            let timer = this.timer.get_or_insert_with(|| rt.timer(deadline));
            if rt.poll_timer(timer, deadline, cx).is_pending() {
                return Poll::Pending;
            }
        }
    }
}

impl<R: Runtime> Drop for Linger<R> {
    /// Dropped unfinished (the runtime shut down, or could not start the task): reset,
    /// so the peer is not left with a clean end of a truncated stream.
    fn drop(&mut self) {
        if !self.done {
            self.driver.reset_now();
        }
    }
}
