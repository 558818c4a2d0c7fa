//! Byte-stream adapters over a [`SocketDriver`], behind each runtime's IO traits (tokio
//! `AsyncRead`/`AsyncWrite`, `futures-io`, `std::io::Read`/`Write`). While the traits are
//! in use they consume the socket's events: data is buffered for `read`, `End`/`Close`
//! become end-of-stream, `Error` becomes an `io::Error`; other events are dropped.

use std::io;
use std::task::{Context, Poll};

use bytes::{Buf, Bytes};
use nodenet_core::SocketEvent;

use super::runtime::Runtime;
use super::socket::SocketDriver;

impl<R: Runtime> SocketDriver<R> {
    /// Keep what the IO traits need from an event.
    fn stash(&mut self, ev: SocketEvent) {
        match ev {
            SocketEvent::Data(b) => self.0.rx.chunks.push_back(b),
            SocketEvent::Text(t) => self.0.rx.chunks.push_back(Bytes::from(t)),
            SocketEvent::End | SocketEvent::Close { .. } => self.0.rx.eof = true,
            SocketEvent::Error(e) => self.0.rx.error = Some(e),
            _ => {}
        }
    }

    /// Drive one event into the stash; `Ready(false)` when the socket is finished.
    /// `reader` says which side is waiting, so the other side's task is woken when this
    /// one made progress for it (the readiness wakers only remember the last poller).
    fn pump(&mut self, cx: &mut Context<'_>, reader: bool) -> Poll<bool> {
        let r = match self.poll_event(cx) {
            Poll::Ready(Some(ev)) => {
                self.stash(ev);
                Poll::Ready(true)
            }
            Poll::Ready(None) => {
                self.0.rx.eof = true;
                Poll::Ready(false)
            }
            Poll::Pending => {
                let slot = if reader {
                    &mut self.0.rx.read_waker
                } else {
                    &mut self.0.rx.write_waker
                };
                match slot {
                    Some(w) if w.will_wake(cx.waker()) => {}
                    _ => *slot = Some(cx.waker().clone()),
                }
                return Poll::Pending;
            }
        };
        let other = if reader {
            self.0.rx.write_waker.take()
        } else {
            self.0.rx.read_waker.take()
        };
        if let Some(w) = other {
            w.wake();
        }
        r
    }

    fn take_error(&mut self) -> Option<io::Error> {
        self.0.rx.error.take().map(io::Error::from)
    }

    /// `AsyncRead::poll_read` on a plain buffer: received bytes, `Ok(0)` at the end.
    pub fn poll_read_bytes(
        &mut self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        loop {
            if let Some(front) = self.0.rx.chunks.front_mut() {
                let n = front.len().min(buf.len());
                if let (Some(dst), Some(src)) = (buf.get_mut(..n), front.get(..n)) {
                    dst.copy_from_slice(src);
                }
                front.advance(n);
                if front.is_empty() {
                    self.0.rx.chunks.pop_front();
                }
                return Poll::Ready(Ok(n));
            }
            if let Some(e) = self.take_error() {
                return Poll::Ready(Err(e));
            }
            if self.0.rx.eof || buf.is_empty() {
                return Poll::Ready(Ok(0));
            }
            if self.pump(cx, true).is_pending() {
                return Poll::Pending;
            }
        }
    }

    /// `AsyncWrite::poll_write`: waits while the core's queue is at the high-water mark,
    /// then queues all of `data`.
    pub fn poll_write_bytes(
        &mut self,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        loop {
            if let Some(e) = self.take_error() {
                return Poll::Ready(Err(e));
            }
            if let Some(refused) = self.0.core.write_refusal() {
                return Poll::Ready(Err(refused.into()));
            }
            if self.0.core.writable_length() < self.0.core.writable_high_water_mark() {
                self.write(Bytes::copy_from_slice(data));
                return Poll::Ready(Ok(data.len()));
            }
            match self.pump(cx, false) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(true) => {}
                Poll::Ready(false) => return Poll::Ready(Err(io::ErrorKind::BrokenPipe.into())),
            }
        }
    }

    /// `AsyncWrite::poll_flush`: ready once the queue is empty.
    pub fn poll_flush_bytes(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        loop {
            if let Some(e) = self.take_error() {
                return Poll::Ready(Err(e));
            }
            if self.0.core.writable_length() == 0 || self.0.core.destroyed() {
                return Poll::Ready(Ok(()));
            }
            match self.pump(cx, false) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(true) => {}
                Poll::Ready(false) => return Poll::Ready(Ok(())),
            }
        }
    }

    /// `AsyncWrite::poll_shutdown` / `poll_close`: `end()`, ready once `Finish` happened
    /// (or the socket is gone).
    pub fn poll_end(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if !self.0.core.writable_ended() && !self.0.core.destroyed() {
            let _ = self.0.core.end(std::time::Instant::now());
            self.after_user_call();
        }
        loop {
            if let Some(e) = self.take_error() {
                return Poll::Ready(Err(e));
            }
            if self.0.core.writable_finished() || self.0.core.destroyed() {
                return Poll::Ready(Ok(()));
            }
            match self.pump(cx, false) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(true) => {}
                Poll::Ready(false) => return Poll::Ready(Ok(())),
            }
        }
    }
}
